//! Changes to rrsets, one PATCH per zone. Every write (batched or single) goes
//! through `run`: check each change (audit), read the rrsets it touches (one GET
//! per zone, or a GET per name when only a few names change; or the snapshot of
//! a refresh a moment ago, see `snapshot`), refuse rrsets this
//! project does not own, then send all of a zone's REPLACE/DELETE changes in one
//! PATCH (split only when the body would pass ~1 MiB). PowerDNS applies a PATCH
//! all or nothing, so a failed PATCH fails every change in it with the API's own
//! message; other zones are unaffected.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::convert::{self, Key, RRSet};
use super::PowerDns;
use infra_kit::{BatchOp, BatchResult, Desired, Observed, ProviderError, Result};

/// Up to this many distinct names in a zone are read with one filtered GET
/// each; more and the whole zone is read once.
const FILTERED_MAX: usize = 4;

/// Keep each PATCH body near 1 MiB, well under PowerDNS's default 2 MB limit.
const MAX_PATCH_BYTES: usize = 1 << 20;

enum Change {
    Put { d: Desired, create: bool },
    Delete { address: String },
}

struct Item {
    index: usize,
    key: Key,
    change: Change,
}

/// Apply `ops`; one result per op, in order.
pub(super) async fn run(p: &PowerDns, ops: Vec<BatchOp>) -> Vec<Result<BatchResult>> {
    let mut results: Vec<Option<Result<BatchResult>>> = (0..ops.len()).map(|_| None).collect();
    let mut by_zone: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for (index, op) in ops.into_iter().enumerate() {
        let item = match op {
            BatchOp::Create(d) => convert::to_rrset(&d, &p.project, &[]).map(|(key, _)| Item {
                index,
                key,
                change: Change::Put { d, create: true },
            }),
            BatchOp::Update { id, desired, .. } => {
                convert::to_rrset(&desired, &p.project, &[]).and_then(|(key, _)| {
                    if key.id() == id {
                        Ok(Item {
                            index,
                            key,
                            change: Change::Put {
                                d: desired,
                                create: false,
                            },
                        })
                    } else {
                        Err(ProviderError::rejected(format!(
                            "{}: an update cannot move rrset {id} to {} (zone, name and type force a replacement)",
                            desired.address,
                            key.id()
                        )))
                    }
                })
            }
            BatchOp::Delete { id, address, .. } => Key::parse(&id).map(|key| Item {
                index,
                key,
                change: Change::Delete { address },
            }),
        };
        match item {
            Ok(item) => by_zone.entry(item.key.zone.clone()).or_default().push(item),
            Err(e) => results[index] = Some(Err(e)),
        }
    }
    for (zone, items) in by_zone {
        zone_batch(p, &zone, items, &mut results).await;
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(ProviderError::rejected("no result for this change"))))
        .collect()
}

