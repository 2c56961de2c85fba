//! Group adopted objects the way a person would write them: a guest, the DNS
//! records that point at its address, the proxy site in front of it and the
//! monitor of that site become one group named after the guest, and their
//! values become references to it. What joins no guest goes to a file per
//! zone or per provider.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use infra_core::spec::schema::kinds;
use infra_core::spec::{check, Attrs};

/// One object to adopt, described (see `describe`).
#[derive(Debug, Clone)]
pub struct Described {
    pub provider: String,
    pub kind: String,
    pub id: String,
    /// As the provider reported it (what the state records).
    pub observed: Attrs,
    /// As the spec will say it.
    pub attrs: Attrs,
}

/// Where an object lands in the spec.
#[derive(Debug, Clone)]
pub struct Placed {
    pub object: Described,
    pub name: String,
    pub group: Option<String>,
    /// Project-relative path of the file it is written to.
    pub file: String,
    /// Addresses its references name.
    pub depends_on: Vec<String>,
}

/// Resource names already taken, per kind.
pub struct Names {
    used: HashMap<String, BTreeSet<String>>,
}

impl Names {
    pub fn new(existing: impl IntoIterator<Item = (String, String)>) -> Names {
        let mut used: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (kind, name) in existing {
            used.entry(kind).or_default().insert(name);
        }
        Names { used }
    }

    /// `base` made a valid name, with `-2`, `-3`… if the kind already has it.
    pub fn take(&mut self, kind: &str, base: &str) -> String {
        let base = sanitize(base);
        let used = self.used.entry(kind.to_string()).or_default();
        let mut name = base.clone();
        let mut n = 2;
        while used.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        used.insert(name.clone());
        name
    }
}

/// Lower-case letters, digits and `-`, starting with a letter or digit.
pub fn sanitize(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_end_matches('-').to_string();
    out.truncate(56);
    if out.is_empty() || !check::is_name(&out) {
        out = format!("x{out}");
    }
    out.trim_end_matches('-').to_string()
}

fn text<'a>(a: &'a Attrs, k: &str) -> &'a str {
    a.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The host of an http(s) URL and the part after it.
fn url_host(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', ':', '?']).unwrap_or(rest.len());
    Some((scheme, &rest[..end], &rest[end..]))
}

/// The base name a DNS record is named by: its owner name (`apex` for `@`),
/// with its type when it is not an address record.
fn record_base(a: &Attrs) -> String {
    let name = match text(a, "name") {
        "@" => "apex".to_string(),
        "*" => "wildcard".to_string(),
        n => n.replace('*', "wildcard"),
    };
    match text(a, "type") {
        "A" | "AAAA" | "" => name,
        t => format!("{name}-{}", t.to_ascii_lowercase()),
    }
}

