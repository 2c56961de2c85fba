//! The Intent: what an interpreter (offline grammar or a model) understood, as a
//! list of typed operations. Its JSON schema is generated from these types
//! (schemars) and every answer is checked against it (jsonschema) before anything
//! else happens; it is never executed directly: the expander turns it into a spec
//! edit, after the safety rules in `safety` have passed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    /// One line saying what will change, for the commit message.
    #[schemars(length(max = 300))]
    pub summary: String,
    #[serde(default)]
    #[schemars(length(max = 40))]
    pub operations: Vec<Operation>,
    /// Addresses (kind.name) the request says to keep: nothing may remove them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<String>,
    /// What the interpreter needs to know before it can act (empty when it can act).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<String>,
}

/// One change to the spec. Addresses are `kind.name`; a group is `group:NAME`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// Create resources from a capability's template ("deploy grafana on port 3000").
    UseCapability {
        /// Name of one of the offered capabilities.
        capability: String,
        /// Parameters as the capability documents them.
        #[serde(default)]
        #[schemars(with = "Map<String, Value>")]
        params: Map<String, Value>,
        /// Kinds the request said to leave out ("no monitoring" → monitor).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        without: Vec<String>,
    },
    /// Set one attribute of an existing (or just created) resource; null unsets it.
    Set {
        address: String,
        attribute: String,
        #[schemars(with = "SetValue")]
        value: Value,
    },
    /// Change a number relative to its current value: add `by` (may be negative),
    /// or multiply by `factor` ("2 more cores", "double the memory").
    Adjust {
        address: String,
        attribute: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        factor: Option<f64>,
    },
    /// Remove one resource (kind.name) or a whole group (group:NAME). Only what
    /// the user named, with a removal verb.
    Remove { target: String },
    /// Give a resource a new name (its address changes; the plan shows what that does).
    Rename { address: String, to: String },
    /// Copy a whole group under a new name: same sizes and ports, its own address,
    /// DNS name and proxy site.
    Clone { group: String, to: String },
    /// Bring what already runs (made by hand or by another tool) under infra, as
    /// `infra adopt` does: described as spec files and recorded, nothing live
    /// changed. Only on its own ("bring the DNS zone under infra").
    Adopt {
        /// Provider instances to read, by name (all when empty).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        providers: Vec<String>,
        /// Only DNS records of this zone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
        /// Only this resource kind: dns_record, container, vm, proxy_site, monitor, file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
    },
}

/// What `set` accepts: a scalar, a list of strings, or null to unset.
#[derive(JsonSchema)]
#[allow(dead_code)]
#[serde(untagged)]
enum SetValue {
    Text(String),
    Integer(i64),
    Flag(bool),
    List(Vec<String>),
    Unset(()),
}

impl Operation {
    /// The address or group an operation works on, as written.
    pub fn target(&self) -> Option<&str> {
        match self {
            Operation::UseCapability { .. } | Operation::Adopt { .. } => None,
            Operation::Set { address, .. }
            | Operation::Adjust { address, .. }
            | Operation::Rename { address, .. } => Some(address),
            Operation::Remove { target } => Some(target),
            Operation::Clone { group, .. } => Some(group),
        }
    }

    /// One line for people: what this operation does.
    pub fn describe(&self) -> String {
        let show = |v: &Value| match v {
            Value::String(s) => format!("\"{s}\""),
            Value::Null => "(unset)".into(),
            other => other.to_string(),
        };
        match self {
            Operation::UseCapability {
                capability,
                params,
                without,
            } => {
                let name = params
                    .get("name")
                    .and_then(Value::as_str)
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default();
                let mut args: Vec<String> = params
                    .iter()
                    .filter(|(k, _)| *k != "name")
                    .map(|(k, v)| format!("{k} = {}", show(v)))
                    .collect();
                if !without.is_empty() {
                    args.push(format!("without {}", without.join(", ")));
                }
                let args = if args.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", args.join(", "))
                };
                format!("create {capability}{name}{args}")
            }
            Operation::Set {
                address,
                attribute,
                value,
            } => format!("set {address}.{attribute} = {}", show(value)),
            Operation::Adjust {
                address,
                attribute,
                by,
                factor,
            } => match (by, factor) {
                (Some(b), _) => format!("adjust {address}.{attribute} by {b:+}"),
                (_, Some(f)) => format!("adjust {address}.{attribute} × {f}"),
                _ => format!("adjust {address}.{attribute}"),
            },
            Operation::Remove { target } => format!("remove {target}"),
            Operation::Rename { address, to } => format!("rename {address} → {to}"),
            Operation::Clone { group, to } => format!("clone group {group} as {to}"),
            Operation::Adopt {
                providers,
                zone,
                kind,
            } => {
                let mut what = vec!["adopt what already runs".to_string()];
                if let Some(k) = kind {
                    what.push(format!("({k})"));
                }
                if !providers.is_empty() {
                    what.push(format!("on {}", providers.join(", ")));
                }
                if let Some(z) = zone {
                    what.push(format!("in zone {z}"));
                }
                what.join(" ")
            }
        }
    }
}

