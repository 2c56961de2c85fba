//! A small JSON Schema validator for the subset the Intent schema uses: type,
//! const, enum, required, properties, additionalProperties, items, maxItems,
//! maxLength, oneOf. Messages name the JSON path of the problem.

use serde_json::Value;

pub fn validate(schema: &Value, value: &Value) -> Result<(), String> {
    check(schema, value, "$")
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.as_i64().is_some() || v.as_u64().is_some(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => false,
    }
}

fn check(schema: &Value, v: &Value, path: &str) -> Result<(), String> {
    if let Some(c) = schema.get("const") {
        if c != v {
            return Err(format!("{path} must be {c}"));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(v) {
            return Err(format!(
                "{path} must be one of {}",
                Value::Array(options.clone())
            ));
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_ok(t, v) => {
            return Err(format!("{path} must be of type {t}"))
        }
        Some(Value::Array(ts)) if !ts.iter().filter_map(Value::as_str).any(|t| type_ok(t, v)) => {
            return Err(format!(
                "{path} must be one of the types {}",
                Value::Array(ts.clone())
            ))
        }
        _ => {}
    }
    if let (Some(max), Some(s)) = (schema.get("maxLength").and_then(Value::as_u64), v.as_str()) {
        if s.chars().count() as u64 > max {
            return Err(format!("{path} is longer than {max} characters"));
        }
    }
    if let Some(obj) = v.as_object() {
        // Properties first: a wrong `op` then reports itself, not a missing field of another shape.
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(s, val, &format!("{path}.{k}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{path}.{k} is not allowed"))
                }
                None => {}
            }
        }
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = r.as_str() {
                if !obj.contains_key(name) {
                    return Err(format!("{path}.{name} is required"));
                }
            }
        }
    }
    if let Some(items) = v.as_array() {
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if items.len() as u64 > max {
                return Err(format!("{path} has more than {max} items"));
            }
        }
        if let Some(s) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(s, item, &format!("{path}[{i}]"))?;
            }
        }
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching: Vec<Result<(), String>> = options.iter().map(|s| check(s, v, path)).collect();
        let ok = matching.iter().filter(|r| r.is_ok()).count();
        if ok != 1 {
            // Report the closest failure: the option whose `op` const matched, if any.
            let detail = matching
                .into_iter()
                .filter_map(Result::err)
                .find(|e| !e.contains(".op must be"))
                .unwrap_or_else(|| format!("{path} matches none of the allowed shapes"));
            return Err(if ok == 0 {
                detail
            } else {
                format!("{path} matches more than one shape")
            });
        }
    }
    Ok(())
}
