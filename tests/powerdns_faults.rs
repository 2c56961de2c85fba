//! The PowerDNS API misbehaving under a real `infra apply`: a real server behind
//! a fault-injecting proxy (labkit::faultproxy). Every case ends either in
//! success after retries or in a clear error, and in both the recorded state
//! matches what the server holds (checked with `infra plan` and the API).

mod common;
mod labkit;

use std::sync::Arc;
use std::time::Duration;

use common::{Run, TestEnv};
use labkit::faultproxy::{Fault, FaultProxy};
use labkit::pdns::{Pdns, KEY};
use serde_json::Value;

const A: &str = "a.test";
const B: &str = "b.test";

struct Lab {
    pdns: Pdns,
    proxy: FaultProxy,
    env: TestEnv,
}

impl Lab {
    /// A project whose `dns` provider talks to PowerDNS through the proxy, with
    /// a 2 s request timeout, and `records` = (zone, name, content) A records.
    fn new(records: &[(&str, &str, &str)]) -> Lab {
        let pdns = Pdns::start(&[A, B]);
        let proxy = FaultProxy::start(pdns.api_port);
        let env = TestEnv::new();
        env.git(&["init", "-q", "-b", "main"]);
        env.write(
            "infra.toml",
            &format!(
                "[project]\nname = \"faults\"\n\n{}",
                pdns.provider_toml("dns", &proxy.url(), &[A, B], "timeout_secs = 2\n")
            ),
        );
        env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
        let spec: String = records
            .iter()
            .map(|(zone, name, content)| {
                format!("[dns_record.{name}]\nzone = \"{zone}\"\nname = \"{name}\"\ntype = \"A\"\ncontent = \"{content}\"\n\n")
            })
            .collect();
        env.write("infra/main.toml", &spec);
        env.commit_all("spec");
        Lab { pdns, proxy, env }
    }

    fn infra(&self, args: &[&str]) -> Run {
        self.env.infra_with_secrets(args, &[("PDNS_TEST_KEY", KEY)])
    }

    fn no_changes(&self) {
        let run = self.infra(&["plan", "--detailed-exitcode"]);
        assert_eq!(run.code, 0, "plan is not empty:\n{}", run.all());
    }

