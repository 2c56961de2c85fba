//! `infra show`'s report: recorded resources, sensitive values hidden.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::Report;
use crate::cli::output::Ui;
use crate::plan::redact;
use crate::state::ResourceState;

/// Recorded resources by address (JSON: an object keyed by address).
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct ShowReport {
    pub resources: BTreeMap<String, ResourceState>,
}

impl ShowReport {
    pub fn new<'a>(resources: impl IntoIterator<Item = (&'a String, &'a ResourceState)>) -> Self {
        let resources = resources
            .into_iter()
            .map(|(address, r)| {
                let mut r = r.clone();
                redact::by_schema(&r.kind, &mut r.attrs);
                (address.clone(), r)
            })
            .collect();
        ShowReport { resources }
    }
}

impl Report for ShowReport {
    fn human(&self, ui: &Ui) -> String {
        if self.resources.is_empty() {
            return "The state is empty. Run `infra plan` and `infra apply` to create what the spec declares.\n".into();
        }
        let mut out = String::new();
        for (address, r) in &self.resources {
            let _ = writeln!(out, "# {address}:");
            let _ = writeln!(
                out,
                "{} \"{}\" \"{}\" {{",
                ui.bold("resource"),
                r.kind,
                address.split_once('.').map(|x| x.1).unwrap_or(address)
            );
            let width = r
                .attrs
                .keys()
                .map(String::len)
                .max()
                .unwrap_or(0)
                .max("provider".len());
            let _ = writeln!(out, "    {:width$} = \"{}\"", "provider", r.provider);
            for (k, v) in &r.attrs {
                let _ = writeln!(out, "    {k:width$} = {v}");
            }
            out.push_str("}\n\n");
        }
        out
    }
}
