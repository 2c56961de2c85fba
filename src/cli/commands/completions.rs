//! `infra completions SHELL`.

use clap::CommandFactory;

use crate::cli::args::{Cli, CompletionsArgs};
use crate::error::Result;

pub fn run(args: CompletionsArgs) -> Result<i32> {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "infra",
        &mut std::io::stdout(),
    );
    Ok(0)
}
