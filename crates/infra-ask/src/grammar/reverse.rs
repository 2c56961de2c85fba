//! Reverse DNS: "add reverse DNS for nas", "a PTR record for the printer". The
//! address comes from the thing named (a record, or a guest and the record
//! that points at it), the record goes in the project's reverse zone that holds
//! that address, and it names the thing's host name.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::world::Entity;
use super::{decline, Clause, Ctx, Grammar};
use infra_core::error::Error;

/// Does the clause ask for reverse DNS in words ("reverse DNS", "rDNS")?
fn asks_in_words(c: &Clause) -> bool {
    let t = &c.toks;
    t.windows(2).any(|w| {
        matches!(w[0].low.as_str(), "reverse" | "rdns")
            && matches!(
                w[1].low.as_str(),
                "dns"
                    | "lookup"
                    | "lookups"
                    | "record"
                    | "records"
                    | "entry"
                    | "entries"
                    | "resolution"
                    | "zone"
            )
    }) || t.iter().any(|x| x.low == "rdns")
}

/// `a.b.c.d` → `d.c.b.a.in-addr.arpa`; IPv6 by nibbles under `ip6.arpa`.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let hex: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
            let mut nibbles: Vec<String> = hex.chars().map(|c| c.to_string()).collect();
            nibbles.reverse();
            format!("{}.ip6.arpa", nibbles.join("."))
        }
    }
}

/// The address and host name of an entity: a record's own, or a guest's with
/// the name of the record that points at it.
fn address_and_host(g: &Grammar, e: &Entity) -> Option<(IpAddr, Option<String>)> {
    let of_guest = |guest: &Entity| -> Option<(IpAddr, Option<String>)> {
        let ip = guest.ip()?;
        let reference = format!("${{{}.address}}", guest.address());
        let host = g
            .world
            .entities
            .iter()
            .filter(|r| r.kind == "dns_record" && matches!(r.str("type"), Some("A" | "AAAA")))
            .find(|r| r.str("content") == Some(reference.as_str()) || r.ip() == Some(ip))
            .and_then(Entity::host);
        Some((ip, host))
    };
    match e.kind.as_str() {
        "dns_record" => {
            let host = e.host();
            if let Some(ip) = e.ip() {
                return Some((ip, host));
            }
            // content = "${container.nas.address}": the guest's address.
            let content = e.str("content")?;
            let target = content.strip_prefix("${")?.strip_suffix(".address}")?;
            let guest = g.world.find(target)?;
            Some((of_guest(&g.world.entities[guest])?.0, host))
        }
        "container" | "vm" => of_guest(e),
        _ => None,
    }
}

pub fn reverse(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<Option<bool>, Error> {
    let words = asks_in_words(c);
    let ptr = c.toks.iter().any(|x| x.raw.eq_ignore_ascii_case("ptr"));
    if !words && !ptr {
        return Ok(None);
    }
    // The thing named: a record first, then a guest, then an address written out.
    let named: Vec<usize> = c
        .mentions
        .iter()
        .flat_map(|m| m.cands.iter().copied())
        .collect();
    let pick = |kinds: &[&str]| {
        named
            .iter()
            .copied()
            .find(|&e| kinds.contains(&g.world.entities[e].kind.as_str()))
    };
    let entity = pick(&["dns_record"]).or_else(|| pick(&["container", "vm"]));
    let found = entity.and_then(|e| address_and_host(g, &g.world.entities[e]));
    // The record joins the group of what it describes.
    let group = entity.and_then(|e| g.world.entities[e].group.clone());
    let written_ip = c.toks.iter().find_map(|x| match x.kind {
        super::lex::Kind::Ip(ip) => Some(ip),
        _ => None,
    });
    let written_host = c
        .toks
        .iter()
        .find(|x| x.kind == super::lex::Kind::Fqdn && !x.low.ends_with(".arpa"))
        .map(|x| x.low.clone());
    // "a PTR record 52 in 20.0.10.in-addr.arpa to nas…" spells the record out:
    // the plain DNS rule reads it.
    if !words && found.is_none() && written_ip.is_none() {
        return Ok(None);
    }
    let (ip, host) = match (found, written_ip) {
        (Some((ip, host)), _) => (ip, host.or(written_host)),
        (None, Some(ip)) => (ip, written_host),
        (None, None) => {
            return Err(decline(
                "it does not say whose address the reverse record is for",
                "name the host or its record (\"reverse DNS for nas\"), or write the address",
            ))
        }
    };
    let Some(host) = host else {
        return Err(decline(
            &format!("no DNS name points at {ip}, so the reverse record would have nothing to name"),
            "add the A record first, or say the name: \"reverse DNS for 10.0.20.52 as nas.example.net\"",
        ));
    };
    let full = reverse_name(ip);
    // The project's reverse zone that holds the address, the most specific first.
    let Some(zone) = g
        .world
        .zones
        .iter()
        .filter(|z| full.ends_with(&format!(".{z}")))
        .max_by_key(|z| z.len())
        .cloned()
    else {
        let family = if ip.is_ipv4() {
            "in-addr.arpa"
        } else {
            "ip6.arpa"
        };
        return Err(decline(
            &format!("the project serves no reverse zone ({family}) that holds {ip}"),
            "add the reverse zone to the DNS provider's zones first, e.g. zones = [\"…\", \"20.0.10.in-addr.arpa\"]",
        ));
    };
    let label = full[..full.len() - zone.len() - 1].to_string();
    let first = host.split('.').next().unwrap_or(&host);
    let name = super::names::slug(&format!("{first}-ptr"))?;
    let mut params = Map::new();
    params.insert("name".into(), Value::from(name.clone()));
    params.insert("record_name".into(), Value::from(label.clone()));
    params.insert("zone".into(), Value::from(zone.clone()));
    params.insert("type".into(), Value::from("PTR"));
    params.insert("content".into(), Value::from(host.clone()));
    if let Some(g) = &group {
        params.insert("group".into(), Value::from(g.clone()));
    }
    let group = group.unwrap_or_else(|| name.clone());
    super::dns::push_record(ctx, params, &name, &group, full);
    Ok(Some(true))
}

#[cfg(test)]
mod tests {
    use super::reverse_name;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("10.0.20.52".parse().unwrap()),
            "52.20.0.10.in-addr.arpa"
        );
        assert!(reverse_name("fd00::1".parse().unwrap()).starts_with("1.0.0.0."));
        assert!(reverse_name("fd00::1".parse().unwrap()).ends_with(".0.0.d.f.ip6.arpa"));
    }
}
