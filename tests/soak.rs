//! Soak: random SIGKILLs of `infra apply` against the file provider, a private
//! PowerDNS and a private Docker Engine, while the spec moves between creates,
//! updates and deletes. Half the kills come from a timer (any instant), half
//! from a random kill point (`INFRA_KILL_AT`: between a temp write and its
//! rename, after a journal entry, inside the git commit). After every kill: no
//! stale index, no lock in the way (the next plan runs). At the end one apply
//! must converge: the state committed, no temp file, exactly one live object per
//! resource (no orphan, no duplicate), an empty plan.
//!
//! The short run is part of the suite; the long one prints the README's figures:
//! `SOAK_KILLS=100 cargo test --release --test soak -- --ignored --nocapture`

mod common;
mod labkit;

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use common::{Rng, TestEnv};
use labkit::dockerd::{Dockerd, BUSYBOX};
use labkit::pdns::{Pdns, KEY};

const POINTS: &[&str] = &[
    "write:before-rename",
    "journal:after-append",
    "state:saved",
    "git:after-object",
    "git:after-index",
    "git:after-branch",
];

/// One system under the soak: its provider block, the spec for a round, and a
/// count of the live objects this project owns.
trait Target {
    fn name(&self) -> &'static str;
    fn providers(&self) -> String;
    fn env(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// `n` resources, contents of generation `g`.
    fn spec(&self, n: usize, g: u64) -> String;
    /// Live objects marked by the project, by address (duplicates show twice).
    fn owned(&self, env: &TestEnv) -> Vec<String>;
    /// The longest a timer kill waits (an apply of this target takes about this long).
    fn max_delay_ms(&self) -> u64;
}

struct Files;

impl Target for Files {
    fn name(&self) -> &'static str {
        "file"
    }
    fn providers(&self) -> String {
        "[providers.local]\nkind = \"file\"\nroot = \"out\"\n".into()
    }
    fn spec(&self, n: usize, g: u64) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "[file.f{i}]\npath = \"d{}/f{i}.txt\"\ncontent = \"gen {g} {i}\\n\"\n\n",
                    i % 3
                )
            })
            .collect()
    }
    fn owned(&self, env: &TestEnv) -> Vec<String> {
        let mut out = Vec::new();
        for d in 0..3 {
            let Ok(rd) = std::fs::read_dir(env.p(&format!("out/d{d}"))) else {
                continue;
            };
            for e in rd {
                let text = std::fs::read_to_string(e.unwrap().path()).unwrap_or_default();
                if let Some(rest) = text.strip_prefix("# infra:soak/") {
                    out.push(
                        rest.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_string(),
                    );
                }
            }
        }
        out.sort();
        out
    }
    fn max_delay_ms(&self) -> u64 {
        150
    }
}

struct PowerDns(Pdns);

impl Target for PowerDns {
    fn name(&self) -> &'static str {
        "powerdns"
    }
    fn providers(&self) -> String {
        self.0
            .provider_toml("dns", &self.0.api_url(), &["soak.test"], "")
    }
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![("PDNS_TEST_KEY", KEY.to_string())]
    }
    fn spec(&self, n: usize, g: u64) -> String {
        (0..n)
            .map(|i| format!("[dns_record.r{i}]\nzone = \"soak.test\"\nname = \"r{i}\"\ntype = \"A\"\ncontent = \"10.0.{}.{}\"\n\n", g % 250, i + 1))
            .collect()
    }
    fn owned(&self, _: &TestEnv) -> Vec<String> {
        let mut out: Vec<String> = self
            .0
            .rrsets("soak.test")
            .iter()
            .flat_map(|r| r["comments"].as_array().cloned().unwrap_or_default())
            .filter_map(|c| {
                Some(
                    c["content"]
                        .as_str()?
                        .strip_prefix("infra:soak/")?
                        .to_string(),
                )
            })
            .collect();
        out.sort();
        out
    }
    fn max_delay_ms(&self) -> u64 {
        400
    }
}

struct Docker(Dockerd);

impl Target for Docker {
    fn name(&self) -> &'static str {
        "docker"
    }
    fn providers(&self) -> String {
        format!(
            "[providers.engine]\nkind = \"docker\"\nsocket = \"{}\"\n",
            self.0.host()
        )
    }
    fn spec(&self, n: usize, g: u64) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "[container.c{i}]\nhostname = \"c{i}\"\nimage = \"{BUSYBOX}\"\ncommand = \"/bin/busybox sleep {}\"\nip = \"127.0.0.1/8\"\n\n",
                    3600 + g
                )
            })
            .collect()
    }
    fn owned(&self, _: &TestEnv) -> Vec<String> {
        let out = self
            .0
            .docker_ok(&["ps", "-a", "--format", "{{.Label \"infra.owner\"}}"]);
        let mut v: Vec<String> = out
            .lines()
            .filter_map(|l| l.strip_prefix("infra:soak/").map(String::from))
            .collect();
        v.sort();
        v
    }
    fn max_delay_ms(&self) -> u64 {
        1500
    }
}

struct Figures {
    kills: usize,
    landed_mid_apply: usize,
    stale_index: usize,
    plan_failed: usize,
    uncommitted: usize,
    temp_files: usize,
    orphans_or_duplicates: usize,
    seconds: f64,
}

