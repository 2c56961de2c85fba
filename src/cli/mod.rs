//! The command line: argument parsing and wiring only. One file per command
//! under `commands/`; errors are printed in one place (`error.rs`).

mod args;
mod commands;
mod error;
pub(crate) mod output;
mod progress;

use clap::Parser;

pub use args::Cli;

/// Run the CLI; returns the process exit code (0 ok, 1 error, 2 changes with --detailed-exitcode).
pub fn main() -> i32 {
    // A closed pipe (`infra plan | head`) ends quietly instead of panicking.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let ui = output::Ui::new(cli.color);
    match commands::run(cli, &ui) {
        Ok(code) => code,
        Err(e) => {
            error::print(&ui, &e);
            1
        }
    }
}
