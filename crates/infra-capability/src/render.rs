//! The template environment shared by `infra capabilities check` and the expander
//! of `infra ask`: the same filters, tests and whitespace rules in both, so what
//! `check` renders is what `ask` writes.
//!
//! Templates render TOML resource tables. Every value goes through the `toml`
//! filter, which emits a TOML literal with quotes and escaping, so no parameter can
//! end a string early and inject keys, tables or `${…}` references of its own.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};

use super::model::CapError;

/// An environment whose templates are `templates` (name → text), with the `toml`
/// filter, the `private_ip` test and the `fail(message)` function registered.
///
/// Undefined variables fail when printed but are false in `{% if %}`, so optional
/// params can be tested without being set.
pub fn environment(templates: &BTreeMap<String, String>) -> Environment<'_> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    // Escaping is the toml filter's job; a template named *.html.j2 must not HTML-escape.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("default delimiters are valid"),
    );
    // A loader (rather than add_template) reports syntax errors when a template is
    // used, with its name and line, instead of losing them while building the environment.
    let map = Arc::new(templates.clone());
    env.set_loader(move |name| Ok(map.get(name).cloned()));
    env.add_filter("toml", toml_filter);
    env.add_test("private_ip", |v: Value| {
        v.as_str()
            .and_then(parse_ip)
            .is_some_and(|ip| is_private(&ip))
    });
    env.add_function("fail", |msg: String| -> Result<Value, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, msg))
    });
    env
}

/// A template value as a TOML literal: strings become basic strings with escapes,
/// numbers and booleans stay bare, lists and maps become inline arrays and tables.
/// Undefined and none are errors: a missing value must not render as an empty key.
pub fn toml_filter(v: Value) -> Result<String, Error> {
    let mut out = String::new();
    write_toml(&v, &mut out)?;
    Ok(out)
}

fn write_toml(v: &Value, out: &mut String) -> Result<(), Error> {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "the toml filter got no value (undefined or none); guard optional params with {% if … %}",
            ))
        }
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => {
            if let Some(i) = v.as_i64().filter(|_| v.is_integer()) {
                out.push_str(&i.to_string());
            } else {
                let f = f64::try_from(v.clone())?;
                if !f.is_finite() {
                    return Err(Error::new(ErrorKind::InvalidOperation, "the toml filter got a number that is not finite"));
                }
                let s = f.to_string();
                out.push_str(&s);
                if !s.contains(['.', 'e', 'E']) {
                    out.push_str(".0");
                }
            }
        }
        ValueKind::String => basic_string(v.as_str().unwrap_or_default(), out),
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            for (i, item) in v.try_iter()?.enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_toml(&item, out)?;
            }
            out.push(']');
        }
        ValueKind::Map => {
            out.push('{');
            for (i, key) in v.try_iter()?.enumerate() {
                out.push_str(if i > 0 { ", " } else { " " });
                let k = key.as_str().map(str::to_string).unwrap_or_else(|| key.to_string());
                if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    out.push_str(&k);
                } else {
                    basic_string(&k, out);
                }
                out.push_str(" = ");
                write_toml(&v.get_item(&key)?, out)?;
            }
            out.push_str(if out.ends_with('{') { "}" } else { " }" });
        }
        other => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("the toml filter cannot write a {other} value"),
            ))
        }
    }
    Ok(())
}

/// A TOML basic string: `"` and `\` escaped, control characters as escapes.
fn basic_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// An IP address, or the address part of `a.b.c.d/nn`.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    s.split('/').next().and_then(|a| a.trim().parse().ok())
}

/// Addresses that only make sense inside a network: they are never proxied through a
/// public CDN, and services on them get internal-only proxy sites by default.
pub fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT, 100.64.0.0/10
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

/// A minijinja error as a capability error at the template's line.
pub fn template_error(path: &str, e: &Error) -> CapError {
    let mut msg = match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    CapError::new(path, e.line().unwrap_or(0), msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(src: &str, ctx: serde_json::Value) -> Result<String, Error> {
        let mut t = BTreeMap::new();
        t.insert("t.toml.j2".to_string(), src.to_string());
        let env = environment(&t);
        let out = env
            .get_template("t.toml.j2")?
            .render(Value::from(minijinja::value::Serde(&ctx)));
        out
    }

    #[test]
    fn toml_filter_escapes_hostile_strings() {
        let evil = "x\"\nip = \"6.6.6.6\"\n[container.evil]\nhostname = \"${container.db.env}";
        let out = render("a = {{ v | toml }}\n", serde_json::json!({ "v": evil })).unwrap();
        let parsed: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(parsed.len(), 1, "one key, however hostile the value: {out}");
        assert_eq!(parsed["a"].as_str(), Some(evil));
    }

    #[test]
    fn toml_filter_values() {
        let ctx = serde_json::json!({ "n": 3, "f": 1.0, "b": true, "l": ["a", "b"], "m": { "k": "v", "a b": 1 } });
        let out = render("n = {{ n | toml }}\nf = {{ f | toml }}\nb = {{ b | toml }}\nl = {{ l | toml }}\nm = {{ m | toml }}\n", ctx).unwrap();
        let t: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(t["n"].as_integer(), Some(3));
        assert_eq!(t["f"].as_float(), Some(1.0));
        assert_eq!(t["l"].as_array().unwrap().len(), 2);
        assert_eq!(t["m"]["a b"].as_integer(), Some(1));
        assert!(render("a = {{ missing | toml }}\n", serde_json::json!({})).is_err());
        assert!(render("a = {{ v | toml }}\n", serde_json::json!({ "v": null })).is_err());
    }

    #[test]
    fn optional_params_and_helpers() {
        let src = "{% if opt %}a = 1{% endif %}\n{% if ip is private_ip %}p = true{% endif %}\n";
        let out = render(src, serde_json::json!({ "ip": "192.168.1.5/24" })).unwrap();
        assert!(!out.contains("a = 1") && out.contains("p = true"));
        let e = render("{{ fail('give cores or memory') }}", serde_json::json!({})).unwrap_err();
        assert!(template_error("templates/t.toml.j2", &e)
            .message
            .contains("give cores or memory"));
        let e = render("{% if %}", serde_json::json!({})).unwrap_err();
        assert_eq!(template_error("templates/t.toml.j2", &e).line, 1);
        assert!(!is_private(&"8.8.8.8".parse().unwrap()));
        assert!(is_private(&"fd00::1".parse().unwrap()));
        assert!(is_private(&"100.100.1.1".parse().unwrap()));
    }
}
