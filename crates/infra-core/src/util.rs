//! Small helpers shared across layers (no I/O beyond atomic file writes).

use std::io::Write;
use std::path::Path;

/// Levenshtein distance, for "did you mean" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Write a file atomically: temp file in the same directory, fsync, rename, fsync the directory.
/// A reader (or a crash) sees either the old content or the new, never a mix.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut f = fs_err::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs_err::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Hex-encoded SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Is a process with this pid alive on this host?
pub fn pid_alive(pid: u32) -> bool {
    // kill(pid, 0) checks existence without sending anything; EPERM still means "exists".
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Environment variable naming a kill point for crash tests: `NAME` or `NAME:N`
/// (the Nth time the point is passed). Unset in normal use; reading it is cheap.
pub const KILL_AT_ENV: &str = "INFRA_KILL_AT";

/// A place where a crash would leave work half done (between a temp write and its
/// rename, inside the git commit, ...). The crash tests set `INFRA_KILL_AT` to
/// kill the process right here with SIGKILL, as a power cut or an OOM kill would,
/// so every such instant is tested, not only the ones a timer happens to hit.
pub fn kill_point(name: &str) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static AT: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static PASSED: AtomicU64 = AtomicU64::new(0);
    let at = AT.get_or_init(|| {
        let v = std::env::var(KILL_AT_ENV).ok()?;
        Some(match v.rsplit_once(':') {
            Some((n, k)) => (n.to_string(), k.parse().unwrap_or(1)),
            None => (v, 1),
        })
    });
    let Some((point, nth)) = at else { return };
    if point == name && PASSED.fetch_add(1, Ordering::SeqCst) + 1 == *nth {
        // SAFETY: raise(2) sends a signal to this process; SIGKILL never returns.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
