//! The local transport: std::fs and child processes on this machine.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{io_err, CmdOutput, Depth, Entry, Host, WriteOpts, OP_TIMEOUT};
use infra_kit::{ProviderError, Result};

fn err(path: &Path, e: std::io::Error) -> ProviderError {
    io_err(&Host::Local, path, e)
}

pub fn read(path: &Path) -> Result<Option<Entry>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(path, e)),
    };
    if !meta.is_file() {
        return Err(ProviderError::rejected(format!(
            "{} exists and is not a regular file",
            path.display()
        )));
    }
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(path, e)),
    };
    Ok(Some(Entry {
        name: file_name(path),
        mode: meta.permissions().mode() & 0o7777,
        data,
    }))
}

pub fn write(path: &Path, data: &[u8], opts: WriteOpts) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if opts.create_dirs {
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    }
    let tmp = dir.join(format!(".{}.tmp.{}", file_name(path), std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(opts.mode)
            .open(&tmp)?;
        f.write_all(data)?;
        // The umask may have cleared bits the caller asked for.
        f.set_permissions(std::fs::Permissions::from_mode(opts.mode))?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(path, e));
    }
    Ok(())
}

pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(err(path, e)),
    }
}

pub fn list(dir: &Path, depth: Depth) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && d == dir => return Ok(out),
            Err(e) => return Err(err(&d, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| err(&d, e))?;
            let path = entry.path();
            let ft = entry.file_type().map_err(|e| err(&path, e))?;
            if ft.is_dir() && depth == Depth::Recursive {
                stack.push(path);
            } else if ft.is_file() {
                let rel = path
                    .strip_prefix(dir)
                    .expect("walk stays under dir")
                    .to_string_lossy()
                    .to_string();
                // A file removed between readdir and read is simply not there.
                if let Some(mut e) = read(&path)? {
                    e.name = rel;
                    out.push(e);
                }
            }
        }
    }
    Ok(out)
}

pub fn symlink(target: &Path, link: &Path) -> Result<()> {
    let dir = link.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp.{}", file_name(link), std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).map_err(|e| err(&tmp, e))?;
    std::fs::rename(&tmp, link).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(link, e)
    })
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
