//! The project lock: `.infra/lock`, created exclusively for the length of an apply.
//! It records who holds it; a lock whose process is gone is reported as stale and
//! only `infra force-unlock` removes it (a person decides, as with Terraform).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use infra_core::error::{Error, Result};

pub const LOCK_FILE: &str = ".infra/lock";

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
    path: PathBuf,
    pub info: LockInfo,
}

impl Lock {
    pub fn acquire(root: &Path, operation: &str) -> Result<Lock> {
        let path = root.join(LOCK_FILE);
        fs_err::create_dir_all(path.parent().expect("lock file has a parent"))?;
        let info = LockInfo {
            id: infra_core::util::sha256_hex(
                format!("{}-{:?}", std::process::id(), std::time::SystemTime::now()).as_bytes(),
            )[..12]
                .to_string(),
            pid: std::process::id(),
            host: hostname(),
            operation: operation.to_string(),
            created: now_utc(),
        };
        // Write the lock's content to a temp file, then link it into place: the lock
        // appears whole or not at all, so a kill can never leave an empty lock behind.
        let tmp = path.with_file_name(format!(".lock.{}.tmp", std::process::id()));
        fs_err::write(
            &tmp,
            serde_json::to_string_pretty(&info).expect("lock info serialises"),
        )?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(Lock { path, info }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(held_error(&path)),
            Err(e) => Err(Error::new(format!("cannot create {}: {e}", path.display()))),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Read the current lock, if any.
pub fn read(root: &Path) -> Result<Option<LockInfo>> {
    let path = root.join(LOCK_FILE);
    match fs_err::read_to_string(&path) {
        Ok(text) => Ok(Some(serde_json::from_str(&text).unwrap_or(LockInfo {
            id: "unknown".into(),
            pid: 0,
            host: "unknown".into(),
            operation: "unknown".into(),
            created: "unknown".into(),
        }))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Is the holder of this lock gone? Only decidable on this host.
pub fn is_stale(info: &LockInfo) -> bool {
    // pid 0: an unreadable lock file (older infra, or damaged): nobody holds it.
    info.pid == 0 || (info.host == hostname() && !infra_core::util::pid_alive(info.pid))
}

fn held_error(path: &Path) -> Error {
    let root = path
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    match read(root) {
        Ok(Some(info)) if is_stale(&info) => Error::new(format!(
            "the project is locked by a stale lock: {} (pid {}, {}) started {} and is no longer running",
            info.operation, info.pid, info.host, info.created
        ))
        .hint(format!("if no other infra is running, remove it with `infra force-unlock {}`", info.id)),
        Ok(Some(info)) => Error::new(format!(
            "the project is locked: {} (pid {} on {}) has held the lock since {}",
            info.operation, info.pid, info.host, info.created
        ))
        .hint("wait for it to finish"),
        _ => Error::new(format!("the project is locked ({} exists)", path.display())).hint("run `infra force-unlock` if no other infra is running"),
    }
}

fn hostname() -> String {
    fs_err::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Current UTC time as `YYYY-MM-DDTHH:MM:SSZ` (no time-zone database needed).
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_fails_and_drop_releases() {
        let dir = tempfile::tempdir().unwrap();
        let lock = Lock::acquire(dir.path(), "apply").unwrap();
        let err = Lock::acquire(dir.path(), "apply").unwrap_err();
        assert!(err.message.contains("is locked"), "{}", err.message);
        drop(lock);
        Lock::acquire(dir.path(), "apply").unwrap();
    }

    #[test]
    fn dead_holder_is_named_stale() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join(".infra")).unwrap();
        let info = LockInfo {
            id: "abc".into(),
            pid: 999_999_999,
            host: hostname(),
            operation: "apply".into(),
            created: now_utc(),
        };
        fs_err::write(
            dir.path().join(LOCK_FILE),
            serde_json::to_string(&info).unwrap(),
        )
        .unwrap();
        let err = Lock::acquire(dir.path(), "apply").unwrap_err();
        assert!(err.message.contains("stale lock"), "{}", err.message);
        assert!(err.hint.unwrap().contains("infra force-unlock abc"));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }
}
