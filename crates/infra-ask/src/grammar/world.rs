//! What exists, as the grammar sees it: resources, groups, host names,
//! addresses, providers, zones and pools, from the loaded spec; and the
//! resolution of words in a request to those things.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde_json::Value;

use super::lex::{Kind, Tok};
use super::vocab;
use infra_core::spec::Spec;
use infra_core::util::edit_distance;

#[derive(Debug, Clone)]
pub struct Entity {
    pub kind: String,
    pub name: String,
    pub group: Option<String>,
    pub attrs: BTreeMap<String, Value>,
}

impl Entity {
    pub fn address(&self) -> String {
        format!("{}.{}", self.kind, self.name)
    }
    pub fn str(&self, attr: &str) -> Option<&str> {
        self.attrs.get(attr).and_then(Value::as_str)
    }
    pub fn int(&self, attr: &str) -> Option<i64> {
        self.attrs.get(attr).and_then(Value::as_i64)
    }
    /// The host name this resource answers to or describes.
    pub fn host(&self) -> Option<String> {
        match self.kind.as_str() {
            "proxy_site" => self.str("server_name").map(str::to_string),
            "monitor" => self.str("url").and_then(url_host),
            "dns_record" => {
                let zone = self.str("zone")?.trim_end_matches('.');
                Some(match self.str("name")? {
                    "@" => zone.to_string(),
                    n => format!("{n}.{zone}"),
                })
            }
            _ => None,
        }
    }
    /// The plain address this resource has or points to.
    pub fn ip(&self) -> Option<IpAddr> {
        let raw = match self.kind.as_str() {
            "container" | "vm" => self.str("ip")?,
            "dns_record" => self.str("content")?,
            _ => return None,
        };
        raw.split('/').next()?.parse().ok()
    }
}

pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.split(':').next()?,
    };
    Some(host.to_ascii_lowercase())
}

#[derive(Debug, Clone, Default)]
pub struct World {
    pub entities: Vec<Entity>,
    /// Provider instance name → its kind.
    pub providers: BTreeMap<String, String>,
    /// DNS zones the project serves, longest first.
    pub zones: Vec<String>,
    pub domain: Option<String>,
    /// Pool networks, for "LAN only".
    pub pools: Vec<String>,
}

impl World {
    pub fn of(spec: &Spec) -> World {
        let entities = spec
            .resources
            .iter()
            .map(|r| Entity {
                kind: r.address.kind.clone(),
                name: r.address.name.clone(),
                group: r.group.clone(),
                attrs: r.attrs.clone(),
            })
            .collect();
        let providers = spec
            .providers
            .values()
            .map(|p| (p.name.clone(), p.kind.clone()))
            .collect();
        let mut zones: BTreeSet<String> = BTreeSet::new();
        zones.extend(spec.project.domain.clone());
        for p in spec.providers.values() {
            if let Some(list) = p.settings.get("zones").and_then(Value::as_array) {
                zones.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
            }
        }
        for r in spec
            .resources
            .iter()
            .filter(|r| r.address.kind == "dns_record")
        {
            if let Some(z) = r.attrs.get("zone").and_then(Value::as_str) {
                zones.insert(z.trim_end_matches('.').to_string());
            }
        }
        let pools = spec
            .pools
            .values()
            .filter_map(|p| p.cidr.map(|c| c.trunc().to_string()))
            .collect();
        World::new(
            entities,
            providers,
            zones,
            spec.project.domain.clone(),
            pools,
        )
    }

    pub fn new(
        entities: Vec<Entity>,
        providers: BTreeMap<String, String>,
        zones: BTreeSet<String>,
        domain: Option<String>,
        pools: Vec<String>,
    ) -> World {
        let mut zones: Vec<String> = zones.into_iter().map(|z| z.to_ascii_lowercase()).collect();
        zones.sort_by_key(|z| std::cmp::Reverse(z.len()));
        World {
            entities,
            providers,
            zones,
            domain,
            pools,
        }
    }

    pub fn find(&self, address: &str) -> Option<usize> {
        self.entities.iter().position(|e| e.address() == address)
    }

    pub fn group_members(&self, group: &str) -> Vec<usize> {
        (0..self.entities.len())
            .filter(|&i| self.entities[i].group.as_deref() == Some(group))
            .collect()
    }

