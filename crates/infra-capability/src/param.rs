//! Parameter types and their checks. Every value an interpreter (offline rules or a
//! model) proposes passes through `ParamType::check` before a template sees it, so
//! hostile input (path traversal, shell or nginx metacharacters, newlines, numbers
//! out of range) stops here with a message saying what was expected.

use serde_json::Value;

use infra_core::spec::check::{is_hostname, is_name};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Resource or group name (it also becomes a host name and a DNS label).
    Name,
    Port,
    Cores,
    /// MiB; "2 GB" style strings are converted.
    Memory,
    /// GiB; "1 TB" style strings are converted.
    Disk,
    /// Host name with at least one dot.
    Fqdn,
    Hostname,
    /// Plain IP address.
    Ip,
    /// Address with prefix (`10.0.0.5/24`); allocated from a pool when not given.
    Address,
    /// http(s) URL.
    Url,
    RecordType,
    /// `kind.name`, `group:NAME` or a bare resource/group name.
    Target,
    /// Container image or OS template reference.
    Image,
    /// Free text without characters that could break out of a quoted value.
    Text,
    Int,
    Bool,
}

const ALL: &[(ParamType, &str)] = &[
    (ParamType::Name, "name"),
    (ParamType::Port, "port"),
    (ParamType::Cores, "cores"),
    (ParamType::Memory, "memory"),
    (ParamType::Disk, "disk"),
    (ParamType::Fqdn, "fqdn"),
    (ParamType::Hostname, "hostname"),
    (ParamType::Ip, "ip"),
    (ParamType::Address, "address"),
    (ParamType::Url, "url"),
    (ParamType::RecordType, "record_type"),
    (ParamType::Target, "target"),
    (ParamType::Image, "image"),
    (ParamType::Text, "text"),
    (ParamType::Int, "int"),
    (ParamType::Bool, "bool"),
];

pub const RECORD_TYPES: &[&str] = infra_core::spec::schema::DNS_TYPES;

/// Characters that end a quoted value in a shell, an nginx directive or a template.
const HOSTILE: &[char] = &[';', '{', '}', '$', '`', '"', '\'', '\\'];

impl ParamType {
    pub fn parse(s: &str) -> Option<ParamType> {
        ALL.iter().find(|(_, n)| *n == s).map(|(t, _)| *t)
    }

