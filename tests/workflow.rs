//! The core workflow on the `file` provider: init → plan → apply → drift → repair
//! → delete, with git as the state history.

mod common;
use common::TestEnv;

#[test]
fn example_plan_apply_and_no_changes_after() {
    let env = TestEnv::example();
    let plan = env.infra(&["plan", "--detailed-exitcode"]).expect(2);
    assert!(
        plan.stdout.contains("# file.motd will be created"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 3 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(!env.exists("out"), "plan must not touch live files");

    let apply = env.infra(&["apply", "--yes"]).expect(0);
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stderr.contains("file.motd: Creation complete"),
        "{}",
        apply.stderr
    );
    assert_eq!(
        env.read("out/motd.txt"),
        "# infra:local-example/file.motd (managed by infra; local edits will be overwritten)\nHello from infra (demo)\n"
    );
    assert!(env
        .read("out/app/config.ini")
        .contains("environment = demo"));
    assert!(env
        .read("out/index.txt")
        .contains("Configuration lives in app/config.ini"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(env.p("out/app/config.ini"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o640
    );

    // The state is committed with trailers; the work tree is clean.
    let log = env.git(&["log", "-1", "--format=%B"]).stdout;
    assert!(log.starts_with("infra apply: +3 ~0 -0"), "{log}");
    assert!(log.contains("Infra-Plan: +3 ~0 -0"), "{log}");
    assert!(log.contains("Infra-Applied-Spec: "), "{log}");
    assert_eq!(env.git(&["status", "--porcelain"]).stdout, "");

    let again = env.infra(&["plan", "--detailed-exitcode"]).expect(0);
    assert!(
        again
            .stdout
            .contains("No changes. Your infrastructure matches the configuration."),
        "{}",
        again.stdout
    );
}

#[test]
fn drift_is_shown_and_repaired() {
    let env = TestEnv::example();
    env.infra(&["apply", "--yes"]).expect(0);
    let motd = env.read("out/motd.txt");
    env.write("out/motd.txt", &motd.replace("Hello", "Hacked"));
    std::fs::remove_file(env.p("out/index.txt")).unwrap();

    let plan = env.infra(&["plan", "--detailed-exitcode"]).expect(2);
    assert!(
        plan.stdout.contains("file.motd has changed"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("file.index has been deleted"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("# file.motd will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("# file.index will be created"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );

    env.infra(&["apply", "--yes"]).expect(0);
    // The repair is in the history even though the recorded state ends as it was.
    assert_eq!(
        env.git(&["log", "-1", "--format=%s"]).stdout.trim(),
        "infra apply: +1 ~1 -0"
    );
    assert_eq!(env.read("out/motd.txt"), motd);
    assert!(env.exists("out/index.txt"));
    env.infra(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn removing_a_resource_deletes_it_and_replace_on_path_change() {
    let env = TestEnv::with_resources("[file.a]\npath = \"a.txt\"\ncontent = \"a\\n\"\n\n[file.b]\npath = \"b.txt\"\ncontent = \"b\\n\"\n");
    env.infra(&["apply", "--yes"]).expect(0);
    env.write(
        "infra/main.toml",
        "[file.a]\npath = \"a2.txt\"\ncontent = \"a\\n\"\n",
    );
    env.commit_all("change");
    let plan = env.infra(&["plan"]).expect(0);
    assert!(
        plan.stdout.contains("# file.a must be replaced"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("# forces replacement"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("# file.b will be destroyed"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 2 to destroy."),
        "{}",
        plan.stdout
    );
    env.infra(&["apply", "--yes"]).expect(0);
    assert!(!env.exists("out/a.txt") && !env.exists("out/b.txt") && env.exists("out/a2.txt"));
    env.infra(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn update_in_place_shows_old_and_new() {
    let env = TestEnv::with_resources(
        "[file.a]\npath = \"a.txt\"\ncontent = \"one\\n\"\nmode = \"0644\"\n",
    );
    env.infra(&["apply", "--yes"]).expect(0);
    env.write(
        "infra/main.toml",
        "[file.a]\npath = \"a.txt\"\ncontent = \"one\\n\"\nmode = \"0600\"\n",
    );
    env.commit_all("mode");
    let plan = env.infra(&["plan"]).expect(0);
    assert!(plan.stdout.contains("~ mode"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("\"0644\" -> \"0600\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
}

#[test]
fn target_limits_the_plan_to_the_resource_and_its_dependencies() {
    let env = TestEnv::example();
    let plan = env.infra(&["plan", "--target", "file.index"]).expect(0);
    // index refers to motd and app-config, so all three are planned.
    assert!(plan.stdout.contains("Plan: 3 to add"), "{}", plan.stdout);
    let plan = env.infra(&["plan", "--target", "file.motd"]).expect(0);
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    env.infra(&["apply", "--yes", "--target", "file.motd"])
        .expect(0);
    assert!(env.exists("out/motd.txt") && !env.exists("out/index.txt"));
    let bad = env.infra(&["plan", "--target", "file.nope"]).expect(1);
    assert!(bad.stderr.contains("no such resource"), "{}", bad.stderr);
}

#[test]
fn refresh_false_trusts_the_recorded_state() {
    let env = TestEnv::example();
    env.infra(&["apply", "--yes"]).expect(0);
    std::fs::remove_file(env.p("out/motd.txt")).unwrap();
    env.infra(&["plan", "--refresh=false", "--detailed-exitcode"])
        .expect(0);
    env.infra(&["plan", "--detailed-exitcode"]).expect(2);
}

#[test]
fn formats_json_and_markdown() {
    let env = TestEnv::example();
    let json = env.infra(&["plan", "--format", "json"]).expect(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan json parses");
    assert_eq!(v["format_version"], "1.1");
    assert_eq!(v["digest"].as_str().map(str::len), Some(64));
    assert_eq!(v["changes"].as_array().unwrap().len(), 3);
    let md = env.infra(&["plan", "--format", "markdown"]).expect(0);
    assert!(md.stdout.contains("3 to add"), "{}", md.stdout);
}

#[test]
fn without_a_tty_apply_refuses_unless_yes() {
    let env = TestEnv::example();
    let before = env.snapshot();
    let run = env.infra(&["apply"]).expect(1);
    assert!(
        run.stderr.contains("standard input is not a terminal"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert_eq!(env.snapshot(), before, "a refused apply changes nothing");
}

#[test]
fn destroy_removes_everything() {
    let env = TestEnv::example();
    env.infra(&["apply", "--yes"]).expect(0);
    let run = env.infra(&["destroy", "--yes"]).expect(1);
    // app-config is protected by the example's policy.
    assert!(
        run.stderr
            .contains("file.app-config, which [policy] protect lists"),
        "{}",
        run.stderr
    );
    env.write(
        "infra.toml",
        &env.read("infra.toml")
            .replace("protect = [\"file.app-config\"]", "protect = []"),
    );
    env.commit_all("unprotect");
    let run = env.infra(&["destroy", "--yes"]).expect(0);
    assert!(run.stdout.contains("3 destroyed"), "{}", run.stdout);
    assert!(!env.exists("out/motd.txt") && !env.exists("out/app/config.ini"));
    assert!(env
        .git(&["log", "-1", "--format=%s"])
        .stdout
        .starts_with("infra destroy: +0 ~0 -3"));
    assert_eq!(env.infra(&["state", "list"]).expect(0).stdout, "");
}

#[test]
fn max_destroy_caps_deletions() {
    let env = TestEnv::with_resources(&common::files_toml(4));
    env.write(
        "infra.toml",
        &(env.read("infra.toml") + "\n[policy]\nmax_destroy = 2\n"),
    );
    env.commit_all("policy");
    env.infra(&["apply", "--yes"]).expect(0);
    env.write("infra/main.toml", "");
    env.commit_all("remove all");
    let before = env.snapshot();
    let run = env.infra(&["apply", "--yes"]).expect(1);
    assert!(
        run.stderr
            .contains("the plan would destroy 4 objects; [policy] max_destroy allows 2"),
        "{}",
        run.stderr
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn history_show_state_graph() {
    let env = TestEnv::example();
    env.infra(&["apply", "--yes"]).expect(0);
    let h = env.infra(&["history"]).expect(0);
    assert!(h.stdout.contains("+3 ~0 -0"), "{}", h.stdout);
    assert!(h.stdout.contains("infra apply: +3 ~0 -0"), "{}", h.stdout);
    let show = env.infra(&["show", "file.motd"]).expect(0);
    assert!(
        show.stdout.contains("resource \"file\" \"motd\""),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("motd.txt"), "{}", show.stdout);
    let list = env.infra(&["state", "list"]).expect(0);
    assert_eq!(list.stdout, "file.app-config\nfile.index\nfile.motd\n");
    let graph = env.infra(&["graph"]).expect(0);
    assert!(
        graph.stdout.contains("\"file.index\" -> \"file.motd\""),
        "{}",
        graph.stdout
    );
    let comp = env.infra(&["completions", "bash"]).expect(0);
    assert!(comp.stdout.contains("infra"));
}

#[test]
fn state_rm_forgets_without_deleting_and_import_adopts() {
    let env = TestEnv::example();
    env.infra(&["apply", "--yes"]).expect(0);
    env.infra(&["state", "rm", "file.motd"]).expect(0);
    assert!(
        env.exists("out/motd.txt"),
        "state rm leaves the object alone"
    );
    assert!(env
        .git(&["log", "-1", "--format=%s"])
        .stdout
        .starts_with("infra state rm: file.motd"));
    // The file still carries the marker, so the next plan adopts it instead of creating it.
    let plan = env.infra(&["plan"]).expect(0);
    assert!(plan.stdout.contains("ownership marker"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("will be created"), "{}", plan.stdout);

    // A file written by hand (no marker) is never overwritten...
    env.write(
        "infra/extra.toml",
        "[file.hand]\npath = \"hand.txt\"\ncontent = \"managed\\n\"\n",
    );
    env.commit_all("extra");
    env.write("out/hand.txt", "written by a person\n");
    let run = env.infra(&["apply", "--yes"]).expect(1);
    assert!(
        run.stderr
            .contains("was not written by infra; refusing to touch it"),
        "{}",
        run.stderr
    );
    assert_eq!(env.read("out/hand.txt"), "written by a person\n");
    // ...until it is imported.
    env.infra(&["import", "file.hand", "hand.txt"]).expect(0);
    assert!(env
        .read("out/hand.txt")
        .starts_with("# infra:local-example/file.hand"));
    env.infra(&["apply", "--yes"]).expect(0);
    assert!(env.read("out/hand.txt").ends_with("managed\n"));
}

#[test]
fn rollback_restores_the_spec_as_a_new_commit() {
    let env = TestEnv::example();
    env.infra(&["apply", "--yes"]).expect(0);
    let good = env.head();
    env.write(
        "infra/site.toml",
        &env.read("infra/site.toml")
            .replace("(${vars.environment})", "v2"),
    );
    env.commit_all("v2");
    env.infra(&["apply", "--yes"]).expect(0);
    assert!(env.read("out/motd.txt").contains("Hello from infra v2"));
    env.infra(&["rollback", &good]).expect(0);
    let log = env.git(&["log", "-1", "--format=%B"]).stdout;
    assert!(log.starts_with("infra rollback: spec of"), "{log}");
    assert!(log.contains(&format!("Infra-Rollback: {good}")), "{log}");
    env.infra(&["apply", "--yes"]).expect(0);
    assert!(env.read("out/motd.txt").contains("Hello from infra (demo)"));
}

#[test]
fn replace_on_request_recreates_and_refuses_what_it_cannot_replace() {
    let env = TestEnv::with_resources("[file.a]\npath = \"a.txt\"\ncontent = \"a\\n\"\n\n[file.b]\npath = \"b.txt\"\ncontent = \"b\\n\"\n");
    // Nothing recorded yet: nothing to replace, and nothing is written.
    let early = env.infra(&["plan", "--replace", "file.a"]).expect(1);
    assert!(
        early
            .stderr
            .contains("--replace file.a: nothing recorded to replace"),
        "{}",
        early.stderr
    );
    env.infra(&["apply", "--yes"]).expect(0);
    let state = env.read(".infra/state.json");
    for (args, error) in [
        (
            &["plan", "--replace", "file.zzz"][..],
            "--replace file.zzz: not in the spec",
        ),
        (
            &["plan", "--replace", "nonsense"][..],
            "`nonsense` is not a resource address",
        ),
        (
            &["plan", "--destroy", "--replace", "file.a"][..],
            "--replace cannot be combined with a destroy plan",
        ),
        (
            &["apply", "--yes", "--replace", "file.zzz"][..],
            "--replace file.zzz: not in the spec",
        ),
    ] {
        let run = env.infra(args).expect(1);
        assert!(run.stderr.contains(error), "{args:?}: {}", run.stderr);
    }
    assert_eq!(
        env.read(".infra/state.json"),
        state,
        "a refused --replace changes nothing"
    );

    // Nothing forces it, but the user wants file.a started afresh.
    let plan = env
        .infra(&[
            "plan",
            "--detailed-exitcode",
            "--replace",
            "file.a",
            "--out",
            "replace.plan",
        ])
        .expect(2);
    assert!(
        plan.stdout
            .contains("# file.a will be replaced, as requested"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("file.b will"), "{}", plan.stdout);
    let json = env
        .infra(&["plan", "--format", "json", "--replace", "file.a"])
        .expect(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["replace"], serde_json::json!(["file.a"]));
    // The saved plan carries the request: applying it replaces without the flag.
    let before = env.head();
    let apply = env.infra(&["apply", "--yes", "replace.plan"]).expect(0);
    assert!(
        apply.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        apply.stdout
    );
    assert_ne!(env.head(), before, "the apply is committed");
    assert!(
        env.read("out/a.txt").ends_with("\na\n"),
        "{}",
        env.read("out/a.txt")
    );
    env.infra(&["plan", "--detailed-exitcode"]).expect(0);

    // A resource to replace is in scope even when --target names another.
    let plan = env
        .infra(&[
            "plan",
            "--detailed-exitcode",
            "--target",
            "file.b",
            "--replace",
            "file.a",
        ])
        .expect(2);
    assert!(
        plan.stdout
            .contains("# file.a will be replaced, as requested"),
        "{}",
        plan.stdout
    );
}

#[test]
fn apply_format_json_reports_what_was_done() {
    let env = TestEnv::example();
    let refused = env.infra(&["apply", "--format", "json"]).expect(1);
    assert!(refused.stderr.contains("needs --yes"), "{}", refused.stderr);
    let run = env
        .infra(&["apply", "--yes", "--no-commit", "--format", "json"])
        .expect(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON report ({e}):\n{}", run.stdout));
    assert_eq!(report["ok"], true);
    assert_eq!(report["added"], 3, "{report:#}");
    assert_eq!(report["done"].as_array().unwrap().len(), 3);
    assert!(report["done"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["op"] == "create"));
    assert_eq!(report["state_changed"], true);
    let again = env
        .infra(&["apply", "--yes", "--no-commit", "--format", "json"])
        .expect(0);
    let report: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(
        (report["added"].as_u64(), report["ok"].as_bool()),
        (Some(0), Some(true))
    );
}

#[test]
fn state_and_capability_lists_have_a_json_form() {
    let env = TestEnv::example();
    env.infra(&["apply", "--yes", "--no-commit"]).expect(0);
    let run = env.infra(&["state", "list", "--json"]).expect(0);
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3, "{list:?}");
    assert!(list
        .iter()
        .all(|r| r["kind"] == "file" && r["provider"] == "local" && r["id"].is_string()));
    let human = env.infra(&["state", "list"]).expect(0);
    assert_eq!(human.stdout.lines().count(), 3, "{}", human.stdout);

    let caps = env.infra(&["capabilities", "list", "--json"]).expect(0);
    let caps: serde_json::Value = serde_json::from_str(&caps.stdout).unwrap();
    let web = caps["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "web-service")
        .unwrap_or_else(|| panic!("{caps:#}"));
    assert_eq!(web["source"], "builtin");
    assert!(web["params"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "port" && p["type"].is_string()));
}
