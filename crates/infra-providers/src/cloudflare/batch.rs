//! Changes through `POST /zones/{zone_id}/dns_records/batch` (contracts NOTES §2):
//! deletes, patches and posts of one zone in one request, applied by Cloudflare
//! in one transaction. 1,000 new records are 5 requests of 200 (the Free plan's
//! limit per request; `batch_size` raises it to 3,500 on paid plans) instead of
//! 1,000, and count as 5 against the 1,200-per-5-minutes budget.
//!
//! Ownership is checked before anything is sent: an update or a delete goes only
//! to a record whose marker names its address (from the refresh just before). A
//! request that fails fails exactly the changes it held, with Cloudflare's error;
//! the others stand. Creates whose answer was lost (a 502 after the commit) are
//! found by their marker before the retry, so a retry never duplicates them.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{json, Value};

use super::locate::{record_path, zone_of};
use super::{audit, convert, CloudflareProvider};
use infra_kit::{BatchOp, BatchResult, ProviderError, Result};

/// Records per batch request on the Free plan; the `batch_size` default.
pub const DEFAULT_BATCH_SIZE: usize = 200;
/// The most any plan takes.
pub const MAX_BATCH_SIZE: usize = 3500;

/// One change, ready to send.
enum Item {
    Post { address: String, body: Value },
    Patch { body: Value },
    Delete { id: String },
}

