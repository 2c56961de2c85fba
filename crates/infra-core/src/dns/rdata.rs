//! Record data in three forms: the spec's `content` (host names without the
//! trailing dot, TXT unquoted, the priority apart), the zone-file presentation
//! form providers send and return, and structured attributes (`port = 5060`).
//! Pure functions over the type table; no provider quirks here.

use std::collections::BTreeMap;

use serde_json::Value;

use super::types::{record_type, Field, RecordType, PART_ATTRS};

/// Words of presentation data: split at whitespace outside quotes; a quoted
/// string (and a word like `alpn="h3,h2"`) stays one word, quotes included.
pub fn split_words(s: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = None;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                start.get_or_insert(i);
            }
            '"' => {
                quoted = !quoted;
                start.get_or_insert(i);
            }
            c if c.is_whitespace() && !quoted => {
                if let Some(st) = start.take() {
                    words.push(&s[st..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(st) = start {
        words.push(&s[st..]);
    }
    words
}

fn is_text(t: &RecordType) -> bool {
    matches!(t.parts.first(), Some(p) if p.field == Field::Text)
}

/// Zone-file data (as PowerDNS returns it, say) in the spec's form: the
/// priority apart, host names without the dot, TXT unquoted, single spaces.
/// Data that does not parse as its type is returned as it is.
pub fn from_presentation(rtype: &str, wire: &str) -> (Option<u64>, String) {
    let Some(t) = record_type(rtype) else {
        return (None, wire.trim().to_string());
    };
    if is_text(t) {
        return (None, unquote_txt(wire));
    }
    let words = split_words(wire);
    let mut rest = &words[..];
    let mut priority = None;
    if t.priority {
        match words.first().and_then(|w| w.parse::<u64>().ok()) {
            Some(p) => {
                priority = Some(p);
                rest = &words[1..];
            }
            None => return (None, wire.trim().to_string()),
        }
    }
    let mut out: Vec<&str> = Vec::with_capacity(rest.len());
    for (i, w) in rest.iter().enumerate() {
        let host = t.parts.get(i).is_some_and(|p| p.field == Field::Host);
        out.push(if host && *w != "." {
            w.strip_suffix('.').unwrap_or(w)
        } else {
            w
        });
    }
    (priority, out.join(" "))
}

/// The spec's `content` (and priority) as zone-file data.
pub fn to_presentation(rtype: &str, priority: Option<u64>, content: &str) -> String {
    let Some(t) = record_type(rtype) else {
        return content.to_string();
    };
    if is_text(t) {
        return quote_txt(content);
    }
    let mut out: Vec<String> = Vec::new();
    if t.priority {
        out.push(priority.unwrap_or(0).to_string());
    }
    for (i, w) in split_words(content).into_iter().enumerate() {
        let host = t.parts.get(i).is_some_and(|p| p.field == Field::Host);
        out.push(if host && !w.ends_with('.') {
            format!("{w}.")
        } else {
            w.to_string()
        });
    }
    out.join(" ")
}

/// Check `content` against its type, naming the field that is wrong.
pub fn check_content(rtype: &str, content: &str) -> Result<(), String> {
    let Some(t) = record_type(rtype) else {
        return Err(format!("`{rtype}` is not a record type infra knows"));
    };
    if content.contains('\0') {
        return Err("record data cannot hold a NUL byte".into());
    }
    if is_text(t) {
        return Ok(());
    }
    let words = split_words(content);
    let layout = || {
        let names: Vec<&str> = t.parts.iter().map(|p| p.name).collect();
        format!("{rtype} data is {}, like `{}`", names.join(" "), t.example)
    };
    let mut i = 0;
    for p in t.parts {
        if p.field.is_tail() {
            let tail = &words[i.min(words.len())..];
            i = words.len();
            if tail.is_empty() && p.field != Field::Params {
                return Err(format!("{} is missing; {}", p.name, layout()));
            }
            for w in tail {
                check_field(p.field, w)
                    .map_err(|what| format!("{rtype} {} `{w}` {what}", p.name))?;
            }
            let joined: String = tail.concat();
            if p.field == Field::Base64 && !joined.len().is_multiple_of(4) {
                return Err(format!(
                    "{rtype} {} is not whole base64 (its length, {} without spaces, is not a multiple of 4)",
                    p.name,
                    joined.len()
                ));
            }
            continue;
        }
        let Some(w) = words.get(i) else {
            return Err(format!("{} is missing; {}", p.name, layout()));
        };
        check_field(p.field, w).map_err(|what| format!("{rtype} {} `{w}` {what}", p.name))?;
        i += 1;
    }
    if i < words.len() {
        return Err(format!(
            "`{}` is more than {rtype} data holds; {}",
            words[i..].join(" "),
            layout()
        ));
    }
    Ok(())
}

/// `Err` holds what the word should be, worded to follow "`word` ".
fn check_field(f: Field, w: &str) -> Result<(), String> {
    let not = || Err(format!("is not {}", f.describe()));
    match f {
        Field::U8 => w.parse::<u8>().map(drop).or_else(|_| not()),
        Field::U16 => w.parse::<u16>().map(drop).or_else(|_| not()),
        Field::U32 => w.parse::<u32>().map(drop).or_else(|_| not()),
        Field::Ip4 => match w.parse::<std::net::Ipv4Addr>() {
            Ok(ip) if ip.to_string() == w => Ok(()),
            Ok(ip) => Err(format!("is written `{ip}` in its usual form")),
            Err(_) => not(),
        },
        Field::Ip6 => match w.parse::<std::net::Ipv6Addr>() {
            Ok(ip) if ip.to_string() == w => Ok(()),
            Ok(ip) => Err(format!(
                "is written `{ip}` in its usual form (the one DNS servers return)"
            )),
            Err(_) => not(),
        },
        Field::Host => {
            if w == "." {
                return Ok(());
            }
            if w.ends_with('.') {
                return Err(format!(
                    "is written `{}`, without the trailing dot (infra adds it where a server needs it)",
                    w.trim_end_matches('.')
                ));
            }
            let ok = w.len() <= 253
                && w.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.chars()
                            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '*')
                });
            if ok {
                Ok(())
            } else {
                not()
            }
        }
        Field::Word => {
            if !w.is_empty() && !w.contains('"') {
                Ok(())
            } else {
                not()
            }
        }
        Field::Quoted => {
            if w.len() >= 2 && w.starts_with('"') && w.ends_with('"') && !w.ends_with("\\\"") {
                Ok(())
            } else {
                Err(format!("must be quoted, as `\"{}\"`", w.trim_matches('"')))
            }
        }
        Field::Hex => {
            if !w.is_empty()
                && w.len().is_multiple_of(2)
                && w.chars().all(|c| c.is_ascii_hexdigit())
            {
                Ok(())
            } else {
                Err("is not hexadecimal (an even number of 0-9 and a-f)".into())
            }
        }
        Field::Base64 => {
            if w.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            {
                Ok(())
            } else {
                not()
            }
        }
        Field::Params => {
            let key = w.split('=').next().unwrap_or("");
            if !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                Ok(())
            } else {
                not()
            }
        }
        Field::Text | Field::Rest => Ok(()),
    }
}

