//! Tests against real repositories in temp dirs: git2 does the work, the system `git`
//! CLI checks the result the way a user would see it.

use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use super::*;

mod pure;
mod revisions;

const SPEC: &[&str] = &["infra.toml", "infra", "templates", "capabilities"];

/// A fixed identity and date, injected rather than set in the process environment
/// (tests run in parallel threads).
fn fixed_env(key: &str) -> Option<String> {
    match key {
        "GIT_AUTHOR_NAME" | "GIT_COMMITTER_NAME" => Some("Test User".into()),
        "GIT_AUTHOR_EMAIL" | "GIT_COMMITTER_EMAIL" => Some("test@example.com".into()),
        "GIT_AUTHOR_DATE" | "GIT_COMMITTER_DATE" => Some("@1700000000 +0000".into()),
        _ => None,
    }
}

fn setup() -> (TempDir, Repo) {
    let dir = tempfile::tempdir().unwrap();
    let mut repo = Repo::init(dir.path()).unwrap();
    repo.env = fixed_env;
    (dir, repo)
}

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap()
}

/// Run the system git, sealed from the machine's configuration.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Cli")
        .env("GIT_AUTHOR_EMAIL", "cli@example.com")
        .env("GIT_COMMITTER_NAME", "Cli")
        .env("GIT_COMMITTER_EMAIL", "cli@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn commit(repo: &Repo, paths: &[&str], subject: &str) -> String {
    let msg = message(subject, None, &[("Infra-Test", subject.to_string())]);
    repo.commit_paths(paths, &msg).unwrap().expect("a commit")
}

fn open_err(path: &Path) -> Error {
    match Repo::open(path) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e,
    }
}

#[test]
fn not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let err = open_err(dir.path());
    assert_eq!(
        err.message,
        format!("{} is not inside a git repository", dir.path().display())
    );
    assert_eq!(
        err.hint.as_deref(),
        Some("run `git init` (or `infra init`, which does it)")
    );
}

#[test]
fn init_starts_on_an_unborn_branch() {
    let (dir, repo) = setup();
    assert_eq!(repo.head().unwrap(), None);
    let branch = git(dir.path(), &["symbolic-ref", "--short", "HEAD"]);
    assert_eq!(repo.current_branch().unwrap(), branch.trim());
    assert!(repo.history(10).unwrap().is_empty());
    assert!(Repo::open(dir.path()).is_ok());
}

#[test]
fn first_commit_on_an_unborn_branch() {
    let (dir, repo) = setup();
    let d = dir.path();
    write(d, "infra.toml", "[project]\nname = \"lab\"\n");
    let msg = message(
        "Start lab",
        Some("Body text."),
        &[("Infra-Request", "start".into())],
    );
    let id = repo.commit_paths(&["infra.toml"], &msg).unwrap().unwrap();
    assert_eq!(repo.head().unwrap(), Some(id.clone()));
    let who = "Test User <test@example.com>";
    assert_eq!(
        git(d, &["log", "--format=%H|%an <%ae>|%at|%cn <%ce>|%ct"]),
        format!("{id}|{who}|1700000000|{who}|1700000000\n")
    );
    assert_eq!(
        git(d, &["log", "-1", "--format=%B"]).trim_end(),
        msg.trim_end()
    );
    // The index was updated for the committed path, so nothing shows as staged.
    assert_eq!(git(d, &["status", "--porcelain"]), "");
}

#[test]
fn commit_leaves_other_changes_alone() {
    let (dir, repo) = setup();
    let d = dir.path();
    for f in ["infra.toml", "README.md", "notes.txt"] {
        write(d, f, "one\n");
    }
    commit(&repo, &["infra.toml", "README.md", "notes.txt"], "Start");
    write(d, "infra.toml", "two\n");
    write(d, "README.md", "edited\n");
    write(d, "notes.txt", "staged\n");
    git(d, &["add", "notes.txt"]);
    commit(&repo, &["infra.toml"], "Spec");
    assert_eq!(
        git(d, &["show", "--name-only", "--format=", "HEAD"]),
        "infra.toml\n"
    );
    assert_eq!(
        git(d, &["status", "--porcelain"]),
        " M README.md\nM  notes.txt\n"
    );
    assert_eq!(git(d, &["show", "HEAD:notes.txt"]), "one\n");
}

#[test]
fn deleted_file_is_committed() {
    let (dir, repo) = setup();
    let d = dir.path();
    write(d, "infra/a.toml", "a\n");
    write(d, "infra/b.toml", "b\n");
    commit(&repo, &["infra"], "Two files");
    std::fs::remove_file(d.join("infra/b.toml")).unwrap();
    commit(&repo, &["infra"], "Drop b");
    assert_eq!(
        git(d, &["ls-tree", "-r", "--name-only", "HEAD"]),
        "infra/a.toml\n"
    );
    assert_eq!(git(d, &["status", "--porcelain"]), "");
}

