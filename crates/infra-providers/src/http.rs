//! What every HTTP API provider shares: the client's timeouts (no proxy for a
//! server on this machine), the Retry-After header, transport failures as
//! transient errors naming their cause, and short excerpts of error bodies.
//! Status codes stay each provider's own: the APIs disagree on what a 403 or a
//! 500 means (PVE answers 500 for a bad parameter, Cloudflare 400 with codes).

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use infra_kit::ProviderError;

/// A client builder with a total and a connect timeout and infra's user agent;
/// a loopback `base` bypasses any configured proxy.
pub fn client(base: &reqwest::Url, timeout: Duration, connect: Duration) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(connect)
        .user_agent(concat!("infra/", env!("CARGO_PKG_VERSION")));
    let loopback = base.host_str().is_some_and(|h| {
        h == "localhost"
            || h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    if loopback {
        builder.no_proxy()
    } else {
        builder
    }
}

/// The wait a server asks for, in seconds (whole or decimal, as Cloudflare sends).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Every cause of a transport error, outermost first, joined by ": ".
pub fn causes(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The innermost cause ("Connection refused (os error 111)").
pub fn root_cause(e: &reqwest::Error) -> String {
    let mut last = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// A request that got no answer (timeout, refused or dropped connection) is
/// worth another try; `message` says where it went. A reply cut off while being
/// read is not: the write it answers may have happened.
pub fn transport(e: &reqwest::Error, message: String) -> ProviderError {
    if e.is_timeout() || e.is_connect() || e.is_request() {
        ProviderError::Transient {
            message,
            retry_after: None,
        }
    } else {
        ProviderError::rejected(message)
    }
}

/// At most 200 characters of a body, whitespace folded, for a message.
pub fn excerpt(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(200) {
        _ if one.is_empty() => "(empty body)".into(),
        Some((i, _)) => format!("{}…", &one[..i]),
        None => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_takes_whole_and_decimal_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static(" 1.5 "));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("-3"));
        assert_eq!(retry_after(&h), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt("  a\n  b "), "a b");
        assert_eq!(excerpt(""), "(empty body)");
        let long = "x".repeat(500);
        assert_eq!(excerpt(&long).chars().count(), 201);
    }
}
