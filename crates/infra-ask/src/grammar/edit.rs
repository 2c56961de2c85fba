//! Changes to what exists: attribute edits (absolute or relative), moving a
//! service to a new host name, record contents, removals with "keep" vetoes,
//! renames and clones. Every target is grounded in the spec first.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::create;
use super::facts::{self, Amount, Fact};
use super::lex::Kind;
use super::subject::{
    check_ambiguous, group_of, host_of, parts, resolve, runs, subject_name, unknown_reference,
    widened, Subject,
};
use super::vocab;
use super::world::Entity;
use super::{decline, Clause, Ctx, Grammar};
use crate::intent::Operation;
use infra_core::error::Error;

/// "remove one core from gitea", "take one core away": a quantity, not a removal.
pub fn is_quantity_change(c: &Clause) -> bool {
    let spans: Vec<(usize, usize)> = c.mentions.iter().map(|m| (m.start, m.end)).collect();
    facts::extract(&c.toks, &spans).iter().any(|f| {
        matches!(f.attr, "cores" | "memory" | "disk") && !matches!(f.amount, Amount::Set(_))
    })
}

/// The operation one fact makes on one resource.
pub fn fact_op(
    g: &Grammar,
    address: &str,
    e: Option<&Entity>,
    f: &Fact,
) -> Result<Option<Operation>, Error> {
    let attr = f.attr;
    let set = |attribute: &str, value: Value| Operation::Set {
        address: address.into(),
        attribute: attribute.into(),
        value,
    };
    Ok(Some(match &f.amount {
        Amount::Refused(why) => return Err(decline(why, "say a value in that range")),
        Amount::Delta(d) => Operation::Adjust {
            address: address.into(),
            attribute: attr.into(),
            by: Some(*d),
            factor: None,
        },
        Amount::Factor(x) => Operation::Adjust {
            address: address.into(),
            attribute: attr.into(),
            by: None,
            factor: Some(*x),
        },
        Amount::Set(v) => match attr {
            "port" => {
                let Some(up) = e.and_then(|e| e.str("upstream")) else {
                    return Ok(None);
                };
                let port = v.as_i64().unwrap_or(0);
                set("upstream", Value::from(with_port(up, port)))
            }
            "ip" => {
                let raw = v.as_str().unwrap_or_default();
                // ".30": the host part, in the pool's network.
                let completed;
                let raw = match raw.strip_prefix('.') {
                    Some(last) => {
                        let Some(net) = g
                            .world
                            .pools
                            .first()
                            .and_then(|p| p.parse::<ipnet::Ipv4Net>().ok())
                        else {
                            return Err(decline(&format!("\"{raw}\" is not a whole address and the project has no IPv4 pool"), "give the whole address"));
                        };
                        let o = net.network().octets();
                        completed = format!("{}.{}.{}.{last}", o[0], o[1], o[2]);
                        completed.as_str()
                    }
                    None => raw,
                };
                if address.starts_with("dns_record.") {
                    set("content", Value::from(raw))
                } else {
                    set("ip", Value::from(with_prefix(g, e, raw)))
                }
            }
            "lan" => {
                if v.as_bool() == Some(true) {
                    // The project's own networks, and loopback for checks on the proxy host.
                    let mut pools: Vec<Value> = g
                        .world
                        .pools
                        .iter()
                        .map(|p| Value::from(p.clone()))
                        .collect();
                    if !pools.is_empty() {
                        pools.push(Value::from("127.0.0.0/8"));
                    }
                    if pools.is_empty() {
                        set(
                            "allow",
                            serde_json::json!([
                                "10.0.0.0/8",
                                "172.16.0.0/12",
                                "192.168.0.0/16",
                                "127.0.0.0/8"
                            ]),
                        )
                    } else {
                        set("allow", Value::Array(pools))
                    }
                } else {
                    set("allow", Value::Null)
                }
            }
            "https" => {
                return Err(decline(
                    &format!("HTTPS is set up when a service is created; `{address}` exists already"),
                    "add a [certificate.NAME] with the site's name to the spec and set the site's tls_cert and tls_key to its cert_path and key_path (see `infra capabilities web-service`)",
                ))
            }
            "proxied" => {
                if v.as_bool() == Some(true) {
                    if let Some(ent) = e {
                        let private = ent.str("content").is_some_and(|c| c.starts_with("${"))
                            || ent.ip().is_some_and(|ip| crate::pool::is_private(&ip));
                        if private {
                            return Err(decline(
                                &format!("`{address}` points at a private address, which Cloudflare's proxy cannot reach"),
                                "only records with public addresses can be proxied",
                            ));
                        }
                    }
                }
                set("proxied", v.clone())
            }
            _ => set(attr, v.clone()),
        },
    }))
}

