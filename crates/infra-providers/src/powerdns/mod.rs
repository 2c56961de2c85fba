//! The `powerdns` provider: `dns_record` resources as rrsets of a PowerDNS
//! Authoritative server, through its HTTP API (4.7 and later).
//!
//! One resource is one record; the records of one name and type are one rrset,
//! which may hold several resources (round-robin A, an SPF beside a
//! verification TXT). Ownership is one comment per record on the rrset,
//! `infra:PROJECT/ADDRESS DATA` (account `infra`); an rrset holding a record
//! without it is never changed or deleted unless `infra adopt`/`import` takes it. Refresh reads whole zones (one GET per zone: the
//! zones named in the `zones` setting, or every zone of the server when it is not
//! set), and writes are batched: all changes of a zone in one PATCH.

mod api;
mod batch;
pub mod convert;
mod snapshot;
mod spec_check;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use self::api::Api;
use self::convert::Key;
use infra_core::spec::schema::kinds;
use infra_core::spec::ProviderConfig;
use infra_kit::{
    check_settings, parse_settings, Finding, HttpUrl, ProviderInfo, SecretRef, Setting,
};
use infra_kit::{
    BatchOp, BatchResult, Context, Desired, KindSupport, Observed, Provider, ProviderError, Result,
    Secret,
};
use serde::Deserialize;

pub static INFO: ProviderInfo = ProviderInfo {
    kind: "powerdns",
    kinds: KINDS,
    settings: &[
        Setting::required("api_url", "http://HOST:8081"),
        Setting::secret("api_key", "X-API-Key, as env:NAME"),
        Setting::optional("server_id", "default localhost"),
        Setting::optional(
            "zones",
            "zones to read on refresh, e.g. [\"example.com\"]; default every zone of the server",
        ),
        Setting::optional(
            "timeout_secs",
            "seconds before an API call counts as failed (and is retried), default 30",
        ),
    ],
    check_settings: check_settings::<Written>,
    check_spec: Some(spec_check::check),
    audit: Some(|d, _| convert::audit(d)),
};

pub const FACTORY: infra_kit::ProviderFactory = infra_kit::ProviderFactory { info: &INFO, build };

const KINDS: &[KindSupport] = &[KindSupport::plain(kinds::DNS_RECORD)];

/// Zones read at the same time during a refresh.
const ZONE_READS: usize = 4;

/// The provider's settings, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub api_url: String,
    pub api_key: Secret,
    pub server_id: String,
    /// Zones to read on refresh; `None` = every zone of the server.
    pub zones: Option<Vec<String>>,
    pub timeout: Duration,
}

/// `[providers.NAME]` as written: checked at `infra validate`, resolved at build.
#[derive(Debug, Deserialize)]
struct Written {
    api_url: HttpUrl,
    api_key: SecretRef,
    server_id: Option<String>,
    zones: Option<Vec<String>>,
    timeout_secs: Option<u64>,
}

impl infra_kit::Settings for Written {
    fn check(&self, _project: &std::path::Path) -> Vec<Finding> {
        let mut out = Vec::new();
        if self.server_id.as_deref().is_some_and(str::is_empty) {
            out.push(Finding::at(
                "server_id",
                "must not be empty (PowerDNS's is `localhost`)",
            ));
        }
        if let Some(z) = self
            .zones
            .iter()
            .flatten()
            .find(|z| z.trim_end_matches('.').is_empty())
        {
            out.push(Finding::at("zones", format!("{z:?} is not a zone name")));
        }
        if self.timeout_secs.is_some_and(|t| !(1..=3600).contains(&t)) {
            out.push(Finding::at(
                "timeout_secs",
                "must be a whole number of seconds from 1 to 3600",
            ));
        }
        out
    }
}

