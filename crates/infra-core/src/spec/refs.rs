//! References inside string values: `${kind.name.attribute}` and `${vars.NAME}`.
//! `$${` escapes a literal `${`.

use std::ops::Range;

use super::{Address, Value};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ref {
    Attr { address: Address, attr: String },
    Var(String),
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ref::Attr { address, attr } => write!(f, "{address}.{attr}"),
            Ref::Var(name) => write!(f, "vars.{name}"),
        }
    }
}

/// A piece of a string: literal text or a reference.
#[derive(Debug, Clone, PartialEq)]
enum Part<'a> {
    Text(std::borrow::Cow<'a, str>),
    Ref(Ref),
}

/// A malformed reference: what is wrong, and where.
pub type Malformed = (String, Range<usize>);

/// Every reference in a string, with its byte range; `Err` describes a malformed one.
pub fn find(s: &str) -> Result<Vec<(Ref, Range<usize>)>, Malformed> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(pos) = s[i..].find("${") {
        let start = i + pos;
        if start > 0 && s.as_bytes()[start - 1] == b'$' {
            i = start + 2;
            continue;
        }
        let Some(len) = s[start..].find('}') else {
            return Err(("unclosed `${`".into(), start..s.len()));
        };
        let inner = &s[start + 2..start + len];
        let r = parse(inner).ok_or_else(|| {
            (
                format!("`${{{inner}}}` is not a reference"),
                start..start + len + 1,
            )
        })?;
        out.push((r, start..start + len + 1));
        i = start + len + 1;
    }
    Ok(out)
}

fn parse(inner: &str) -> Option<Ref> {
    let parts: Vec<&str> = inner.trim().split('.').collect();
    let ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    match parts.as_slice() {
        ["vars", name] if ok(name) => Some(Ref::Var(name.to_string())),
        [kind, name, attr] if ok(kind) && ok(name) && ok(attr) => Some(Ref::Attr {
            address: Address::new(*kind, *name),
            attr: attr.to_string(),
        }),
        _ => None,
    }
}

fn split(s: &str) -> Vec<Part<'_>> {
    let Ok(found) = find(s) else {
        return vec![Part::Text(s.into())];
    };
    let mut parts = Vec::new();
    let mut last = 0;
    for (r, range) in found {
        if range.start > last {
            parts.push(Part::Text(unescape(&s[last..range.start])));
        }
        parts.push(Part::Ref(r));
        last = range.end;
    }
    if last < s.len() {
        parts.push(Part::Text(unescape(&s[last..])));
    }
    parts
}

fn unescape(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains("$${") {
        s.replace("$${", "${").into()
    } else {
        s.into()
    }
}

/// Every reference anywhere inside a value (strings, lists, tables).
pub fn refs_in(v: &Value, out: &mut Vec<Ref>) {
    match v {
        Value::String(s) if s.contains("${") => {
            if let Ok(found) = find(s) {
                out.extend(found.into_iter().map(|(r, _)| r));
            }
        }
        Value::Array(items) => items.iter().for_each(|x| refs_in(x, out)),
        Value::Object(m) => m.values().for_each(|x| refs_in(x, out)),
        _ => {}
    }
}

/// Replace references using `lookup`; `None` from lookup means "known after apply",
/// and then the whole value is unknown.
/// Largest value a reference may resolve to: a string built from references
/// beyond it is an error, not a gigabyte file.
pub const MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;

pub fn substitute(v: &Value, lookup: &dyn Fn(&Ref) -> Option<Value>) -> Option<Value> {
    match v {
        Value::String(s) if s.contains("${") => {
            let parts = split(s);
            // A string that is exactly one reference takes the referenced value's type.
            if let [Part::Ref(r)] = parts.as_slice() {
                return lookup(r);
            }
            let mut out = String::new();
            for p in parts {
                // Past the bound the value is refused anyway (see `MAX_VALUE_BYTES`):
                // stop building it, so 10^6 copies of a variable never reach memory.
                if out.len() > MAX_VALUE_BYTES {
                    break;
                }
                match p {
                    Part::Text(t) => out.push_str(&t),
                    Part::Ref(r) => match lookup(&r)? {
                        Value::String(s) => out.push_str(&s),
                        other => out.push_str(&other.to_string()),
                    },
                }
            }
            Some(Value::String(out))
        }
        Value::String(s) if s.contains("$${") => Some(Value::String(unescape(s).into_owned())),
        Value::Array(items) => items
            .iter()
            .map(|x| substitute(x, lookup))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| substitute(x, lookup).map(|x| (k.clone(), x)))
            .collect::<Option<serde_json::Map<_, _>>>()
            .map(Value::Object),
        other => Some(other.clone()),
    }
}

pub fn has_refs(v: &Value) -> bool {
    let mut out = Vec::new();
    refs_in(v, &mut out);
    !out.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_substitutes() {
        let v = Value::from("http://${container.api.address}:8080");
        let got = substitute(&v, &|r| {
            assert_eq!(r.to_string(), "container.api.address");
            Some(Value::from("10.0.0.5"))
        });
        assert_eq!(got, Some(Value::from("http://10.0.0.5:8080")));
    }

    #[test]
    fn whole_reference_keeps_type() {
        let v = Value::from("${vars.cores}");
        assert_eq!(
            substitute(&v, &|_| Some(Value::from(2))),
            Some(Value::from(2))
        );
    }

    #[test]
    fn unknown_makes_value_unknown() {
        let v = Value::from("x-${container.a.id}");
        assert_eq!(substitute(&v, &|_| None), None);
    }

    #[test]
    fn escapes_and_errors() {
        assert_eq!(
            substitute(&Value::from("$${HOME}"), &|_| None),
            Some(Value::from("${HOME}"))
        );
        assert!(find("${container.x}").is_err());
        assert!(find("${oops").is_err());
    }
}