/// HTTPS for a site that exists: a certificate for its name in its group, the
/// site reading it, TLS on 443 and plain HTTP (where it listened) redirecting.
fn https_on(site: &Entity) -> Result<Vec<Operation>, Error> {
    let address = site.address();
    let Some(server_name) = site.str("server_name") else {
        return Err(decline(
            &format!("`{address}` has no server_name to get a certificate for"),
            "give the site a server_name first",
        ));
    };
    if site.str("tls_cert").is_some() {
        return Err(decline(
            &format!("`{address}` serves HTTPS already"),
            "to change its certificate, change its tls_cert and tls_key",
        ));
    }
    let mut params = Map::new();
    params.insert("name".into(), Value::from(site.name.clone()));
    params.insert("domain".into(), Value::from(server_name));
    if let Some(group) = &site.group {
        params.insert("group".into(), Value::from(group.clone()));
    }
    let set = |attribute: &str, value: Value| Operation::Set {
        address: address.clone(),
        attribute: attribute.into(),
        value,
    };
    let cert = |attr: &str| Value::from(format!("${{certificate.{}.{attr}}}", site.name));
    let mut ops = vec![
        Operation::UseCapability {
            capability: "certificate".into(),
            params,
            without: vec![],
        },
        set("tls_cert", cert("cert_path")),
        set("tls_key", cert("key_path")),
    ];
    let listen = site.str("listen").unwrap_or("80");
    if listen != "443" {
        ops.push(set("listen", Value::from("443")));
        if listen != "80" {
            ops.push(set("http_listen", Value::from(listen)));
        }
    }
    Ok(ops)
}

fn with_port(upstream: &str, port: i64) -> String {
    let (scheme, rest) = upstream.split_once("://").unwrap_or(("http", upstream));
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    // Keep `${container.x.address}` whole: its dots and braces are no port.
    let bare = match host.rfind(':') {
        Some(i)
            if !host[i..].contains('}') && host[i + 1..].chars().all(|c| c.is_ascii_digit()) =>
        {
            &host[..i]
        }
        _ => host,
    };
    format!("{scheme}://{bare}:{port}{path}")
}

fn with_prefix(g: &Grammar, e: Option<&Entity>, ip: &str) -> String {
    if ip.contains('/') {
        return ip.to_string();
    }
    let parsed: Option<std::net::IpAddr> = ip.parse().ok();
    for p in &g.world.pools {
        if let (Ok(net), Some(a)) = (p.parse::<ipnet::IpNet>(), parsed) {
            if net.contains(&a) {
                return format!("{ip}/{}", net.prefix_len());
            }
        }
    }
    let prefix = e
        .and_then(|e| e.str("ip"))
        .and_then(|s| s.split_once('/'))
        .map(|(_, p)| p.to_string())
        .unwrap_or_else(|| "32".into());
    format!("{ip}/{prefix}")
}

