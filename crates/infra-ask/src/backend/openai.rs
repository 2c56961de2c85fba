//! OpenAI-compatible chat completions (`POST {base}/chat/completions`): OpenAI
//! itself, Ollama, llama.cpp's server, vLLM. By default one forced function,
//! `submit_intent`, carries the Intent; servers without tool support answer in
//! `message.content`, which is accepted when it holds a JSON object. The
//! `json_schema` mode sends the schema as `response_format` instead, for
//! servers that constrain their output with it. Every answer goes through
//! `intent::parse`. Only this file knows the chat completions shape.

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

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Including the version path, e.g. `http://localhost:11434/v1`.
    pub base_url: String,
    pub model: String,
    /// None for local servers that need no key: no Authorization header is sent.
    pub api_key: Option<Secret>,
    /// Connect and total time for one attempt.
    pub timeout: Duration,
    pub max_tokens: u32,
    /// `[ai] mode = "json_schema"`: `response_format` with the schema, no tools.
    pub json_mode: bool,
}

impl OpenAiConfig {
    /// The defaults: api.openai.com/v1, no key, 60 s, 1024 tokens, tool mode.
    pub fn new(model: impl Into<String>) -> Self {
        OpenAiConfig {
            base_url: DEFAULT_BASE_URL.into(),
            model: model.into(),
            api_key: None,
            timeout: Duration::from_secs(super::DEFAULT_TIMEOUT_SECS),
            max_tokens: super::DEFAULT_MAX_TOKENS,
            json_mode: false,
        }
    }
}

pub struct OpenAiInterpreter {
    config: OpenAiConfig,
    http: Http,
    url: String,
}

impl OpenAiInterpreter {
    pub fn new(config: OpenAiConfig) -> Result<Self, Error> {
        let http = Http::new(
            "openai",
            &config.base_url,
            config.timeout,
            config.api_key.clone(),
        )?;
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Ok(OpenAiInterpreter { config, http, url })
    }

    /// The request body: no key, nothing but the prompt, the tool (or the
    /// response format) and limits.
    pub fn body(&self, req: &Request) -> Value {
        let p = prompt::build(req);
        let mut body = json!({
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": p.system},
                {"role": "user", "content": p.user},
            ],
            // The same request should give the same Intent as far as the server allows.
            "temperature": 0,
            "max_tokens": self.config.max_tokens,
        });
        if self.config.json_mode {
            body["response_format"] = json!({"type": "json_object", "schema": intent::schema()});
        } else {
            body["tools"] = json!([{"type": "function", "function": {
                "name": TOOL_NAME, "description": TOOL_DESCRIPTION, "parameters": intent::schema()}}]);
            body["tool_choice"] = json!({"type": "function", "function": {"name": TOOL_NAME}});
        }
        body
    }

    fn headers(&self) -> Result<HeaderMap, Error> {
        let mut h = HeaderMap::new();
        let (name, value) = http::header("content-type", "application/json", false)
            .map_err(|e| self.http.fail(e))?;
        h.insert(name, value);
        if let Some(key) = &self.config.api_key {
            let (name, value) =
                http::header("authorization", &format!("Bearer {}", key.expose()), true).map_err(
                    |e| {
                        self.http
                            .fail(e)
                            .hint("check the API key: [ai] api_key or OPENAI_API_KEY")
                    },
                )?;
            h.insert(name, value);
        }
        Ok(h)
    }
}

#[async_trait]
impl Interpreter for OpenAiInterpreter {
    fn name(&self) -> String {
        format!("openai:{}", self.config.model)
    }

    async fn interpret(&self, req: &Request) -> Result<Intent, Error> {
        let answer = self
            .http
            .post_json(&self.url, self.headers()?, &self.body(req))
            .await?;
        read_answer(&answer, self.config.max_tokens, self.config.json_mode)
            .map_err(|e| self.http.fail(e))
    }
}

