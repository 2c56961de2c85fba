//! Refuse, before any request, what Cloudflare cannot hold or would store in a
//! different form (dnscontrol's "audit" step). A record that Cloudflare would
//! rewrite (an upper-case name, a trailing dot, a non-canonical IPv6 address)
//! would show as a change on every plan, so the message names the form to write
//! instead. `proxied = true` is refused for private, loopback and link-local
//! addresses: Cloudflare's edge cannot reach them, and proxying them would
//! publish an internal service's existence for nothing. Pure, no I/O.

use std::net::IpAddr;

use serde_json::Value;

use super::convert::PROXIABLE;
use infra_kit::{Desired, Finding, ProviderError, Result};

/// The record types Cloudflare serves: the `type` enum of its API contract
/// (`dns-records_*Record`, 2024-08-06). SPF and OPENPGPKEY are not in it (the
/// octoDNS fixture's SPF record breaks the contract), so they are refused.
pub const TYPES: &[&str] = &[
    "A", "AAAA", "CAA", "CERT", "CNAME", "DNSKEY", "DS", "HTTPS", "LOC", "MX", "NAPTR", "NS",
    "PTR", "SMIMEA", "SRV", "SSHFP", "SVCB", "TLSA", "TXT", "URI",
];

/// Cloudflare's limit on a record comment (free plans; paid plans allow 500).
pub const COMMENT_MAX: usize = 100;

/// Check a desired record before any request; `comment` is the marker it will carry.
pub fn check(d: &Desired, comment: &str) -> Result<()> {
    match audit(d, comment).into_iter().next() {
        Some(f) => Err(ProviderError::rejected(f.message)),
        None => Ok(()),
    }
}

/// Every problem with a desired record, by attribute; `comment` is the marker it will carry.
pub fn audit(d: &Desired, comment: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let a = &d.attrs;
    let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("");
    let (zone, name, rtype, content) = (s("zone"), s("name"), s("type"), s("content"));
    let ttl = a.get("ttl").and_then(Value::as_i64).unwrap_or(1);
    let proxied = a.get("proxied").and_then(Value::as_bool).unwrap_or(false);
    let priority = a.get("priority").and_then(Value::as_i64);
    // The engine names the address; the message says what is wrong and what to write.
    let mut bad = |key: &str, message: String| {
        out.push(Finding {
            key: (!key.is_empty()).then(|| key.to_string()),
            message,
        })
    };

    if let Some(k) = d.settings.keys().next() {
        bad(
            "",
            format!("the cloudflare provider has no per-record setting `{k}`"),
        );
    }
    for (what, v) in [("zone", zone), ("name", name)] {
        if v != v.to_ascii_lowercase() || v.ends_with('.') {
            bad(what, format!(
                "write {what} = \"{}\": Cloudflare stores names in lower case without a trailing dot",
                v.to_ascii_lowercase().trim_end_matches('.')
            ));
        }
    }
    if ttl != 1 && !(30..=86_400).contains(&ttl) {
        bad("ttl", format!(
            "ttl = {ttl} is outside what Cloudflare accepts: 1 (automatic) or 60–86400 seconds (30 on Enterprise zones)"
        ));
    }
    match (infra_core::dns::has_priority(rtype), priority) {
        (false, Some(_)) => bad(
            "priority",
            format!("priority only applies to MX, SRV, URI, SVCB and HTTPS records, not {rtype}"),
        ),
        (true, None) => bad(
            "priority",
            format!("{rtype} records need a priority, e.g. priority = 10"),
        ),
        _ => {}
    }
    if !TYPES.contains(&rtype) {
        bad(
            "type",
            format!(
                "Cloudflare does not serve {rtype} records (it serves {})",
                TYPES.join(", ")
            ),
        );
    } else if let Err(why) = infra_core::dns::check_content(rtype, content) {
        bad("content", why);
    } else if rtype == "LOC" && !super::data::loc_is_complete(content) {
        bad("content", "write all twelve LOC fields, like \"51 30 12.7 N 0 7 39.6 W 0m 1m 10000m 10m\": Cloudflare holds each one".into());
    }
    if proxied {
        if !PROXIABLE.contains(&rtype) {
            bad(
                "proxied",
                format!(
                    "proxied = true is only possible for A, AAAA and CNAME records, not {rtype}"
                ),
            );
        }
        if let Ok(ip) = content.parse::<IpAddr>() {
            if let Some(why) = private(ip) {
                bad("proxied", format!(
                    "proxied = true is refused for {ip}: it is {why}, which Cloudflare's edge cannot reach; set proxied = false (the record then only resolves)"
                ));
            }
        }
        if ttl != 1 {
            bad("proxied", format!(
                "proxied records always have an automatic TTL on Cloudflare: set ttl = 1 (ttl = {ttl} would show as a change on every plan)"
            ));
        }
    }
    if comment.chars().count() > COMMENT_MAX {
        bad("", format!(
            "the ownership marker {comment:?} is longer than Cloudflare's {COMMENT_MAX}-character comment limit; use a shorter resource name"
        ));
    }
    out
}

