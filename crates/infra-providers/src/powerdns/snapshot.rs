//! Every rrset of a zone as the last refresh read it, so the write that follows
//! in the same run (an apply) need not read a 10,000-rrset zone again: that
//! second read took longer than the PATCH itself. A snapshot serves one write at
//! most and only while it is a few seconds old, so an apply that waited for
//! confirmation, a retried batch and a second batch on the same zone all read
//! the zone afresh, as before.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::convert::RRSet;

/// How long a refresh's read of a zone stands in for the read before a write.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// A zone's rrsets (records, TTL and comments: what a rewrite keeps).
pub(super) type Zone = Vec<RRSet>;

#[derive(Default)]
pub(super) struct Snapshots {
    zones: Mutex<HashMap<String, (Instant, Zone)>>,
}

impl Snapshots {
    /// Keep what a refresh read of `zone` (every rrset, SOA included).
    pub fn store(&self, zone: &str, read_at: Instant, rrsets: Zone) {
        self.lock().insert(zone.to_string(), (read_at, rrsets));
    }

    /// The zone's snapshot if it is fresh; it is used up either way.
    pub fn take(&self, zone: &str) -> Option<Zone> {
        let (read_at, rrsets) = self.lock().remove(zone)?;
        (read_at.elapsed() <= FRESH_FOR).then_some(rrsets)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Zone)>> {
        self.zones.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The rrsets of `names` in the snapshot.
pub(super) fn rrsets_of(zone: Zone, names: &HashSet<String>) -> Vec<RRSet> {
    zone.into_iter()
        .filter(|r| names.contains(&r.name))
        .collect()
}
