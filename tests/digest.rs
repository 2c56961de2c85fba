//! The plan digest as the approval unit: `infra plan --format json` carries it,
//! the Markdown plan shows it, and `infra apply --expect-digest` applies only a
//! fresh plan with that digest, refusing (and changing nothing) otherwise.

mod common;
use common::TestEnv;
use serde_json::Value;

fn digest(env: &TestEnv) -> String {
    let run = env.infra(&["plan", "--format", "json"]).expect(0);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    plan["digest"]
        .as_str()
        .expect("the JSON plan has a digest")
        .to_string()
}

const SPEC: &str = "[file.motd]\npath = \"motd.txt\"\ncontent = \"hello\\n\"\n";

#[test]
fn the_reviewed_digest_is_applied_and_nothing_else() {
    let env = TestEnv::with_resources(SPEC);
    let reviewed = digest(&env);
    assert_eq!(reviewed.len(), 64);
    assert_eq!(digest(&env), reviewed, "the same plan has the same digest");
    let md = env
        .infra(&["plan", "--format", "markdown"])
        .expect(0)
        .stdout;
    assert!(md.contains(&format!("Plan digest: `{reviewed}`")), "{md}");

    // The spec moves on after the review: the old digest no longer applies.
    env.write("infra/main.toml", &SPEC.replace("hello", "hello again"));
    env.commit_all("a change after the review");
    let before = env.snapshot();
    let run = env.infra(&["apply", "--expect-digest", &reviewed]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains("the plan changed since it was reviewed")
            && run.all().contains("+ file.motd"),
        "{}",
        run.all()
    );
    assert_eq!(env.snapshot(), before, "nothing applied, nothing written");

    // The new plan, reviewed, applies without a question.
    let now = digest(&env);
    assert_ne!(now, reviewed);
    env.infra(&["apply", "--expect-digest", &now]).expect(0);
    assert!(env.read("out/motd.txt").ends_with("hello again\n"));
    // Applied: the state moved on, so the same digest is stale now.
    let run = env.infra(&["apply", "--expect-digest", &now]);
    assert_eq!(run.code, 1, "{}", run.all());
}

#[test]
fn a_ci_run_never_waits_for_an_answer_and_says_which_flag_gives_it() {
    let env = TestEnv::with_resources(SPEC);
    let before = env.snapshot();
    let out = env
        .cmd(&["apply"])
        .env("CI", "true")
        .output()
        .expect("run infra");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for needle in ["this is a CI run (CI=true)", "--yes", "--expect-digest"] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    assert_eq!(env.snapshot(), before);
}
