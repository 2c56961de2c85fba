//! Record types Cloudflare holds as a structured `data` object (its `content`
//! is then read-only): the object's keys in the order of the spec's `content`,
//! so one table converts both ways. The priority travels inside `data` for SRV,
//! SVCB and HTTPS, beside it for MX and URI. Pure, no I/O.

use serde_json::{json, Map, Value};

use infra_core::dns::split_words;

/// How one `data` key is written in `content`.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Num,
    /// A string as it is (a hex digest, a tag).
    Str,
    /// A host name: the dot Cloudflare may return is dropped, as in the spec.
    Host,
    /// A string quoted in `content` (`"S"`, a URI).
    Quoted,
    /// A string to the end of `content` (keys, SVCB parameters).
    Tail,
}

use Kind::*;

/// `data` keys in content order, for the types that have a `data` object.
fn keys(rtype: &str) -> Option<&'static [(&'static str, Kind)]> {
    Some(match rtype {
        "SRV" => &[("weight", Num), ("port", Num), ("target", Host)],
        "CAA" => &[("flags", Num), ("tag", Str), ("value", Quoted)],
        "SSHFP" => &[("algorithm", Num), ("type", Num), ("fingerprint", Str)],
        "TLSA" | "SMIMEA" => &[
            ("usage", Num),
            ("selector", Num),
            ("matching_type", Num),
            ("certificate", Str),
        ],
        "DS" => &[
            ("key_tag", Num),
            ("algorithm", Num),
            ("digest_type", Num),
            ("digest", Str),
        ],
        "DNSKEY" => &[
            ("flags", Num),
            ("protocol", Num),
            ("algorithm", Num),
            ("public_key", Tail),
        ],
        "CERT" => &[
            ("type", Num),
            ("key_tag", Num),
            ("algorithm", Num),
            ("certificate", Tail),
        ],
        "NAPTR" => &[
            ("order", Num),
            ("preference", Num),
            ("flags", Quoted),
            ("service", Quoted),
            ("regex", Quoted),
            ("replacement", Host),
        ],
        "URI" => &[("weight", Num), ("target", Quoted)],
        "SVCB" | "HTTPS" => &[("target", Host), ("value", Tail)],
        _ => return None,
    })
}

/// Types whose priority is a key of `data`.
pub fn priority_in_data(rtype: &str) -> bool {
    matches!(rtype, "SRV" | "SVCB" | "HTTPS")
}