pub fn edit(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<(), Error> {
    let spans: Vec<(usize, usize)> = c.mentions.iter().map(|m| (m.start, m.end)).collect();
    let mut facts = facts::extract(&c.toks, &spans);
    let said = c
        .toks
        .iter()
        .find_map(|t| vocab::attribute(&t.low).map(|(_, a)| a));
    // "… needs a bigger disk: make it 500 GB": a size with no word of its own is
    // about what the previous clause named.
    if said.is_none() {
        if let Some("disk") = ctx.focus {
            for f in facts.iter_mut().filter(|f| f.attr == "memory") {
                f.attr = "disk";
                f.amount = match &f.amount {
                    Amount::Set(v) => Amount::Set(Value::from(
                        (v.as_f64().unwrap_or(0.0) / 1024.0).ceil() as i64,
                    )),
                    Amount::Delta(d) => Amount::Delta((d / 1024.0).ceil()),
                    other => other.clone(),
                };
            }
        }
    }
    if let Some(a) = said {
        ctx.focus = Some(a);
    }
    let mut subjects = runs(c, &BTreeSet::new());
    let pronoun = c.has_any(&["it", "its", "them", "their", "it's"]);
    if subjects.is_empty() && (!ctx.subject.is_empty()) && (pronoun || ctx.created.is_empty()) {
        subjects.push(Subject {
            end: 0,
            cands: ctx.subject.clone(),
            weak: false,
        });
    }
    if subjects.is_empty() {
        if let Some(created) = ctx.created.last().cloned() {
            let mut any = false;
            for f in &facts {
                if let Some(kind) = f
                    .kinds
                    .iter()
                    .find(|k| created.kinds.iter().any(|m| m == *k))
                {
                    if let Some(op) = fact_op(g, &format!("{kind}.{}", created.name), None, f)? {
                        ctx.push(op);
                        any = true;
                    }
                }
            }
            if any || !ctx.ops.is_empty() {
                return Ok(());
            }
        }
        if facts.is_empty() && c.verb().is_none() {
            return Err(decline("it does not say what to create, change or remove", "start with what should happen: \"deploy …\", \"give … 2 more cores\", \"remove …\""));
        }
        return Err(unknown_reference(g, c));
    }
    let wanted = parts(c);
    if facts.is_empty() {
        if host_move(g, c, ctx, &subjects)? || content_edit(g, c, ctx, &subjects)? {
            return Ok(());
        }
        // "… answers 204, fix its monitor" (said already), "immich needs more RAM, make
        // it 8 gigs" (said next): the subject carries over; vague only if nothing acts.
        ctx.subject = subjects.last().map(|s| s.cands.clone()).unwrap_or_default();
        ctx.vague.get_or_insert_with(|| decline(
            "it does not say what to change",
            "say the attribute and value: \"4 cores\", \"2 GB more memory\", \"port 8080\", \"check every 5 minutes\", \"LAN only\"",
        ));
        return Ok(());
    }
    for f in &facts {
        let s = subjects
            .iter()
            .rev()
            .find(|s| s.end <= f.pos)
            .or(subjects.first())
            .expect("a subject");
        let mut kinds: Vec<&str> = f
            .kinds
            .iter()
            .copied()
            .filter(|k| wanted.contains(k))
            .collect();
        if kinds.is_empty() {
            kinds = f.kinds.to_vec();
        }
        // An address moves the machine unless a record is named.
        if f.attr == "ip" && kinds.len() > 1 {
            kinds = ip_kinds(g, &s.cands);
        }
        let mut targets = resolve(g, &s.cands, &kinds);
        if targets.is_empty() && kinds != f.kinds {
            // A part word is a hint ("the vpn box" is a record here), not a filter.
            kinds = f.kinds.to_vec();
            if f.attr == "ip" {
                kinds = ip_kinds(g, &s.cands);
            }
            targets = resolve(g, &s.cands, &kinds);
        }
        if targets.is_empty() {
            // Something this request created in that group ("add monitoring … and have its check run …").
            let group = group_of(g, &s.cands);
            let created = ctx
                .created
                .iter()
                .rev()
                .find(|cr| {
                    Some(&cr.group) == group.as_ref()
                        && kinds.iter().any(|k| cr.kinds.iter().any(|m| m == k))
                })
                .cloned();
            if let Some(cr) = created {
                let kind = kinds
                    .iter()
                    .find(|k| cr.kinds.iter().any(|m| m == *k))
                    .expect("found");
                if let Some(op) = fact_op(g, &format!("{kind}.{}", cr.name), None, f)? {
                    ctx.push(op);
                }
                continue;
            }
            // "… and a check that it's up every two minutes": the monitor is new.
            if kinds.contains(&"monitor")
                && c.has_any(&["check", "monitor", "monitoring", "healthcheck", "probe"])
            {
                let interval: Vec<Fact> = facts
                    .iter()
                    .filter(|x| x.kinds.contains(&"monitor"))
                    .cloned()
                    .collect();
                if !ctx.ops.iter().any(|o| matches!(o, Operation::UseCapability { capability, .. } if capability == "monitor")) {
                    create::add_monitor(g, ctx, &s.cands, None, &interval)?;
                }
                ctx.subject = s.cands.clone();
                continue;
            }
            let (name, _) = subject_name(g, &s.cands);
            return Err(decline(
                &format!("`{name}` has no {} to change", kinds.join(" or ")),
                "ask to add it first, e.g. \"monitor it\"",
            ));
        }
        if f.attr == "ip" {
            // An address goes to A records for IPv4, AAAA for IPv6 ("the apex of acme.test").
            let v6 =
                matches!(&f.amount, Amount::Set(v) if v.as_str().is_some_and(|x| x.contains(':')));
            let family = if v6 { "AAAA" } else { "A" };
            let fitting: Vec<usize> = targets
                .iter()
                .copied()
                .filter(|&t| {
                    g.world.entities[t].kind != "dns_record"
                        || g.world.entities[t].str("type") == Some(family)
                })
                .collect();
            // "www should stop being an alias and point at 203.0.113.80": the CNAME becomes an A.
            if let ([t], Amount::Set(v)) = (targets.as_slice(), &f.amount) {
                let e = &g.world.entities[*t];
                if e.kind == "dns_record" && e.str("type") == Some("CNAME") {
                    ctx.push(Operation::Set {
                        address: e.address(),
                        attribute: "type".into(),
                        value: Value::from(family),
                    });
                    ctx.push(Operation::Set {
                        address: e.address(),
                        attribute: "content".into(),
                        value: v.clone(),
                    });
                    continue;
                }
            }
            if fitting.is_empty()
                && targets
                    .iter()
                    .all(|&t| g.world.entities[t].kind == "dns_record")
            {
                // "storage should also get an IPv6 address": a new record beside the old one.
                if let (Some(&t), Amount::Set(v)) = (targets.first(), &f.amount) {
                    ctx.push(super::dns::record_beside(
                        g,
                        ctx,
                        t,
                        family,
                        v.as_str().unwrap_or_default(),
                    )?);
                    continue;
                }
            }
            if !fitting.is_empty() {
                targets = fitting;
            }
        }
        check_ambiguous(g, c, &targets, s.weak)?;
        for &t in &targets {
            let e = &g.world.entities[t];
            if f.attr == "https" && e.kind == "proxy_site" {
                if !matches!(f.amount, Amount::Set(Value::Bool(true))) {
                    return Err(decline(
                        &format!(
                            "taking HTTPS off `{}` is not something ask does",
                            e.address()
                        ),
                        "remove its tls_cert and tls_key (and the certificate) in the spec",
                    ));
                }
                for op in https_on(e)? {
                    ctx.push(op);
                }
                continue;
            }
            if let Some(op) = fact_op(g, &e.address(), Some(e), f)? {
                ctx.push(op);
            }
        }
    }
    ctx.subject = subjects.last().map(|s| s.cands.clone()).unwrap_or_default();
    Ok(())
}

/// Where an address goes: the machine named or in the group, else the record named.
fn ip_kinds(g: &Grammar, cands: &[usize]) -> Vec<&'static str> {
    let kind_of = |e: &usize| g.world.entities[*e].kind.as_str();
    if cands
        .iter()
        .any(|e| matches!(kind_of(e), "container" | "vm"))
    {
        return vec!["container", "vm"];
    }
    if cands.iter().any(|e| kind_of(e) == "dns_record") {
        return vec!["dns_record"];
    }
    if resolve(g, cands, &["container", "vm"]).is_empty() {
        vec!["dns_record"]
    } else {
        vec!["container", "vm"]
    }
}

