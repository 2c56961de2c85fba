//! Claude through the Messages API (`POST {base}/v1/messages`) with one forced
//! tool, `submit_intent`, whose input schema is the Intent schema. The tool's
//! input is validated with `intent::parse` like any other interpreter's answer;
//! a refusal, a truncated answer or a missing tool call is an error, never a
//! guess. Only this file knows the Messages API's shape.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use super::http::{self, Http};
use super::prompt::{self, TOOL_DESCRIPTION, TOOL_NAME};
use crate::intent::{self, Intent};
use crate::{Interpreter, Request};
use infra_core::error::Error;
use infra_kit::Secret;

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-5";
/// The API version this file speaks; a new one is a deliberate change here.
pub const API_VERSION: &str = "2023-06-01";

#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    /// Without `/v1` (as in `ANTHROPIC_BASE_URL`).
    pub base_url: String,
    pub model: String,
    pub api_key: Secret,
    /// Connect and total time for one attempt.
    pub timeout: Duration,
    pub max_tokens: u32,
}

impl AnthropicConfig {
    /// The defaults: api.anthropic.com, claude-sonnet-4-5, 60 s, 1024 tokens.
    pub fn new(api_key: Secret) -> Self {
        AnthropicConfig {
            base_url: DEFAULT_BASE_URL.into(),
            model: DEFAULT_MODEL.into(),
            api_key,
            timeout: Duration::from_secs(super::DEFAULT_TIMEOUT_SECS),
            max_tokens: super::DEFAULT_MAX_TOKENS,
        }
    }
}

pub struct AnthropicInterpreter {
    config: AnthropicConfig,
    http: Http,
    url: String,
}

impl AnthropicInterpreter {
    pub fn new(config: AnthropicConfig) -> Result<Self, Error> {
        let http = Http::new(
            "anthropic",
            &config.base_url,
            config.timeout,
            Some(config.api_key.clone()),
        )?;
        let url = format!("{}/v1/messages", config.base_url.trim_end_matches('/'));
        Ok(AnthropicInterpreter { config, http, url })
    }

    /// The request body: no key, nothing but the prompt, the tool and limits.
    pub fn body(&self, req: &Request) -> Value {
        let p = prompt::build(req);
        json!({
            "model": self.config.model,
            "max_tokens": self.config.max_tokens,
            "system": p.system,
            "messages": [{"role": "user", "content": p.user}],
            "tools": [{"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "input_schema": intent::schema()}],
            "tool_choice": {"type": "tool", "name": TOOL_NAME},
        })
    }

    fn headers(&self) -> Result<HeaderMap, Error> {
        let pairs = [
            http::header("x-api-key", self.config.api_key.expose(), true),
            http::header("anthropic-version", API_VERSION, false),
            http::header("content-type", "application/json", false),
        ];
        let mut h = HeaderMap::new();
        for pair in pairs {
            let (name, value) = pair.map_err(|e| {
                self.http
                    .fail(e)
                    .hint("check the API key: [ai] api_key or ANTHROPIC_API_KEY")
            })?;
            h.insert(name, value);
        }
        Ok(h)
    }
}

#[async_trait]
impl Interpreter for AnthropicInterpreter {
    fn name(&self) -> String {
        format!("anthropic:{}", self.config.model)
    }

    async fn interpret(&self, req: &Request) -> Result<Intent, Error> {
        let answer = self
            .http
            .post_json(&self.url, self.headers()?, &self.body(req))
            .await?;
        read_answer(&answer, self.config.max_tokens).map_err(|e| self.http.fail(e))
    }
}

/// The Intent in a Messages API response, or why there is none.
pub fn read_answer(resp: &Value, max_tokens: u32) -> Result<Intent, String> {
    if resp.get("type").and_then(Value::as_str) == Some("error") {
        return Err(format!(
            "the API answered with an error: {}",
            http::api_message(&resp.to_string())
        ));
    }
    let content = resp
        .get("content")
        .and_then(Value::as_array)
        .ok_or("the API's response has no `content`")?;
    let text = || {
        let t: Vec<&str> = content
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect();
        http::excerpt(&t.join(" "), 300)
    };
    match resp.get("stop_reason").and_then(Value::as_str) {
        Some("refusal") => {
            let why = text();
            return Err(format!("the model refused: {}", if why.is_empty() { "no reason given".into() } else { why }));
        }
        // A cut-off tool input is incomplete even when it happens to parse.
        Some("max_tokens") => {
            return Err(format!(
                "the answer was cut off at max_tokens ({max_tokens}) before it was complete; raise [ai] max_tokens"
            ))
        }
        _ => {}
    }
    let call = content
        .iter()
        .find(|b| {
            b.get("type").and_then(Value::as_str) == Some("tool_use")
                && b.get("name").and_then(Value::as_str) == Some(TOOL_NAME)
        })
        .ok_or_else(|| format!("the model answered without calling {TOOL_NAME}: {}", text()))?;
    let input = call.get("input").ok_or("the tool call has no `input`")?;
    // Some Messages-compatible proxies pass the input through as a string.
    let input = match input {
        Value::String(s) => serde_json::from_str(s)
            .map_err(|e| format!("the model's answer is not valid JSON: {e}"))?,
        v => v.clone(),
    };
    intent::parse(&input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(input: Value, stop: &str) -> Value {
        json!({"type": "message", "role": "assistant", "stop_reason": stop,
               "content": [{"type": "text", "text": "Here it is."},
                           {"type": "tool_use", "id": "toolu_1", "name": "submit_intent", "input": input}]})
    }

    #[test]
    fn a_tool_call_becomes_an_intent() {
        let i = read_answer(
            &tool(json!({"summary": "s", "operations": []}), "tool_use"),
            1024,
        )
        .unwrap();
        assert_eq!(i.summary, "s");
    }

    #[test]
    fn refusals_truncation_and_prose_are_errors() {
        let r = json!({"content": [{"type": "text", "text": "I can't help."}], "stop_reason": "refusal"});
        assert_eq!(
            read_answer(&r, 10).unwrap_err(),
            "the model refused: I can't help."
        );
        let e = read_answer(
            &tool(json!({"summary": "s", "operations": []}), "max_tokens"),
            10,
        )
        .unwrap_err();
        assert!(e.contains("max_tokens (10)"), "{e}");
        let prose =
            json!({"content": [{"type": "text", "text": "Sure!"}], "stop_reason": "end_turn"});
        assert!(read_answer(&prose, 10)
            .unwrap_err()
            .contains("without calling submit_intent: Sure!"));
        let bad = tool(Value::String("{\"summary\": ".into()), "tool_use");
        assert!(read_answer(&bad, 10)
            .unwrap_err()
            .starts_with("the model's answer is not valid JSON"));
    }
}
