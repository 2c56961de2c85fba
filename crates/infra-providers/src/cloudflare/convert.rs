//! Cloudflare records ⇄ infra attributes. Cloudflare names are FQDNs; infra's
//! are relative to the zone with `@` for the apex. Structured types (SRV, CAA,
//! SSHFP, TLSA, DS, NAPTR, SVCB, LOC, …) travel as a `data` object (their
//! `content` is read-only in the API) and are written in infra as one content
//! string, as in a zone file (see `data`). Pure functions, no I/O.

use serde_json::{json, Map, Value};

use super::data;
use infra_core::spec::Attrs;
use infra_kit::{parse_marker, Observed};

/// Record types whose traffic Cloudflare can proxy.
pub const PROXIABLE: &[&str] = &["A", "AAAA", "CNAME"];

/// The FQDN Cloudflare uses for a relative name.
pub fn fqdn(name: &str, zone: &str) -> String {
    if name == "@" || name.is_empty() {
        zone.to_string()
    } else {
        format!("{name}.{zone}")
    }
}

/// The relative name infra uses for a Cloudflare FQDN (unchanged when outside the zone).
pub fn relative(fqdn: &str, zone: &str) -> String {
    let f = fqdn.trim_end_matches('.');
    if f.eq_ignore_ascii_case(zone) {
        return "@".into();
    }
    match f.len().checked_sub(zone.len() + 1) {
        Some(cut)
            if f.is_char_boundary(cut)
                && f[cut..].starts_with('.')
                && f[cut + 1..].eq_ignore_ascii_case(zone) =>
        {
            f[..cut].to_string()
        }
        _ => f.to_string(),
    }
}

fn str_attr<'a>(attrs: &'a Attrs, k: &str) -> &'a str {
    attrs.get(k).and_then(Value::as_str).unwrap_or("")
}

fn num(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
}

/// The request body for a record: full desired fields plus the marker comment.
/// Callers have audited the attributes, so structured data parses.
pub fn body(attrs: &Attrs, comment: &str) -> Value {
    let zone = str_attr(attrs, "zone");
    let rtype = str_attr(attrs, "type");
    let content = str_attr(attrs, "content");
    let priority = attrs.get("priority").and_then(num);
    let mut b = Map::new();
    b.insert("type".into(), json!(rtype));
    b.insert("name".into(), json!(fqdn(str_attr(attrs, "name"), zone)));
    match data::data_of(rtype, content, priority) {
        Some(d) => {
            b.insert("data".into(), d);
        }
        None => {
            b.insert("content".into(), json!(content));
        }
    }
    b.insert(
        "ttl".into(),
        json!(attrs.get("ttl").and_then(num).unwrap_or(1)),
    );
    if PROXIABLE.contains(&rtype) {
        let proxied = attrs
            .get("proxied")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        b.insert("proxied".into(), json!(proxied));
    }
    if let Some(p) = priority.filter(|_| !data::priority_in_data(rtype)) {
        b.insert("priority".into(), json!(p));
    }
    b.insert("comment".into(), json!(comment));
    Value::Object(b)
}

