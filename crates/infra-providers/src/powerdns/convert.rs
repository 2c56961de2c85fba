//! PowerDNS API ⇄ infra model: the wire types (`RRSet`, `Record`, `Comment`), the
//! audit that rejects what cannot round-trip before any call is made, and the
//! conversion of one rrset into an `Observed` in the spec's own form (relative
//! names, host names without the trailing dot, TXT unquoted, MX/SRV priority split
//! out), so a plan after an apply compares equal. No I/O here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use infra_core::spec::Attrs;
use infra_kit::{marker, parse_marker, Desired, Finding, Observed, ProviderError, Result};

/// One rrset as the API sends and receives it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RRSet {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changetype: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<Record>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub content: String,
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comment {
    pub content: String,
    #[serde(default)]
    pub account: String,
}

/// The account name on the marker comment.
pub const ACCOUNT: &str = "infra";

/// Which rrset a resource is: zone and relative name as in the spec, plus the type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub zone: String,
    pub name: String,
    pub rtype: String,
}

impl Key {
    /// Parse an id `ZONE/NAME/TYPE` (name relative, `@` for the apex).
    pub fn parse(id: &str) -> Result<Key> {
        let mut parts = id.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(zone), Some(name), Some(rtype))
                if !zone.is_empty() && !name.is_empty() && !rtype.is_empty() =>
            {
                Ok(Key {
                    zone: zone.into(),
                    name: name.into(),
                    rtype: rtype.into(),
                })
            }
            _ => Err(ProviderError::rejected(format!(
                "`{id}` is not a PowerDNS record id (ZONE/NAME/TYPE)"
            ))),
        }
    }

    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.zone, self.name, self.rtype)
    }

    /// Absolute owner name with the trailing dot, as the API wants it.
    pub fn fqdn(&self) -> String {
        if self.name == "@" {
            format!("{}.", self.zone)
        } else {
            format!("{}.{}.", self.name, self.zone)
        }
    }

    /// The key of an rrset read from `zone` (an API zone id, with the trailing dot).
    pub fn of(zone: &str, rrset_name: &str, rtype: &str) -> Key {
        let zone = zone.trim_end_matches('.');
        let fqdn = rrset_name.trim_end_matches('.');
        let name = if fqdn == zone {
            "@".to_string()
        } else {
            fqdn.strip_suffix(&format!(".{zone}"))
                .unwrap_or(fqdn)
                .to_string()
        };
        Key {
            zone: zone.to_string(),
            name,
            rtype: rtype.to_string(),
        }
    }
}

fn str_attr<'a>(d: &'a Desired, name: &str) -> Result<&'a str> {
    d.attrs
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::rejected(format!("{}: `{name}` must be a string", d.address)))
}

fn reject(d: &Desired, message: String) -> ProviderError {
    ProviderError::rejected(format!("{}: {message}", d.address))
}

