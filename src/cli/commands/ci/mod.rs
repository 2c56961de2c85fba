//! `infra ci`: pipelines to copy (`ci init github|gitlab`) and the two steps they
//! run against the platform: posting the Markdown plan as one pull-request
//! comment (`ci comment`), and finding the digest a merged pull request's
//! reviewed plan showed (`ci reviewed-digest`), which the apply job demands.

mod init;
mod platform;
mod review;

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Write a pipeline: plan on pull requests (one comment, updated), apply the
    /// reviewed plan on merge, a scheduled drift check.
    Init {
        #[arg(value_enum)]
        platform: Platform,
        /// The command a job runs to install infra (one line), e.g. a `curl` of
        /// your release binary or `cargo install --locked --git URL infra`.
        /// There is no default: the job runs it with your secrets in reach.
        #[arg(long, value_name = "COMMAND", required = true)]
        install: String,
        /// The branch merges land on, where apply runs (default: the current branch).
        #[arg(long)]
        branch: Option<String>,
        /// Overwrite an existing pipeline file.
        #[arg(long)]
        force: bool,
    },
    /// Post FILE (a Markdown plan) as the pull request's infra comment, replacing
    /// the one an earlier push posted.
    Comment { file: PathBuf },
    /// Print the plan digest of the reviewed pull request that brought a commit
    /// to the branch (default: HEAD); fails when there is none.
    ReviewedDigest {
        #[arg(long, value_name = "SHA")]
        commit: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Platform {
    Github,
    Gitlab,
}

pub fn run(cwd: &Path, command: CiCommand) -> Result<i32> {
    match command {
        CiCommand::Init {
            platform,
            install,
            branch,
            force,
        } => init::run(cwd, platform, &install, branch, force),
        CiCommand::Comment { file } => review::comment(cwd, &file),
        CiCommand::ReviewedDigest { commit } => review::reviewed_digest(cwd, commit),
    }
}
