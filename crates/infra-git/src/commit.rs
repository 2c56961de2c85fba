//! Recording changes: which project paths are dirty, committing exactly a set of
//! paths, and the message format (subject, body, `Infra-*` trailers). Commits are
//! built from HEAD's tree plus the named paths in an in-memory index, so whatever
//! else the user has staged or changed never leaks into an infra commit.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use git2::{IndexEntry, IndexTime, Status, StatusOptions};

use infra_core::error::Result;

use super::guard::CommitGuard;
use super::identity::Role;
use super::paths::{executable, matches};
use super::{git, Repo};

/// Build a commit message: `subject`, blank line, optional body, blank line, trailers
/// as `Key: value` lines. Trailer values are folded onto one line, because a line
/// break inside a value would end git's trailer block early.
pub fn message(subject: &str, body: Option<&str>, trailers: &[(&str, String)]) -> String {
    let mut out = format!("{}\n", subject.trim());
    if let Some(body) = body.map(str::trim).filter(|b| !b.is_empty()) {
        out.push('\n');
        out.push_str(body);
        out.push('\n');
    }
    if !trailers.is_empty() {
        out.push('\n');
        for (key, value) in trailers {
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push_str(&format!("{key}: {value}\n"));
        }
    }
    out
}

impl Repo {
    /// Project paths under `pathspecs` (files or directories) that differ from HEAD in
    /// the index or the work tree, or are untracked and not ignored. Empty = clean.
    /// Refuse (with the dirty paths listed and `hint`) when any of `pathspecs` has
    /// uncommitted changes.
    pub fn require_clean(&self, pathspecs: &[&str], hint: &str) -> Result<()> {
        let dirty = self.dirty(pathspecs)?;
        if dirty.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = dirty.iter().map(|p| format!("  {p}")).collect();
        Err(
            infra_core::error::Error::new("the spec has uncommitted changes")
                .detail(list.join("\n"))
                .hint(hint),
        )
    }

