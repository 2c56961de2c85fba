//! `infra adopt` against the lab's PowerDNS: a zone nobody wrote for infra
//! (octoDNS's full-data fixture, 19 record types) is described in one commit;
//! the plan after it changes nothing but the ownership markers, the apply that
//! writes them changes no record, and a second adopt proposes nothing.

mod common;
mod labkit;

use common::{Run, TestEnv};
use labkit::faultproxy::FaultProxy;
use labkit::pdns::{Pdns, KEY};
use serde_json::{json, Value};

const ZONE: &str = "unit.tests";

fn fixture_rrsets() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/contracts/powerdns/octodns-fixtures/powerdns-full-data.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared contracts are beside the repository)",
            path.display()
        )
    });
    let zone: Value = serde_json::from_str(&text).unwrap();
    zone["rrsets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] != "SOA")
        .map(|r| {
            let mut r = r.clone();
            r["changetype"] = json!("REPLACE");
            r
        })
        .collect()
}

struct Lab {
    pdns: Pdns,
    env: TestEnv,
}

impl Lab {
    fn new() -> Lab {
        let pdns = Pdns::start(&[ZONE]);
        // One rrset at a time: this PowerDNS refuses a DS at the apex (the
        // fixture was recorded from a server that took it); the rest loads.
        let mut refused = Vec::new();
        for r in fixture_rrsets() {
            let (status, body) = pdns.call(
                "PATCH",
                &format!("/api/v1/servers/localhost/zones/{ZONE}."),
                Some(&json!({ "rrsets": [r] })),
            );
            if status != 204 {
                refused.push(format!("{} {}: {body}", r["type"], r["name"]));
            }
        }
        assert!(refused.len() <= 1, "the lab refused {refused:?}");
        let env = TestEnv::new();
        env.git(&["init", "-q", "-b", "main"]);
        env.write(
            "infra.toml",
            &format!(
                "[project]\nname = \"adopt\"\n\n{}",
                pdns.provider_toml("dns", &pdns.api_url(), &[ZONE], "")
            ),
        );
        env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
        env.commit_all("an empty project");
        Lab { pdns, env }
    }

    fn infra(&self, args: &[&str]) -> Run {
        self.env.infra_with_secrets(args, &[("PDNS_TEST_KEY", KEY)])
    }

    /// Every rrset's records (name, type, ttl, contents), as the server holds them.
    fn records(&self) -> Vec<(String, String, u64, Vec<String>)> {
        let mut out: Vec<_> = self
            .pdns
            .rrsets(ZONE)
            .into_iter()
            .filter(|r| r["type"] != "SOA")
            .map(|r| {
                let mut contents: Vec<String> = r["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["content"].as_str().unwrap().to_string())
                    .collect();
                contents.sort();
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["type"].as_str().unwrap().to_string(),
                    r["ttl"].as_u64().unwrap_or_default(),
                    contents,
                )
            })
            .collect();
        out.sort();
        out
    }

    fn plan_json(&self) -> Value {
        let run = self.infra(&["plan", "--format", "json"]).expect(0);
        serde_json::from_str(&run.stdout).unwrap()
    }
}

