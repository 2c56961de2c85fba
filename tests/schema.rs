//! `infra schema`: the JSON Schema of spec files, from the kind table and the
//! real providers. It accepts every spec file of the examples and the ask
//! fixtures, refuses bad values, `infra init` ties it to the spec files for
//! taplo, and the real taplo CLI checks a project with it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{schema::problems, TestEnv};
use serde_json::Value;

fn printed_schema(env: &TestEnv) -> Value {
    let run = env.infra(&["schema"]).expect(0);
    serde_json::from_str(&run.stdout).expect("infra schema prints JSON")
}

#[test]
fn prints_a_draft_07_schema_of_every_kind_and_provider() {
    let schema = printed_schema(&TestEnv::new());
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    for kind in infra::spec::schema::kinds() {
        assert!(schema["properties"][kind.name].is_object(), "{}", kind.name);
    }
    let provider_kinds = &schema["definitions"]["provider"]["properties"]["kind"]["enum"];
    for info in infra::providers::registry().infos() {
        assert!(
            provider_kinds
                .as_array()
                .unwrap()
                .contains(&info.kind.into()),
            "{}",
            info.kind
        );
    }
    // What the test harness checks specs with is what the command prints.
    assert_eq!(
        schema,
        infra::providers::json_schema::spec_schema(&infra::providers::registry().infos())
    );
}

/// infra.toml and infra/**/*.toml of a project.
fn spec_files(project: &Path) -> Vec<PathBuf> {
    infra::spec::load::spec_files(project)
        .unwrap()
        .into_iter()
        .map(|rel| project.join(rel))
        .collect()
}

/// The projects under `dir` (the directories holding an infra.toml).
fn projects_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("infra.toml").is_file())
        .collect();
    found.sort();
    found
}

#[test]
fn accepts_every_example_and_fixture() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut projects = projects_in(&repo.join("examples"));
    projects.extend(projects_in(&repo.join("tests/ask-eval")));
    // The shared ask fixtures sit beside the repository, here and in CI.
    let shared = repo.join("../shared/ask-dev");
    if shared.is_dir() {
        projects.extend(projects_in(&shared));
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing",
            shared.display()
        );
        eprintln!(
            "note: {} is missing; its fixtures are not checked",
            shared.display()
        );
    }
    assert!(projects.len() >= 4, "{projects:?}");
    let mut files = 0;
    for project in &projects {
        for file in spec_files(project) {
            let text = std::fs::read_to_string(&file).unwrap();
            let found = problems(&text);
            assert!(
                found.is_empty(),
                "{}:\n{}",
                file.display(),
                found.join("\n")
            );
            files += 1;
        }
    }
    assert!(files > projects.len(), "only {files} files");
}

#[test]
fn refuses_bad_values() {
    let container = "[container.web]\nhostname = \"web\"\nip = \"10.0.0.5/24\"\n";
    assert!(problems(container).is_empty());
    assert!(problems(&format!("{container}cores = \"${{vars.cores}}\"\n")).is_empty());
    for bad in [
        "cores = 0",
        "cores = 100000",
        "cores = \"many\"",
        "memory = 8",
        "address = \"10.0.0.5\"",
        "hostname_ = \"x\"",
    ] {
        let found = problems(&format!("{container}{bad}\n"));
        assert!(!found.is_empty(), "{bad} accepted");
    }
    let record =
        "[dns_record.www]\nzone = \"example.com\"\nname = \"www\"\ncontent = \"10.0.0.5\"\n";
    assert!(problems(&format!("{record}type = \"A\"\n")).is_empty());
    assert!(!problems(&format!("{record}type = \"AXFR\"\n")).is_empty());
    let dns = "[providers.dns]\nkind = \"powerdns\"\napi_url = \"http://127.0.0.1:8081\"\n";
    assert!(problems(&format!("{dns}api_key = \"env:PDNS_API_KEY\"\n")).is_empty());
    assert!(!problems(&format!("{dns}api_key = \"changeme\"\n")).is_empty());
    assert!(!problems(&format!("{dns}api_key = \"env:K\"\napi_token = \"x\"\n")).is_empty());
}

#[test]
fn output_and_write() {
    let env = TestEnv::new();
    let printed = env.infra(&["schema"]).expect(0).stdout;
    env.infra(&["schema", "--output", "s.json"]).expect(0);
    assert_eq!(env.read("s.json"), printed);
    // --write needs a project, and refreshes its copy.
    let outside = env.infra(&["schema", "--write"]).expect(1);
    assert!(outside.stderr.contains("infra.toml"), "{}", outside.stderr);
    env.write("infra.toml", "[project]\nname = \"t\"\n");
    env.write(".infra/schema.json", "{}\n");
    env.infra(&["schema", "--write"]).expect(0);
    assert_eq!(env.read(".infra/schema.json"), printed);
}

