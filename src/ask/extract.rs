//! Entities in a request: numbers with units, ports, host names, addresses, URLs,
//! record types, and the name of the thing the request is about.

use std::net::IpAddr;

use super::words::{is_verb, FILLER};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Entities {
    pub cores: Option<i64>,
    /// MiB.
    pub memory: Option<i64>,
    /// GiB.
    pub disk: Option<i64>,
    pub port: Option<i64>,
    pub fqdns: Vec<String>,
    pub ips: Vec<String>,
    pub cidrs: Vec<String>,
    pub urls: Vec<String>,
    pub record_type: Option<String>,
    /// A name phrase as written ("api scanner"), joined with '-' when used.
    pub name: Option<String>,
    pub image: Option<String>,
    pub internal: Option<bool>,
    pub ttl: Option<i64>,
    pub interval: Option<i64>,
    /// Numbers the interpreter could not attach to anything (for "did you mean" help).
    pub loose_numbers: Vec<i64>,
    /// Double-quoted strings, case kept (filled in by the interpreter from the raw text).
    pub quoted: Vec<String>,
    /// Host names something should point to ("pointing to mx1.example.com").
    pub targets: Vec<String>,
    /// The token after "value" ("with value site-verification=abc").
    pub value: Option<String>,
    pub priority: Option<i64>,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    pub websocket: bool,
    /// The name was given outright ("called X", "named X", "as X").
    pub name_explicit: bool,
}

/// Head nouns that end a name phrase ("api scanner *service*").
const HEADS: &[&str] = &[
    "service",
    "services",
    "app",
    "application",
    "container",
    "site",
    "website",
    "server",
    "instance",
    "box",
    "vm",
    "record",
    "monitor",
    "check",
    "proxy",
    "api",
    "stack",
    "backend",
    "frontend",
    "endpoint",
    "one",
    "thing",
];
/// Words that end a name phrase from the other side.
const STOP: &[&str] = &[
    "on",
    "with",
    "at",
    "for",
    "using",
    "behind",
    "to",
    "from",
    "in",
    "and",
    "that",
    "which",
    "so",
    "as",
    "by",
    "into",
    "running",
    "listening",
    "accessible",
    "available",
    "reachable",
    "pointing",
    "called",
    "named",
    "via",
    "under",
];
/// Words that are never part of a name.
const NOT_NAME: &[&str] = &[
    "cores",
    "core",
    "cpu",
    "cpus",
    "vcpu",
    "vcpus",
    "memory",
    "ram",
    "mem",
    "disk",
    "storage",
    "port",
    "gb",
    "mb",
    "gib",
    "mib",
    "gigs",
    "of",
    "more",
    "less",
    "all",
    "everything",
    "anything",
    "previous",
    "instructions",
    "reverse",
    "dns",
    "http",
    "https",
    "public",
    "internal",
    "private",
    "external",
    "small",
    "big",
    "tiny",
    "little",
    "another",
    "web",
    "monitoring",
    "tls",
    "ssl",
    "health",
    "up",
    "down",
    "instead",
    "reverse-proxy",
    "load",
    "balancer",
    "something",
    "stuff",
    "thing",
    "things",
    "it",
    "this",
    "them",
    "lxc",
    "ip",
    "image",
    "value",
    "priority",
];

fn number_unit(t: &str) -> Option<(i64, &str)> {
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return None;
    }
    let n = digits.parse().ok()?;
    Some((n, &t[digits.len()..]))
}

fn mib(n: i64, unit: &str) -> Option<i64> {
    match unit {
        "gb" | "gib" | "g" | "gig" | "gigs" | "gigabyte" | "gigabytes" => Some(n * 1024),
        "mb" | "mib" | "m" | "meg" | "megs" | "megabyte" | "megabytes" => Some(n),
        "tb" | "tib" => Some(n * 1024 * 1024),
        _ => None,
    }
}

fn is_fqdn(t: &str) -> bool {
    t.contains('.')
        && t.parse::<IpAddr>().is_err()
        && t.split('.').all(|l| !l.is_empty())
        && crate::spec::check::is_hostname(t)
        && t.rsplit('.')
            .next()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_alphabetic()) && tld.len() >= 2)
}

