//! One resource, `[KIND.NAME]`, from its kind's schema: the attributes a user
//! may set, the meta attributes, the per-provider tables, and what validate requires.

use serde_json::{json, Map, Value};

use infra_core::spec::schema::{KindSchema, META_ATTRS};

use super::values::{self, ADDRESS_PATTERN, NAME_PATTERN};
use crate::ProviderInfo;

pub fn resource(kind: &KindSchema, catalog: &[&ProviderInfo]) -> Value {
    let mut properties = Map::new();
    // Computed attributes are the provider's to set: validate refuses them in a spec.
    for a in kind.attrs.iter().filter(|a| !a.computed) {
        properties.insert(a.name.into(), values::attribute(a));
    }
    for name in META_ATTRS {
        properties.insert((*name).into(), meta(name));
    }
    // `[KIND.NAME.PROVIDER]`: settings only that provider kind reads.
    for info in catalog.iter().filter(|i| i.serves(kind.name)) {
        let table = provider_table(kind, info);
        // Beside an attribute of the same name, either: the loader takes a
        // table as the provider's unless the attribute is a map.
        let schema = match properties.remove(info.kind) {
            Some(attr) => json!({"anyOf": [attr, table]}),
            None => table,
        };
        properties.insert(info.kind.into(), schema);
    }
    let required: Vec<&str> = kind
        .attrs
        .iter()
        .filter(|a| a.required && !a.computed)
        .map(|a| a.name)
        .collect();
    let mut schema = json!({
        "type": "object",
        "description": kind.summary,
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    let groups: Vec<Value> = kind
        .one_of
        .iter()
        .map(|g| {
            let each: Vec<Value> = g.attrs.iter().map(|a| json!({"required": [a]})).collect();
            // Exactly one (`exclusive`) or at least one, as validate counts them.
            let word = if g.exclusive { "oneOf" } else { "anyOf" };
            json!({ word: each })
        })
        .collect();
    if !groups.is_empty() {
        schema["allOf"] = Value::Array(groups);
    }
    schema
}

/// The attributes every resource may carry, as the loader reads them.
fn meta(name: &str) -> Value {
    match name {
        "provider" => json!({
            "type": "string",
            "description": "the provider instance ([providers.NAME]) that manages it; default: the only one serving this kind",
        }),
        "group" => json!({
            "type": "string",
            "pattern": NAME_PATTERN,
            "description": "the service it belongs to: `infra ask` and `infra output` treat a group as one",
        }),
        "depends_on" => json!({
            "type": "array",
            "items": {"type": "string", "pattern": ADDRESS_PATTERN},
            "description": "resources (kind.name) to create first, beside those its references name",
        }),
        // A meta attribute added to the table but not yet described here.
        _ => json!({}),
    }
}

fn provider_table(kind: &KindSchema, info: &ProviderInfo) -> Value {
    let settings = info.kind_support(kind.name).map_or(&[][..], |k| k.settings);
    let properties: Map<String, Value> = settings
        .iter()
        .map(|s| ((*s).to_string(), json!({})))
        .collect();
    json!({
        "type": "object",
        "description": format!(
            "settings of this {} that only the {} provider reads: {}",
            kind.name,
            info.kind,
            if settings.is_empty() { "none".to_string() } else { settings.join(", ") },
        ),
        "properties": properties,
        "additionalProperties": false,
    })
}