impl Settings {
    /// From `[providers.NAME]`; the key reference is resolved here.
    pub fn from_config(config: &ProviderConfig) -> std::result::Result<Settings, String> {
        // No directory settings: the project path plays no part.
        let w: Written = parse_settings(&config.settings, std::path::Path::new("."))
            .map_err(|f| f.to_string())?;
        Ok(Settings {
            api_url: w.api_url.as_str().to_string(),
            api_key: w.api_key.resolve().map_err(|e| format!("api_key: {e}"))?,
            server_id: w.server_id.unwrap_or_else(|| "localhost".into()),
            zones: w.zones.map(|zones| {
                zones
                    .iter()
                    .map(|z| z.trim_end_matches('.').to_ascii_lowercase())
                    .collect()
            }),
            timeout: Duration::from_secs(w.timeout_secs.unwrap_or(30)),
        })
    }
}

fn build(config: &ProviderConfig, ctx: &Context) -> std::result::Result<Arc<dyn Provider>, String> {
    let settings = Settings::from_config(config)?;
    Ok(Arc::new(PowerDns::new(settings, &ctx.project)?))
}

pub struct PowerDns {
    api: Api,
    project: String,
    zones: Option<Vec<String>>,
    /// What the last refresh read, for the ownership check of the write after it.
    snapshots: snapshot::Snapshots,
    /// Held by every write: each one reads rrsets, changes their records and
    /// writes them back, and two resources may be records of one rrset.
    writes: tokio::sync::Mutex<()>,
}

impl PowerDns {
    pub fn new(settings: Settings, project: &str) -> std::result::Result<PowerDns, String> {
        let api = Api::new(
            &settings.api_url,
            &settings.server_id,
            settings.api_key,
            settings.timeout,
        )?;
        Ok(PowerDns {
            api,
            project: project.to_string(),
            zones: settings.zones,
            writes: tokio::sync::Mutex::new(()),
            snapshots: Default::default(),
        })
    }

    fn check_kind(kind: &str) -> Result<()> {
        if kind == kinds::DNS_RECORD {
            Ok(())
        } else {
            Err(ProviderError::Unsupported(format!(
                "the powerdns provider serves dns_record, not {kind}"
            )))
        }
    }

    /// The rrset behind `key`, as the API has it.
    async fn rrset(&self, key: &Key) -> Result<Option<convert::RRSet>> {
        let found = self
            .api
            .rrsets(&key.zone, Some(&key.fqdn()), Some(&key.rtype))
            .await?;
        Ok(found.and_then(|rrsets| {
            rrsets
                .into_iter()
                .find(|r| r.name == key.fqdn() && r.rtype == key.rtype)
        }))
    }

    /// The one result of a single-op batch.
    async fn one(&self, op: BatchOp) -> Result<BatchResult> {
        batch::run(self, vec![op])
            .await
            .pop()
            .unwrap_or_else(|| Err(ProviderError::rejected("no result")))
    }
}

