//! `infra apply`'s and `infra destroy`'s report: what was done, what failed.

use std::collections::BTreeMap;

use serde::Serialize;

use super::card::Card;
use super::outputs::Shown;
use super::Report;
use crate::apply::{Op, Outcome};
use crate::cli::output::Ui;

#[derive(Debug, Serialize)]
pub struct ApplyReport {
    /// Everything planned was done.
    pub ok: bool,
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    pub done: Vec<Done>,
    pub failed: Vec<Failed>,
    /// Not attempted because something they depend on failed.
    pub skipped: Vec<Done>,
    /// Whether the recorded state changed (and, unless --no-commit, was committed).
    pub state_changed: bool,
    /// Access cards of the groups this apply created or changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Card>,
    /// The spec's `[outputs]`, resolved against the new state (sensitive ones hidden).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, Shown>,
}

#[derive(Debug, Serialize)]
pub struct Done {
    pub address: String,
    pub op: Op,
}

#[derive(Debug, Serialize)]
pub struct Failed {
    pub address: String,
    pub op: Op,
    /// The provider's message (the API's own words).
    pub error: String,
}

impl ApplyReport {
    pub fn new(outcome: &Outcome, state_changed: bool) -> ApplyReport {
        let done = |list: &[(String, Op)]| {
            list.iter()
                .map(|(address, op)| Done {
                    address: address.clone(),
                    op: *op,
                })
                .collect()
        };
        ApplyReport {
            ok: outcome.ok(),
            added: outcome.count(Op::Create),
            changed: outcome.count(Op::Update),
            destroyed: outcome.count(Op::Delete),
            done: done(&outcome.done),
            failed: outcome
                .failed
                .iter()
                .map(|(address, op, error)| Failed {
                    address: address.clone(),
                    op: *op,
                    error: error.clone(),
                })
                .collect(),
            skipped: done(&outcome.skipped),
            state_changed,
            groups: Vec::new(),
            outputs: BTreeMap::new(),
        }
    }

    /// With the cards and outputs to show after the summary.
    pub fn with_access(mut self, groups: Vec<Card>, outputs: BTreeMap<String, Shown>) -> Self {
        self.groups = groups;
        self.outputs = outputs;
        self
    }
}

impl Report for ApplyReport {
    fn human(&self, ui: &Ui) -> String {
        let (a, c, d) = (self.added, self.changed, self.destroyed);
        let mut out = if self.ok {
            format!(
                "\n{} Resources: {a} added, {c} changed, {d} destroyed.\n",
                ui.green("Apply complete!")
            )
        } else {
            format!(
                "\n{} Resources: {a} added, {c} changed, {d} destroyed; {} failed, {} skipped.\n",
                ui.red_bold("Apply incomplete."),
                self.failed.len(),
                self.skipped.len()
            )
        };
        if !self.groups.is_empty() || !self.outputs.is_empty() {
            out.push('\n');
            out.push_str(&super::outputs::human(&self.groups, &self.outputs, ui));
        }
        out
    }
}
