//! `infra validate`: the whole spec, offline, every error at once.

use std::path::Path;

use crate::cli::args::{TextFormat, ValidateArgs};
use crate::cli::output::Ui;
use crate::error::Result;
use crate::providers::registry;
use crate::report::{self, Output, ValidateReport};

pub fn run(cwd: &Path, args: ValidateArgs, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    if args.format == TextFormat::Human {
        // Problems come back as one error, printed (with the sources) on stderr.
        let spec = crate::project::load_spec(&root, &registry(), ui.color)?;
        report::emit(
            &ValidateReport::new(&spec, &Default::default()),
            Output::Human,
            ui,
        );
        return Ok(0);
    }
    let (spec, diags) = crate::project::check_spec(&root, &registry(), &|_| true)?;
    let report = ValidateReport::new(&spec, &diags);
    report::emit(&report, Output::Json, ui);
    Ok(if report.valid { 0 } else { 1 })
}