    pub fn as_str(&self) -> &'static str {
        ALL.iter()
            .find(|(t, _)| t == self)
            .map(|(_, n)| *n)
            .expect("every type is listed")
    }

    /// Every type name, for "unknown type" messages.
    pub fn names() -> impl Iterator<Item = &'static str> {
        ALL.iter().map(|(_, n)| *n)
    }

    /// What a valid value looks like, for messages and model prompts.
    pub fn describe(&self) -> &'static str {
        match self {
            ParamType::Name => "a name of lowercase letters, digits and '-', like \"api-scanner\"",
            ParamType::Port => "a port from 1 to 65535",
            ParamType::Cores => "a number of CPU cores from 1 to 512",
            ParamType::Memory => "memory in MiB from 16 to 4194304 (or \"2 GB\")",
            ParamType::Disk => "disk size in GiB from 1 to 65536 (or \"1 TB\")",
            ParamType::Fqdn => "a fully qualified host name, like \"grafana.example.com\"",
            ParamType::Hostname => "a host name (letters, digits, '-' and '.')",
            ParamType::Ip => "an IP address, like \"10.0.0.5\"",
            ParamType::Address => "an address with prefix length, like \"10.0.0.5/24\"",
            ParamType::Url => "an http:// or https:// URL",
            ParamType::RecordType => "a DNS record type (A, AAAA, CNAME, TXT, MX, NS, SRV, CAA)",
            ParamType::Target => {
                "a resource address like \"container.api-scanner\", \"group:NAME\" or a name"
            }
            ParamType::Image => "an image reference, like \"debian-12\" or \"ghcr.io/org/app:1.2\"",
            ParamType::Text => {
                "text without single quotes, backslashes, '$', braces or control characters"
            }
            ParamType::Int => "a whole number",
            ParamType::Bool => "true or false",
        }
    }

    /// A valid value, used to render templates when no example gives one.
    pub fn sample(&self) -> Value {
        match self {
            ParamType::Name | ParamType::Target => "example".into(),
            ParamType::Port => 8080.into(),
            ParamType::Cores | ParamType::Int => 1.into(),
            ParamType::Memory => 512.into(),
            ParamType::Disk => 8.into(),
            ParamType::Fqdn => "example.lab.example.com".into(),
            ParamType::Hostname => "example".into(),
            ParamType::Ip => "10.0.0.50".into(),
            ParamType::Address => "10.0.0.50/24".into(),
            ParamType::Url => "http://10.0.0.50:8080/".into(),
            ParamType::RecordType => "A".into(),
            ParamType::Image => "debian-12".into(),
            ParamType::Text => "example".into(),
            ParamType::Bool => false.into(),
        }
    }

    /// Check a value and return it normalised (numbers from numeric strings, host
    /// names lowercased, record types uppercased). `Err` says what is wrong.
    pub fn check(&self, v: &Value) -> Result<Value, String> {
        match self {
            ParamType::Port => int_in(v, 1, 65_535, &[]),
            ParamType::Cores => int_in(v, 1, 512, &[]),
            ParamType::Memory => int_in(v, 16, 4_194_304, MEMORY_UNITS),
            ParamType::Disk => int_in(v, 1, 65_536, DISK_UNITS),
            ParamType::Int => int_in(v, i64::MIN, i64::MAX, &[]),
            ParamType::Bool => match v {
                Value::Bool(b) => Ok(Value::Bool(*b)),
                Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "yes" | "on" => Ok(Value::Bool(true)),
                    "false" | "no" | "off" => Ok(Value::Bool(false)),
                    _ => Err(format!("{} is not true or false", show(v))),
                },
                _ => Err(format!("{} is not true or false", show(v))),
            },
            _ => {
                let s = v
                    .as_str()
                    .ok_or_else(|| format!("expected {}, got {}", self.describe(), show(v)))?;
                self.check_str(s)
                    .map(Value::String)
                    .map_err(|why| format!("{} is not {}{why}", show(v), self.describe()))
            }
        }
    }

    /// String types; `Err` carries an optional ": reason" suffix.
    fn check_str(&self, s: &str) -> Result<String, String> {
        let plain = |extra: &str| -> Result<(), String> {
            if let Some(c) = s.chars().find(|c| c.is_control()) {
                return Err(format!(": it contains the control character {c:?}"));
            }
            if let Some(c) = s
                .chars()
                .find(|c| HOSTILE.contains(c) && !extra.contains(*c))
            {
                return Err(format!(": it contains {c:?}"));
            }
            Ok(())
        };
        match self {
            ParamType::Name => {
                plain("")?;
                // '_' passes spec::check::is_name but not RFC 1123, and names become host names.
                if is_name(s) && !s.contains('_') && !s.ends_with('-') {
                    Ok(s.to_string())
                } else if is_name(&s.to_ascii_lowercase().replace([' ', '_'], "-")) {
                    Err(format!(
                        " (try \"{}\")",
                        s.to_ascii_lowercase().replace([' ', '_'], "-")
                    ))
                } else {
                    Err(String::new())
                }
            }
            ParamType::Fqdn | ParamType::Hostname => {
                plain("")?;
                let h = s.trim_end_matches('.').to_ascii_lowercase();
                let dotted = *self == ParamType::Hostname || h.contains('.');
                if is_hostname(&h) && dotted && h.parse::<std::net::IpAddr>().is_err() {
                    Ok(h)
                } else {
                    Err(String::new())
                }
            }
            ParamType::Ip => s
                .trim()
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.to_string())
                .map_err(|_| String::new()),
            // A plain IP is accepted: the expander adds the prefix of the pool it belongs to.
            ParamType::Address => match s.trim().parse::<ipnet::IpNet>() {
                Ok(net) => Ok(net.to_string()),
                Err(_) => s
                    .trim()
                    .parse::<std::net::IpAddr>()
                    .map(|ip| ip.to_string())
                    .map_err(|_| String::new()),
            },
            ParamType::Url => {
                plain("")?;
                if s.contains("..") {
                    return Err(": it contains \"..\"".into());
                }
                let ok = infra_core::spec::check::check(
                    infra_core::spec::schema::Ty::Url,
                    &Value::from(s),
                )
                .is_ok()
                    && !s.chars().any(|c| matches!(c, '<' | '>' | '|' | ' '));
                if !ok {
                    return Err(String::new());
                }
                let rest = s.split_once("://").map(|(_, r)| r).unwrap_or("");
                let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
                let host = match host_port.strip_prefix('[') {
                    Some(v6) => v6.split(']').next().unwrap_or(""),
                    None => host_port.split(':').next().unwrap_or(""),
                };
                if is_hostname(host) || host.parse::<std::net::IpAddr>().is_ok() {
                    Ok(s.to_string())
                } else {
                    Err(": the host part is not a host name or IP address".into())
                }
            }
            ParamType::RecordType => {
                let t = s.trim().to_ascii_uppercase();
                if RECORD_TYPES.contains(&t.as_str()) {
                    Ok(t)
                } else {
                    Err(String::new())
                }
            }
            ParamType::Target => {
                plain("")?;
                let ok = match (s.strip_prefix("group:"), s.split_once('.')) {
                    (Some(g), _) => is_name(g),
                    (None, Some((kind, name))) => {
                        infra_core::spec::schema::kind(kind).is_some() && is_name(name)
                    }
                    (None, None) => is_name(s),
                };
                ok.then(|| s.to_string()).ok_or_default()
            }
            ParamType::Image => {
                plain("")?;
                let ok = !s.is_empty()
                    && s.len() <= 255
                    && !s.starts_with(['/', '-', '.'])
                    && !s.contains("..")
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-/:@+".contains(c));
                ok.then(|| s.to_string()).ok_or_default()
            }
            ParamType::Text => {
                // ';' and '"' are allowed: TXT and CAA records need them ("v=DMARC1;
                // p=none", `0 issue "letsencrypt.org"`), and text is always emitted as an
                // escaped TOML string, never into a shell.
                plain(";\"")?;
                if s.contains("../") || s.ends_with("/..") {
                    return Err(": it contains a \"..\" path step".into());
                }
                if s.len() > 2048 {
                    return Err(": it is longer than 2048 characters".into());
                }
                Ok(s.to_string())
            }
            _ => unreachable!("numeric and bool types are checked in check()"),
        }
    }
}

