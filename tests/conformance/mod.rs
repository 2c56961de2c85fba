//! One conformance suite for every provider: the same cases run through the real
//! `infra` binary against each provider's real (or contract-faithful) server.
//! A provider joins with a `Harness` and one `conformance_suite!` line.
#![allow(dead_code)]

use serde_json::Value;

pub mod cloudflare;
pub mod docker;
pub mod file;
pub mod file_ssh;
pub mod nginx;
pub mod powerdns;
pub mod prometheus;
pub mod proxmox;

use crate::common::{Run, TestEnv};

pub trait Harness {
    /// `[providers.NAME]` block(s) for infra.toml: exactly one provider serving `kind()`.
    fn providers_toml(&self) -> String;
    /// Environment for infra (secret references point here).
    fn env(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn kind(&self) -> &'static str;
    /// Body (without the header) of resource `name`: version 0 initial, 1 changed
    /// in place, 2 changed in an attribute that forces replacement.
    fn body(&self, name: &str, version: u8) -> String;
    /// Attributes that must read back (from `infra show --json`) as written at version 0.
    fn expect(&self, name: &str) -> Vec<(&'static str, Value)>;
    /// Change the live object behind `name` out of band.
    fn drift(&self, name: &str);
    /// Create an object infra does not own, named `name`.
    fn foreign(&self, name: &str);
    /// Does that foreign object still exist, unchanged?
    fn foreign_intact(&self, name: &str) -> bool;
    /// How many live objects exist for resource `name`.
    fn count(&self, name: &str) -> usize;
    /// Does some attribute of this kind force replacement, so that version 2 is a
    /// replace? (proxy_site and monitor have none: the case uses `--replace`.)
    fn supports_replace(&self) -> bool {
        true
    }
    /// Check that the live system really does what version `version` of `name`
    /// says (a request through nginx, a target in Prometheus). Called after the
    /// applies of the create and the update cases.
    fn verify_live(&self, _name: &str, _version: u8) {}
}

pub struct Suite<H: Harness> {
    pub h: H,
    pub env: TestEnv,
}

impl<H: Harness> Suite<H> {
    pub fn new(h: H) -> Self {
        let env = TestEnv::new();
        env.git(&["init", "-q", "-b", "main"]);
        env.write(
            "infra.toml",
            &format!("[project]\nname = \"conf\"\n\n{}", h.providers_toml()),
        );
        env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
        env.write("infra/main.toml", "");
        env.commit_all("project");
        Suite { h, env }
    }

    pub fn infra(&self, args: &[&str]) -> Run {
        let mut cmd = self.env.cmd(args);
        for (k, v) in self.h.env() {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    /// Write resources `(name, version)` and commit.
    pub fn spec(&self, resources: &[(&str, u8)]) {
        let kind = self.h.kind();
        let text: String = resources
            .iter()
            .map(|(n, v)| format!("[{kind}.{n}]\n{}\n\n", self.h.body(n, *v)))
            .collect();
        self.env.write("infra/main.toml", &text);
        self.env.commit_all("spec");
    }

    pub fn apply(&self) -> Run {
        self.infra(&["apply", "--yes"]).expect(0)
    }

    /// `plan --detailed-exitcode` must report no changes.
    pub fn no_changes(&self, when: &str) {
        let run = self.infra(&["plan", "--detailed-exitcode"]);
        assert_eq!(
            run.code, 0,
            "plan after {when} is not empty:\n{}{}",
            run.stdout, run.stderr
        );
    }

    /// The plan as tools read it (`plan --format json`); it must have changes.
    pub fn plan_json(&self) -> Value {
        let run = self.infra(&["plan", "--detailed-exitcode", "--format", "json"]);
        assert_eq!(
            run.code, 2,
            "expected changes:\n{}{}",
            run.stdout, run.stderr
        );
        serde_json::from_str(&run.stdout).expect("plan --format json is JSON")
    }

    /// The plan's changes must be exactly `expect` (name, action), and its
    /// summary `(add, change, destroy)`; returns the plan.
    pub fn plan_is(&self, expect: &[(&str, &str)], summary: (u64, u64, u64)) -> Value {
        let plan = self.plan_json();
        let kind = self.h.kind();
        let mut got: Vec<(String, String)> = plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["action"] != "no_op")
            .map(|c| {
                (
                    c["address"].as_str().unwrap().to_string(),
                    c["action"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, String)> = expect
            .iter()
            .map(|(n, a)| (format!("{kind}.{n}"), a.to_string()))
            .collect();
        want.sort();
        assert_eq!(got, want, "plan:\n{plan:#}");
        let s = &plan["summary"];
        assert_eq!(
            (
                s["add"].as_u64(),
                s["change"].as_u64(),
                s["destroy"].as_u64()
            ),
            (Some(summary.0), Some(summary.1), Some(summary.2)),
            "summary: {s}"
        );
        plan
    }

    /// The change planned for `name`.
    pub fn change(plan: &Value, address: &str) -> Value {
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .cloned()
            .unwrap_or_else(|| panic!("no change for {address} in {plan:#}"))
    }

    fn shown(&self, name: &str) -> Value {
        let run = self.infra(&["show", "--json"]).expect(0);
        let v: Value = serde_json::from_str(&run.stdout).unwrap();
        v[format!("{}.{name}", self.h.kind())]["attrs"].clone()
    }

    // ---- the cases ----

    pub fn create_read_back_noop(&self) {
        self.spec(&[("alpha", 0)]);
        self.plan_is(&[("alpha", "create")], (1, 0, 0));
        self.apply();
        assert_eq!(self.h.count("alpha"), 1);
        self.h.verify_live("alpha", 0);
        let attrs = self.shown("alpha");
        for (k, want) in self.h.expect("alpha") {
            assert_eq!(
                attrs[k], want,
                "attribute {k} read back as {} (all: {attrs})",
                attrs[k]
            );
        }
        self.no_changes("create");
    }

    pub fn update_in_place(&self) {
        self.spec(&[("alpha", 0)]);
        self.apply();
        self.spec(&[("alpha", 1)]);
        self.plan_is(&[("alpha", "update")], (0, 1, 0));
        self.apply();
        assert_eq!(self.h.count("alpha"), 1);
        self.h.verify_live("alpha", 1);
        self.no_changes("update");
    }

    /// Version 2 forces a replacement; a kind without such an attribute is
    /// replaced on request (`--replace`) instead. Either way the provider deletes
    /// and creates, and exactly one object is left.
    pub fn replace(&self) {
        self.spec(&[("alpha", 0)]);
        self.apply();
        let address = format!("{}.alpha", self.h.kind());
        let forced = self.h.supports_replace();
        if forced {
            self.spec(&[("alpha", 2)]);
            let plan = self.plan_is(&[("alpha", "replace")], (1, 0, 1));
            let change = Self::change(&plan, &address);
            assert!(
                !change["replace_paths"].as_array().unwrap().is_empty(),
                "a forced replacement names what forces it: {change:#}"
            );
        } else {
            let run = self
                .infra(&[
                    "plan",
                    "--detailed-exitcode",
                    "--format",
                    "json",
                    "--replace",
                    &address,
                ])
                .expect(2);
            let plan: Value = serde_json::from_str(&run.stdout).unwrap();
            let change = Self::change(&plan, &address);
            assert_eq!(change["action"], "replace", "{change:#}");
            assert!(
                change["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["reason"] == "replace_requested"),
                "{change:#}"
            );
            assert_eq!(
                plan["summary"],
                serde_json::json!({"add": 1, "change": 0, "destroy": 1})
            );
        };
        if forced {
            self.apply();
        } else {
            self.infra(&["apply", "--yes", "--replace", &address])
                .expect(0);
        }
        assert_eq!(
            self.h.count("alpha"),
            1,
            "a replacement leaves exactly one object"
        );
        self.h.verify_live("alpha", if forced { 2 } else { 0 });
        self.no_changes("replace");
    }

    pub fn delete(&self) {
        self.spec(&[("alpha", 0), ("beta", 0)]);
        self.apply();
        self.spec(&[("alpha", 0)]);
        self.plan_is(&[("beta", "delete")], (0, 0, 1));
        self.apply();
        assert_eq!(self.h.count("beta"), 0);
        assert_eq!(self.h.count("alpha"), 1);
        self.no_changes("delete");
    }

    /// A state edited so that one address records another's object: the plan stops,
    /// naming both, and nothing is deleted or changed.
    pub fn a_record_naming_anothers_object_touches_nothing(&self) {
        self.spec(&[("alpha", 0), ("beta", 0)]);
        self.apply();
        let kind = self.h.kind();
        let path = self.env.path().join(".infra/state.json");
        let mut state: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let beta_id = state["resources"][format!("{kind}.beta")]["id"].clone();
        state["resources"][format!("{kind}.alpha")]["id"] = beta_id;
        std::fs::write(&path, serde_json::to_string_pretty(&state).unwrap()).unwrap();
        self.env.commit_all("a hand-edited state");
        // alpha leaves the spec: a delete of what the state records for it.
        self.spec(&[("beta", 0)]);
        let run = self.infra(&["apply", "--yes"]);
        assert_eq!(run.code, 1, "{}", run.all());
        for name in [format!("{kind}.alpha"), format!("{kind}.beta")] {
            assert!(run.all().contains(&name), "names {name}: {}", run.all());
        }
        assert_eq!(self.h.count("beta"), 1, "beta's object survives");
        assert_eq!(
            self.h.count("alpha"),
            1,
            "alpha's object is not touched either"
        );
    }

    pub fn drift_is_shown_and_repaired(&self) {
        self.spec(&[("alpha", 0)]);
        self.apply();
        self.h.drift("alpha");
        let plan = self.plan_json();
        let address = format!("{}.alpha", self.h.kind());
        assert!(
            plan["drift"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["address"] == address),
            "drift is reported: {plan:#}"
        );
        let change = Self::change(&plan, &address);
        assert!(
            ["update", "replace", "create"].contains(&change["action"].as_str().unwrap()),
            "the plan repairs the drift: {change:#}"
        );
        self.apply();
        self.no_changes("repairing drift");
        assert_eq!(self.h.count("alpha"), 1);
    }

    pub fn foreign_objects_are_left_alone(&self) {
        self.h.foreign("stranger");
        self.spec(&[("alpha", 0)]);
        self.apply();
        self.no_changes("apply next to a foreign object");
        self.spec(&[]);
        self.apply();
        assert_eq!(self.h.count("alpha"), 0);
        assert!(
            self.h.foreign_intact("stranger"),
            "infra touched an object it does not own"
        );
    }

    /// A crash after the create and before the state write: the next run adopts
    /// the object by its marker instead of creating a duplicate.
    pub fn crash_after_create_is_adopted(&self) {
        self.spec(&[("alpha", 0)]);
        self.apply();
        // Lose the state as if the process died before writing it.
        std::fs::remove_file(self.env.p(".infra/state.json")).unwrap();
        self.env.commit_all("lose state");
        let run = self.infra(&["plan", "--format", "json"]).expect(0);
        let plan: Value = serde_json::from_str(&run.stdout).unwrap();
        let change = Self::change(&plan, &format!("{}.alpha", self.h.kind()));
        assert_ne!(
            change["action"], "create",
            "a lost state must not cause a duplicate: {change:#}"
        );
        assert!(
            change["reasons"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["reason"] == "adopted")),
            "found by its ownership marker: {change:#}"
        );
        self.apply();
        assert_eq!(self.h.count("alpha"), 1, "no duplicate after adoption");
        let state = self.env.read(".infra/state.json");
        assert!(
            state.contains(&format!("{}.alpha", self.h.kind())),
            "adopted object is recorded:\n{state}"
        );
        self.no_changes("adoption");
    }
}

/// One test per conformance case for a harness: `conformance_suite!(file, FileHarness::new());`
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, $harness:expr) => {
        mod $name {
            use super::*;
            fn suite() -> $crate::conformance::Suite<impl $crate::conformance::Harness> {
                $crate::conformance::Suite::new($harness)
            }
            #[test]
            fn create_read_back_noop() {
                suite().create_read_back_noop()
            }
            #[test]
            fn update_in_place() {
                suite().update_in_place()
            }
            #[test]
            fn replace() {
                suite().replace()
            }
            #[test]
            fn delete() {
                suite().delete()
            }
            #[test]
            fn a_record_naming_anothers_object_touches_nothing() {
                suite().a_record_naming_anothers_object_touches_nothing()
            }
            #[test]
            fn drift_is_shown_and_repaired() {
                suite().drift_is_shown_and_repaired()
            }
            #[test]
            fn foreign_objects_are_left_alone() {
                suite().foreign_objects_are_left_alone()
            }
            #[test]
            fn crash_after_create_is_adopted() {
                suite().crash_after_create_is_adopted()
            }
        }
    };
}
