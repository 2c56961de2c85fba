//! The docker provider against a private dockerd, beyond the conformance suite:
//! the engine stopping in the middle of an apply (the state must match what was
//! really created, and the next apply converges without duplicates), secrets that
//! reach the container but never the state or the plan, a service binding to its
//! `ip` on the host network, and what the provider refuses before or from the engine.

mod common;
mod labkit;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Run, TestEnv};
use labkit::dockerd::{Dockerd, BUSYBOX};

const SECRET: &str = "hello-secret-value";

/// A committed project named `faults` with one docker provider and `resources`.
fn project(engine: &Dockerd, resources: &str) -> TestEnv {
    let env = TestEnv::new();
    env.git(&["init", "-q", "-b", "main"]);
    env.write(
        "infra.toml",
        &format!(
            "[project]\nname = \"faults\"\n\n[providers.engine]\nkind = \"docker\"\nsocket = \"{}\"\n",
            engine.host()
        ),
    );
    env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
    env.write("infra/main.toml", resources);
    env.commit_all("spec");
    env
}

fn infra(env: &TestEnv, args: &[&str]) -> Run {
    env.infra_with_secrets(args, &[("INFRA_TEST_SECRET", SECRET)])
}

fn sleeper(name: &str) -> String {
    format!(
        "[container.{name}]\nhostname = \"{name}\"\nimage = \"{BUSYBOX}\"\n\
         command = \"/bin/busybox sleep 3600\"\nip = \"127.0.0.1/8\"\n\n"
    )
}

/// Ids of the containers project `faults` owns, by address.
fn owned(engine: &Dockerd) -> Vec<(String, String)> {
    owned_where(engine, "-a")
}

/// Ids of the running containers project `faults` owns, by address.
fn running(engine: &Dockerd) -> Vec<(String, String)> {
    owned_where(engine, "--filter=status=running")
}

fn owned_where(engine: &Dockerd, filter: &str) -> Vec<(String, String)> {
    let out = engine.docker_ok(&[
        "ps",
        filter,
        "--no-trunc",
        "--format",
        "{{.Label \"infra.owner\"}} {{.ID}}",
    ]);
    let mut v: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(o, id)| Some((o.strip_prefix("infra:faults/")?.to_string(), id.to_string())))
        .collect();
    v.sort();
    v
}

