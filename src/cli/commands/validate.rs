//! `infra validate`: the whole spec, offline, every error at once.

use std::path::Path;

use crate::cli::output::Ui;
use crate::error::Result;
use crate::providers::registry;

pub fn run(cwd: &Path, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let spec = crate::project::load_spec(&root, &registry(), ui.color)?;
    println!(
        "{} The spec is valid: {} resources in {} files.",
        ui.green("Success!"),
        spec.resources.len(),
        spec.sources.files().len()
    );
    Ok(0)
}
