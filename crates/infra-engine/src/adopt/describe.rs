//! One live object as spec attributes: what the spec can say about it, or why
//! it cannot. Only settable attributes of the kind's schema are written, and
//! those equal to their default are left out, so an adopted file reads like
//! one a person wrote; the plan fills the defaults back in and compares equal.

use serde_json::Value;

use infra_core::spec::schema::{self, kinds};
use infra_core::spec::Attrs;

/// The spec attributes of an observed object, or why it cannot be described.
pub fn attrs(kind: &str, observed: &Attrs) -> Result<Attrs, String> {
    let schema = schema::kind(kind).ok_or_else(|| format!("`{kind}` is not a kind infra knows"))?;
    if observed.contains_key("unreadable") {
        return Err("its content could not be read".into());
    }
    if kind == kinds::DNS_RECORD {
        if let Some(c) = observed.get("content").and_then(Value::as_str) {
            if c.starts_with("(disabled) ") {
                return Err("a disabled record: the spec has no disabled records".into());
            }
        }
    }
    if kind == kinds::PROXY_SITE && !observed.contains_key("server_name") {
        return Err("a site that is not a plain reverse proxy in the form infra writes (server_name, listen, one proxy_pass, TLS files, allow lines, websocket, body size)".into());
    }
    if kind == kinds::MONITOR && !observed.contains_key("url") {
        return Err("a target file not in the form infra writes (one target with interval, timeout and status labels)".into());
    }
    let mut out = Attrs::new();
    for a in schema.attrs.iter().filter(|a| !a.computed) {
        let Some(v) = observed.get(a.name) else {
            if a.required {
                return Err(format!("the provider does not report its `{}`", a.name));
            }
            continue;
        };
        if v.is_null() || a.default.is_some_and(|d| d.value() == *v) {
            continue;
        }
        out.insert(a.name.to_string(), v.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Attrs {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn defaults_and_computed_attributes_are_left_out() {
        let a = attrs(
            "dns_record",
            &obj(
                json!({"zone": "example.com", "name": "www", "type": "A", "content": "192.0.2.1",
                "ttl": 300, "proxied": false, "fqdn": "www.example.com", "id": "x"}),
            ),
        )
        .unwrap();
        assert_eq!(
            a,
            obj(json!({"zone": "example.com", "name": "www", "type": "A", "content": "192.0.2.1"}))
        );
    }

    #[test]
    fn what_the_spec_cannot_say_is_a_reason() {
        let e = attrs(
            "dns_record",
            &obj(json!({"zone": "example.com", "name": "www", "type": "A", "content": "(disabled) 192.0.2.1"})),
        )
        .unwrap_err();
        assert!(e.contains("disabled"), "{e}");
        let e = attrs("proxy_site", &obj(json!({"listen": "80"}))).unwrap_err();
        assert!(e.contains("not a plain reverse proxy"), "{e}");
        let e = attrs("monitor", &obj(json!({"interval": 30}))).unwrap_err();
        assert!(e.contains("one target with interval"), "{e}");
    }
}