trait OkOrDefault {
    fn ok_or_default(self) -> Result<String, String>;
}

impl OkOrDefault for Option<String> {
    fn ok_or_default(self) -> Result<String, String> {
        self.ok_or_else(String::new)
    }
}

const MEMORY_UNITS: &[(&str, i64)] = &[
    ("m", 1),
    ("mb", 1),
    ("mib", 1),
    ("g", 1024),
    ("gb", 1024),
    ("gib", 1024),
    ("t", 1_048_576),
    ("tb", 1_048_576),
    ("tib", 1_048_576),
];

const DISK_UNITS: &[(&str, i64)] = &[
    ("g", 1),
    ("gb", 1),
    ("gib", 1),
    ("t", 1024),
    ("tb", 1024),
    ("tib", 1024),
];

/// An integer in `min..=max` from a number or a numeric string (with a unit suffix
/// from `units`, converted to the base unit).
fn int_in(v: &Value, min: i64, max: i64, units: &[(&str, i64)]) -> Result<Value, String> {
    let n: Option<i64> = match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => {
            let t = s.trim().to_ascii_lowercase();
            let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
            let (num, unit) = t.split_at(digits_end);
            let unit = unit.trim();
            let factor = if unit.is_empty() {
                Some(1)
            } else {
                units.iter().find(|(u, _)| *u == unit).map(|(_, f)| *f)
            };
            match (num.parse::<i64>(), factor) {
                (Ok(n), Some(f)) => n.checked_mul(f),
                _ => None,
            }
        }
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(Value::from(n)),
        Some(n) => Err(format!("{n} is out of range ({min} to {max})")),
        None if min == i64::MIN => Err(format!("{} is not a whole number", show(v))),
        None => Err(format!(
            "{} is not a whole number from {min} to {max}",
            show(v)
        )),
    }
}

/// A value as the user wrote it, shortened so one hostile value cannot flood the terminal.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}
