//! `propose`: the ask pipeline with the assistant as the caller. The change is
//! made in a temporary worktree on a new branch `infra/proposal-…`, so the
//! person's current branch, index and files never move, and nothing live is
//! touched (ask never reads or writes live systems). What comes back is what a
//! reviewer needs: the branch, the diff, the plan summary and its digest.

use serde_json::{json, Value};

use super::tools::{git, infra_in, CallError, Context};

pub fn propose(
    cx: &Context<'_>,
    request: &str,
    operations: Option<&Value>,
) -> Result<Value, CallError> {
    let repo = crate::git::Repo::open(cx.root).map_err(|e| CallError::Failed(e.message))?;
    let base = repo
        .head()
        .map_err(|e| CallError::Failed(e.message))?
        .ok_or_else(|| {
            CallError::Failed("the repository has no commit to propose against".into())
        })?;
    let top = repo.workdir().to_path_buf();
    let prefix = cx
        .root
        .strip_prefix(&top)
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let branch = branch_name(request);
    let dir = tempfile::tempdir()
        .map_err(|e| CallError::Failed(format!("cannot make a temp dir: {e}")))?;
    let tree = dir.path().join("proposal");
    let tree_arg = tree.display().to_string();
    git(
        &top,
        &[
            "worktree", "add", "--quiet", "-b", &branch, &tree_arg, &base,
        ],
    )?;
    // Typed operations are the caller's own Intent; they go in a file outside the worktree.
    let intent_file = match operations {
        Some(ops) => {
            let path = dir.path().join("intent.json");
            let summary: String = request
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(100)
                .collect();
            let intent = json!({"summary": summary, "operations": ops, "questions": []});
            fs_err::write(&path, intent.to_string())
                .map_err(|e| CallError::Failed(e.to_string()))?;
            Some(path)
        }
        None => None,
    };
    let result = in_worktree(
        cx,
        &tree.join(&prefix),
        &branch,
        request,
        intent_file.as_deref(),
    );
    // The worktree goes whatever happened; the branch stays only with a commit on it.
    let _ = git(&top, &["worktree", "remove", "--force", &tree_arg]);
    let _ = git(&top, &["worktree", "prune"]);
    let committed = matches!(&result, Ok(v) if v["commit"].as_str().is_some_and(|c| c != base));
    if !committed {
        let _ = git(&top, &["branch", "-D", &branch]);
    }
    result
}

fn in_worktree(
    cx: &Context<'_>,
    root: &std::path::Path,
    branch: &str,
    request: &str,
    intent: Option<&std::path::Path>,
) -> Result<Value, CallError> {
    // `-` reads the request from standard input: no argument can be taken for a flag.
    let intent = intent.map(|p| p.display().to_string());
    let mut args = vec!["ask", "--format", "json"];
    if let Some(path) = &intent {
        args.extend(["--intent-file", path.as_str()]);
    }
    args.push("-");
    let ask = infra_in(root, &args, Some(request), &[0], cx.redactor)?;
    let ask: Value = serde_json::from_str(&ask)
        .map_err(|e| CallError::Failed(format!("infra ask printed no JSON: {e}")))?;
    let head = git(root, &["rev-parse", "HEAD"])?.trim().to_string();
    let diff = git(
        root,
        &[
            "diff",
            "--no-color",
            "--no-ext-diff",
            "HEAD~1",
            "HEAD",
            "--",
        ],
    )
    .unwrap_or_default();
    // The digest of the plan against the recorded state: the one apply computes
    // when live infrastructure is as recorded (apply refreshes, and refuses otherwise).
    let plan = infra_in(
        root,
        &["plan", "--refresh=false", "--format", "json"],
        None,
        &[0],
        cx.redactor,
    )
    .ok()
    .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    Ok(json!({
        "branch": branch,
        "commit": head,
        "summary": ask["intent"]["summary"],
        "diff": cx.redactor.text(&diff),
        "files": ask["files"],
        "changes": ask["changes"],
        "plan": ask["plan"],
        "digest": plan.as_ref().map(|p| p["digest"].clone()),
        "review": format!("git switch {branch} && infra plan, then infra apply --expect-digest DIGEST"),
    }))
}

/// `infra/proposal-<words of the request>-<time>`: readable, and new each time.
fn branch_name(request: &str) -> String {
    let slug: String = request
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(5)
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-");
    let slug: String = slug.chars().take(40).collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let stamp = format!("{:x}", nanos % 0x00ff_ffff_ffff);
    if slug.is_empty() {
        format!("infra/proposal-{stamp}")
    } else {
        format!("infra/proposal-{slug}-{stamp}")
    }
}
