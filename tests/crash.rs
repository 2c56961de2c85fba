//! SIGKILL during apply, at many points: the next plan must be correct (no lost
//! state, no duplicate objects) and the next apply must converge.

mod common;
use std::time::Duration;

use common::TestEnv;

const N: usize = 300;

fn files(n: usize, content: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[file.f{i}]\npath = \"d{}/f{i}.txt\"\ncontent = \"{content} {i}\\n\"\n\n",
                i % 7
            )
        })
        .collect()
}

/// Start an apply and SIGKILL it after `delay`. Returns None if the apply finished
/// first, else whether the kill left an interrupted apply behind (a journal).
fn kill_after(env: &TestEnv, delay: Duration) -> Option<bool> {
    let mut child = env
        .cmd(&["apply", "--yes", "--parallelism", "3"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    if child.try_wait().unwrap().is_some() {
        return None;
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let interrupted = env.exists(".infra/journal.jsonl");
    // The lock died with the process: the next apply (the next kill, or
    // `converge`) takes it over without `force-unlock`.
    check_plan(env, delay);
    Some(interrupted)
}

/// The plan must be computable, and it must never create a file that already
/// exists: such a file is recorded (journal) or adopted (marker), not duplicated.
fn check_plan(env: &TestEnv, delay: Duration) {
    let run = env.infra(&["plan", "--format", "json"]).expect(0);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    for c in plan["changes"].as_array().unwrap() {
        if c["action"] == "create" {
            let path = c["after"]["path"].as_str().unwrap();
            assert!(
                !env.exists(&format!("out/{path}")),
                "plan creates {path}, which exists (killed after {delay:?})"
            );
        }
    }
}

/// Kill applies at ever later points until one finishes on its own.
fn kill_repeatedly(env: &TestEnv) {
    let mut interrupted = 0;
    for i in 0..60u64 {
        match kill_after(env, Duration::from_millis(1 + 2 * i)) {
            None => break,
            Some(true) => interrupted += 1,
            Some(false) => {}
        }
    }
    assert!(
        interrupted >= 2,
        "only {interrupted} kills landed mid-apply; the test did not exercise crashes"
    );
}

fn converge(env: &TestEnv, expect_files: usize) {
    env.infra(&["apply", "--yes"]).expect(0);
    env.infra(&["plan", "--detailed-exitcode"]).expect(0);
    let state: serde_json::Value = serde_json::from_str(&env.read(".infra/state.json")).unwrap();
    assert_eq!(state["resources"].as_object().unwrap().len(), expect_files);
    let mut on_disk = 0;
    for d in 0..7 {
        if let Ok(rd) = std::fs::read_dir(env.p(&format!("out/d{d}"))) {
            on_disk += rd
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .ends_with(".txt")
                })
                .count();
        }
    }
    assert_eq!(on_disk, expect_files, "files on disk");
}

#[test]
fn sigkill_at_many_points_never_loses_state() {
    let env = TestEnv::with_resources(&files(N, "v1"));
    // Phase 1: creates.
    kill_repeatedly(&env);
    converge(&env, N);
    // Phase 2: updates.
    env.write("infra/main.toml", &files(N, "v2"));
    env.commit_all("v2");
    kill_repeatedly(&env);
    converge(&env, N);
    assert!(env.read("out/d0/f0.txt").ends_with("v2 0\n"));
    // Phase 3: deletes.
    env.write("infra/main.toml", &files(N / 3, "v2"));
    env.commit_all("fewer");
    kill_repeatedly(&env);
    converge(&env, N / 3);
}
