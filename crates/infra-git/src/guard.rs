//! Crash safety of infra's own commits. A commit is three writes: the commit
//! object, the index, the branch. `commit_paths` does them in that order, so a
//! kill at any instant leaves HEAD at the old commit (with the new record staged,
//! which the next apply commits) or at the new commit with a matching index —
//! never a new HEAD with a stale index that a later `git commit` would use to
//! undo the record.
//!
//! A kill while git2 holds `index.lock` (or the branch's `.lock`) leaves that file
//! behind, and every later git command fails. The guard writes
//! `.git/infra-commit.pid` for the length of the commit: a lock found next to the
//! marker of a dead infra process is infra's own and is removed; any other lock
//! belongs to some git command, and the error names the file and the fix.

use std::path::{Path, PathBuf};

use infra_core::error::{Error, Result};
use infra_core::util::pid_alive;

const MARKER: &str = "infra-commit.pid";

pub struct CommitGuard {
    marker: PathBuf,
}

impl CommitGuard {
    /// Remove the locks a killed infra commit left (its marker names a process
    /// that is gone). Run when the repository is opened, so any infra command
    /// after the kill clears the way for git too.
    pub fn recover(git_dir: &Path, branch: Option<&str>) {
        let marker = git_dir.join(MARKER);
        let Some(pid) = read_pid(&marker) else { return };
        // Our own pid is a reuse (a container gives infra the same one each run).
        if pid != std::process::id() && pid_alive(pid) {
            return;
        }
        let Ok(marked) = std::fs::metadata(&marker).and_then(|m| m.modified()) else {
            return;
        };
        let mut locks = vec![git_dir.join("index.lock")];
        if let Some(b) = branch {
            locks.push(git_dir.join(format!("refs/heads/{b}.lock")));
        }
        for lock in locks {
            // Only a lock made during that commit: a later one is some git command's.
            let made = std::fs::symlink_metadata(&lock).and_then(|m| m.modified());
            if made.is_ok_and(|t| t <= marked + std::time::Duration::from_secs(5)) {
                let _ = std::fs::remove_file(&lock);
            }
        }
        let _ = std::fs::remove_file(&marker);
    }

    /// Recover what a killed infra commit left, refuse a live git's lock, then
    /// mark the commit as in progress.
    pub fn take(git_dir: &Path, branch: &str) -> Result<CommitGuard> {
        let marker = git_dir.join(MARKER);
        let locks = [
            git_dir.join("index.lock"),
            git_dir.join(format!("refs/heads/{branch}.lock")),
        ];
        CommitGuard::recover(git_dir, Some(branch));
        if let Some(lock) = locks.iter().find(|l| l.symlink_metadata().is_ok()) {
            return Err(Error::new(format!(
                "git: {} exists: another git command is working in this repository, or one was killed",
                lock.display()
            ))
            .hint(format!(
                "if no git command is running, remove it (`rm {}`) and run infra again; the state is saved and will be committed",
                lock.display()
            )));
        }
        infra_core::util::write_atomic(&marker, std::process::id().to_string().as_bytes())?;
        Ok(CommitGuard { marker })
    }
}

impl Drop for CommitGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.marker);
    }
}

fn read_pid(path: &Path) -> Option<u32> {
    let bytes = infra_core::beneath::read_regular(path, 64).ok()??;
    std::str::from_utf8(&bytes).ok()?.trim().parse().ok()
}
