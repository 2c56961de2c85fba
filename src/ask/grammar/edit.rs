//! Changes to what exists: attribute edits (absolute or relative), moving a
//! service to a new host name, record contents, removals with "keep" vetoes,
//! renames and clones. Every target is grounded in the spec first.

use std::collections::BTreeSet;

use serde_json::Value;

use super::create::{self, name_like};
use super::facts::{self, Amount, Fact};
use super::lex::Kind;
use super::vocab::{self, Verb};
use super::world::{self, Entity, Mention};
use super::{decline, Clause, Ctx, Grammar};
use crate::ask::intent::Operation;
use crate::error::Error;

/// Runs of mentions said together ("MX, SPF and DMARC") form one subject; a
/// fact binds to the subject said before it.
struct Subject {
    start: usize,
    end: usize,
    cands: Vec<usize>,
    weak: bool,
}

fn runs(c: &Clause, skip: &BTreeSet<usize>) -> Vec<Subject> {
    let mut out: Vec<Subject> = Vec::new();
    for m in &c.mentions {
        let cands: Vec<usize> = m
            .cands
            .iter()
            .copied()
            .filter(|e| !skip.contains(e))
            .collect();
        if cands.is_empty() {
            continue;
        }
        let joined = out.last().is_some_and(|s: &Subject| {
            c.toks[s.end..m.start].iter().all(|t| {
                t.is_punct()
                    || matches!(
                        t.low.as_str(),
                        "and" | "or" | "the" | "its" | "their" | "both" | "all"
                    )
                    || vocab::part_kind(&t.low).is_some()
                    || crate::spec::schema::DNS_TYPES.contains(&t.raw.to_ascii_uppercase().as_str())
            })
        });
        if joined {
            let s = out.last_mut().expect("checked");
            s.end = m.end;
            s.weak &= m.weak;
            for e in cands {
                if !s.cands.contains(&e) {
                    s.cands.push(e);
                }
            }
        } else {
            out.push(Subject {
                start: m.start,
                end: m.end,
                cands,
                weak: m.weak,
            });
        }
    }
    out
}

/// What a clause is about: what it names, else what the previous clause was about.
pub fn subjects(_g: &Grammar, c: &Clause, ctx: &Ctx) -> Vec<Vec<usize>> {
    let r = runs(c, &BTreeSet::new());
    if r.is_empty() {
        if ctx.subject.is_empty() {
            return vec![];
        }
        return vec![ctx.subject.clone()];
    }
    r.into_iter().map(|s| s.cands).collect()
}

/// The name and group of a subject: the group when it has one.
pub fn subject_name(g: &Grammar, cands: &[usize]) -> (String, Option<String>) {
    let groups: BTreeSet<&str> = cands
        .iter()
        .filter_map(|&e| g.world.entities[e].group.as_deref())
        .collect();
    if groups.len() == 1 {
        let gname = groups.into_iter().next().expect("one").to_string();
        return (gname.clone(), Some(gname));
    }
    let e = &g.world.entities[cands[0]];
    (e.name.clone(), e.group.clone())
}

fn group_of(g: &Grammar, cands: &[usize]) -> Option<String> {
    let groups: BTreeSet<&str> = cands
        .iter()
        .filter_map(|&e| g.world.entities[e].group.as_deref())
        .collect();
    (groups.len() == 1).then(|| groups.into_iter().next().expect("one").to_string())
}

fn widened(g: &Grammar, cands: &[usize]) -> Vec<usize> {
    match group_of(g, cands) {
        Some(gr) => {
            let mut all = g.world.group_members(&gr);
            for &c in cands {
                if !all.contains(&c) {
                    all.push(c);
                }
            }
            all
        }
        None => cands.to_vec(),
    }
}

/// The host name people reach a subject at: its proxy site, else its record.
pub fn host_of(g: &Grammar, cands: &[usize]) -> Option<String> {
    let all = widened(g, cands);
    let by = |kind: &str| {
        all.iter()
            .map(|&e| &g.world.entities[e])
            .find(|e| e.kind == kind)
            .and_then(Entity::host)
    };
    by("proxy_site")
        .or_else(|| by("dns_record"))
        .or_else(|| by("monitor"))
}

