//! The stable JSON form of a plan, for tools (format_version "1.0": minor bumps
//! only add fields). It is the `Plan` as serialised, with two differences: every
//! sensitive value (in `before`, `after` and `drift`) is replaced by
//! `"(sensitive)"`, because unlike Terraform's `show -json` we never hand secrets
//! to CI logs, and a top-level `summary` is added so tools need not count actions.
//! Keys are sorted and the output is pretty-printed with a trailing newline, so
//! the same plan always gives the same bytes.

use serde_json::{Map, Value};

use crate::plan::Plan;
use crate::spec::Attrs;

/// What a sensitive value becomes; a fixed string so tools can recognise it.
pub(super) const REDACTED: &str = "(sensitive)";

pub fn render(plan: &Plan) -> String {
    let mut plan = plan.clone();
    for change in &mut plan.changes {
        // Attributes are shared with other changes: copied only when a value is hidden.
        for side in [&mut change.before, &mut change.after]
            .into_iter()
            .flatten()
        {
            if change.sensitive.iter().any(|name| side.contains_key(name)) {
                redact(Some(std::sync::Arc::make_mut(side)), &change.sensitive);
            }
        }
    }
    for drift in &mut plan.drift {
        redact(drift.before.as_mut(), &drift.sensitive);
        redact(drift.after.as_mut(), &drift.sensitive);
    }
    let summary = plan.summary();

    let mut value = serde_json::to_value(&plan).expect("a plan serialises");
    if let Value::Object(fields) = &mut value {
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

/// Replace the listed attributes' values; names not present are left absent.
fn redact(attrs: Option<&mut Attrs>, sensitive: &[String]) {
    let Some(attrs) = attrs else { return };
    for name in sensitive {
        if let Some(value) = attrs.get_mut(name) {
            *value = Value::String(REDACTED.into());
        }
    }
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
