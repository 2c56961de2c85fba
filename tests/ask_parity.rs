//! One operation language for every interpreter: the offline grammar's answer
//! to a request, given to `infra ask --backend openai` by a scripted loopback
//! model, produces byte for byte the same spec, for every operation type. And a
//! model's answer that removes what the request did not license is refused by
//! the same safety rules, with nothing written.

mod common;
mod support;

use common::{Run, TestEnv};
use serde_json::{json, Value};
use support::fixtures::{chat, tool_call};
use support::stub::{Reply, Stub};

/// A small homelab: a service group with all four parts, two records, a pool.
const PROJECT: &str = r#"
[container.gitea]
group = "gitea"
hostname = "gitea"
image = "debian:12"
cores = 2
memory = 1024
disk = 10
ip = "10.20.0.50/24"
gateway = "10.20.0.1"

[dns_record.gitea]
group = "gitea"
zone = "lab.example.com"
name = "git"
type = "A"
content = "${container.gitea.address}"
ttl = 300

[proxy_site.gitea]
group = "gitea"
server_name = "git.lab.example.com"
upstream = "http://${container.gitea.address}:3000"

[monitor.gitea]
group = "gitea"
url = "http://git.lab.example.com/"
interval = 30

[dns_record.nas]
zone = "lab.example.com"
name = "nas"
type = "A"
content = "10.20.0.5"
ttl = 3600

[dns_record.printer]
zone = "lab.example.com"
name = "printer"
type = "A"
content = "10.20.0.9"
ttl = 3600
"#;

fn project() -> TestEnv {
    TestEnv::lab(PROJECT)
}

async fn model_ask(env: &TestEnv, stub: &Stub, request: &str) -> Run {
    let mut cmd = env.cmd(&["ask", "--backend", "openai", request]);
    cmd.env("OPENAI_BASE_URL", format!("{}/v1", stub.url))
        .env("INFRA_AI_MODEL", "test-model");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn spec_files(env: &TestEnv) -> Vec<(String, Vec<u8>)> {
    env.snapshot()
        .into_iter()
        .filter(|(p, _)| p == "infra.toml" || p.starts_with("infra/"))
        .collect()
}

/// The offline answer to `request`, as the JSON intent `--format json` reports.
fn offline_intent(request: &str) -> Value {
    let env = project();
    let run = env
        .infra(&["ask", "--dry-run", "--format", "json", request])
        .expect(0);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    out["intent"].clone()
}

async fn same_spec_both_ways(request: &str, op: &str) {
    let intent = offline_intent(request);
    let ops: Vec<&str> = intent["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["op"].as_str().unwrap())
        .collect();
    assert!(ops.contains(&op), "{request:?} gave {ops:?}, wanted a {op}");

    let offline = project();
    offline.infra(&["ask", request]).expect(0);

    let modelled = project();
    let stub = Stub::start(vec![Reply::ok(chat(
        tool_call(&intent.to_string()),
        "tool_calls",
    ))])
    .await;
    let run = model_ask(&modelled, &stub, request).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(stub.requests().len(), 1);
    let sent = stub.requests()[0].json();
    assert!(
        sent.to_string().contains("\"adjust\""),
        "the model is offered the whole operation schema"
    );
    assert_eq!(
        spec_files(&offline),
        spec_files(&modelled),
        "{request:?}: the model's answer made another spec than the offline one"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_from_a_capability() {
    same_spec_both_ways(
        "deploy grafana on port 3000 with 2 cores, no monitoring",
        "use_capability",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn set_an_attribute() {
    same_spec_both_ways("check gitea every 5 minutes", "set").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn adjust_relative_to_the_current_value() {
    same_spec_both_ways("give gitea 2 more cores and double its memory", "adjust").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_a_part_and_keep_the_rest() {
    same_spec_both_ways("retire gitea but keep its DNS record", "remove").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rename_a_record() {
    same_spec_both_ways("rename the printer record to laser", "rename").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clone_a_service() {
    same_spec_both_ways("make a staging copy of gitea called gitea-staging", "clone").await;
}

async fn refused(intent: Value, request: &str, expect: &str) {
    let env = project();
    let stub = Stub::start(vec![Reply::ok(chat(
        tool_call(&intent.to_string()),
        "tool_calls",
    ))])
    .await;
    let before = env.snapshot();
    let head = env.head();
    let run = model_ask(&env, &stub, request).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(expect),
        "expected {expect:?} in:\n{}",
        run.stderr
    );
    assert_eq!(env.snapshot(), before, "a refused answer changed files");
    assert_eq!(env.head(), head, "a refused answer made a commit");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_may_not_remove_what_the_request_does_not_license() {
    // No removal verb at all.
    refused(
        json!({"summary": "x", "operations": [{"op": "remove", "target": "group:gitea"}]}),
        "give gitea 2 more cores",
        "refusing to remove `group:gitea`: the request does not ask to remove anything",
    )
    .await;
    // A removal verb, but over something else.
    refused(
        json!({"summary": "x", "operations": [{"op": "remove", "target": "dns_record.nas"}]}),
        "remove the printer record",
        "refusing to remove `dns_record.nas`: the request does not name it",
    )
    .await;
    // "but keep its DNS" vetoes the record, whatever the model says.
    refused(
        json!({"summary": "x", "operations": [{"op": "remove", "target": "dns_record.gitea"}, {"op": "remove", "target": "container.gitea"}]}),
        "retire gitea but keep its DNS record",
        "the request says to keep it",
    )
    .await;
    // A rename is a removal of the old address: it must be asked for.
    refused(
        json!({"summary": "x", "operations": [{"op": "rename", "address": "dns_record.nas", "to": "storage"}]}),
        "lower the ttl of the nas record to 60",
        "refusing to rename `dns_record.nas`",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disk_never_shrinks_whoever_asks() {
    refused(
        json!({"summary": "x", "operations": [{"op": "set", "address": "container.gitea", "attribute": "disk", "value": 5}]}),
        "set gitea's disk to 5 GB",
        "disks only grow",
    )
    .await;
    refused(
        json!({"summary": "x", "operations": [{"op": "adjust", "address": "container.gitea", "attribute": "disk", "by": -5}]}),
        "take 5 GB of disk from gitea",
        "disks only grow",
    )
    .await;
}
