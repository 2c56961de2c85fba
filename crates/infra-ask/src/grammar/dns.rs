//! DNS records from a request: "point files.example.net at 10.0.20.7", "an AAAA
//! record for nas", "an SPF record for the domain: v=spf1 mx -all", MX with a
//! priority, SRV, CAA, TXT with a value, and records beside existing ones.

use serde_json::{Map, Value};

use super::facts;
use super::lex::{Kind, Tok};
use super::names::{list_from, name_like, names_list, slug};
use super::vocab::Verb;
use super::{decline, subject, Clause, Created, Ctx, Grammar};
use crate::intent::Operation;
use infra_core::error::Error;

/// The record type a clause asks for, by name or by what it describes.
pub fn record_type(c: &Clause) -> Option<String> {
    // "an SPF record", "a CNAME record", "the MX records": the word before "record" says it.
    for w in c.toks.windows(2) {
        if w[1].low.starts_with("record") || matches!(w[1].low.as_str(), "rec" | "recs") {
            let up = w[0].raw.to_ascii_uppercase();
            if infra_core::dns::SPOKEN_TYPES.contains(&up.as_str()) {
                return Some(up);
            }
            if matches!(
                w[0].low.as_str(),
                "spf" | "dmarc" | "dkim" | "verification" | "txt"
            ) {
                return Some("TXT".into());
            }
        }
    }
    let colon = c
        .toks
        .iter()
        .position(|x| x.kind == Kind::Punct(':'))
        .filter(|&i| {
            i > 0
                && !c.toks[i - 1].low.starts_with("record")
                && !c.toks[i - 1].raw.eq_ignore_ascii_case("a")
        });
    let t = &c.toks[..colon.unwrap_or(c.toks.len())];
    for (i, x) in t.iter().enumerate() {
        let up = x.raw.to_ascii_uppercase();
        let next_record = t
            .get(i + 1)
            .is_some_and(|n| n.low.starts_with("record") || n.kind == Kind::Punct(':'));
        if x.kind == Kind::Word && infra_core::dns::SPOKEN_TYPES.contains(&up.as_str()) {
            let article_a = x.low == "a" && !next_record;
            if article_a || (up == "NS" && !next_record) {
                continue;
            }
            if x.low == "a" && !next_record {
                continue;
            }
            return Some(up);
        }
    }
    if c.toks.iter().enumerate().any(|(i, t)| {
        t.is("alias")
            && !facts::negated(&c.toks, i)
            && !c.toks[..i]
                .iter()
                .rev()
                .take(3)
                .any(|w| matches!(w.low.as_str(), "being" | "stop" | "longer"))
    }) {
        return Some("CNAME".into());
    }
    if c.has_any(&["spf", "dmarc", "dkim", "verification", "txt"]) {
        return Some("TXT".into());
    }
    if c.has_any(&["mail", "email", "e-mail"])
        && c.has_any(&["go", "accept", "deliver", "delivered", "route", "routed"])
    {
        return Some("MX".into());
    }
    // "only Let's Encrypt may issue certificates for x" is a CAA record; "issue
    // a certificate for x" asks for the certificate itself.
    if c.has_any(&["issue", "issuance", "issuing", "issuer", "issuers"])
        && c.has_any(&[
            "certificate",
            "certificates",
            "certs",
            "issuance",
            "issuer",
            "issuers",
        ])
        && c.has_any(&[
            "only",
            "may",
            "allowed",
            "allow",
            "authorise",
            "authorize",
            "authorised",
            "authorized",
            "permitted",
            "permit",
            "restrict",
            "restricted",
            "can",
            "should",
            "issuers",
            "issuer",
            "issuance",
        ])
    {
        return Some("CAA".into());
    }
    None
}

