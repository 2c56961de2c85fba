//! `[providers.NAME]`: a `kind` from the registry, then that provider's settings
//! (an `if`/`then` per kind, so an editor offers each kind its own settings).
//! Settings declare names, help and secrecy, not types: a value's type is the
//! provider's typed settings' to check, at `infra validate`.

use serde_json::{json, Map, Value};

use super::values::SECRET_REF_PATTERN;
use crate::{ProviderInfo, Setting, COMMON_SETTINGS};

pub fn provider(catalog: &[&ProviderInfo]) -> Value {
    let kinds: Vec<&str> = catalog.iter().map(|i| i.kind).collect();
    let served: Vec<String> = catalog
        .iter()
        .map(|i| {
            let kinds: Vec<&str> = i.kinds.iter().map(|k| k.kind).collect();
            format!("{} ({})", i.kind, kinds.join(", "))
        })
        .collect();
    let each: Vec<Value> = catalog
        .iter()
        .map(|i| {
            json!({
                "if": {"properties": {"kind": {"const": i.kind}}, "required": ["kind"]},
                "then": settings(i),
            })
        })
        .collect();
    json!({
        "type": "object",
        "description": "a provider instance: its kind and that kind's settings",
        "properties": {
            "kind": {
                "type": "string",
                "enum": kinds,
                "description": format!("the provider kind, and the resource kinds it serves: {}", served.join("; ")),
            },
        },
        "required": ["kind"],
        "allOf": each,
    })
}

fn settings(info: &ProviderInfo) -> Value {
    let mut properties = Map::new();
    properties.insert("kind".into(), json!({"const": info.kind}));
    for s in info.settings.iter().chain(COMMON_SETTINGS) {
        properties.insert(s.name.into(), setting(s));
    }
    let required: Vec<&str> = std::iter::once("kind")
        .chain(info.settings.iter().filter(|s| s.required).map(|s| s.name))
        .collect();
    json!({
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn setting(s: &Setting) -> Value {
    if s.secret {
        json!({
            "type": "string",
            "pattern": SECRET_REF_PATTERN,
            "description": format!("{}; a secret, so a reference: \"env:NAME\" or \"file:PATH\", never the value", s.help),
        })
    } else {
        json!({"description": s.help})
    }
}
