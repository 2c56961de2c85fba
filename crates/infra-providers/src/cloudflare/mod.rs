//! The `cloudflare` provider: `dns_record` objects through Cloudflare API v4
//! with a Bearer token (settings: `token`, `api_url`, optional `zones`).
//!
//! Ownership: every record infra writes carries `comment = infra:PROJECT/ADDRESS`
//! (`providers::marker`). Records without this project's marker are listed (so
//! refresh can adopt interrupted creates) but never changed or deleted unless
//! `infra import` adopts them, which replaces their comment with the marker.
//!
//! Zones: `list` is not told which zones matter. With a `zones` setting the
//! provider looks up just those (`GET /zones?name=`, one request each) — the
//! right choice for tokens scoped to a few zones and accounts with many; without
//! it, it lists every zone the token can see (`GET /zones`, paginated), which
//! needs no configuration. Records are then read one request per page
//! (`per_page` 5000, following `result_info.total_pages`), so refreshing a zone
//! costs one request per page, never one per record. Requests stay under
//! Cloudflare's 1,200 per 5 minutes (see `limit`).
//!
//! Ids are Cloudflare record ids (as in the dashboard and `infra import`); the
//! zone of an id is remembered from `list`/`create`, or found by asking each
//! zone of interest. This module and its children never import the CLI, the
//! planner or the renderers.

mod api;
mod audit;
mod batch;
mod convert;
mod data;
mod limit;
mod locate;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;

use infra_core::spec::schema::kinds;
use infra_core::spec::ProviderConfig;
use infra_kit::{
    check_settings, parse_settings, HttpUrl, OneOrMany, ProviderInfo, SecretRef, Setting,
};
use infra_kit::{Context, Desired, KindSupport, Observed, Provider, ProviderError, Result, Secret};
use serde::Deserialize;

use locate::{record_path, zone_of, Found};

pub use api::DEFAULT_API_URL;
pub use audit::private as private_address;
pub use limit::{BUDGET, CLOUDFLARE_LIMIT, WINDOW};

pub static INFO: ProviderInfo = ProviderInfo {
    kind: "cloudflare",
    kinds: KINDS,
    settings: &[
        Setting::secret(
            "token",
            "API token with Zone:Read and DNS:Edit, as env:NAME",
        ),
        Setting::optional("api_url", "default https://api.cloudflare.com/client/v4"),
        Setting::optional(
            "zones",
            "zone names to manage, e.g. [\"example.com\"]; default every zone the token can see",
        ),
        Setting::optional(
            "batch_size",
            "records per batch request, 1-3500: 200 on the Free plan (default), 3500 on paid plans",
        ),
    ],
    check_settings: check_settings::<Written>,
    check_spec: None,
    audit: Some(|d, ctx| audit::audit(d, &infra_kit::marker(&ctx.project, &d.address))),
};

/// `[providers.NAME]` as written: checked at `infra validate`, resolved at build.
#[derive(Debug, Deserialize)]
struct Written {
    token: SecretRef,
    api_url: Option<HttpUrl>,
    zones: Option<OneOrMany>,
    batch_size: Option<usize>,
}

impl infra_kit::Settings for Written {
    fn check(&self, _project: &std::path::Path) -> Vec<infra_kit::Finding> {
        match self.batch_size {
            Some(n) if n == 0 || n > batch::MAX_BATCH_SIZE => vec![infra_kit::Finding::at(
                "batch_size",
                format!("must be from 1 to {}", batch::MAX_BATCH_SIZE),
            )],
            _ => Vec::new(),
        }
    }
}

pub const FACTORY: infra_kit::ProviderFactory = infra_kit::ProviderFactory { info: &INFO, build };

const KINDS: &[KindSupport] = &[KindSupport::plain(kinds::DNS_RECORD)];

/// `GET /zones` allows 5–50 per page.
const ZONES_PER_PAGE: u32 = 50;
/// Well inside the contract's maximum (5,000,000); the server may send fewer.
const RECORDS_PER_PAGE: u32 = 5000;

