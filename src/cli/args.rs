//! Command-line arguments (clap derive). Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::output::ColorChoice;

/// Infrastructure as Conversation: declarative specs, reviewed plans, git as the state history.
#[derive(Debug, Parser)]
#[command(name = "infra", version, propagate_version = true)]
pub struct Cli {
    /// Run as if infra was started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a project: commented infra.toml, .gitignore lines (commits nothing).
    Init(InitArgs),
    /// Turn a request in words into a validated, committed spec change.
    Ask(AskArgs),
    /// Check the whole spec offline and report every problem.
    Validate(ValidateArgs),
    /// Show what apply would change (refreshes live state first).
    Plan(PlanArgs),
    /// Apply the changes (after confirmation), record the state and commit it.
    Apply(ApplyArgs),
    /// Plan and apply deleting everything this project manages.
    Destroy(DestroyArgs),
    /// Print the recorded state of every resource, or of one.
    Show(ShowArgs),
    /// How to reach each group (URL, address, DNS name, shell, monitor, where its
    /// credentials are) and the spec's [outputs], from the recorded state alone.
    Output(OutputArgs),
    /// Inspect or edit the recorded state.
    #[command(subcommand)]
    State(StateCommand),
    /// Adopt an existing object into the state under ADDR.
    Import(ImportArgs),
    /// Describe what the providers serve that infra does not track as spec
    /// files, and record it as adopted (one reviewed commit; nothing live changes).
    Adopt(AdoptArgs),
    /// List requests and applies recorded in git.
    History(HistoryArgs),
    /// Restore the spec of REV as a new commit (then plan/apply brings live state back).
    Rollback(RollbackArgs),
    /// Print the dependency graph as Graphviz DOT.
    Graph,
    /// Remove a stale apply lock (the remote's, when the state is shared).
    ForceUnlock(ForceUnlockArgs),
    /// Serve infra to an AI assistant over MCP (stdio): read, plan and propose
    /// changes on new branches; apply only what a person approved.
    Mcp,
    /// Approve one plan (by its digest) for `infra mcp`'s apply tool; needs a
    /// person at a terminal.
    Approve {
        /// The plan's digest.
        digest: String,
    },
    /// Pipelines for a team: plan on pull requests, apply on merge, drift checks.
    #[command(subcommand)]
    Ci(super::commands::ci::CiCommand),
    /// Show who holds the apply lock, here and on the shared state's remote.
    #[command(subcommand)]
    Lock(LockCommand),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Print the JSON Schema of spec files, for editors (taplo) and CI.
    Schema(SchemaArgs),
    /// List, show, scaffold and check capabilities (built-in and the project's own).
    #[command(subcommand)]
    Capabilities(super::commands::capabilities::CapabilitiesCommand),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Write a working example project instead of an empty one.
    #[arg(long, value_enum)]
    pub example: Option<Example>,
    /// Project name (default: the directory name).
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Example {
    /// Files under ./out, managed by the built-in file provider: needs no server.
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Args, Clone)]
pub struct PlanFlags {
    /// Plan only these resources (and what they depend on). Repeatable.
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Destroy and recreate this resource even if nothing forces it (Terraform's
    /// -replace), e.g. to start a broken container afresh. Repeatable.
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
    /// Read live state before planning (`--refresh=false` trusts the recorded state).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Output format (JSON lists every problem with file, line and column, for
    /// editors and CI; the exit code is 1 when there are any).
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    pub format: TextFormat,
}

/// Text for people, or one JSON report for tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Save the plan to FILE, for `infra apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write this plan as JSON to FILE (a CI job's artifact beside the
    /// Markdown comment, from the same refresh).
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan deleting everything (as `infra destroy` would).
    #[arg(long)]
    pub destroy: bool,
}