/// The structured attributes a resource gives, in table order.
pub fn parts_given(attrs: &BTreeMap<String, Value>) -> Vec<&'static str> {
    PART_ATTRS
        .iter()
        .copied()
        .filter(|a| attrs.contains_key(*a))
        .collect()
}

/// `content` built from structured attributes (`None` when none is given).
/// `Err` names what is missing or does not belong to the type.
pub fn compose(rtype: &str, attrs: &BTreeMap<String, Value>) -> Option<Result<String, String>> {
    let given = parts_given(attrs);
    if given.is_empty() {
        return None;
    }
    let Some(t) = record_type(rtype) else {
        return Some(Err(format!("`{rtype}` is not a record type infra knows")));
    };
    let own: Vec<&str> = t.parts.iter().filter(|p| p.attr).map(|p| p.name).collect();
    if let Some(stray) = given.iter().find(|g| !own.contains(g)) {
        return Some(Err(if own.is_empty() {
            format!("{rtype} records take `content` only, not `{stray}`")
        } else {
            format!(
                "`{stray}` is not part of a {rtype} record (its parts: {})",
                own.join(", ")
            )
        }));
    }
    let mut words: Vec<String> = Vec::new();
    for p in t.parts {
        let v = attrs.get(p.name);
        let text = match v {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) if p.field == Field::Quoted => {
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
            }
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Some(Err(format!("`{}` = {other} is not a value", p.name))),
            None if p.field == Field::Params => continue,
            None => {
                return Some(Err(format!(
                    "a {rtype} record given by parts needs `{}` too (parts: {})",
                    p.name,
                    own.join(", ")
                )))
            }
        };
        if !text.is_empty() {
            words.push(text);
        }
    }
    Some(Ok(words.join(" ")))
}

