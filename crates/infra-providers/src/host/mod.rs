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

use std::path::Path;
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

    /// A regular file's content and mode; `None` if nothing is there.
    pub async fn read(&self, path: &Path) -> Result<Option<Entry>> {
        match self {
            Host::Local => local::read(path),
            Host::Ssh(s) => s.read(path).await,
        }
    }

    /// Replace a file atomically: a temp file in the same directory, then rename.
    /// A reader (nginx, Prometheus, a crash) sees the old content or the new.
    pub async fn write(&self, path: &Path, data: &[u8], opts: WriteOpts) -> Result<()> {
        match self {
            Host::Local => local::write(path, data, opts),
            Host::Ssh(s) => s.write(path, data, opts).await,
        }
    }

    /// Remove a file or symlink; a missing one is fine.
    pub async fn remove(&self, path: &Path) -> Result<()> {
        match self {
            Host::Local => local::remove(path),
            Host::Ssh(s) => s.remove(path).await,
        }
    }

    /// Every regular file under `dir` with its content, in one round trip; a
    /// missing directory lists as empty. Temp files of interrupted writes are skipped.
    pub async fn list(&self, dir: &Path, depth: Depth) -> Result<Vec<Entry>> {
        let mut out = match self {
            Host::Local => local::list(dir, depth)?,
            Host::Ssh(s) => s.list(dir, depth).await?,
        };
        out.retain(|e| !is_temp_name(&e.name));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Point `link` at `target`, replacing whatever link was there.
    pub async fn symlink(&self, target: &Path, link: &Path) -> Result<()> {
        match self {
            Host::Local => local::symlink(target, link),
            Host::Ssh(s) => s.symlink(target, link).await,
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

/// The file a file-based provider keeps resource `address` in:
/// `{project}--{name}.{ext}`. The project keeps two projects' files apart in
/// one directory; it is reduced to characters safe in a file name and never
/// starts with a dot (globs like nginx's `*.conf` skip dotfiles).
pub fn object_file_name(project: &str, address: &str, ext: &str) -> String {
    let name = address.split_once('.').map_or(address, |(_, n)| n);
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
    format!("{project}--{name}.{ext}")
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

/// The `host` setting, and the directory settings that must then be absolute.
pub fn check_host_dirs(host: Option<&str>, dirs: &[(&str, Option<&str>)]) -> Vec<Finding> {
    let parsed = match Host::from_setting(host) {
        Ok(h) => h,
        Err(e) => return vec![Finding::at("host", e)],
    };
    dirs.iter()
        .filter_map(|(name, dir)| {
            let d = (*dir)?;
            if d.is_empty() {
                Some(Finding::at(*name, "must name a directory"))
            } else if !parsed.is_local() && !d.starts_with('/') {
                Some(Finding::at(
                    *name,
                    format!("{d:?} must be absolute on a remote host"),
                ))
            } else {
                None
            }
        })
        .collect()
}

/// A directory setting: below the project root on this machine, as written (absolute)
/// on a remote host. `check_host_dirs` has refused a relative one there.
pub fn dir_setting(host: &Host, project_root: &Path, dir: &str) -> std::path::PathBuf {
    if host.is_local() {
        project_root.join(dir)
    } else {
        std::path::PathBuf::from(dir)
    }
}