fn build(config: &ProviderConfig, ctx: &Context) -> std::result::Result<Arc<dyn Provider>, String> {
    let w: Written = parse_settings(&config.settings, &ctx.root).map_err(|f| f.to_string())?;
    let token = w.token.resolve()?;
    let api_url = w.api_url.as_ref().map_or(DEFAULT_API_URL, HttpUrl::as_str);
    let zones = w.zones.map(OneOrMany::into_vec);
    let mut p = CloudflareProvider::new(api_url, token, &ctx.project, zones)?;
    p.batch_size = w.batch_size.unwrap_or(batch::DEFAULT_BATCH_SIZE);
    Ok(Arc::new(p))
}

pub struct CloudflareProvider {
    api: api::Api,
    project: String,
    /// The `zones` setting, if any.
    zones: Option<Vec<String>>,
    /// Zone name → zone id.
    zone_ids: Mutex<BTreeMap<String, String>>,
    /// Record id → (zone id, zone name), learnt from list/create.
    homes: Mutex<BTreeMap<String, (String, String)>>,
    /// Record id → the address its marker names, as last read.
    owners: Mutex<BTreeMap<String, Option<String>>>,
    /// Records per batch request.
    pub batch_size: usize,
    /// Addresses whose create failed in a way that may have created the record.
    uncertain: Mutex<BTreeSet<String>>,
}

impl CloudflareProvider {
    pub fn new(
        api_url: &str,
        token: Secret,
        project: &str,
        zones: Option<Vec<String>>,
    ) -> std::result::Result<Self, String> {
        Ok(CloudflareProvider {
            api: api::Api::new(api_url, token, limit::Limiter::cloudflare())?,
            project: project.to_string(),
            zones: zones.map(|z| {
                z.iter()
                    .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
                    .collect()
            }),
            zone_ids: Mutex::new(BTreeMap::new()),
            homes: Mutex::new(BTreeMap::new()),
            owners: Mutex::new(BTreeMap::new()),
            batch_size: batch::DEFAULT_BATCH_SIZE,
            uncertain: Mutex::new(BTreeSet::new()),
        })
    }
}

