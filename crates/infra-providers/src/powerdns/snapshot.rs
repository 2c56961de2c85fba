//! The comments of every rrset of a zone as the last refresh read them, so the
//! write that follows in the same run (an apply) need not read a 10,000-rrset
//! zone again only to check ownership: that second read took longer than the
//! PATCH itself. A snapshot serves one write at most and only while it is a few
//! seconds old, so an apply that waited for confirmation, a retried batch and a
//! second batch on the same zone all read the zone afresh, as before.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::convert::{Comment, RRSet};

/// How long a refresh's read of a zone stands in for the read before a write.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// Each rrset's comments (all that the ownership check reads), by (name, type).
pub(super) type Comments = HashMap<(String, String), Vec<Comment>>;

#[derive(Default)]
pub(super) struct Snapshots {
    zones: Mutex<HashMap<String, (Instant, Comments)>>,
}

impl Snapshots {
    /// Keep what a refresh read of `zone` (every rrset, SOA included).
    pub fn store(&self, zone: &str, read_at: Instant, comments: Comments) {
        self.lock().insert(zone.to_string(), (read_at, comments));
    }

    /// The zone's snapshot if it is fresh; it is used up either way.
    pub fn take(&self, zone: &str) -> Option<Comments> {
        let (read_at, comments) = self.lock().remove(zone)?;
        (read_at.elapsed() <= FRESH_FOR).then_some(comments)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Comments)>> {
        self.zones.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The rrsets of `names` as the snapshot has them: name, type and comments only,
/// which is what the ownership check and the kept foreign comments need.
pub(super) fn rrsets_of(
    comments: Comments,
    names: &std::collections::HashSet<String>,
) -> Vec<RRSet> {
    comments
        .into_iter()
        .filter(|((name, _), _)| names.contains(name))
        .map(|((name, rtype), comments)| RRSet {
            name,
            rtype,
            ttl: None,
            changetype: None,
            records: Vec::new(),
            comments,
        })
        .collect()
}
