//! Files beneath a root directory, never through a symbolic link.
//!
//! A lexical check (`..` refused) is not containment: `out/link -> /` turns
//! `link/etc/passwd` into a write anywhere. Every path here is resolved from an
//! open descriptor of the root with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`,
//! so no component may be a symlink and nothing resolves outside the root; on a
//! kernel without openat2 (before 5.6, or a seccomp filter that hides it) the same
//! rule is walked one component at a time with `O_NOFOLLOW`. The final component is
//! opened with `O_NOFOLLOW | O_NONBLOCK` and must be a regular file, so a FIFO or a
//! device never hangs or floods a read. Reads are bounded.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Longest file infra reads from a root (a spec template, a managed file).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A regular file read beneath a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Path relative to the listed directory.
    pub name: String,
    /// Permission bits (with setuid/setgid/sticky), e.g. 0o644.
    pub mode: u32,
    pub data: Vec<u8>,
}

/// A directory all later paths are resolved beneath.
pub struct Beneath {
    dir: OwnedFd,
    path: PathBuf,
}

impl std::fmt::Debug for Beneath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Beneath({})", self.path.display())
    }
}

impl Beneath {
    /// Open `root` itself (symlinks in the root's own path are the user's choice;
    /// only what lies below it is held to the rule). `NotFound` if it is missing.
    pub fn open(root: &Path) -> io::Result<Beneath> {
        let dir = rustix::fs::open(
            root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| named(root, e.into()))?;
        Ok(Beneath {
            dir,
            path: root.to_path_buf(),
        })
    }

    /// The root as given, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A directory below the root, as a new root (`create`: make missing ones).
    pub fn subdir(&self, rel: &Path, create: bool) -> io::Result<Beneath> {
        let dir = self.open_dir(rel, create)?;
        Ok(Beneath {
            dir,
            path: self.path.join(rel),
        })
    }

    /// A regular file's content and mode; `None` if nothing is there (or a
    /// directory on the way is missing). A symlink, FIFO, device or directory is
    /// an error naming the path.
    pub fn read(&self, rel: &Path, limit: u64) -> io::Result<Option<FileEntry>> {
        let (parent, name) = split(rel)?;
        let dir = match self.open_dir(parent, false) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match read_at(dir.as_fd(), name, limit) {
            Ok(Some(mut e)) => {
                e.name = rel.to_string_lossy().into_owned();
                Ok(Some(e))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(named(&self.path.join(rel), e)),
        }
    }

    /// Replace a file atomically: `.NAME.tmp.PID` beside it, then rename. The temp
    /// file is removed on any failure.
    pub fn write(&self, rel: &Path, data: &[u8], mode: u32, create_dirs: bool) -> io::Result<()> {
        let (parent, name) = split(rel)?;
        let dir = self.open_dir(parent, create_dirs)?;
        let tmp = temp_name(name);
        // Whatever is at the temp name (a leftover, or something planted there: a
        // FIFO would block the open, a hard link would be written through) goes first;
        // the new one is created exclusively, never opened.
        let _ = rustix::fs::unlinkat(&dir, tmp.as_str(), AtFlags::empty());
        let result = (|| -> io::Result<()> {
            let fd = rustix::fs::openat(
                &dir,
                tmp.as_str(),
                OFlags::WRONLY
                    | OFlags::CREATE
                    | OFlags::EXCL
                    | OFlags::NOFOLLOW
                    | OFlags::NONBLOCK
                    | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode & 0o777),
            )?;
            let mut f = File::from(fd);
            f.write_all(data)?;
            // The umask may have cleared bits the caller asked for.
            rustix::fs::fchmod(&f, Mode::from_raw_mode(mode & 0o7777))?;
            f.sync_all()?;
            crate::util::kill_point("write:before-rename");
            rustix::fs::renameat(&dir, tmp.as_str(), &dir, name)?;
            let _ = rustix::fs::fsync(&dir);
            Ok(())
        })();
        if let Err(e) = result {
            let _ = rustix::fs::unlinkat(&dir, tmp.as_str(), AtFlags::empty());
            return Err(named(&self.path.join(rel), e));
        }
        Ok(())
    }

    /// Remove a file (or a symlink itself, never its target); a missing one is fine.
    pub fn remove(&self, rel: &Path) -> io::Result<()> {
        let (parent, name) = split(rel)?;
        let dir = match self.open_dir(parent, false) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        match rustix::fs::unlinkat(&dir, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(named(&self.path.join(rel), e.into())),
        }
    }

