//! Where a file-based provider's files live: this machine, or a remote one over SSH.
//!
//! `Host` offers the few operations the file-based providers (file, nginx,
//! prometheus) need — read, atomic write, remove, bulk listing, symlink, run a
//! command — with one implementation per transport. SSH goes through the system
//! `ssh` client, so the user's `~/.ssh/config`, keys and agent apply; every call
//! is one round trip (a bulk listing included). Providers pick a transport with
//! the `host = "ssh://user@host:port"` setting; absent means local.
//!
//! Depends only on `providers` (errors) and `util`; knows nothing about kinds.

mod local;
pub mod objects;
mod ssh;

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use infra_kit::{Finding, ProviderError, Result};
pub use ssh::Ssh;

/// Environment variable: the ssh command (and options) to use instead of plain
/// `ssh`, split on whitespace — like git's `GIT_SSH_COMMAND`. OpenSSH reads
/// `~/.ssh/config` from the passwd home directory, not `$HOME`, so this is how a
/// sandbox (or a test) points ssh at its own config: `ssh -F /path/to/config`.
pub const SSH_COMMAND_ENV: &str = "INFRA_SSH_COMMAND";

/// Longest any single host operation may take (a hung ssh must not hang an apply).
pub const OP_TIMEOUT: Duration = Duration::from_secs(120);

/// One regular file as read from a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the listed directory (for `read`: the file name).
    pub name: String,
    /// Permission bits, e.g. 0o644.
    pub mode: u32,
    pub data: Vec<u8>,
}

/// The result of a command run on a host.
#[derive(Debug, Clone)]
pub struct CmdOutput {
    /// Exit code; `None` if killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CmdOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// How far `list` descends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Only the files directly in the directory.
    Flat,
    /// The whole tree.
    Recursive,
}

/// How to write a file.
#[derive(Debug, Clone, Copy)]
pub struct WriteOpts {
    pub mode: u32,
    /// Create missing parent directories (the file provider does; nginx must not
    /// invent a sites directory nginx never reads).
    pub create_dirs: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Local,
    Ssh(Ssh),
}

impl Host {
    /// From a provider's `host` setting (absent = local).
    pub fn from_setting(value: Option<&str>) -> std::result::Result<Host, String> {
        value.map_or(Ok(Host::Local), Host::parse)
    }

    /// `ssh://[user@]host[:port]`; `local` is accepted for symmetry.
    pub fn parse(url: &str) -> std::result::Result<Host, String> {
        if url == "local" || url.is_empty() {
            return Ok(Host::Local);
        }
        Ssh::parse(url).map(Host::Ssh)
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Host::Local)
    }

    /// A path as people should see it in messages: `/x` or `root@h:/x`.
    pub fn show(&self, path: &Path) -> String {
        match self {
            Host::Local => path.display().to_string(),
            Host::Ssh(s) => format!("{}:{}", s.destination(), path.display()),
        }
    }

    /// Run a program (argv, no shell) and collect its status and output.
    pub async fn run(&self, argv: &[String]) -> Result<CmdOutput> {
        if argv.is_empty() {
            return Err(ProviderError::rejected("empty command"));
        }
        match self {
            Host::Local => local::run(argv).await,
            Host::Ssh(s) => s.run(argv).await,
        }
    }
}

/// A directory a provider keeps its files in, on a host. Every path below it is
/// resolved without following a symlink in any component (locally with openat2
/// through `infra_core::beneath`, remotely by a check on the host), so a link
/// planted below the root never leads a read, write or delete outside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    host: Host,
    /// Where resolution starts (the project directory for a relative setting).
    base: PathBuf,
    /// The setting's own components below `base`, held to the same rule.
    sub: PathBuf,
}

impl Root {
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The full path of `rel` (what a symlink should point at).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.base.join(&self.sub).join(rel)
    }

    /// A path as people should see it in messages: `/x` or `root@h:/x`.
    pub fn show(&self, rel: &str) -> String {
        self.host.show(&self.path(rel))
    }

    fn below(&self, rel: &str) -> PathBuf {
        self.sub.join(rel)
    }

    /// A regular file's content and mode; `None` if nothing is there. A symlink,
    /// FIFO or device is an error.
    pub async fn read(&self, rel: &str) -> Result<Option<Entry>> {
        match &self.host {
            Host::Local => local::read(&self.base, &self.below(rel)),
            Host::Ssh(s) => s.read(&self.base, &self.below(rel)).await,
        }
    }

    /// Replace a file atomically: a temp file in the same directory, then rename.
    /// A reader (nginx, Prometheus, a crash) sees the old content or the new.
    pub async fn write(&self, rel: &str, data: &[u8], opts: WriteOpts) -> Result<()> {
        match &self.host {
            Host::Local => local::write(&self.base, &self.below(rel), data, opts),
            Host::Ssh(s) => s.write(&self.base, &self.below(rel), data, opts).await,
        }
    }

    /// Remove a file or symlink (never a link's target); a missing one is fine.
    pub async fn remove(&self, rel: &str) -> Result<()> {
        match &self.host {
            Host::Local => local::remove(&self.base, &self.below(rel)),
            Host::Ssh(s) => s.remove(&self.base, &self.below(rel)).await,
        }
    }

    /// Every regular file below the root with its content, in one round trip; a
    /// missing directory lists as empty. Links are skipped, never followed; temp
    /// files of interrupted writes are skipped.
    pub async fn list(&self, depth: Depth) -> Result<Vec<Entry>> {
        let mut out = match &self.host {
            Host::Local => local::list(&self.base, &self.sub, depth)?,
            Host::Ssh(s) => s.list(&self.base, &self.sub, depth).await?,
        };
        out.retain(|e| !is_temp_name(&e.name));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Point the link `rel` at `target`, replacing whatever link was there.
    pub async fn symlink(&self, target: &Path, rel: &str) -> Result<()> {
        match &self.host {
            Host::Local => local::symlink(&self.base, target, &self.below(rel)),
            Host::Ssh(s) => s.symlink(&self.base, target, &self.below(rel)).await,
        }
    }

    /// Temp files (`.NAME.tmp.PID`) left below the root by a write that was killed
    /// before its rename, whose NAME `mine` accepts (local only; the caller holds
    /// the project lock, so no write of this project is running). Each is removed
    /// only if `owned` says its content is this project's; returns the removed names.
    pub async fn remove_stale_temps(
        &self,
        mine: impl Fn(&str) -> bool,
        owned: impl Fn(&[u8]) -> bool,
    ) -> Result<Vec<String>> {
        if !self.host.is_local() {
            return Ok(Vec::new());
        }
        let mut removed = Vec::new();
        for rel in local::stale_temps(&self.base, &self.sub, &mine)? {
            if self.read(&rel).await?.is_some_and(|e| owned(&e.data)) {
                self.remove(&rel).await?;
                removed.push(rel);
            }
        }
        Ok(removed)
    }
}

