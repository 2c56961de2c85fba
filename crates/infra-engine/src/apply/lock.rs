//! The project lock: `.infra/lock`, held with an OS file lock (flock) for the
//! length of an apply. The lock dies with its process, so a crash never blocks the
//! next apply (as with Terraform's local backend). The file itself stays; while
//! held it says who holds it, for the message another infra prints.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use infra_core::error::{Error, Result};

pub const LOCK_FILE: &str = ".infra/lock";

/// What the holder writes into the lock file; at most this much is read back.
const MAX_INFO: u64 = 4096;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockInfo {
    pub id: String,
    pub pid: u32,
    pub host: String,
    pub operation: String,
    pub created: String,
}

#[derive(Debug)]
pub struct Lock {
    file: File,
    pub info: LockInfo,
    /// The details a holder that died left behind, if any (taken over).
    pub previous: Option<LockInfo>,
}

impl Lock {
    pub fn acquire(root: &Path, operation: &str) -> Result<Lock> {
        let path = root.join(LOCK_FILE);
        fs_err::create_dir_all(path.parent().expect("lock file has a parent"))?;
        let mut file = open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(held_error(&mut file, &path)),
            Err(TryLockError::Error(e)) => {
                return Err(Error::new(format!("cannot lock {}: {e}", path.display())))
            }
        }
        let previous = read_info(&mut file);
        // Holding the lock, no other infra writes here: every temp file of a state
        // write is one a kill interrupted.
        if let Ok(dir) =
            infra_core::beneath::Beneath::open(path.parent().expect("lock file has a parent"))
        {
            let _ = dir.remove_stale_temps(Path::new(""), &|_| true);
        }
        let info = LockInfo {
            id: new_id(),
            pid: std::process::id(),
            host: hostname(),
            operation: operation.to_string(),
            created: now_utc(),
        };
        let text = serde_json::to_string_pretty(&info).expect("lock info serialises");
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(text.as_bytes()));
        written.map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
        Ok(Lock {
            file,
            info,
            previous,
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Emptied first, so the file never names a holder that let go; the OS lock
        // goes when the file is closed (or the process dies).
        let _ = self.file.set_len(0);
    }
}

/// Open the lock file: a regular file, never through a symlink, never a FIFO.
fn open(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    let not_regular = || {
        Error::new(format!("{} is not a regular file", path.display()))
            .hint("remove it: infra keeps its lock there")
    };
    let file = match file {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(not_regular()),
        Err(e) => return Err(Error::new(format!("cannot open {}: {e}", path.display()))),
    };
    if !file
        .metadata()
        .map(|m| m.file_type().is_file())
        .unwrap_or(false)
    {
        return Err(not_regular());
    }
    Ok(file)
}

/// The details in a lock file (bounded read); `None` when empty or unreadable.
fn read_info(file: &mut File) -> Option<LockInfo> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(MAX_INFO).read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// Who holds the project lock right now, if anyone (an OS lock is held).
pub fn holder(root: &Path) -> Result<Option<LockInfo>> {
    let path = root.join(LOCK_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let mut file = open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(None),
        Err(TryLockError::WouldBlock) => Ok(Some(read_info(&mut file).unwrap_or(LockInfo {
            id: "unknown".into(),
            pid: 0,
            host: "unknown".into(),
            operation: "an infra command".into(),
            created: "unknown".into(),
        }))),
        Err(TryLockError::Error(e)) => {
            Err(Error::new(format!("cannot lock {}: {e}", path.display())))
        }
    }
}

/// The details a lock file holds, whether or not anyone holds the lock.
pub fn read(root: &Path) -> Result<Option<LockInfo>> {
    let path = root.join(LOCK_FILE);
    if !path.exists() {
        return Ok(None);
    }
    Ok(read_info(&mut open(&path)?))
}

fn held_error(file: &mut File, path: &Path) -> Error {
    match read_info(file) {
        Some(info) => Error::new(format!(
            "the project is locked: {} (pid {} on {}) has held the lock since {}",
            info.operation, info.pid, info.host, info.created
        ))
        .hint("wait for it to finish"),
        None => Error::new(format!(
            "the project is locked ({} is held)",
            path.display()
        ))
        .hint("another infra command is running here; wait for it to finish"),
    }
}

/// A short id for a new lock (this process, this instant), named in lock
/// messages and asked for by force-unlock.
pub fn new_id() -> String {
    infra_core::util::sha256_hex(
        format!("{}-{:?}", std::process::id(), std::time::SystemTime::now()).as_bytes(),
    )[..12]
        .to_string()
}

/// This machine's name, for a lock's holder.
pub fn hostname() -> String {
    fs_err::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_utc() -> String {
    infra_core::time::format_utc(infra_core::util::unix_now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_fails_and_drop_releases() {
        let dir = tempfile::tempdir().unwrap();
        let lock = Lock::acquire(dir.path(), "infra apply").unwrap();
        let err = Lock::acquire(dir.path(), "infra apply").unwrap_err();
        assert!(
            err.message
                .contains("the project is locked: infra apply (pid"),
            "{}",
            err.message
        );
        assert!(holder(dir.path()).unwrap().is_some());
        drop(lock);
        assert!(holder(dir.path()).unwrap().is_none());
        Lock::acquire(dir.path(), "infra apply").unwrap();
    }

    #[test]
    fn a_lock_left_by_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join(".infra")).unwrap();
        // What a killed apply leaves: the holder's details, no OS lock.
        let info = LockInfo {
            id: "abc".into(),
            pid: 999_999_999,
            host: hostname(),
            operation: "infra apply".into(),
            created: now_utc(),
        };
        fs_err::write(
            dir.path().join(LOCK_FILE),
            serde_json::to_string(&info).unwrap(),
        )
        .unwrap();
        let lock = Lock::acquire(dir.path(), "infra apply").unwrap();
        assert_eq!(lock.info.pid, std::process::id());
        assert_eq!(lock.previous.as_ref().map(|p| p.pid), Some(999_999_999));
    }

    #[test]
    fn a_symlink_or_fifo_is_never_opened_as_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join(".infra")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join(LOCK_FILE)).unwrap();
        let err = Lock::acquire(dir.path(), "infra apply").unwrap_err();
        assert!(
            err.message.contains("not a regular file"),
            "{}",
            err.message
        );
    }
}