/// "umami should live at analytics.clients.example.org instead of stats", "the
/// vpn hostname should be remote.example.org": the group's records, site and
/// monitor follow the new host name.
fn host_move(g: &Grammar, c: &Clause, ctx: &mut Ctx, subjects: &[Subject]) -> Result<bool, Error> {
    let Some(new) = c
        .toks
        .iter()
        .enumerate()
        .find(|(i, t)| t.kind == Kind::Fqdn && !c.in_mention(*i))
        .map(|(_, t)| t.low.clone())
    else {
        return Ok(false);
    };
    let pointing = c
        .toks
        .iter()
        .any(|t| t.low.starts_with("point") || t.is("->") || t.kind == Kind::Punct('>'));
    let s = &subjects[0];
    // Only a request to move says so: "live at", "should be", "instead of", "from now on", "move to".
    let moving = c.has_any(&[
        "live", "lives", "living", "instead", "move", "moved", "moving", "hostname", "rename",
        "renamed", "become", "becomes",
    ]) || c.words().windows(2).any(|w| {
        matches!(
            w,
            ["should", "be"]
                | ["now", "on"]
                | ["be", "at"]
                | ["is", "now"]
                | ["served", "at"]
                | ["serve", "at"]
        )
    });
    if pointing || !moving {
        return Ok(false);
    }
    // A host outside every zone is a value (an MX or CNAME target), not a new name.
    let Some((zone, label)) = g.world.split_host(&new) else {
        return Ok(false);
    };
    let Some(old) = host_of(g, &s.cands) else {
        return Ok(false);
    };
    let members = widened(g, &s.cands);
    let mut any = false;
    for &m in &members {
        let e = &g.world.entities[m];
        let addr = e.address();
        match e.kind.as_str() {
            "dns_record" if e.host().as_deref() == Some(old.as_str()) => {
                ctx.push(Operation::Set {
                    address: addr.clone(),
                    attribute: "name".into(),
                    value: Value::from(label.clone()),
                });
                if e.str("zone") != Some(zone.as_str()) {
                    ctx.push(Operation::Set {
                        address: addr,
                        attribute: "zone".into(),
                        value: Value::from(zone.clone()),
                    });
                }
            }
            "proxy_site" if e.str("server_name") == Some(old.as_str()) => {
                ctx.push(Operation::Set {
                    address: addr,
                    attribute: "server_name".into(),
                    value: Value::from(new.clone()),
                });
            }
            "monitor" if e.host().as_deref() == Some(old.as_str()) => {
                let url = e.str("url").unwrap_or_default().replacen(&old, &new, 1);
                ctx.push(Operation::Set {
                    address: addr,
                    attribute: "url".into(),
                    value: Value::from(url),
                });
            }
            _ => continue,
        }
        ctx.renamed.insert(m);
        any = true;
    }
    ctx.subject = s.cands.clone();
    Ok(any)
}