    /// Addresses recorded in the state.
    fn recorded(&self) -> Vec<String> {
        if !self.env.exists(".infra/state.json") {
            return Vec::new();
        }
        let state: Value = serde_json::from_str(&self.env.read(".infra/state.json")).unwrap();
        let mut out: Vec<String> = state["resources"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Does the server hold `name` in `zone` with `content` and our marker?
    fn live(&self, zone: &str, name: &str, content: &str) -> bool {
        self.pdns
            .rrset(zone, &format!("{name}.{zone}"), "A")
            .is_some_and(|r| {
                r["records"][0]["content"] == content
                    && r["comments"][0]["content"]
                        == format!("infra:faults/dns_record.{name} {content}")
            })
    }
}

#[test]
fn a_500_once_is_retried_and_the_apply_converges() {
    let lab = Lab::new(&[(A, "www", "10.0.0.1"), (A, "api", "10.0.0.2")]);
    lab.proxy.on("PATCH", "/zones/", 1, Fault::Status500);
    let run = lab.infra(&["apply", "--yes"]).expect(0);
    assert_eq!(
        lab.proxy.faults_for("PATCH"),
        vec!["500", "pass"],
        "{}",
        run.all()
    );
    assert!(lab.live(A, "www", "10.0.0.1") && lab.live(A, "api", "10.0.0.2"));
    assert_eq!(lab.recorded(), vec!["dns_record.api", "dns_record.www"]);
    lab.no_changes();
}

#[test]
fn a_429_is_retried_after_the_pause_it_asks_for() {
    let lab = Lab::new(&[(A, "www", "10.0.0.1")]);
    lab.proxy.on("PATCH", "/zones/", 1, Fault::Status429);
    let run = lab.infra(&["apply", "--yes"]).expect(0);
    // The request answered 429 was sent again, and that one went through.
    assert_eq!(
        lab.proxy.faults_for("PATCH"),
        vec!["429", "pass"],
        "{}",
        run.all()
    );
    assert!(lab.live(A, "www", "10.0.0.1"));
    lab.no_changes();
}

#[test]
fn a_hung_request_times_out_and_is_retried() {
    let lab = Lab::new(&[(A, "www", "10.0.0.1")]);
    lab.proxy
        .on("PATCH", "/zones/", 1, Fault::Hang(Duration::from_secs(20)));
    let run = lab.infra(&["apply", "--yes"]).expect(0);
    assert_eq!(
        lab.proxy.faults_for("PATCH"),
        vec!["hang", "pass"],
        "{}",
        run.all()
    );
    assert!(lab.live(A, "www", "10.0.0.1"));
    lab.no_changes();
}

#[test]
fn a_lost_answer_is_retried_without_a_duplicate() {
    // The server made the change but the answer never came: the retry finds
    // the rrset carrying our own marker and writes it again.
    let lab = Lab::new(&[(A, "www", "10.0.0.1")]);
    lab.proxy.on(
        "PATCH",
        "/zones/",
        1,
        Fault::LoseAnswer(Duration::from_secs(20)),
    );
    let run = lab.infra(&["apply", "--yes"]).expect(0);
    assert_eq!(
        lab.proxy.faults_for("PATCH"),
        vec!["lose-answer", "pass"],
        "{}",
        run.all()
    );
    assert!(lab.live(A, "www", "10.0.0.1"));
    let www: Vec<Value> = lab
        .pdns
        .rrsets(A)
        .into_iter()
        .filter(|r| r["name"] == "www.a.test.")
        .collect();
    assert_eq!(www.len(), 1);
    lab.no_changes();
}

#[test]
fn a_server_that_keeps_failing_gives_a_clear_error_and_nothing_recorded() {
    let lab = Lab::new(&[(A, "www", "10.0.0.1")]);
    lab.proxy.on("PATCH", "/zones/", 100, Fault::Status500);
    let run = lab.infra(&["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains("injected fault: internal error"),
        "the API's own message is shown:\n{}",
        run.all()
    );
    assert_eq!(
        lab.proxy.faults_for("PATCH").len(),
        5,
        "first try + 4 retries, then stop"
    );
    assert!(lab.pdns.rrset(A, "www.a.test", "A").is_none());
    assert!(!lab.recorded().contains(&"dns_record.www".to_string()));
}

#[test]
fn the_server_dying_mid_apply_leaves_true_state_and_the_next_apply_converges() {
    let mut lab = Lab::new(&[
        (A, "one", "10.0.1.1"),
        (A, "two", "10.0.1.2"),
        (B, "three", "10.0.2.3"),
        (B, "four", "10.0.2.4"),
    ]);
    // Zones are written in order (a.test, then b.test); the server dies right
    // after answering the first zone's PATCH.
    let pid = lab.pdns.pid() as i32;
    let kill: Arc<dyn Fn() + Send + Sync> = Arc::new(move || unsafe {
        libc::kill(pid, libc::SIGKILL);
    });
    lab.proxy.on("PATCH", "/zones/", 1, Fault::PassThen(kill));
    let run = lab.infra(&["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains("PowerDNS at http://127.0.0.1:"),
        "the error names the server:\n{}",
        run.all()
    );
    // What was applied is recorded; what was not, is not.
    assert_eq!(lab.recorded(), vec!["dns_record.one", "dns_record.two"]);
    // While the server is down, a plan says so instead of guessing.
    let down = lab.infra(&["plan"]);
    assert_eq!(down.code, 1, "{}", down.all());
    assert!(down.all().contains("PowerDNS at"), "{}", down.all());

    lab.pdns.stop();
    lab.pdns.spawn();
    assert!(lab.live(A, "one", "10.0.1.1") && lab.live(A, "two", "10.0.1.2"));
    assert!(lab.pdns.rrset(B, "three.b.test", "A").is_none());
    let plan = lab.infra(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    lab.infra(&["apply", "--yes"]).expect(0);
    assert!(lab.live(B, "three", "10.0.2.3") && lab.live(B, "four", "10.0.2.4"));
    lab.no_changes();
}
