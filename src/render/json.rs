//! The stable JSON form of a plan, for tools (format_version "1.1": minor bumps
//! only add fields). It is the `Plan` as serialised, with two differences: every
//! sensitive value (in `before`, `after` and `drift`) is replaced by
//! `"(sensitive)"`, because unlike Terraform's `show -json` we never hand secrets
//! to CI logs, and a top-level `summary` is added so tools need not count actions,
//! and the plan's `digest`, the unit a reviewer approves (`apply --expect-digest`).
//! Keys are sorted and the output is pretty-printed with a trailing newline, so
//! the same plan always gives the same bytes.

use serde_json::{Map, Value};

use crate::plan::Plan;

pub fn render(original: &Plan) -> String {
    let mut plan = original.clone();
    crate::plan::redact::plan(&mut plan);
    let summary = plan.summary();
    // Of the plan as made (secrets are hashed, never shown).
    let digest = original.digest();

    let mut value = serde_json::to_value(&plan).expect("a plan serialises");
    if let Value::Object(fields) = &mut value {
        fields.insert("digest".into(), Value::from(digest));
        fields.insert(
            "summary".into(),
            serde_json::json!({
                "add": summary.add,
                "change": summary.change,
                "destroy": summary.destroy,
            }),
        );
    }
    let mut out = serde_json::to_string_pretty(&sorted(value)).expect("a JSON value serialises");
    out.push('\n');
    out
}

/// Rebuild every object with its keys in order. serde_json's map is already a
/// BTreeMap by default, but another crate enabling `preserve_order` (cargo
/// unifies features) would silently switch it to insertion order.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(fields) => {
            let mut entries: Vec<(String, Value)> = fields.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let map: Map<String, Value> =
                entries.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