/// A Cloudflare record as infra sees it. `zone` is the zone it was listed under.
pub fn observe(record: &Value, zone: &str, project: &str) -> Option<Observed> {
    let id = record.get("id")?.as_str()?.to_string();
    let rtype = record["type"].as_str().unwrap_or_default();
    let name = record["name"].as_str().unwrap_or_default();
    let data = &record["data"];
    let raw = record["content"].as_str().unwrap_or_default();
    let content = match data::content_of(rtype, data).filter(|_| data.is_object()) {
        Some(c) => c,
        None => match rtype {
            // TXT as the spec writes it: one unquoted text.
            "TXT" | "SPF" if raw.starts_with('"') => infra_core::dns::unquote_txt(raw),
            "CNAME" | "MX" | "NS" | "PTR" => raw.trim_end_matches('.').to_string(),
            _ => raw.to_string(),
        },
    };
    let mut attrs = Attrs::new();
    attrs.insert("zone".into(), json!(zone));
    attrs.insert("name".into(), json!(relative(name, zone)));
    attrs.insert("type".into(), json!(rtype));
    attrs.insert("content".into(), json!(content));
    attrs.insert("ttl".into(), json!(num(&record["ttl"]).unwrap_or(1)));
    attrs.insert(
        "proxied".into(),
        json!(record["proxied"].as_bool().unwrap_or(false)),
    );
    let priority = if data::priority_in_data(rtype) {
        num(&data["priority"]).or_else(|| num(&record["priority"]))
    } else if infra_core::dns::has_priority(rtype) {
        num(&record["priority"])
    } else {
        None
    };
    if let Some(p) = priority {
        attrs.insert("priority".into(), json!(p));
    }
    attrs.insert("fqdn".into(), json!(name.trim_end_matches('.')));
    attrs.insert("id".into(), json!(id));
    let marker = record["comment"]
        .as_str()
        .and_then(|c| c.split_whitespace().next())
        .filter(|m| m.starts_with("infra:"));
    let owner = marker
        .and_then(|m| parse_marker(project, m))
        .map(str::to_string);
    let claimed_by = marker.filter(|_| owner.is_none()).map(str::to_string);
    Some(Observed {
        id,
        owner,
        attrs,
        claimed_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(v: Value) -> Attrs {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn names_are_normalised_both_ways() {
        assert_eq!(fqdn("@", "example.com"), "example.com");
        assert_eq!(fqdn("www.lab", "example.com"), "www.lab.example.com");
        assert_eq!(relative("example.com", "example.com"), "@");
        assert_eq!(relative("www.lab.example.com", "example.com"), "www.lab");
        assert_eq!(relative("WWW.Example.com.", "example.com"), "WWW");
        assert_eq!(relative("notexample.com", "example.com"), "notexample.com");
        assert_eq!(relative("other.org", "example.com"), "other.org");
    }

    #[test]
    fn a_record_round_trips() {
        let a = attrs(
            json!({"zone": "example.com", "name": "www", "type": "A", "content": "203.0.113.5", "ttl": 300, "proxied": false}),
        );
        let b = body(&a, "infra:p/dns_record.www");
        assert_eq!(
            b,
            json!({"type": "A", "name": "www.example.com", "content": "203.0.113.5", "ttl": 300, "proxied": false, "comment": "infra:p/dns_record.www"})
        );
        let mut rec = b.clone();
        rec["id"] = json!("0123456789abcdef0123456789abcdef");
        let o = observe(&rec, "example.com", "p").unwrap();
        assert_eq!(o.owner.as_deref(), Some("dns_record.www"));
        for k in ["zone", "name", "type", "content", "ttl", "proxied"] {
            assert_eq!(o.attrs[k], a[k], "{k}");
        }
        assert_eq!(o.attrs["fqdn"], json!("www.example.com"));
        assert!(observe(&rec, "example.com", "other-project")
            .unwrap()
            .owner
            .is_none());
    }

    #[test]
    fn srv_and_caa_use_data() {
        let srv = attrs(
            json!({"zone": "example.com", "name": "_sip._tcp", "type": "SRV", "content": "5 5060 sip.example.com", "priority": 10, "ttl": 300}),
        );
        let b = body(&srv, "c");
        assert_eq!(
            b["data"],
            json!({"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"})
        );
        assert!(b.get("content").is_none() && b.get("proxied").is_none());
        let mut rec = b.clone();
        rec["id"] = json!("x");
        let o = observe(&rec, "example.com", "p").unwrap();
        assert_eq!(o.attrs["content"], srv["content"]);
        assert_eq!(o.attrs["priority"], json!(10));
        let caa = attrs(
            json!({"zone": "example.com", "name": "@", "type": "CAA", "content": "0 issue \"letsencrypt.org\"", "ttl": 300}),
        );
        let mut rec = body(&caa, "c");
        assert_eq!(
            rec["data"],
            json!({"flags": 0, "tag": "issue", "value": "letsencrypt.org"})
        );
        rec["id"] = json!("y");
        assert_eq!(
            observe(&rec, "example.com", "p").unwrap().attrs["content"],
            caa["content"]
        );
    }
}
