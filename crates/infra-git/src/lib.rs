//! Git as the state history: opening the user's repository, committing spec and
//! state changes, listing infra's commits and restoring old specs. This is the only
//! module that names git2; its public API speaks std types and its own, and returns
//! `infra_core::error::Error` so the CLI can print messages with hints. It must not depend
//! on the spec, plan or state modules: callers pass paths and messages.

mod commit;
mod guard;
mod history;
mod identity;
mod paths;
mod rebase;
mod remote;
mod restore;
#[cfg(test)]
mod tests;

use std::fmt::Display;
use std::path::{Path, PathBuf};

use git2::ErrorCode;

use infra_core::error::{Error, Result};

pub use commit::message;
pub use history::HistoryEntry;
pub use rebase::Standing;
pub use remote::{run_git, Pushed, Remote, RemoteLock};

/// A repository opened at a project root, which may sit below the work tree's top.
pub struct Repo {
    repo: git2::Repository,
    /// Canonical path of the work tree's top directory.
    workdir: PathBuf,
    /// The project root relative to `workdir`, '/'-separated; "" when they are the same.
    prefix: String,
    /// Where identity variables (GIT_AUTHOR_NAME, …) are read from; a field so unit
    /// tests can fix them without mutating the process environment under parallel tests.
    env: fn(&str) -> Option<String>,
}

impl Repo {
    /// Open the repository containing `project_root` (discovered upward).
    pub fn open(project_root: &Path) -> Result<Repo> {
        // Canonical paths on both sides, so a symlinked temp dir or `-C ..` still
        // yields a clean prefix.
        let root = fs_err::canonicalize(project_root)?;
        let repo = git2::Repository::discover(&root).map_err(|e| match e.code() {
            ErrorCode::NotFound => Error::new(format!(
                "{} is not inside a git repository",
                project_root.display()
            ))
            .hint("run `git init` (or `infra init`, which does it)"),
            _ => git(format!(
                "opening the repository at {}",
                project_root.display()
            ))(e),
        })?;
        let workdir = repo.workdir().ok_or_else(|| {
            Error::new(format!(
                "{} is inside a bare git repository",
                project_root.display()
            ))
            .hint("run infra in a clone that has a work tree")
        })?;
        let workdir = fs_err::canonicalize(workdir)?;
        let rel = root.strip_prefix(&workdir).map_err(|_| {
            Error::new(format!(
                "{} is not inside the work tree of {}",
                project_root.display(),
                workdir.display()
            ))
        })?;
        let mut parts = Vec::new();
        for c in rel.components() {
            let s = c.as_os_str().to_str().ok_or_else(|| {
                Error::new(format!("{} is not a UTF-8 path", project_root.display()))
            })?;
            parts.push(s.to_string());
        }
        let opened = Repo {
            repo,
            workdir,
            prefix: parts.join("/"),
            env: |k| std::env::var(k).ok(),
        };
        // Locks a killed infra commit left are cleared by the next infra command.
        guard::CommitGuard::recover(opened.repo.path(), opened.current_branch().ok().as_deref());
        Ok(opened)
    }

    /// `git init` at `dir` (used by `infra init` when there is no repository yet).
    pub fn init(dir: &Path) -> Result<Repo> {
        let mut opts = git2::RepositoryInitOptions::new();
        // libgit2 honours init.defaultBranch itself; without one we pick "main"
        // rather than libgit2's "master", matching the hints we print.
        let configured = git2::Config::open_default()
            .and_then(|c| c.get_string("init.defaultBranch"))
            .is_ok();
        if !configured {
            opts.initial_head("main");
        }
        git2::Repository::init_opts(dir, &opts).map_err(git(format!(
            "initialising a repository in {}",
            dir.display()
        )))?;
        Repo::open(dir)
    }

    /// The repository's git directory (`.git`), where infra keeps what the work
    /// tree must not carry.
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// The work tree's top directory (canonical).
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// HEAD commit id (hex), None when the branch is unborn (no commits yet).
    pub fn head(&self) -> Result<Option<String>> {
        Ok(self.head_commit()?.map(|c| c.id().to_string()))
    }

    /// Name of the current branch; an error for a detached HEAD.
    pub fn current_branch(&self) -> Result<String> {
        let head = self
            .repo
            .find_reference("HEAD")
            .map_err(git("reading HEAD"))?;
        // Read the symbolic target rather than `repo.head()`, which fails on an
        // unborn branch even though the branch name is known.
        match head.symbolic_target().map_err(git("reading HEAD"))? {
            Some(target) => Ok(target
                .strip_prefix("refs/heads/")
                .unwrap_or(target)
                .to_string()),
            None => Err(Error::new("HEAD is detached")
                .hint("check out a branch (`git switch main`) before running infra apply/ask")),
        }
    }

    /// Resolve a revision (sha prefix, HEAD~2, branch, tag) to a full commit id.
    pub fn resolve(&self, rev: &str) -> Result<String> {
        Ok(self.find_commit(rev)?.id().to_string())
    }

    /// Create branch `name` at HEAD and switch to it. The work tree and index are
    /// untouched: the branch points at the commit they already reflect.
    pub fn create_and_switch_branch(&self, name: &str) -> Result<()> {
        let refname = format!("refs/heads/{name}");
        if name.is_empty() || !git2::Reference::is_valid_name(&refname) {
            return Err(Error::new(format!("`{name}` is not a valid branch name")));
        }
        if self.repo.find_reference(&refname).is_ok() {
            return Err(
                Error::new(format!("branch `{name}` already exists")).hint(format!(
                    "pick another name, or switch to it with `git switch {name}`"
                )),
            );
        }
        // On an unborn branch there is no commit to point at; switching HEAD alone
        // leaves the new branch unborn, as `git switch -c` does.
        if let Some(commit) = self.head_commit()? {
            self.repo
                .branch(name, &commit, false)
                .map_err(git(format!("creating branch {name}")))?;
        }
        self.repo
            .set_head(&refname)
            .map_err(git(format!("switching to branch {name}")))
    }

    /// The commit HEAD points at, None on an unborn branch.
    fn head_commit(&self) -> Result<Option<git2::Commit<'_>>> {
        match self.repo.head() {
            Ok(head) => Ok(Some(head.peel_to_commit().map_err(git("reading HEAD"))?)),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(git("reading HEAD")(e)),
        }
    }

    /// Look up `rev` as a commit, with errors that name the revision.
    fn find_commit(&self, rev: &str) -> Result<git2::Commit<'_>> {
        let hint = "list revisions with `infra history` or `git log --oneline`";
        let object = self.repo.revparse_single(rev).map_err(|e| match e.code() {
            ErrorCode::Ambiguous => Error::new(format!("revision `{rev}` is ambiguous"))
                .hint("use more characters of the commit id"),
            _ => Error::new(format!("unknown revision `{rev}`")).hint(hint),
        })?;
        object
            .peel_to_commit()
            .map_err(|_| Error::new(format!("revision `{rev}` does not name a commit")).hint(hint))
    }
}

/// Wrap a libgit2 error with what we were doing, so the CLI prints one readable line.
fn git(what: impl Display) -> impl FnOnce(git2::Error) -> Error {
    move |e| Error::new(format!("git: {what}: {}", e.message()))
}
