//! PowerDNS API ⇄ infra model: the wire types (`RRSet`, `Record`, `Comment`), the
//! audit that rejects what cannot round-trip before any call is made, and the
//! conversion of one rrset into an `Observed` in the spec's own form (relative
//! names, host names without the trailing dot, TXT unquoted, MX/SRV priority split
//! out), so a plan after an apply compares equal. No I/O here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use infra_core::dns;
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

/// Which rrset a resource is (zone and relative name as in the spec, plus the
/// type) and, for one record of it, that record's data as PowerDNS writes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub zone: String,
    pub name: String,
    pub rtype: String,
    pub record: Option<String>,
}

impl Key {
    /// Parse an id `ZONE/NAME/TYPE/DATA` (name relative, `@` for the apex). Ids
    /// without the data (`ZONE/NAME/TYPE`) are from before records were owned one
    /// by one and name the rrset's only record.
    pub fn parse(id: &str) -> Result<Key> {
        let mut parts = id.splitn(4, '/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(zone), Some(name), Some(rtype), record)
                if !zone.is_empty() && !name.is_empty() && !rtype.is_empty() =>
            {
                Ok(Key {
                    zone: zone.into(),
                    name: name.into(),
                    rtype: rtype.into(),
                    record: record.map(str::to_string),
                })
            }
            _ => Err(ProviderError::rejected(format!(
                "`{id}` is not a PowerDNS record id (ZONE/NAME/TYPE/DATA)"
            ))),
        }
    }

    pub fn id(&self) -> String {
        match &self.record {
            Some(r) => format!("{}/{}/{}/{r}", self.zone, self.name, self.rtype),
            None => self.rrset_id(),
        }
    }

    /// The rrset's part of the id, for messages.
    pub fn rrset_id(&self) -> String {
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
            record: None,
        }
    }

    pub fn with_record(mut self, wire: &str) -> Key {
        self.record = Some(wire.to_string());
        self
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
    if !TYPES.contains(&rtype) {
        out.push(Finding::at(
            "type",
            format!(
                "PowerDNS does not serve {rtype} records through infra (it serves {})",
                TYPES.join(", ")
            ),
        ));
    } else if let Err(why) = dns::check_content(rtype, content) {
        out.push(Finding::at("content", why));
    } else if let Some(stored) = stored_form(rtype, content) {
        out.push(Finding::at(
            "content",
            format!("write content = `{stored}`: PowerDNS takes {rtype} data only in the form it stores"),
        ));
    }
    // Where PowerDNS allows a type (it refuses the whole PATCH otherwise).
    match (rtype, name) {
        ("DNSKEY", n) if n != "@" => out.push(Finding::at(
            "name",
            "PowerDNS allows DNSKEY records only at the apex: name = \"@\"",
        )),
        ("DS", "@") => out.push(Finding::at(
            "name",
            "PowerDNS refuses a DS record at the apex: it belongs in the parent zone, or at a delegated name",
        )),
        _ => {}
    }
    let priority = d.attrs.get("priority").and_then(Value::as_u64);
    match (dns::has_priority(rtype), priority) {
        (true, None) => out.push(Finding::at(
            "priority",
            format!("{rtype} records need `priority`"),
        )),
        (false, Some(_)) => out.push(Finding::at(
            "priority",
            format!("`priority` applies to MX, SRV, URI, SVCB and HTTPS records, not {rtype}"),
        )),
        _ => {}
    }
    out
}

/// The form PowerDNS stores (and insists on) when `content` differs from it:
/// hex in lower case, SVCB and HTTPS parameter values unquoted unless they
/// hold a space.
fn stored_form(rtype: &str, content: &str) -> Option<String> {
    let t = dns::record_type(rtype)?;
    let words: Vec<String> = dns::split_words(content)
        .into_iter()
        .enumerate()
        .map(|(i, w)| match w.split_once('=') {
            // Digests and fingerprints: PowerDNS prints hex in lower case.
            _ if t.parts.get(i).is_some_and(|p| p.field == dns::Field::Hex) => {
                w.to_ascii_lowercase()
            }
            _ if !matches!(rtype, "SVCB" | "HTTPS") => w.to_string(),
            Some((k, v)) if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') => {
                let inner = &v[1..v.len() - 1];
                if inner.contains(char::is_whitespace) || inner.contains('\\') {
                    w.to_string()
                } else {
                    format!("{k}={inner}")
                }
            }
            _ => w.to_string(),
        })
        .collect();
    let stored = words.join(" ");
    (stored != content).then_some(stored)
}

/// The record types this provider writes: every type of the spec's table.
pub const TYPES: &[&str] = infra_core::spec::schema::DNS_TYPES;

/// A checked resource as (its rrset's key, the record's data as PowerDNS writes
/// it, the rrset's TTL).
pub fn record_of(d: &Desired) -> Result<(Key, String, u32)> {
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
    let priority = d.attrs.get("priority").and_then(Value::as_u64);
    let wire = dns::to_presentation(rtype, priority, content);
    let key = Key {
        zone: zone.into(),
        name: name.into(),
        rtype: rtype.into(),
        record: None,
    };
    Ok((key.with_record(&wire), wire, ttl))
}

/// Who owns a record of an rrset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// This project, for this address.
    Ours(String),
    /// Another infra project (its marker, for messages).
    Theirs(String),
    /// No marker: made by hand or by another tool.
    Nobody,
}

