//! The Proxmox VE HTTP client: API-token auth, form encoding, the `{"data": …}`
//! envelope, errors mapped to `ProviderError`, and task (UPID) polling.
//!
//! Errors: 401 → `Auth` (bad or expired token); 403 → `Rejected` naming the
//! missing privilege (PVE's "Permission check failed (/vms/100, VM.Allocate)");
//! 400 → `Rejected` listing the per-parameter `errors`; 429 (a reverse proxy in
//! front of PVE; PVE itself never sends it), 502/503/504, timeouts and refused
//! connections → `Transient` (honouring Retry-After); 500 → `Rejected`, because PVE
//! answers every failed `die` with 500 and most are permanent (missing template,
//! full storage), except config-lock timeouts, which are `Transient`. The text is
//! the body's `message` (PVE ≥ 8.3) or else the HTTP reason phrase, which older
//! releases use as their only error text. Nothing here retries a request; only
//! task polling repeats reads, because waiting is what polling is.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::tls;
use crate::http;
use infra_kit::{ProviderError, Result, Secret};

/// Longer than PVE's 3 s delay on unauthorised replies.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Client {
    http: reqwest::Client,
    /// `https://HOST:8006/api2/json`
    base: String,
    auth: Secret,
    /// The secret reference, for messages (never the value).
    token_ref: String,
    pinned: bool,
    /// How long a task may run before we stop waiting.
    pub task_timeout: Duration,
}

impl Client {
    pub fn new(
        endpoint: &str,
        token: Secret,
        token_ref: &str,
        fingerprint: Option<tls::Fingerprint>,
    ) -> std::result::Result<Client, String> {
        let endpoint = endpoint.trim_end_matches('/');
        if !endpoint.starts_with("https://") {
            return Err(format!(
                "endpoint must be an https:// URL (the PVE API is HTTPS only, and the token must not travel in clear), got {endpoint:?}"
            ));
        }
        let base = if endpoint.ends_with("/api2/json") {
            endpoint.to_string()
        } else {
            format!("{endpoint}/api2/json")
        };
        let raw = token.expose().trim();
        let raw = raw.strip_prefix("PVEAPIToken=").unwrap_or(raw);
        let ok = raw.split_once('!').is_some_and(|(user, rest)| {
            user.contains('@')
                && rest
                    .split_once('=')
                    .is_some_and(|(id, s)| !id.is_empty() && !s.is_empty())
        });
        if !ok {
            return Err(format!(
                "the token in {token_ref} must look like USER@REALM!TOKENID=SECRET (e.g. root@pam!infra=…)"
            ));
        }
        let url = reqwest::Url::parse(&base).map_err(|e| format!("endpoint {endpoint:?}: {e}"))?;
        let mut builder = http::client(&url, REQUEST_TIMEOUT, Duration::from_secs(10));
        if let Some(fp) = fingerprint {
            builder = builder.tls_backend_preconfigured(tls::pinned_config(Some(fp)).0);
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Client {
            http,
            base,
            auth: Secret::new(format!("PVEAPIToken={raw}")),
            token_ref: token_ref.to_string(),
            pinned: fingerprint.is_some(),
            task_timeout: Duration::from_secs(600),
        })
    }

    pub async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Value> {
        self.call(Method::GET, path, params).await
    }
    pub async fn post(&self, path: &str, params: &[(&str, String)]) -> Result<Value> {
        self.call(Method::POST, path, params).await
    }
    pub async fn put(&self, path: &str, params: &[(&str, String)]) -> Result<Value> {
        self.call(Method::PUT, path, params).await
    }
    pub async fn delete(&self, path: &str, params: &[(&str, String)]) -> Result<Value> {
        self.call(Method::DELETE, path, params).await
    }

