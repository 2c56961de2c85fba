//! The `openai` backend against a real model, offline: llama-cpp-python's
//! OpenAI-compatible server with SmolLM2-135M-Instruct, started by
//! `tests/llm/serve.sh` (see `tests/run-all.sh`, which runs this group with
//! INFRA_TEST_LLM_URL and INFRA_TEST_LLM_LOG set). A model this small is often
//! wrong: the test proves the real request/response path, and that whatever it
//! answers is schema-checked and either lands as a valid, committed change or is
//! refused with nothing written.

mod common;
use common::TestEnv;

const AI: &str = r#"
[ai]
backend = "openai"
model = "smollm2"
mode = "json_schema"
timeout_secs = 120
max_tokens = 300
"#;

#[test]
#[ignore = "needs the local model server: run through tests/run-all.sh"]
fn real_model_answers_are_checked_and_land_or_are_refused() {
    let url = std::env::var("INFRA_TEST_LLM_URL")
        .expect("INFRA_TEST_LLM_URL: start tests/llm/serve.sh first (tests/run-all.sh does)");
    let log = std::env::var("INFRA_TEST_LLM_LOG").expect("INFRA_TEST_LLM_LOG");
    let env = TestEnv::lab(AI);

    let requests = [
        "Create a new API scanner service",
        "Deploy grafana on port 3000 with 2 cores",
        "add a dns record called www pointing to 10.20.0.5",
    ];
    let mut landed = 0;
    for request in requests {
        let before = env.snapshot();
        let head = env.head();
        let out = env
            .cmd(&["ask", request])
            .env("OPENAI_BASE_URL", format!("{url}/v1"))
            .output()
            .unwrap();
        let (code, stdout, stderr) = (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        eprintln!("--- {request:?} → exit {code:?}\n{stdout}{stderr}");
        match code {
            Some(0) => {
                landed += 1;
                assert_ne!(env.head(), head, "a successful ask commits");
                env.infra(&["validate"]).expect(0);
                let log = env.git(&["log", "-1", "--format=%B"]).stdout;
                assert!(log.contains("Infra-Backend: openai:smollm2"), "{log}");
            }
            Some(1) => {
                assert!(
                    stderr.contains("Error:"),
                    "a refusal explains itself: {stderr}"
                );
                assert_eq!(env.snapshot(), before, "a refused answer changed files");
                assert_eq!(env.head(), head, "a refused answer made a commit");
            }
            other => panic!("unexpected exit {other:?}: {stderr}"),
        }
    }
    // The requests really reached the model server.
    let server_log = std::fs::read_to_string(&log).unwrap();
    let calls = server_log.matches("POST /v1/chat/completions").count();
    assert!(
        calls >= requests.len(),
        "the model server saw {calls} completions:\n{server_log}"
    );
    eprintln!(
        "{landed} of {} answers landed as commits; the rest were refused with nothing written",
        requests.len()
    );
}
