//! One file per command; this file dispatches and holds the few helpers they share.

mod adopt;
mod apply;
mod approve;
mod ask;
pub(super) mod capabilities;
pub(super) mod ci;
mod completions;
mod force_unlock;
mod graph;
mod history;
mod import;
mod init;
mod lock;
mod mcp;
mod output;
mod plan;
mod rollback;
mod schema;
mod shared_state;
mod show;
mod state;
mod validate;

use std::path::PathBuf;

use super::args::{Cli, Command};
use super::output::Ui;
use crate::error::{Error, Result};

pub use crate::spec::load::SPEC_PATHS;

pub fn run(cli: Cli, ui: &Ui) -> Result<i32> {
    let cwd = match &cli.dir {
        Some(d) => {
            std::fs::canonicalize(d).map_err(|e| Error::new(format!("-C {}: {e}", d.display())))?
        }
        None => std::env::current_dir()?,
    };
    match cli.command {
        Command::Init(a) => init::run(&cwd, a, ui),
        Command::Ask(a) => ask::run(&cwd, a, ui),
        Command::Validate(a) => validate::run(&cwd, a, ui),
        Command::Plan(a) => plan::run(&cwd, a, ui),
        Command::Apply(a) => apply::run(&cwd, a, ui),
        Command::Destroy(a) => apply::destroy(&cwd, a, ui),
        Command::Show(a) => show::run(&cwd, a, ui),
        Command::Output(a) => output::run(&cwd, a, ui),
        Command::State(c) => state::run(&cwd, c, ui),
        Command::Import(a) => import::run(&cwd, a, ui),
        Command::Adopt(a) => adopt::run(&cwd, a, ui),
        Command::History(a) => history::run(&cwd, a, ui),
        Command::Rollback(a) => rollback::run(&cwd, a, ui),
        Command::Graph => graph::run(&cwd, ui),
        Command::ForceUnlock(a) => force_unlock::run(&cwd, a),
        Command::Lock(c) => lock::run(&cwd, c),
        Command::Ci(c) => ci::run(&cwd, c),
        Command::Mcp => mcp::run(&cwd),
        Command::Approve { digest } => approve::run(&cwd, &digest, ui),
        Command::Completions(a) => completions::run(a),
        Command::Schema(a) => schema::run(&cwd, a),
        Command::Capabilities(c) => capabilities::run(&cwd, c, ui),
    }
}

/// A tokio runtime for the async parts (provider calls).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))
}

pub fn root(cwd: &std::path::Path) -> Result<PathBuf> {
    crate::project::find_root(cwd)
}

/// Ask for "yes" on the terminal, as Terraform does.
pub fn confirm(ui: &Ui, question: &str, detail: &str) -> Result<bool> {
    if !ui.stdin_tty {
        let why = if crate::cli::output::in_ci() {
            "this is a CI run (CI=true)"
        } else {
            "standard input is not a terminal"
        };
        return Err(Error::new(format!("refusing to apply without confirmation: {why}"))
            .hint("review the plan and pass --yes, approve its digest with --expect-digest D, or save it with `infra plan --out FILE` and run `infra apply FILE`"));
    }
    eprintln!(
        "\n{}\n  {detail}\n  Only 'yes' will be accepted to approve.\n",
        ui.bold(question)
    );
    let answer: String = dialoguer::Input::new()
        .with_prompt("  Enter a value")
        .allow_empty(true)
        .interact_text()
        .map_err(|e| Error::new(format!("cannot read the answer: {e}")))?;
    Ok(answer.trim() == "yes")
}
