//! SIGKILL during apply, at many points: the next plan must be correct (no lost
//! state, no duplicate objects) and the next apply must converge.

mod common;
use std::time::Duration;

use common::TestEnv;

const N: usize = 120;

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

/// Start an apply, kill it after `delay`, then check the invariants.
fn kill_and_check(env: &TestEnv, delay: Duration) {
    let mut child = env
        .cmd(&["apply", "--yes", "--parallelism", "3"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    if env.exists(".infra/lock") {
        env.infra(&["force-unlock"]).expect(0);
    }
    // The plan must be computable, and it must never plan to create a file that exists
    // with content already right: such a file is recorded or adopted, not duplicated.
    let run = env.infra(&["plan", "--format", "json"]).expect(0);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    for c in plan["changes"].as_array().unwrap() {
        if c["action"] == "create" {
            let path = c["after"]["path"].as_str().unwrap();
            assert!(
                !env.exists(&format!("out/{path}")),
                "plan creates {path}, which exists (delay {delay:?})"
            );
        }
    }
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
    let delays = [2u64, 8, 15, 25, 40, 60, 90, 130, 200];
    // Phase 1: creates.
    for d in delays {
        kill_and_check(&env, Duration::from_millis(d));
    }
    converge(&env, N);
    // Phase 2: updates.
    env.write("infra/main.toml", &files(N, "v2"));
    env.commit_all("v2");
    for d in delays {
        kill_and_check(&env, Duration::from_millis(d));
    }
    converge(&env, N);
    assert!(env.read("out/d0/f0.txt").ends_with("v2 0\n"));
    // Phase 3: deletes.
    env.write("infra/main.toml", &files(N / 3, "v2"));
    env.commit_all("fewer");
    for d in delays {
        kill_and_check(&env, Duration::from_millis(d));
    }
    converge(&env, N / 3);
}