/// Why an address is not publicly routable, if it is not.
pub fn private(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("a loopback address")
            } else if v4.is_private() {
                Some("a private (RFC 1918) address")
            } else if v4.is_link_local() {
                Some("a link-local address")
            } else if a == 100 && (64..128).contains(&b) {
                Some("a carrier-grade NAT (RFC 6598) address")
            } else if v4.is_unspecified() || v4.is_broadcast() {
                Some("not a host address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a unique local (private) address")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if v6.is_unspecified() {
                Some("not a host address")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn desired(v: Value) -> Desired {
        let mut attrs: infra_core::spec::Attrs = serde_json::from_value(v).unwrap();
        for (k, d) in [("ttl", json!(300)), ("proxied", json!(false))] {
            attrs.entry(k.to_string()).or_insert(d);
        }
        Desired {
            address: "dns_record.x".into(),
            kind: "dns_record".into(),
            attrs,
            settings: Default::default(),
        }
    }

    fn err(v: Value) -> String {
        check(&desired(v), "infra:p/dns_record.x")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn proxying_a_private_address_is_refused() {
        for ip in [
            "192.168.1.52",
            "10.0.0.1",
            "127.0.0.1",
            "172.16.5.5",
            "100.64.0.1",
            "169.254.1.1",
        ] {
            let e = err(
                json!({"zone": "example.com", "name": "x", "type": "A", "content": ip, "proxied": true, "ttl": 1}),
            );
            assert!(
                e.contains("proxied = true is refused") && e.contains(ip),
                "{e}"
            );
        }
        for ip in ["fd00::1", "::1", "fe80::1", "::ffff:192.168.1.1"] {
            let e = err(
                json!({"zone": "example.com", "name": "x", "type": "AAAA", "content": ip, "proxied": true, "ttl": 1}),
            );
            assert!(e.contains("refused"), "{ip}: {e}");
        }
        let ok = desired(
            json!({"zone": "example.com", "name": "x", "type": "A", "content": "203.0.113.9", "proxied": true, "ttl": 1}),
        );
        assert!(check(&ok, "m").is_ok());
    }

    #[test]
    fn forms_cloudflare_would_rewrite_are_refused_with_the_form_to_write() {
        let e = err(
            json!({"zone": "example.com", "name": "WWW", "type": "A", "content": "203.0.113.9"}),
        );
        assert!(e.contains("write name = \"www\""), "{e}");
        let e = err(
            json!({"zone": "example.com", "name": "x", "type": "CNAME", "content": "target.example.net."}),
        );
        assert!(e.contains("is written `target.example.net`"), "{e}");
        let e = err(
            json!({"zone": "example.com", "name": "x", "type": "AAAA", "content": "2001:DB8:0::1"}),
        );
        assert!(e.contains("`2001:db8::1`"), "{e}");
        let e = err(
            json!({"zone": "example.com", "name": "x", "type": "A", "content": "203.0.113.9", "proxied": true}),
        );
        assert!(e.contains("set ttl = 1"), "{e}");
        let e = err(
            json!({"zone": "example.com", "name": "x", "type": "MX", "content": "mx.example.com"}),
        );
        assert!(e.contains("need a priority"), "{e}");
        let e = err(
            json!({"zone": "example.com", "name": "x", "type": "TXT", "content": "hi", "proxied": true, "ttl": 1}),
        );
        assert!(e.contains("only possible for A, AAAA and CNAME"), "{e}");
        let e = err(
            json!({"zone": "example.com", "name": "x", "type": "A", "content": "203.0.113.9", "ttl": 10}),
        );
        assert!(e.contains("ttl = 10"), "{e}");
    }

    #[test]
    fn long_markers_are_refused() {
        let d = desired(
            json!({"zone": "example.com", "name": "x", "type": "A", "content": "203.0.113.9"}),
        );
        assert!(check(&d, &"m".repeat(101))
            .unwrap_err()
            .to_string()
            .contains("100-character"));
    }
}