fn num_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => "0".into(),
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn unquote(s: &str) -> String {
    let inner = s
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(s);
    inner.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// The spec's `content` of a structured record read from Cloudflare.
pub fn content_of(rtype: &str, data: &Value) -> Option<String> {
    if rtype == "LOC" {
        return Some(loc_content(data));
    }
    let mut words: Vec<String> = Vec::new();
    for (key, kind) in keys(rtype)? {
        let v = &data[*key];
        let word = match kind {
            Num => num_text(v),
            Str | Tail => v.as_str().unwrap_or_default().to_string(),
            Host => {
                let h = v.as_str().unwrap_or_default();
                if h == "." {
                    h.to_string()
                } else {
                    h.trim_end_matches('.').to_string()
                }
            }
            Quoted => quote(v.as_str().unwrap_or_default()),
        };
        if !(word.is_empty() && *kind == Tail) {
            words.push(word);
        }
    }
    Some(words.join(" "))
}

/// The `data` object for a structured record's `content` (already audited).
pub fn data_of(rtype: &str, content: &str, priority: Option<i64>) -> Option<Value> {
    if rtype == "LOC" {
        return loc_data(content);
    }
    let keys = keys(rtype)?;
    let words = split_words(content);
    let mut data = Map::new();
    for (i, (key, kind)) in keys.iter().enumerate() {
        let value = match kind {
            Tail => Value::from(words.get(i..).map(|w| w.join(" ")).unwrap_or_default()),
            _ => {
                let w = words.get(i).copied().unwrap_or_default();
                match kind {
                    Num => w.parse::<i64>().map(Value::from).unwrap_or(json!(0)),
                    Quoted => Value::from(unquote(w)),
                    _ => Value::from(w),
                }
            }
        };
        data.insert((*key).into(), value);
    }
    if priority_in_data(rtype) {
        data.insert("priority".into(), json!(priority.unwrap_or(0)));
    }
    Some(Value::Object(data))
}

/// LOC data in zone-file order: `d m s N|S d m s E|W altm sizem horizm vertm`.
const LOC: &[(&str, bool)] = &[
    ("lat_degrees", false),
    ("lat_minutes", false),
    ("lat_seconds", false),
    ("lat_direction", false),
    ("long_degrees", false),
    ("long_minutes", false),
    ("long_seconds", false),
    ("long_direction", false),
    ("altitude", true),
    ("size", true),
    ("precision_horz", true),
    ("precision_vert", true),
];

fn loc_content(data: &Value) -> String {
    LOC.iter()
        .map(|(k, metres)| {
            let t = num_text(&data[*k]);
            if *metres {
                format!("{t}m")
            } else {
                t
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn loc_data(content: &str) -> Option<Value> {
    let words: Vec<&str> = content.split_whitespace().collect();
    if words.len() != LOC.len() {
        return None;
    }
    let mut data = Map::new();
    for ((key, metres), w) in LOC.iter().zip(words) {
        let w = if *metres { w.trim_end_matches('m') } else { w };
        let v = if let Ok(i) = w.parse::<i64>() {
            json!(i)
        } else if let Ok(f) = w.parse::<f64>() {
            json!(f)
        } else {
            json!(w)
        };
        data.insert((*key).into(), v);
    }
    Some(Value::Object(data))
}

/// Whether a LOC `content` is in the twelve-field form Cloudflare's `data` holds.
pub fn loc_is_complete(content: &str) -> bool {
    loc_data(content).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra_core::dns::Field;

    /// The spec's field kinds agree with the table (host fields lose their dot).
    fn host_field(rtype: &str, index: usize) -> bool {
        infra_core::dns::record_type(rtype)
            .and_then(|t| t.parts.get(index))
            .is_some_and(|p| p.field == Field::Host)
    }

    #[test]
    fn every_structured_type_round_trips() {
        for (rtype, content, priority) in [
            ("SRV", "5 5060 sip.example.com", Some(10)),
            ("CAA", "0 issue \"letsencrypt.org\"", None),
            ("SSHFP", "1 1 859be6ed04643db4", None),
            ("TLSA", "3 1 1 0c72ab", None),
            ("SMIMEA", "3 1 1 0c72ab", None),
            ("DS", "1 13 2 B5BB9D80", None),
            ("DNSKEY", "257 3 13 mdsswUyr 3DPW", None),
            ("CERT", "3 0 0 mQINBF", None),
            (
                "NAPTR",
                "30 100 \"S\" \"SIP+D2T\" \"\" _sip._tls.unit.tests",
                None,
            ),
            ("URI", "2 \"https://www.unit.tests/\"", None),
            ("SVCB", "www.unit.tests alpn=\"h3,h2\"", Some(1)),
            ("HTTPS", ".", Some(1)),
            ("LOC", "31 58 52.1 S 115 49 11.7 E 20m 10m 10m 2m", None),
        ] {
            let data = data_of(rtype, content, priority).unwrap();
            assert_eq!(
                content_of(rtype, &data).unwrap(),
                content,
                "{rtype}: {data}"
            );
            for (i, w) in split_words(content).iter().enumerate() {
                if host_field(rtype, i) && *w != "." {
                    assert!(!w.ends_with('.'));
                }
            }
        }
    }

    #[test]
    fn a_dot_cloudflare_returns_is_dropped() {
        let data = json!({"priority": 1, "target": "www.unit.tests.", "value": "alpn=\"h3,h2\""});
        assert_eq!(
            content_of("SVCB", &data).unwrap(),
            "www.unit.tests alpn=\"h3,h2\""
        );
    }
}
