//! No secret value crosses the protocol: every text a tool returns, and every
//! error, has the secrets the spec refers to cut out: the values of its
//! `env:NAME` variables and the contents of its `file:PATH` references, also
//! in the escaped form JSON gives them (a key with a newline or a quote).

use std::path::Path;

use serde_json::Value;

pub struct Redactor {
    values: Vec<String>,
}

/// Shorter values are not cut: "1" would cut every digit of a plan.
const MIN_SECRET: usize = 6;
/// A `file:` secret bigger than this is not a key; it is not read.
const MAX_SECRET_FILE: u64 = 64 * 1024;

impl Redactor {
    /// The secrets of the spec at `root` as it is now (read afresh for each
    /// call, so a spec edited while the server runs is covered too).
    pub fn for_spec(root: &Path) -> Redactor {
        let Ok((spec, _)) = crate::spec::load::load(root) else {
            return Redactor { values: Vec::new() };
        };
        let mut raw: Vec<String> = spec
            .env_refs()
            .into_iter()
            .filter_map(|n| std::env::var(n).ok())
            .collect();
        for path in spec.file_refs() {
            let full = root.join(&path);
            let small =
                std::fs::metadata(&full).is_ok_and(|m| m.is_file() && m.len() <= MAX_SECRET_FILE);
            if let Some(text) = small.then(|| std::fs::read_to_string(&full).ok()).flatten() {
                raw.push(text.trim().to_string());
            }
        }
        Redactor::of(raw)
    }

    /// A redactor for these secret values.
    fn of(raw: Vec<String>) -> Redactor {
        let mut values = Vec::new();
        for v in raw.into_iter().filter(|v| v.len() >= MIN_SECRET) {
            // As it appears inside a JSON string, too.
            let escaped = serde_json::to_string(&v).unwrap_or_default();
            let escaped = escaped.trim_matches('"').to_string();
            if escaped != v {
                values.push(escaped);
            }
            values.push(v);
        }
        // Longest first, so a secret containing another is cut whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Redactor { values }
    }

    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "[REDACTED]");
            }
        }
        out
    }

    /// Every string in `v` (keys included), redacted.
    pub fn value(&self, v: &Value) -> Value {
        map_strings(v, &|s| self.text(s))
    }
}

/// `v` with `f` applied to every string in it, keys included.
pub fn map_strings(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| map_strings(x, f)).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (f(k), map_strings(x, f))).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_cut_raw_escaped_and_inside_any_json_string() {
        let r = Redactor::of(vec!["pa\"ss\nword-1".into(), "short".into()]);
        let v = json!({"error": "login with pa\"ss\nword-1 failed", "list": ["x pa\"ss\nword-1"], "short": "short"});
        let out = r.value(&v);
        assert_eq!(out["error"], "login with [REDACTED] failed");
        assert_eq!(out["list"][0], "x [REDACTED]");
        assert_eq!(out["short"], "short", "too short to be cut");
        // In serialised JSON the secret is escaped; that form is cut too.
        let text = r.text(&v.to_string());
        assert!(!text.contains("pa\\\"ss\\nword-1"), "{text}");
        assert!(text.contains("[REDACTED]"), "{text}");
    }
}
