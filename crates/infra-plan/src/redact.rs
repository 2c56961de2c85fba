//! Where sensitive values are hidden from data: every machine-readable output and
//! report that shows attribute values (the plan's JSON, `infra ask`'s, `infra
//! show`'s) passes them through here, so a new one cannot forget; the value becomes
//! a fixed string tools can recognise. (The human and Markdown plan renderers mark
//! the same attributes, by the plan's `sensitive` lists, in Terraform's words.)

use std::sync::Arc;

use serde_json::Value;

use crate::model::{Plan, ResourceChange};
use infra_core::spec::{schema, Attrs};

/// What a sensitive value becomes.
pub const REDACTED: &str = "(sensitive)";

/// Hide the named attributes' values; names not present stay absent.
pub fn names(attrs: &mut Attrs, sensitive: &[String]) {
    for name in sensitive {
        if let Some(value) = attrs.get_mut(name) {
            *value = Value::String(REDACTED.into());
        }
    }
}

/// Hide the attributes the kind's schema marks sensitive.
pub fn by_schema(kind: &str, attrs: &mut Attrs) {
    if let Some(s) = schema::kind(kind) {
        for (name, value) in attrs.iter_mut() {
            if s.is_sensitive(name) {
                *value = Value::String(REDACTED.into());
            }
        }
    }
}

/// A change with its sensitive values hidden, before and after.
pub fn change(change: &mut ResourceChange) {
    // Attributes are shared with other changes: copied only when a value is hidden.
    for side in [&mut change.before, &mut change.after]
        .into_iter()
        .flatten()
    {
        if change.sensitive.iter().any(|name| side.contains_key(name)) {
            names(Arc::make_mut(side), &change.sensitive);
        }
    }
}

/// A plan with every sensitive value hidden, in changes and drift.
pub fn plan(plan: &mut Plan) {
    for c in &mut plan.changes {
        change(c);
    }
    for drift in &mut plan.drift {
        for side in [drift.before.as_mut(), drift.after.as_mut()]
            .into_iter()
            .flatten()
        {
            names(side, &drift.sensitive);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_sensitive_values_are_hidden_and_others_kept() {
        let mut a: Attrs =
            serde_json::from_value(json!({"hostname": "db", "env": {"PASSWORD": "x"}})).unwrap();
        by_schema("container", &mut a);
        assert_eq!(a["hostname"], json!("db"));
        let sensitive = schema::kind("container").unwrap().is_sensitive("env");
        assert_eq!(a["env"] == json!(REDACTED), sensitive);
    }

    #[test]
    fn named_values_are_hidden_and_absent_ones_stay_absent() {
        let mut a: Attrs = serde_json::from_value(json!({"content": "secret"})).unwrap();
        names(&mut a, &["content".to_string(), "token".to_string()]);
        assert_eq!(a["content"], json!(REDACTED));
        assert!(!a.contains_key("token"));
    }
}
