//! No secret value crosses the protocol: every text a tool returns, and every
//! error, has the values of the environment variables the spec names as
//! secrets (`env:NAME`) cut out, as does the tool-call log.

pub struct Redactor {
    values: Vec<String>,
}

/// Shorter values are not cut: "1" would cut every digit of a plan.
const MIN_SECRET: usize = 6;

impl Redactor {
    pub fn from_env(names: impl IntoIterator<Item = String>) -> Redactor {
        let mut values: Vec<String> = names
            .into_iter()
            .filter_map(|n| std::env::var(n).ok())
            .filter(|v| v.len() >= MIN_SECRET)
            .collect();
        // Longest first, so a secret containing another is cut whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
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

    pub fn value(&self, v: &serde_json::Value) -> serde_json::Value {
        let text = self.text(&v.to_string());
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }
}
