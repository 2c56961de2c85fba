//! Cloudflare API v4 over HTTP: `Authorization: Bearer` auth, the
//! `{success, errors[{code,message}], messages, result, result_info}` envelope,
//! pagination by `page`/`per_page` until `result_info.total_pages`, and the
//! mapping of failures onto `ProviderError` (401/403 → Auth, 429 and 5xx →
//! Transient with `Retry-After`, 404 → NotFound, duplicate records → Conflict,
//! the rest → Rejected with the API's own `code: message`).
//!
//! It knows JSON, not records. It never retries (the engine retries Transient
//! errors), never logs, and never puts the token in a message: the token
//! travels only in a header marked sensitive, and every message is scrubbed of
//! it in case a server echoes it.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use super::limit::Limiter;
use crate::http;
use infra_kit::{ProviderError, Result, Secret};

pub const DEFAULT_API_URL: &str = "https://api.cloudflare.com/client/v4";
const TIMEOUT: Duration = Duration::from_secs(30);
/// Stop following `total_pages` after this many pages (a server bug, not a zone).
const MAX_PAGES: u64 = 10_000;
/// Error codes that mean "this token is not accepted", whatever the status:
/// 1000 "Invalid API Token", 6003/6111 malformed Authorization header,
/// 9106/9109 missing or invalid token, 10000 "Authentication error".
const AUTH_CODES: &[i64] = &[1000, 6003, 6111, 9106, 9109, 10000];
/// 81053 "An A, AAAA, or CNAME record with that host already exists.",
/// 81057 "Record already exists.", 81058 "An identical record already exists."
const CONFLICT_CODES: &[i64] = &[81053, 81057, 81058];

pub struct Api {
    client: reqwest::Client,
    base: Url,
    token: Secret,
    limiter: Limiter,
}

/// A successful answer: `result` and, for lists, `result_info`.
pub struct Answer {
    pub result: Value,
    pub result_info: Option<Value>,
}

