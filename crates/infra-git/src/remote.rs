//! The state shared through a git remote: fetching the branch, a lock held as a
//! ref on the remote (`refs/infra/lock`, taken and released with compare-and-swap
//! pushes), and publishing commits. Network operations run the `git` command,
//! not libgit2: the user's credentials are set up for it (ssh agent, credential
//! helpers, the `http.extraheader` a CI checkout writes), and libgit2 reads none
//! of them. Local work (the lock commit, reading refs) stays in git2.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use infra_core::error::{Error, Result};

use super::identity::Role;
use super::{git, Repo};

/// A remote and the branch infra shares through it.
pub struct Remote<'r> {
    repo: &'r Repo,
    pub name: String,
    pub branch: String,
    /// The lock's ref on the remote: one per project in the repository.
    pub lock_ref: String,
}

/// The lock as the remote holds it: the commit its ref names and that commit's
/// message (what the holder wrote about itself).
#[derive(Debug, Clone)]
pub struct RemoteLock {
    pub sha: String,
    pub message: String,
}

/// What a push of one ref came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    Done,
    /// The remote refused: the ref was not what we expected (another holder, a
    /// branch that moved on). With git's reason, e.g. "[rejected] (stale info)".
    Rejected(String),
}

impl Repo {
    /// The remote `name` and the current branch, checked to exist.
    pub fn remote(&self, name: &str) -> Result<Remote<'_>> {
        self.repo.find_remote(name).map_err(|_| {
            Error::new(format!("the repository has no remote `{name}`")).hint(
                "add it (`git remote add origin URL`) or set `remote` under [state] in infra.toml",
            )
        })?;
        // Lock status and force-unlock work on a detached checkout too; what
        // pushes a branch has checked for one before.
        let branch = self.current_branch().unwrap_or_default();
        // One lock per project; a project below the top is named by a digest
        // of its path, which any directory name makes a valid ref.
        let lock_ref = if self.prefix.is_empty() {
            "refs/infra/lock".to_string()
        } else {
            let digest = infra_core::util::sha256_hex(self.prefix.as_bytes());
            format!("refs/infra/locks/{}", &digest[..16])
        };
        Ok(Remote {
            repo: self,
            name: name.to_string(),
            branch,
            lock_ref,
        })
    }
}

impl Repo {
    /// The remote's default branch as this clone last saw it
    /// (`refs/remotes/NAME/HEAD`, which a clone records).
    pub fn remote_default_branch(&self, name: &str) -> Option<String> {
        let head = self
            .repo
            .find_reference(&format!("refs/remotes/{name}/HEAD"))
            .ok()?;
        let target = head.symbolic_target().ok()??;
        target
            .strip_prefix(&format!("refs/remotes/{name}/"))
            .map(str::to_string)
    }
}

