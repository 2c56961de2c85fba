//! The Intent: what an interpreter (offline rules or a model) understood, as data.
//! It is validated against `schema()` before anything else happens, and it is
//! never executed directly: the expander turns it into a spec edit.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    /// One line saying what will change, for the commit message.
    pub summary: String,
    #[serde(default)]
    pub operations: Vec<Operation>,
    /// What the interpreter needs to know before it can act (empty when it can act).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// Render a capability's template with these parameters.
    UseCapability {
        capability: String,
        #[serde(default)]
        params: serde_json::Map<String, Value>,
    },
    /// Set one attribute of an existing resource.
    Set {
        address: String,
        attribute: String,
        value: Value,
    },
    /// Remove a resource (`kind.name`) or every resource of a group (`group:NAME`).
    Remove { target: String },
}

/// The Intent's JSON schema: given to models as the tool's input schema, and
/// used to validate whatever they return.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["summary", "operations"],
        "properties": {
            "summary": { "type": "string", "maxLength": 300, "description": "One line: what will change." },
            "operations": {
                "type": "array",
                "maxItems": 20,
                "items": {
                    "oneOf": [
                        {
                            "type": "object",
                            "additionalProperties": false,
                            "required": ["op", "capability", "params"],
                            "properties": {
                                "op": { "const": "use_capability" },
                                "capability": { "type": "string", "description": "Name of one of the offered capabilities." },
                                "params": { "type": "object", "description": "Parameters as the capability documents them." }
                            }
                        },
                        {
                            "type": "object",
                            "additionalProperties": false,
                            "required": ["op", "address", "attribute", "value"],
                            "properties": {
                                "op": { "const": "set" },
                                "address": { "type": "string", "description": "kind.name of an existing resource" },
                                "attribute": { "type": "string" },
                                "value": { "type": ["string", "integer", "boolean"] }
                            }
                        },
                        {
                            "type": "object",
                            "additionalProperties": false,
                            "required": ["op", "target"],
                            "properties": {
                                "op": { "const": "remove" },
                                "target": { "type": "string", "description": "kind.name, or group:NAME for a whole group. Only what the user named." }
                            }
                        }
                    ]
                }
            },
            "questions": { "type": "array", "items": { "type": "string" }, "description": "Ask instead of guessing when information is missing." }
        }
    })
}

/// Validate a JSON value against the Intent schema and turn it into an Intent.
/// Errors say which part is wrong, for the user and for tests.
pub fn parse(value: &Value) -> Result<Intent, String> {
    super::jsonschema::validate(&schema(), value)
        .map_err(|e| format!("the interpreter's answer does not match the Intent schema: {e}"))?;
    serde_json::from_value(value.clone())
        .map_err(|e| format!("the interpreter's answer is not a valid Intent: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_intent_parses() {
        let v = json!({"summary": "x", "operations": [
            {"op": "use_capability", "capability": "web-service", "params": {"name": "api"}},
            {"op": "set", "address": "container.api", "attribute": "cores", "value": 2},
            {"op": "remove", "target": "group:api"}
        ]});
        let i = parse(&v).unwrap();
        assert_eq!(i.operations.len(), 3);
    }

    #[test]
    fn extra_fields_and_wrong_ops_are_refused() {
        assert!(parse(
            &json!({"summary": "x", "operations": [{"op": "shell", "command": "rm -rf /"}]})
        )
        .is_err());
        assert!(parse(&json!({"summary": "x", "operations": [], "run": "curl"})).is_err());
        assert!(parse(&json!({"operations": []})).is_err());
        assert!(parse(&json!({"summary": "x", "operations": [{"op": "set", "address": "a.b", "attribute": "c", "value": {"x": 1}}]})).is_err());
    }
}
