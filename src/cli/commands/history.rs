//! `infra history`: requests and applies, read from git trailers.

use std::path::Path;

use crate::cli::args::HistoryArgs;
use crate::cli::output::Ui;
use crate::error::Result;
use crate::git::Repo;
use crate::report::{self, HistoryReport, Output};

pub fn run(cwd: &Path, args: HistoryArgs, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let repo = Repo::open(&root)?;
    let report = HistoryReport::new(repo.history(args.limit)?);
    let format = if args.json {
        Output::Json
    } else {
        Output::Human
    };
    report::emit(&report, format, ui);
    Ok(0)
}