/// https when the site has TLS or the project's monitors use https.
pub fn scheme_for(g: &Grammar, cands: &[usize]) -> &'static str {
    let all = widened(g, cands);
    let tls = all.iter().map(|&e| &g.world.entities[e]).any(|e| {
        e.kind == "proxy_site" && (e.str("tls_cert").is_some() || e.str("listen") == Some("443"))
    });
    let monitors: Vec<&str> = g
        .world
        .entities
        .iter()
        .filter(|e| e.kind == "monitor")
        .filter_map(|e| e.str("url"))
        .collect();
    let https = monitors
        .iter()
        .filter(|u| u.starts_with("https://"))
        .count();
    if tls || (https * 2 > monitors.len() && !monitors.is_empty()) {
        "https"
    } else {
        "http"
    }
}

/// The address expression of a subject: its machine by reference, else its record's address.
pub fn address_expr(g: &Grammar, cands: &[usize]) -> Option<String> {
    let all = widened(g, cands);
    for &e in &all {
        let ent = &g.world.entities[e];
        if matches!(ent.kind.as_str(), "container" | "vm") && ent.str("ip").is_some() {
            return Some(format!("${{{}.address}}", ent.address()));
        }
    }
    all.iter()
        .find_map(|&e| g.world.entities[e].ip())
        .map(|ip| ip.to_string())
}

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
            "proxied" => {
                if v.as_bool() == Some(true) {
                    if let Some(ent) = e {
                        let private = ent.str("content").is_some_and(|c| c.starts_with("${"))
                            || ent.ip().is_some_and(|ip| crate::ask::pool::is_private(&ip));
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

/// Resources of the wanted kinds within a subject (widened to its group).
fn resolve(g: &Grammar, cands: &[usize], kinds: &[&str]) -> Vec<usize> {
    let direct: Vec<usize> = cands
        .iter()
        .copied()
        .filter(|&e| kinds.contains(&g.world.entities[e].kind.as_str()))
        .collect();
    if !direct.is_empty() {
        return direct;
    }
    widened(g, cands)
        .into_iter()
        .filter(|&e| kinds.contains(&g.world.entities[e].kind.as_str()))
        .collect()
}

fn parts(c: &Clause) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (i, t) in c.toks.iter().enumerate() {
        if let Some(k) = vocab::part_kind(&t.low) {
            // "cloudflare's proxy" is the record's proxying, not a proxy site.
            if k == "proxy_site" && c.has_any(&["cloudflare", "proxying", "orange"]) {
                continue;
            }
            if !facts::negated(&c.toks, i) && !out.contains(&k) {
                out.push(k);
            }
        }
    }
    if c.words().windows(2).any(|w| {
        w[0] == "stop"
            && (w[1].starts_with("monitor")
                || w[1].starts_with("watch")
                || w[1].starts_with("check"))
    }) && !out.contains(&"monitor")
    {
        out.push("monitor");
    }
    out
}

/// "Moodle shouldn't go through the proxy any more": a part that is no longer wanted.
pub fn no_longer(c: &Clause) -> bool {
    c.has_any(&["anymore", "longer"])
        && c.has_any(&[
            "shouldn't",
            "doesn't",
            "don't",
            "no",
            "not",
            "won't",
            "needn't",
        ])
        && c.toks.iter().any(|t| vocab::part_kind(&t.low).is_some())
        && !c.mentions.is_empty()
}

pub fn remove_parts(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<(), Error> {
    let kinds: Vec<&str> = c
        .toks
        .iter()
        .filter_map(|t| vocab::part_kind(&t.low))
        .collect();
    let Some(m) = c.mentions.first() else {
        return Err(unknown_reference(g, c));
    };
    let targets = resolve(g, &m.cands, &kinds);
    if targets.is_empty() {
        return Err(unknown_reference(g, c));
    }
    for t in targets {
        if !already_removed(g, ctx, t) {
            ctx.push(Operation::Remove {
                target: g.world.entities[t].address(),
            });
        }
    }
    ctx.subject = m.cands.clone();
    Ok(())
}

fn plural(c: &Clause) -> bool {
    c.has_any(&[
        "all",
        "both",
        "each",
        "every",
        "records",
        "monitors",
        "checks",
        "containers",
        "sites",
    ])
}

fn unknown_reference(g: &Grammar, c: &Clause) -> Error {
    let unknown: Vec<&str> = c
        .toks
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            name_like(t) && !c.in_mention(*i) && !g.world.providers.contains_key(&t.low)
        })
        .map(|(_, t)| t.low.as_str())
        .collect();
    let groups: Vec<&str> = g.world.groups().into_iter().collect();
    match unknown.first() {
        Some(w) => {
            let near = world::closest(g.world, w);
            decline(
                &format!("\"{w}\" names nothing that exists in this project"),
                &format!(
                    "did you mean {}? Services here: {}",
                    near.join(", "),
                    groups.join(", ")
                ),
            )
        }
        None => decline(
            "it names nothing that exists in this project",
            &format!(
                "name the service or record, e.g. one of: {}",
                groups.join(", ")
            ),
        ),
    }
}

fn check_ambiguous(g: &Grammar, c: &Clause, targets: &[usize], weak: bool) -> Result<(), Error> {
    if plural(c) {
        return Ok(());
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for &t in targets {
        if !seen.insert(g.world.entities[t].kind.as_str()) {
            let list: Vec<String> = targets
                .iter()
                .map(|&e| g.world.entities[e].address())
                .collect();
            let _ = weak;
            return Err(decline(
                &format!("it could mean any of {}", list.join(", ")),
                "name the one you mean (its address or its full name), or say \"all\"",
            ));
        }
    }
    Ok(())
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
            start: 0,
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
                    ctx.push(create::record_beside(
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

pub fn remove(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<(), Error> {
    // "delete every dns record", "remove all monitors": sweeping, never from a conversation.
    let sweeping = c.toks.windows(2).any(|w| {
        matches!(w[0].low.as_str(), "every" | "all" | "each")
            && (vocab::part_kind(&w[1].low).is_some()
                || matches!(
                    w[1].low.as_str(),
                    "resources" | "resource" | "services" | "dns" | "things" | "records"
                ))
    });
    if sweeping {
        return Err(decline(
            "infra never removes everything of a kind from a conversation",
            "name what should go (\"remove the printer record\"); `infra destroy` removes everything, after showing the plan",
        ));
    }
    // Background sentences name things, but never what to remove.
    let mut c_own = Clause {
        toks: c.toks.clone(),
        mentions: c
            .mentions
            .iter()
            .filter(|m| !c.toks[m.start].context)
            .cloned()
            .collect(),
        verb: c.verb,
        verb_end: c.verb_end,
        text: c.text.clone(),
    };
    if c_own.mentions.len() == c.mentions.len() {
        c_own.mentions = c.mentions.clone();
    }
    let c = &c_own;
    // "drop the LAN restriction": the allow list goes, the site stays.
    if c.has_any(&["restriction", "restrictions", "allowlist", "whitelist"])
        || c.words().windows(2).any(|w| w == ["allow", "list"])
    {
        let subjects: Vec<Vec<usize>> = subjects(g, c, ctx);
        let Some(cands) = subjects.first() else {
            return Err(unknown_reference(g, c));
        };
        for t in resolve(g, cands, &["proxy_site"]) {
            let e = &g.world.entities[t];
            ctx.push(Operation::Set {
                address: e.address(),
                attribute: "allow".into(),
                value: Value::Null,
            });
        }
        ctx.subject = cands.clone();
        return Ok(());
    }
    let everything = c.has_any(&["everything", "resources", "project"])
        || c.words().windows(2).any(|w| {
            matches!(w[0], "all" | "every" | "whole" | "entire")
                && matches!(
                    w[1],
                    "resource"
                        | "resources"
                        | "of"
                        | "project"
                        | "services"
                        | "infrastructure"
                        | "the"
                )
        });
    let subjects = runs(c, &ctx.renamed);
    if subjects.is_empty() {
        // "drop vpn" after the same request renamed vpn: the old name is gone already.
        if c.mentions
            .iter()
            .any(|m| m.cands.iter().any(|e| ctx.renamed.contains(e)))
        {
            return Ok(());
        }
        if everything || c.has("all") {
            return Err(decline(
                "infra never removes everything from a conversation",
                "`infra destroy` removes every resource, after showing the plan and asking",
            ));
        }
        if c.has_any(&["it", "them", "its", "their"]) && !ctx.subject.is_empty() {
            return remove_subject(g, c, ctx, &ctx.subject.clone(), false);
        }
        return Err(unknown_reference(g, c));
    }
    if everything && subjects.iter().all(|s| s.weak) {
        return Err(decline(
            "infra never removes everything from a conversation",
            "`infra destroy` removes every resource, after showing the plan and asking",
        ));
    }
    for s in &subjects {
        remove_subject(g, c, ctx, &s.cands, s.weak)?;
    }
    Ok(())
}

fn remove_subject(
    g: &Grammar,
    c: &Clause,
    ctx: &mut Ctx,
    cands: &[usize],
    weak: bool,
) -> Result<(), Error> {
    let wanted = parts(c);
    if !wanted.is_empty() {
        let targets = resolve(g, cands, &wanted);
        if targets.is_empty() {
            let (name, _) = subject_name(g, cands);
            return Err(decline(
                &format!("`{name}` has no {}", wanted.join(" or ")),
                "nothing to remove",
            ));
        }
        check_ambiguous(g, c, &targets, weak)?;
        for t in targets {
            if !already_removed(g, ctx, t) {
                ctx.push(Operation::Remove {
                    target: g.world.entities[t].address(),
                });
            }
        }
    } else {
        match group_of(g, cands) {
            Some(gr)
                if cands
                    .iter()
                    .all(|&e| g.world.entities[e].group.as_deref() == Some(gr.as_str())) =>
            {
                if !cands.iter().all(|&t| already_removed(g, ctx, t)) {
                    ctx.push(Operation::Remove {
                        target: format!("group:{gr}"),
                    });
                }
            }
            _ => {
                check_ambiguous(g, c, cands, weak)?;
                for &t in cands {
                    if !already_removed(g, ctx, t) {
                        ctx.push(Operation::Remove {
                            target: g.world.entities[t].address(),
                        });
                    }
                }
            }
        }
    }
    ctx.subject = cands.to_vec();
    Ok(())
}

/// Is this entity removed by an earlier clause (itself or with its group)?
fn already_removed(g: &Grammar, ctx: &Ctx, e: usize) -> bool {
    let ent = &g.world.entities[e];
    let group = ent.group.as_ref().map(|gr| format!("group:{gr}"));
    ctx.ops.iter().any(|o| matches!(o, Operation::Remove { target } if *target == ent.address() || Some(target) == group.as_ref()))
}

/// "but keep its DNS", "keep the container and its DNS", "keep the rest".
pub fn keep(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<(), Error> {
    keep_only(g, c, ctx);
    // "keep its DNS name, pointing it at 10.0.20.99": a value said here edits what is kept.
    let spans: Vec<(usize, usize)> = c.mentions.iter().map(|m| (m.start, m.end)).collect();
    if !facts::extract(&c.toks, &spans).is_empty() {
        let mut rest = Clause {
            toks: c.toks.clone(),
            mentions: c.mentions.clone(),
            verb: None,
            verb_end: 0,
            text: c.text.clone(),
        };
        rest.toks[0].low = "set".into();
        return edit(g, &rest, ctx);
    }
    Ok(())
}

/// What a keep clause keeps, recorded in `ctx.keep`.
pub fn keep_only(g: &Grammar, c: &Clause, ctx: &mut Ctx) {
    let subjects = runs(c, &BTreeSet::new());
    let base: Vec<usize> = match subjects.first() {
        Some(s) => s.cands.clone(),
        None => ctx.subject.clone(),
    };
    if base.is_empty() {
        return;
    }
    let wanted = parts(c);
    let kept: Vec<usize> = if wanted.is_empty() {
        // "keep the rest", "leave the print server itself alone": what the request
        // does not remove by name stays.
        if c.has("rest") || base.len() > 1 {
            let removed: BTreeSet<String> = ctx
                .ops
                .iter()
                .filter_map(|o| match o {
                    Operation::Remove { target } => Some(target.clone()),
                    _ => None,
                })
                .collect();
            widened(g, &base)
                .into_iter()
                .filter(|&e| !removed.contains(&g.world.entities[e].address()))
                .collect()
        } else {
            base.clone()
        }
    } else {
        resolve(g, &base, &wanted)
    };
    for e in &kept {
        let a = g.world.entities[*e].address();
        if !ctx.keep.contains(&a) {
            ctx.keep.push(a);
        }
    }
    if !kept.is_empty() {
        ctx.subject = kept;
    }
}

/// "make a staging copy of paperless called paperless-staging", "clone acme-shop as acme-shop-staging".
pub fn clone(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<(), Error> {
    let names = create::new_names(g, c)?;
    let Some(to) = names.first().cloned() else {
        return Err(decline(
            "it does not say what the copy is called",
            "say \"… called NAME\" or \"clone X as NAME\"",
        ));
    };
    let source: Option<&Mention> = c
        .mentions
        .iter()
        .find(|m| !m.cands.is_empty() && !c.toks[m.start].low.contains(&to));
    let Some(m) = source else {
        return Err(unknown_reference(g, c));
    };
    let Some(group) = group_of(g, &m.cands) else {
        return Err(decline(
            "only a whole service (a group) can be copied",
            "name the service to copy",
        ));
    };
    ctx.push(Operation::Clone {
        group,
        to: to.clone(),
    });
    ctx.subject.clear();
    Ok(())
}

/// "rename the printer DNS record to laser".
pub fn rename(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<(), Error> {
    let Some(m) = c.mentions.first() else {
        return Err(unknown_reference(g, c));
    };
    let to = c
        .toks
        .iter()
        .position(|t| t.is("to") || t.is("as") || t.kind == Kind::Punct('>'))
        .and_then(|i| c.toks.get(i + 1));
    let Some(to) = to else {
        return Err(decline(
            "it does not say the new name",
            "say \"rename X to NAME\"",
        ));
    };
    let wanted = parts(c);
    let targets = if wanted.is_empty() {
        m.cands.clone()
    } else {
        resolve(g, &m.cands, &wanted)
    };
    if let [one] = targets.as_slice() {
        let e = &g.world.entities[*one];
        if e.kind == "dns_record" {
            let (zone, label) = match to.kind {
                Kind::Fqdn => g.world.split_host(&to.low).ok_or_else(|| {
                    decline(
                        &format!("no zone of this project holds {}", to.low),
                        "use a name in one of the project's zones",
                    )
                })?,
                _ => (
                    e.str("zone").unwrap_or_default().to_string(),
                    create::slug(&to.raw)?,
                ),
            };
            let address = e.address();
            ctx.push(Operation::Set {
                address: address.clone(),
                attribute: "name".into(),
                value: Value::from(label.clone()),
            });
            if e.str("zone") != Some(zone.as_str()) {
                ctx.push(Operation::Set {
                    address: address.clone(),
                    attribute: "zone".into(),
                    value: Value::from(zone),
                });
            }
            let new = create::slug(&label.replace('@', "apex"))?;
            if g.world.find(&format!("dns_record.{new}")).is_none() {
                ctx.push(Operation::Rename { address, to: new });
            }
            ctx.renamed.insert(*one);
            return Ok(());
        }
    }
    let new = create::slug(&to.raw)?;
    match group_of(g, &targets) {
        Some(gr) if wanted.is_empty() => ctx.push(Operation::Rename {
            address: format!("group:{gr}"),
            to: new,
        }),
        _ => {
            check_ambiguous(g, c, &targets, m.weak)?;
            for t in targets {
                ctx.push(Operation::Rename {
                    address: g.world.entities[t].address(),
                    to: new.clone(),
                });
            }
        }
    }
    let _ = Verb::Rename;
    Ok(())
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
