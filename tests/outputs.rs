//! What apply shows after it and `infra output` repeats: each group's access card
//! and the spec's `[outputs]`, from the recorded state alone. Sensitive values stay
//! hidden from pipes even with --show-sensitive; secrets are never printed.

mod common;
use common::TestEnv;
use serde_json::{json, Value};

/// Set while infra runs; `infra_with_secrets` fails a test that prints it.
const TOKEN: (&str, &str) = ("NOTE_TOKEN", "s3cr3t-note-4f1c9a");

const FILES: &str = r#"[file.motd]
path = "motd.txt"
content = "hello\n"
group = "docs"

[file.note]
path = "note.txt"
content = "env:NOTE_TOKEN"
group = "docs"

[file.loose]
path = "loose.txt"
content = "no group"

[outputs]
motd = "out/${file.motd.path}"
note = "${file.note.content}"
mode = { value = "${file.motd.mode}", sensitive = true }
"#;

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn apply_prints_the_card_of_the_group_it_changed_and_the_outputs() {
    let env = TestEnv::with_resources(FILES);
    let run = env
        .infra_with_secrets(&["apply", "--yes"], &[TOKEN])
        .expect(0);
    let tail = run
        .stdout
        .split("Apply complete!")
        .nth(1)
        .expect("a summary");
    assert_eq!(
        tail,
        " Resources: 3 added, 0 changed, 0 destroyed.\n\n\
         docs\n  Credentials  env:NOTE_TOKEN (file.note content)\n\n\
         Outputs:\n\nmode = (sensitive value)\nmotd = \"out/motd.txt\"\nnote = (sensitive value)\n"
    );

    // Only groups the apply touched get a card; the outputs come every time.
    env.write(
        "infra/main.toml",
        &FILES.replace("no group", "still no group"),
    );
    env.commit_all("loose changes");
    let run = env
        .infra_with_secrets(&["apply", "--yes"], &[TOKEN])
        .expect(0);
    assert!(!run.stdout.contains("docs\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains("motd = \"out/motd.txt\""),
        "{}",
        run.stdout
    );
    let run = env
        .infra_with_secrets(&["apply", "--yes"], &[TOKEN])
        .expect(0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
    assert!(run.stdout.ends_with("\nOutputs:\n\nmode = (sensitive value)\nmotd = \"out/motd.txt\"\nnote = (sensitive value)\n"), "{}", run.stdout);

    let run = env
        .infra_with_secrets(&["apply", "--yes", "--format", "json"], &[TOKEN])
        .expect(0);
    assert_eq!(
        json(&run.stdout)["outputs"]["motd"]["value"],
        json!("out/motd.txt")
    );
}

#[test]
fn output_reads_the_recorded_state_as_versioned_json() {
    let env = TestEnv::with_resources(FILES);
    env.infra(&["apply", "--yes"]).expect(0);
    // The live files are gone: output still answers from the state, contacting nothing.
    std::fs::remove_dir_all(env.p("out")).unwrap();
    let run = env
        .infra_with_secrets(&["output", "--format", "json"], &[TOKEN])
        .expect(0);
    assert_eq!(
        json(&run.stdout),
        json!({
            "format_version": "1.0",
            "groups": [{
                "name": "docs",
                "urls": [], "addresses": [], "dns": [], "shells": [], "monitors": [], "certificates": [],
                "credentials": [
                    {"resource": "file.note", "attribute": "content", "reference": "env:NOTE_TOKEN"}
                ]
            }],
            "outputs": {
                "mode": {"value": "(sensitive value)", "sensitive": true},
                "motd": {"value": "out/motd.txt", "sensitive": false},
                "note": {"value": "(sensitive value)", "sensitive": true}
            }
        })
    );

    // One group, or one resource alone; the outputs only come with everything.
    let one = json(
        &env.infra(&["output", "docs", "--format", "json"])
            .expect(0)
            .stdout,
    );
    assert_eq!(one["groups"][0]["name"], json!("docs"));
    assert_eq!(one["outputs"], json!({}));
    let run = env.infra(&["output", "file.loose"]).expect(0);
    assert_eq!(
        run.stdout,
        "file.loose\n               nothing to reach: no site, address, name or monitor\n"
    );

    let run = env.infra(&["output", "nope"]).expect(1);
    assert!(
        run.stderr
            .contains("`nope` is neither a group nor a recorded resource"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("groups: docs"), "{}", run.stderr);
}

#[test]
fn show_sensitive_reveals_nothing_into_a_pipe() {
    let env = TestEnv::with_resources(FILES);
    env.infra(&["apply", "--yes"]).expect(0);
    // stdout is a pipe here, as in CI.
    let run = env
        .infra_with_secrets(&["output", "--show-sensitive"], &[TOKEN])
        .expect(0);
    assert!(
        run.stdout.contains("mode = (sensitive value)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("0644"), "{}", run.stdout);
    assert!(
        run.stderr.contains("sensitive values stay hidden"),
        "{}",
        run.stderr
    );
    let run = env
        .infra(&["output", "--show-sensitive", "--format", "json"])
        .expect(0);
    assert_eq!(
        json(&run.stdout)["outputs"]["mode"]["value"],
        json!("(sensitive value)")
    );
}

/// A lab project whose state records a Docker container, its DNS name, TLS site
/// and monitor in one group; written by hand, since nothing is contacted.
fn lab_with_state() -> TestEnv {
    let env = TestEnv::lab(
        "\n[outputs]\nadmin = \"https://${proxy_site.app.server_name}/admin\"\ndb = \"${container.app.env}\"\n",
    );
    env.write(
        "infra/app.toml",
        r#"[container.app]
hostname = "app"
image = "gitea/gitea:1"
ip = "10.20.0.60/24"
env = { DB_PASSWORD = "env:DB_PASSWORD", MODE = "prod" }
group = "app"

[dns_record.app]
zone = "lab.example.com"
name = "git"
type = "A"
content = "10.20.0.60"
group = "app"

[proxy_site.app]
server_name = "git.lab.example.com"
upstream = "http://10.20.0.60:3000"
listen = "8443"
tls_cert = "/etc/ssl/git.pem"
tls_key = "/etc/ssl/git.key"
group = "app"

[monitor.app]
url = "https://git.lab.example.com:8443/"
group = "app"
"#,
    );
    let resource = |kind: &str, provider: &str, attrs: Value| json!({"kind": kind, "provider": provider, "id": "x", "attrs": attrs, "group": "app"});
    let state = json!({
        "version": 1, "lineage": "0123456789abcdef", "serial": 1,
        "resources": {
            "container.app": resource("container", "engine", json!({
                "hostname": "app", "image": "gitea/gitea:1", "ip": "10.20.0.60/24",
                "address": "10.20.0.60", "start": true,
                "env": {"DB_PASSWORD": "env:DB_PASSWORD", "MODE": "prod"}})),
            "dns_record.app": resource("dns_record", "dns", json!({
                "zone": "lab.example.com", "name": "git", "type": "A",
                "content": "10.20.0.60", "ttl": 300, "fqdn": "git.lab.example.com"})),
            "proxy_site.app": resource("proxy_site", "edge", json!({
                "server_name": "git.lab.example.com", "upstream": "http://10.20.0.60:3000",
                "listen": "8443", "tls_cert": "/etc/ssl/git.pem", "tls_key": "/etc/ssl/git.key"})),
            "monitor.app": resource("monitor", "mon", json!({"url": "https://git.lab.example.com:8443/"})),
        }
    });
    env.write(
        ".infra/state.json",
        &serde_json::to_string_pretty(&state).unwrap(),
    );
    env.commit_all("applied");
    env
}

#[test]
fn a_card_names_every_way_in_and_never_a_secret() {
    let env = lab_with_state();
    let secret = [("DB_PASSWORD", "hunter2-db-7c1e0b")];
    let run = env.infra_with_secrets(&["output"], &secret).expect(0);
    assert_eq!(
        run.stdout,
        "app\n\
         \x20 URL          https://git.lab.example.com:8443\n\
         \x20 Address      10.20.0.60 (container.app)\n\
         \x20 DNS          git.lab.example.com\n\
         \x20 Shell        docker exec -it lab-app sh\n\
         \x20 Monitor      https://git.lab.example.com:8443/ (state not read by infra)\n\
         \x20 Credentials  env:DB_PASSWORD (container.app env.DB_PASSWORD)\n\
         \n\
         Outputs:\n\
         \n\
         admin = \"https://git.lab.example.com/admin\"\n\
         db = (sensitive value)\n"
    );
    // The literal env value is no credential reference: never shown either.
    for args in [
        &["output", "--show-sensitive"][..],
        &["output", "--format", "json"],
        &["output", "container.app", "--format", "json"],
        &["show", "container.app"],
    ] {
        let run = env.infra_with_secrets(args, &secret).expect(0);
        assert!(!run.stdout.contains("prod"), "{args:?}: {}", run.stdout);
    }
    let one = json(
        &env.infra(&["output", "container.app", "--format", "json"])
            .expect(0)
            .stdout,
    );
    assert_eq!(
        one["groups"][0]["shells"],
        json!([{"resource": "container.app", "command": "docker exec -it lab-app sh"}])
    );
    assert_eq!(one["groups"][0]["urls"], json!([]));
}