/// What PowerDNS would refuse, or store in a form that would show as a change on
/// every plan, by attribute. Pure: run at validate and plan, and before each write.
pub fn audit(d: &Desired) -> Vec<Finding> {
    let mut out = Vec::new();
    let text = |k: &str| d.attrs.get(k).and_then(Value::as_str);
    for k in ["zone", "name", "type", "content"] {
        if text(k).is_none() {
            out.push(Finding::at(k, "must be a string"));
        }
    }
    let (Some(zone), Some(name), Some(rtype), Some(content)) =
        (text("zone"), text("name"), text("type"), text("content"))
    else {
        return out;
    };
    // Host names: PowerDNS lowercases owner names, and infra adds the trailing dot.
    let host = |out: &mut Vec<Finding>, key: &str, what: &str, host: &str| {
        if host.ends_with('.') {
            out.push(Finding::at(key, format!(
                "{what} `{host}`: write host names without the trailing dot (infra adds it), so plans compare equal"
            )));
        }
    };
    host(&mut out, "zone", "zone", zone);
    for (key, v) in [("zone", zone), ("name", name)] {
        if v != v.to_ascii_lowercase() {
            out.push(Finding::at(
                key,
                format!(
                    "write {key} = \"{}\": PowerDNS stores owner names in lowercase",
                    v.to_ascii_lowercase()
                ),
            ));
        }
    }
    if d.attrs.get("proxied").and_then(Value::as_bool) == Some(true) {
        out.push(Finding::at("proxied", "proxied = true is a Cloudflare feature; a PowerDNS server answers with the record itself. Remove `proxied`"));
    }
    if let Some(v) = d.attrs.get("ttl") {
        if v.as_u64().and_then(|t| u32::try_from(t).ok()).is_none() {
            out.push(Finding::at(
                "ttl",
                format!("ttl {v} is not a number of seconds"),
            ));
        }
    }
    let priority = d.attrs.get("priority").and_then(Value::as_u64);
    match rtype {
        "MX" | "SRV" => {
            if priority.is_none() {
                out.push(Finding::at(
                    "priority",
                    format!("{rtype} records need `priority`"),
                ));
            }
            host(
                &mut out,
                "content",
                "target",
                content.rsplit(' ').next().unwrap_or(content),
            );
        }
        _ if priority.is_some() => out.push(Finding::at(
            "priority",
            format!("`priority` applies to MX and SRV records, not {rtype}"),
        )),
        "CNAME" | "NS" => host(&mut out, "content", "target", content),
        "A" | "AAAA" => match content.parse::<std::net::IpAddr>() {
            Err(_) => out.push(Finding::at(
                "content",
                format!("`{content}` is not an IP address"),
            )),
            Ok(ip) if ip.to_string() != content => out.push(Finding::at(
                "content",
                format!(
                "write the address as `{ip}` (the form PowerDNS stores), so plans compare equal"
            ),
            )),
            Ok(_) => {}
        },
        _ => {}
    }
    out
}

/// Check a resource and build the rrset that a REPLACE sends (records + marker
/// comment, plus `keep` comments someone else wrote on the rrset).
pub fn to_rrset(d: &Desired, project: &str, keep: &[Comment]) -> Result<(Key, RRSet)> {
    if let Some(f) = audit(d).into_iter().next() {
        return Err(reject(d, f.message));
    }
    let zone = str_attr(d, "zone")?;
    let name = str_attr(d, "name")?;
    let rtype = str_attr(d, "type")?;
    let content = str_attr(d, "content")?;
    let ttl = d
        .attrs
        .get("ttl")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .unwrap_or(300);
    let wire = match rtype {
        "MX" | "SRV" => {
            let p = d.attrs.get("priority").and_then(Value::as_u64).unwrap_or(0);
            format!("{p} {content}.")
        }
        "CNAME" | "NS" => format!("{content}."),
        "TXT" => quote_txt(content),
        _ => content.to_string(),
    };
    let key = Key {
        zone: zone.into(),
        name: name.into(),
        rtype: rtype.into(),
    };
    let mut comments: Vec<Comment> = keep.to_vec();
    comments.push(Comment {
        content: marker(project, &d.address),
        account: ACCOUNT.into(),
    });
    let rrset = RRSet {
        name: key.fqdn(),
        rtype: rtype.into(),
        ttl: Some(ttl),
        changetype: Some("REPLACE".into()),
        records: vec![Record {
            content: wire,
            disabled: false,
        }],
        comments,
    };
    Ok((key, rrset))
}

/// The DELETE change for an rrset.
pub fn delete_rrset(key: &Key) -> RRSet {
    RRSet {
        name: key.fqdn(),
        rtype: key.rtype.clone(),
        ttl: None,
        changetype: Some("DELETE".into()),
        records: Vec::new(),
        comments: Vec::new(),
    }
}

/// The address in this project's marker comment, if any.
pub fn owner(rrset: &RRSet, project: &str) -> Option<String> {
    rrset
        .comments
        .iter()
        .find_map(|c| parse_marker(project, &c.content))
        .map(str::to_string)
}