#[async_trait]
impl Provider for PowerDns {
    async fn list(&self, kind: &str) -> Result<Vec<Observed>> {
        Self::check_kind(kind)?;
        let zones = self.zones().await?;
        let mut out = Vec::new();
        for chunk in zones.chunks(ZONE_READS) {
            let mut tasks = tokio::task::JoinSet::new();
            for zone in chunk {
                let (api, zone) = (self.api.clone(), zone.clone());
                tasks.spawn(async move {
                    let read_at = std::time::Instant::now();
                    let rrsets = api.rrsets(&zone, None, None).await;
                    (zone, read_at, rrsets)
                });
            }
            while let Some(joined) = tasks.join_next().await {
                let (zone, read_at, rrsets) = joined
                    .map_err(|e| ProviderError::rejected(format!("reading a zone failed: {e}")))?;
                // A zone named in `zones` that the server lacks holds nothing yet.
                let Some(rrsets) = rrsets? else { continue };
                for rrset in rrsets.iter().filter(|r| r.rtype != "SOA") {
                    out.extend(convert::observe(&zone, rrset, &self.project));
                }
                self.snapshots.store(&zone, read_at, rrsets);
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn zones(&self) -> Result<Vec<String>> {
        Ok(match &self.zones {
            Some(z) => z.clone(),
            None => self
                .api
                .zones()
                .await?
                .into_iter()
                .map(|z| z.id.trim_end_matches('.').to_string())
                .collect(),
        })
    }

    async fn create(&self, r: &Desired) -> Result<Observed> {
        match self.one(BatchOp::Create(r.clone())).await? {
            BatchResult::Created(o) | BatchResult::Updated(o) => Ok(o),
            BatchResult::Deleted => Err(ProviderError::rejected("create deleted")),
        }
    }

    async fn update(&self, id: &str, r: &Desired, live: &Observed) -> Result<Observed> {
        let op = BatchOp::Update {
            id: id.to_string(),
            desired: r.clone(),
            live: live.clone(),
        };
        match self.one(op).await? {
            BatchResult::Created(o) | BatchResult::Updated(o) => Ok(o),
            BatchResult::Deleted => Err(ProviderError::rejected("update deleted")),
        }
    }

    async fn delete(&self, kind: &str, id: &str, address: &str) -> Result<()> {
        Self::check_kind(kind)?;
        let op = BatchOp::Delete {
            kind: kind.to_string(),
            id: id.to_string(),
            address: address.to_string(),
        };
        self.one(op).await.map(|_| ())
    }

    async fn adopt(&self, kind: &str, id: &str, address: &str) -> Result<Observed> {
        Self::check_kind(kind)?;
        let key = Key::parse(id)?;
        let _one_writer = self.writes.lock().await;
        let live = self.rrset(&key).await?.ok_or_else(|| {
            ProviderError::NotFound(format!("rrset {} does not exist", key.rrset_id()))
        })?;
        // The record: the one the id names, or an rrset's only record.
        let index = match &key.record {
            Some(wire) => live.records.iter().position(|r| r.content == *wire),
            None if live.records.len() == 1 => Some(0),
            None => None,
        }
        .ok_or_else(|| {
            ProviderError::NotFound(format!(
                "rrset {} has no record {}",
                key.rrset_id(),
                key.record
                    .as_deref()
                    .unwrap_or("(it has several: name one as ZONE/NAME/TYPE/DATA)")
            ))
        })?;
        let owners = convert::owners(&live, &self.project);
        let observed = |rrset: &convert::RRSet| {
            convert::observe(&key.zone, rrset, &self.project).swap_remove(index)
        };
        match &owners[index].0 {
            convert::Owner::Ours(o) if o == address => return Ok(observed(&live)),
            convert::Owner::Ours(o) => {
                return Err(ProviderError::NotOwned(format!(
                    "record {id} already belongs to {o}"
                )))
            }
            convert::Owner::Theirs(m) => {
                return Err(ProviderError::NotOwned(format!(
                    "record {id} belongs to another infra project ({m})"
                )))
            }
            convert::Owner::Nobody => {}
        }
        // Rewrite the markers one per record (a marker without data would
        // otherwise stop naming its record once the rrset has two).
        let mut marked = live.clone();
        marked.changetype = Some("REPLACE".into());
        marked.comments = convert::foreign_comments(&live);
        for (i, (r, (o, _))) in live.records.iter().zip(&owners).enumerate() {
            let owner = match o {
                _ if i == index => address,
                convert::Owner::Ours(a) => a.as_str(),
                _ => continue,
            };
            marked
                .comments
                .push(convert::record_marker(&self.project, owner, &r.content));
        }
        self.api
            .patch(&key.zone, std::slice::from_ref(&marked))
            .await?;
        Ok(observed(&marked))
    }

    fn batches(&self, kind: &str) -> bool {
        kind == kinds::DNS_RECORD
    }

    async fn apply_batch(&self, ops: Vec<BatchOp>) -> Vec<Result<BatchResult>> {
        batch::run(self, ops).await
    }
}

#[cfg(test)]
mod tests;
