//! Reports that are lists: `infra state list` and `infra capabilities list`.

use std::fmt::Write;

use serde::Serialize;

use super::Report;
use crate::capability::{Library, ParamDoc};
use crate::cli::output::Ui;
use crate::state::State;

/// What the state records, one line per resource.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct StateList {
    pub resources: Vec<Recorded>,
}

#[derive(Debug, Serialize)]
pub struct Recorded {
    pub address: String,
    pub kind: String,
    pub provider: String,
    pub id: String,
}

impl StateList {
    pub fn new(state: &State) -> StateList {
        let resources = state
            .resources
            .iter()
            .map(|(address, r)| Recorded {
                address: address.clone(),
                kind: r.kind.clone(),
                provider: r.provider.clone(),
                id: r.id.clone(),
            })
            .collect();
        StateList { resources }
    }
}

impl Report for StateList {
    fn human(&self, _: &Ui) -> String {
        self.resources
            .iter()
            .map(|r| format!("{}\n", r.address))
            .collect()
    }
}

/// The capability library as the project sees it.
#[derive(Debug, Serialize)]
pub struct CapabilityList {
    pub capabilities: Vec<Listed>,
    /// Files that could not be loaded (`path:line: message`).
    pub errors: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Listed {
    pub name: String,
    /// `builtin` or `project`.
    pub source: &'static str,
    pub summary: String,
    pub params: Vec<ParamDoc>,
}

impl CapabilityList {
    pub fn new(lib: &Library) -> CapabilityList {
        CapabilityList {
            capabilities: lib
                .caps
                .iter()
                .map(|c| Listed {
                    name: c.name.clone(),
                    source: c.source.as_str(),
                    summary: c.summary.clone(),
                    params: c.doc().params,
                })
                .collect(),
            errors: lib
                .errors
                .iter()
                .map(|e| match e.line {
                    0 => format!("{}: {}", e.path, e.message),
                    n => format!("{}:{n}: {}", e.path, e.message),
                })
                .collect(),
        }
    }
}

impl Report for CapabilityList {
    fn human(&self, _: &Ui) -> String {
        let width = self
            .capabilities
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!("{:<width$}  {:<7}  SUMMARY\n", "NAME", "SOURCE");
        for c in &self.capabilities {
            let _ = writeln!(out, "{:<width$}  {:<7}  {}", c.name, c.source, c.summary);
        }
        out
    }
}
