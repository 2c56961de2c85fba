//! What a clause is about: runs of mentions said together form one subject;
//! a subject is widened to its group when an attribute lives on another part;
//! references that match nothing or several things are declined here.

use std::collections::BTreeSet;

use super::facts;
use super::names::name_like;
use super::vocab;
use super::world::{self, Entity};
use super::{decline, Clause, Ctx, Grammar};
use infra_core::error::Error;

/// Runs of mentions said together ("MX, SPF and DMARC") form one subject; a
/// fact binds to the subject said before it.
pub(super) struct Subject {
    pub end: usize,
    pub cands: Vec<usize>,
    pub weak: bool,
}

pub(super) fn runs(c: &Clause, skip: &BTreeSet<usize>) -> Vec<Subject> {
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
                    || infra_core::dns::SPOKEN_TYPES.contains(&t.raw.to_ascii_uppercase().as_str())
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

pub(super) fn group_of(g: &Grammar, cands: &[usize]) -> Option<String> {
    let groups: BTreeSet<&str> = cands
        .iter()
        .filter_map(|&e| g.world.entities[e].group.as_deref())
        .collect();
    (groups.len() == 1).then(|| groups.into_iter().next().expect("one").to_string())
}

pub(super) fn widened(g: &Grammar, cands: &[usize]) -> Vec<usize> {
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

/// Resources of the wanted kinds within a subject (widened to its group).
pub(super) fn resolve(g: &Grammar, cands: &[usize], kinds: &[&str]) -> Vec<usize> {
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

pub(super) fn parts(c: &Clause) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (i, t) in c.toks.iter().enumerate() {
        if let Some(k) = vocab::part_kind(&t.low) {
            // "cloudflare's proxy" is the record's proxying, not a proxy site.
            if k == "proxy_site" && c.has_any(&["cloudflare", "proxying", "orange"]) {
                continue;
            }
            // "we don't need to monitor minio anymore": the negation is the removal.
            let no_longer = c.has_any(&["anymore", "longer"]);
            if (no_longer || !facts::negated(&c.toks, i)) && !out.contains(&k) {
                out.push(k);
            }
        }
    }
    let stop = c.words().windows(2).any(|w| {
        w[0] == "stop"
            && (w[1].starts_with("monitor")
                || w[1].starts_with("watch")
                || w[1].starts_with("check"))
    });
    // "we don't need to monitor minio anymore": the monitor goes, nothing else.
    let not_watched = c.has_any(&["anymore", "longer"])
        && c.toks
            .iter()
            .any(|t| t.low.starts_with("monitor") || t.low.starts_with("watch"));
    if (stop || not_watched) && !out.contains(&"monitor") {
        out.push("monitor");
    }
    out
}

pub(super) fn plural(c: &Clause) -> bool {
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

pub(super) fn unknown_reference(g: &Grammar, c: &Clause) -> Error {
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

pub(super) fn check_ambiguous(
    g: &Grammar,
    c: &Clause,
    targets: &[usize],
    weak: bool,
) -> Result<(), Error> {
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