/// The Intent in a chat completions response, or why there is none.
pub fn read_answer(resp: &Value, max_tokens: u32, json_mode: bool) -> Result<Intent, String> {
    let Some(choice) = resp.pointer("/choices/0") else {
        if resp.get("error").is_some() {
            return Err(format!(
                "the API answered with an error: {}",
                http::api_message(&resp.to_string())
            ));
        }
        return Err("the API's response has no `choices`".into());
    };
    let msg = choice
        .get("message")
        .ok_or("the API's response has no `message`")?;
    if let Some(why) = msg.get("refusal").filter(|r| !r.is_null()) {
        return Err(format!(
            "the model refused: {}",
            why.as_str()
                .map(|s| http::excerpt(s, 300))
                .unwrap_or_else(|| why.to_string())
        ));
    }
    match choice.get("finish_reason").and_then(Value::as_str) {
        // A cut-off answer is incomplete even when it happens to parse.
        Some("length") => {
            return Err(format!(
                "the answer was cut off at max_tokens ({max_tokens}) before it was complete; raise [ai] max_tokens"
            ))
        }
        Some("content_filter") => return Err("the model refused: the provider's content filter stopped the answer".into()),
        _ => {}
    }
    let arguments = msg
        .pointer("/tool_calls/0/function/arguments")
        .filter(|_| !json_mode);
    let value = match arguments {
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|e| format!("the model's answer is not valid JSON: {e}"))?,
        // Some servers (Ollama's native shape) send the arguments as an object.
        Some(v @ Value::Object(_)) => v.clone(),
        Some(other) => {
            return Err(format!(
                "the tool call's arguments are neither JSON text nor an object: {other}"
            ))
        }
        None => {
            let content = msg.get("content").and_then(Value::as_str).unwrap_or("");
            json_in_text(content)?
        }
    };
    intent::parse(&unwrap_call(value))
}

/// The JSON object in a text answer: without ``` fences or a reasoning
/// model's `<think>` block, and with any prose around the object dropped.
pub fn json_in_text(content: &str) -> Result<Value, String> {
    let mut text = content.trim();
    if let Some(end) = text.find("</think>") {
        text = text[end + "</think>".len()..].trim();
    }
    if let Some(rest) = text.strip_prefix("```") {
        let rest = rest.strip_prefix("json").unwrap_or(rest);
        text = rest.trim().strip_suffix("```").unwrap_or(rest).trim();
    }
    let (Some(start), Some(end)) = (text.find('{'), text.rfind('}')) else {
        let said = http::excerpt(content, 200);
        return Err(if said.is_empty() {
            format!("the model gave an empty answer instead of calling {TOOL_NAME}")
        } else {
            format!(
                "the model answered without calling {TOOL_NAME} and without a JSON object: {said}"
            )
        });
    };
    if end < start {
        return Err(format!(
            "the model's answer is not valid JSON: {}",
            http::excerpt(text, 200)
        ));
    }
    serde_json::from_str(&text[start..=end])
        .map_err(|e| format!("the model's answer is not valid JSON: {e}"))
}

/// Small models answering in text sometimes wrap the Intent in the call they
/// meant to make: `{"name": "submit_intent", "arguments": {...}}`.
fn unwrap_call(v: Value) -> Value {
    if v.get("summary").is_some() {
        return v;
    }
    let inner = v.get("arguments").or_else(|| v.get("parameters")).cloned();
    match inner {
        Some(Value::Object(o)) => Value::Object(o),
        Some(Value::String(s)) => serde_json::from_str(&s).unwrap_or(v),
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(message: Value, finish: &str) -> Value {
        json!({"object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": finish}]})
    }

    #[test]
    fn text_answers_are_read_through_fences_and_thinking() {
        assert_eq!(
            json_in_text("```json\n{\"a\": 1}\n```").unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            json_in_text("<think>hmm {x}</think>\nHere: {\"a\": 2} done").unwrap(),
            json!({"a": 2})
        );
        assert!(json_in_text("").unwrap_err().contains("empty answer"));
        assert!(json_in_text("I would create a service.")
            .unwrap_err()
            .contains("without a JSON object"));
        assert!(json_in_text("{\"a\": }")
            .unwrap_err()
            .starts_with("the model's answer is not valid JSON"));
    }

    #[test]
    fn tool_calls_content_and_wrapped_calls_become_intents() {
        let args = "{\"summary\": \"s\", \"operations\": []}";
        let call = json!({"role": "assistant", "content": null,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "submit_intent", "arguments": args}}]});
        assert_eq!(
            read_answer(&answer(call, "tool_calls"), 10, false)
                .unwrap()
                .summary,
            "s"
        );
        let wrapped = json!({"role": "assistant", "content": format!("{{\"name\": \"submit_intent\", \"arguments\": {args}}}")});
        assert_eq!(
            read_answer(&answer(wrapped, "stop"), 10, false)
                .unwrap()
                .summary,
            "s"
        );
    }

    #[test]
    fn refusals_and_truncation_are_errors() {
        let refused = json!({"role": "assistant", "content": null, "refusal": "I can't do that."});
        assert_eq!(
            read_answer(&answer(refused, "stop"), 10, false).unwrap_err(),
            "the model refused: I can't do that."
        );
        let cut =
            json!({"role": "assistant", "content": "{\"summary\": \"s\", \"operations\": []}"});
        assert!(read_answer(&answer(cut, "length"), 10, true)
            .unwrap_err()
            .contains("max_tokens (10)"));
        assert!(
            read_answer(&json!({"error": {"message": "boom"}}), 10, false)
                .unwrap_err()
                .contains("boom")
        );
    }
}