    /// Point the symlink `rel` at `target` (replacing a link there). The target is
    /// stored, not followed.
    pub fn symlink(&self, target: &Path, rel: &Path) -> io::Result<()> {
        let (parent, name) = split(rel)?;
        let dir = self.open_dir(parent, false)?;
        let tmp = temp_name(name);
        let _ = rustix::fs::unlinkat(&dir, tmp.as_str(), AtFlags::empty());
        let result = rustix::fs::symlinkat(target, &dir, tmp.as_str())
            .and_then(|()| rustix::fs::renameat(&dir, tmp.as_str(), &dir, name));
        if let Err(e) = result {
            let _ = rustix::fs::unlinkat(&dir, tmp.as_str(), AtFlags::empty());
            return Err(named(&self.path.join(rel), e.into()));
        }
        Ok(())
    }

    /// Every regular file under `rel` (the root itself if empty), names relative to
    /// it. Symlinks, FIFOs and devices are skipped, never followed; a missing
    /// directory lists as empty. `recursive`: descend into subdirectories.
    pub fn list(&self, rel: &Path, recursive: bool, limit: u64) -> io::Result<Vec<FileEntry>> {
        let mut out = Vec::new();
        self.walk(rel, recursive, &mut |dir, name, rel_name, kind| {
            if kind != FileType::RegularFile {
                return Ok(());
            }
            match read_at(dir, name, limit) {
                Ok(Some(mut e)) => {
                    e.name = rel_name.to_string();
                    out.push(e);
                    Ok(())
                }
                // Removed (or replaced by something else) since the listing.
                Ok(None) => Ok(()),
                // Not a file infra could have written (replaced meanwhile, or larger
                // than any): not an object of this root, so not a reason to fail.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::InvalidData | io::ErrorKind::FileTooLarge
                    ) =>
                {
                    Ok(())
                }
                Err(e) => Err(named(&self.path.join(rel).join(rel_name), e)),
            }
        })?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The names of every entry under `rel`, of any type, recursively (nothing is
    /// opened but directories, never through a link).
    pub fn list_names(&self, rel: &Path) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        self.walk(rel, true, &mut |_, _, rel_name, _| {
            out.push(rel_name.to_string());
            Ok(())
        })?;
        out.sort();
        Ok(out)
    }

    /// Temp files (`.NAME.tmp.PID`) under `rel` whose NAME `mine` accepts. Only a
    /// caller holding the project lock asks: no write of this project is running,
    /// so each is left by one that was killed before its rename. (The PID is not
    /// consulted: after a crash it may well name some other, living process.)
    pub fn stale_temps(&self, rel: &Path, mine: &dyn Fn(&str) -> bool) -> io::Result<Vec<String>> {
        Ok(self
            .list_names(rel)?
            .into_iter()
            .filter(|rel| {
                let base = rel.rsplit('/').next().unwrap_or(rel);
                parse_temp_name(base).is_some_and(|(name, _)| mine(name))
            })
            .collect())
    }

    /// Remove the stale temp files `stale_temps` finds; returns their names.
    pub fn remove_stale_temps(
        &self,
        rel: &Path,
        mine: &dyn Fn(&str) -> bool,
    ) -> io::Result<Vec<String>> {
        let stale = self.stale_temps(rel, mine)?;
        for name in &stale {
            self.remove(&rel.join(name))?;
        }
        Ok(stale)
    }