    pub fn groups(&self) -> BTreeSet<&str> {
        self.entities
            .iter()
            .filter_map(|e| e.group.as_deref())
            .collect()
    }

    /// The zone a host name belongs to, and its name relative to it ("@" at the apex).
    pub fn split_host(&self, host: &str) -> Option<(String, String)> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        for z in &self.zones {
            if host == *z {
                return Some((z.clone(), "@".into()));
            }
            if let Some(label) = host.strip_suffix(&format!(".{z}")) {
                return Some((z.clone(), label.to_string()));
            }
        }
        None
    }

    /// Provider instances of a kind ("docker", "proxmox") serving machines.
    pub fn providers_of(&self, kinds: &[&str]) -> Vec<(&str, &str)> {
        self.providers
            .iter()
            .filter(|(_, k)| kinds.contains(&k.as_str()))
            .map(|(n, k)| (n.as_str(), k.as_str()))
            .collect()
    }

    /// Every name a person might use for something that exists, with what it names.
    fn names(&self) -> Vec<(String, Vec<usize>)> {
        let mut by: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        for (i, e) in self.entities.iter().enumerate() {
            by.entry(e.name.clone()).or_default().insert(i);
            if let Some(g) = &e.group {
                by.entry(g.clone())
                    .or_default()
                    .extend(self.group_members(g));
            }
            // A record's own name ("docs", "photos", "stats") names it too.
            if e.kind == "dns_record" {
                if let Some(n) = e.str("name").filter(|n| *n != "@" && !n.starts_with('_')) {
                    by.entry(n.to_ascii_lowercase()).or_default().insert(i);
                }
            }
            if let Some(h) = e.str("hostname") {
                by.entry(h.to_ascii_lowercase()).or_default().insert(i);
            }
        }
        by.into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect()
    }
}

/// A reference in the request to things that exist.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    /// Entities it names (a whole group when a group's name was used).
    pub cands: Vec<usize>,
    /// Matched by a part of a name or by a near spelling: weaker than an exact name.
    pub weak: bool,
}