fn recorded(env: &TestEnv) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(env.p(".infra/state.json")).unwrap_or_else(|_| "{}".into());
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut v: Vec<(String, String)> = state["resources"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(a, r)| (a.clone(), r["id"].as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn engine_stops_mid_apply_and_the_next_apply_converges() {
    let mut engine = Dockerd::start();
    engine.import_busybox(BUSYBOX);
    let names: Vec<String> = (0..5).map(|i| format!("c{i}")).collect();
    let spec: String = names.iter().map(|n| sleeper(n)).collect();
    let env = project(&engine, &spec);

    let child = env
        .cmd(&["apply", "--yes", "--parallelism", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Stop the engine as soon as the first container runs.
    let deadline = Instant::now() + Duration::from_secs(60);
    while running(&engine).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no container was created:\n{}",
            engine.log_text()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    engine.stop();
    let out = child.wait_with_output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0), "apply must fail:\n{all}");
    assert!(all.contains("apply failed"), "{all}");
    assert!(all.contains("cannot reach the Docker Engine"), "{all}");

    // The state holds what was done (the first create may have finished or been cut
    // off between its start and its read-back); every failed resource is named.
    let state = recorded(&env);
    assert!(state.len() < 5, "state: {state:?}\n{all}");
    for n in &names {
        let address = format!("container.{n}");
        if !state.iter().any(|(a, _)| *a == address) {
            assert!(
                all.contains(&format!("{address}: create failed")),
                "{address} not named:\n{all}"
            );
        }
    }

    // Same data root: what the state records is really there, and the plan shows exactly the rest.
    engine.restart();
    let live = owned(&engine);
    for r in &state {
        assert!(live.contains(r), "recorded {r:?} is not live: {live:?}");
    }
    // At most the one create in flight when the engine went away, adopted by its label.
    let unrecorded = live.len() - state.len();
    eprintln!(
        "engine stopped after {} created, {} recorded; apply said:\n{}",
        live.len(),
        state.len(),
        all.split("Error: ").nth(1).unwrap_or(&all)
    );
    assert!(unrecorded <= 1, "live {live:?} vs state {state:?}");
    let plan = infra(&env, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    let to_add = 5 - live.len();
    assert!(
        plan.stdout.contains(&format!("Plan: {to_add} to add,")),
        "expected {to_add} to add:\n{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("0 to destroy."), "{}", plan.stdout);

    infra(&env, &["apply", "--yes"]).expect(0);
    let live = owned(&engine);
    let addresses: Vec<&str> = live.iter().map(|(a, _)| a.as_str()).collect();
    let want: Vec<String> = names.iter().map(|n| format!("container.{n}")).collect();
    assert_eq!(addresses, want, "one container per resource, no duplicates");
    assert_eq!(recorded(&env), live);
    let again = infra(&env, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "second plan not empty:\n{}", again.all());
}

#[test]
fn secrets_reach_the_container_only_and_services_bind_to_their_ip() {
    let engine = Dockerd::start();
    engine.import_busybox(BUSYBOX);
    let port = labkit::free_port();
    let env = project(
        &engine,
        &format!(
            "[container.web]\nhostname = \"web\"\nimage = \"{BUSYBOX}\"\n\
             command = \"/bin/busybox httpd -f -p 127.0.0.1:{port} -h /www\"\nip = \"127.0.0.1/8\"\n\
             env = {{ GREETING = \"env:INFRA_TEST_SECRET\", MODE = \"test\" }}\n"
        ),
    );
    let apply = infra(&env, &["apply", "--yes"]).expect(0);
    assert!(!apply.all().contains(SECRET), "{}", apply.all());

    let started = Instant::now();
    let body = loop {
        match labkit::http_get(port, "/index.html", &[]) {
            Some((200, body)) => break body,
            _ if started.elapsed() > Duration::from_secs(10) => panic!("httpd never answered"),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    assert_eq!(body, "hello-from-container\n");

    let config_env =
        engine.docker_ok(&["inspect", "--format", "{{json .Config.Env}}", "faults-web"]);
    assert!(
        config_env.contains(&format!("GREETING={SECRET}")),
        "{config_env}"
    );
    assert!(config_env.contains("INFRA_IP=127.0.0.1"), "{config_env}");
    assert!(
        config_env.contains("INFRA_ADDRESS=127.0.0.1"),
        "{config_env}"
    );

    let state = env.read(".infra/state.json");
    assert!(!state.contains(SECRET), "secret in the state:\n{state}");
    assert!(state.contains("env:INFRA_TEST_SECRET"), "{state}");
    let plan = infra(&env, &["plan", "--detailed-exitcode", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(!plan.all().contains(SECRET));
}

/// What Docker fixes at create time (here: the command) is changed by recreating
/// the container under its name; `start` starts it in place.
#[test]
fn fixed_attributes_recreate_and_start_toggles_in_place() {
    let engine = Dockerd::start();
    engine.import_busybox(BUSYBOX);
    let spec = |command: &str, start: bool| {
        format!(
            "[container.app]\nhostname = \"app\"\nimage = \"{BUSYBOX}\"\n\
             command = \"{command}\"\nip = \"127.0.0.1/8\"\nstart = {start}\n"
        )
    };
    let env = project(&engine, &spec("/bin/busybox sleep 3600", false));
    infra(&env, &["apply", "--yes"]).expect(0);
    let state = |f: &str| engine.docker_ok(&["inspect", "--format", f, "faults-app"]);
    assert_eq!(state("{{.State.Status}}"), "created");
    assert_eq!(infra(&env, &["plan", "--detailed-exitcode"]).code, 0);
    let first = owned(&engine);

    env.write("infra/main.toml", &spec("/bin/busybox sleep 3600", true));
    env.commit_all("start it");
    infra(&env, &["apply", "--yes"]).expect(0);
    assert_eq!(state("{{.State.Status}}"), "running");
    assert_eq!(owned(&engine), first, "started in place");
    assert_eq!(infra(&env, &["plan", "--detailed-exitcode"]).code, 0);

    env.write("infra/main.toml", &spec("/bin/busybox  sleep 3601", true));
    env.commit_all("new command");
    infra(&env, &["apply", "--yes"]).expect(0);
    let second = owned(&engine);
    assert_eq!(second.len(), 1);
    assert_ne!(second, first, "recreated");
    assert_eq!(
        state("{{json .Config.Cmd}}"),
        r#"["/bin/busybox","sleep","3601"]"#
    );
    assert_eq!(state("{{.State.Status}}"), "running");
    assert_eq!(recorded(&env), second);
    let again = infra(&env, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        again.code,
        0,
        "the command reads back as written:\n{}",
        again.all()
    );
}

#[test]
fn refusals_name_the_cause_without_retrying() {
    let engine = Dockerd::start();
    engine.import_busybox(BUSYBOX);
    let env = project(
        &engine,
        "[container.ghost]\nhostname = \"ghost\"\nimage = \"infra-test/missing:1\"\nip = \"127.0.0.1/8\"\n\n\
         [container.published]\nhostname = \"published\"\nimage = \"infra-test/busybox:1\"\n\
         ports = [\"127.0.0.1:18080:80\"]\n",
    );
    let started = Instant::now();
    let run = infra(&env, &["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let all = run.all();
    assert!(all.contains("container.ghost: create failed"), "{all}");
    assert!(all.contains("No such image: infra-test/missing:1"), "{all}");
    assert!(all.contains("container.published: create failed"), "{all}");
    assert!(
        all.contains("cannot be published on the host network"),
        "{all}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "permanent errors must not be retried"
    );
    assert!(owned(&engine).is_empty());

    // A container of the same name that infra does not own is never replaced.
    engine.docker_ok(&[
        "create",
        "--name",
        "faults-ghost",
        "--network",
        "host",
        BUSYBOX,
        "/bin/busybox",
        "sleep",
        "1",
    ]);
    env.write("infra/main.toml", &sleeper("ghost"));
    env.commit_all("fix image");
    let run = infra(&env, &["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains("was not created by infra"),
        "{}",
        run.all()
    );
    assert_eq!(engine.container_names(), ["faults-ghost"]);
}