#[test]
fn the_octodns_zone_is_adopted_in_one_commit_and_plans_no_change() {
    let lab = Lab::new();
    let before = lab.records();
    let commits = lab.env.git(&["rev-list", "--count", "HEAD"]);

    let run = lab.infra(&["adopt"]).expect(0);
    assert!(run.stdout.contains("Adopted"), "{}", run.all());
    assert_eq!(
        lab.env
            .git(&["rev-list", "--count", "HEAD"])
            .stdout
            .trim()
            .parse::<u32>()
            .unwrap(),
        commits.stdout.trim().parse::<u32>().unwrap() + 1,
        "one commit"
    );
    let text = lab.env.read("infra/dns-unit-tests.toml");
    for t in [
        "SSHFP", "TLSA", "HTTPS", "SVCB", "NAPTR", "DS", "LOC", "URI", "PTR", "CAA", "LUA", "SRV",
        "MX",
    ] {
        assert!(
            text.contains(&format!("type = \"{t}\"")),
            "{t} missing from:\n{text}"
        );
    }
    assert_eq!(lab.records(), before, "adopting changes nothing live");
    lab.infra(&["validate"]).expect(0);

    // Nothing to create, change or destroy: only the markers to write.
    let plan = lab.plan_json();
    let actions: Vec<&Value> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no_op")
        .collect();
    assert!(actions.is_empty(), "{actions:#?}");
    let marks = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["reasons"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["reason"] == "mark"))
        })
        .count();
    assert!(marks >= 30, "every adopted record gets its marker: {marks}");
    let again = lab.infra(&["adopt", "--dry-run"]).expect(0);
    assert!(again.stdout.contains("Nothing to adopt"), "{}", again.all());

    // The apply writes the markers and nothing else.
    lab.infra(&["apply", "--yes"]).expect(0);
    assert_eq!(lab.records(), before, "marking changes no record");
    let run = lab.infra(&["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "after marking, nothing to do:\n{}", run.all());
    let again = lab.infra(&["adopt", "--dry-run"]).expect(0);
    assert!(again.stdout.contains("Nothing to adopt"), "{}", again.all());
    let state: Value = serde_json::from_str(&lab.env.read(".infra/state.json")).unwrap();
    let unmarked: Vec<&String> = state["resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r.get("unmarked").is_some())
        .map(|(a, _)| a)
        .collect();
    assert!(unmarked.is_empty(), "{unmarked:?}");
}

#[test]
fn an_adopted_record_the_spec_drops_before_it_is_marked_is_never_deleted() {
    let lab = Lab::new();
    let before = lab.records();
    lab.infra(&["adopt", "--match", "*.unit.tests", "--only", "dns_record"])
        .expect(0);
    std::fs::remove_file(lab.env.path().join("infra/dns-unit-tests.toml")).unwrap();
    lab.env.commit_all("changed my mind");
    let plan = lab.plan_json();
    assert!(
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["action"] != "delete"),
        "{plan:#}"
    );
    lab.infra(&["apply", "--yes"]).expect(0);
    assert_eq!(lab.records(), before);
}

#[test]
fn filters_pick_what_is_adopted() {
    let lab = Lab::new();
    let run = lab
        .infra(&["adopt", "--dry-run", "--match", "www.*"])
        .expect(0);
    assert!(run.stdout.contains("2.2.3.6"), "{}", run.all());
    assert!(!run.stdout.contains("SSHFP"), "{}", run.all());
    assert!(
        !lab.env.exists("infra/dns-unit-tests.toml"),
        "a dry run writes nothing"
    );
    let run = lab.infra(&["adopt", "nosuch"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.all().contains("no provider `nosuch`"), "{}", run.all());
}

#[test]
fn adopting_a_zone_reads_it_once_and_writes_nothing() {
    let lab = Lab::new();
    let proxy = FaultProxy::start(lab.pdns.api_port);
    lab.env.write(
        "infra.toml",
        &format!(
            "[project]\nname = \"adopt\"\n\n{}",
            lab.pdns.provider_toml("dns", &proxy.url(), &[ZONE], "")
        ),
    );
    lab.env.commit_all("through the proxy");
    lab.infra(&["adopt"]).expect(0);
    let calls: Vec<String> = proxy
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(calls.len(), 1, "one read of the zone, no write: {calls:?}");
    assert!(
        calls[0].starts_with("GET ") && calls[0].contains(ZONE),
        "{calls:?}"
    );
}

#[test]
fn a_record_of_another_infra_project_is_left_to_it() {
    let lab = Lab::new();
    lab.pdns.patch(
        ZONE,
        json!([{"name": format!("theirs.{ZONE}."), "type": "A", "ttl": 300, "changetype": "REPLACE",
            "records": [{"content": "192.0.2.99", "disabled": false}],
            "comments": [{"content": "infra:other/dns_record.theirs 192.0.2.99", "account": "infra"}]}]),
    );
    let run = lab.infra(&["adopt", "--match", "theirs.*"]).expect(0);
    assert!(
        run.stdout
            .contains("another infra project's marker (infra:other/dns_record.theirs"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("Nothing to adopt"), "{}", run.all());
}

#[test]
fn ask_hands_a_request_to_take_over_the_zone_to_adopt() {
    let lab = Lab::new();
    let run = lab.infra(&["ask", "Bring the DNS zone under infra, please"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains("infra adopt --only dns_record"),
        "{}",
        run.all()
    );
    assert!(lab.env.exists("infra/dns-unit-tests.toml"));
    let log = lab.env.git(&["log", "-1", "--format=%s"]).stdout;
    assert!(log.starts_with("infra adopt:"), "{log}");
    // The project has no provider of containers: nothing to take over.
    let run = lab.infra(&["ask", "adopt the containers too"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains("--only container") && run.all().contains("Nothing to adopt"),
        "{}",
        run.all()
    );
}

#[test]
fn adopt_on_a_branch_leaves_the_current_one_as_it_was() {
    let lab = Lab::new();
    let head = lab.env.git(&["rev-parse", "main"]).stdout;
    lab.infra(&["adopt", "--branch", "adopt-zone"]).expect(0);
    assert_eq!(
        lab.env.git(&["branch", "--show-current"]).stdout.trim(),
        "adopt-zone"
    );
    assert_eq!(
        lab.env.git(&["rev-parse", "main"]).stdout,
        head,
        "main untouched"
    );
    let files = lab
        .env
        .git(&["show", "--name-only", "--format=", "HEAD"])
        .stdout;
    assert!(
        files.contains("infra/dns-unit-tests.toml") && files.contains(".infra/state.json"),
        "{files}"
    );
}
