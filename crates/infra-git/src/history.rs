//! Reading infra's history back: the commits reachable from HEAD whose messages
//! carry `Infra-*` trailers (requests, applies, rollbacks), newest first, with the
//! trailers parsed so `infra history` can show them without re-reading git.

use git2::Sort;

use infra_core::error::Result;

use super::identity::format_utc;
use super::{git, Repo};

/// One infra commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Full commit id (hex).
    pub id: String,
    /// The first 8 hex digits of `id`.
    pub short: String,
    /// Author time, unix seconds.
    pub time: i64,
    /// Author time as "YYYY-MM-DD HH:MM" in UTC.
    pub date: String,
    /// First line of the message.
    pub summary: String,
    /// All trailers of the message in order (not only `Infra-*` ones).
    pub trailers: Vec<(String, String)>,
}

impl Repo {
    /// Commits reachable from HEAD (newest first, at most `limit`) whose message
    /// has any `Infra-` trailer. Empty on an unborn branch.
    pub fn history(&self, limit: usize) -> Result<Vec<HistoryEntry>> {
        let mut out = Vec::new();
        if limit == 0 || self.head_commit()?.is_none() {
            return Ok(out);
        }
        let mut walk = self.repo.revwalk().map_err(git("walking history"))?;
        walk.push_head().map_err(git("walking history"))?;
        // Topological first: with equal timestamps (scripted commits, fixed test
        // dates) a parent must still never be listed before its child.
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .map_err(git("walking history"))?;
        for oid in walk {
            let oid = oid.map_err(git("walking history"))?;
            let commit = self
                .repo
                .find_commit(oid)
                .map_err(git(format!("reading commit {oid}")))?;
            let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
            let trailers = trailers(&message);
            if !trailers.iter().any(|(key, _)| key.starts_with("Infra-")) {
                continue;
            }
            let id = oid.to_string();
            let time = commit.author().when().seconds();
            out.push(HistoryEntry {
                short: id[..8].to_string(),
                id,
                time,
                date: format_utc(time),
                summary: message.lines().next().unwrap_or("").trim().to_string(),
                trailers,
            });
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }
}

/// Trailers as git parses them (the last paragraph of `Key: value` lines). A message
/// libgit2 cannot take (an interior NUL) simply has none.
pub(super) fn trailers(message: &str) -> Vec<(String, String)> {
    match git2::message_trailers_strs(message) {
        Ok(found) => found
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        Err(_) => Vec::new(),
    }
}