/// "point the nas record at nas2.example.net", "tighten DMARC to p=reject".
fn content_edit(
    g: &Grammar,
    c: &Clause,
    ctx: &mut Ctx,
    subjects: &[Subject],
) -> Result<bool, Error> {
    let s = &subjects[0];
    let mut records = resolve(g, &s.cands, &["dns_record"]);
    // "Mail for school.example.org should now go to …": any record the clause names
    // that holds a host name.
    for other in &subjects[1..] {
        for r in resolve(g, &other.cands, &["dns_record"]) {
            if !records.contains(&r) {
                records.push(r);
            }
        }
    }
    // "add include:sendgrid.example.net to our spf": a mechanism before the final "all".
    let mechanisms: Vec<&str> = c
        .toks
        .iter()
        .map(|t| t.raw.as_str())
        .filter(|r| {
            ["include:", "ip4:", "ip6:", "a:", "mx:", "exists:"]
                .iter()
                .any(|p| r.to_ascii_lowercase().starts_with(p))
        })
        .collect();
    if !mechanisms.is_empty() {
        let spf: Vec<usize> = records
            .iter()
            .copied()
            .filter(|&r| {
                g.world.entities[r]
                    .str("content")
                    .is_some_and(|ct| ct.starts_with("v=spf1"))
            })
            .collect();
        check_ambiguous(g, c, &spf, s.weak)?;
        if let Some(&r) = spf.first() {
            let e = &g.world.entities[r];
            let mut terms: Vec<String> = e
                .str("content")
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect();
            let at = terms
                .iter()
                .position(|t| t.trim_start_matches(['~', '-', '?', '+']) == "all")
                .unwrap_or(terms.len());
            for m in mechanisms.iter().rev() {
                if !terms.iter().any(|t| t == m) {
                    terms.insert(at, m.to_string());
                }
            }
            ctx.push(Operation::Set {
                address: e.address(),
                attribute: "content".into(),
                value: Value::from(terms.join(" ")),
            });
            return Ok(true);
        }
    }
    // "change our DMARC policy to quarantine": the policy tag, by its value.
    let policy = c
        .toks
        .iter()
        .rev()
        .find(|t| matches!(t.low.as_str(), "none" | "quarantine" | "reject"))
        .filter(|_| c.has_any(&["dmarc", "policy"]));
    if let Some(p) = policy {
        let dmarc: Vec<usize> = records
            .iter()
            .copied()
            .filter(|&r| {
                g.world.entities[r]
                    .str("content")
                    .is_some_and(|ct| ct.to_ascii_uppercase().starts_with("V=DMARC1"))
            })
            .collect();
        if let [r] = dmarc.as_slice() {
            let e = &g.world.entities[*r];
            let updated = set_tag(e.str("content").unwrap_or_default(), "p", &p.low);
            ctx.push(Operation::Set {
                address: e.address(),
                attribute: "content".into(),
                value: Value::from(updated),
            });
            return Ok(true);
        }
    }
    // "dmarc: p=none -> p=quarantine": the value after the arrow, else the last one said.
    let assigns: Vec<&super::lex::Tok> = c.toks.iter().filter(|t| t.kind == Kind::Assign).collect();
    let after_arrow = c
        .toks
        .iter()
        .enumerate()
        .find(|(i, t)| {
            t.kind == Kind::Assign
                && *i > 0
                && (c.toks[i - 1].kind == Kind::Punct('>') || c.toks[i - 1].is("to"))
        })
        .map(|(_, t)| t);
    if let Some(assign) = after_arrow.or(assigns.last().copied()) {
        let (key, value) = assign.raw.split_once('=').expect("an assignment");
        let hits: Vec<usize> = records
            .iter()
            .copied()
            .filter(|&r| {
                g.world.entities[r]
                    .str("content")
                    .is_some_and(|ct| tag_value(ct, key).is_some())
            })
            .collect();
        check_ambiguous(g, c, &hits, s.weak)?;
        for r in hits {
            let e = &g.world.entities[r];
            let content = e.str("content").unwrap_or_default();
            let updated = set_tag(content, key, value);
            ctx.push(Operation::Set {
                address: e.address(),
                attribute: "content".into(),
                value: Value::from(updated),
            });
        }
        ctx.subject = s.cands.clone();
        return Ok(!ctx.ops.is_empty());
    }
    let host = c
        .toks
        .iter()
        .enumerate()
        .find(|(i, t)| t.kind == Kind::Fqdn && !c.in_mention(*i))
        .map(|(_, t)| t.low.clone());
    if let Some(h) = host {
        // A host name goes into records that hold one (CNAME, MX, NS), when there are such.
        let holding: Vec<usize> = records
            .iter()
            .copied()
            .filter(|&r| {
                matches!(
                    g.world.entities[r].str("type"),
                    Some("CNAME" | "MX" | "NS" | "PTR")
                )
            })
            .collect();
        let records = if holding.is_empty() { records } else { holding };
        check_ambiguous(g, c, &records, s.weak)?;
        let Some(&r) = records.first() else {
            return Ok(false);
        };
        let e = &g.world.entities[r];
        if !matches!(e.str("type"), Some("CNAME" | "MX" | "NS" | "PTR")) {
            return Err(decline(
                &format!(
                    "`{}` is an {} record, which holds an address, not a host name",
                    e.address(),
                    e.str("type").unwrap_or("?")
                ),
                "say \"make it a CNAME to …\" to change its type",
            ));
        }
        ctx.push(Operation::Set {
            address: e.address(),
            attribute: "content".into(),
            value: Value::from(h),
        });
        return Ok(true);
    }
    Ok(false)
}

fn tag_value<'a>(content: &'a str, key: &str) -> Option<&'a str> {
    content.split(';').map(str::trim).find_map(|p| {
        p.split_once('=')
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn set_tag(content: &str, key: &str, value: &str) -> String {
    content
        .split(';')
        .map(|p| match p.trim().split_once('=') {
            Some((k, _)) if k.trim().eq_ignore_ascii_case(key) => {
                let lead = &p[..p.len() - p.trim_start().len()];
                format!("{lead}{}={value}", k.trim())
            }
            _ => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_tags() {
        assert_eq!(
            with_port("http://${container.a.address}:8000", 8010),
            "http://${container.a.address}:8010"
        );
        assert_eq!(with_port("http://10.0.0.5", 80), "http://10.0.0.5:80");
        assert_eq!(
            with_port("https://x.example.org:8443/app", 9443),
            "https://x.example.org:9443/app"
        );
        assert_eq!(
            set_tag(
                "v=DMARC1; p=quarantine; rua=mailto:d@example.org",
                "p",
                "reject"
            ),
            "v=DMARC1; p=reject; rua=mailto:d@example.org"
        );
        assert_eq!(tag_value("v=spf1 mx -all", "v"), Some("spf1 mx -all"));
    }
}