#[test]
fn nothing_changed_makes_no_commit() {
    let (dir, repo) = setup();
    assert_eq!(repo.commit_paths(&["infra"], "empty").unwrap(), None);
    assert_eq!(repo.head().unwrap(), None);
    write(dir.path(), "infra.toml", "x\n");
    let id = commit(&repo, &["infra.toml"], "First");
    assert_eq!(
        repo.commit_paths(&["infra.toml", "infra"], "again")
            .unwrap(),
        None
    );
    assert_eq!(repo.head().unwrap(), Some(id));
}

#[test]
fn ignored_files_are_not_committed() {
    let (dir, repo) = setup();
    let d = dir.path();
    write(d, ".gitignore", ".infra/lock\n");
    write(d, ".infra/state.json", "{}\n");
    write(d, ".infra/lock", "123\n");
    commit(&repo, &[".gitignore", ".infra"], "State");
    assert_eq!(
        git(d, &["ls-tree", "-r", "--name-only", "HEAD"]),
        ".gitignore\n.infra/state.json\n"
    );
}

#[test]
fn detached_head_is_refused() {
    let (dir, repo) = setup();
    let d = dir.path();
    write(d, "infra.toml", "one\n");
    let id = commit(&repo, &["infra.toml"], "First");
    git(d, &["checkout", "--quiet", "--detach"]);
    write(d, "infra.toml", "two\n");
    let err = repo.commit_paths(&["infra.toml"], "Second").unwrap_err();
    assert_eq!(err.message, "HEAD is detached");
    assert_eq!(
        err.hint.as_deref(),
        Some("check out a branch (`git switch main`) before running infra apply/ask")
    );
    assert_eq!(
        repo.current_branch().unwrap_err().message,
        "HEAD is detached"
    );
    assert_eq!(repo.head().unwrap(), Some(id));
}

#[test]
fn identity_falls_back_to_repository_config() {
    let (dir, mut repo) = setup();
    repo.env = |_| None;
    git(dir.path(), &["config", "user.name", "Local Name"]);
    git(dir.path(), &["config", "user.email", "local@example.com"]);
    write(dir.path(), "infra.toml", "x\n");
    commit(&repo, &["infra.toml"], "First");
    assert_eq!(
        git(dir.path(), &["log", "--format=%an <%ae>"]),
        "Local Name <local@example.com>\n"
    );
}

#[test]
fn dirty_sees_changes_under_pathspecs_only() {
    let (dir, repo) = setup();
    let d = dir.path();
    for f in ["infra.toml", "infra/a.toml", "infra/b.toml", "README.md"] {
        write(d, f, "one\n");
    }
    write(d, ".gitignore", "*.lock\n");
    commit(
        &repo,
        &["infra.toml", "infra", "README.md", ".gitignore"],
        "Start",
    );
    assert!(repo.dirty(SPEC).unwrap().is_empty());

    write(d, "infra/a.toml", "two\n"); // modified
    std::fs::remove_file(d.join("infra/b.toml")).unwrap(); // deleted
    write(d, "infra/new.toml", "new\n"); // untracked
    write(d, "templates/web/site.j2", "t\n"); // untracked in a new directory
    write(d, "infra/apply.lock", "1\n"); // ignored
    write(d, "README.md", "two\n"); // outside the pathspecs
    write(d, "infra.toml.bak", "x\n"); // shares a prefix, still outside
    let expected = [
        "infra/a.toml",
        "infra/b.toml",
        "infra/new.toml",
        "templates/web/site.j2",
    ];
    assert_eq!(repo.dirty(SPEC).unwrap(), expected);

    // A change that is only staged counts as well.
    write(d, "infra.toml", "two\n");
    git(d, &["add", "infra.toml"]);
    assert_eq!(repo.dirty(&["infra.toml"]).unwrap(), ["infra.toml"]);
    assert!(repo.dirty(&["capabilities"]).unwrap().is_empty());
    assert!(repo.dirty(&[]).unwrap().is_empty());
}

#[test]
fn project_root_in_a_subdirectory() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path();
    Repo::init(top).unwrap();
    write(top, "README.md", "top\n");
    write(top, "deploy/infra.toml", "one\n");
    write(top, "deploy/infra/a.toml", "a1\n");
    let mut repo = Repo::open(&top.join("deploy")).unwrap();
    repo.env = fixed_env;

    assert_eq!(
        repo.dirty(&["infra.toml", "infra"]).unwrap(),
        ["infra.toml", "infra/a.toml"]
    );
    let c1 = commit(&repo, &["infra.toml", "infra"], "One");
    assert_eq!(
        git(top, &["ls-tree", "-r", "--name-only", "HEAD"]),
        "deploy/infra.toml\ndeploy/infra/a.toml\n"
    );
    assert_eq!(git(top, &["status", "--porcelain"]), "?? README.md\n");
    assert_eq!(
        repo.file_at("HEAD", "infra.toml").unwrap().as_deref(),
        Some("one\n")
    );

    write(top, "deploy/infra/a.toml", "a2\n");
    commit(&repo, &["infra"], "Two");
    assert_eq!(repo.restore(&c1, &["infra"]).unwrap(), ["infra/a.toml"]);
    assert_eq!(read(top, "deploy/infra/a.toml"), "a1\n");
    assert_eq!(repo.history(10).unwrap().len(), 2);
    assert!(repo.to_repo("../README.md").is_err());
}