#[async_trait]
impl Provider for CloudflareProvider {
    async fn list(&self, _kind: &str) -> Result<Vec<Observed>> {
        let mut out = Vec::new();
        for (zid, zone) in self.zones_of_interest().await? {
            let records = self
                .api
                .all_pages(&record_path(&zid, None), &[], RECORDS_PER_PAGE)
                .await?;
            for rec in &records {
                if let Some(o) = convert::observe(rec, &zone, &self.project) {
                    self.remember(&o, &zid, &zone);
                    out.push(o);
                }
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    fn batches(&self, _kind: &str) -> bool {
        true
    }

    async fn apply_batch(
        &self,
        ops: Vec<infra_kit::BatchOp>,
    ) -> Vec<Result<infra_kit::BatchResult>> {
        self.batch(ops).await
    }

    async fn zones(&self) -> Result<Vec<String>> {
        Ok(self
            .zones_of_interest()
            .await?
            .into_iter()
            .map(|(_, name)| name)
            .collect())
    }

    async fn create(&self, d: &Desired) -> Result<Observed> {
        let comment = self.marker(&d.address);
        audit::check(d, &comment)?;
        let zone = zone_of(d);
        let zid = self.zone_id(&zone).await?;
        let retry = self
            .uncertain
            .lock()
            .expect("uncertain lock")
            .contains(&d.address);
        if retry {
            // An earlier attempt may have created it before failing: adopt, do not duplicate.
            if let Some(o) = self.find_marked(&zid, &zone, &d.address).await? {
                let o = self.patch(&zid, &zone, &o.id, &d.attrs, &d.address).await?;
                self.uncertain
                    .lock()
                    .expect("uncertain lock")
                    .remove(&d.address);
                return Ok(o);
            }
        }
        let body = convert::body(&d.attrs, &comment);
        match self
            .api
            .call(Method::POST, &record_path(&zid, None), &[], Some(&body))
            .await
        {
            Ok(answer) => {
                self.uncertain
                    .lock()
                    .expect("uncertain lock")
                    .remove(&d.address);
                self.observed(&answer.result, &zid, &zone)
            }
            Err(e) => {
                if e.is_transient() {
                    self.uncertain
                        .lock()
                        .expect("uncertain lock")
                        .insert(d.address.clone());
                }
                Err(e)
            }
        }
    }

    async fn update(&self, id: &str, d: &Desired, _live: &Observed) -> Result<Observed> {
        audit::check(d, &self.marker(&d.address))?;
        let zone = zone_of(d);
        let zid = self.zone_id(&zone).await?;
        self.patch(&zid, &zone, id, &d.attrs, &d.address)
            .await
            .map_err(|e| match e {
                ProviderError::NotFound(m) => ProviderError::NotFound(format!(
                    "record {id} no longer exists in {zone} (deleted outside infra?): {m}"
                )),
                e => e,
            })
    }

    async fn delete(&self, _kind: &str, id: &str, address: &str) -> Result<()> {
        let Some(Found {
            live, zid, zone, ..
        }) = self.fetch(id).await?
        else {
            return Ok(());
        };
        let fqdn = live.attrs.get("fqdn").and_then(Value::as_str).unwrap_or(id);
        match live.owner.as_deref() {
            None => return Err(ProviderError::NotOwned(format!(
                "the record {fqdn} ({id}) in {zone} no longer carries infra's marker in its comment; refusing to delete it (adopt it again with `infra import`)"
            ))),
            Some(o) if o != address => return Err(ProviderError::NotOwned(format!(
                "the record {fqdn} ({id}) in {zone} belongs to {o}, not {address}; refusing to delete it"
            ))),
            Some(_) => {}
        }
        match self
            .api
            .call(Method::DELETE, &record_path(&zid, Some(id)), &[], None)
            .await
        {
            Ok(_) | Err(ProviderError::NotFound(_)) => {
                self.homes.lock().expect("homes lock").remove(id);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn adopt(&self, _kind: &str, id: &str, address: &str) -> Result<Observed> {
        let Found {
            live,
            raw,
            zid,
            zone,
        } = self.fetch(id).await?.ok_or_else(|| {
            ProviderError::NotFound(format!(
                "no Cloudflare record with id {id} in the zones of this provider"
            ))
        })?;
        let comment = raw["comment"].as_str().unwrap_or_default();
        match live.owner.as_deref() {
            Some(o) if o == address => return Ok(live),
            Some(o) => {
                return Err(ProviderError::NotOwned(format!(
                    "record {id} already belongs to {o}"
                )))
            }
            // Another project's marker: two projects never claim one record.
            None if comment.starts_with("infra:") => {
                return Err(ProviderError::NotOwned(format!(
                    "record {id} is managed by another infra project ({comment})"
                )))
            }
            None => {}
        }
        // Only the comment changes: the record stays exactly as it is (a body
        // rebuilt from its attributes would respell TXT quoting or a dot).
        // A person's comment stays after the marker when both fit.
        let marker = self.marker(address);
        let kept = format!("{marker} {comment}");
        let comment = if comment.is_empty() || kept.chars().count() > audit::COMMENT_MAX {
            marker
        } else {
            kept
        };
        // The record's own fields as Cloudflare returned them (its contract
        // wants type, name and content in a PATCH), plus the comment.
        let mut body = serde_json::Map::new();
        // A record held as `data` has a read-only `content`.
        let structured = raw["data"].is_object();
        for k in [
            "type", "name", "content", "data", "ttl", "proxied", "priority",
        ] {
            if k == "content" && structured {
                continue;
            }
            if let Some(v) = raw.get(k).filter(|v| !v.is_null()) {
                body.insert(k.into(), v.clone());
            }
        }
        body.insert("comment".into(), Value::from(comment));
        let body = Value::Object(body);
        let rec = self
            .api
            .call(
                Method::PATCH,
                &record_path(&zid, Some(id)),
                &[],
                Some(&body),
            )
            .await?
            .result;
        self.observed(&rec, &zid, &zone)
    }
}
