//! The README's first command, end to end: `examples/demo.sh` starts the lab
//! (tests/lab/lab.sh), asks for the API scanner, applies it, checks it through
//! nginx, dig and Prometheus, and tears it down; then a service with HTTPS, its
//! card, and the page over HTTPS. Run with the binary under test.

use std::process::Command;

#[test]
#[ignore = "the end-to-end demo runs alone, after the parallel suite: tests/run-all.sh"]
fn the_readme_demo_works_against_the_lab() {
    let work = tempfile::tempdir().unwrap();
    let repo = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .arg(format!("{repo}/examples/demo.sh"))
        .arg(work.path())
        .env("INFRA_BIN", env!("CARGO_BIN_EXE_infra"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "demo failed:\n{text}");
    for needle in [
        "Plan: 4 to add, 0 to change, 0 to destroy.",
        "Apply complete! Resources: 4 added, 0 changed, 0 destroyed.",
        "hello from the infra lab container",
        "127.0.100.50",
        "health: up",
        "probe_success = 1",
        "Apply complete! Resources: 0 added, 0 changed, 4 destroyed.",
        "nginx answers 404",
        "Plan: 5 to add, 0 to change, 0 to destroy.",
        "https://grafana.lab.example.com:",
        "lab: stopped",
    ] {
        assert!(
            text.contains(needle),
            "missing {needle:?} in the demo output:\n{text}"
        );
    }
    // Once over HTTP through nginx, once over HTTPS with the certificate infra obtained.
    assert!(
        text.matches("hello from the infra lab container").count() >= 2,
        "the HTTPS page is missing:\n{text}"
    );
    // Nothing of the lab is left running.
    let ps = Command::new("pgrep")
        .args(["-f", &work.path().display().to_string()])
        .output()
        .unwrap();
    assert!(
        ps.stdout.is_empty(),
        "processes left running: {}",
        String::from_utf8_lossy(&ps.stdout)
    );
}
