//! `infra adopt [PROVIDER...]`: bring what already runs under infra in one
//! reviewed step, as dnscontrol's `get-zones` and Terraform's generated import
//! config do. Writes spec files and the state (objects recorded as adopted,
//! without their markers yet) and commits both; live objects are not touched.

use std::path::Path;

use super::shared_state::{publish, share};
use crate::apply::lock::Lock;
use crate::cli::args::AdoptArgs;
use crate::cli::output::Ui;
use crate::error::Result;
use crate::git::{self, Repo};
use crate::project::Project;
use crate::providers::registry;
use crate::state;
use infra_engine::adopt::{self, Filter};

pub fn run(cwd: &Path, args: AdoptArgs, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let repo = if args.no_commit || args.dry_run {
        None
    } else {
        let repo = Repo::open(&root)?;
        repo.current_branch()?;
        repo.require_clean(
            crate::spec::load::SPEC_PATHS,
            "commit or stash them first: adopt commits only its own files (or use --dry-run)",
        )?;
        Some(repo)
    };
    let _lock = Lock::acquire(&root, "infra adopt")?;
    let project = Project::open(&root, registry(), ui.color)?;
    // On a review branch the state travels with the pull request, not to the
    // shared branch; a dry run records nothing.
    let mut shared = if args.branch.is_none() && !args.dry_run {
        share(repo.as_ref(), &project.spec.state, false, "infra adopt")?
    } else {
        None
    };
    let filter = Filter {
        providers: args.providers.clone(),
        zone: args.zone.clone(),
        only: args.only.clone(),
        pattern: args.pattern.clone(),
    };
    let rt = super::runtime()?;
    let (found, skipped) = rt.block_on(adopt::discover(&project, &filter))?;
    let today = infra_core::time::format_utc(infra_core::util::unix_now());
    let today = today.split('T').next().unwrap_or(&today).to_string();
    let proposal = adopt::propose(&project, found, skipped, &today)?;

    if !proposal.skipped.is_empty() {
        println!(
            "Left out ({}): infra cannot describe these as they are:",
            proposal.skipped.len()
        );
        for s in &proposal.skipped {
            println!("  - {}: {}", s.what, s.reason);
        }
        println!();
    }
    if proposal.placed.is_empty() {
        println!("Nothing to adopt: every object the providers serve is already in the state.");
        return Ok(0);
    }
    for (path, text) in &proposal.files {
        println!("--- /dev/null\n+++ {path}");
        for line in text.lines() {
            println!("+{line}");
        }
        println!();
    }
    let groups: std::collections::BTreeSet<&str> = proposal
        .placed
        .iter()
        .filter_map(|p| p.group.as_deref())
        .collect();
    let summary = format!(
        "{} object{} in {} file{} ({} group{}), recorded as adopted",
        proposal.placed.len(),
        plural(proposal.placed.len()),
        proposal.files.len(),
        plural(proposal.files.len()),
        groups.len(),
        plural(groups.len()),
    );
    if args.dry_run {
        println!("Would adopt {summary}. Nothing was written (--dry-run).");
        return Ok(0);
    }
    if let (Some(repo), Some(branch)) = (&repo, &args.branch) {
        repo.create_and_switch_branch(branch)?;
    }
    for (path, text) in &proposal.files {
        let full = root.join(path);
        if let Some(parent) = full.parent() {
            fs_err::create_dir_all(parent)?;
        }
        infra_core::util::write_atomic(&full, text.as_bytes())?;
    }
    if let Some(s) = &mut shared {
        s.arm()?;
    }
    state::save(&root, &proposal.state)?;
    if let Some(repo) = &repo {
        let mut paths: Vec<&str> = proposal.files.keys().map(String::as_str).collect();
        paths.push(state::STATE_FILE);
        let mut body = String::new();
        for p in &proposal.placed {
            body.push_str(&format!(
                "= {}.{} ({} {})\n",
                p.object.kind, p.name, p.object.provider, p.object.id
            ));
        }
        let msg = git::message(
            &format!("infra adopt: {summary}"),
            Some(&body),
            &[("Infra-Plan", "+0 ~0 -0".to_string())],
        );
        repo.commit_paths(&paths, &msg)?;
    }
    publish(shared, repo.as_ref())?;
    println!(
        "Adopted {summary}.\nRun `infra plan`: it should show no change but the ownership markers the next apply writes."
    );
    Ok(0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