async fn zone_batch(
    p: &PowerDns,
    zone: &str,
    items: Vec<Item>,
    results: &mut [Option<Result<BatchResult>>],
) {
    let live = match read_live(p, zone, &items).await {
        Ok(live) => live,
        Err(e) => {
            for it in &items {
                results[it.index] = Some(Err(e.clone()));
            }
            return;
        }
    };
    let Some(live) = live else {
        // No such zone: nothing to delete there, nothing can be created.
        for it in &items {
            results[it.index] = Some(match it.change {
                Change::Delete { .. } => Ok(BatchResult::Deleted),
                Change::Put { .. } => Err(ProviderError::rejected(format!(
                    "zone {zone} does not exist on the PowerDNS server (create it there first)"
                ))),
            });
        }
        return;
    };
    let mut changes: Vec<RRSet> = Vec::new();
    let mut members: Vec<(usize, BatchResult)> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for it in items {
        let rrkey = (it.key.fqdn(), it.key.rtype.clone());
        let current = live.get(&rrkey);
        let address = match &it.change {
            Change::Put { d, .. } => Some(d.address.as_str()),
            Change::Delete { address } => Some(address.as_str()),
        };
        if let Err(e) = check_owner(p, &it.key, current, address) {
            results[it.index] = Some(Err(e));
            continue;
        }
        match it.change {
            Change::Delete { .. } if current.is_none() => {
                results[it.index] = Some(Ok(BatchResult::Deleted));
                continue;
            }
            _ if !seen.insert(rrkey.clone()) => {
                results[it.index] = Some(Err(ProviderError::Conflict(format!(
                    "rrset {} is changed twice in one apply (two resources for one name and type?)",
                    it.key.id()
                ))));
                continue;
            }
            Change::Delete { .. } => {
                changes.push(convert::delete_rrset(&it.key));
                members.push((it.index, BatchResult::Deleted));
            }
            Change::Put { d, create } => {
                let keep = current.map(convert::foreign_comments).unwrap_or_default();
                match convert::to_rrset(&d, &p.project, &keep) {
                    Ok((_, rrset)) => {
                        let observed = convert::observe(zone, &rrset, &p.project);
                        changes.push(rrset);
                        members.push((it.index, done(create, observed)));
                    }
                    Err(e) => results[it.index] = Some(Err(e)),
                }
            }
        }
    }
    // PowerDNS refuses bodies over `webserver-max-bodysize` (2 MB by default):
    // a very large zone change goes in several PATCHes, each all or nothing.
    let mut start = 0;
    while start < changes.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < changes.len() && (end == start || bytes < MAX_PATCH_BYTES) {
            bytes += serde_json::to_vec(&changes[end]).map_or(0, |v| v.len());
            end += 1;
        }
        let outcome = p.api.patch(zone, &changes[start..end]).await;
        for (i, r) in members.drain(..end - start) {
            results[i] = Some(match &outcome {
                Ok(()) => Ok(r),
                Err(e) => Err(e.clone()),
            });
        }
        start = end;
    }
}

fn done(create: bool, o: Observed) -> BatchResult {
    if create {
        BatchResult::Created(o)
    } else {
        BatchResult::Updated(o)
    }
}

/// The live rrsets the items touch, by (absolute name, type); `None` if the zone is missing.
async fn read_live(
    p: &PowerDns,
    zone: &str,
    items: &[Item],
) -> Result<Option<HashMap<(String, String), RRSet>>> {
    let names: HashSet<String> = items.iter().map(|it| it.key.fqdn()).collect();
    let mut found: Vec<RRSet> = Vec::new();
    if let Some(comments) = p.snapshots.take(zone) {
        found = super::snapshot::rrsets_of(comments, &names);
    } else if names.len() <= FILTERED_MAX {
        for name in &names {
            match p.api.rrsets(zone, Some(name), None).await? {
                Some(rrsets) => found.extend(rrsets),
                None => return Ok(None),
            }
        }
    } else {
        match p.api.rrsets(zone, None, None).await? {
            Some(rrsets) => found = rrsets,
            None => return Ok(None),
        }
    }
    Ok(Some(
        found
            .into_iter()
            .filter(|r| names.contains(&r.name))
            .map(|r| ((r.name.clone(), r.rtype.clone()), r))
            .collect(),
    ))
}

/// Refuse an rrset that exists without this project's marker, or with the
/// marker of another address (`address` None: any address of this project).
pub(super) fn check_owner(
    p: &PowerDns,
    key: &Key,
    live: Option<&RRSet>,
    address: Option<&str>,
) -> Result<()> {
    let Some(live) = live else { return Ok(()) };
    match (convert::owner(live, &p.project), address) {
        (None, _) => {
            let other = live
                .comments
                .iter()
                .find(|c| c.content.starts_with("infra:"));
            Err(ProviderError::NotOwned(match other {
                Some(c) => format!("rrset {} belongs to another infra project ({}); refusing to touch it", key.id(), c.content),
                None => format!(
                    "rrset {} exists and was not created by infra; refusing to touch it (adopt it with `infra import`)",
                    key.id()
                ),
            }))
        }
        (Some(o), Some(a)) if o != a => Err(ProviderError::NotOwned(format!(
            "rrset {} belongs to {o}, not {a}",
            key.id()
        ))),
        _ => Ok(()),
    }
}