/// The Intent's JSON schema: given to models as the tool's input schema, and
/// used to validate whatever they return.
pub fn schema() -> Value {
    let mut s = serde_json::to_value(schemars::schema_for!(Intent)).expect("a schema is JSON");
    // Models and their APIs want a plain object schema; the dialect line adds nothing.
    if let Some(o) = s.as_object_mut() {
        o.remove("$schema");
    }
    s
}

/// Validate a JSON value against the Intent schema and turn it into an Intent.
/// Errors say which part is wrong, for the user and for tests.
pub fn parse(value: &Value) -> Result<Intent, String> {
    let validator = jsonschema::validator_for(&schema())
        .map_err(|e| format!("the Intent schema does not compile: {e}"))?;
    let problems: Vec<String> = validator
        .iter_errors(value)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if !problems.is_empty() {
        return Err(format!(
            "the interpreter's answer does not match the Intent schema: {}",
            problems.join("; ")
        ));
    }
    let intent: Intent = serde_json::from_value(value.clone())
        .map_err(|e| format!("the interpreter's answer is not a valid Intent: {e}"))?;
    for op in &intent.operations {
        if let Operation::Adjust { by, factor, .. } = op {
            if by.is_some() == factor.is_some() {
                return Err("an adjust operation needs exactly one of `by` and `factor`".into());
            }
        }
    }
    Ok(intent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_operation_parses() {
        let v = json!({"summary": "x", "keep": ["dns_record.api"], "operations": [
            {"op": "use_capability", "capability": "web-service", "params": {"name": "api"}, "without": ["monitor"]},
            {"op": "set", "address": "container.api", "attribute": "cores", "value": 2},
            {"op": "set", "address": "proxy_site.api", "attribute": "allow", "value": ["10.0.0.0/8"]},
            {"op": "set", "address": "proxy_site.api", "attribute": "allow", "value": null},
            {"op": "adjust", "address": "container.api", "attribute": "memory", "factor": 2.0},
            {"op": "adjust", "address": "container.api", "attribute": "disk", "by": 20},
            {"op": "remove", "target": "group:api"},
            {"op": "rename", "address": "dns_record.printer", "to": "laser"},
            {"op": "clone", "group": "api", "to": "api-staging"}
        ]});
        let i = parse(&v).unwrap();
        assert_eq!(i.operations.len(), 9);
        assert_eq!(i.keep, ["dns_record.api"]);
        assert_eq!(
            i.operations[4].describe(),
            "adjust container.api.memory × 2"
        );
    }

    #[test]
    fn extra_fields_and_wrong_ops_are_refused() {
        let bad = [
            json!({"summary": "x", "operations": [{"op": "shell", "command": "rm -rf /"}]}),
            json!({"summary": "x", "operations": [], "run": "curl"}),
            json!({"operations": []}),
            json!({"summary": "x", "operations": [{"op": "set", "address": "a.b", "attribute": "c", "value": {"x": 1}}]}),
            json!({"summary": "x", "operations": [{"op": "remove", "target": "a.b", "also": "group:c"}]}),
            json!({"summary": "x", "operations": [{"op": "adjust", "address": "a.b", "attribute": "c"}]}),
            json!({"summary": "x", "operations": [{"op": "adjust", "address": "a.b", "attribute": "c", "by": 1, "factor": 2}]}),
        ];
        for v in bad {
            assert!(parse(&v).is_err(), "accepted {v}");
        }
    }

    #[test]
    fn schema_is_generated_from_the_types() {
        let s = schema().to_string();
        for op in [
            "use_capability",
            "set",
            "adjust",
            "remove",
            "rename",
            "clone",
        ] {
            assert!(s.contains(&format!("\"{op}\"")), "{op} missing from {s}");
        }
    }
}
