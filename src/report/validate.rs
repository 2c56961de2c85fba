//! `infra validate`'s report: every problem with its place.

use serde::Serialize;

use super::Report;
use crate::cli::output::Ui;
use crate::spec::{Diagnostics, Spec};

#[derive(Debug, Serialize)]
pub struct ValidateReport {
    pub valid: bool,
    pub resources: usize,
    pub files: usize,
    pub problems: Vec<Problem>,
}

/// One diagnostic; `file`, `line` and `column` (1-based) are absent for a problem
/// of the project as a whole.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl ValidateReport {
    pub fn new(spec: &Spec, diags: &Diagnostics) -> ValidateReport {
        let problems = diags
            .items
            .iter()
            .map(|d| {
                let at = d.loc.as_ref().map(|l| {
                    let (line, column) = spec.sources.line_col(l);
                    let file = spec.sources.file(l.file).path.display().to_string();
                    (file, line, column)
                });
                Problem {
                    file: at.as_ref().map(|a| a.0.clone()),
                    line: at.as_ref().map(|a| a.1),
                    column: at.as_ref().map(|a| a.2),
                    message: d.message.clone(),
                    help: d.help.clone(),
                }
            })
            .collect::<Vec<_>>();
        ValidateReport {
            valid: problems.is_empty(),
            resources: spec.resources.len(),
            files: spec.sources.files().len(),
            problems,
        }
    }
}

impl Report for ValidateReport {
    fn human(&self, ui: &Ui) -> String {
        format!(
            "{} The spec is valid: {} resources in {} files.\n",
            ui.green("Success!"),
            self.resources,
            self.files
        )
    }
}
