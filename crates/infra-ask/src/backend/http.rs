//! Shared HTTP for the model backends: one reqwest client per interpreter with
//! the configured connect and total timeout, at most two retries for 429 and
//! 5xx (honouring `Retry-After`), and errors that name the backend and the
//! cause. It knows nothing about either API's request shape: backends hand in
//! JSON and get JSON back. Keys travel only in headers marked sensitive, and
//! every message built here is scrubbed of the key in case a server echoes it.

use std::fmt::Display;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde_json::Value;

use infra_core::error::Error;
use infra_engine::retry::{RetryPolicy, RetryableError};
use infra_kit::Secret;

/// Retries after the first attempt, for 429 and 5xx only: enough to ride out a
/// short overload without keeping a person at the prompt for minutes.
pub const MAX_RETRIES: u32 = 2;
/// The longest pause taken for a `Retry-After`: `infra ask` is interactive, so a
/// server asking for more is reported at once.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);

pub struct Http {
    client: reqwest::Client,
    backend: &'static str,
    timeout: Duration,
    secret: Option<Secret>,
}

impl Http {
    /// `backend` names the interpreter in every message ("anthropic", "openai").
    pub fn new(
        backend: &'static str,
        base_url: &str,
        timeout: Duration,
        secret: Option<Secret>,
    ) -> Result<Self, Error> {
        let url = reqwest::Url::parse(base_url).map_err(|e| {
            infra_core::err!("{backend}: base_url {base_url:?} is not a URL: {e}")
                .hint("set [ai] base_url to something like http://localhost:11434/v1")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(infra_core::err!(
                "{backend}: base_url {base_url:?} must start with http:// or https://"
            ));
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout);
        // A local model server (Ollama, llama.cpp) must not be sent through an
        // HTTP_PROXY meant for the internet; remote APIs still honour it.
        if is_loopback(&url) {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| {
            infra_core::err!("{backend}: cannot set up the HTTP client: {}", causes(&e))
        })?;
        Ok(Http {
            client,
            backend,
            timeout,
            secret,
        })
    }

    /// An error whose message names the backend, with the key scrubbed out.
    pub fn fail(&self, message: impl Display) -> Error {
        Error::new(self.redact(&format!("{}: {message}", self.backend)))
    }

    fn redact(&self, text: &str) -> String {
        match &self.secret {
            Some(s) => s.mask(text),
            None => text.to_string(),
        }
    }

    /// POST `body` as JSON and return the JSON answer, retrying 429 and 5xx by
    /// the engine's one retry policy (here: two retries, waits up to 10 s).
    pub async fn post_json(
        &self,
        url: &str,
        headers: HeaderMap,
        body: &Value,
    ) -> Result<Value, Error> {
        let policy = RetryPolicy {
            max_retries: MAX_RETRIES,
            first_wait: Duration::from_millis(500),
            longest_wait: MAX_RETRY_WAIT,
        };
        let attempts = AtomicU32::new(1);
        let once = || async {
            let sent = self
                .client
                .post(url)
                .headers(headers.clone())
                .json(body)
                .send()
                .await;
            let resp = sent.map_err(|e| Refused::Final(self.transport_error(url, &e)))?;
            let status = resp.status();
            let asked_wait = retry_after(resp.headers());
            let text = resp
                .text()
                .await
                .map_err(|e| Refused::Final(self.transport_error(url, &e)))?;
            if status.is_success() {
                return serde_json::from_str(&text).map_err(|e| {
                    Refused::Final(self.fail(format!(
                        "the API's response is not JSON ({e}): {}",
                        excerpt(&text, 200)
                    )))
                });
            }
            let err = self.status_error(status, &text, attempts.load(Ordering::Relaxed));
            if status.as_u16() == 429 || status.is_server_error() {
                Err(Refused::Again(err, asked_wait))
            } else {
                Err(Refused::Final(err))
            }
        };
        let notify = |_, _: &Refused, _| {
            attempts.fetch_add(1, Ordering::Relaxed);
        };
        policy.run(once, notify).await.map_err(Refused::into_error)
    }

    /// The error for an HTTP failure after `attempts` tries, with the API's own words.
    fn status_error(&self, status: reqwest::StatusCode, text: &str, attempts: u32) -> Error {
        let tries = if attempts > 1 {
            format!(" after {attempts} attempts")
        } else {
            String::new()
        };
        let code = match status.canonical_reason() {
            Some(reason) => format!("{} {reason}", status.as_u16()),
            None => status.as_u16().to_string(),
        };
        let err = self.fail(format!(
            "the API answered HTTP {code}{tries}: {}",
            api_message(text)
        ));
        match status.as_u16() {
            401 | 403 => err.hint("check the API key: [ai] api_key (env:NAME or file:PATH) or the backend's key variable"),
            404 => err.hint("check [ai] base_url and [ai] model"),
            429 => err.hint("the API is rate limiting: wait a little and try again, or use --backend offline"),
            s if s >= 500 => err.hint("the API is having trouble: try again later, or use --backend offline"),
            _ => err,
        }
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error) -> Error {
        if e.is_timeout() {
            return self
                .fail(format!(
                    "no answer within {} (from {url})",
                    seconds(self.timeout)
                ))
                .hint("raise [ai] timeout_secs, or use --backend offline");
        }
        if e.is_connect() {
            return self
                .fail(format!("cannot connect to {url}: {}", causes(e)))
                .hint("check [ai] base_url and that the server is running");
        }
        self.fail(format!("the request to {url} failed: {}", causes(e)))
    }
}

/// A header for a request; `sensitive` keeps the value out of Debug output.
/// The error never repeats the value, which may be a key.
pub fn header(
    name: &'static str,
    value: &str,
    sensitive: bool,
) -> Result<(HeaderName, HeaderValue), String> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        format!("the value for header {name} contains characters not allowed in HTTP headers")
    })?;
    v.set_sensitive(sensitive);
    Ok((HeaderName::from_static(name), v))
}