    /// One API call; returns `data` of the envelope.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Value> {
        let encoded = {
            let mut ser = form_urlencoded::Serializer::new(String::new());
            for (k, v) in params {
                ser.append_pair(k, v);
            }
            ser.finish()
        };
        let mut url = format!("{}{path}", self.base);
        let body = matches!(method, Method::POST | Method::PUT);
        if !body && !encoded.is_empty() {
            url = format!("{url}?{encoded}");
        }
        let what = format!("{method} {path}");
        let mut auth =
            reqwest::header::HeaderValue::from_str(self.auth.expose()).map_err(|_| {
                ProviderError::Auth(format!(
                    "the token in {} is not a valid header value",
                    self.token_ref
                ))
            })?;
        auth.set_sensitive(true);
        let mut req = self
            .http
            .request(method, &url)
            .header("Authorization", auth)
            .header("Accept", "application/json");
        if body {
            req = req
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(encoded);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Err(self.send_error(&what, e).await),
        };
        let status = resp.status();
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .and_then(|r| std::str::from_utf8(r.as_bytes()).ok())
            .map(str::to_string);
        let retry_after = http::retry_after(resp.headers());
        let text = resp.text().await.map_err(|e| ProviderError::Transient {
            message: format!("{what}: reading the reply failed: {e}"),
            retry_after: None,
        })?;
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(json.get("data").cloned().unwrap_or(Value::Null));
        }
        Err(self.status_error(&what, status, reason, retry_after, &json))
    }

    fn status_error(
        &self,
        what: &str,
        status: StatusCode,
        reason: Option<String>,
        retry_after: Option<Duration>,
        body: &Value,
    ) -> ProviderError {
        let message = body
            .get("message")
            .and_then(Value::as_str)
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .or(reason)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_string());
        let code = status.as_u16();
        match code {
            401 => ProviderError::Auth(format!(
                "Proxmox VE refused the API token from {} ({code} {message}): the token id or secret is wrong, or the token expired or was removed",
                self.token_ref
            )),
            403 => ProviderError::Rejected {
                status: Some(code),
                message: format!(
                    "{what}: permission denied: {message} — grant the token that privilege on that path (with privilege separation, the token needs it as well as its user)"
                ),
            },
            400 => {
                let errors = body
                    .get("errors")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or(&v.to_string()).trim()))
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .unwrap_or_default();
                let message = if errors.is_empty() { message } else { format!("{message} ({errors})") };
                ProviderError::Rejected {
                    status: Some(code),
                    message: format!("{what}: {message}"),
                }
            }
            429 | 502 | 503 | 504 => ProviderError::Transient {
                message: match retry_after {
                    Some(d) => format!("{what}: {code} {message} (retry after {}s)", d.as_secs()),
                    None => format!("{what}: {code} {message}"),
                },
                retry_after,
            },
            500 if message.contains("can't lock file") || message.contains("got timeout") => {
                ProviderError::Transient {
                    message: format!("{what}: {message}"),
                    retry_after,
                }
            }
            501 => ProviderError::Unsupported(format!("{what}: {message}")),
            _ => ProviderError::Rejected {
                status: Some(code),
                message: format!("{what}: {code} {message}"),
            },
        }
    }

    async fn send_error(&self, what: &str, e: reqwest::Error) -> ProviderError {
        if tls::is_cert_error(&e) {
            let seen = tls::probe(&self.base)
                .await
                .map(|f| tls::format_fingerprint(&f));
            let seen = seen
                .map(|f| format!("the server presented SHA-256 fingerprint {f}"))
                .unwrap_or_else(|| "its fingerprint could not be read".into());
            let message = if self.pinned {
                format!(
                    "TLS: {} does not present the pinned certificate ({seen}); if the node's certificate was renewed, compare with `pvenode cert info` on the node and update tls_fingerprint",
                    self.base
                )
            } else {
                format!(
                    "TLS: the certificate of {} is not trusted (self-signed?); {seen} — compare it with `pvenode cert info` on the node and set tls_fingerprint = \"…\" to pin it, or install a certificate from a trusted CA",
                    self.base
                )
            };
            return ProviderError::Rejected {
                status: None,
                message,
            };
        }
        let text = http::causes(&e);
        ProviderError::Transient {
            message: format!("{what}: cannot reach {}: {text}", self.base),
            retry_after: None,
        }
    }

    /// Wait for a task to stop; `Ok` iff its exit status is `OK`. Transient read
    /// failures while waiting (a proxy's 429, a dropped connection) only delay.
    pub async fn wait_task(&self, upid: &Value, node: &str) -> Result<()> {
        let upid = upid.as_str().ok_or_else(|| {
            ProviderError::rejected(format!("expected a task id (UPID), got {upid}"))
        })?;
        // The task runs on the node named in the UPID: poll that node.
        let task_node = upid
            .split(':')
            .nth(1)
            .filter(|n| !n.is_empty())
            .unwrap_or(node);
        let seg = percent_encoding::utf8_percent_encode(upid, percent_encoding::NON_ALPHANUMERIC);
        let path = format!("/nodes/{task_node}/tasks/{seg}/status");
        let deadline = tokio::time::Instant::now() + self.task_timeout;
        let mut pause = Duration::from_millis(100);
        loop {
            match self.get(&path, &[]).await {
                Ok(st) if st.get("status").and_then(Value::as_str) == Some("stopped") => {
                    let exit = st.get("exitstatus").and_then(Value::as_str).unwrap_or("");
                    if exit == "OK" {
                        return Ok(());
                    }
                    let kind = st.get("type").and_then(Value::as_str).unwrap_or("task");
                    return Err(ProviderError::rejected(format!(
                        "Proxmox task {kind} failed: {} (task {upid})",
                        if exit.is_empty() {
                            "no exit status"
                        } else {
                            exit
                        }
                    )));
                }
                Ok(_) => {}
                Err(ProviderError::Transient { retry_after, .. }) => {
                    if let Some(d) = retry_after {
                        pause = pause.max(d);
                    }
                }
                Err(e) => return Err(e),
            }
            // Not transient: repeating the call would start a second task.
            if tokio::time::Instant::now() + pause > deadline {
                return Err(ProviderError::rejected(format!(
                    "task {upid} still running after {}s; it goes on on the node, and the next plan shows where it got",
                    self.task_timeout.as_secs()
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }
}
