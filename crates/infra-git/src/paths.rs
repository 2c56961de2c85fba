//! Path translation between the project root and the repository, and walking the
//! work tree. The public API takes and returns project-relative paths; git speaks
//! paths relative to the work tree's top. Every crossing happens here, so a project
//! in a subdirectory of its repository needs no care anywhere else.

use std::path::{Component, Path, PathBuf};

use infra_core::error::{Error, Result};

use super::{git, Repo};

impl Repo {
    /// A project-relative path as a repository path ('/'-separated; "" = the whole
    /// work tree). Rejects paths that would leave the project.
    pub(super) fn to_repo(&self, project_path: &str) -> Result<String> {
        let mut parts: Vec<&str> = self.prefix.split('/').filter(|s| !s.is_empty()).collect();
        for c in Path::new(project_path).components() {
            match c {
                Component::CurDir => {}
                Component::Normal(s) => parts
                    .push(s.to_str().ok_or_else(|| {
                        Error::new(format!("{project_path} is not a UTF-8 path"))
                    })?),
                _ => {
                    return Err(Error::new(format!(
                        "{project_path} is not a path inside the project"
                    ))
                    .hint("use a path relative to the project root, like `infra/web.toml`"))
                }
            }
        }
        Ok(parts.join("/"))
    }

    /// A repository path as a project-relative path; None when it lies outside the project.
    pub(super) fn to_project(&self, repo_path: &str) -> Option<String> {
        if self.prefix.is_empty() {
            return Some(repo_path.to_string());
        }
        let rest = repo_path.strip_prefix(&self.prefix)?;
        match rest.strip_prefix('/') {
            Some(inner) => Some(inner.to_string()),
            None if rest.is_empty() => Some(String::new()),
            None => None,
        }
    }

    /// Repository paths → project paths, dropping any outside the project.
    pub(super) fn to_project_all(
        &self,
        repo_paths: impl IntoIterator<Item = String>,
    ) -> Vec<String> {
        repo_paths
            .into_iter()
            .filter_map(|p| self.to_project(&p))
            .collect()
    }

    /// Absolute path of a repository path in the work tree.
    pub(super) fn abs(&self, repo_path: &str) -> PathBuf {
        if repo_path.is_empty() {
            self.workdir.clone()
        } else {
            self.workdir.join(repo_path)
        }
    }

    /// Files (and symlinks) in the work tree at or under `repo_path`, as sorted
    /// repository paths. Ignore rules are not applied: callers decide, because a
    /// tracked file stays tracked even when a pattern matches it.
    pub(super) fn work_files(&self, repo_path: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let abs = self.abs(repo_path);
        match fs_err::symlink_metadata(&abs) {
            Ok(meta) if meta.is_dir() => self.walk_dir(&abs, repo_path, &mut out)?,
            Ok(_) => out.push(repo_path.to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        out.sort();
        Ok(out)
    }

    fn walk_dir(&self, dir: &Path, repo_dir: &str, out: &mut Vec<String>) -> Result<()> {
        for entry in fs_err::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_str().ok_or_else(|| {
                Error::new(format!("{} is not a UTF-8 path", entry.path().display()))
            })?;
            let repo_path = if repo_dir.is_empty() {
                name.to_string()
            } else {
                format!("{repo_dir}/{name}")
            };
            // symlink_metadata: a symlink to a directory is a file to git, never followed.
            let meta = fs_err::symlink_metadata(entry.path())?;
            if meta.is_dir() {
                // `.git` is the repository itself; a directory holding one is a nested
                // repository, which git records as a submodule, not as files.
                if name == ".git" || entry.path().join(".git").exists() {
                    continue;
                }
                self.walk_dir(&entry.path(), &repo_path, out)?;
            } else {
                out.push(repo_path);
            }
        }
        Ok(())
    }

    /// Whether git would ignore this (untracked) repository path.
    pub(super) fn ignored(&self, repo_path: &str) -> Result<bool> {
        self.repo
            .is_path_ignored(repo_path)
            .map_err(git(format!("checking ignore rules for {repo_path}")))
    }
}

/// Whether repository path `path` is `spec` itself or lies under the directory `spec`
/// ("" covers everything). Matching is literal: specs are paths, not globs.
pub(super) fn matches(path: &str, spec: &str) -> bool {
    spec.is_empty()
        || path == spec
        || (path.len() > spec.len()
            && path.starts_with(spec)
            && path.as_bytes()[spec.len()] == b'/')
}

/// Whether a work-tree file has an exec bit, which git records as mode 100755.
#[cfg(unix)]
pub(super) fn executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
pub(super) fn executable(_: &std::fs::Metadata) -> bool {
    false // no exec bit to read; git on these systems records 0644 too
}