/// `Retry-After` in seconds (integer or decimal). HTTP dates are rare from
/// these APIs and fall back to the default backoff.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let s = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = s.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// A failed call: worth another try (with the server's Retry-After), or not.
enum Refused {
    Again(Error, Option<Duration>),
    Final(Error),
}

impl Refused {
    fn into_error(self) -> Error {
        match self {
            Refused::Again(e, _) | Refused::Final(e) => e,
        }
    }
}

impl RetryableError for Refused {
    fn transient(&self) -> Option<Option<Duration>> {
        match self {
            Refused::Again(_, wait) => Some(*wait),
            Refused::Final(_) => None,
        }
    }
}

/// The API's own explanation, from whichever error envelope it uses:
/// Anthropic `{"type":"error","error":{"type","message"}}`, OpenAI
/// `{"error":{"message","type"}}`, Ollama `{"error":"…"}`, or plain text.
pub fn api_message(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return if body.trim().is_empty() {
            "(empty body)".into()
        } else {
            excerpt(body, 300)
        };
    };
    let err = v.get("error").unwrap_or(&v);
    if let Some(s) = err.as_str() {
        return excerpt(s, 300);
    }
    let message = err.get("message").and_then(Value::as_str);
    let kind = err
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| *t != "error");
    match (kind, message) {
        (Some(k), Some(m)) => format!("{k}: {}", excerpt(m, 300)),
        (None, Some(m)) => excerpt(m, 300),
        _ => excerpt(body, 300),
    }
}

/// At most `max` characters of `text` on one line, marked when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let cut: String = one_line.chars().take(max).collect();
    format!("{cut}…")
}

/// "1 s", "1.5 s": how the timeout reads in messages.
pub fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The error and its causes on one line, without the URL reqwest adds (the
/// caller names the URL once).
fn causes(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ")
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(h) => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_envelopes_of_each_api_are_read() {
        let anthropic =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(api_message(anthropic), "overloaded_error: Overloaded");
        let openai = r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        assert_eq!(
            api_message(openai),
            "invalid_request_error: Incorrect API key provided"
        );
        assert_eq!(
            api_message(r#"{"error":"model \"x\" not found"}"#),
            "model \"x\" not found"
        );
        assert_eq!(api_message("Bad Gateway\n"), "Bad Gateway");
        assert_eq!(api_message(""), "(empty body)");
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("0.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(500)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for (u, want) in [
            ("http://localhost:11434/v1", true),
            ("http://127.0.0.1:8080", true),
            ("http://[::1]:8080", true),
            ("https://api.openai.com/v1", false),
        ] {
            assert_eq!(is_loopback(&reqwest::Url::parse(u).unwrap()), want, "{u}");
        }
    }

    #[test]
    fn bad_base_urls_are_refused_with_the_backend_named() {
        let e = Http::new("openai", "localhost:8080", Duration::from_secs(1), None)
            .err()
            .unwrap();
        assert!(e.message.starts_with("openai: "), "{}", e.message);
        let e = Http::new("openai", "not a url", Duration::from_secs(1), None)
            .err()
            .unwrap();
        assert!(e.message.contains("is not a URL"), "{}", e.message);
    }

    #[test]
    fn excerpts_are_cut_on_character_boundaries() {
        assert_eq!(excerpt("ééé", 2), "éé…");
        assert_eq!(seconds(Duration::from_secs(60)), "60 s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
    }
}