    /// Visit every entry under `rel` with its directory, name, path relative to
    /// `rel` and type (not following links).
    fn walk(
        &self,
        rel: &Path,
        recursive: bool,
        visit: &mut dyn FnMut(BorrowedFd<'_>, &str, &str, FileType) -> io::Result<()>,
    ) -> io::Result<()> {
        // Directories still to read, by path: one open at a time, however wide
        // the tree (each is opened again beneath the root, never through a link).
        let mut stack: Vec<String> = vec![String::new()];
        while let Some(prefix) = stack.pop() {
            let fd = match self.open_dir(&rel.join(&prefix), false) {
                Ok(d) => d,
                Err(e) if e.kind() == io::ErrorKind::NotFound && prefix.is_empty() => return Ok(()),
                // Removed (or replaced by a link) since it was listed.
                Err(_) if !prefix.is_empty() => continue,
                Err(e) => return Err(e),
            };
            let shown = |n: &str| self.path.join(rel).join(&prefix).join(n);
            let mut entries =
                rustix::fs::Dir::read_from(&fd).map_err(|e| named(&shown(""), e.into()))?;
            while let Some(entry) = entries.read() {
                let entry = entry.map_err(|e| named(&shown(""), e.into()))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name == "." || name == ".." {
                    continue;
                }
                let stat =
                    match rustix::fs::statat(&fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(s) => s,
                        Err(Errno::NOENT) => continue,
                        Err(e) => return Err(named(&shown(&name), e.into())),
                    };
                let rel_name = format!("{prefix}{name}");
                let kind = FileType::from_raw_mode(stat.st_mode);
                visit(fd.as_fd(), &name, &rel_name, kind)?;
                if kind == FileType::Directory && recursive {
                    stack.push(format!("{rel_name}/"));
                }
            }
        }
        Ok(())
    }

    /// Open a directory below the root, every component checked; `create` makes
    /// missing ones (0755).
    fn open_dir(&self, rel: &Path, create: bool) -> io::Result<OwnedFd> {
        let parts = components(rel)?;
        if parts.is_empty() {
            return rustix::fs::openat(
                &self.dir,
                ".",
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| named(&self.path, e.into()));
        }
        if !create {
            if let Some(r) = openat2_dir(self.dir.as_fd(), rel) {
                return r.map_err(|e| named(&self.path.join(rel), e));
            }
        }
        // One component at a time: creating, or a kernel without openat2.
        let mut fd = rustix::fs::openat(
            &self.dir,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut so_far = self.path.clone();
        for part in parts {
            so_far.push(part);
            if create {
                match rustix::fs::mkdirat(&fd, part, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(named(&so_far, e.into())),
                }
            }
            fd = rustix::fs::openat(
                &fd,
                part,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| named(&so_far, symlink_error(e)))?;
        }
        Ok(fd)
    }
}

/// `None` when the kernel has no openat2 (the caller walks instead).
fn openat2_dir(root: BorrowedFd<'_>, rel: &Path) -> Option<io::Result<OwnedFd>> {
    match rustix::fs::openat2(
        root,
        rel,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    ) {
        Err(Errno::NOSYS) | Err(Errno::PERM) => None,
        Err(e) => Some(Err(symlink_error(e))),
        Ok(fd) => Some(Ok(fd)),
    }
}

/// ELOOP (and openat2's EXDEV) mean a link was in the way: say so.
fn symlink_error(e: Errno) -> io::Error {
    match e {
        Errno::LOOP | Errno::XDEV | Errno::NOTDIR => io::Error::new(
            io::ErrorKind::InvalidInput,
            "a component is a symbolic link or not a directory; infra does not follow links below its root",
        ),
        e => e.into(),
    }
}

/// Read one regular file in `dir`, never through a link, never blocking.
fn read_at(dir: BorrowedFd<'_>, name: &str, limit: u64) -> io::Result<Option<FileEntry>> {
    let fd = match rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(Errno::LOOP) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "is a symbolic link; infra does not follow links below its root",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let stat = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "exists and is not a regular file",
        ));
    }
    let data = read_bounded(File::from(fd), limit)?;
    Ok(Some(FileEntry {
        name: name.to_string(),
        mode: (stat.st_mode & 0o7777) as u32,
        data,
    }))
}

/// Read at most `limit` bytes; more is an error, not a truncation.
pub fn read_bounded(f: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    f.take(limit.saturating_add(1)).read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!(
                "is larger than {} MiB, the most infra reads",
                limit / (1024 * 1024)
            ),
        ));
    }
    Ok(data)
}

/// Open a file the project keeps (state, journal, lock) as a regular file only:
/// not through a symlink, not a FIFO or device (which would hang or never end).
pub fn open_regular(path: &Path, opts: &std::fs::OpenOptions) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = opts.clone();
    opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    let f = opts.open(path).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "is a symbolic link; infra opens its own files only as regular files",
            )
        } else {
            e
        }
    })?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "is not a regular file (a FIFO, device or directory); infra opens its own files only as regular files",
        ));
    }
    Ok(f)
}

/// Read a project file (regular, bounded); `None` if it does not exist.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
    match open_regular(path, std::fs::OpenOptions::new().read(true)) {
        Ok(f) => read_bounded(f, limit).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The temp file a write goes through: `.NAME.tmp.PID`.
pub fn temp_name(name: &str) -> String {
    format!(".{name}.tmp.{}", std::process::id())
}

/// `.NAME.tmp.PID` → (NAME, PID).
pub fn parse_temp_name(base: &str) -> Option<(&str, u32)> {
    let rest = base.strip_prefix('.')?;
    let (name, pid) = rest.rsplit_once(".tmp.")?;
    Some((name, pid.parse().ok()?))
}

fn split(rel: &Path) -> io::Result<(&Path, &str)> {
    let parts = components(rel)?;
    let Some(name) = parts.last() else {
        return Err(invalid(rel, "names no file"));
    };
    Ok((rel.parent().unwrap_or(Path::new("")), name))
}

/// The normal components of a relative path; anything else is refused.
fn components(rel: &Path) -> io::Result<Vec<&str>> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => {
                out.push(s.to_str().ok_or_else(|| invalid(rel, "is not UTF-8"))?)
            }
            Component::CurDir => {}
            _ => return Err(invalid(rel, "must stay beneath the root")),
        }
    }
    Ok(out)
}

fn invalid(rel: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{}: {why}", rel.display()),
    )
}

/// Prefix the error with the path it is about (kind kept).
fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests;
