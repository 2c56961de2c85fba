//! `infra show [ADDR]`: the recorded state, human-readable or JSON.

use std::path::Path;

use crate::cli::args::ShowArgs;
use crate::cli::output::Ui;
use crate::error::{Error, Result};
use crate::report::{self, Output, ShowReport};
use crate::state;

pub fn run(cwd: &Path, args: ShowArgs, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let loaded = state::load(&root)?;
    let report = match &args.address {
        Some(a) => {
            let r = loaded.state.resources.get_key_value(a).ok_or_else(|| {
                Error::new(format!("{a} is not in the recorded state"))
                    .hint("`infra state list` shows what is recorded")
            })?;
            ShowReport::new([r])
        }
        None => ShowReport::new(&loaded.state.resources),
    };
    let format = if args.json {
        Output::Json
    } else {
        Output::Human
    };
    report::emit(&report, format, ui);
    Ok(0)
}
