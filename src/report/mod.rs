//! What commands produce, as data. A command builds one report struct and hands
//! it to `emit`, which renders it as text for people, JSON for tools or Markdown
//! for a pull-request comment. Attribute values from the plan or the state reach a
//! report only through `infra_plan::redact`. (The spec diff in `infra ask`'s report
//! is the user's own file, shown as `git diff` would; the plan has its own
//! renderers in `render`, over `&Plan`.)

mod apply;
mod ask;
pub mod card;
mod history;
mod lists;
pub mod outputs;
mod show;
mod validate;

pub use apply::ApplyReport;
pub use ask::AskReport;
pub use history::HistoryReport;
pub use lists::{CapabilityList, StateList};
pub use outputs::OutputReport;
pub use show::ShowReport;
pub use validate::ValidateReport;

use serde::Serialize;

use crate::cli::output::Ui;

/// Output formats a report can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Human,
    Json,
    Markdown,
}

pub trait Report: Serialize {
    /// For a terminal (colour only when `ui` allows it).
    fn human(&self, ui: &Ui) -> String;

    /// For a pull-request comment; the default is the JSON in a code block.
    fn markdown(&self) -> String {
        format!("```json\n{}\n```\n", json(self))
    }
}

fn json(report: &(impl Serialize + ?Sized)) -> String {
    serde_json::to_string_pretty(report).expect("a report serialises")
}

/// Print `report` to stdout in `format`.
pub fn emit(report: &impl Report, format: Output, ui: &Ui) {
    match format {
        Output::Human => print!("{}", report.human(ui)),
        Output::Json => println!("{}", json(report)),
        Output::Markdown => print!("{}", report.markdown()),
    }
}
