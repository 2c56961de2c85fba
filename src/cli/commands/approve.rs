//! `infra approve DIGEST`: a person, at a terminal, approves one plan for an AI
//! assistant to apply through `infra mcp` (with `[mcp] allow_apply = true`).
//! The approval is written inside the git directory (`.git/infra/approvals`),
//! which no MCP tool writes to: a model can neither make nor widen one. It
//! names one digest, so it covers exactly the plan shown here, and it expires.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cli::output::Ui;
use crate::error::{Error, Result};
use crate::project::{PlanOptions, Project};
use crate::providers::registry;
use crate::render;

/// How long an approval holds.
pub const APPROVAL_SECS: i64 = 3600;

#[derive(Debug, Serialize, Deserialize)]
pub struct Approval {
    pub digest: String,
    pub who: String,
    pub created: String,
    pub expires: i64,
}

/// Where approvals are kept: the repository's git directory.
pub fn approvals_file(root: &Path) -> Result<PathBuf> {
    let repo = crate::git::Repo::open(root)?;
    Ok(repo.git_dir().join("infra").join("approvals"))
}

/// Whether a person approved `digest` and the approval still holds.
pub fn approved(root: &Path, digest: &str) -> Result<bool> {
    let path = approvals_file(root)?;
    let Ok(text) = fs_err::read_to_string(&path) else {
        return Ok(false);
    };
    let now = crate::util::unix_now();
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<Approval>(l).ok())
        .any(|a| a.digest == digest && a.expires > now))
}

pub fn run(cwd: &Path, digest: &str, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    if !ui.stdin_tty {
        return Err(Error::new("infra approve needs a person at a terminal")
            .hint("run it yourself in a terminal: an approval is what an assistant cannot give itself"));
    }
    let digest = digest.trim();
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::new(format!("`{digest}` is not a plan digest"))
            .hint("copy the 64-character digest a plan shows"));
    }
    // The person sees the very plan the digest names, made afresh.
    let rt = super::runtime()?;
    let project = Project::open_prefetching(&root, registry(), ui.color, rt.handle())?;
    let opts = PlanOptions {
        refresh: true,
        targets: vec![],
        replace: vec![],
        destroy: false,
        spec_commit: super::plan::spec_commit(&root),
        skip_audit: false,
    };
    let providers = project.providers()?;
    let planned = rt.block_on(project.plan_with_live(&opts, &providers))?;
    if planned.plan.digest() != digest {
        return Err(Error::new(format!(
            "the plan now has digest {}, not {digest}; nothing was approved",
            planned.plan.digest()
        ))
        .hint(
            "make the plan again (the plan tool or `infra plan`) and approve the digest it shows",
        ));
    }
    print!(
        "{}",
        render::render(&planned.plan, render::Format::Human, ui.color)
    );
    if !super::confirm(
        ui,
        "Approve this plan for the assistant to apply?",
        "infra mcp's apply tool may apply exactly this plan within the next hour.",
    )? {
        println!("\nNothing was approved.");
        return Ok(1);
    }
    let who = crate::git::Repo::open(&root)?.who();
    let now = crate::util::unix_now();
    let approval = Approval {
        digest: digest.to_string(),
        who,
        created: crate::time::format_utc(now),
        expires: now + APPROVAL_SECS,
    };
    let path = approvals_file(&root)?;
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    let line = serde_json::to_string(&approval).expect("approval serialises");
    f.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    println!(
        "\nApproved plan {digest} until {}.",
        crate::time::format_utc(approval.expires)
    );
    Ok(0)
}
