//! Checks of single values against attribute types: host names, addresses, URLs, paths.
//! These run before anything is written, so hostile values never reach a provider.

use super::schema::{Ty, DNS_TYPES};
use super::Value;

/// Resource, group and capability names: `[a-z0-9][a-z0-9_-]*`, at most 63 characters.
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// RFC 1123 host name: dot-separated labels of letters, digits and '-', not starting or ending with '-'.
pub fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.trim_end_matches('.').split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn is_dns_name(s: &str) -> bool {
    if s == "@" {
        return true;
    }
    let rest = s.strip_prefix("*.").unwrap_or(s);
    s == "*"
        || rest.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

fn is_url(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // A port, when written, is 1-65535 (`[::1]:8080`, `host:8080`).
    let port = match host_port.rsplit_once(':') {
        Some((host, _)) if !host.ends_with(']') && host.contains(':') => None, // bare IPv6 (invalid anyway)
        Some((_, p)) => Some(p),
        None => None,
    };
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    !host_port.is_empty()
        && port_ok
        && !s.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '"' | '\'' | ';' | '{' | '}' | '`' | '$' | '\\')
        })
}

fn is_rel_path(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('/')
        && !s.contains('\0')
        && s.split('/').all(|c| !c.is_empty() && c != ".." && c != ".")
}

/// Longest file name and path infra writes: Linux takes 255 and 4096 (NAME_MAX,
/// PATH_MAX), and the temp file beside a file (`.NAME.tmp.PID`) needs 16 more.
pub const MAX_COMPONENT_BYTES: usize = 255 - ".".len() - ".tmp.".len() - 10;
pub const MAX_PATH_BYTES: usize = 4096;

/// Characters that make a name look like another: control characters, bidi
/// overrides and isolates (the "Trojan Source" trick), zero-width characters.
pub fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{061C}'               // Arabic letter mark
            | '\u{FEFF}'               // zero-width no-break space (BOM)
            | '\u{00AD}'               // soft hyphen
        )
}

/// Why a path (or file name) is refused, beyond its type's shape: "it ...".
pub fn path_problem(s: &str) -> Option<String> {
    if let Some(c) = s.chars().find(|c| invisible(*c)) {
        return Some(format!(
            "contains the invisible character U+{:04X}; paths are written with visible characters only",
            c as u32
        ));
    }
    if s.len() > MAX_PATH_BYTES {
        return Some(format!(
            "is {} bytes long; a path may have at most {MAX_PATH_BYTES}",
            s.len()
        ));
    }
    if let Some(c) = s.split('/').find(|c| c.len() > MAX_COMPONENT_BYTES) {
        return Some(format!(
            "has a component of {} bytes; a file or directory name may have at most {MAX_COMPONENT_BYTES}",
            c.len()
        ));
    }
    None
}

/// Check a value against a type; `Err` carries what was expected.
pub fn check(ty: Ty, v: &Value) -> Result<(), String> {
    if let (Ty::RelPath | Ty::AbsPath, Value::String(s)) = (ty, v) {
        if path_problem(s).is_some() {
            return Err(ty.describe());
        }
    }
    let ok = match (ty, v) {
        (Ty::Int { min, max }, Value::Number(n)) => {
            return match n.as_i64() {
                Some(i) if (min..=max).contains(&i) => Ok(()),
                Some(i) => Err(format!("{i} is out of range ({min} to {max})")),
                None => Err(ty.describe()),
            }
        }
        (Ty::Bool, Value::Bool(_)) => true,
        (Ty::List, Value::Array(items)) => items.iter().all(Value::is_string),
        (Ty::Domains, Value::Array(items)) => {
            !items.is_empty()
                && items.iter().all(|v| {
                    v.as_str().is_some_and(|s| {
                        is_hostname(s.strip_prefix("*.").unwrap_or(s)) && s.contains('.')
                    })
                })
        }
        (Ty::Map, Value::Object(m)) => m
            .values()
            .all(|v| v.is_string() || v.is_number() || v.is_boolean()),
        (_, Value::String(s)) => match ty {
            Ty::Str => !s.contains('\0'),
            Ty::Cidr => s.parse::<ipnet::IpNet>().is_ok(),
            Ty::Ip => s.parse::<std::net::IpAddr>().is_ok(),
            Ty::Hostname => is_hostname(s),
            Ty::DnsName => is_dns_name(s),
            Ty::Zone => is_hostname(s),
            Ty::DnsType => DNS_TYPES.contains(&s.as_str()),
            Ty::Url => is_url(s),
            Ty::RelPath => is_rel_path(s),
            Ty::AbsPath => {
                s.starts_with('/')
                    && !s.split('/').any(|c| c == "..")
                    && !s.chars().any(|c| c.is_whitespace() || c == ';')
            }
            Ty::Mode => s.len() >= 3 && s.len() <= 4 && s.chars().all(|c| ('0'..='7').contains(&c)),
            Ty::Name => is_name(s),
            Ty::Choice(words) => words.contains(&s.as_str()),
            _ => false,
        },
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ty.describe())
    }
}

/// JSON type name for messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_ports_are_real_ports() {
        for ok in [
            "http://h:8080/x",
            "https://[::1]:443",
            "http://u:p@h:1/",
            "http://h/",
        ] {
            assert!(is_url(ok), "{ok}");
        }
        for bad in [
            "http://h:99999",
            "http://h:0",
            "http://h:-5/",
            "http://h:abc",
            "https://[::1]:70000",
        ] {
            assert!(!is_url(bad), "{bad}");
        }
    }

    #[test]
    fn hostnames() {
        assert!(is_hostname("api-scanner.lab.example.com"));
        assert!(!is_hostname("-bad"));
        assert!(!is_hostname("a;rm -rf"));
        assert!(!is_hostname("a..b"));
    }

    #[test]
    fn paths_refuse_traversal() {
        assert!(is_rel_path("etc/app.conf"));
        assert!(!is_rel_path("../etc/passwd"));
        assert!(!is_rel_path("/etc/passwd"));
        assert!(!is_rel_path("a/../../b"));
    }

    #[test]
    fn urls_refuse_metacharacters() {
        assert!(is_url("http://10.0.0.5:8080/"));
        assert!(!is_url("http://x; rm -rf /"));
        assert!(!is_url("ftp://x"));
    }

    #[test]
    fn ints_in_range() {
        assert!(check(Ty::Int { min: 1, max: 10 }, &Value::from(5)).is_ok());
        assert!(check(Ty::Int { min: 1, max: 10 }, &Value::from(11))
            .unwrap_err()
            .contains("out of range"));
    }
}