/// Comments that are not infra markers (kept when infra rewrites the rrset).
pub fn foreign_comments(rrset: &RRSet) -> Vec<Comment> {
    rrset
        .comments
        .iter()
        .filter(|c| !c.content.starts_with("infra:"))
        .cloned()
        .collect()
}

/// One rrset read from zone `zone` (API id, trailing dot) as an `Observed`.
/// An rrset of several records shows them one per line; a disabled record is
/// prefixed `(disabled) `, so either differs from any spec and shows as drift.
pub fn observe(zone: &str, rrset: &RRSet, project: &str) -> Observed {
    let key = Key::of(zone, &rrset.name, &rrset.rtype);
    let mut priority = None;
    let contents: Vec<String> = rrset
        .records
        .iter()
        .map(|r| {
            let (p, c) = from_wire(&rrset.rtype, &r.content);
            priority = priority.or(p);
            if r.disabled {
                format!("(disabled) {c}")
            } else {
                c
            }
        })
        .collect();
    let fqdn = key.fqdn().trim_end_matches('.').to_string();
    let mut attrs = Attrs::new();
    attrs.insert("zone".into(), Value::from(key.zone.clone()));
    attrs.insert("name".into(), Value::from(key.name.clone()));
    attrs.insert("type".into(), Value::from(key.rtype.clone()));
    attrs.insert("content".into(), Value::from(contents.join("\n")));
    if let Some(ttl) = rrset.ttl {
        attrs.insert("ttl".into(), Value::from(ttl));
    }
    if let Some(p) = priority {
        attrs.insert("priority".into(), Value::from(p));
    }
    attrs.insert("proxied".into(), Value::from(false));
    attrs.insert("fqdn".into(), Value::from(fqdn));
    attrs.insert("id".into(), Value::from(key.id()));
    Observed {
        id: key.id(),
        owner: owner(rrset, project),
        attrs,
    }
}

/// Record content in the spec's form: (priority, content).
fn from_wire(rtype: &str, content: &str) -> (Option<u64>, String) {
    let host = |s: &str| s.strip_suffix('.').unwrap_or(s).to_string();
    match rtype {
        "MX" | "SRV" => match content.split_once(' ') {
            Some((p, rest)) if p.parse::<u64>().is_ok() => (p.parse().ok(), host(rest)),
            _ => (None, content.to_string()),
        },
        "CNAME" | "NS" => (None, host(content)),
        "TXT" => (None, unquote_txt(content)),
        _ => (None, content.to_string()),
    }
}

/// TXT data as zone-file text: quoted character-strings of at most 255 bytes,
/// `"` and `\` escaped. UTF-8 stays as it is (PowerDNS stores it so).
pub fn quote_txt(text: &str) -> String {
    let mut chunks: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut len = 0;
    for ch in text.chars() {
        if len + ch.len_utf8() > 255 {
            chunks.push(std::mem::take(&mut cur));
            len = 0;
        }
        len += ch.len_utf8();
        if ch == '"' || ch == '\\' {
            cur.push('\\');
        }
        cur.push(ch);
    }
    chunks.push(cur);
    chunks
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The data of zone-file TXT text: character-strings concatenated (as SPF and
/// DKIM read them), escapes (`\"`, `\\`, `\DDD`) resolved. Unquoted words count
/// as strings too.
pub fn unquote_txt(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut quoted = false;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => quoted = !quoted,
            b'\\' if i + 1 < bytes.len() => {
                let digits = &bytes[i + 1..(i + 4).min(bytes.len())];
                if digits.len() == 3 && digits.iter().all(u8::is_ascii_digit) {
                    let n = digits
                        .iter()
                        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
                    out.push(u8::try_from(n).unwrap_or(b'?'));
                    i += 4;
                    continue;
                }
                out.push(bytes[i + 1]);
                i += 2;
                continue;
            }
            b' ' | b'\t' if !quoted => {}
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
