//! The acceptance of adoption on the lab: a homelab made without infra (a
//! Proxmox guest, its record on PowerDNS, an nginx site in front of it and a
//! Prometheus probe of that site) is adopted in one `infra adopt`, as one
//! group with references, and the next plan changes nothing but the markers.
//!
//! "Made without infra": the objects are made through infra in a scratch
//! project, then every trace of infra is taken out of them (the guest's tag and
//! note, the record's comment, the site's and the target file's header), as a
//! person's hand-made setup has none.

mod common;
mod labkit;
#[path = "support/proxmox_fake/mod.rs"]
mod proxmox_fake;

use common::{Run, TestEnv};
use labkit::nginx::Nginx;
use labkit::pdns::{Pdns, KEY};
use proxmox_fake::FakePve;
use serde_json::{json, Value};

const ZONE: &str = "home.test";

struct Lab {
    pve: FakePve,
    pdns: Pdns,
    nginx: Nginx,
    targets: tempfile::TempDir,
}

impl Lab {
    fn start() -> Lab {
        Lab {
            pve: FakePve::start(),
            pdns: Pdns::start(&[ZONE]),
            nginx: Nginx::start(),
            targets: tempfile::tempdir().unwrap(),
        }
    }

    fn project(&self, name: &str, spec: &str) -> TestEnv {
        let env = TestEnv::new();
        env.git(&["init", "-q", "-b", "main"]);
        env.write(
            "infra.toml",
            &format!(
                "[project]\nname = \"{name}\"\n\n\
                 [providers.pve1]\nkind = \"proxmox\"\nendpoint = \"{}\"\nnode = \"pve1\"\ntoken = \"env:PVE_TOKEN\"\ntls_fingerprint = \"{}\"\n\n\
                 {}\n\
                 [providers.edge]\nkind = \"nginx\"\nsites_dir = \"{}\"\nnginx = \"{}\"\n\n\
                 [providers.mon]\nkind = \"prometheus\"\ntargets_dir = \"{}\"\n",
                self.pve.endpoint(),
                self.pve.fingerprint,
                self.pdns.provider_toml("dns", &self.pdns.api_url(), &[ZONE], ""),
                self.nginx.conf_d().display(),
                self.nginx.command(),
                self.targets.path().display(),
            ),
        );
        env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
        env.write("infra/main.toml", spec);
        env.commit_all("project");
        env
    }

    fn infra(&self, env: &TestEnv, args: &[&str]) -> Run {
        env.infra_with_secrets(
            args,
            &[
                ("PVE_TOKEN", &proxmox_fake::token()),
                ("PDNS_TEST_KEY", KEY),
            ],
        )
    }

    /// What a person sees: the guest's config, the record, the site and the target file.
    fn live(&self) -> (Value, Vec<Value>, Vec<String>, Vec<String>) {
        let guests = self.pve.world(|w| {
            json!(w
                .guests
                .values()
                .map(|g| (
                    g.vmid,
                    g.config.get("hostname").cloned(),
                    g.config.get("cores").cloned(),
                    g.config.get("memory").cloned(),
                    g.config.get("net0").cloned()
                ))
                .collect::<Vec<_>>())
        });
        let records = self
            .pdns
            .rrsets(ZONE)
            .into_iter()
            .filter(|r| r["type"] != "SOA" && r["type"] != "NS")
            .map(|r| json!([r["name"], r["type"], r["ttl"], r["records"]]))
            .collect();
        (
            guests,
            records,
            body_lines(self.nginx.conf_d()),
            body_lines(self.targets.path().to_path_buf()),
        )
    }
}

/// The lines of every file in a directory, less comments and infra's marker
/// (the one thing marking adds), trailing commas aside.
fn body_lines(dir: std::path::PathBuf) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        out.extend(
            text.lines()
                .filter(|l| !l.trim_start().starts_with('#') && !l.contains("\"infra:"))
                .map(|l| l.trim().trim_end_matches(',').to_string()),
        );
    }
    out.sort();
    out
}

