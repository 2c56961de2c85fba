//! `choose`: precedence, defaults, environment fallbacks and the errors a user
//! sees when a setting is missing or a key is written into infra.toml. The
//! environment is a closure, so these tests never touch the process's own.

use std::collections::HashMap;
use std::io::Write;

use serde_json::json;

use super::*;

fn ai(pairs: &[(&str, Value)]) -> Attrs {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn key_file(value: &str) -> (tempfile::NamedTempFile, String) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(f, "{value}").unwrap();
    let reference = format!("file:{}", f.path().display());
    (f, reference)
}

fn message(r: Result<BackendChoice, Error>) -> String {
    let e = r.expect_err("expected an error");
    format!("{} | {}", e.message, e.hint.unwrap_or_default())
}

#[test]
fn offline_is_the_default() {
    let c = choose(&Attrs::new(), None, &env_of(&[])).unwrap();
    assert!(matches!(c, BackendChoice::Offline));
    assert!(c.into_interpreter().unwrap().is_none());
}

#[test]
fn cli_beats_environment_beats_infra_toml() {
    let (_f, key) = key_file("sk-test");
    let table = ai(&[
        ("backend", json!("openai")),
        ("model", json!("llama3.2")),
        ("api_key", json!(key)),
    ]);
    let env = env_of(&[("INFRA_AI_BACKEND", "offline")]);
    assert_eq!(
        choose(&table, Some("openai"), &env).unwrap().name(),
        "openai"
    );
    assert_eq!(choose(&table, None, &env).unwrap().name(), "offline");
    assert_eq!(
        choose(&table, None, &env_of(&[("INFRA_AI_BACKEND", "")]))
            .unwrap()
            .name(),
        "openai"
    );
    assert_eq!(choose(&table, None, &env_of(&[])).unwrap().name(), "openai");
}

#[test]
fn unknown_backends_name_their_source_and_the_choices() {
    let m = message(choose(
        &Attrs::new(),
        None,
        &env_of(&[("INFRA_AI_BACKEND", "gemini")]),
    ));
    assert!(
        m.contains("\"gemini\" (from INFRA_AI_BACKEND)")
            && m.contains("offline, anthropic, openai"),
        "{m}"
    );
}

#[test]
fn anthropic_defaults_and_environment_fallbacks() {
    let (_f, key) = key_file("sk-ant-test");
    let c = choose(
        &ai(&[("api_key", json!(key))]),
        Some("anthropic"),
        &env_of(&[]),
    )
    .unwrap();
    let BackendChoice::Anthropic(c) = c else {
        panic!("not anthropic")
    };
    assert_eq!(
        (c.base_url.as_str(), c.model.as_str()),
        ("https://api.anthropic.com", "claude-sonnet-4-5")
    );
    assert_eq!((c.timeout, c.max_tokens), (Duration::from_secs(60), 1024));
    assert_eq!(c.api_key.expose(), "sk-ant-test");
    assert_eq!(
        format!("{c:?}").matches("sk-ant-test").count(),
        0,
        "Debug must not print the key"
    );

    let env = env_of(&[
        ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9"),
        ("INFRA_AI_MODEL", "claude-x"),
    ]);
    let table = ai(&[
        ("api_key", json!(key)),
        ("timeout_secs", json!(5)),
        ("max_tokens", json!(300)),
    ]);
    let BackendChoice::Anthropic(c) = choose(&table, Some("anthropic"), &env).unwrap() else {
        panic!()
    };
    assert_eq!(
        (c.base_url.as_str(), c.model.as_str()),
        ("http://127.0.0.1:9", "claude-x")
    );
    assert_eq!((c.timeout, c.max_tokens), (Duration::from_secs(5), 300));
}