/// Find every mention of an existing thing in the tokens, longest first.
pub fn mentions(world: &World, toks: &[Tok]) -> Vec<Mention> {
    let names = world.names();
    let mut used = vec![false; toks.len()];
    let mut out = Vec::new();
    let push = |out: &mut Vec<Mention>,
                used: &mut [bool],
                s: usize,
                e: usize,
                c: Vec<usize>,
                weak: bool| {
        if c.is_empty() || used[s..e].iter().any(|u| *u) {
            return;
        }
        used[s..e].iter_mut().for_each(|u| *u = true);
        out.push(Mention {
            start: s,
            end: e,
            cands: c,
            weak,
        });
    };
    // Addresses, host names and IPs first: they are exact.
    for (i, t) in toks.iter().enumerate() {
        let cands: Vec<usize> = match &t.kind {
            Kind::Word if t.low.contains('.') || t.low.starts_with("group:") => {
                if let Some(g) = t.low.strip_prefix("group:") {
                    world.group_members(g)
                } else {
                    world.find(&t.low).into_iter().collect()
                }
            }
            Kind::Fqdn => {
                let host = t.low.trim_end_matches('.');
                (0..world.entities.len())
                    .filter(|&j| world.entities[j].host().as_deref() == Some(host))
                    .collect()
            }
            Kind::Ip(ip) => (0..world.entities.len())
                .filter(|&j| world.entities[j].ip() == Some(*ip))
                .collect(),
            _ => continue,
        };
        push(&mut out, &mut used, i, i + 1, cands, false);
    }
    // Names of up to three words, exact ("bakery blog", "acme-shop", "backup mx").
    for len in (1..=3).rev() {
        for i in 0..toks.len().saturating_sub(len - 1) {
            if used[i..i + len].iter().any(|u| *u) {
                continue;
            }
            let span = &toks[i..i + len];
            if !span.iter().all(|t| t.kind == Kind::Word) {
                continue;
            }
            let words: Vec<&str> = span.iter().flat_map(|t| t.low.split(['-', '_'])).collect();
            let joined = words.join("-");
            let mut sorted = words.clone();
            sorted.sort();
            let hit: Vec<usize> = names
                .iter()
                .filter(|(n, _)| {
                    *n == joined || {
                        let mut nw: Vec<&str> = n.split(['-', '_']).collect();
                        nw.sort();
                        len > 1 && nw == sorted
                    }
                })
                .flat_map(|(_, c)| c.iter().copied())
                .collect::<BTreeSet<usize>>()
                .into_iter()
                .collect();
            push(&mut out, &mut used, i, i + len, hit, false);
        }
    }
    // "the MX record", "our TXT records": the records of that type.
    for (i, t) in toks.iter().enumerate() {
        let up = t.raw.to_ascii_uppercase();
        let definite = i > 0
            && matches!(
                toks[i - 1].low.as_str(),
                "the" | "its" | "our" | "both" | "all" | "my" | "their"
            );
        if used[i]
            || t.kind != Kind::Word
            || t.low == "a"
            || !definite
            || !infra_core::dns::SPOKEN_TYPES.contains(&up.as_str())
        {
            continue;
        }
        let hit: Vec<usize> = (0..world.entities.len())
            .filter(|&j| {
                world.entities[j].kind == "dns_record"
                    && world.entities[j].str("type") == Some(up.as_str())
            })
            .collect();
        push(&mut out, &mut used, i, i + 1, hit, true);
    }
    // One distinctive word of a longer name ("the portal" → client-portal), a
    // hyphenated word holding a name ("mail-related"), or a near spelling.
    for (i, t) in toks.iter().enumerate() {
        if used[i] || t.kind != Kind::Word || t.low.len() < 2 || vocab::is_image_word(&t.low) {
            continue;
        }
        let parts: Vec<&str> = t.low.split('-').collect();
        let mut hit = BTreeSet::new();
        for (n, c) in &names {
            let nw: Vec<&str> = n.split(['-', '_']).collect();
            let word_of_name =
                nw.len() > 1 && nw.contains(&t.low.as_str()) && !vocab::is_common(&t.low);
            // "mail-related", "dns-based": a name with a word that relates to it.
            let name_in_word = parts.len() == 2
                && parts[0] == n.as_str()
                && matches!(
                    parts[1],
                    "related"
                        | "based"
                        | "side"
                        | "ish"
                        | "like"
                        | "style"
                        | "wide"
                        | "only"
                        | "specific"
                );
            if word_of_name || name_in_word {
                hit.extend(c.iter().copied());
            }
        }
        // A hyphenated near spelling: part by part ("home-assitant" → home-assistant,
        // never "pg-primary" → mx-primary).
        if hit.is_empty() && t.low.contains('-') {
            let tp: Vec<&str> = t.low.split('-').collect();
            for (n, c) in &names {
                let np: Vec<&str> = n.split('-').collect();
                let close = np.len() == tp.len()
                    && np
                        .iter()
                        .zip(&tp)
                        .all(|(a, b)| a == b || (a.len() >= 4 && damerau(a, b) <= 1))
                    && np.iter().zip(&tp).any(|(a, b)| a == b);
                if close && *n != t.low {
                    hit.extend(c.iter().copied());
                }
            }
        }
        // A near spelling: one plain word, same first letter ("palusible" → plausible).
        if hit.is_empty()
            && t.low.len() >= 5
            && !vocab::is_common(&t.low)
            && !t.low.contains(['-', '_'])
        {
            let max = if t.low.len() >= 8 { 2 } else { 1 };
            let best = names
                .iter()
                .filter(|(n, _)| n.chars().next() == t.low.chars().next())
                .map(|(n, c)| (damerau(&t.low, n), c))
                .filter(|(d, _)| *d <= max)
                .min_by_key(|(d, _)| *d);
            if let Some((_, c)) = best {
                hit.extend(c.iter().copied());
            }
        }
        push(
            &mut out,
            &mut used,
            i,
            i + 1,
            hit.into_iter().collect(),
            true,
        );
    }
    out.sort_by_key(|m| m.start);
    out
}

