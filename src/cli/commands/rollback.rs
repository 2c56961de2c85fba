//! `infra rollback REV`: restore the spec as it was at REV, as a new commit.
//! Live infrastructure is untouched until `infra plan` / `infra apply`.

use std::path::Path;

use crate::cli::args::RollbackArgs;
use crate::cli::output::Ui;
use crate::error::{Error, Result};
use crate::git::{self, Repo};

/// What a rollback restores: the spec, not the recorded state (that follows live infrastructure).
const ROLLBACK_PATHS: &[&str] = super::SPEC_PATHS;

pub fn run(cwd: &Path, args: RollbackArgs, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let repo = Repo::open(&root)?;
    repo.current_branch()?;
    repo.require_clean(
        super::SPEC_PATHS,
        "commit or discard them before rolling back",
    )?;
    let target = repo.resolve(&args.rev)?;
    if repo.file_at(&target, "infra.toml")?.is_none() {
        return Err(
            Error::new(format!("{} has no infra.toml in this project", args.rev))
                .hint("pick a commit from `infra history`"),
        );
    }
    let changed = repo.restore(&target, ROLLBACK_PATHS)?;
    if changed.is_empty() {
        println!(
            "The spec already matches {}; nothing to roll back.",
            &target[..8]
        );
        return Ok(0);
    }
    // The restored spec must still be valid before it is committed.
    if let Err(e) = crate::project::load_spec(&root, &crate::providers::registry(), ui.color) {
        repo.restore("HEAD", ROLLBACK_PATHS)?;
        return Err(e);
    }
    let paths: Vec<&str> = changed.iter().map(String::as_str).collect();
    let msg = git::message(
        &format!("infra rollback: spec of {}", &target[..8]),
        Some(&format!(
            "Restored:\n{}",
            changed
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        )),
        &[("Infra-Rollback", target.clone())],
    );
    let commit = repo.commit_paths(&paths, &msg)?;
    println!(
        "Restored the spec of {} as commit {}.",
        &target[..8],
        commit.as_deref().map(|c| &c[..8]).unwrap_or("-")
    );
    println!("Run `infra plan` to see what apply would change to match it.");
    Ok(0)
}