impl Api {
    pub fn new(api_url: &str, token: Secret, limiter: Limiter) -> std::result::Result<Api, String> {
        let base = Url::parse(api_url.trim_end_matches('/'))
            .map_err(|e| format!("api_url {api_url:?} is not a URL: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(format!(
                "api_url {api_url:?} must be an http(s) URL like {DEFAULT_API_URL}"
            ));
        }
        if token.expose().trim().is_empty() {
            return Err("the Cloudflare API token is empty".into());
        }
        let client = http::client(&base, TIMEOUT, Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Api {
            client,
            base,
            token,
            limiter,
        })
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        {
            let mut segs = url.path_segments_mut().expect("checked: can be a base");
            segs.pop_if_empty();
            segs.extend(path.trim_start_matches('/').split('/'));
        }
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        url
    }

    /// One request; the envelope unwrapped or the failure mapped.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer> {
        let url = self.url(path, query);
        let what = format!("{method} {}", url.path());
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", self.token.expose())).map_err(|_| {
                ProviderError::Auth(
                    "the API token contains characters not allowed in an HTTP header".into(),
                )
            })?;
        auth.set_sensitive(true);
        let mut req = self
            .client
            .request(method, url)
            .header(AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        self.limiter.acquire().await;
        let resp = req.send().await.map_err(|e| self.transport(&what, &e))?;
        let status = resp.status();
        let retry_after = http::retry_after(resp.headers());
        let text = resp.text().await.map_err(|e| self.transport(&what, &e))?;
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            if let Some(v) = json.as_ref().filter(|v| v["success"] == Value::Bool(true)) {
                return Ok(Answer {
                    result: v.get("result").cloned().unwrap_or(Value::Null),
                    result_info: v.get("result_info").cloned(),
                });
            }
        }
        Err(self.failure(&what, status, json.as_ref(), &text, retry_after))
    }

    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        Ok(self.call(Method::GET, path, query, None).await?.result)
    }

    /// Every item of a paginated list: one request per page, following
    /// `result_info.total_pages` (or `total_count`/`per_page` when a server
    /// leaves `total_pages` out), whatever page size the server chose.
    pub async fn all_pages(
        &self,
        path: &str,
        query: &[(&str, String)],
        per_page: u32,
    ) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut page = 1u64;
        loop {
            let mut q = query.to_vec();
            q.push(("page", page.to_string()));
            q.push(("per_page", per_page.to_string()));
            let answer = self.call(Method::GET, path, &q, None).await?;
            let items = match answer.result {
                Value::Array(items) => items,
                Value::Null => Vec::new(),
                other => {
                    return Err(ProviderError::rejected(format!(
                        "cloudflare: GET {path} returned {} instead of a list",
                        kind_of(&other)
                    )))
                }
            };
            let got = items.len() as u64;
            out.extend(items);
            let info = answer.result_info.unwrap_or(Value::Null);
            let num = |k: &str| info.get(k).and_then(Value::as_f64).map(|f| f as u64);
            let total_pages = num("total_pages").or_else(|| {
                let (count, size) = (num("total_count")?, num("per_page").filter(|s| *s > 0)?);
                Some(count.div_ceil(size))
            });
            let more = match total_pages {
                Some(t) => page < t,
                None => got > 0 && got >= u64::from(per_page),
            };
            if !more || got == 0 || page >= MAX_PAGES {
                return Ok(out);
            }
            page += 1;
        }
    }

    fn transport(&self, what: &str, e: &reqwest::Error) -> ProviderError {
        let message = self.scrub(&format!(
            "cloudflare: {what} to {} failed: {}",
            self.base.host_str().unwrap_or("?"),
            http::causes(e)
        ));
        http::transport(e, message)
    }

    fn failure(
        &self,
        what: &str,
        status: StatusCode,
        json: Option<&Value>,
        text: &str,
        retry_after: Option<Duration>,
    ) -> ProviderError {
        let (codes, detail) = match json.and_then(|v| v.get("errors")).and_then(Value::as_array) {
            Some(errors) if !errors.is_empty() => (
                errors
                    .iter()
                    .filter_map(|e| e["code"].as_i64())
                    .collect::<Vec<_>>(),
                errors.iter().map(describe).collect::<Vec<_>>().join("; "),
            ),
            _ => (Vec::new(), http::excerpt(text)),
        };
        let detail = self.scrub(&detail);
        let code = status.as_u16();
        let head = format!("cloudflare: {what} answered HTTP {code}: {detail}");
        if code == 429 {
            let wait = retry_after
                .map(|d| format!("; retry after {} s", d.as_secs_f64()))
                .unwrap_or_default();
            return ProviderError::Transient {
                message: format!("{head} (rate limited: the API allows 1200 requests per 5 minutes per user{wait})"),
                retry_after,
            };
        }
        if status.is_server_error() {
            return ProviderError::Transient {
                message: head,
                retry_after,
            };
        }
        // The status decides before the body's codes: a 429 carries code 10000 too,
        // and it means "slow down", not "bad token".
        if code == 401
            || code == 403
            || (code == 400 && codes.iter().any(|c| AUTH_CODES.contains(c)))
        {
            return ProviderError::Auth(format!(
                "Cloudflare refused the API token (HTTP {code}): {detail}; check that the token is valid, not expired, and has Zone:Read and DNS:Edit permissions for the zone"
            ));
        }
        if code == 404 {
            return ProviderError::NotFound(head);
        }
        if codes.iter().any(|c| CONFLICT_CODES.contains(c)) {
            return ProviderError::Conflict(head);
        }
        ProviderError::Rejected {
            status: Some(code),
            message: head,
        }
    }

    fn scrub(&self, text: &str) -> String {
        self.token.mask(text)
    }
}