#[test]
fn a_missing_anthropic_key_names_the_variable() {
    let m = message(choose(&Attrs::new(), Some("anthropic"), &env_of(&[])));
    assert!(m.contains("ANTHROPIC_API_KEY is not set"), "{m}");
    let m = message(choose(
        &ai(&[("api_key", json!("env:MY_CLAUDE_KEY"))]),
        Some("anthropic"),
        &env_of(&[]),
    ));
    assert!(
        m.contains("environment variable MY_CLAUDE_KEY is not set"),
        "{m}"
    );
}

#[test]
fn a_literal_key_in_infra_toml_is_refused_without_repeating_it() {
    let table = ai(&[
        ("backend", json!("anthropic")),
        ("api_key", json!("sk-ant-LITERAL")),
    ]);
    let m = message(choose(&table, None, &env_of(&[("ANTHROPIC_API_KEY", "x")])));
    assert!(
        m.contains("must be a reference like \"env:NAME\" or \"file:PATH\""),
        "{m}"
    );
    assert!(!m.contains("LITERAL"), "{m}");
    let m = message(choose(
        &table,
        Some("openai"),
        &env_of(&[("OPENAI_MODEL", "m")]),
    ));
    assert!(
        m.contains("must be a reference") && !m.contains("LITERAL"),
        "{m}"
    );
    let m = message(choose(
        &ai(&[("api_key", json!(42))]),
        Some("openai"),
        &env_of(&[]),
    ));
    assert!(
        m.contains("[ai] api_key must be a string") && !m.contains("42"),
        "{m}"
    );
}

#[test]
fn openai_needs_a_model_but_not_a_key() {
    let m = message(choose(&Attrs::new(), Some("openai"), &env_of(&[])));
    assert!(
        m.contains("needs a model name") && m.contains("[ai] model") && m.contains("OPENAI_MODEL"),
        "{m}"
    );

    let env = env_of(&[
        ("OPENAI_MODEL", "qwen2.5:1.5b"),
        ("OPENAI_BASE_URL", "http://localhost:11434/v1"),
    ]);
    let BackendChoice::OpenAi(c) = choose(&Attrs::new(), Some("openai"), &env).unwrap() else {
        panic!()
    };
    assert_eq!(
        (c.model.as_str(), c.base_url.as_str()),
        ("qwen2.5:1.5b", "http://localhost:11434/v1")
    );
    assert!(c.api_key.is_none() && !c.json_mode);

    let env = env_of(&[("INFRA_AI_MODEL", "a"), ("OPENAI_MODEL", "b")]);
    let BackendChoice::OpenAi(c) =
        choose(&ai(&[("mode", json!("json_schema"))]), Some("openai"), &env).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (c.model.as_str(), c.base_url.as_str(), c.json_mode),
        ("a", "https://api.openai.com/v1", true)
    );

    let m = message(choose(
        &ai(&[("model", json!("m")), ("mode", json!("grammar"))]),
        Some("openai"),
        &env_of(&[]),
    ));
    assert!(m.contains("[ai] mode \"grammar\""), "{m}");
}

#[test]
fn ai_settings_for_another_backend_are_not_applied() {
    let table = ai(&[
        ("backend", json!("anthropic")),
        ("model", json!("claude-x")),
        ("base_url", json!("https://proxy.example")),
    ]);
    let env = env_of(&[("OPENAI_MODEL", "llama3.2")]);
    let BackendChoice::OpenAi(c) = choose(&table, Some("openai"), &env).unwrap() else {
        panic!()
    };
    assert_eq!(
        (c.model.as_str(), c.base_url.as_str()),
        ("llama3.2", "https://api.openai.com/v1")
    );
}

#[test]
fn numbers_must_be_positive_whole_numbers() {
    let env = env_of(&[("OPENAI_MODEL", "m")]);
    for bad in [json!(0), json!(-1), json!("60"), json!(1.5)] {
        let m = message(choose(
            &ai(&[("timeout_secs", bad.clone())]),
            Some("openai"),
            &env,
        ));
        assert!(
            m.contains("[ai] timeout_secs must be a positive whole number"),
            "{bad}: {m}"
        );
    }
}