impl CloudflareProvider {
    pub(super) async fn batch(&self, ops: Vec<BatchOp>) -> Vec<Result<BatchResult>> {
        let mut results: Vec<Option<Result<BatchResult>>> = (0..ops.len()).map(|_| None).collect();
        // zone name → (index, item), in the order given.
        let mut by_zone: BTreeMap<String, Vec<(usize, Item)>> = BTreeMap::new();
        for (i, op) in ops.into_iter().enumerate() {
            let delete = matches!(op, BatchOp::Delete { .. });
            match self.item(op).await {
                Ok((zone, item)) => by_zone.entry(zone).or_default().push((i, item)),
                // Already gone (deleted outside infra, or by a batch whose answer was
                // lost): done, and not sent, which would fail its whole batch.
                Err(ProviderError::NotFound(_)) if delete => {
                    results[i] = Some(Ok(BatchResult::Deleted))
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        for (zone, items) in by_zone {
            let zid = match self.zone_id(&zone).await {
                Ok(z) => z,
                Err(e) => {
                    for (i, _) in items {
                        results[i] = Some(Err(e.clone()));
                    }
                    continue;
                }
            };
            let mut items = items;
            if let Err(e) = self.recover_lost_creates(&zid, &zone, &mut items).await {
                for (i, _) in items {
                    results[i] = Some(Err(e.clone()));
                }
                continue;
            }
            let mut rest = items.into_iter().peekable();
            while rest.peek().is_some() {
                let chunk: Vec<(usize, Item)> = rest.by_ref().take(self.batch_size).collect();
                for (i, r) in self.send(&zid, &zone, chunk).await {
                    results[i] = Some(r);
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(ProviderError::rejected("no result for this change"))))
            .collect()
    }

    /// Check one change and turn it into its zone and request item.
    async fn item(&self, op: BatchOp) -> Result<(String, Item)> {
        match op {
            BatchOp::Create(d) => {
                let comment = self.marker(&d.address);
                audit::check(&d, &comment)?;
                let body = convert::body(&d.attrs, &comment);
                Ok((
                    zone_of(&d),
                    Item::Post {
                        address: d.address,
                        body,
                    },
                ))
            }
            BatchOp::Update { id, desired, live } => {
                audit::check(&desired, &self.marker(&desired.address))?;
                owned(&id, live.owner.as_deref(), &desired.address)?;
                let mut body = convert::body(&desired.attrs, &self.marker(&desired.address));
                body["id"] = json!(id);
                Ok((zone_of(&desired), Item::Patch { body }))
            }
            BatchOp::Delete { id, address, .. } => {
                let known = self.homes.lock().expect("homes lock").get(&id).cloned();
                let owner = self.owners.lock().expect("owners lock").get(&id).cloned();
                let (zone, owner) = match (known, owner) {
                    (Some((_, zone)), Some(owner)) => (zone, owner),
                    // Not seen by a refresh of this provider: read it.
                    _ => match self.fetch(&id).await? {
                        Some(found) => (found.zone, found.live.owner),
                        None => return Err(ProviderError::NotFound(format!("record {id}"))),
                    },
                };
                owned(&id, owner.as_deref(), &address)?;
                Ok((zone, Item::Delete { id }))
            }
        }
    }

    /// Posts whose earlier attempt may have been applied (its answer was lost):
    /// a record carrying their marker is patched instead of created again.
    async fn recover_lost_creates(
        &self,
        zid: &str,
        zone: &str,
        items: &mut [(usize, Item)],
    ) -> Result<()> {
        let uncertain = self.uncertain.lock().expect("uncertain lock").clone();
        let lost = items
            .iter()
            .any(|(_, it)| matches!(it, Item::Post { address, .. } if uncertain.contains(address)));
        if !lost {
            return Ok(());
        }
        let records = self
            .api
            .all_pages(&record_path(zid, None), &[], super::RECORDS_PER_PAGE)
            .await?;
        let marked: BTreeMap<String, String> = records
            .iter()
            .filter_map(|r| convert::observe(r, zone, &self.project))
            .filter_map(|o| Some((o.owner?, o.id)))
            .collect();
        for (_, it) in items.iter_mut() {
            if let Item::Post { address, body } = it {
                if let Some(id) = marked
                    .get(address.as_str())
                    .filter(|_| uncertain.contains(address))
                {
                    let mut body = body.clone();
                    body["id"] = json!(id);
                    *it = Item::Patch { body };
                }
            }
        }
        Ok(())
    }

    /// One request; each change gets its result, or the request's error.
    async fn send(
        &self,
        zid: &str,
        zone: &str,
        chunk: Vec<(usize, Item)>,
    ) -> Vec<(usize, Result<BatchResult>)> {
        let mut body = json!({"deletes": [], "patches": [], "posts": []});
        // Cloudflare answers in the order deletes → patches → posts, each in the
        // order sent: remember where each change sits.
        let (mut patches, mut posts) = (Vec::new(), Vec::new());
        for (i, it) in &chunk {
            match it {
                Item::Delete { id } => {
                    body["deletes"]
                        .as_array_mut()
                        .expect("list")
                        .push(json!({"id": id}));
                }
                Item::Patch { body: b, .. } => {
                    body["patches"]
                        .as_array_mut()
                        .expect("list")
                        .push(b.clone());
                    patches.push(*i);
                }
                Item::Post { body: b, .. } => {
                    body["posts"].as_array_mut().expect("list").push(b.clone());
                    posts.push(*i);
                }
            }
        }
        let path = format!("{}/batch", record_path(zid, None));
        let answer = self.api.call(Method::POST, &path, &[], Some(&body)).await;
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                if e.is_transient() {
                    // The transaction may have been applied and its answer lost: the
                    // retry looks for the posts by marker, and reads each delete again.
                    let mut u = self.uncertain.lock().expect("uncertain lock");
                    for (_, it) in &chunk {
                        match it {
                            Item::Post { address, .. } => {
                                u.insert(address.clone());
                            }
                            Item::Delete { id } => self.forget(id),
                            Item::Patch { .. } => {}
                        }
                    }
                }
                return chunk
                    .into_iter()
                    .map(|(i, _)| (i, Err(e.clone())))
                    .collect();
            }
        };
        {
            let mut u = self.uncertain.lock().expect("uncertain lock");
            for (_, it) in &chunk {
                if let Item::Post { address, .. } = it {
                    u.remove(address);
                }
            }
        }
        let list = |k: &str| answer.result[k].as_array().cloned().unwrap_or_default();
        let mut out = Vec::new();
        for (i, it) in &chunk {
            if let Item::Delete { id } = it {
                self.forget(id);
                out.push((*i, Ok(BatchResult::Deleted)));
            }
        }
        for (done, (list, idx)) in [
            (false, (list("patches"), patches)),
            (true, (list("posts"), posts)),
        ] {
            for (k, i) in idx.into_iter().enumerate() {
                let r = match list.get(k) {
                    Some(rec) => self.observed(rec, zid, zone).map(|o| {
                        if done {
                            BatchResult::Created(o)
                        } else {
                            BatchResult::Updated(o)
                        }
                    }),
                    None => Err(ProviderError::rejected(
                        "cloudflare: the batch answer lists fewer records than were sent",
                    )),
                };
                out.push((i, r));
            }
        }
        out
    }
}

/// An update or delete only for a record marked for this very address.
fn owned(id: &str, owner: Option<&str>, address: &str) -> Result<()> {
    match owner {
        Some(o) if o == address => Ok(()),
        Some(o) => Err(ProviderError::NotOwned(format!(
            "record {id} belongs to {o}, not {address}; refusing to change it"
        ))),
        None => Err(ProviderError::NotOwned(format!(
            "record {id} carries no marker of this project; refusing to change it (adopt it with `infra import`)"
        ))),
    }
}
