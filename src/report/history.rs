//! `infra history`'s report: infra's commits with their trailers.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::Report;
use crate::cli::output::Ui;
use crate::git::HistoryEntry;

#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct HistoryReport {
    pub entries: Vec<Commit>,
}

#[derive(Debug, Serialize)]
pub struct Commit {
    pub commit: String,
    #[serde(skip)]
    pub short: String,
    pub date: String,
    pub summary: String,
    pub trailers: BTreeMap<String, String>,
}

impl HistoryReport {
    pub fn new(entries: Vec<HistoryEntry>) -> HistoryReport {
        let entries = entries
            .into_iter()
            .map(|e| Commit {
                commit: e.id,
                short: e.short,
                date: e.date,
                summary: e.summary,
                trailers: e.trailers.into_iter().collect(),
            })
            .collect();
        HistoryReport { entries }
    }
}

impl Report for HistoryReport {
    fn human(&self, _: &Ui) -> String {
        if self.entries.is_empty() {
            return "No infra history yet: `infra ask` and `infra apply` record their commits here.\n".into();
        }
        let mut out = format!("{:<16}  {:<8}  {:<11}  SUMMARY\n", "DATE", "COMMIT", "PLAN");
        for e in &self.entries {
            let plan = e.trailers.get("Infra-Plan").map_or("", String::as_str);
            let _ = writeln!(
                out,
                "{:<16}  {:<8}  {:<11}  {}",
                e.date, e.short, plan, e.summary
            );
        }
        out
    }
}