/// TXT data as zone-file text: quoted character-strings of at most 255 bytes,
/// `"` and `\` escaped. UTF-8 stays as it is (DNS servers store it so).
pub fn quote_txt(text: &str) -> String {
    let mut chunks: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut len = 0;
    for ch in text.chars() {
        if len + ch.len_utf8() > 255 {
            chunks.push(std::mem::take(&mut cur));
            len = 0;
        }
        len += ch.len_utf8();
        if ch == '"' || ch == '\\' {
            cur.push('\\');
        }
        cur.push(ch);
    }
    chunks.push(cur);
    chunks
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The data of zone-file TXT text: character-strings concatenated (as SPF and
/// DKIM read them), escapes (`\"`, `\\`, `\DDD`) resolved. Unquoted words count
/// as strings too.
pub fn unquote_txt(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut quoted = false;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => quoted = !quoted,
            b'\\' if i + 1 < bytes.len() => {
                let digits = &bytes[i + 1..(i + 4).min(bytes.len())];
                if digits.len() == 3 && digits.iter().all(u8::is_ascii_digit) {
                    let n = digits
                        .iter()
                        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
                    out.push(u8::try_from(n).unwrap_or(b'?'));
                    i += 4;
                    continue;
                }
                out.push(bytes[i + 1]);
                i += 2;
                continue;
            }
            b' ' | b'\t' if !quoted => {}
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::TYPES;

    #[test]
    fn words_keep_quoted_strings_whole() {
        assert_eq!(
            split_words(r#"10 100 "S" "SIP+D2U" "!^.*$!sip:a b@c!" ."#),
            vec![
                "10",
                "100",
                "\"S\"",
                "\"SIP+D2U\"",
                "\"!^.*$!sip:a b@c!\"",
                "."
            ]
        );
        assert_eq!(
            split_words(r#"1 . alpn="h3, h2" port=443"#),
            vec!["1", ".", "alpn=\"h3, h2\"", "port=443"]
        );
    }

    #[test]
    fn presentation_round_trips_for_every_type() {
        let wire = [
            ("MX", "10 mail.example.com."),
            ("SRV", "10 20 30 foo-1.unit.tests."),
            ("SRV", "0 0 0 ."),
            (
                "NAPTR",
                r#"10 100 "S" "SIP+D2U" "!^.*$!sip:info@bar.example.com!" ."#,
            ),
            ("SVCB", r#"1 www.unit.tests. alpn="h3,h2""#),
            ("HTTPS", "1 ."),
            ("URI", r#"1 2 "https://www.unit.tests./foo""#),
            ("CNAME", "unit.tests."),
            ("DS", "2371 13 2 0123456789ABCDEF"),
            (
                "LOC",
                "31 58 52.100 S 115 49 11.700 E 20.00m 10.00m 10.00m 2.00m",
            ),
            ("LUA", r#"A "'1.2.3.42'""#),
        ];
        for (t, w) in wire {
            let (p, content) = from_presentation(t, w);
            assert_eq!(to_presentation(t, p, &content), w, "{t}");
            check_content(t, &content).unwrap_or_else(|e| panic!("{t} {content}: {e}"));
        }
        assert_eq!(
            from_presentation("MX", "10 mail.example.com."),
            (Some(10), "mail.example.com".into())
        );
    }

    #[test]
    fn every_example_is_valid() {
        for t in TYPES {
            let example = t.example.replace('…', "ab");
            check_content(t.name, &example).unwrap_or_else(|e| panic!("{}: {e}", t.name));
        }
    }

    #[test]
    fn bad_data_names_the_field() {
        let e = check_content("SRV", "5 70000 sip.example.com").unwrap_err();
        assert!(e.contains("port `70000`"), "{e}");
        let e = check_content("SSHFP", "4 2 xyz").unwrap_err();
        assert!(e.contains("fingerprint"), "{e}");
        let e = check_content("CAA", "0 issue letsencrypt.org").unwrap_err();
        assert!(e.contains("quoted"), "{e}");
        let e = check_content("PTR", "nas.example.com.").unwrap_err();
        assert!(e.contains("trailing dot"), "{e}");
        let e = check_content("TLSA", "3 1 1").unwrap_err();
        assert!(e.contains("certificate is missing"), "{e}");
        let e = check_content("A", "1.2.3.4 5.6.7.8").unwrap_err();
        assert!(e.contains("more than"), "{e}");
    }

    #[test]
    fn structured_attributes_compose_content() {
        let attrs: BTreeMap<String, Value> = [
            ("weight".to_string(), Value::from(5)),
            ("port".to_string(), Value::from(5060)),
            ("target".to_string(), Value::from("sip.example.com")),
        ]
        .into();
        assert_eq!(
            compose("SRV", &attrs).unwrap().unwrap(),
            "5 5060 sip.example.com"
        );
        let caa: BTreeMap<String, Value> = [
            ("flags".to_string(), Value::from(0)),
            ("tag".to_string(), Value::from("issue")),
            ("value".to_string(), Value::from("letsencrypt.org")),
        ]
        .into();
        assert_eq!(
            compose("CAA", &caa).unwrap().unwrap(),
            "0 issue \"letsencrypt.org\""
        );
        let e = compose("A", &caa).unwrap().unwrap_err();
        assert!(e.contains("`content` only"), "{e}");
        let mut short = attrs.clone();
        short.remove("port");
        assert!(compose("SRV", &short)
            .unwrap()
            .unwrap_err()
            .contains("`port`"));
    }

    #[test]
    fn the_schema_lists_every_type_and_part() {
        let names: Vec<&str> = crate::dns::type_names().collect();
        assert_eq!(names, crate::spec::schema::DNS_TYPES);
        let schema = crate::spec::schema::kind("dns_record").unwrap();
        for name in PART_ATTRS {
            assert!(schema.attr(name).is_some(), "{name}");
        }
        for p in TYPES.iter().flat_map(|t| t.parts.iter()).filter(|p| p.attr) {
            assert!(PART_ATTRS.contains(&p.name), "{}", p.name);
        }
    }

    #[test]
    fn part_attributes_mean_one_thing() {
        // One schema attribute per name: its field must be the same in every type.
        for name in PART_ATTRS {
            let fields: std::collections::BTreeSet<String> = TYPES
                .iter()
                .flat_map(|t| t.parts.iter())
                .filter(|p| p.attr && p.name == *name)
                .map(|p| match p.field {
                    Field::Host | Field::Quoted | Field::Word | Field::Params | Field::Hex => {
                        "text".to_string()
                    }
                    f => format!("{f:?}"),
                })
                .collect();
            assert_eq!(fields.len(), 1, "{name}: {fields:?}");
        }
    }
}
