//! The local transport: files through `infra_core::beneath` (never a link below
//! the root), child processes on this machine.

use std::path::Path;

use super::{io_err, CmdOutput, Depth, Entry, Host, WriteOpts, OP_TIMEOUT};
use infra_core::beneath::{Beneath, MAX_FILE_BYTES};
use infra_kit::{ProviderError, Result};

fn err(path: &Path, e: std::io::Error) -> ProviderError {
    // `beneath` names the path in its messages already.
    let _ = path;
    ProviderError::rejected(e.to_string())
}

/// The root for an operation; a missing base lists/reads as empty.
fn open(base: &Path) -> std::io::Result<Beneath> {
    Beneath::open(base)
}

pub fn read(base: &Path, rel: &Path) -> Result<Option<Entry>> {
    let root = match open(base) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(base, e)),
    };
    let e = root.read(rel, MAX_FILE_BYTES).map_err(|e| err(rel, e))?;
    Ok(e.map(|e| Entry {
        name: file_name(rel),
        mode: e.mode,
        data: e.data,
    }))
}

pub fn write(base: &Path, rel: &Path, data: &[u8], opts: WriteOpts) -> Result<()> {
    if opts.create_dirs && !base.exists() {
        std::fs::create_dir_all(base).map_err(|e| io_err(&Host::Local, base, e))?;
    }
    let root = open(base).map_err(|e| err(base, e))?;
    root.write(rel, data, opts.mode, opts.create_dirs)
        .map_err(|e| err(rel, e))
}

pub fn remove(base: &Path, rel: &Path) -> Result<()> {
    let root = match open(base) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(err(base, e)),
    };
    root.remove(rel).map_err(|e| err(rel, e))
}

pub fn list(base: &Path, dir: &Path, depth: Depth) -> Result<Vec<Entry>> {
    let root = match open(base) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(err(base, e)),
    };
    let entries = root
        .list(dir, depth == Depth::Recursive, MAX_FILE_BYTES)
        .map_err(|e| err(dir, e))?;
    Ok(entries
        .into_iter()
        .map(|e| Entry {
            name: e.name,
            mode: e.mode,
            data: e.data,
        })
        .collect())
}

pub fn symlink(base: &Path, target: &Path, rel: &Path) -> Result<()> {
    let root = open(base).map_err(|e| err(base, e))?;
    root.symlink(target, rel).map_err(|e| err(rel, e))
}

/// Names (relative to `dir`) of `.NAME.tmp.PID` files whose NAME `mine` accepts.
/// Only names are read, never contents.
pub fn stale_temps(base: &Path, dir: &Path, mine: &dyn Fn(&str) -> bool) -> Result<Vec<String>> {
    match open(base) {
        Ok(root) => root.stale_temps(dir, mine).map_err(|e| err(dir, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(err(base, e)),
    }
}

pub async fn run(argv: &[String]) -> Result<CmdOutput> {
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = match tokio::time::timeout(OP_TIMEOUT, cmd.output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            return Err(ProviderError::rejected(format!(
                "cannot run `{}`: {e}",
                argv[0]
            )))
        }
        Err(_) => {
            return Err(ProviderError::Transient {
                message: format!("`{}` did not finish within {OP_TIMEOUT:?}", argv.join(" ")),
                retry_after: None,
            })
        }
    };
    Ok(CmdOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}