    pub fn dirty(&self, pathspecs: &[&str]) -> Result<Vec<String>> {
        let specs = self.specs(pathspecs)?;
        if specs.is_empty() {
            return Ok(Vec::new());
        }
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true)
            // Literal paths, not globs: a spec file named `[x].toml` means itself.
            .disable_pathspec_match(true);
        if !specs.iter().any(String::is_empty) {
            for spec in &specs {
                opts.pathspec(spec);
            }
        }
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .map_err(git("reading status"))?;
        let mut dirty = BTreeSet::new();
        for entry in statuses.iter() {
            let status = entry.status();
            if status == Status::CURRENT || status.contains(Status::IGNORED) {
                continue;
            }
            // Filter again ourselves so the result never depends on libgit2's
            // pathspec rules (e.g. `infra` must not match `infra.toml`).
            let path = String::from_utf8_lossy(entry.path_bytes()).into_owned();
            if specs.iter().any(|s| matches(&path, s)) {
                dirty.insert(path);
            }
        }
        Ok(self.to_project_all(dirty))
    }

    /// Stage exactly these project paths (added, modified or deleted; directories
    /// recursively, skipping ignored untracked files) and commit them on the current
    /// branch. Other staged or unstaged changes are left as they were; the index
    /// entries for the committed paths are updated to match the commit. Returns the
    /// new commit id, or None (and no commit) when nothing changed.
    pub fn commit_paths(&self, paths: &[&str], message: &str) -> Result<Option<String>> {
        self.commit_paths_opts(paths, message, false)
    }

    /// As `commit_paths`, but with `allow_empty` a commit is made even when the paths
    /// did not change (an apply that repaired drift leaves the state as it was, and
    /// still belongs in the history).
    pub fn commit_paths_opts(
        &self,
        paths: &[&str],
        message: &str,
        allow_empty: bool,
    ) -> Result<Option<String>> {
        self.current_branch()?; // refuses a detached HEAD before doing any work
        let specs = self.specs(paths)?;
        let parent = self.head_commit()?;
        let base = match &parent {
            Some(c) => Some(c.tree().map_err(git("reading HEAD's tree"))?),
            None => None,
        };

        let mut staged = git2::Index::new().map_err(git("creating an index"))?;
        if let Some(tree) = &base {
            staged.read_tree(tree).map_err(git("reading HEAD's tree"))?;
        }
        for spec in &specs {
            // Drop what HEAD has under the path, then add what the work tree has:
            // deletions fall out of this without a separate pass.
            let tracked: HashSet<String> =
                entry_paths(&staged).filter(|p| matches(p, spec)).collect();
            for path in &tracked {
                staged
                    .remove_path(Path::new(path))
                    .map_err(git(format!("unstaging {path}")))?;
            }
            for file in self.work_files(spec)? {
                if !tracked.contains(&file) && self.ignored(&file)? {
                    continue;
                }
                let entry = self.entry_for(&file)?;
                staged.add(&entry).map_err(git(format!("staging {file}")))?;
            }
        }

        let tree_id = staged
            .write_tree_to(&self.repo)
            .map_err(git("writing the tree"))?;
        let base_id = match &base {
            Some(tree) => tree.id(),
            None => self
                .repo
                .treebuilder(None)
                .and_then(|b| b.write())
                .map_err(git("writing the empty tree"))?,
        };
        if tree_id == base_id && !allow_empty {
            return Ok(None);
        }
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(git("reading the new tree"))?;
        let author = self.signature(Role::Author)?;
        let committer = self.signature(Role::Committer)?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let branch = self.current_branch()?;
        let _in_progress = CommitGuard::take(self.repo.path(), &branch)?;
        // The object first (unreferenced until the branch moves), then the index,
        // then the branch: see `guard` for why this order survives a kill.
        let id = self
            .repo
            .commit(None, &author, &committer, message, &tree, &parents)
            .map_err(git("committing"))?;
        infra_core::util::kill_point("git:after-object");
        self.sync_index(&specs, &staged)?;
        infra_core::util::kill_point("git:after-index");
        let reflog = format!(
            "commit{}: {}",
            if parent.is_none() { " (initial)" } else { "" },
            message.lines().next().unwrap_or_default()
        );
        let refname = format!("refs/heads/{branch}");
        match &parent {
            // Compare-and-swap: a branch moved by someone else since we read it is not overwritten.
            Some(p) => self
                .repo
                .reference_matching(&refname, id, true, p.id(), &reflog)
                .map(drop),
            None => self.repo.reference(&refname, id, false, &reflog).map(drop),
        }
        .map_err(git(format!("moving {branch} to the new commit")))?;
        infra_core::util::kill_point("git:after-branch");
        Ok(Some(id.to_string()))
    }

    /// Project pathspecs → repository paths.
    pub(super) fn specs(&self, pathspecs: &[&str]) -> Result<Vec<String>> {
        pathspecs.iter().map(|p| self.to_repo(p)).collect()
    }

    /// An index entry for a work-tree file: its blob written to the object database,
    /// its mode, and its stat data (so `git status` afterwards need not re-hash it).
    fn entry_for(&self, file: &str) -> Result<IndexEntry> {
        let abs = self.abs(file);
        let meta = fs_err::symlink_metadata(&abs)?;
        let (id, mode) = if meta.file_type().is_symlink() {
            // Git stores a symlink as a blob holding its target.
            let target = fs_err::read_link(&abs)?;
            let bytes = target.to_string_lossy().into_owned().into_bytes();
            (
                self.repo
                    .blob(&bytes)
                    .map_err(git(format!("storing {file}")))?,
                0o120000,
            )
        } else {
            // blob_path applies the repository's filters (e.g. autocrlf), as `git add` does.
            let id = self
                .repo
                .blob_path(&abs)
                .map_err(git(format!("storing {file}")))?;
            (
                id,
                if executable(&meta) {
                    0o100755
                } else {
                    0o100644
                },
            )
        };
        let stat = Stat::of(&meta);
        Ok(IndexEntry {
            ctime: IndexTime::new(stat.ctime.0, stat.ctime.1),
            mtime: IndexTime::new(stat.mtime.0, stat.mtime.1),
            dev: stat.dev,
            ino: stat.ino,
            mode,
            uid: stat.uid,
            gid: stat.gid,
            file_size: meta.len() as u32,
            id,
            flags: 0,
            flags_extended: 0,
            path: file.as_bytes().to_vec(),
        })
    }

    /// Make the user's index agree with the commit for the committed paths only.
    fn sync_index(&self, specs: &[String], staged: &git2::Index) -> Result<()> {
        let mut index = self.repo.index().map_err(git("reading the index"))?;
        // The repository caches its index object; re-read it so changes the user
        // staged with `git add` since we opened the repository are not written over.
        index.read(true).map_err(git("reading the index"))?;
        let stale: Vec<String> = entry_paths(&index)
            .filter(|p| specs.iter().any(|s| matches(p, s)))
            .collect();
        for path in &stale {
            // remove_path also clears conflict stages for the path.
            index
                .remove_path(Path::new(path))
                .map_err(git(format!("updating the index for {path}")))?;
        }
        for entry in staged.iter() {
            let path = String::from_utf8_lossy(&entry.path).into_owned();
            if specs.iter().any(|s| matches(&path, s)) {
                index
                    .add(&entry)
                    .map_err(git(format!("updating the index for {path}")))?;
            }
        }
        index.write().map_err(git("writing the index"))
    }
}

fn entry_paths(index: &git2::Index) -> impl Iterator<Item = String> + '_ {
    index
        .iter()
        .map(|e| String::from_utf8_lossy(&e.path).into_owned())
}

/// The stat fields git keeps in the index (truncated to 32 bits, as git does).
struct Stat {
    ctime: (i32, u32),
    mtime: (i32, u32),
    dev: u32,
    ino: u32,
    uid: u32,
    gid: u32,
}

impl Stat {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Stat {
        use std::os::unix::fs::MetadataExt;
        Stat {
            ctime: (meta.ctime() as i32, meta.ctime_nsec() as u32),
            mtime: (meta.mtime() as i32, meta.mtime_nsec() as u32),
            dev: meta.dev() as u32,
            ino: meta.ino() as u32,
            uid: meta.uid(),
            gid: meta.gid(),
        }
    }

    #[cfg(not(unix))]
    fn of(_: &std::fs::Metadata) -> Stat {
        // Zero stat data only makes git re-hash the file on the next status.
        Stat {
            ctime: (0, 0),
            mtime: (0, 0),
            dev: 0,
            ino: 0,
            uid: 0,
            gid: 0,
        }
    }
}