impl Remote<'_> {
    /// Fetch the shared branch; its tip on the remote, None when the remote has no
    /// such branch yet.
    pub fn fetch(&self) -> Result<Option<String>> {
        let tracking = format!("refs/remotes/{}/{}", self.name, self.branch);
        let spec = format!("+refs/heads/{}:{tracking}", self.branch);
        let out = self.git(&["fetch", "--quiet", "--no-tags", &self.name, &spec])?;
        if !out.status.success() {
            if missing_ref(&out) {
                return Ok(None);
            }
            return Err(failed(
                &format!("fetching {} from {}", self.branch, self.name),
                &out,
            ));
        }
        self.local_ref(&tracking)
    }

    /// Take the lock: push a new commit holding `message` to the lock ref, only if
    /// the remote has no lock ref (an atomic compare-and-swap on the remote). Ok
    /// with the lock's commit, or Err with the lock someone else holds.
    pub fn take_lock(&self, message: &str) -> Result<std::result::Result<String, RemoteLock>> {
        let sha = self.lock_commit(message)?;
        let lease = format!("--force-with-lease={}:", self.lock_ref);
        match self.push(&lease, &format!("{sha}:{}", self.lock_ref))? {
            Pushed::Done => Ok(Ok(sha)),
            Pushed::Rejected(reason) => match self.read_lock()? {
                Some(held) => Ok(Err(held)),
                // The remote itself refuses the ref (a hook, a protected namespace).
                None if reason.starts_with("[remote rejected]") => Err(Error::new(format!(
                    "{} refused the lock ref {}: {reason}",
                    self.name, self.lock_ref
                ))
                .hint("allow pushes to refs/infra/* on the remote; infra keeps its lock there")),
                // Released between our push and our read: the caller may try again.
                None => Ok(Err(RemoteLock {
                    sha: String::new(),
                    message: String::new(),
                })),
            },
        }
    }

    /// Delete the lock ref, only while it still names `sha` (ours, or the one a
    /// person confirmed with force-unlock).
    pub fn release_lock(&self, sha: &str) -> Result<Pushed> {
        let lease = format!("--force-with-lease={}:{sha}", self.lock_ref);
        self.push(&lease, &format!(":{}", self.lock_ref))
    }

    /// The lock the remote holds now, if any.
    pub fn read_lock(&self) -> Result<Option<RemoteLock>> {
        let seen = format!(
            "refs/infra/seen/{}",
            self.lock_ref.trim_start_matches("refs/infra/")
        );
        let spec = format!("+{}:{seen}", self.lock_ref);
        let out = self.git(&["fetch", "--quiet", "--no-tags", &self.name, &spec])?;
        if !out.status.success() {
            if missing_ref(&out) {
                if let Ok(mut r) = self.repo.repo.find_reference(&seen) {
                    let _ = r.delete();
                }
                return Ok(None);
            }
            return Err(failed(&format!("reading the lock on {}", self.name), &out));
        }
        let Some(sha) = self.local_ref(&seen)? else {
            return Ok(None);
        };
        let commit = self
            .repo
            .repo
            .find_commit(git2::Oid::from_str(&sha).map_err(git("reading the lock"))?)
            .map_err(git("reading the lock commit"))?;
        Ok(Some(RemoteLock {
            sha,
            message: commit.message().unwrap_or_default().to_string(),
        }))
    }

    /// Push `sha` to the shared branch; never forced, so a branch that moved on
    /// is Rejected and nothing on the remote is lost. A refusal by the remote
    /// itself (a hook, branch protection) is an error in its own words: trying
    /// again would not help.
    pub fn push_branch(&self, sha: &str) -> Result<Pushed> {
        let refspec = format!("{sha}:refs/heads/{}", self.branch);
        let out = self.git(&["push", "--porcelain", &self.name, &refspec])?;
        match refused(&out) {
            None if out.status.success() => Ok(Pushed::Done),
            Some(reason) if !reason.starts_with("[remote rejected]") => {
                Ok(Pushed::Rejected(reason))
            }
            Some(reason) => Err(failed(
                &format!("pushing {} to {} ({reason})", self.branch, self.name),
                &out,
            )),
            None => Err(failed(&format!("pushing to {}", self.name), &out)),
        }
    }

    /// Save `sha` on the remote as `refs/infra/pending/ID`, beside the lock: a
    /// state commit the branch refused must outlive the clone that made it.
    pub fn save_pending(&self, sha: &str, id: &str) -> Result<String> {
        let refname = format!("refs/infra/pending/{id}");
        let out = self.git(&["push", "--quiet", &self.name, &format!("{sha}:{refname}")])?;
        if out.status.success() {
            Ok(refname)
        } else {
            Err(failed(
                &format!("saving the state commit on {}", self.name),
                &out,
            ))
        }
    }

    /// Push a branch for review (`infra ask --branch NAME --push`), setting its upstream.
    pub fn publish_branch(&self) -> Result<()> {
        let spec = format!("refs/heads/{0}:refs/heads/{0}", self.branch);
        let out = self.git(&["push", "--quiet", "--set-upstream", &self.name, &spec])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(failed(
                &format!("pushing {} to {}", self.branch, self.name),
                &out,
            ))
        }
    }

    /// A parentless commit with the empty tree: the lock's content is its message.
    fn lock_commit(&self, message: &str) -> Result<String> {
        let r = &self.repo.repo;
        let tree_id = r
            .treebuilder(None)
            .and_then(|b| b.write())
            .map_err(git("writing the empty tree"))?;
        let tree = r
            .find_tree(tree_id)
            .map_err(git("reading the empty tree"))?;
        let sig = self.repo.signature(Role::Committer)?;
        let id = r
            .commit(None, &sig, &sig, message, &tree, &[])
            .map_err(git("writing the lock commit"))?;
        Ok(id.to_string())
    }

    fn push(&self, lease: &str, refspec: &str) -> Result<Pushed> {
        let out = self.git(&["push", "--porcelain", lease, &self.name, refspec])?;
        if out.status.success() {
            return Ok(Pushed::Done);
        }
        // Any refusal of a lock ref means someone else's lock stands (or was
        // being written at that instant); anything else (no network, no rights)
        // is an error the person must see as git said it.
        if let Some(reason) = refused(&out) {
            return Ok(Pushed::Rejected(reason));
        }
        Err(failed(&format!("pushing to {}", self.name), &out))
    }

    fn local_ref(&self, name: &str) -> Result<Option<String>> {
        match self.repo.repo.refname_to_id(name) {
            Ok(id) => Ok(Some(id.to_string())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git(format!("reading {name}"))(e)),
        }
    }

    /// Run git in the work tree, never asking for anything: a credential prompt
    /// in CI would hang until the job's time runs out.
    fn git(&self, args: &[&str]) -> Result<Output> {
        run_git(&self.repo.workdir, args)
    }
}

/// The git command in `dir`: never prompting (a credential prompt in CI would
/// hang until the job's time runs out), messages in git's own English words.
pub fn run_git(dir: &Path, args: &[&str]) -> Result<Output> {
    Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        // Messages are matched (a missing remote ref): in git's own words.
        .env("LC_ALL", "C")
        .env("LANGUAGE", "C")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::new(format!("cannot run git: {e}"))
                .hint("infra talks to git remotes through the git command; install git")
        })
}

/// The reason porcelain output gives for a refused ref (its line starts with
/// `!`: "[rejected] (fetch first)", "[remote rejected] (pre-receive hook declined)").
fn refused(out: &Output) -> Option<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with('!'))
        .map(|l| l.rsplit('\t').next().unwrap_or(l).trim().to_string())
}

fn missing_ref(out: &Output) -> bool {
    String::from_utf8_lossy(&out.stderr).contains("couldn't find remote ref")
}

fn failed(what: &str, out: &Output) -> Error {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    Error::new(format!("git: {what} failed"))
        .detail(said.join("\n"))
        .hint("check the remote's address and your access (`git fetch` shows the same)")
}