/// Edit distance where swapping two neighbours costs one ("palusible" → "plausible").
fn damerau(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The existing names closest to a word, for "did you mean".
pub fn closest(world: &World, word: &str) -> Vec<String> {
    let mut all: Vec<(usize, String)> = world
        .names()
        .into_iter()
        .map(|(n, _)| (edit_distance(word, &n), n))
        .collect();
    all.sort();
    all.dedup_by(|a, b| a.1 == b.1);
    all.into_iter().take(3).map(|(_, n)| n).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::lex::lex;
    use super::*;

    pub fn entity(kind: &str, name: &str, group: Option<&str>, attrs: serde_json::Value) -> Entity {
        Entity {
            kind: kind.into(),
            name: name.into(),
            group: group.map(str::to_string),
            attrs: attrs
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    pub fn homelab() -> World {
        use serde_json::json;
        let e = vec![
            entity(
                "container",
                "gitea",
                Some("gitea"),
                json!({"ip": "10.0.20.50/24", "cores": 2, "memory": 1024, "disk": 10, "hostname": "gitea"}),
            ),
            entity(
                "dns_record",
                "gitea",
                Some("gitea"),
                json!({"zone": "home.example.net", "name": "gitea", "type": "A", "content": "${container.gitea.address}"}),
            ),
            entity(
                "proxy_site",
                "gitea",
                Some("gitea"),
                json!({"server_name": "gitea.home.example.net", "upstream": "http://${container.gitea.address}:3000"}),
            ),
            entity(
                "container",
                "client-portal",
                Some("client-portal"),
                json!({"ip": "10.0.20.51/24", "cores": 2}),
            ),
            entity(
                "dns_record",
                "client-portal",
                Some("client-portal"),
                json!({"zone": "home.example.net", "name": "portal", "type": "A", "content": "${container.client-portal.address}"}),
            ),
            entity(
                "dns_record",
                "nas",
                None,
                json!({"zone": "home.example.net", "name": "nas", "type": "A", "content": "10.0.20.5"}),
            ),
            entity(
                "dns_record",
                "mx-primary",
                Some("mail"),
                json!({"zone": "home.example.net", "name": "@", "type": "MX", "content": "mx1.example.net"}),
            ),
            entity(
                "dns_record",
                "mx-backup",
                Some("mail"),
                json!({"zone": "home.example.net", "name": "@", "type": "MX", "content": "mx2.example.net"}),
            ),
        ];
        World::new(
            e,
            [("pve-a".to_string(), "proxmox".to_string())].into(),
            ["home.example.net".to_string()].into(),
            Some("home.example.net".into()),
            vec!["10.0.20.0/24".into()],
        )
    }

    fn named(s: &str) -> Vec<Vec<String>> {
        let w = homelab();
        mentions(&w, &lex(s, &w.zones))
            .into_iter()
            .map(|m| m.cands.iter().map(|&i| w.entities[i].address()).collect())
            .collect()
    }

    #[test]
    fn names_hosts_addresses_and_parts_of_names() {
        assert_eq!(
            named("give gitea 2 cores")[0].len(),
            3,
            "a group name names the group"
        );
        assert_eq!(named("the box at 10.0.20.50")[0], ["container.gitea"]);
        assert_eq!(
            named("point the nas record at 10.0.20.6")[0],
            ["dns_record.nas"]
        );
        assert_eq!(
            named("give the portal a core")[0],
            ["dns_record.client-portal"],
            "a record's own name"
        );
        assert_eq!(named("give the client portal a core")[0].len(), 2);
        assert_eq!(
            named("set the backup MX's priority")[0],
            ["dns_record.mx-backup"]
        );
        assert_eq!(named("gitea.home.example.net is slow")[0].len(), 2);
        assert_eq!(named("bump giteaa")[0].len(), 3, "a near spelling");
        assert!(named("give the database 2 cores").is_empty());
    }

    #[test]
    fn hosts_split_by_zone() {
        let w = homelab();
        assert_eq!(
            w.split_host("files.home.example.net"),
            Some(("home.example.net".into(), "files".into()))
        );
        assert_eq!(
            w.split_host("home.example.net"),
            Some(("home.example.net".into(), "@".into()))
        );
        assert_eq!(w.split_host("example.org"), None);
        assert_eq!(damerau("palusible", "plausible"), 1);
        assert_eq!(
            url_host("https://a.example.org:8443/x").as_deref(),
            Some("a.example.org")
        );
    }
}