/// What apply and destroy share: how they confirm, run and record.
#[derive(Debug, Args)]
pub struct ExecFlags {
    /// Go ahead without asking.
    #[arg(long, short = 'y', alias = "auto-approve")]
    pub yes: bool,
    /// How many operations may run at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Go ahead even though the spec has uncommitted changes.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Do not commit the state afterwards.
    #[arg(long)]
    pub no_commit: bool,
    /// Share the state through the git remote for this run, as `[state] remote`
    /// does (default remote: origin): take its lock, refuse an older state, push
    /// the state commit.
    #[arg(long, conflicts_with = "no_commit")]
    pub push: bool,
    /// Output format: `json` prints what was done as one JSON report on stdout
    /// (for CI; needs --yes or a saved plan, since nothing can be confirmed).
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    pub format: TextFormat,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `infra plan --out`; applied exactly, or refused if stale.
    pub plan_file: Option<PathBuf>,
    /// Apply only if a fresh plan has this digest (the `digest` of `infra plan
    /// --format json`, shown under a Markdown plan): what a reviewer approved.
    #[arg(long, value_name = "DIGEST")]
    pub expect_digest: Option<String>,
    #[command(flatten)]
    pub flags: PlanFlags,
    #[command(flatten)]
    pub exec: ExecFlags,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub flags: PlanFlags,
    #[command(flatten)]
    pub exec: ExecFlags,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// One resource address, e.g. file.motd.
    pub address: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// One group, or one recorded resource (e.g. container.gitea); default: every
    /// group and the [outputs].
    #[arg(value_name = "GROUP|ADDRESS")]
    pub target: Option<String>,
    /// Output format (JSON carries a format_version, as the plan's does).
    #[arg(long, value_enum, default_value_t = TextFormat::Human)]
    pub format: TextFormat,
    /// Print sensitive outputs' values; only to a terminal, never into a pipe or file.
    #[arg(long)]
    pub show_sensitive: bool,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List recorded addresses.
    List {
        /// Print JSON: address, kind, provider and id of each.
        #[arg(long)]
        json: bool,
    },
    /// Forget objects without deleting them.
    Rm {
        #[arg(required = true)]
        addresses: Vec<String>,
        #[arg(long)]
        no_commit: bool,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Address declared in the spec, e.g. file.motd.
    pub address: String,
    /// The provider's id for the object (for files: the path under the root).
    pub id: String,
    #[arg(long)]
    pub no_commit: bool,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// Provider instances to read (default: every one in infra.toml).
    pub providers: Vec<String>,
    /// Only DNS records of this zone.
    #[arg(long)]
    pub zone: Option<String>,
    /// Only this resource kind (dns_record, container, vm, proxy_site, monitor, file).
    #[arg(long)]
    pub only: Option<String>,
    /// Only objects whose name matches this glob, e.g. "*.example.com".
    #[arg(long = "match", value_name = "GLOB")]
    pub pattern: Option<String>,
    /// Show the files that would be written; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Commit on a new branch NAME (for a pull request) instead of the current one.
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Write the files and the state, commit nothing.
    #[arg(long)]
    pub no_commit: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How many entries.
    #[arg(long, short = 'n', default_value_t = 20)]
    pub limit: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The commit whose spec to restore (sha, HEAD~2, branch, tag).
    pub rev: String,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The lock id printed in the lock error (checked when given; required for
    /// a remote lock).
    pub id: Option<String>,
    /// Work on the remote lock (of `origin` unless [state] remote names one).
    #[arg(long)]
    pub push: bool,
}

#[derive(Debug, Subcommand)]
pub enum LockCommand {
    /// Who holds the lock, since when, and whether it looks stale.
    Status {
        #[arg(long, value_enum, default_value_t = TextFormat::Human)]
        format: TextFormat,
        /// Read the remote lock (of `origin` unless [state] remote names one).
        #[arg(long)]
        push: bool,
    },
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write it to FILE instead of standard output.
    #[arg(long, value_name = "FILE", conflicts_with = "write")]
    pub output: Option<PathBuf>,
    /// Refresh the project's .infra/schema.json, the file `infra init`'s
    /// .taplo.toml points editors at (after an upgrade of infra, say).
    #[arg(long)]
    pub write: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AskFormat {
    Human,
    Json,
    /// For a pull-request comment.
    Markdown,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// What you want, in words, e.g. "Create a new API scanner service"; `-` reads
    /// it from standard input (at most 64 KiB).
    #[arg(required_unless_present = "file", conflicts_with = "file", num_args = 1..)]
    pub request: Vec<String>,
    /// Read the request from a file (at most 64 KiB).
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Interpreter: offline (default), anthropic or openai.
    #[arg(long)]
    pub backend: Option<String>,
    /// Commit on a new branch NAME, for pull-request review.
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Push the new branch to the remote (`origin` unless [state] remote names
    /// one), ready for a pull request.
    #[arg(long, requires = "branch", conflicts_with = "dry_run")]
    pub push: bool,
    /// Show the change and the plan summary; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AskFormat::Human)]
    pub format: AskFormat,
    /// Take the Intent (operations, as JSON) from FILE instead of an
    /// interpreter: for callers that are themselves models (`infra mcp`'s
    /// propose). The same schema and safety checks apply.
    #[arg(long, value_name = "FILE", hide = true)]
    pub intent_file: Option<PathBuf>,
}