/// The marker comment of one record: `infra:PROJECT/ADDRESS DATA`.
pub fn record_marker(project: &str, address: &str, wire: &str) -> Comment {
    Comment {
        content: format!("{} {wire}", marker(project, address)),
        account: ACCOUNT.into(),
    }
}

/// The owner of each record of `rrset`, in record order, with the data its id
/// names it by. A marker names its record by data, so an id stays the same
/// when the record is edited by hand (that is drift, shown and repaired):
/// records are paired with markers by equal data first, then the rest in order.
/// A marker without data (written before records were owned one by one)
/// names the record by the rrset alone. Records left over are nobody's.
pub fn owners(rrset: &RRSet, project: &str) -> Vec<(Owner, Option<String>)> {
    // (data the marker names, owner), one per infra marker.
    let mut markers: Vec<(Option<&str>, Owner)> = Vec::new();
    for c in &rrset.comments {
        let Some(rest) = c.content.strip_prefix("infra:") else {
            continue;
        };
        let (who, data) = match rest.split_once(' ') {
            Some((who, data)) => (who, Some(data)),
            None => (rest, None),
        };
        let owner = match parse_marker(project, &format!("infra:{who}")) {
            Some(address) => Owner::Ours(address.to_string()),
            None => Owner::Theirs(c.content.clone()),
        };
        markers.push((data, owner));
    }
    let mut out: Vec<Option<(Owner, Option<String>)>> = vec![None; rrset.records.len()];
    let mut used = vec![false; markers.len()];
    for (slot, r) in out.iter_mut().zip(&rrset.records) {
        if let Some(m) =
            (0..markers.len()).find(|&m| !used[m] && markers[m].0 == Some(r.content.as_str()))
        {
            used[m] = true;
            *slot = Some((markers[m].1.clone(), Some(r.content.clone())));
        }
    }
    let mut left = (0..markers.len()).filter(|&m| !used[m]);
    for slot in out.iter_mut().filter(|s| s.is_none()) {
        let Some(m) = left.next() else { break };
        *slot = Some((markers[m].1.clone(), markers[m].0.map(str::to_string)));
    }
    out.into_iter()
        .map(|o| o.unwrap_or((Owner::Nobody, None)))
        .zip(&rrset.records)
        .map(|((owner, named), r)| match owner {
            Owner::Nobody => (Owner::Nobody, Some(r.content.clone())),
            _ => (owner, named),
        })
        .collect()
}

/// The rrset REPLACE that holds `records` (data, owner address), with the
/// comments people wrote kept. An empty list deletes the rrset.
pub fn rrset_with(
    key: &Key,
    ttl: u32,
    records: &[(String, String)],
    keep: &[Comment],
    project: &str,
) -> RRSet {
    if records.is_empty() {
        return delete_rrset(key);
    }
    let mut comments: Vec<Comment> = keep.to_vec();
    comments.extend(
        records
            .iter()
            .map(|(wire, address)| record_marker(project, address, wire)),
    );
    RRSet {
        name: key.fqdn(),
        rtype: key.rtype.clone(),
        ttl: Some(ttl),
        changetype: Some("REPLACE".into()),
        records: records
            .iter()
            .map(|(wire, _)| Record {
                content: wire.clone(),
                disabled: false,
            })
            .collect(),
        comments,
    }
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

/// Comments that are not infra markers (kept when infra rewrites the rrset).
pub fn foreign_comments(rrset: &RRSet) -> Vec<Comment> {
    rrset
        .comments
        .iter()
        .filter(|c| !c.content.starts_with("infra:"))
        .cloned()
        .collect()
}

/// Each record of an rrset read from zone `zone` (API id, trailing dot) as an
/// `Observed` in the spec's form. A disabled record's content is prefixed
/// `(disabled) `, so it differs from any spec and shows as drift.
pub fn observe(zone: &str, rrset: &RRSet, project: &str) -> Vec<Observed> {
    let key = Key::of(zone, &rrset.name, &rrset.rtype);
    let fqdn = key.fqdn().trim_end_matches('.').to_string();
    owners(rrset, project)
        .into_iter()
        .zip(&rrset.records)
        .map(|((owner, named), r)| {
            let (priority, content) = dns::from_presentation(&rrset.rtype, &r.content);
            let content = if r.disabled {
                format!("(disabled) {content}")
            } else {
                content
            };
            let id = match named {
                Some(data) => key.clone().with_record(&data).id(),
                None => key.id(),
            };
            let mut attrs = Attrs::new();
            attrs.insert("zone".into(), Value::from(key.zone.clone()));
            attrs.insert("name".into(), Value::from(key.name.clone()));
            attrs.insert("type".into(), Value::from(key.rtype.clone()));
            attrs.insert("content".into(), Value::from(content));
            if let Some(ttl) = rrset.ttl {
                attrs.insert("ttl".into(), Value::from(ttl));
            }
            if let Some(p) = priority {
                attrs.insert("priority".into(), Value::from(p));
            }
            attrs.insert("proxied".into(), Value::from(false));
            attrs.insert("fqdn".into(), Value::from(fqdn.clone()));
            attrs.insert("id".into(), Value::from(id.clone()));
            let (owner, claimed_by) = match owner {
                Owner::Ours(a) => (Some(a), None),
                Owner::Theirs(m) => (None, Some(m)),
                Owner::Nobody => (None, None),
            };
            Observed {
                id,
                owner,
                attrs,
                claimed_by,
            }
        })
        .collect()
}

pub use infra_core::dns::{quote_txt, unquote_txt};