/// DNS records: "point files.home.example.net at 10.0.20.7", "add an AAAA record
/// for nas pointing to fd00:20::5", "an SPF record for the domain: v=spf1 mx -all",
/// "MX to mx1.example.net, prio 10", SRV, CAA, TXT with a value.
pub fn dns(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<Option<bool>, Error> {
    let verb = c.verb();
    if matches!(
        verb,
        Some(Verb::Remove | Verb::Clone | Verb::Rename | Verb::Unsupported)
    ) {
        return Ok(None);
    }
    let t = &c.toks;
    let ty = record_type(c);
    // "needs an AAAA record as well" creates; "the MX record" names one that exists.
    let article = t.windows(2).any(|w| {
        matches!(w[0].low.as_str(), "a" | "an" | "another" | "new")
            && (infra_core::dns::SPOKEN_TYPES.contains(&w[1].raw.to_ascii_uppercase().as_str())
                || w[1].low.starts_with("record")
                || matches!(
                    w[1].low.as_str(),
                    "spf" | "dmarc" | "dkim" | "alias" | "txt" | "verification"
                ))
    });
    // "the MX record" names existing records, when there are such.
    let definite = (1..t.len()).any(|i| {
        matches!(t[i - 1].low.as_str(), "the" | "its" | "that" | "this")
            && infra_core::dns::SPOKEN_TYPES.contains(&t[i].raw.to_ascii_uppercase().as_str())
            && t[i].low != "a"
            && c.in_mention(i)
    });
    if matches!(verb, Some(Verb::Edit)) && !article && ty.as_deref() != Some("CAA") {
        return Ok(None);
    }
    if definite && !article {
        return Ok(None);
    }
    let pointing = c.toks.iter().any(|x| x.low.starts_with("point"))
        || t.iter().any(|x| x.kind == Kind::Punct('>'));
    let new_host = t
        .iter()
        .enumerate()
        .find(|(i, x)| x.kind == Kind::Fqdn && !c.in_mention(*i))
        .map(|(i, _)| i);
    let has_value = t.iter().any(|x| matches!(x.kind, Kind::Ip(_)));
    // "… has the address 172.18.5.12. Could it be called copier.example.org?"
    let called_host = t
        .windows(2)
        .any(|w| matches!(w[0].low.as_str(), "called" | "named") && w[1].kind == Kind::Fqdn);
    let pointed = (pointing || called_host) && new_host.is_some() && c.mentions.is_empty();
    let described = c.has_any(&["record", "dns"])
        && (new_host.is_some() || has_value)
        && c.verb() == Some(Verb::Create);
    if ty.is_none() && !pointed && !described {
        return Ok(None);
    }
    // The value: after "to", "at", "->", "target", a colon or "value".
    let target_at = |i: usize| -> bool {
        i > 0
            && matches!(
                t[i - 1].low.as_str(),
                "to" | "at" | ">" | "target" | "->" | "towards"
            )
            || i > 1 && t[i - 1].is("to") && t[i - 2].low.starts_with("point")
    };
    let ip = t.iter().find_map(|x| match x.kind {
        Kind::Ip(ip) => Some((ip, x.raw.clone())),
        _ => None,
    });
    let host_value = t
        .iter()
        .enumerate()
        .find(|(i, x)| x.kind == Kind::Fqdn && target_at(*i))
        .map(|(_, x)| x.low.clone());
    let ty = match ty {
        Some(ty) => ty,
        None => match (&ip, &host_value) {
            (Some((std::net::IpAddr::V6(_), _)), _) => "AAAA".into(),
            (Some(_), _) => "A".into(),
            (None, Some(_)) => "CNAME".into(),
            _ => return Ok(None),
        },
    };
    // The owner: an underscore label, a host name that is not the value, a word
    // after the type, a name after "for", or the apex.
    let spans: Vec<(usize, usize)> = c.mentions.iter().map(|m| (m.start, m.end)).collect();
    let facts = facts::extract(t, &spans);
    let mut owners: Vec<(String, String)> = Vec::new(); // (zone, label)
    let default_zone = in_zone(g, c)
        .or_else(|| g.world.domain.clone().filter(|d| g.world.zones.contains(d)))
        .or_else(|| g.world.zones.first().cloned());
    let mut existing: Option<usize> = None;
    for (i, x) in t.iter().enumerate() {
        if x.low.starts_with('_') && x.kind == Kind::Word {
            let (zone, label) = match g.world.split_host(&x.low) {
                Some((z, l)) => (z, l),
                None => (default_zone.clone().unwrap_or_default(), x.low.clone()),
            };
            owners.push((zone, label));
            break;
        }
        if x.kind == Kind::Fqdn
            && !target_at(i)
            && !(ty == "CNAME" && Some(x.low.clone()) == host_value)
        {
            if in_zone_word(c, i) {
                continue;
            }
            match g.world.split_host(&x.low) {
                Some(zl) => owners.push(zl),
                // "a 3rd mx: mx3.provider.example.net": the host an MX or CNAME points to.
                None if matches!(ty.as_str(), "MX" | "CNAME" | "NS" | "SRV" | "PTR") => continue,
                None => {
                    return Err(decline(
                        &format!("no zone of this project holds {}", x.low),
                        &format!("the zones are {}", g.world.zones.join(", ")),
                    ))
                }
            }
            if let Some(m) = c.mentions.iter().find(|m| m.start == i) {
                existing = m
                    .cands
                    .iter()
                    .copied()
                    .find(|&e| g.world.entities[e].kind == "dns_record");
            }
            break;
        }
    }
    if owners.is_empty() {
        // "an A record camera -> …", "a CNAME wiki pointing to it", "A records a, b and c".
        // The type word itself: "A" in capitals only, "a" is an article.
        let is_type = |x: &Tok| {
            x.kind == Kind::Word
                && (if ty == "A" {
                    x.raw == "A"
                } else {
                    x.raw.eq_ignore_ascii_case(&ty)
                })
        };
        // "… record camera", "an alias wiki", "a dns name ups".
        let after = (0..t.len()).find(|&i| {
            let x = &t[i];
            x.low.starts_with("record")
                || x.is("alias")
                || is_type(x)
                || (x.is("name") && i > 0 && t[i - 1].is("dns"))
        });
        if let Some(p) = after {
            let mut k = p + 1;
            if t.get(k).is_some_and(|x| {
                x.low.starts_with("record") || matches!(x.low.as_str(), "rec" | "recs")
            }) {
                k += 1;
            }
            if t.get(k).is_some_and(|x| {
                matches!(x.low.as_str(), "for" | "called" | "named") || x.kind == Kind::Punct(':')
            }) {
                k += 1;
            }
            if let Some(x) = t.get(k) {
                if let Some(m) = c.mentions.iter().find(|m| m.start == k) {
                    let e = m
                        .cands
                        .iter()
                        .copied()
                        .find(|&e| g.world.entities[e].kind == "dns_record");
                    if let Some(e) = e {
                        let ent = &g.world.entities[e];
                        owners.push((
                            ent.str("zone").unwrap_or_default().to_string(),
                            ent.str("name").unwrap_or_default().to_string(),
                        ));
                        existing = Some(e);
                    }
                } else if name_like(x)
                    || (x.kind == Kind::Word
                        && !matches!(
                            x.low.as_str(),
                            "for"
                                | "to"
                                | "at"
                                | "with"
                                | "pointing"
                                | "that"
                                | "which"
                                | "in"
                                | "on"
                                | "and"
                                | "a"
                                | "an"
                                | "the"
                                | "as"
                                | "too"
                                | "also"
                                | "well"
                                | "please"
                                | "pls"
                        )
                        && !infra_core::dns::SPOKEN_TYPES
                            .contains(&x.raw.to_ascii_uppercase().as_str()))
                {
                    let list = list_from(c, k);
                    for n in list {
                        owners.push((
                            default_zone.clone().unwrap_or_default(),
                            n.to_ascii_lowercase(),
                        ));
                    }
                }
            }
        }
    }
    if owners.is_empty() {
        // "A records for the access points: ap-hall, ap-library and ap-science".
        let list = names_list(c);
        if list.len() > 1 {
            for n in list {
                owners.push((
                    default_zone.clone().unwrap_or_default(),
                    n.to_ascii_lowercase(),
                ));
            }
        }
    }
    if owners.is_empty() {
        // "www should be an A record …": the record named before the type.
        let named = c
            .mentions
            .iter()
            .filter(|m| {
                !target_at(m.start)
                    && !(m.start > 0 && matches!(t[m.start - 1].low.as_str(), "for" | "of"))
                    || ty != "CNAME"
            })
            .flat_map(|m| m.cands.iter().copied())
            .find(|&e| g.world.entities[e].kind == "dns_record");
        if let Some(e) = named {
            let ent = &g.world.entities[e];
            owners.push((
                ent.str("zone").unwrap_or_default().to_string(),
                ent.str("name").unwrap_or_default().to_string(),
            ));
            existing = Some(e);
        }
    }
    if owners.is_empty()
        && (c.has_any(&["domain", "apex", "root"])
            || matches!(ty.as_str(), "MX" | "CAA" | "TXT" | "NS"))
    {
        if let Some(z) = &default_zone {
            // DMARC policies live at _dmarc, by definition.
            let label = if ty == "TXT" && c.has("dmarc") {
                "_dmarc"
            } else {
                "@"
            };
            owners.push((z.clone(), label.into()));
        }
    }
    if owners.is_empty() {
        return Ok(None);
    }
    // DMARC policies live at _dmarc, by definition.
    if ty == "TXT" && (c.has("dmarc") || colon_starts(c, "v=dmarc1")) {
        for o in owners.iter_mut().filter(|(_, l)| l == "@") {
            o.1 = "_dmarc".into();
        }
    }
    // "point the nas record at …": the record exists, so this is an edit.
    if existing.is_some_and(|e| g.world.entities[e].str("type") == Some(ty.as_str())) && !article {
        return Ok(None);
    }
    // The content.
    let colon = c.after_colon();
    let content: Option<String> = match ty.as_str() {
        "A" | "AAAA" => ip.as_ref().map(|(_, raw)| raw.clone()),
        "CNAME" | "NS" | "PTR" => host_value.clone().or_else(|| {
            // "an alias for gitea", "pointing to it".
            let e = c
                .mentions
                .iter()
                .flat_map(|m| m.cands.iter().copied())
                .find_map(|e| subject::host_of(g, &[e]));
            e.or_else(|| {
                c.has_any(&["it", "them"])
                    .then(|| ctx.created.last().and_then(|cr| cr.fqdn.clone()))
                    .flatten()
            })
        }),
        "MX" => host_value.clone().or_else(|| {
            t.iter()
                .find(|x| {
                    x.kind == Kind::Fqdn
                        && !owners.iter().any(|(z, l)| joined(z, l) == x.low)
                        && g.world.split_host(&x.low).is_none_or(|(_, l)| l != "@")
                })
                .map(|x| x.low.clone())
        }),
        "TXT" => colon.clone().or_else(|| {
            t.iter()
                .enumerate()
                .find(|(i, x)| {
                    *i > 0 && (t[i - 1].is("value") || t[i - 1].is("content")) && !x.is_punct()
                })
                .map(|(_, x)| x.raw.clone())
                .or_else(|| {
                    t.iter()
                        .find(|x| x.kind == Kind::Quoted)
                        .map(|x| x.raw.clone())
                })
                // "an spf of v=spf1 -all": from the value to the end, as written.
                .or_else(|| {
                    t.iter()
                        .find(|x| x.kind == Kind::Assign)
                        .map(|x| text_from(c, x))
                })
        }),
        "CAA" => colon.clone().or_else(|| {
            let ca = t.iter().find_map(|x| match x.low.as_str() {
                "letsencrypt" | "letsencrypt.org" | "encrypt" => {
                    Some("letsencrypt.org".to_string())
                }
                "zerossl" => Some("sectigo.com".to_string()),
                "sectigo" => Some("sectigo.com".to_string()),
                "digicert" => Some("digicert.com".to_string()),
                "google" => Some("pki.goog".to_string()),
                _ => None,
            });
            ca.map(|ca| format!("0 issue \"{ca}\""))
        }),
        "SRV" => {
            let target = host_value.clone().or_else(|| {
                t.iter()
                    .find(|x| x.kind == Kind::Fqdn && !x.low.starts_with('_'))
                    .map(|x| x.low.clone())
            });
            let port = facts::set_value(&facts, "port").and_then(Value::as_i64);
            let weight = facts::set_value(&facts, "weight").and_then(Value::as_i64);
            match (target, port) {
                (Some(h), Some(p)) => Some(format!("{} {p} {h}", weight.unwrap_or(0))),
                _ => {
                    return Err(decline(
                        "an SRV record needs a target host and a port",
                        "say \"… to mc.example.net on port 25565\"",
                    ))
                }
            }
        }
        _ => colon.clone(),
    };
    let Some(content) = content else {
        if !c.mentions.is_empty() || existing.is_some() {
            return Ok(None);
        }
        if ty == "A" || ty == "AAAA" {
            return Err(decline(
                &format!("it does not say which address the {ty} record holds"),
                "add the address: \"… pointing to 10.0.20.7\"",
            ));
        }
        return Err(decline(
            &format!("it does not say what the {ty} record holds"),
            "add the value after a colon: \"… TXT record _x: value\"",
        ));
    };
    // "www should be an A record … rather than a CNAME": change the existing one.
    if let Some(e) = existing {
        let ent = &g.world.entities[e];
        let contrast = c.has_any(&[
            "rather", "instead", "anymore", "longer", "from", "switch", "change", "convert",
            "turn", "make",
        ]);
        let old_type_said = ent.str("type").is_some_and(|old| {
            c.toks
                .iter()
                .any(|t| t.raw.eq_ignore_ascii_case(old) && t.low != "a")
        });
        if (contrast && old_type_said || c.has_any(&["rather", "instead", "anymore", "longer"]))
            && ent.str("type") != Some(ty.as_str())
        {
            let address = ent.address();
            ctx.push(Operation::Set {
                address: address.clone(),
                attribute: "type".into(),
                value: Value::from(ty.clone()),
            });
            ctx.push(Operation::Set {
                address,
                attribute: "content".into(),
                value: Value::from(content),
            });
            ctx.subject = vec![e];
            return Ok(Some(true));
        }
    }
    let ttl = facts::set_value(&facts, "ttl");
    let priority = facts::set_value(&facts, "priority");
    // "… at 172.18.5.21, .22 and .23 respectively": one address per name, in order.
    let addresses: Vec<String> = {
        let mut out: Vec<String> = Vec::new();
        for x in t {
            match x.kind {
                Kind::Ip(_) => out.push(x.raw.clone()),
                Kind::Word if x.low.starts_with('.') && x.low[1..].parse::<u8>().is_ok() => {
                    if let Some(first) = out
                        .first()
                        .and_then(|f| f.rsplit_once('.'))
                        .map(|(p, _)| p.to_string())
                    {
                        out.push(format!("{first}{}", x.low));
                    }
                }
                _ => {}
            }
        }
        out
    };
    let paired =
        matches!(ty.as_str(), "A" | "AAAA") && addresses.len() == owners.len() && owners.len() > 1;
    for (k, (zone, label)) in owners.into_iter().enumerate() {
        let content = if paired {
            addresses[k].clone()
        } else {
            content.clone()
        };
        let name = record_resource_name(g, ctx, &zone, &label, &ty, &content)?;
        let mut params = Map::new();
        params.insert("name".into(), Value::from(name.clone()));
        params.insert("record_name".into(), Value::from(label.clone()));
        if label != "@" && !label.starts_with('_') {
            params.insert("domain".into(), Value::from(joined(&zone, &label)));
        }
        params.insert("zone".into(), Value::from(zone.clone()));
        params.insert("type".into(), Value::from(ty.clone()));
        params.insert("content".into(), Value::from(content.clone()));
        if let Some(v) = ttl {
            params.insert("ttl".into(), v.clone());
        }
        match (priority, ty.as_str()) {
            (Some(v), _) => {
                params.insert("priority".into(), v.clone());
            }
            (_, "SRV") => {
                params.insert("priority".into(), Value::from(0));
            }
            _ => {}
        }
        push_record(ctx, params, &name, &name, joined(&zone, &label));
    }
    Ok(Some(true))
}

/// One new record through the dns-record capability, remembered as created
/// (so "it" and later clauses can refer to it).
pub fn push_record(
    ctx: &mut Ctx,
    params: Map<String, Value>,
    name: &str,
    group: &str,
    fqdn: String,
) {
    ctx.push(Operation::UseCapability {
        capability: "dns-record".into(),
        params,
        without: vec![],
    });
    ctx.created.push(Created {
        name: name.to_string(),
        group: group.to_string(),
        fqdn: Some(fqdn),
        kinds: vec!["dns_record".into()],
    });
}

/// The clause's text from a token to its end, as written.
fn text_from(c: &Clause, from: &Tok) -> String {
    let chars: Vec<char> = c.text.chars().collect();
    let end = c
        .toks
        .last()
        .map(|t| t.end)
        .unwrap_or(from.end)
        .min(chars.len());
    let s: String = chars[from.at.min(end)..end].iter().collect();
    s.trim()
        .trim_end_matches(['.', '!', ')'])
        .trim()
        .to_string()
}

fn colon_starts(c: &Clause, prefix: &str) -> bool {
    c.after_colon()
        .is_some_and(|s| s.to_ascii_lowercase().starts_with(prefix))
}

/// A record of the other address family beside an existing one ("nas should also
/// have an IPv6 address"): same zone and name, its own address.
pub fn record_beside(
    g: &Grammar,
    ctx: &Ctx,
    e: usize,
    ty: &str,
    content: &str,
) -> Result<Operation, Error> {
    let ent = &g.world.entities[e];
    let zone = ent.str("zone").unwrap_or_default().to_string();
    let label = ent.str("name").unwrap_or("@").to_string();
    let name = record_resource_name(g, ctx, &zone, &label, ty, content)?;
    let mut params = Map::new();
    params.insert("name".into(), Value::from(name));
    params.insert("record_name".into(), Value::from(label));
    params.insert("zone".into(), Value::from(zone));
    params.insert("type".into(), Value::from(ty));
    params.insert("content".into(), Value::from(content));
    if let Some(gr) = &ent.group {
        params.insert("group".into(), Value::from(gr.clone()));
    }
    Ok(Operation::UseCapability {
        capability: "dns-record".into(),
        params,
        without: vec![],
    })
}

fn joined(zone: &str, label: &str) -> String {
    if label == "@" {
        zone.to_string()
    } else {
        format!("{label}.{zone}")
    }
}

/// "in clients.example.org", "on example.org": the zone named for new records.
fn in_zone(g: &Grammar, c: &Clause) -> Option<String> {
    c.toks.iter().enumerate().find_map(|(i, t)| {
        (t.kind == Kind::Fqdn && in_zone_word(c, i) && g.world.zones.contains(&t.low))
            .then(|| t.low.clone())
    })
}

fn in_zone_word(c: &Clause, i: usize) -> bool {
    i > 0
        && c.toks[i - 1].is("in")
        && c.toks.iter().filter(|t| t.kind == Kind::Fqdn).count() > 0
        && {
            let after_records = c.toks[..i].iter().any(|t| t.low.starts_with("record"));
            after_records
        }
}

/// A resource name for a new record: its label, or what it is for at the apex;
/// never one that exists ("nas" beside the A record nas becomes "nas-aaaa").
fn record_resource_name(
    g: &Grammar,
    ctx: &Ctx,
    zone: &str,
    label: &str,
    ty: &str,
    content: &str,
) -> Result<String, Error> {
    let base = match label {
        "@" => {
            let what = if content.starts_with("v=spf1") {
                "spf".to_string()
            } else if content.contains("-verification=") || content.contains("verification") {
                content.split('-').next().unwrap_or("txt").to_string() + "-verification"
            } else {
                ty.to_ascii_lowercase()
            };
            let zone_label = zone.split('.').next().unwrap_or(zone);
            if Some(zone) == g.world.domain.as_deref() {
                what
            } else {
                format!("{zone_label}-{what}")
            }
        }
        l => l
            .trim_start_matches('_')
            .replace("._", "-")
            .replace(['.', '_'], "-"),
    };
    // "_443._tcp.www" (TLSA) starts with a digit: names start with a letter.
    let base = if base.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{}-{base}", ty.to_ascii_lowercase())
    } else {
        base
    };
    let base = slug(&base)?;
    let taken = |n: &str| {
        g.world.find(&format!("dns_record.{n}")).is_some()
            || ctx.created.iter().any(|c| c.name == n)
    };
    if !taken(&base) {
        return Ok(base);
    }
    let typed = format!("{base}-{}", ty.to_ascii_lowercase());
    if !taken(&typed) {
        return Ok(typed);
    }
    (2..100)
        .map(|n| format!("{typed}-{n}"))
        .find(|n| !taken(n))
        .ok_or_else(|| Error::new("no free name for the record"))
}
