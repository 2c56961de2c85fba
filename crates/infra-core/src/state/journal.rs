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
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
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
        self.file.sync_data()
    }

    /// Append one entry durably: the operation is recorded before the next one starts.
    pub fn append(&mut self, entry: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).expect("journal entries serialise");
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }
}

/// Replay a journal onto a state; returns how many entries were applied.
pub fn replay(path: &Path, state: &mut State) -> std::io::Result<usize> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut n = 0;
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        // A torn last line (crash mid-write) does not parse and is skipped.
        if let Ok(entry) = serde_json::from_str::<Entry>(&line) {
            entry.apply_to(state);
            n += 1;
        }
    }
    Ok(n)
}