pub fn extract(tokens: &[String]) -> Entities {
    let mut e = Entities::default();
    let t = |i: usize| tokens.get(i).map(String::as_str).unwrap_or("");
    let mut used = vec![false; tokens.len()];
    for i in 0..tokens.len() {
        let w = t(i);
        if w.starts_with("http://") || w.starts_with("https://") {
            e.urls.push(tokens[i].clone());
            used[i] = true;
            continue;
        }
        if let Ok(net) = w.parse::<ipnet::IpNet>() {
            if w.contains('/') {
                e.cidrs.push(net.to_string());
                used[i] = true;
                continue;
            }
        }
        if w.parse::<IpAddr>().is_ok() {
            e.ips.push(w.to_string());
            used[i] = true;
            continue;
        }
        if is_fqdn(w) {
            // "pointing to X" / "to X" names a target; other host names name the thing itself.
            let pointing = i >= 1
                && (t(i - 1) == "to"
                    || (t(i - 1) == "at"
                        && i >= 2
                        && ["pointing", "points", "point"].contains(&t(i - 2))));
            if pointing {
                e.targets.push(w.to_string())
            } else {
                e.fqdns.push(w.to_string())
            }
            used[i] = true;
            continue;
        }
        if w.starts_with('/') && i >= 1 {
            match t(i - 1) {
                "cert" | "certificate" | "crt" => e.tls_cert = Some(w.to_string()),
                "key" => e.tls_key = Some(w.to_string()),
                _ => {}
            }
        }
        if let Some(rt) = ["a", "aaaa", "cname", "txt", "mx"]
            .iter()
            .find(|r| **r == w)
        {
            if t(i + 1) == "record" || t(i + 1) == "records" || *rt != "a" {
                e.record_type = Some(rt.to_uppercase());
                used[i] = true;
                continue;
            }
        }
        let Some((n, unit)) = number_unit(w) else {
            continue;
        };
        // A unit may be glued ("4gb") or the next word ("4 gb").
        let (unit, next) = if unit.is_empty() {
            (t(i + 1), i + 2)
        } else {
            (unit, i + 1)
        };
        let unit = unit.trim_start_matches('-');
        if [
            "core",
            "cores",
            "cpu",
            "cpus",
            "vcpu",
            "vcpus",
            "processor",
            "processors",
            "cpu-cores",
        ]
        .contains(&unit)
        {
            e.cores = Some(n);
            used[i] = true;
        } else if let Some(m) = mib(n, unit) {
            e_disk_or_memory(&mut e, tokens, i, next, m);
            used[i] = true;
        } else if i >= 1 && (t(i - 1) == "port" || t(i - 1) == "port:") {
            e.port = Some(n);
            used[i] = true;
        } else if i >= 1 && t(i - 1) == "priority" {
            e.priority = Some(n);
            used[i] = true;
        } else if i >= 1 && t(i - 1) == "ttl" {
            e.ttl = Some(n);
            used[i] = true;
        } else if ["s", "sec", "secs", "second", "seconds"].contains(&unit)
            && i >= 1
            && t(i - 1) == "every"
        {
            e.interval = Some(n);
            used[i] = true;
        } else if ["m", "min", "mins", "minute", "minutes"].contains(&unit)
            && i >= 1
            && t(i - 1) == "every"
        {
            e.interval = Some(n * 60);
            used[i] = true;
        } else if unit.is_empty() || !unit.chars().any(|c| c.is_ascii_alphabetic()) {
            e.loose_numbers.push(n);
        }
    }
    // "port=3000", ":3000" forms.
    for w in tokens {
        if let Some(p) = w.strip_prefix("port=").or_else(|| w.strip_prefix(':')) {
            if let Ok(n) = p.parse() {
                e.port = Some(n);
            }
        }
    }
    e.websocket = tokens.iter().any(|w| w.starts_with("websocket"));
    for i in 0..tokens.len() {
        if t(i) == "value" && !t(i + 1).is_empty() {
            e.value = Some(t(i + 1).to_string());
        }
    }
    if tokens.iter().any(|w| {
        [
            "public",
            "external",
            "internet-facing",
            "publicly",
            "internet",
        ]
        .contains(&w.as_str())
    }) {
        e.internal = Some(false);
    } else if tokens.iter().any(|w| {
        ["internal", "private", "internally", "lan-only", "intranet"].contains(&w.as_str())
    }) {
        e.internal = Some(true);
    }
    for i in 0..tokens.len() {
        if (t(i) == "image" || t(i) == "using")
            && !t(i + 1).is_empty()
            && !STOP.contains(&t(i + 1))
            && t(i + 1) != "image"
        {
            e.image = Some(t(i + 1).to_string());
        }
        if t(i + 1) == "image" && i >= 1 && !FILLER.contains(&t(i)) && t(i) != "the" {
            e.image = Some(t(i).to_string());
        }
    }
    e.name = name_phrase(tokens, &used);
    e.name_explicit = tokens.windows(2).any(|w| {
        ["called", "named", "as"].contains(&w[0].as_str())
            && e.name
                .as_deref()
                .is_some_and(|n| n.starts_with(w[1].as_str()))
    });
    e
}