/// `code: message`, with an `error_chain` (Cloudflare nests causes there) in brackets.
fn describe(e: &Value) -> String {
    let mut s = match (e["code"].as_i64(), e["message"].as_str()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (None, Some(m)) => m.to_string(),
        (Some(c), None) => format!("error {c}"),
        (None, None) => e.to_string(),
    };
    if let Some(chain) = e.get("error_chain").and_then(Value::as_array) {
        let inner: Vec<String> = chain.iter().map(describe).collect();
        s = format!("{s} ({})", inner.join("; "));
    }
    s
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api() -> Api {
        Api::new(
            "http://127.0.0.1:9/client/v4",
            Secret::new("tok-SECRET"),
            Limiter::cloudflare(),
        )
        .unwrap()
    }

    #[test]
    fn urls_keep_the_base_path_and_encode_queries() {
        let u = api().url(
            "/zones/abc/dns_records",
            &[("name", "a b.example.com".into())],
        );
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9/client/v4/zones/abc/dns_records?name=a+b.example.com"
        );
    }

    #[test]
    fn envelopes_become_errors_of_the_right_kind() {
        let a = api();
        let env = |code: i64, msg: &str| json!({"success": false, "errors": [{"code": code, "message": msg}], "messages": [], "result": null});
        let e = a.failure(
            "GET /zones",
            StatusCode::FORBIDDEN,
            Some(&env(9109, "Invalid access token")),
            "",
            None,
        );
        assert!(
            matches!(&e, ProviderError::Auth(m) if m.contains("9109: Invalid access token")),
            "{e}"
        );
        let e = a.failure(
            "GET /zones",
            StatusCode::TOO_MANY_REQUESTS,
            Some(&env(971, "Please wait")),
            "",
            Some(Duration::from_secs(2)),
        );
        assert!(
            matches!(&e, ProviderError::Transient { retry_after: Some(d), .. } if *d == Duration::from_secs(2)),
            "{e}"
        );
        // A 429 whose body says 10000 ("Authentication error") is still a rate limit.
        let e = a.failure(
            "POST /batch",
            StatusCode::TOO_MANY_REQUESTS,
            Some(&env(10000, "Authentication error")),
            "",
            Some(Duration::from_secs(3)),
        );
        assert!(
            matches!(&e, ProviderError::Transient { retry_after: Some(d), .. } if *d == Duration::from_secs(3)),
            "{e}"
        );
        let e = a.failure(
            "GET /x",
            StatusCode::SERVICE_UNAVAILABLE,
            Some(&env(10000, "Authentication error")),
            "",
            None,
        );
        assert!(e.is_transient(), "{e}");
        let e = a.failure(
            "POST /x",
            StatusCode::BAD_REQUEST,
            Some(&env(81058, "An identical record already exists.")),
            "",
            None,
        );
        assert!(
            matches!(&e, ProviderError::Conflict(m) if m.contains("81058: An identical record already exists.")),
            "{e}"
        );
        let e = a.failure(
            "GET /x",
            StatusCode::BAD_GATEWAY,
            None,
            "<html>bad gateway</html>",
            None,
        );
        assert!(
            e.is_transient() && e.to_string().contains("<html>bad gateway</html>"),
            "{e}"
        );
        let e = a.failure(
            "GET /x",
            StatusCode::BAD_REQUEST,
            Some(&env(1004, "DNS Validation Error: tok-SECRET")),
            "",
            None,
        );
        assert!(
            matches!(&e, ProviderError::Rejected { status: Some(400), message } if message.contains("1004: DNS Validation Error: ****")),
            "{e}"
        );
    }

    #[test]
    fn error_chains_are_kept() {
        let e = json!({"code": 6003, "message": "Invalid request headers", "error_chain": [{"code": 6111, "message": "Invalid format for Authorization header"}]});
        assert_eq!(
            describe(&e),
            "6003: Invalid request headers (6111: Invalid format for Authorization header)"
        );
    }
}