/// The file a file-based provider keeps resource `address` in:
/// `{project}--{name}.{ext}`. The project keeps two projects' files apart in
/// one directory; it is reduced to characters safe in a file name and never
/// starts with a dot (globs like nginx's `*.conf` skip dotfiles).
pub fn object_file_name(project: &str, address: &str, ext: &str) -> String {
    let name = address.split_once('.').map_or(address, |(_, n)| n);
    format!("{}{name}.{ext}", object_file_prefix(project))
}

/// `{project}--`: how every object file of this project starts.
pub fn object_file_prefix(project: &str) -> String {
    let project: String = project
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{project}--")
}

/// Temp files written by `write` are `.NAME.tmp.PID`.
pub fn is_temp_name(rel: &str) -> bool {
    let base = rel.rsplit('/').next().unwrap_or(rel);
    base.starts_with('.') && base.contains(".tmp.")
}

pub(crate) fn io_err(host: &Host, path: &Path, e: std::io::Error) -> ProviderError {
    ProviderError::rejected(format!("{}: {e}", host.show(path)))
}

#[cfg(test)]
mod tests;

/// The `host` setting, and the directory settings below it: remote ones absolute,
/// local relative ones inside the project, and none that would hand a provider the
/// whole filesystem, the project itself or a directory above it (a refresh walks
/// its root; a root that holds the project would read and could write it all).
pub fn check_host_dirs(
    host: Option<&str>,
    project: &Path,
    dirs: &[(&str, Option<&str>)],
) -> Vec<Finding> {
    let parsed = match Host::from_setting(host) {
        Ok(h) => h,
        Err(e) => return vec![Finding::at("host", e)],
    };
    dirs.iter()
        .filter_map(|(name, dir)| {
            let d = (*dir)?;
            let why = root_problem(&parsed, project, d)?;
            Some(Finding::at(*name, format!("{d:?} {why}")))
        })
        .collect()
}

fn root_problem(host: &Host, project: &Path, dir: &str) -> Option<String> {
    if dir.trim().is_empty() {
        return Some("must name a directory".into());
    }
    let path = Path::new(dir);
    if !host.is_local() && !path.is_absolute() {
        return Some("must be absolute on a remote host".into());
    }
    let Some(normal) = lexical(path) else {
        return Some("leaves the project: a relative directory must stay inside it (write an absolute path for one elsewhere)".into());
    };
    if normal.as_os_str().is_empty() || normal == Path::new("/") {
        return Some(if normal.as_os_str().is_empty() {
            "is the project directory itself: name a directory inside it, e.g. \"out\"".into()
        } else {
            "is the whole filesystem: name the directory the provider's files live in".into()
        });
    }
    if host.is_local() && normal.is_absolute() {
        let project = std::fs::canonicalize(project).unwrap_or_else(|_| project.to_path_buf());
        let dir = std::fs::canonicalize(&normal).unwrap_or(normal);
        if project.starts_with(&dir) {
            return Some(format!(
                "holds the project directory ({}): name a directory the provider's files alone live in",
                project.display()
            ));
        }
    }
    None
}

/// `path` with `.` and `..` resolved by name; `None` if a relative path climbs
/// above where it starts.
fn lexical(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                // At "/" a `..` stays there; in a relative path it may not climb out.
                let popped = out.file_name().is_some() && out.pop();
                if !popped && !path.is_absolute() {
                    return None;
                }
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// A directory setting as a `Root`: below the project directory on this machine
/// (a relative setting is resolved beneath it too), as written (absolute) on a
/// remote host. `check_host_dirs` has refused a relative one there.
pub fn dir_setting(host: &Host, project_root: &Path, dir: &str) -> Root {
    let dir = Path::new(dir);
    let (base, sub) = if dir.is_absolute() {
        (dir.to_path_buf(), PathBuf::new())
    } else {
        let sub = dir
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect();
        (project_root.to_path_buf(), sub)
    };
    Root {
        host: host.clone(),
        base,
        sub,
    }
}
