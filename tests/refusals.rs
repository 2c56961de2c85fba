//! Bad input and unsafe situations: each gets a clear error and changes nothing.

mod common;
use common::TestEnv;

fn refused(env: &TestEnv, args: &[&str], expect: &[&str]) {
    let before = env.snapshot();
    let head = env.head();
    let run = env.infra(args).expect(1);
    for e in expect {
        assert!(run.stderr.contains(e), "expected {e:?} in:\n{}", run.stderr);
    }
    assert_eq!(env.snapshot(), before, "refused command changed files");
    assert_eq!(env.head(), head, "refused command made a commit");
}

#[test]
fn corrupt_state_file() {
    let env = TestEnv::example();
    env.infra(&["apply", "--yes"]).expect(0);
    let state = env.read(".infra/state.json");
    env.write(
        ".infra/state.json",
        &state.replacen("\"serial\": 1", "\"serial\": one", 1),
    );
    env.commit_all("break state");
    refused(
        &env,
        &["plan"],
        &[
            ".infra/state.json:",
            "state file is not valid",
            "git checkout -- .infra/state.json",
        ],
    );
    refused(&env, &["apply", "--yes"], &["state file is not valid"]);
}

/// Run infra, killed (and failed as a hang) after 10 s.
fn bounded(env: &TestEnv, args: &[&str]) -> common::Run {
    let mut child = env
        .cmd(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("infra {args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    common::Run::from(child.wait_with_output().unwrap())
}

#[test]
fn state_and_journal_that_are_not_regular_files_are_named_never_read() {
    let env = TestEnv::example();
    env.infra(&["apply", "--yes"]).expect(0);
    let state = env.read(".infra/state.json");
    let mkfifo = |rel: &str| {
        let _ = std::fs::remove_file(env.p(rel));
        assert!(std::process::Command::new("mkfifo")
            .arg(env.p(rel))
            .status()
            .unwrap()
            .success());
    };
    // A FIFO as the state, then as the journal: an error naming it, no hang.
    mkfifo(".infra/state.json");
    let run = bounded(&env, &["plan"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains(".infra/state.json") && run.all().contains("not a regular file"),
        "{}",
        run.all()
    );
    std::fs::remove_file(env.p(".infra/state.json")).unwrap();
    env.write(".infra/state.json", &state);
    mkfifo(".infra/journal.jsonl");
    let run = bounded(&env, &["plan"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains(".infra/journal.jsonl") && run.all().contains("not a regular file"),
        "{}",
        run.all()
    );
    // A journal linked to /dev/zero: refused as a link, no 8 GiB read.
    std::fs::remove_file(env.p(".infra/journal.jsonl")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", env.p(".infra/journal.jsonl")).unwrap();
    let run = bounded(&env, &["plan"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.all().contains("symbolic link"), "{}", run.all());
    std::fs::remove_file(env.p(".infra/journal.jsonl")).unwrap();
    // Bytes that are not UTF-8: the line and column, not a hint about permissions.
    let mut bytes = state.clone().into_bytes();
    let at = state.find("\"serial\"").unwrap();
    bytes.insert(at, 0xff);
    std::fs::write(env.p(".infra/state.json"), bytes).unwrap();
    let run = bounded(&env, &["plan"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains("not valid UTF-8") && !run.all().contains("permissions"),
        "{}",
        run.all()
    );
    let line = state[..at].lines().count() + usize::from(state[..at].ends_with('\n'));
    assert!(
        run.all().contains(&format!(".infra/state.json:{line}:")),
        "line {line}: {}",
        run.all()
    );
}

#[test]
fn state_from_a_newer_infra() {
    let env = TestEnv::example();
    env.write(
        ".infra/state.json",
        "{\"version\": 7, \"lineage\": \"x\", \"serial\": 1, \"resources\": {}}\n",
    );
    env.commit_all("future state");
    refused(
        &env,
        &["plan"],
        &["state format version 7 is not supported"],
    );
}

#[test]
fn unknown_saved_plan_version() {
    let env = TestEnv::example();
    env.write("plan.json", "{\"infra_saved_plan\": 99, \"plan\": {}}");
    env.commit_all("plan file");
    refused(
        &env,
        &["apply", "plan.json"],
        &["saved-plan version 99 is not supported"],
    );
    env.write("garbage.json", "not json");
    env.commit_all("garbage");
    refused(
        &env,
        &["apply", "garbage.json"],
        &["garbage.json:1:2: not a saved plan"],
    );
}

#[test]
fn saved_plan_is_applied_exactly_and_refused_when_stale() {
    let env = TestEnv::example();
    let plan_file = env.p("saved.plan");
    let plan_path = plan_file.to_str().unwrap();
    env.infra(&["plan", "--out", plan_path]).expect(0);
    // Spec moved on: refused.
    env.write(
        "infra/site.toml",
        &env.read("infra/site.toml").replace("demo", "prod"),
    );
    env.write(
        "infra.toml",
        &env.read("infra.toml").replace("\"demo\"", "\"prod\""),
    );
    env.commit_all("spec moved");
    refused(
        &env,
        &["apply", plan_path],
        &["saved plan is stale: the spec changed"],
    );
    // A fresh plan applies without a prompt (no TTY needed: the plan was reviewed).
    env.infra(&["plan", "--out", plan_path]).expect(0);
    let run = env.infra(&["apply", plan_path]).expect(0);
    assert!(run.stdout.contains("3 added"), "{}", run.stdout);
    // The same plan again: the state moved, so it is stale.
    refused(
        &env,
        &["apply", plan_path],
        &["saved plan is stale: the state moved on"],
    );
    // Live drift after a saved plan also makes it stale.
    env.write(
        "infra.toml",
        &env.read("infra.toml").replace("\"prod\"", "\"qa\""),
    );
    env.commit_all("qa");
    env.infra(&["plan", "--out", plan_path]).expect(0);
    std::fs::remove_file(env.p("out/index.txt")).unwrap();
    refused(
        &env,
        &["apply", plan_path],
        &["live infrastructure changed since the plan was saved (file.index)"],
    );
}

#[test]
fn missing_git_repository() {
    let env = TestEnv::with_resources("[file.a]\npath = \"a\"\ncontent = \"x\"\n");
    std::fs::remove_dir_all(env.p(".git")).unwrap();
    let before = env.snapshot();
    let run = env.infra(&["apply", "--yes"]).expect(1);
    assert!(
        run.stderr.contains("is not inside a git repository"),
        "{}",
        run.stderr
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn detached_head() {
    let env = TestEnv::with_resources("[file.a]\npath = \"a\"\ncontent = \"x\"\n");
    let head = env.head();
    env.git(&["checkout", "-q", "--detach", &head]);
    refused(
        &env,
        &["apply", "--yes"],
        &["HEAD is detached", "git switch"],
    );
}

#[test]
fn dirty_spec_is_refused_unless_allowed() {
    let env = TestEnv::with_resources("[file.a]\npath = \"a\"\ncontent = \"x\"\n");
    env.write(
        "infra/main.toml",
        "[file.a]\npath = \"a\"\ncontent = \"y\"\n",
    );
    refused(
        &env,
        &["apply", "--yes"],
        &[
            "the spec has uncommitted changes",
            "infra/main.toml",
            "--allow-dirty",
        ],
    );
    env.infra(&["apply", "--yes", "--allow-dirty"]).expect(0);
    let log = env.git(&["log", "-1", "--format=%B"]).stdout;
    assert!(
        log.contains("Infra-Applied-Spec: uncommitted (--allow-dirty)"),
        "{log}"
    );
}

#[test]
fn a_held_lock_refuses_and_a_dead_holders_lock_is_taken_over() {
    let env = TestEnv::with_resources("[file.a]\npath = \"a\"\ncontent = \"x\"\n");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let details = format!(
        "{{\"id\":\"live1\",\"pid\":{},\"host\":\"{}\",\"operation\":\"infra apply\",\"created\":\"2026-01-01T00:00:00Z\"}}",
        std::process::id(),
        host.trim()
    );
    env.write(".infra/lock", &details);
    // This test holds the OS lock, as a running apply would.
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(env.p(".infra/lock"))
        .unwrap();
    held.lock().unwrap();
    refused(
        &env,
        &["apply", "--yes"],
        &["the project is locked: infra apply (pid"],
    );
    refused(&env, &["force-unlock"], &["held by a running process"]);
    // The holder dies (its OS lock goes with it); its details stay in the file.
    drop(held);
    let run = env.infra(&["apply", "--yes"]).expect(0);
    assert!(!run.stderr.contains("locked"), "{}", run.stderr);
    // force-unlock only clears details a dead holder left; here there are none.
    env.write(".infra/lock", &details.replace("live1", "dead1"));
    env.infra(&["force-unlock", "wrong"]).expect(1);
    env.infra(&["force-unlock", "dead1"]).expect(0);
    assert_eq!(env.read(".infra/lock"), "");
}

#[test]
fn partial_failure_records_what_happened() {
    let env = TestEnv::with_resources(
        "[file.ok]\npath = \"ok.txt\"\ncontent = \"fine\\n\"\n\n[file.bad]\npath = \"blocked/bad.txt\"\ncontent = \"x\"\n\n[file.after]\npath = \"after.txt\"\ncontent = \"${file.bad.path}\"\n",
    );
    // A plain file where a directory is needed: the provider's own error.
    env.write("out/blocked", "in the way");
    let run = env.infra(&["apply", "--yes"]).expect(1);
    assert!(
        run.stderr.contains("file.bad: create failed:"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("out/blocked"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("file.after: create skipped (a dependency failed)"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("1 added"), "{}", run.stdout);
    let log = env.git(&["log", "-1", "--format=%B"]).stdout;
    assert!(log.starts_with("infra apply (partial, 1 failed)"), "{log}");
    assert!(log.contains("Infra-Result: partial"), "{log}");
    assert_eq!(env.infra(&["state", "list"]).expect(0).stdout, "file.ok\n");
    let plan = env.infra(&["plan"]).expect(0);
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    std::fs::remove_file(env.p("out/blocked")).unwrap();
    env.infra(&["apply", "--yes"]).expect(0);
    env.infra(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn init_refuses_an_existing_project() {
    let env = TestEnv::example();
    refused(&env, &["init"], &["infra.toml already exists"]);
}