const DISK_WORDS: &[&str] = &[
    "disk", "storage", "space", "ssd", "drive", "rootfs", "volume",
];
const MEMORY_WORDS: &[&str] = &["memory", "ram", "mem"];

/// A size is disk or memory by the nearest keyword; with none near, by whether
/// the request mentions disk words at all.
fn e_disk_or_memory(e: &mut Entities, tokens: &[String], i: usize, next: usize, mib: i64) {
    // "4 GB of memory": a keyword right after the size decides.
    let ahead = tokens
        .iter()
        .skip(next)
        .take(3)
        .map(String::as_str)
        .find(|w| DISK_WORDS.contains(w) || MEMORY_WORDS.contains(w));
    if let Some(w) = ahead {
        if DISK_WORDS.contains(&w) {
            e.disk = Some((mib + 1023) / 1024);
        } else {
            e.memory = Some(mib);
        }
        return;
    }
    let dist = |words: &[&str]| {
        tokens
            .iter()
            .enumerate()
            .filter(|(_, w)| words.contains(&w.as_str()))
            .map(|(j, _)| j.abs_diff(i))
            .min()
    };
    let is_disk = match (dist(DISK_WORDS), dist(MEMORY_WORDS)) {
        (Some(d), Some(m)) => d < m,
        (Some(_), None) => true,
        _ => false,
    };
    if is_disk {
        e.disk = Some((mib + 1023) / 1024);
    } else {
        e.memory = Some(mib);
    }
}

