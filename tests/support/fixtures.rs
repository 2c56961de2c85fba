#![allow(dead_code)]
//! What the backend tests share: a key kept in a file (as `[ai] api_key =
//! "file:…"` would have it), one request, realistic API answers, and the
//! assertions that errors are clear and the key never leaves its header.

use std::io::Write;

use infra::ask::{CapabilityDoc, Intent, Operation, ParamDoc, Request};
use infra::error::Error;
use infra::providers::Secret;
use serde_json::{json, Value};

use super::stub::Seen;

pub const KEY: &str = "sk-test-7f3a9c-DO-NOT-LEAK";
pub const TEXT: &str = "Create a new API scanner service on port 9000";

/// The key lives in a file, as `[ai] api_key = "file:…"` would have it; the
/// spec view names that same reference, so the body must carry the reference
/// but never the value behind it.
pub struct Key {
    _file: tempfile::NamedTempFile,
    pub reference: String,
    pub secret: Secret,
}

pub fn key() -> Key {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "{KEY}").unwrap();
    let reference = format!("file:{}", file.path().display());
    let secret = Secret::resolve(&reference).unwrap();
    Key {
        _file: file,
        reference,
        secret,
    }
}

pub fn request(k: &Key) -> Request {
    Request {
        text: TEXT.into(),
        capabilities: vec![CapabilityDoc {
            name: "web-service".into(),
            summary: "New web service: container, IP address, DNS record".into(),
            params: vec![
                ParamDoc {
                    name: "name".into(),
                    ty: "name".into(),
                    required: true,
                    default: None,
                    description: "short service name".into(),
                },
                ParamDoc {
                    name: "port".into(),
                    ty: "port".into(),
                    required: false,
                    default: Some(json!(8080)),
                    description: "listen port".into(),
                },
            ],
            examples: vec!["\"Create a new API scanner service\" → name = \"api-scanner\"".into()],
            body: "# Web service\nA container behind the reverse proxy.".into(),
        }],
        spec_view: format!(
            "provider.pdns api_key = \"{}\"\ncontainer.db (group db) cores = 2",
            k.reference
        ),
        kinds_view: "container: hostname* string, cores integer 1–512\n".into(),
    }
}

pub fn good_input() -> Value {
    json!({"summary": "Create the api-scanner web service", "operations": [
        {"op": "use_capability", "capability": "web-service", "params": {"name": "api-scanner", "port": 9000}}]})
}

pub fn assert_good(intent: &Intent) {
    assert_eq!(intent.summary, "Create the api-scanner web service");
    let Operation::UseCapability {
        capability, params, ..
    } = &intent.operations[0]
    else {
        panic!("{intent:?}")
    };
    assert_eq!(capability, "web-service");
    assert_eq!(params.get("port"), Some(&json!(9000)));
}

/// The message names the backend and every needle; nothing shows the key.
pub fn assert_clear(e: &Error, backend: &str, needles: &[&str]) {
    // Shown with --nocapture, to read the messages a user would get.
    eprintln!(
        "{}\n  hint: {}",
        e.message,
        e.hint.as_deref().unwrap_or("-")
    );
    assert!(
        e.message.starts_with(&format!("{backend}: ")),
        "{}",
        e.message
    );
    for n in needles {
        assert!(e.message.contains(n), "missing {n:?} in: {}", e.message);
    }
    assert!(!format!("{e:?}").contains(KEY), "the key leaked: {e:?}");
}

/// The key is in its auth header and nowhere else: not in the path, the body
/// or any other header.
pub fn assert_key_only_in(seen: &Seen, auth_header: &str) {
    assert!(
        !seen.path.contains(KEY) && !seen.body.contains(KEY),
        "key in path or body"
    );
    for (name, value) in &seen.headers {
        assert!(
            name == auth_header || !value.contains(KEY),
            "key in header {name}"
        );
    }
}

pub fn claude_answer(input: Value, stop_reason: &str) -> Value {
    json!({"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": "claude-test-model",
           "content": [{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "submit_intent", "input": input}],
           "stop_reason": stop_reason, "stop_sequence": null, "usage": {"input_tokens": 812, "output_tokens": 64}})
}

pub fn claude_error(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"})
}

pub fn chat(message: Value, finish_reason: &str) -> Value {
    json!({"id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1741570283, "model": "gpt-test-mini",
           "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason}],
           "usage": {"prompt_tokens": 700, "completion_tokens": 40, "total_tokens": 740}})
}

pub fn tool_call(arguments: &str) -> Value {
    json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [
        {"id": "call_abc123", "type": "function", "function": {"name": "submit_intent", "arguments": arguments}}]})
}
