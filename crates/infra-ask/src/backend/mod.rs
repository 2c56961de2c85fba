//! Model backends: Claude (Messages API, tool use) and OpenAI-compatible chat
//! completions (OpenAI, Ollama, llama.cpp server, vLLM), and `choose`, which
//! picks one from `--backend`, the environment and `[ai]` in infra.toml.
//! Backends only ever return an Intent; they never run anything. Keys are
//! read from references (`env:NAME`, `file:PATH`), held as `Secret`s, and
//! never appear in messages. This module depends on `ask`'s interpreter
//! interface, `providers::Secret` and `error`, not on the CLI.

pub mod anthropic;
pub mod http;
pub mod openai;
pub mod prompt;

use std::time::Duration;

use serde_json::Value;

pub use anthropic::{AnthropicConfig, AnthropicInterpreter};
pub use openai::{OpenAiConfig, OpenAiInterpreter};

use crate::Interpreter;
use infra_core::error::Error;
use infra_core::spec::Attrs;
use infra_kit::Secret;

pub const DEFAULT_TIMEOUT_SECS: u64 = 60;
pub const DEFAULT_MAX_TOKENS: u32 = 1024;
pub const BACKENDS: &[&str] = &["offline", "anthropic", "openai"];

#[derive(Debug, Clone)]
pub enum BackendChoice {
    Offline,
    Anthropic(AnthropicConfig),
    OpenAi(OpenAiConfig),
}

impl BackendChoice {
    pub fn name(&self) -> &'static str {
        match self {
            BackendChoice::Offline => "offline",
            BackendChoice::Anthropic(_) => "anthropic",
            BackendChoice::OpenAi(_) => "openai",
        }
    }

    /// The model interpreter, or None for `offline` (the caller supplies the
    /// offline rules, which live outside this module).
    pub fn into_interpreter(self) -> Result<Option<Box<dyn Interpreter>>, Error> {
        Ok(match self {
            BackendChoice::Offline => None,
            BackendChoice::Anthropic(c) => Some(Box::new(AnthropicInterpreter::new(c)?)),
            BackendChoice::OpenAi(c) => Some(Box::new(OpenAiInterpreter::new(c)?)),
        })
    }
}

/// The process environment, for `choose` outside tests.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Pick the backend: `--backend` > `INFRA_AI_BACKEND` > `[ai] backend` >
/// offline. Settings come from `[ai]` first, then the backend's environment
/// variables, then defaults. `[ai]` model, base_url, api_key and mode are
/// skipped when `[ai] backend` names a different backend than the one chosen
/// (e.g. `--backend openai` with an `[ai]` written for Claude), so a model
/// name, URL or key meant for one API is never sent to the other;
/// timeout_secs and max_tokens apply to every backend.
pub fn choose(
    ai: &Attrs,
    cli_backend: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<BackendChoice, Error> {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let configured = string(ai, "backend")?;
    let (backend, from) = if let Some(b) = cli_backend {
        (b.to_string(), "--backend")
    } else if let Some(b) = env("INFRA_AI_BACKEND") {
        (b, "INFRA_AI_BACKEND")
    } else if let Some(b) = configured.clone() {
        (b, "[ai] backend")
    } else {
        ("offline".to_string(), "the default")
    };
    let backend = backend.trim().to_ascii_lowercase();
    if !BACKENDS.contains(&backend.as_str()) {
        return Err(
            infra_core::err!("unknown AI backend {backend:?} (from {from})")
                .hint(format!("use one of: {}", BACKENDS.join(", "))),
        );
    }
    let applies = configured
        .as_deref()
        .is_none_or(|c| c.trim().eq_ignore_ascii_case(&backend));
    let s = Settings { ai, applies };
    let timeout = Duration::from_secs(s.number("timeout_secs")?.unwrap_or(DEFAULT_TIMEOUT_SECS));
    let max_tokens = s.number("max_tokens")?.unwrap_or(DEFAULT_MAX_TOKENS as u64);
    let max_tokens = u32::try_from(max_tokens)
        .map_err(|_| infra_core::err!("[ai] max_tokens is too large: {max_tokens}"))?;

    match backend.as_str() {
        "anthropic" => {
            let api_key = match s.key()? {
                Some(reference) => resolve(&reference, "[ai] api_key", &env)?,
                None if env("ANTHROPIC_API_KEY").is_some() => resolve("env:ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY", &env)?,
                None => {
                    return Err(infra_core::err!("the anthropic backend needs an API key, and ANTHROPIC_API_KEY is not set").hint(
                        "export ANTHROPIC_API_KEY=…, or set [ai] api_key = \"env:NAME\" or \"file:PATH\" in infra.toml; or use --backend offline",
                    ))
                }
            };
            Ok(BackendChoice::Anthropic(AnthropicConfig {
                base_url: s
                    .string("base_url")?
                    .or_else(|| env("ANTHROPIC_BASE_URL"))
                    .unwrap_or_else(|| anthropic::DEFAULT_BASE_URL.into()),
                model: s
                    .string("model")?
                    .or_else(|| env("INFRA_AI_MODEL"))
                    .unwrap_or_else(|| anthropic::DEFAULT_MODEL.into()),
                api_key,
                timeout,
                max_tokens,
            }))
        }
        "openai" => {
            let api_key = match s.key()? {
                Some(reference) => Some(resolve(&reference, "[ai] api_key", &env)?),
                // Local servers (Ollama, llama.cpp) need no key at all.
                None if env("OPENAI_API_KEY").is_some() => {
                    Some(resolve("env:OPENAI_API_KEY", "OPENAI_API_KEY", &env)?)
                }
                None => None,
            };
            let model = s
                .string("model")?
                .or_else(|| env("INFRA_AI_MODEL"))
                .or_else(|| env("OPENAI_MODEL"));
            let Some(model) = model else {
                return Err(infra_core::err!("the openai backend needs a model name, and none is set").hint(
                    "set [ai] model = \"…\" in infra.toml, or INFRA_AI_MODEL or OPENAI_MODEL (e.g. gpt-4o-mini, or llama3.2 for Ollama)",
                ));
            };
            let json_mode = match s.string("mode")?.as_deref() {
                None | Some("tools") => false,
                Some("json_schema") => true,
                Some(other) => {
                    return Err(infra_core::err!("[ai] mode {other:?} is not known")
                        .hint("use mode = \"tools\" (default) or \"json_schema\""))
                }
            };
            Ok(BackendChoice::OpenAi(OpenAiConfig {
                base_url: s
                    .string("base_url")?
                    .or_else(|| env("OPENAI_BASE_URL"))
                    .unwrap_or_else(|| openai::DEFAULT_BASE_URL.into()),
                model,
                api_key,
                timeout,
                max_tokens,
                json_mode,
            }))
        }
        _ => Ok(BackendChoice::Offline),
    }
}

/// `[ai]` settings; the backend-specific ones are seen only when they were
/// written for the chosen backend.
struct Settings<'a> {
    ai: &'a Attrs,
    applies: bool,
}