/// The name the request is about: "called X" / "named X" first, then the words
/// before a head noun ("a new api scanner service"), then the words after the verb.
fn name_phrase(tokens: &[String], used: &[bool]) -> Option<String> {
    let t = |i: usize| tokens.get(i).map(String::as_str).unwrap_or("");
    let is_word = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && w.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
    };
    for i in 0..tokens.len() {
        if ["called", "named", "as"].contains(&t(i)) || (t(i) == "name" && t(i + 1) == "it") {
            let start = if t(i) == "name" { i + 2 } else { i + 1 };
            let words: Vec<&str> = (start..tokens.len())
                .map(t)
                .take_while(|w| is_word(w) && !STOP.contains(w) && !HEADS.contains(w))
                .collect();
            if !words.is_empty() {
                return Some(words.join(" "));
            }
        }
    }
    // "an A record media …": the word after "record" names it.
    for i in 0..tokens.len() {
        if (t(i) == "record" || t(i) == "container")
            && is_word(t(i + 1))
            && !STOP.contains(&t(i + 1))
            && !FILLER.contains(&t(i + 1))
            && !NOT_NAME.contains(&t(i + 1))
            && !used.get(i + 1).copied().unwrap_or(true)
        {
            return Some(t(i + 1).to_string());
        }
    }
    // Words right before a head noun, back to a filler/verb/stop word.
    for i in 0..tokens.len() {
        if !HEADS.contains(&t(i)) || used[i] || (t(i) == "api" && i + 1 < tokens.len()) {
            continue; // "api" is a modifier unless it ends the request
        }
        let mut words = Vec::new();
        let mut j = i;
        while j > 0 {
            j -= 1;
            let w = t(j);
            if used[j]
                || FILLER.contains(&w)
                || is_verb(w)
                || STOP.contains(&w)
                || NOT_NAME.contains(&w)
                || !is_word(w)
            {
                break;
            }
            words.push(w);
        }
        if !words.is_empty() {
            words.reverse();
            return Some(words.join(" "));
        }
    }
    let take_name = |start: usize| -> Vec<&str> {
        (start..tokens.len())
            .take_while(|&k| !used[k])
            .map(t)
            .take_while(|w| {
                is_word(w)
                    && !STOP.contains(w)
                    && !NOT_NAME.contains(w)
                    && !FILLER.contains(w)
                    && !(HEADS.contains(w) && *w != "api")
            })
            .collect()
    };
    // The first meaningful words after the verb ("deploy grafana on port 3000"),
    // skipping articles and generic nouns but never crossing a preposition.
    if let Some(v) = tokens.iter().position(|w| is_verb(w)) {
        let mut k = v + 1;
        while k < tokens.len()
            && !STOP.contains(&t(k))
            && !used[k]
            && (FILLER.contains(&t(k))
                || is_verb(t(k))
                || NOT_NAME.contains(&t(k))
                || (HEADS.contains(&t(k)) && t(k) != "api"))
        {
            k += 1;
        }
        let words = take_name(k);
        if !words.is_empty() {
            return Some(words.join(" "));
        }
    }
    // "… for the api scanner", "… for grafana".
    for i in 0..tokens.len() {
        if t(i) == "for" {
            let mut k = i + 1;
            while ["the", "my", "our", "a", "an", "new"].contains(&t(k)) {
                k += 1;
            }
            let words = take_name(k);
            if !words.is_empty() {
                return Some(words.join(" "));
            }
        }
    }
    // Last: the first label of the host name the request is about.
    tokens
        .iter()
        .enumerate()
        .filter(|(k, _)| used[*k])
        .find_map(|(_, w)| {
            let host = w
                .strip_prefix("https://")
                .or_else(|| w.strip_prefix("http://"))
                .unwrap_or(w);
            let host = host.split(['/', ':']).next().unwrap_or(host);
            (is_fqdn(host)).then(|| host.split('.').next().unwrap_or(host).to_string())
        })
}

/// A name phrase as a resource name: "API Scanner" → "api-scanner".
pub fn slug(phrase: &str) -> String {
    let s: String = phrase
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::words::{correct, normalise, tokens};

    fn ex(s: &str) -> Entities {
        let mut t = tokens(&normalise(s));
        correct(&mut t);
        extract(&t)
    }

    #[test]
    fn numbers_with_units() {
        let e = ex("Give the api scanner 4 cores and 2 GB of memory");
        assert_eq!((e.cores, e.memory), (Some(4), Some(2048)));
        let e = ex("bump grafana to 512MB RAM and a 20GB disk");
        assert_eq!((e.memory, e.disk), (Some(512), Some(20)));
        let e = ex("deploy x with 2 vCPUs, 4 gigs of ram");
        assert_eq!((e.cores, e.memory), (Some(2), Some(4096)));
    }

    #[test]
    fn names() {
        assert_eq!(
            ex("Create a new API scanner service").name.as_deref(),
            Some("api scanner")
        );
        assert_eq!(
            ex("Deploy grafana on port 3000 with 2 cores")
                .name
                .as_deref(),
            Some("grafana")
        );
        assert_eq!(
            ex("spin up a service called billing-api").name.as_deref(),
            Some("billing-api")
        );
        assert_eq!(
            ex("Create a container on pve1 for the API scanner")
                .name
                .as_deref(),
            Some("api scanner")
        );
        assert_eq!(slug("API  Scanner"), "api-scanner");
    }

    #[test]
    fn hosts_addresses_ports() {
        let e = ex("make it accessible at api-scanner.example.com on port 8443 from 10.0.0.5");
        assert_eq!(e.fqdns, ["api-scanner.example.com"]);
        assert_eq!(e.port, Some(8443));
        assert_eq!(e.ips, ["10.0.0.5"]);
        assert_eq!(
            ex("add a CNAME record").record_type.as_deref(),
            Some("CNAME")
        );
        assert_eq!(
            ex("expose http://10.0.0.5:8080 publicly").urls,
            ["http://10.0.0.5:8080"]
        );
    }
}