const SPEC: &str = r#"
[container.gitea]
group = "gitea"
hostname = "gitea"
image = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
cores = 2
memory = 2048
disk = 8
ip = "10.0.20.5/24"
gateway = "10.0.20.1"

[dns_record.gitea]
group = "gitea"
zone = "home.test"
name = "gitea"
type = "A"
content = "${container.gitea.address}"

[proxy_site.gitea]
group = "gitea"
server_name = "gitea.home.test"
upstream = "http://${container.gitea.address}:3000"

[monitor.gitea]
group = "gitea"
url = "http://gitea.home.test/"
"#;

/// Build the homelab through a scratch project, then take infra out of it.
fn made_by_hand(lab: &Lab) {
    let scratch = lab.project("scratch", SPEC);
    lab.infra(&scratch, &["apply", "--yes"]).expect(0);
    lab.pve.world(|w| {
        for g in w.guests.values_mut() {
            g.config.remove("tags");
            g.config.remove("description");
        }
        for vmid in w.guests.keys().copied().collect::<Vec<_>>() {
            w.refresh_digest(vmid);
        }
    });
    let mut rrsets = Vec::new();
    for r in lab.pdns.rrsets(ZONE) {
        if r["comments"].as_array().is_some_and(|c| !c.is_empty()) {
            let mut r = r.clone();
            r["comments"] = json!([]);
            r["changetype"] = json!("REPLACE");
            rrsets.push(r);
        }
    }
    lab.pdns.patch(ZONE, Value::Array(rrsets));
    for dir in [lab.nginx.conf_d(), lab.targets.path().to_path_buf()] {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap();
            let plain = if e.path().extension().is_some_and(|x| x == "json") {
                // Prometheus's file: the owner label goes from the JSON.
                let mut doc: Value = serde_json::from_str(&text).unwrap();
                for g in doc.as_array_mut().into_iter().flatten() {
                    if let Some(labels) = g["labels"].as_object_mut() {
                        labels.retain(|_, v| !v.as_str().is_some_and(|s| s.starts_with("infra:")));
                    }
                }
                serde_json::to_string_pretty(&doc).unwrap() + "\n"
            } else {
                // nginx's site: the marker line and the attributes line go.
                text.lines()
                    .filter(|l| !l.contains("infra:scratch") && !l.starts_with("# infra-attrs:"))
                    .map(|l| format!("{l}\n"))
                    .collect()
            };
            std::fs::write(e.path(), plain).unwrap();
        }
    }
}

#[test]
fn a_homelab_made_by_hand_is_adopted_as_one_group_and_plans_no_change() {
    let lab = Lab::start();
    made_by_hand(&lab);
    let before = lab.live();
    let env = lab.project("home", "");

    let run = lab.infra(&env, &["adopt"]).expect(0);
    assert!(run.stdout.contains("Adopted"), "{}", run.all());
    let text = env.read("infra/gitea.toml");
    for line in [
        "[container.gitea]",
        "[dns_record.gitea]",
        "content = \"${container.gitea.address}\"",
        "[proxy_site.gitea]",
        "upstream = \"http://${container.gitea.address}:3000\"",
        "[monitor.gitea]",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert_eq!(lab.live(), before, "adopting changes nothing live");

    let plan: Value = serde_json::from_str(
        &lab.infra(&env, &["plan", "--format", "json"])
            .expect(0)
            .stdout,
    )
    .unwrap();
    let changes = plan["changes"].as_array().unwrap();
    assert!(changes.iter().all(|c| c["action"] == "no_op"), "{plan:#}");
    // The group, and the zone's own NS record (made with the zone) on its own.
    let grouped = changes.iter().filter(|c| c["group"] == "gitea").count();
    assert_eq!((grouped, changes.len()), (4, 5), "{plan:#}");

    lab.infra(&env, &["apply", "--yes"]).expect(0);
    assert_eq!(
        lab.live(),
        before,
        "writing the markers changes nothing else"
    );
    let run = lab.infra(&env, &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let again = lab.infra(&env, &["adopt", "--dry-run"]).expect(0);
    assert!(again.stdout.contains("Nothing to adopt"), "{}", again.all());
}
