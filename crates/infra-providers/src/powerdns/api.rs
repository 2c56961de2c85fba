//! The PowerDNS HTTP API client: three calls (list zones, get a zone with its
//! rrsets, PATCH rrsets) over one reqwest client with a total timeout, and the
//! mapping of every failure to a `ProviderError`: 429, 5xx, timeouts and refused
//! connections are `Transient` (with `Retry-After` when the server sends one),
//! 401/403 `Auth`, anything else `Rejected` with the API's own `{"error": …}`
//! text. It never retries (the engine does) and never puts the key in a message.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use serde::Deserialize;

use super::convert::RRSet;
use crate::http;
use infra_kit::{ProviderError, Result, Secret};

#[derive(Debug, Deserialize)]
pub struct ZoneInfo {
    /// The zone id: the canonical name with the trailing dot.
    pub id: String,
}

#[derive(Debug, Deserialize)]
struct Zone {
    #[serde(default)]
    rrsets: Vec<RRSet>,
}

#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    /// `{api_url}/api/v1/servers/{server_id}`
    base: String,
    key: Secret,
    timeout: Duration,
    /// One PATCH at a time: concurrent writes gain nothing on one server and
    /// make the sqlite backend fail with "database is locked" (HTTP 500).
    writes: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Api {
    pub fn new(
        api_url: &str,
        server_id: &str,
        key: Secret,
        timeout: Duration,
    ) -> std::result::Result<Api, String> {
        let url = reqwest::Url::parse(api_url)
            .map_err(|e| format!("api_url {api_url:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "api_url {api_url:?} must start with http:// or https://"
            ));
        }
        let root = api_url.trim_end_matches('/');
        let root = root.strip_suffix("/api/v1").unwrap_or(root);
        let mut key_value = HeaderValue::from_str(key.expose())
            .map_err(|_| "api_key holds characters that cannot go in an HTTP header".to_string())?;
        key_value.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert("X-API-Key", key_value);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let client = http::client(&url, timeout, timeout)
            .default_headers(headers)
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Api {
            client,
            base: format!("{root}/api/v1/servers/{server_id}"),
            key,
            timeout,
            writes: Default::default(),
        })
    }

    fn zone_url(&self, zone: &str) -> String {
        format!("{}/zones/{}.", self.base, zone.trim_end_matches('.'))
    }

    /// Every zone the server has.
    pub async fn zones(&self) -> Result<Vec<ZoneInfo>> {
        let url = format!("{}/zones", self.base);
        let resp = self.send(self.client.get(&url), &url).await?;
        self.json(resp, &url).await
    }

    /// A zone's rrsets (all, or those of one name and optionally one type);
    /// `None` if the server has no such zone.
    pub async fn rrsets(
        &self,
        zone: &str,
        name: Option<&str>,
        rtype: Option<&str>,
    ) -> Result<Option<Vec<RRSet>>> {
        let url = self.zone_url(zone);
        let mut full = reqwest::Url::parse(&url)
            .map_err(|e| ProviderError::rejected(format!("bad zone URL {url}: {e}")))?;
        if let Some(n) = name {
            full.query_pairs_mut().append_pair("rrset_name", n);
            if let Some(t) = rtype {
                full.query_pairs_mut().append_pair("rrset_type", t);
            }
        }
        let req = self.client.get(full);
        match self.send(req, &url).await {
            Ok(resp) => Ok(Some(self.json::<Zone>(resp, &url).await?.rrsets)),
            Err(ProviderError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One PATCH with every rrset change for a zone (the server applies all or none).
    pub async fn patch(&self, zone: &str, rrsets: &[RRSet]) -> Result<()> {
        let url = self.zone_url(zone);
        let body = serde_json::json!({ "rrsets": rrsets });
        let _one_writer = self.writes.lock().await;
        match self.send(self.client.patch(&url).json(&body), &url).await {
            Ok(_) => Ok(()),
            Err(ProviderError::NotFound(_)) => Err(ProviderError::rejected(format!(
                "zone {zone} does not exist on the PowerDNS server (create it there first)"
            ))),
            Err(e) => Err(e),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder, url: &str) -> Result<reqwest::Response> {
        let resp = req.send().await.map_err(|e| self.transport(url, &e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let retry_after = http::retry_after(resp.headers());
        let text = resp.text().await.unwrap_or_default();
        let message = self.redact(&format!(
            "PowerDNS answered {} to {}: {}",
            status.as_u16(),
            path_of(url),
            api_message(&text)
        ));
        Err(match status.as_u16() {
            429 | 500..=599 => ProviderError::Transient {
                message,
                retry_after,
            },
            401 | 403 => ProviderError::Auth(format!("{message} (check api_key)")),
            404 => ProviderError::NotFound(message),
            // PowerDNS before 4.8 said so for a missing zone.
            422 if text.contains("Could not find domain") => ProviderError::NotFound(message),
            s => ProviderError::Rejected {
                status: Some(s),
                message,
            },
        })
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        resp: reqwest::Response,
        url: &str,
    ) -> Result<T> {
        let bytes = resp.bytes().await.map_err(|e| self.transport(url, &e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            ProviderError::rejected(format!(
                "PowerDNS sent an answer to {} that is not the expected JSON: {e}",
                path_of(url)
            ))
        })
    }

    /// Timeouts, refused or dropped connections: all worth another try.
    fn transport(&self, url: &str, e: &reqwest::Error) -> ProviderError {
        let what = if e.is_timeout() {
            format!("no answer within {} s", self.timeout.as_secs_f64())
        } else if e.is_connect() {
            format!("cannot connect ({})", http::root_cause(e))
        } else {
            format!(
                "the connection broke before the answer was complete ({})",
                http::root_cause(e)
            )
        };
        // A transport failure is always worth another try here: PowerDNS's
        // answers are idempotent (REPLACE), and a broken read is as good as none.
        ProviderError::Transient {
            message: self.redact(&format!("PowerDNS at {}: {what}", origin_of(url))),
            retry_after: None,
        }
    }

    fn redact(&self, text: &str) -> String {
        self.key.mask(text)
    }
}

/// The `error` field of a PowerDNS error body, or a short excerpt of the text.
fn api_message(text: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
            return e.to_string();
        }
    }
    http::excerpt(text)
}

fn path_of(url: &str) -> &str {
    url.find("/api/").map(|i| &url[i..]).unwrap_or(url)
}

fn origin_of(url: &str) -> &str {
    url.find("/api/").map(|i| &url[..i]).unwrap_or(url)
}
