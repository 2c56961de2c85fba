//! SIGKILL at each instant where an apply has work half done — between a temp
//! write and its rename, after a journal entry, after the state is saved, and at
//! each step of the git commit — chosen with `INFRA_KILL_AT` instead of a timer,
//! so every instant is hit every run. After each kill: no lock in the way, no
//! stale index; the next apply commits the state, leaves no temp file and no
//! orphan, and converges.

mod common;
use std::os::unix::process::ExitStatusExt;

use common::TestEnv;

const FILES: usize = 6;

fn files(n: usize, content: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[file.f{i}]\npath = \"d{}/f{i}.txt\"\ncontent = \"{content} {i}\\n\"\n\n",
                i % 2
            )
        })
        .collect()
}

/// Every kill point, with which pass of it to kill at.
const POINTS: &[&str] = &[
    "write:before-rename:1",
    "write:before-rename:4",
    "journal:after-append:1",
    "journal:after-append:3",
    "state:saved:1",
    "git:after-object:1",
    "git:after-index:1",
    "git:after-branch:1",
];

fn files_on_disk(env: &TestEnv) -> usize {
    (0..2)
        .filter_map(|d| std::fs::read_dir(env.p(&format!("out/d{d}"))).ok())
        .flat_map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".txt") && !n.starts_with('.'))
        .count()
}

/// Kill an apply at `point`; then check what the kill left and that one more
/// apply repairs everything. Returns whether the apply passed the point (a
/// delete-only apply writes no files, so it never reaches the 4th file write).
fn kill_then_recover(env: &TestEnv, point: &str, expect_files: usize) -> bool {
    let out = env
        .cmd(&["apply", "--yes", "--parallelism", "1"])
        .env("INFRA_KILL_AT", point)
        .output()
        .unwrap();
    let killed = out.status.signal() == Some(9);
    assert!(
        killed || out.status.success(),
        "{point}: the apply failed instead:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Never a new HEAD with the old record in the index (`MM`): a later
    // `git commit` would put the old state back.
    let status = env.state_status();
    assert!(
        ["", " M", "M ", "A ", "??"].contains(&status.as_str()),
        "{point}: .infra/state.json is `{status}` after the kill"
    );
    assert!(!env.exists(".git/index.lock"), "{point}: index.lock left");
    // No lock in the way, and the plan never creates what exists.
    env.infra(&["plan"]).expect(0);
    let run = env.infra(&["apply", "--yes"]);
    assert_eq!(
        run.code,
        0,
        "{point}: recovery apply failed:\n{}",
        run.all()
    );
    assert_eq!(
        env.state_status(),
        "",
        "{point}: the state is not committed"
    );
    assert_eq!(
        env.temp_files(),
        Vec::<String>::new(),
        "{point}: temp files left"
    );
    assert_eq!(
        files_on_disk(env),
        expect_files,
        "{point}: orphans or missing files"
    );
    env.infra(&["plan", "--detailed-exitcode"]).expect(0);
    env.git(&["diff", "--quiet", "HEAD", "--", ".infra/state.json"]);
    killed
}

#[test]
fn a_kill_at_every_step_of_apply_is_recovered() {
    for point in POINTS {
        let env = TestEnv::with_resources(&files(FILES, "v1"));
        // Creates (the first apply also makes the first state commit), updates, deletes.
        assert!(
            kill_then_recover(&env, point, FILES),
            "{point}: never reached"
        );
        env.write("infra/main.toml", &files(FILES, "v2"));
        env.commit_all("update");
        assert!(
            kill_then_recover(&env, point, FILES),
            "{point}: never reached"
        );
        env.write("infra/main.toml", &files(FILES / 2, "v2"));
        env.commit_all("delete");
        kill_then_recover(&env, point, FILES / 2);
    }
}

#[test]
fn an_index_lock_of_a_killed_infra_is_recovered_and_a_foreign_one_is_named() {
    let env = TestEnv::with_resources(&files(2, "v1"));
    env.infra(&["apply", "--yes"]).expect(0);
    env.write("infra/main.toml", &files(3, "v1"));
    env.commit_all("three");
    // A git command that is still running (or was killed) holds the index.
    std::fs::write(env.p(".git/index.lock"), "").unwrap();
    let run = env.infra(&["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains(".git/index.lock"),
        "names the file: {}",
        run.all()
    );
    assert!(
        env.exists(".git/index.lock"),
        "another git's lock is not removed"
    );
    std::fs::remove_file(env.p(".git/index.lock")).unwrap();
    // Removing it is all the fix: the state saved by that apply is committed next.
    env.infra(&["apply", "--yes"]).expect(0);
    assert_eq!(env.state_status(), "");
    assert_eq!(files_on_disk(&env), 3);

    // An infra killed while git2 held the index lock: its marker names a process
    // that is gone (a pid above the kernel's pid_max), so the lock is its own.
    env.write("infra/main.toml", &files(4, "v1"));
    env.commit_all("four");
    std::fs::write(env.p(".git/infra-commit.pid"), "4194999").unwrap();
    std::fs::write(env.p(".git/index.lock"), "").unwrap();
    env.infra(&["apply", "--yes"]).expect(0);
    assert!(!env.exists(".git/index.lock"));
    assert!(!env.exists(".git/infra-commit.pid"));
    assert_eq!(env.state_status(), "");
    assert_eq!(files_on_disk(&env), 4);
}
