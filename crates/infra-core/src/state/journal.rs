//! Append-only journal of finished operations during an apply.
//!
//! One JSON object per line, written with a single `write` and fsynced. A line cut
//! short by a crash is ignored on replay (the operation it described is then found
//! again by the provider's ownership marker on the next refresh).

use std::io::{BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ResourceState, State};

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Entry {
    /// The object at `address` now exists as recorded.
    Put {
        address: String,
        resource: ResourceState,
    },
    /// The object at `address` is gone.
    Remove { address: String },
}

impl Entry {
    pub fn address(&self) -> &str {
        match self {
            Entry::Put { address, .. } | Entry::Remove { address } => address,
        }
    }

    pub fn apply_to(self, state: &mut State) {
        match self {
            Entry::Put { address, resource } => {
                state.resources.insert(address, resource);
            }
            Entry::Remove { address } => {
                state.resources.remove(&address);
            }
        }
    }
}

pub struct Journal {
    file: std::fs::File,
}

impl Journal {
    /// Open for appending: a regular file only (never a link, FIFO or device).
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        let file = crate::beneath::open_regular(
            path,
            std::fs::OpenOptions::new().create(true).append(true),
        )?;
        Ok(Journal { file })
    }

    /// Append several entries with one write and one sync (a provider batch).
    pub fn append_all(&mut self, entries: &[Entry]) -> std::io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        for e in entries {
            buf.extend(serde_json::to_vec(e).expect("journal entries serialise"));
            buf.push(b'\n');
        }
        self.file.write_all(&buf)?;
        self.file.sync_data()?;
        crate::util::kill_point("journal:after-append");
        Ok(())
    }

    /// Append one entry durably: the operation is recorded before the next one starts.
    pub fn append(&mut self, entry: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).expect("journal entries serialise");
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()?;
        crate::util::kill_point("journal:after-append");
        Ok(())
    }
}

/// Longest journal infra replays, and longest line in it: an entry is one
/// resource's record, and a journal lives only for one apply.
pub const MAX_JOURNAL_BYTES: u64 = 256 * 1024 * 1024;
pub const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;

/// Replay a journal onto a state; returns how many entries were applied. The
/// file must be a regular file; its size and line length are bounded.
pub fn replay(path: &Path, state: &mut State) -> std::io::Result<usize> {
    use std::io::{Error, ErrorKind, Read};
    let file = match crate::beneath::open_regular(path, std::fs::OpenOptions::new().read(true)) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    if file.metadata()?.len() > MAX_JOURNAL_BYTES {
        return Err(Error::new(
            ErrorKind::FileTooLarge,
            format!(
                "is larger than {} MiB, more than any apply writes",
                MAX_JOURNAL_BYTES >> 20
            ),
        ));
    }
    let mut reader = std::io::BufReader::new(file.take(MAX_JOURNAL_BYTES));
    let (mut n, mut number) = (0, 0);
    let mut line = Vec::new();
    loop {
        line.clear();
        number += 1;
        let read = (&mut reader)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(n);
        }
        let last = !line.ends_with(b"\n");
        if line.len() as u64 > MAX_LINE_BYTES {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!(
                    "line {number} is longer than {} MiB; this is not a journal infra wrote",
                    MAX_LINE_BYTES >> 20
                ),
            ));
        }
        let text = match std::str::from_utf8(&line) {
            Ok(t) => t,
            // A line cut inside a character by a crash is the torn last line.
            Err(_) if last => return Ok(n),
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::InvalidData,
                    format!(
                    "line {number} is not valid UTF-8 (byte {}); this is not a journal infra wrote",
                    e.valid_up_to() + 1
                ),
                ))
            }
        };
        // A torn last line (crash mid-write) does not parse and is skipped.
        if let Ok(entry) = serde_json::from_str::<Entry>(text.trim_end()) {
            entry.apply_to(state);
            n += 1;
        }
    }
}