#[test]
fn init_ties_the_schema_to_the_spec_files() {
    let env = TestEnv::new();
    let run = env.infra(&["init"]).expect(0);
    assert!(run.stdout.contains("wrote .taplo.toml"), "{}", run.stdout);
    assert!(
        run.stdout.contains("wrote .infra/schema.json"),
        "{}",
        run.stdout
    );
    assert_eq!(
        env.read(".infra/schema.json"),
        env.infra(&["schema"]).stdout
    );
    let taplo = env.read(".taplo.toml");
    assert!(
        taplo.contains("[[rule]]\ninclude = [\"infra.toml\", \"infra/**/*.toml\"]"),
        "{taplo}"
    );
    assert!(
        taplo.contains("[rule.schema]\npath = \".infra/schema.json\""),
        "{taplo}"
    );
    // The schema is committed with the spec, not ignored.
    assert!(!env.read(".gitignore").contains("schema"));
    assert!(problems(&env.read("infra.toml")).is_empty());

    // A taplo configuration of the user's own keeps what it had, plus the rule.
    let env = TestEnv::new();
    env.write(".taplo.toml", "[formatting]\nalign_entries = true");
    env.infra(&["init", "--example", "local"]).expect(0);
    let taplo = env.read(".taplo.toml");
    assert!(
        taplo.starts_with("[formatting]\nalign_entries = true\n\n# "),
        "{taplo}"
    );
    assert!(taplo.contains("path = \".infra/schema.json\""), "{taplo}");
    // taplo reads .taplo.toml before taplo.toml: a new .taplo.toml would hide it.
    let env = TestEnv::new();
    env.write("taplo.toml", "include = [\"*.toml\"]\n");
    let run = env.infra(&["init"]).expect(0);
    assert!(run.stdout.contains("wrote taplo.toml"), "{}", run.stdout);
    assert!(!env.exists(".taplo.toml"));
    assert!(env
        .read("taplo.toml")
        .contains("path = \".infra/schema.json\""));
}

/// The taplo CLI, or None (then the test is skipped) outside CI.
fn taplo() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("taplo"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "taplo is not installed; tests/run-all.sh installs it (npm install -g @taplo/cli)"
        );
        eprintln!("skipped: taplo is not installed (npm install -g @taplo/cli)");
    }
    found
}

/// `taplo check` in the project, as an editor or CI would run it: (passed, output).
fn taplo_check(taplo: &Path, env: &TestEnv) -> (bool, String) {
    let out = Command::new(taplo)
        .arg("check")
        .current_dir(env.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("run taplo");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn taplo_checks_spec_files_with_the_schema() {
    let Some(taplo) = taplo() else { return };
    let env = TestEnv::new();
    env.infra(&["init"]).expect(0);
    env.write("infra.toml", common::LAB_INFRA_TOML);
    let good = r#"[container.web]
group = "web"
hostname = "web"
image = "debian:12-slim"
cores = 2
memory = 512
ip = "10.20.0.50/24"

[dns_record.web]
group = "web"
zone = "lab.example.com"
name = "web"
type = "A"
content = "${container.web.address}"
"#;
    env.write("infra/web.toml", good);
    env.infra(&["validate"]).expect(0);
    let (ok, out) = taplo_check(&taplo, &env);
    assert!(ok, "taplo refused a good spec:\n{out}");

    for (bad, shown) in [
        (good.replace("cores = 2", "cores = \"many\""), "\"many\""),
        (good.replace("type = \"A\"", "type = \"AXFR\""), "AXFR"),
        (
            good.replace("memory = 512", "memory = 512\naddress = \"10.20.0.50\""),
            "address",
        ),
    ] {
        env.write("infra/web.toml", &bad);
        env.infra(&["validate"]).expect(1);
        let (ok, out) = taplo_check(&taplo, &env);
        assert!(!ok, "taplo accepted:\n{bad}\n{out}");
        assert!(out.contains("infra/web.toml"), "{out}");
        assert!(out.contains(shown), "{out}");
    }

    // Provider settings by kind, from infra.toml.
    env.write("infra/web.toml", good);
    env.write(
        "infra.toml",
        &common::LAB_INFRA_TOML.replace("env:PDNS_API_KEY", "changeme"),
    );
    let (ok, out) = taplo_check(&taplo, &env);
    assert!(!ok, "taplo accepted a literal api_key:\n{out}");
    assert!(out.contains("infra.toml"), "{out}");
}