impl Settings<'_> {
    fn string(&self, key: &str) -> Result<Option<String>, Error> {
        if self.applies {
            string(self.ai, key)
        } else {
            Ok(None)
        }
    }

    fn number(&self, key: &str) -> Result<Option<u64>, Error> {
        match self.ai.get(key) {
            None => Ok(None),
            Some(v) => match v.as_u64().filter(|n| *n > 0) {
                Some(n) => Ok(Some(n)),
                None => Err(infra_core::err!(
                    "[ai] {key} must be a positive whole number, not {v}"
                )),
            },
        }
    }

    /// `[ai] api_key`, which must be a reference: infra.toml is committed, so
    /// a key written into it would end up in the repository's history.
    /// A literal key is refused even when `[ai]` is for another backend.
    fn key(&self) -> Result<Option<String>, Error> {
        let Some(k) = string(self.ai, "api_key")? else {
            return Ok(None);
        };
        if k.starts_with("env:") || k.starts_with("file:") {
            return Ok(Some(k).filter(|_| self.applies));
        }
        Err(infra_core::err!("[ai] api_key must be a reference like \"env:NAME\" or \"file:PATH\", not the key itself").hint(
            "infra.toml is committed to git: remove the key from it (and rotate the key), then set api_key = \"env:ANTHROPIC_API_KEY\" or similar",
        ))
    }
}

fn string(ai: &Attrs, key: &str) -> Result<Option<String>, Error> {
    match ai.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        // The value is not repeated: it might be a key typed in the wrong place.
        Some(_) => Err(infra_core::err!("[ai] {key} must be a string")),
    }
}

/// Resolve a key reference. `env:NAME` is checked against `env` first so a
/// missing variable is reported the same way in tests and in real runs.
fn resolve(
    reference: &str,
    source: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, Error> {
    if let Some(name) = reference.strip_prefix("env:") {
        if env(name).is_none() {
            return Err(infra_core::err!(
                "the API key from {source} is missing: environment variable {name} is not set"
            ));
        }
    }
    let secret = Secret::resolve(reference)
        .map_err(|e| infra_core::err!("cannot read the API key from {source}: {e}"))?;
    if secret.expose().is_empty() {
        return Err(infra_core::err!("the API key from {source} is empty"));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests;
