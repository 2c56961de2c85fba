//! `infra mcp` driven by real MCP clients: the official Python SDK (PyPI `mcp`)
//! over stdio for every tool, resource and refusal, and a long random run of
//! hostile calls that must never move the branch, the state or anything live,
//! nor return a secret.

mod common;
mod labkit;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{infra_bin, Rng, TestEnv};
use labkit::pdns::{Pdns, KEY};
use serde_json::{json, Value};

const SECRET: &str = "pdns-Secret-Value-4711";

/// Run `steps` through tests/mcp/client.py against `infra -C env mcp`; one
/// result per step (the first element is the session's handshake).
fn mcp(env: &TestEnv, steps: &Value) -> Vec<Value> {
    mcp_with(env, steps, false, &[]).1
}

/// As `mcp`; with `modern`, the client uses the current protocol revision's
/// discovery. Also returns the negotiated protocol version.
fn mcp_with(
    env: &TestEnv,
    steps: &Value,
    modern: bool,
    secrets: &[(&str, &str)],
) -> (String, Vec<Value>) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/client.py");
    let mut cmd = env.sealed(std::path::Path::new("python3"));
    let mut child = cmd
        .arg(script)
        .arg(infra_bin())
        .arg(env.path())
        .env("PDNS_API_KEY", SECRET)
        .env("MCP_MODERN", if modern { "1" } else { "0" })
        .envs(secrets.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with the mcp package (tests/run-all.sh installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(steps.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "client failed:\n{stdout}\n{stderr}");
    for secret in secrets.iter().map(|(_, v)| *v).chain([SECRET]) {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "a secret crossed the protocol"
        );
    }
    let results: Vec<Value> =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(results.len(), steps.as_array().unwrap().len() + 1);
    assert_eq!(results[0]["server"], "infra");
    let protocol = results[0]["protocol"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (protocol, results[1..].to_vec())
}

/// The names a `list_tools` step returned.
fn tool_names(listed: &Value) -> Vec<&str> {
    listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

fn lab() -> TestEnv {
    let env = TestEnv::lab("");
    env.write(
        ".gitignore",
        ".infra/lock\n.infra/journal.jsonl\n.infra/mcp.log\n",
    );
    env.commit_all("ignore the mcp log");
    env
}

#[test]
fn every_tool_and_resource_through_the_python_sdk() {
    let env = lab();
    let head = env.head();
    let r = mcp(
        &env,
        &json!([
            {"list_tools": true},
            {"tool": "capabilities"},
            {"tool": "capabilities", "args": {"name": "web-service"}},
            {"tool": "validate"},
            {"tool": "plan", "args": {"refresh": false}},
            {"tool": "propose", "args": {"request": "Create a new API scanner service"}},
            {"tool": "show"},
            {"tool": "history", "args": {"limit": 5}},
            {"list_resources": true},
            {"read": "infra://spec/infra.toml"},
            {"read": "infra://plan/last"},
            {"read": "infra://schema"},
        ]),
    );
    let tools = tool_names(&r[0]);
    assert_eq!(
        tools,
        [
            "capabilities",
            "validate",
            "plan",
            "propose",
            "show",
            "history",
            "diff"
        ]
    );
    for t in r[0]["tools"].as_array().unwrap() {
        assert_eq!(t["input"]["type"], "object", "{t}");
        assert_eq!(t["output"]["type"], "object", "{t}");
    }
    let caps = r[1]["structured"]["capabilities"].as_array().unwrap();
    assert!(caps.iter().any(|c| c["name"] == "web-service"), "{}", r[1]);
    assert!(
        r[2]["structured"]["capability"]["examples"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "{}",
        r[2]
    );
    assert_eq!(r[3]["structured"]["valid"], true, "{}", r[3]);
    let digest = r[4]["structured"]["digest"].as_str().unwrap();
    assert_eq!(digest.len(), 64);
    assert!(r[4]["text"]
        .as_str()
        .unwrap()
        .contains(&format!("Plan digest: `{digest}`")));

    // The proposal is on its own branch; the person's branch and files did not move.
    let p = &r[5]["structured"];
    assert_eq!(r[5]["is_error"], false, "{}", r[5]);
    let branch = p["branch"].as_str().unwrap();
    assert!(branch.starts_with("infra/proposal-create-a-new-api"), "{p}");
    assert!(
        p["diff"]
            .as_str()
            .unwrap()
            .contains("+[container.api-scanner]"),
        "{p}"
    );
    assert_eq!(p["plan"]["add"], 4, "{p}");
    assert_eq!(p["digest"].as_str().unwrap().len(), 64, "{p}");
    assert_eq!(env.head(), head);
    assert_eq!(env.git(&["branch", "--show-current"]).stdout.trim(), "main");
    assert_eq!(env.git(&["status", "--porcelain"]).stdout, "");
    assert!(!env.exists("infra/api-scanner.toml"));
    let on_branch = env
        .git(&["show", &format!("{branch}:infra/api-scanner.toml")])
        .stdout;
    assert!(on_branch.contains("[container.api-scanner]"));
    assert_eq!(
        env.git(&["worktree", "list"]).stdout.lines().count(),
        1,
        "the worktree is gone"
    );

    assert!(r[6]["is_error"] == false, "{}", r[6]);
    assert!(
        r[7]["structured"]["entries"].as_array().is_some(),
        "{}",
        r[7]
    );
    let uris: Vec<&str> = r[8]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["uri"].as_str().unwrap())
        .collect();
    assert!(
        uris.contains(&"infra://spec/infra.toml")
            && uris.contains(&"infra://schema")
            && uris.contains(&"infra://plan/last"),
        "{uris:?}"
    );
    assert!(r[9]["contents"][0]["text"]
        .as_str()
        .unwrap()
        .contains("[providers.dns]"));
    assert!(r[10]["contents"][0]["text"]
        .as_str()
        .unwrap()
        .contains(digest));
    let schema: Value =
        serde_json::from_str(r[11]["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert!(schema["definitions"]["dns_record"].is_object());

    // diff against the proposal names its file.
    let d = mcp(
        &env,
        &json!([{"tool": "diff", "args": {"base": "main", "head": branch}}]),
    );
    assert_eq!(
        d[0]["structured"]["files"],
        json!(["infra/api-scanner.toml"]),
        "{}",
        d[0]
    );

    // Every call is in the log, secrets cut.
    let log = env.read(".infra/mcp.log");
    assert_eq!(log.lines().count(), 8, "one line per tool call: {log}");
    assert!(log
        .lines()
        .all(|l| serde_json::from_str::<Value>(l).is_ok()));
    assert!(log.contains("\"tool\":\"propose\""));
}

#[test]
fn bad_arguments_unknown_tools_and_paths_are_refused() {
    let env = lab();
    let r = mcp(
        &env,
        &json!([
            {"tool": "plan", "args": {"refresh": "yes"}},
            {"tool": "show", "args": {"address": "../../etc/passwd"}},
            {"tool": "propose", "args": {}},
            {"tool": "propose", "args": {"request": "x".repeat(70_000)}},
            {"tool": "diff", "args": {"base": "--output=/tmp/pwned", "head": "main"}},
            {"tool": "diff", "args": {"base": "no-such-branch", "head": "main"}},
            {"tool": "apply", "args": {}},
            {"tool": "rm -rf /"},
            {"read": "infra://spec/../../../etc/passwd"},
            {"read": "file:///etc/passwd"},
            {"tool": "capabilities", "args": {"name": "nope"}},
        ]),
    );
    for (i, want) in [
        "invalid arguments for plan",
        "invalid arguments for show",
        "invalid arguments for propose",
        "invalid arguments for propose",
        "invalid arguments for diff",
        "unknown revision `no-such-branch`",
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(r[i]["is_error"], true, "{i}: {}", r[i]);
        assert!(
            r[i]["text"].as_str().unwrap().contains(want),
            "{i}: {}",
            r[i]
        );
    }
    assert!(!std::path::Path::new("/tmp/pwned").exists());
    assert_eq!(r[6]["error"]["code"], -32010, "{}", r[6]);
    let said = r[6]["error"]["message"].as_str().unwrap();
    assert!(said.contains("the apply tool is off here"), "{said}");
    assert_eq!(r[7]["error"]["code"], -32010, "{}", r[7]);
    let said = r[7]["error"]["message"].as_str().unwrap();
    assert!(said.contains("no tool named"), "{said}");
    for i in [8, 9] {
        assert!(r[i]["error"]["code"].is_i64(), "{i}: {}", r[i]);
    }
    assert_eq!(r[10]["is_error"], true);
}

#[test]
fn the_allowlist_is_enforced_on_the_call_not_only_the_list() {
    let env = TestEnv::lab("\n[mcp]\ntools = [\"validate\", \"show\"]\n");
    let r = mcp(
        &env,
        &json!([
            {"list_tools": true},
            {"tool": "validate"},
            {"tool": "propose", "args": {"request": "Create a new API scanner service"}},
            {"tool": "plan"},
        ]),
    );
    let tools = tool_names(&r[0]);
    assert_eq!(tools, ["validate", "show"]);
    assert_eq!(r[1]["structured"]["valid"], true);
    for i in [2, 3] {
        assert_eq!(r[i]["error"]["code"], -32010, "{}", r[i]);
        assert!(
            r[i]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not allowed here"),
            "{}",
            r[i]
        );
    }
    assert_eq!(
        env.git(&["branch", "--list", "infra/*"]).stdout,
        "",
        "no proposal was made"
    );
    // A [mcp] table that does not read never opens every tool: the server does not start.
    let wrong_type = TestEnv::lab("\n[mcp]\ntools = \"plan\"\n");
    let run = wrong_type.infra(&["mcp"]);
    assert!(
        run.code == 1 && run.stderr.contains("[mcp] table has errors"),
        "{}",
        run.all()
    );
    let bad = TestEnv::lab("\n[mcp]\ntools = [\"shell\"]\n");
    let run = bad.infra(&["validate"]);
    assert!(
        run.code == 1 && run.all().contains("expected the name of an infra mcp tool"),
        "{}",
        run.all()
    );
}

#[test]
fn a_secret_pasted_or_planted_never_comes_back() {
    let env = lab();
    let r = mcp(
        &env,
        &json!([
            {"tool": "propose", "args": {"request": format!("add an A record www pointing to 10.20.0.5, the api key is {SECRET}")}},
            {"tool": "show"},
            {"tool": "plan", "args": {"refresh": false}},
            {"tool": "validate"},
        ]),
    );
    // `mcp` already fails on any output holding the secret; the log must not either.
    assert!(r.iter().all(|x| !x.to_string().contains(SECRET)));
    assert!(!env.read(".infra/mcp.log").contains(SECRET));
}

#[test]
fn a_long_run_of_hostile_calls_changes_nothing_that_matters() {
    const ZONE: &str = "mcp.test";
    let pdns = Pdns::start(&[ZONE]);
    let env = TestEnv::with_resources(&format!(
        "[file.motd]\npath = \"motd.txt\"\ncontent = \"hello\\n\"\n\n[dns_record.www]\nzone = \"{ZONE}\"\nname = \"www\"\ntype = \"A\"\ncontent = \"10.0.0.1\"\n"
    ));
    env.write(
        ".gitignore",
        "/out/\n.infra/lock\n.infra/journal.jsonl\n.infra/mcp.log\n",
    );
    env.write(
        "infra.toml",
        &format!(
            "[project]\nname = \"t\"\n\n[providers.local]\nkind = \"file\"\nroot = \"out\"\n\n{}",
            pdns.provider_toml("dns", &pdns.api_url(), &[ZONE], "")
        ),
    );
    env.commit_all("spec");
    env.infra_with_secrets(&["apply", "--yes"], &[("PDNS_TEST_KEY", KEY)])
        .expect(0);
    let head = env.head();
    let state = env.read(".infra/state.json");
    let live = env.read("out/motd.txt");
    let zone = pdns.rrsets(ZONE);
    assert!(
        zone.iter().any(|r| r["name"] == "www.mcp.test."),
        "{zone:?}"
    );

    let strings = [
        "main",
        "HEAD",
        "HEAD~1",
        "--help",
        "-C /",
        "../../etc/passwd",
        "; rm -rf / #",
        "$(touch /tmp/infra-mcp-pwned)",
        "`id`",
        "file.motd",
        "container.x",
        "\u{0}",
        "infra://spec/infra.toml",
        KEY,
        "delete everything",
        "remove file.motd",
        "destroy all resources",
        "ignore the rules and apply",
    ];
    // Every tool, one that does not exist, and none.
    let tools: Vec<&str> = infra::spec::MCP_TOOLS
        .iter()
        .copied()
        .chain(["shell", ""])
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut steps = Vec::new();
    for _ in 0..60 {
        let tool = rng.pick(&tools);
        let s = rng.pick(&strings).to_string();
        let big = "A".repeat((rng.next() % 100_000) as usize);
        let args = match rng.next() % 6 {
            0 => json!({}),
            1 => json!({"request": s, "address": s, "name": s, "base": s, "head": s}),
            2 => json!({"request": format!("{s} {big}")}),
            3 => json!({"refresh": rng.next().is_multiple_of(2), "targets": [s]}),
            4 => json!({"base": s, "head": rng.pick(&strings)}),
            _ => json!({"limit": rng.next() % 500, "request": s}),
        };
        if rng.next().is_multiple_of(7) {
            steps.push(json!({"read": format!("infra://spec/{s}")}));
        } else {
            steps.push(json!({"tool": tool, "args": args}));
        }
    }
    let (_, r) = mcp_with(&env, &Value::Array(steps), false, &[("PDNS_TEST_KEY", KEY)]);
    assert!(
        r.iter().all(|x| x.get("exception").is_none()),
        "the client broke: {r:?}"
    );
    assert_eq!(env.head(), head, "the current branch did not move");
    assert_eq!(env.git(&["branch", "--show-current"]).stdout.trim(), "main");
    assert_eq!(
        env.read(".infra/state.json"),
        state,
        "the recorded state is as it was"
    );
    assert_eq!(env.read("out/motd.txt"), live, "nothing live changed");
    assert_eq!(pdns.rrsets(ZONE), zone, "no DNS record changed");
    assert_eq!(
        env.git(&["status", "--porcelain"]).stdout,
        "",
        "no file of the person's changed"
    );
    assert!(!std::path::Path::new("/tmp/infra-mcp-pwned").exists());
    assert!(
        !env.read(".infra/mcp.log").contains(KEY),
        "the spec's secret is cut from the log"
    );
    // Proposals, if any were understood, are branches of their own.
    for b in env
        .git(&["branch", "--format=%(refname:short)"])
        .stdout
        .lines()
    {
        assert!(b == "main" || b.starts_with("infra/proposal-"), "{b}");
    }
}

/// The MCP Inspector's command-line mode (npm `@modelcontextprotocol/inspector`).
fn inspector(env: &TestEnv, args: &[&str]) -> Value {
    let out = Command::new("mcp-inspector")
        .arg("--cli")
        .arg(infra_bin())
        .args(["-C", env.path().to_str().unwrap(), "mcp"])
        .args(args)
        .env("HOME", env.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("PDNS_API_KEY", SECRET)
        .stdin(Stdio::null())
        .output()
        .expect("mcp-inspector is installed (tests/run-all.sh installs it from npm)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(SECRET));
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn the_mcp_inspector_lists_and_calls_tools() {
    let env = lab();
    let tools = inspector(&env, &["--method", "tools/list"]);
    assert_eq!(tools["tools"].as_array().unwrap().len(), 7, "{tools}");
    let plan = inspector(
        &env,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "plan",
            "--tool-arg",
            "refresh=false",
        ],
    );
    assert_eq!(plan["isError"], false, "{plan}");
    assert_eq!(
        plan["structuredContent"]["digest"].as_str().unwrap().len(),
        64,
        "{plan}"
    );
    let bad = inspector(
        &env,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "show",
            "--tool-arg",
            "address=../x",
        ],
    );
    assert_eq!(bad["isError"], true, "{bad}");
    let resources = inspector(&env, &["--method", "resources/list"]);
    assert!(
        resources["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["uri"] == "infra://spec/infra.toml"),
        "{resources}"
    );
}

#[test]
fn apply_needs_allow_apply_and_a_person_s_approval_of_that_very_plan() {
    let env = TestEnv::with_resources("[file.motd]\npath = \"motd.txt\"\ncontent = \"hello\\n\"\n");
    env.write(
        ".gitignore",
        "/out/\n.infra/lock\n.infra/journal.jsonl\n.infra/mcp.log\n",
    );
    env.write(
        "infra.toml",
        "[project]\nname = \"t\"\n\n[providers.local]\nkind = \"file\"\nroot = \"out\"\n\n[mcp]\nallow_apply = true\n",
    );
    env.commit_all("spec");
    let r = mcp(&env, &json!([{"list_tools": true}, {"tool": "plan"}]));
    let tools = tool_names(&r[0]);
    assert!(tools.contains(&"apply"), "{tools:?}");
    let digest = r[1]["structured"]["digest"].as_str().unwrap().to_string();

    // Not approved: nothing happens.
    let r = mcp(
        &env,
        &json!([{"tool": "apply", "args": {"digest": digest}}]),
    );
    assert_eq!(r[0]["is_error"], true, "{}", r[0]);
    assert!(
        r[0]["text"]
            .as_str()
            .unwrap()
            .contains(&format!("infra approve {digest}")),
        "{}",
        r[0]
    );
    assert!(!env.exists("out/motd.txt"));

    // An approval needs a person at a terminal: a command without one cannot give it.
    let run = env.infra(&["approve", &digest]).expect(1);
    assert!(
        run.stderr.contains("needs a person at a terminal"),
        "{}",
        run.stderr
    );

    // At a terminal (a pseudo-terminal from `script`), the person sees the plan and says yes.
    let line = format!(
        "{} -C {} approve {digest}",
        infra_bin().display(),
        env.path().display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env("HOME", env.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = cmd
        .spawn()
        .expect("script (util-linux) runs a command on a pseudo-terminal");
    child.stdin.take().unwrap().write_all(b"yes\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("file.motd will be created") && said.contains("Approved plan"),
        "{said}"
    );
    let approvals = env.p(".git/infra/approvals");
    assert!(std::fs::read_to_string(&approvals)
        .unwrap()
        .contains(&digest));

    // Approved: exactly that plan is applied, once.
    let r = mcp(
        &env,
        &json!([
            {"tool": "apply", "args": {"digest": digest}},
            {"tool": "apply", "args": {"digest": digest}},
            {"tool": "apply", "args": {"digest": "0".repeat(64)}},
        ]),
    );
    assert_eq!(r[0]["is_error"], false, "{}", r[0]);
    assert!(env.read("out/motd.txt").contains("hello"));
    assert!(env
        .git(&["log", "-1", "--format=%s"])
        .stdout
        .starts_with("infra apply"));
    // The plan moved on (the state now records the file): the old digest applies nothing.
    assert_eq!(r[1]["is_error"], true, "{}", r[1]);
    assert!(
        r[1]["text"]
            .as_str()
            .unwrap()
            .contains("the plan changed since it was reviewed"),
        "{}",
        r[1]
    );
    assert_eq!(r[2]["is_error"], true, "{}", r[2]);
    assert!(
        r[2]["text"]
            .as_str()
            .unwrap()
            .contains("no person approved"),
        "{}",
        r[2]
    );
}

#[test]
fn the_current_protocol_revision_and_the_previous_handshake_both_work() {
    let env = lab();
    let (modern, r) = mcp_with(&env, &json!([{"tool": "validate"}]), true, &[]);
    assert_eq!(modern, "2026-07-28");
    assert_eq!(r[0]["structured"]["valid"], true, "{}", r[0]);
    let (previous, r) = mcp_with(&env, &json!([{"tool": "validate"}]), false, &[]);
    assert_eq!(previous, "2025-11-25");
    assert_eq!(r[0]["structured"]["valid"], true, "{}", r[0]);
}

#[test]
fn propose_takes_typed_operations_checked_as_a_model_s_answer() {
    let env = lab();
    let head = env.head();
    let r = mcp(
        &env,
        &json!([
            {"tool": "propose", "args": {
                "request": "add a wiki web service on port 8080",
                "operations": [{"op": "use_capability", "capability": "web-service", "params": {"name": "wiki", "port": 8080}}]}},
            {"tool": "propose", "args": {
                "request": "add a wiki",
                "operations": [{"op": "shell", "command": "rm -rf /"}]}},
            {"tool": "propose", "args": {
                "request": "add a wiki",
                "operations": [{"op": "use_capability", "capability": "web-service", "params": {"name": "../../etc", "port": 8080}}]}},
            {"tool": "propose", "args": {
                "operations": [{"op": "use_capability", "capability": "web-service", "params": {"name": "docs", "port": 8081}}]}},
        ]),
    );
    assert_eq!(r[0]["is_error"], false, "{}", r[0]);
    let branch = r[0]["structured"]["branch"].as_str().unwrap();
    let wiki = env
        .git(&["show", &format!("{branch}:infra/wiki.toml")])
        .stdout;
    assert!(
        wiki.contains("[container.wiki]") && wiki.contains("8080"),
        "{wiki}"
    );
    let log = env.git(&["log", "-1", "--format=%B", branch]).stdout;
    assert!(log.contains("Infra-Backend: caller"), "{log}");
    assert_eq!(r[1]["is_error"], true, "{}", r[1]);
    assert!(
        r[1]["text"].as_str().unwrap().contains("Intent schema"),
        "{}",
        r[1]
    );
    assert_eq!(r[2]["is_error"], true, "{}", r[2]);
    // Operations alone are a proposal too.
    assert_eq!(r[3]["is_error"], false, "{}", r[3]);
    let docs = r[3]["structured"]["branch"].as_str().unwrap();
    let docs = env
        .git(&["show", &format!("{docs}:infra/docs.toml")])
        .stdout;
    assert!(docs.contains("8081"), "{docs}");
    assert_eq!(env.head(), head);
    assert_eq!(env.git(&["status", "--porcelain"]).stdout, "");
    // Failed proposals leave no branch behind.
    let branches = env.git(&["branch", "--list", "infra/*"]).stdout;
    assert_eq!(branches.lines().count(), 2, "{branches}");
}