/// Place every object: its name, group, file and references.
pub fn place(
    objects: Vec<Described>,
    names: &mut Names,
    taken_files: &BTreeSet<String>,
) -> Vec<Placed> {
    let rank = |k: &str| match k {
        kinds::CONTAINER | kinds::VM => 0,
        kinds::DNS_RECORD => 1,
        kinds::PROXY_SITE => 2,
        kinds::MONITOR => 3,
        _ => 4,
    };
    let mut objects = objects;
    // The key once per object: record_base allocates.
    objects.sort_by_cached_key(|o| {
        (
            rank(&o.kind),
            text(&o.attrs, "zone").to_string(),
            record_base(&o.attrs),
            o.id.clone(),
        )
    });
    // address → (guest address for references, group)
    let mut guests: HashMap<String, (String, String)> = HashMap::new();
    // host name → group, from grouped records and sites
    let mut hosts: HashMap<String, String> = HashMap::new();
    let mut placed = Vec::with_capacity(objects.len());
    for mut o in objects {
        let mut group: Option<String> = None;
        let mut depends_on = Vec::new();
        let name;
        match o.kind.as_str() {
            kinds::CONTAINER | kinds::VM => {
                name = names.take(&o.kind, text(&o.attrs, "hostname"));
                group = Some(name.clone());
                let ip = text(&o.attrs, "ip");
                let address = ip.split('/').next().unwrap_or(ip);
                if !address.is_empty() {
                    guests.insert(
                        address.to_string(),
                        (format!("{}.{name}", o.kind), name.clone()),
                    );
                }
            }
            kinds::DNS_RECORD => {
                let target = text(&o.attrs, "content").to_string();
                let rtype = text(&o.attrs, "type").to_string();
                if let (true, Some((guest, g))) =
                    (matches!(rtype.as_str(), "A" | "AAAA"), guests.get(&target))
                {
                    o.attrs.insert(
                        "content".into(),
                        Value::from(format!("${{{guest}.address}}")),
                    );
                    depends_on.push(guest.clone());
                    group = Some(g.clone());
                } else if rtype == "CNAME" {
                    group = hosts.get(&target).cloned();
                }
                name = match &group {
                    Some(g) if rtype == "A" || rtype == "AAAA" => names.take(&o.kind, g),
                    _ => names.take(&o.kind, &record_base(&o.attrs)),
                };
                if let Some(g) = &group {
                    hosts.insert(super::label(kinds::DNS_RECORD, &o.attrs), g.clone());
                }
            }
            kinds::PROXY_SITE => {
                let server = text(&o.attrs, "server_name").to_string();
                let upstream = text(&o.attrs, "upstream").to_string();
                if let Some((scheme, host, rest)) = url_host(&upstream) {
                    if let Some((guest, g)) = guests.get(host) {
                        o.attrs.insert(
                            "upstream".into(),
                            Value::from(format!("{scheme}://${{{guest}.address}}{rest}")),
                        );
                        depends_on.push(guest.clone());
                        group = Some(g.clone());
                    }
                }
                group = group.or_else(|| hosts.get(&server).cloned());
                name = names.take(&o.kind, group.as_deref().unwrap_or(&server));
                if let Some(g) = &group {
                    hosts.insert(server, g.clone());
                }
            }
            kinds::MONITOR => {
                let url = text(&o.attrs, "url").to_string();
                let host = url_host(&url)
                    .map(|(_, h, _)| h.to_string())
                    .unwrap_or_default();
                group = hosts.get(&host).cloned();
                name = names.take(&o.kind, group.as_deref().unwrap_or(&host));
            }
            _ => {
                let base = ["path", "hostname", "server_name", "name"]
                    .iter()
                    .map(|k| text(&o.attrs, k))
                    .find(|v| !v.is_empty())
                    .unwrap_or(&o.kind)
                    .to_string();
                name = names.take(&o.kind, &base);
            }
        }
        let file = match (&group, o.kind.as_str()) {
            (Some(g), _) => format!("infra/{g}.toml"),
            (None, kinds::DNS_RECORD) => {
                format!("infra/dns-{}.toml", sanitize(text(&o.attrs, "zone")))
            }
            (None, _) => format!("infra/{}-{}.toml", sanitize(&o.provider), sanitize(&o.kind)),
        };
        placed.push(Placed {
            object: o,
            name,
            group,
            file,
            depends_on,
        });
    }
    // A file the project already has is never written over: adopted objects
    // for it go beside it.
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    for p in &mut placed {
        if taken_files.contains(&p.file) {
            let new = renamed
                .entry(p.file.clone())
                .or_insert_with(|| p.file.replace(".toml", "-adopted.toml"));
            p.file = new.clone();
        }
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(provider: &str, kind: &str, attrs: Value) -> Described {
        let attrs: Attrs = serde_json::from_value(attrs).unwrap();
        Described {
            provider: provider.into(),
            kind: kind.into(),
            id: format!("{kind}-{}", attrs.len()),
            observed: attrs.clone(),
            attrs,
        }
    }

    #[test]
    fn a_guest_its_record_site_and_monitor_become_one_group() {
        let objects = vec![
            d(
                "web",
                "monitor",
                json!({"url": "https://gitea.example.com/"}),
            ),
            d(
                "web",
                "proxy_site",
                json!({"server_name": "gitea.example.com", "upstream": "http://10.0.0.5:3000"}),
            ),
            d(
                "dns",
                "dns_record",
                json!({"zone": "example.com", "name": "gitea", "type": "A", "content": "10.0.0.5"}),
            ),
            d(
                "dns",
                "dns_record",
                json!({"zone": "example.com", "name": "@", "type": "MX", "content": "mail.example.com", "priority": 10}),
            ),
            d(
                "pve",
                "container",
                json!({"hostname": "gitea", "ip": "10.0.0.5/24"}),
            ),
        ];
        let mut names = Names::new([("container".to_string(), "db".to_string())]);
        let placed = place(objects, &mut names, &BTreeSet::new());
        let by: BTreeMap<String, &Placed> = placed
            .iter()
            .map(|p| (format!("{}.{}", p.object.kind, p.name), p))
            .collect();
        let record = by["dns_record.gitea"];
        assert_eq!(record.group.as_deref(), Some("gitea"));
        assert_eq!(record.object.attrs["content"], "${container.gitea.address}");
        assert_eq!(record.depends_on, vec!["container.gitea"]);
        let site = by["proxy_site.gitea"];
        assert_eq!(
            site.object.attrs["upstream"],
            "http://${container.gitea.address}:3000"
        );
        assert_eq!(by["monitor.gitea"].group.as_deref(), Some("gitea"));
        assert_eq!(by["monitor.gitea"].file, "infra/gitea.toml");
        let mx = by["dns_record.apex-mx"];
        assert_eq!(mx.group, None);
        assert_eq!(mx.file, "infra/dns-example-com.toml");
    }

    #[test]
    fn names_are_valid_and_unique() {
        let mut names = Names::new([]);
        assert_eq!(names.take("dns_record", "_sip._tcp"), "sip-tcp");
        assert_eq!(names.take("dns_record", "_sip._tcp"), "sip-tcp-2");
        assert_eq!(names.take("dns_record", "gíthub"), "g-thub");
        assert_eq!(names.take("dns_record", "---"), "x");
        assert!(check::is_name(&names.take("dns_record", &"a".repeat(100))));
    }
}
