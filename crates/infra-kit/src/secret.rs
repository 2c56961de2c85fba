//! Secrets resolved from `env:NAME` / `file:PATH` references.
//! A `Secret` prints as `****` and cannot be serialised, so it cannot leak into
//! state, plans or logs by accident.

use std::fmt;

#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Resolve a reference. Errors name the reference, never a value.
    pub fn resolve(reference: &str) -> Result<Secret, String> {
        if let Some(name) = reference.strip_prefix("env:") {
            return std::env::var(name)
                .map(Secret)
                .map_err(|_| format!("environment variable {name} is not set"));
        }
        if let Some(path) = reference.strip_prefix("file:") {
            return std::fs::read_to_string(path)
                .map(|s| Secret(s.trim_end().to_string()))
                .map_err(|e| format!("cannot read secret file {path}: {e}"));
        }
        Err("a secret must be a reference like env:NAME or file:PATH".into())
    }

    /// Wrap a value obtained elsewhere (e.g. from an injected environment).
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the value replaced by `****`, for error
    /// messages that quote what a server or a library said.
    pub fn mask(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "****")
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}
