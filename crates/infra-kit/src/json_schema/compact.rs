//! The spec schema in a model's few words: one line per kind, each attribute
//! with its type, allowed values and range, read from the very document
//! `infra schema` prints. A model backend gets these lines for the kinds a
//! request is likely to touch, so the `set` operations it proposes name real
//! attributes with values of the right shape; small local models have 1–2k
//! tokens, hence the brevity.

use serde_json::Value;

/// Enumerations longer than this are cut (the rest are still accepted).
const MAX_ENUM: usize = 30;

/// `kind: attr type, attr* type (a|b|c), attr integer 1–65535, …` for each of
/// `kinds` the schema defines (`*` marks a required attribute).
pub fn compact(schema: &Value, kinds: &[&str]) -> String {
    let mut out = String::new();
    for kind in kinds {
        let def = &schema["definitions"][*kind];
        let Some(props) = def["properties"].as_object() else {
            continue;
        };
        let required: Vec<&str> = def["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let attrs: Vec<String> = props
            .iter()
            // Meta attributes and provider tables are the same for every kind.
            .filter(|(name, _)| !matches!(name.as_str(), "provider" | "group" | "depends_on"))
            .filter(|(_, s)| shape(s) != "object")
            .map(|(name, s)| {
                let star = if required.contains(&name.as_str()) {
                    "*"
                } else {
                    ""
                };
                format!("{name}{star} {}", shape(s))
            })
            .collect();
        out.push_str(&format!("{kind}: {}\n", attrs.join(", ")));
    }
    out
}

/// "string", "integer 1–65535", "string (A|AAAA|…)", "boolean", "array of string".
fn shape(s: &Value) -> String {
    // A reference may stand for any attribute: the other branch is the type.
    if let Some(any) = s["anyOf"].as_array() {
        let own: Vec<&Value> = any.iter().filter(|b| b.get("$ref").is_none()).collect();
        if let [one] = own.as_slice() {
            return shape(one);
        }
    }
    let ty = match &s["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("|"),
        _ => "any".to_string(),
    };
    let mut out = match ty.as_str() {
        "array" => format!("array of {}", shape(&s["items"])),
        _ => ty,
    };
    if let Some(values) = s["enum"].as_array() {
        let words: Vec<String> = values
            .iter()
            .take(MAX_ENUM)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect();
        let more = if values.len() > MAX_ENUM { "|…" } else { "" };
        out.push_str(&format!(" ({}{more})", words.join("|")));
    }
    match (s["minimum"].as_i64(), s["maximum"].as_i64()) {
        (Some(lo), Some(hi)) => out.push_str(&format!(" {lo}–{hi}")),
        (Some(lo), None) => out.push_str(&format!(" ≥{lo}")),
        (None, Some(hi)) => out.push_str(&format!(" ≤{hi}")),
        (None, None) => {}
    }
    out
}
