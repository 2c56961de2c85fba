//! Reading old revisions: one file's content at a revision, and restoring whole
//! paths (the spec directories) to a revision in the work tree for `infra rollback`,
//! which then commits them with `commit_paths`. Only the work tree is written; the
//! index is left to that commit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use git2::{ErrorCode, ObjectType, Oid, TreeWalkMode, TreeWalkResult};

use infra_core::error::{Error, Result};

use super::paths::{executable, matches};
use super::{git, Repo};

const MODE_LINK: i32 = 0o120000;
const MODE_EXEC: i32 = 0o100755;

impl Repo {
    /// Content of a project-relative file at `rev`, None if absent there.
    pub fn file_at(&self, rev: &str, path: &str) -> Result<Option<String>> {
        let tree = self
            .find_commit(rev)?
            .tree()
            .map_err(git(format!("reading {rev}")))?;
        let entry = match tree.get_path(Path::new(&self.to_repo(path)?)) {
            Ok(entry) => entry,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(git(format!("looking up {path} at {rev}"))(e)),
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Err(Error::new(format!(
                "{path} is a directory at {rev}, not a file"
            )));
        }
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(git(format!("reading {path} at {rev}")))?;
        let text = String::from_utf8(blob.content().to_vec())
            .map_err(|_| Error::new(format!("{path} at {rev} is not UTF-8 text")))?;
        Ok(Some(text))
    }

    /// Restore project pathspecs (files or directories) from commit `rev` into the
    /// work tree: write every file they hold at `rev`, delete files under them that
    /// exist now but not at `rev`. Returns the project paths changed, sorted.
    ///
    /// Untracked files under the paths are deleted too, so the result is exactly
    /// `rev`'s spec; callers should refuse a dirty tree (`dirty`) first. Ignored files
    /// are kept unless HEAD tracks them: they were never part of the history.
    pub fn restore(&self, rev: &str, pathspecs: &[&str]) -> Result<Vec<String>> {
        let tree = self
            .find_commit(rev)?
            .tree()
            .map_err(git(format!("reading {rev}")))?;
        let head_tree = match self.head_commit()? {
            Some(c) => Some(c.tree().map_err(git("reading HEAD's tree"))?),
            None => None,
        };
        let mut changed = BTreeSet::new();
        for pathspec in pathspecs {
            let spec = self.to_repo(pathspec)?;
            let wanted = self.files_at(&tree, &spec)?;
            for file in self.work_files(&spec)? {
                if wanted.contains_key(&file) {
                    continue;
                }
                let tracked = head_tree
                    .as_ref()
                    .is_some_and(|t| t.get_path(Path::new(&file)).is_ok());
                if !tracked && self.ignored(&file)? {
                    continue;
                }
                fs_err::remove_file(self.abs(&file))?;
                self.prune_empty_dirs(&file);
                changed.insert(file);
            }
            for (file, (id, mode)) in &wanted {
                if self.write_file(file, *id, *mode)? {
                    changed.insert(file.clone());
                }
            }
        }
        Ok(self.to_project_all(changed))
    }

    /// Files (blobs and symlinks) at or under repository path `spec` in `tree`, with
    /// their ids and modes. Submodule entries are skipped: they are not files.
    fn files_at(&self, tree: &git2::Tree, spec: &str) -> Result<BTreeMap<String, (Oid, i32)>> {
        let mut out = BTreeMap::new();
        let subtree = if spec.is_empty() {
            tree.clone()
        } else {
            let entry = match tree.get_path(Path::new(spec)) {
                Ok(entry) => entry,
                Err(e) if e.code() == ErrorCode::NotFound => return Ok(out),
                Err(e) => return Err(git(format!("looking up {spec}"))(e)),
            };
            match entry.kind() {
                Some(ObjectType::Blob) => {
                    out.insert(spec.to_string(), (entry.id(), entry.filemode()));
                    return Ok(out);
                }
                Some(ObjectType::Tree) => self
                    .repo
                    .find_tree(entry.id())
                    .map_err(git(format!("reading {spec}")))?,
                _ => return Ok(out),
            }
        };
        subtree
            .walk(TreeWalkMode::PreOrder, |dir, entry| {
                if let (Some(ObjectType::Blob), Ok(name)) = (entry.kind(), entry.name()) {
                    let path = format!(
                        "{spec}{}{dir}{name}",
                        if spec.is_empty() { "" } else { "/" }
                    );
                    out.insert(path, (entry.id(), entry.filemode()));
                }
                TreeWalkResult::Ok
            })
            .map_err(git(format!("reading {spec}")))?;
        debug_assert!(out.keys().all(|p| matches(p, spec)));
        Ok(out)
    }

    /// Write blob `id` at repository path `file` unless it already has that content
    /// and mode. Returns whether the work tree changed.
    fn write_file(&self, file: &str, id: Oid, mode: i32) -> Result<bool> {
        let blob = self
            .repo
            .find_blob(id)
            .map_err(git(format!("reading {file}")))?;
        let data = blob.content();
        let abs = self.abs(file);
        match fs_err::symlink_metadata(&abs) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs_err::read_link(&abs)?;
                if mode == MODE_LINK && target.to_string_lossy().as_bytes() == data {
                    return Ok(false);
                }
                // Remove first: writing through a symlink would change its target.
                fs_err::remove_file(&abs)?;
            }
            Ok(meta) if meta.is_file() => {
                let same_kind = mode != MODE_LINK && executable(&meta) == (mode == MODE_EXEC);
                if same_kind && fs_err::read(&abs)? == data {
                    return Ok(false);
                }
                if mode == MODE_LINK {
                    fs_err::remove_file(&abs)?;
                }
            }
            _ => {}
        }
        if let Some(parent) = abs.parent() {
            fs_err::create_dir_all(parent)?;
        }
        if mode == MODE_LINK {
            write_link(&abs, data)?;
        } else {
            fs_err::write(&abs, data)?;
            set_executable(&abs, mode == MODE_EXEC)?;
        }
        Ok(true)
    }

    /// Remove directories left empty by deleting `file`, up to the project root, as
    /// git does; best effort, since a leftover empty directory is harmless.
    fn prune_empty_dirs(&self, file: &str) {
        let stop = self.abs(&self.prefix);
        let mut dir = self.abs(file);
        while dir.pop() && dir.starts_with(&stop) && dir != stop {
            if std::fs::remove_dir(&dir).is_err() {
                break;
            }
        }
    }
}

#[cfg(unix)]
fn set_executable(path: &Path, exec: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = fs_err::metadata(path)?.permissions();
    let mode = perms.mode();
    let new = if exec {
        mode | ((mode & 0o444) >> 2)
    } else {
        mode & !0o111
    };
    if new != mode {
        perms.set_mode(new);
        fs_err::set_permissions(path, perms)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_executable(_: &Path, _: bool) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn write_link(path: &Path, target: &[u8]) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let target = std::ffi::OsStr::from_bytes(target);
    std::os::unix::fs::symlink(target, path)
        .map_err(|e| Error::new(format!("creating symlink {}: {e}", path.display())))
}

#[cfg(not(unix))]
fn write_link(path: &Path, target: &[u8]) -> Result<()> {
    // Without symlinks git checks a link out as a file holding its target.
    fs_err::write(path, target)?;
    Ok(())
}