fn project(t: &dyn Target) -> TestEnv {
    let env = TestEnv::new();
    env.git(&["init", "-q", "-b", "main"]);
    env.write(
        "infra.toml",
        &format!("[project]\nname = \"soak\"\n\n{}", t.providers()),
    );
    env.write(
        ".gitignore",
        "/out/\n.infra/lock\n.infra/journal.jsonl\n.infra/.*.tmp.*\n",
    );
    env.write("infra/main.toml", "");
    env.commit_all("project");
    env
}

fn infra(
    env: &TestEnv,
    t: &dyn Target,
    args: &[&str],
    kill_at: Option<&str>,
) -> std::process::Child {
    let mut cmd = env.cmd(args);
    for (k, v) in t.env() {
        cmd.env(k, v);
    }
    if let Some(p) = kill_at {
        cmd.env("INFRA_KILL_AT", p);
    }
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

fn soak(t: &dyn Target, kills: usize, seed: u64) -> Figures {
    let env = project(t);
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut f = Figures {
        kills: 0,
        landed_mid_apply: 0,
        stale_index: 0,
        plan_failed: 0,
        uncommitted: 0,
        temp_files: 0,
        orphans_or_duplicates: 0,
        seconds: 0.0,
    };
    // How long a full apply takes here: timer kills fall inside it. The
    // shorter of two applies (the first pays for first-time costs, and a busy
    // CI machine stretches any one run), less a fifth, so a kill lands while
    // the apply still runs.
    let mut generation = 0;
    let mut count = 6;
    let mut full_ms = u64::MAX;
    for _ in 0..2 {
        generation += 1;
        env.write("infra/main.toml", &t.spec(count, generation));
        env.commit_all(&format!("calibration {generation}"));
        let t0 = Instant::now();
        assert!(infra(&env, t, &["apply", "--yes"], None)
            .wait()
            .unwrap()
            .success());
        full_ms = full_ms.min(t0.elapsed().as_millis() as u64);
    }
    let full_ms = (full_ms * 4 / 5).clamp(5, t.max_delay_ms());
    while f.kills < kills {
        // A new spec before every kill: each apply has creates, updates or deletes to do.
        generation += 1;
        count = 2 + rng.below(5) as usize;
        env.write("infra/main.toml", &t.spec(count, generation));
        env.commit_all(&format!("generation {generation}"));
        let point = if rng.below(2) == 0 {
            Some(format!(
                "{}:{}",
                POINTS[rng.below(POINTS.len() as u64) as usize],
                1 + rng.below(2)
            ))
        } else {
            None
        };
        let mut child = infra(
            &env,
            t,
            &["apply", "--yes", "--parallelism", "2"],
            point.as_deref(),
        );
        let status = match &point {
            Some(_) => child.wait().unwrap(),
            None => {
                std::thread::sleep(Duration::from_millis(1 + rng.below(full_ms)));
                match child.try_wait().unwrap() {
                    Some(s) => s,
                    None => {
                        let _ = child.kill();
                        child.wait().unwrap()
                    }
                }
            }
        };
        f.kills += 1;
        if status.signal() == Some(9) {
            f.landed_mid_apply += 1;
        }
        if env.state_status() == "MM" {
            f.stale_index += 1;
        }
        let mut plan = infra(&env, t, &["plan"], None);
        if !plan.wait().unwrap().success() {
            f.plan_failed += 1;
        }
    }
    // Converge.
    let mut apply = infra(&env, t, &["apply", "--yes"], None);
    assert!(
        apply.wait().unwrap().success(),
        "{}: the converging apply failed",
        t.name()
    );
    if !env.state_status().is_empty() {
        f.uncommitted += 1;
    }
    f.temp_files = env.temp_files().len();
    let owned = t.owned(&env);
    let mut unique = owned.clone();
    unique.dedup();
    if owned.len() != count || unique.len() != count {
        f.orphans_or_duplicates += owned.len().abs_diff(count) + owned.len() - unique.len();
    }
    let mut plan = infra(&env, t, &["plan", "--detailed-exitcode"], None);
    assert!(
        plan.wait().unwrap().success(),
        "{}: the plan after converging is not empty",
        t.name()
    );
    f.seconds = started.elapsed().as_secs_f64();
    f
}

fn check(t: &dyn Target, f: &Figures) {
    println!(
        "soak {:>8}: {} kills ({} mid-apply) in {:.0} s: {} stale indexes, {} plans failed, {} uncommitted states, {} temp files, {} orphans or duplicates",
        t.name(), f.kills, f.landed_mid_apply, f.seconds, f.stale_index, f.plan_failed, f.uncommitted, f.temp_files, f.orphans_or_duplicates
    );
    assert_eq!(
        (
            f.stale_index,
            f.plan_failed,
            f.uncommitted,
            f.temp_files,
            f.orphans_or_duplicates
        ),
        (0, 0, 0, 0, 0),
        "{}",
        t.name()
    );
    assert!(
        f.landed_mid_apply * 3 >= f.kills,
        "{}: too few kills landed mid-apply",
        t.name()
    );
}

fn run_all(kills: usize) {
    let seed = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_u64);
    let files = Files;
    check(&files, &soak(&files, kills, seed));
    let pdns = PowerDns(Pdns::start(&["soak.test"]));
    check(&pdns, &soak(&pdns, kills, seed ^ 1));
    let engine = Dockerd::start();
    engine.import_busybox(BUSYBOX);
    let docker = Docker(engine);
    check(&docker, &soak(&docker, kills, seed ^ 2));
}

#[test]
fn soak_short() {
    run_all(12);
}

#[test]
#[ignore]
fn soak_long() {
    let kills = std::env::var("SOAK_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    run_all(kills);
}
