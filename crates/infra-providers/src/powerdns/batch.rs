//! Changes to rrsets, one PATCH per zone. Every write (batched or single) goes
//! through `run`: check each change (audit), read the rrsets it touches (one GET
//! per zone, or the snapshot of a refresh a moment ago, see `snapshot`), refuse rrsets this
//! project does not own, apply each rrset's changes to its records (several
//! resources may be records of one rrset), then send all of a zone's REPLACE/DELETE changes in one
//! PATCH (split only when the body would pass ~1 MiB). PowerDNS applies a PATCH
//! all or nothing, so a failed PATCH fails every change in it with the API's own
//! message; other zones are unaffected.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::convert::{self, Key, Owner, RRSet};
use super::PowerDns;
use infra_kit::{BatchOp, BatchResult, Desired, ProviderError, Result};

// The rrsets a write touches are read with the whole zone: PowerDNS answered a
// GET filtered by name, now and then, with an rrset's comments but without its
// records (seen with every cache off), and a REPLACE built on that would drop
// records someone else made.

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
    let _one_writer = p.writes.lock().await;
    let mut results: Vec<Option<Result<BatchResult>>> = (0..ops.len()).map(|_| None).collect();
    let mut by_zone: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for (index, op) in ops.into_iter().enumerate() {
        let item = match op {
            BatchOp::Create(d) => convert::record_of(&d).map(|(key, ..)| Item {
                index,
                key,
                change: Change::Put { d, create: true },
            }),
            BatchOp::Update { id, desired, .. } => {
                convert::record_of(&desired).and_then(|(key, ..)| {
                    let was = Key::parse(&id)?;
                    if was.rrset_id() == key.rrset_id() {
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
                            "{}: an update cannot move record {id} to rrset {} (zone, name and type force a replacement)",
                            desired.address,
                            key.rrset_id()
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
    // Several resources may be records of one rrset: each rrset's items are
    // applied to its records in memory, then sent as one REPLACE (or DELETE).
    let mut by_rrset: BTreeMap<(String, String), Vec<Item>> = BTreeMap::new();
    for it in items {
        by_rrset
            .entry((it.key.fqdn(), it.key.rtype.clone()))
            .or_default()
            .push(it);
    }
    let mut changes: Vec<RRSet> = Vec::new();
    let mut members: Vec<Vec<(usize, BatchResult)>> = Vec::new();
    for (rrkey, items) in by_rrset {
        let key = Key {
            record: None,
            ..items[0].key.clone()
        };
        let (change, done) = rrset_change(p, zone, &key, live.get(&rrkey), items, results);
        if let Some(change) = change {
            changes.push(change);
            members.push(done);
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
        for (i, r) in members.drain(..end - start).flatten() {
            results[i] = Some(match &outcome {
                Ok(()) => Ok(r),
                Err(e) => Err(e.clone()),
            });
        }
        start = end;
    }
}

/// The one change to an rrset that its items make, and each item's result
/// once it is sent. Items that cannot be made get their error in `results`.
fn rrset_change(
    p: &PowerDns,
    zone: &str,
    key: &Key,
    current: Option<&RRSet>,
    items: Vec<Item>,
    results: &mut [Option<Result<BatchResult>>],
) -> (Option<RRSet>, Vec<(usize, BatchResult)>) {
    let owners = current
        .map(|c| convert::owners(c, &p.project))
        .unwrap_or_default();
    let live_records = current.map_or(&[][..], |c| &c.records[..]);
    // Records this project does not own make the rrset someone else's: it is
    // never rewritten (adopt it first). A delete of ours that is gone is done.
    let foreign = owners
        .iter()
        .zip(live_records)
        .find(|((o, _), _)| !matches!(o, Owner::Ours(_)))
        .map(|((o, _), r)| (o.clone(), r.clone()));
    let mut records: Vec<(String, String)> = owners
        .iter()
        .zip(live_records)
        .filter_map(|((o, _), r)| match o {
            Owner::Ours(a) => Some((r.content.clone(), a.clone())),
            _ => None,
        })
        .collect();
    let mut ttl = current.and_then(|c| c.ttl).unwrap_or(300);
    // Each made item: its index and, for a put, its address and whether it creates.
    let mut done: Vec<(usize, Option<(String, bool)>)> = Vec::new();
    for it in items {
        let address = match &it.change {
            Change::Put { d, .. } => d.address.clone(),
            Change::Delete { address } => address.clone(),
        };
        let has_ours = records.iter().any(|(_, a)| *a == address);
        if let Some((owner, r)) = &foreign {
            results[it.index] = Some(match it.change {
                Change::Delete { .. } if !has_ours => Ok(BatchResult::Deleted),
                _ => Err(not_owned(key, owner, &r.content)),
            });
            continue;
        }
        match it.change {
            Change::Delete { .. } if !has_ours => {
                results[it.index] = Some(Ok(BatchResult::Deleted));
            }
            Change::Delete { .. } => {
                records.retain(|(_, a)| *a != address);
                done.push((it.index, None));
            }
            Change::Put { d, create } => {
                let (_, wire, want_ttl) = match convert::record_of(&d) {
                    Ok(r) => r,
                    Err(e) => {
                        results[it.index] = Some(Err(e));
                        continue;
                    }
                };
                if let Some((_, other)) = records.iter().find(|(w, a)| *w == wire && *a != address)
                {
                    results[it.index] = Some(Err(ProviderError::NotOwned(format!(
                        "record `{wire}` of rrset {} belongs to {other}, not {address}",
                        key.rrset_id()
                    ))));
                    continue;
                }
                records.retain(|(_, a)| *a != address);
                records.push((wire, address.clone()));
                ttl = want_ttl;
                done.push((it.index, Some((address, create))));
            }
        }
    }
    if done.is_empty() {
        return (None, Vec::new());
    }
    let keep = current.map(convert::foreign_comments).unwrap_or_default();
    let change = convert::rrset_with(key, ttl, &records, &keep, &p.project);
    let observed = convert::observe(&format!("{zone}."), &change, &p.project);
    let made = done
        .into_iter()
        .map(|(i, put)| {
            let r = match put {
                None => BatchResult::Deleted,
                Some((address, create)) => {
                    let o = observed
                        .iter()
                        .find(|o| o.owner.as_deref() == Some(address.as_str()))
                        .cloned()
                        .expect("a put's record is in the rrset it wrote");
                    if create {
                        BatchResult::Created(o)
                    } else {
                        BatchResult::Updated(o)
                    }
                }
            };
            (i, r)
        })
        .collect();
    (Some(change), made)
}

fn not_owned(key: &Key, owner: &Owner, record: &str) -> ProviderError {
    ProviderError::NotOwned(match owner {
        Owner::Theirs(marker) => format!(
            "rrset {} holds a record of another infra project ({marker}); refusing to touch it",
            key.rrset_id()
        ),
        _ => format!(
            "rrset {} holds record `{record}`, which was not created by infra; refusing to touch it (adopt it with `infra adopt` or `infra import`)",
            key.rrset_id()
        ),
    })
}

/// The live rrsets the items touch, by (absolute name, type); `None` if the zone is missing.
async fn read_live(
    p: &PowerDns,
    zone: &str,
    items: &[Item],
) -> Result<Option<HashMap<(String, String), RRSet>>> {
    let names: HashSet<String> = items.iter().map(|it| it.key.fqdn()).collect();
    let found = match p.snapshots.take(zone) {
        Some(snapshot) => super::snapshot::rrsets_of(snapshot, &names),
        None => match p.api.rrsets(zone, None, None).await? {
            Some(rrsets) => rrsets,
            None => return Ok(None),
        },
    };
    Ok(Some(
        found
            .into_iter()
            .filter(|r| names.contains(&r.name))
            .map(|r| ((r.name.clone(), r.rtype.clone()), r))
            .collect(),
    ))
}
