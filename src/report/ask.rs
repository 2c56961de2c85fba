//! `infra ask`'s report: what was understood, the spec diff, the plan it causes.

use std::fmt::Write;

use serde::Serialize;

use super::Report;
use crate::ask::intent::{Intent, Operation};
use crate::ask::run::{symbol, AskOutcome};
use crate::cli::output::Ui;
use crate::plan::{redact, Action, SharedAttrs};

#[derive(Debug, Serialize)]
pub struct AskReport {
    /// The request as stored (secrets cut out).
    pub request: String,
    /// How many secret-looking values were cut from it.
    pub redacted: usize,
    pub backend: String,
    pub intent: Intent,
    pub operations: Vec<Operation>,
    /// One line per operation, with the values it resolved.
    pub understood: Vec<String>,
    pub capabilities: Vec<String>,
    pub changes: Vec<AskChange>,
    pub files: Vec<String>,
    pub plan: Counts,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub dry_run: bool,
    /// Unified diff of the spec files (text and Markdown only).
    #[serde(skip)]
    pub diff: String,
}

#[derive(Debug, Serialize)]
pub struct AskChange {
    pub address: String,
    pub action: Action,
    /// After the change (before it, for a delete), sensitive values hidden.
    pub attributes: Option<SharedAttrs>,
}

#[derive(Debug, Serialize)]
pub struct Counts {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl AskReport {
    pub fn new(outcome: &AskOutcome, dry_run: bool) -> AskReport {
        let changes = outcome
            .changes
            .iter()
            .map(|c| {
                let mut c = c.clone();
                redact::change(&mut c);
                let attributes = if c.action == Action::Delete {
                    c.before
                } else {
                    c.after
                };
                AskChange {
                    address: c.address,
                    action: c.action,
                    attributes,
                }
            })
            .collect();
        let s = outcome.plan.summary();
        AskReport {
            request: outcome.request.clone(),
            redacted: outcome.redacted,
            backend: outcome.backend.clone(),
            intent: outcome.intent.clone(),
            operations: outcome.intent.operations.clone(),
            understood: outcome.edit.lines.clone(),
            capabilities: outcome.edit.capabilities.clone(),
            changes,
            files: outcome
                .edit
                .files
                .keys()
                .map(|p| p.display().to_string())
                .collect(),
            plan: Counts {
                add: s.add,
                change: s.change,
                destroy: s.destroy,
            },
            commit: outcome.commit.clone(),
            branch: outcome.branch.clone(),
            dry_run,
            diff: outcome.diff.clone(),
        }
    }

    fn plan_line(&self) -> String {
        format!(
            "Plan (against the recorded state): {} to add, {} to change, {} to destroy.",
            self.plan.add, self.plan.change, self.plan.destroy
        )
    }
}

impl Report for AskReport {
    fn human(&self, ui: &Ui) -> String {
        let mut out = format!("{} ({}):\n", ui.bold("Understood"), self.backend);
        for line in &self.understood {
            let _ = writeln!(out, "  {line}");
        }
        out.push('\n');
        out.push_str(&colour_diff(&self.diff, ui));
        out.push('\n');
        for c in &self.changes {
            let _ = writeln!(out, "  {} {}", symbol(c.action), c.address);
        }
        let _ = writeln!(out, "\n{}", self.plan_line());
        match (&self.commit, self.dry_run) {
            (_, true) => out.push_str("\nDry run: nothing was written.\n"),
            (Some(c), _) => {
                let on = self
                    .branch
                    .as_deref()
                    .map(|b| format!(" on new branch {b}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "\n{} {}{on}. Review it with `infra plan`, then `infra apply`.",
                    ui.green("Committed"),
                    &c[..8.min(c.len())]
                );
            }
            (None, _) => out.push_str("\nNothing to commit.\n"),
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out = format!("### infra ask\n\n> {}\n\n", self.request.replace('\n', " "));
        let _ = writeln!(out, "**Understood** ({}):\n", self.backend);
        for line in &self.understood {
            let _ = writeln!(out, "- `{line}`");
        }
        let _ = write!(out, "\n```diff\n{}", self.diff);
        if !self.diff.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("```\n\n");
        for c in &self.changes {
            let _ = writeln!(out, "- `{}` {}", symbol(c.action), c.address);
        }
        let _ = writeln!(out, "\n{}", self.plan_line());
        if let Some(c) = &self.commit {
            let _ = writeln!(out, "\nCommitted as `{}`.", &c[..8.min(c.len())]);
        }
        out
    }
}

fn colour_diff(diff: &str, ui: &Ui) -> String {
    if !ui.color {
        return diff.to_string();
    }
    diff.lines()
        .map(|l| {
            let styled = if l.starts_with("+++") || l.starts_with("---") {
                console::style(l).bold().to_string()
            } else if l.starts_with('+') {
                console::style(l).green().to_string()
            } else if l.starts_with('-') {
                console::style(l).red().to_string()
            } else if l.starts_with("@@") {
                console::style(l).cyan().to_string()
            } else {
                l.to_string()
            };
            styled + "\n"
        })
        .collect()
}
