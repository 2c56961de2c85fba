//! Finding things on Cloudflare: zone ids by name (asked once, then
//! remembered), the zones a provider manages (the `zones` setting, or every zone
//! the token can see), the zone of a record id (remembered from list/create, or
//! asked of each zone), and the record an interrupted create left behind (by its
//! marker comment). Also the one write shared by update, adopt and a repaired
//! create: PATCH with the full desired fields.

use reqwest::Method;
use serde_json::Value;

use super::{convert, CloudflareProvider, RECORDS_PER_PAGE, ZONES_PER_PAGE};
use infra_kit::{marker, Desired, Observed, ProviderError, Result};

impl CloudflareProvider {
    pub(super) fn marker(&self, address: &str) -> String {
        marker(&self.project, address)
    }

    pub(super) fn remember(&self, o: &Observed, zone_id: &str, zone: &str) {
        self.homes
            .lock()
            .expect("homes lock")
            .insert(o.id.clone(), (zone_id.to_string(), zone.to_string()));
        self.owners
            .lock()
            .expect("owners lock")
            .insert(o.id.clone(), o.owner.clone());
    }

    /// A record that is gone.
    pub(super) fn forget(&self, id: &str) {
        self.homes.lock().expect("homes lock").remove(id);
        self.owners.lock().expect("owners lock").remove(id);
    }

    /// The id of a zone by name: `GET /zones?name=` once, then remembered.
    pub(super) async fn zone_id(&self, zone: &str) -> Result<String> {
        if let Some(id) = self.zone_ids.lock().expect("zones lock").get(zone) {
            return Ok(id.clone());
        }
        if let Some(names) = &self.zones {
            if !names.iter().any(|n| n == zone) {
                return Err(ProviderError::rejected(format!(
                    "zone `{zone}` is not in this provider's zones setting ({})",
                    names.join(", ")
                )));
            }
        }
        let found = self
            .api
            .get("/zones", &[("name", zone.to_string())])
            .await?;
        let id = found
            .as_array()
            .and_then(|zs| zs.iter().find(|z| z["name"].as_str() == Some(zone)))
            .and_then(|z| z["id"].as_str())
            .ok_or_else(|| {
                ProviderError::rejected(format!(
                    "zone `{zone}` was not found on Cloudflare: add it to the account, or give the token access to it"
                ))
            })?
            .to_string();
        self.zone_ids
            .lock()
            .expect("zones lock")
            .insert(zone.to_string(), id.clone());
        Ok(id)
    }

    /// (id, name) of every zone this provider manages.
    pub(super) async fn zones_of_interest(&self) -> Result<Vec<(String, String)>> {
        if let Some(names) = &self.zones {
            let mut out = Vec::new();
            for n in names {
                out.push((self.zone_id(n).await?, n.clone()));
            }
            return Ok(out);
        }
        let all = self.api.all_pages("/zones", &[], ZONES_PER_PAGE).await?;
        let mut out = Vec::new();
        let mut ids = self.zone_ids.lock().expect("zones lock");
        for z in all {
            if let (Some(id), Some(name)) = (z["id"].as_str(), z["name"].as_str()) {
                ids.insert(name.to_string(), id.to_string());
                out.push((id.to_string(), name.to_string()));
            }
        }
        Ok(out)
    }

    /// One record by id (zone known or found), with its zone; `None` if gone.
    pub(super) async fn fetch(&self, id: &str) -> Result<Option<Found>> {
        let known = self.homes.lock().expect("homes lock").get(id).cloned();
        let candidates = match known {
            Some(home) => vec![home],
            None => self.zones_of_interest().await?,
        };
        for (zid, zone) in candidates {
            match self.api.get(&record_path(&zid, Some(id)), &[]).await {
                Ok(rec) => {
                    if let Some(live) = convert::observe(&rec, &zone, &self.project) {
                        self.remember(&live, &zid, &zone);
                        return Ok(Some(Found {
                            live,
                            raw: rec,
                            zid,
                            zone,
                        }));
                    }
                }
                Err(ProviderError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Write `attrs` (with the marker for `address`) over record `id`.
    pub(super) async fn patch(
        &self,
        zid: &str,
        zone: &str,
        id: &str,
        attrs: &infra_core::spec::Attrs,
        address: &str,
    ) -> Result<Observed> {
        let body = convert::body(attrs, &self.marker(address));
        let rec = self
            .api
            .call(Method::PATCH, &record_path(zid, Some(id)), &[], Some(&body))
            .await?
            .result;
        self.observed(&rec, zid, zone)
    }

    pub(super) fn observed(&self, rec: &Value, zid: &str, zone: &str) -> Result<Observed> {
        let o = convert::observe(rec, zone, &self.project).ok_or_else(|| {
            ProviderError::rejected("cloudflare: the API answered without a record id")
        })?;
        self.remember(&o, zid, zone);
        Ok(o)
    }

    /// After a create that may have happened: the record carrying our marker, if any.
    pub(super) async fn find_marked(
        &self,
        zid: &str,
        zone: &str,
        address: &str,
    ) -> Result<Option<Observed>> {
        let q = [("comment", self.marker(address))];
        let found = self
            .api
            .all_pages(&record_path(zid, None), &q, RECORDS_PER_PAGE)
            .await?;
        Ok(found
            .iter()
            .filter_map(|r| convert::observe(r, zone, &self.project))
            .find(|o| o.owner.as_deref() == Some(address)))
    }
}

/// A record found by id.
pub(super) struct Found {
    pub live: Observed,
    pub raw: Value,
    pub zid: String,
    pub zone: String,
}

pub(super) fn record_path(zone_id: &str, record_id: Option<&str>) -> String {
    match record_id {
        Some(r) => format!("/zones/{zone_id}/dns_records/{r}"),
        None => format!("/zones/{zone_id}/dns_records"),
    }
}

pub(super) fn zone_of(d: &Desired) -> String {
    d.attrs
        .get("zone")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
