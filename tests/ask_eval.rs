//! The conversation's quality gate: the development set's runner
//! (`../shared/ask-dev/run.py`) scores `infra ask` on both of its projects, and
//! this project's own sets (`tests/ask-eval/`, three more project shapes) check
//! that what was learned is the language, not the dev set's names. Each project must
//! reach at least 95% of tier-1 and 90% of tier-2 cases, with no removal the
//! request did not ask for.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

struct Score {
    tier1: (u32, u32),
    tier2: (u32, u32),
    destructive: u32,
    report: String,
}

fn score(cases: &Path, fixture: &Path) -> Score {
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/ask-dev/run.py");
    assert!(
        runner.exists(),
        "the development set's runner is missing: {}",
        runner.display()
    );
    let out = Command::new("python3")
        .arg(&runner)
        .arg(common::infra_bin())
        .arg("--cases")
        .arg(cases)
        .arg("--fixture")
        .arg(fixture)
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .output()
        .expect("run python3");
    let report =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let line = report
        .lines()
        .find(|l| l.starts_with("ask-eval:"))
        .unwrap_or_else(|| panic!("no summary line in:\n{report}"))
        .to_string();
    // "ask-eval: tier1 P/N, tier2 P/N, D destructive-unasked, median T ms"
    let frac = |tag: &str| -> (u32, u32) {
        let rest = line.split(tag).nth(1).expect("tier").trim_start();
        let (p, n) = rest.split(',').next().unwrap().split_once('/').unwrap();
        (p.trim().parse().unwrap(), n.trim().parse().unwrap())
    };
    let destructive = line
        .split(", ")
        .find(|p| p.ends_with("destructive-unasked"))
        .and_then(|p| p.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("destructive count");
    Score {
        tier1: frac("tier1"),
        tier2: frac("tier2"),
        destructive,
        report,
    }
}

fn gate(cases: PathBuf, fixture: PathBuf) {
    gate_at(cases, fixture, 95.0, 90.0);
}

fn gate_at(cases: PathBuf, fixture: PathBuf, tier1: f64, tier2: f64) {
    let s = score(&cases, &fixture);
    let pct = |(p, n): (u32, u32)| {
        if n == 0 {
            100.0
        } else {
            100.0 * p as f64 / n as f64
        }
    };
    eprintln!("{}", s.report);
    assert_eq!(
        s.destructive, 0,
        "a request removed what it did not ask to:\n{}",
        s.report
    );
    assert!(
        pct(s.tier1) >= tier1,
        "tier 1 below {tier1}%: {:?}\n{}",
        s.tier1,
        s.report
    );
    assert!(
        pct(s.tier2) >= tier2,
        "tier 2 below {tier2}%: {:?}\n{}",
        s.tier2,
        s.report
    );
}

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/ask-dev")
        .join(rel)
}

#[test]
fn dev_set_homelab() {
    gate(shared("requests.toml"), shared("fixture"));
}

#[test]
fn dev_set_agency() {
    gate(shared("requests-agency.toml"), shared("fixture-agency"));
}

fn own(set: &str) {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ask-eval");
    gate(
        here.join(format!("requests-{set}.toml")),
        here.join(format!("fixture-{set}")),
    );
}

/// Three more projects of other shapes, written apart from the grammar: a lab on
/// Proxmox, a startup on Docker and Cloudflare typing tersely, a school's
/// volunteer writing whole sentences with background first.
#[test]
fn own_set_lab() {
    own("lab");
}

#[test]
fn own_set_startup() {
    own("startup");
}

#[test]
fn own_set_school() {
    own("school");
}

/// The last set written, scored once before any change for it (45/55, 26/40)
/// and kept at the review's bar for unseen sets: 90% and 75%.
#[test]
fn own_set_consultancy() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ask-eval");
    gate_at(
        here.join("requests-consultancy.toml"),
        here.join("fixture-consultancy"),
        90.0,
        75.0,
    );
}
