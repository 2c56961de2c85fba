//! The workflow our users describe first, end to end through the real `infra`
//! binary: "Create a container on pve1 for the API scanner and make it accessible
//! at api-scanner.example.com" → plan → apply → a second plan with no changes →
//! "remove the api scanner" → apply.
//!
//! Proxmox VE and Cloudflare cannot run here: their contract-checked fakes stand
//! in (tests/support/proxmox_fake: the PVE API description from proxmox/pve-docs;
//! tests/cloudflare_fake: Cloudflare's OpenAPI document; both read at run time
//! from ../shared/contracts/, see those modules). nginx and Prometheus (with the
//! blackbox exporter) are the real Debian packages on loopback.
//!
//! The container's address comes from a pool on a loopback /24 of its own, and a
//! small HTTP server listens on that address as the container's service would, so
//! a request through nginx with the service's host name really reaches "the
//! container", and so does Prometheus's probe.
// Both fakes carry the same small HTTP/1 reader, each as its own module.
#![allow(clippy::duplicate_mod)]

mod cloudflare_fake;
mod common;
mod labkit;
#[path = "support/proxmox_fake/mod.rs"]
mod proxmox_fake;

use std::time::Duration;

use cloudflare_fake::{FakeCloudflare, TOKEN as CF_TOKEN};
use common::{Run, TestEnv};
use labkit::nginx::{Nginx, Upstream};
use labkit::prometheus::Prometheus;
use proxmox_fake::FakePve;
use serde_json::Value;

const REQUEST: &str = "Create a container on pve1 for the API scanner and make it accessible at api-scanner.example.com";
const FQDN: &str = "api-scanner.example.com";
const BODY: &str = "api-scanner says hello";

struct Homelab {
    env: TestEnv,
    pve: FakePve,
    cf: FakeCloudflare,
    nginx: Nginx,
    prom: Prometheus,
    /// The loopback /24 the pool hands out, as "127.0.N".
    net: String,
    service_port: u16,
}

impl Homelab {
    fn start() -> Homelab {
        let pve = FakePve::start();
        let cf = FakeCloudflare::with_zone("example.com");
        let nginx = Nginx::start();
        let prom = Prometheus::start_probing_through(nginx.port);
        // A /24 of 127/8 no other test uses, so the service can bind its .50.
        let net = format!(
            "127.{}.{}",
            64 + std::process::id() % 128,
            1 + labkit::free_port() % 250
        );
        let service_port = labkit::free_port();
        let env = TestEnv::new();
        env.git(&["init", "-q", "-b", "main"]);
        env.write(
            "infra.toml",
            &format!(
                r#"[project]
name = "homelab"

[providers.pve1]
kind = "proxmox"
endpoint = "{pve_url}"
node = "pve1"
token = "env:PVE_TOKEN"
tls_fingerprint = "{fingerprint}"

[providers.dns]
kind = "cloudflare"
api_url = "{cf_url}"
token = "env:CF_TOKEN"

[providers.edge]
kind = "nginx"
sites_dir = "{sites}"
nginx = "{nginx_cmd}"

[providers.mon]
kind = "prometheus"
targets_dir = "{targets}"

[pools.lab]
cidr = "{net}.0/24"
range = "{net}.50-{net}.99"
gateway = "{net}.1"

[vars]
"web-service.listen" = "127.0.0.1:{nginx_port}"
"web-service.port" = {service_port}
"#,
                pve_url = pve.endpoint(),
                fingerprint = pve.fingerprint,
                cf_url = cf.url(),
                sites = nginx.conf_d().display(),
                nginx_cmd = nginx.command(),
                targets = prom.targets_dir().display(),
                nginx_port = nginx.port,
            ),
        );
        env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
        env.write("infra/main.toml", "");
        env.commit_all("homelab project");
        Homelab {
            env,
            pve,
            cf,
            nginx,
            prom,
            net,
            service_port,
        }
    }

    /// `infra ARGS` with both tokens in the environment; neither may ever be printed.
    fn infra(&self, args: &[&str]) -> Run {
        self.env.infra_with_secrets(
            args,
            &[
                ("PVE_TOKEN", &proxmox_fake::token()),
                ("CF_TOKEN", CF_TOKEN),
            ],
        )
    }

    fn cf_records(&self) -> Vec<Value> {
        self.cf.named("example.com", "api-scanner")
    }
}

#[test]
fn create_on_pve1_reachable_by_name_then_remove() {
    let lab = Homelab::start();

    // ask: a reviewed spec, committed, nothing live touched.
    let ask = lab.infra(&["ask", REQUEST]).expect(0);
    // A service gets a file of its own, named after it.
    let spec = lab.env.read("infra/api-scanner.toml");
    for line in [
        "[container.api-scanner]",
        "provider = \"pve1\"",
        "[dns_record.api-scanner]",
        "zone = \"example.com\"",
        "[proxy_site.api-scanner]",
        "server_name = \"api-scanner.example.com\"",
        "[monitor.api-scanner]",
    ] {
        assert!(
            spec.contains(line),
            "{line} missing from the spec:\n{spec}\n{}",
            ask.all()
        );
    }
    let status = lab.env.git(&["status", "--porcelain"]);
    assert_eq!(status.stdout.trim(), "", "ask commits what it wrote");
    assert!(
        lab.pve.seen().iter().all(|s| s.method == "GET"),
        "ask changes nothing live"
    );
    assert!(lab.cf_records().is_empty());

    // plan: four creates, one per provider.
    let plan = lab.infra(&["plan", "--detailed-exitcode"]).expect(2);
    for needle in [
        "container.api-scanner will be created",
        "dns_record.api-scanner will be created",
        "proxy_site.api-scanner will be created",
        "monitor.api-scanner will be created",
        "Plan: 4 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(plan.stdout.contains(needle), "{needle}\n{}", plan.stdout);
    }

    // apply: every system gets what the plan said.
    lab.infra(&["apply", "--yes"]).expect(0);
    let ip = format!("{}.50", lab.net);
    let ct = lab
        .pve
        .world(|w| w.guests.values().next().cloned())
        .expect("a container on pve1");
    assert_eq!(ct.name(), Some("api-scanner"));
    let net0 = ct.config["net0"].as_str().unwrap_or_default().to_string();
    assert!(
        net0.contains(&format!("ip={ip}/24")) && net0.contains(&format!("gw={}.1", lab.net)),
        "{net0}"
    );
    let records = lab.cf_records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["type"], "A");
    assert_eq!(records[0]["content"].as_str(), Some(ip.as_str()));
    assert_eq!(
        records[0]["proxied"], false,
        "a private address is never proxied"
    );
    assert!(
        records[0]["comment"]
            .as_str()
            .unwrap_or_default()
            .contains("dns_record.api-scanner"),
        "the ownership marker: {:?}",
        records[0]
    );
    // The container's service, listening where Proxmox put the container.
    let _service = Upstream::start_at(&ip, lab.service_port, BODY);
    let (status, _) = lab
        .nginx
        .wait_for(FQDN, BODY, Duration::from_secs(20))
        .unwrap();
    assert_eq!(status, 200);
    let url = format!("http://{FQDN}/");
    assert!(
        lab.prom
            .wait_for_target(&url, Duration::from_secs(20))
            .is_some(),
        "Prometheus never picked up {url}:\n{}",
        lab.prom.log_text()
    );
    assert!(
        lab.prom
            .wait_for_probe_success(&url, Duration::from_secs(30)),
        "the probe of {url} through nginx never succeeded"
    );
    let log = lab.env.git(&["log", "-1", "--format=%B"]).stdout;
    assert!(
        log.contains("Infra-Applied-Spec:") && log.contains("Infra-Result:"),
        "{log}"
    );

    // A second plan: nothing to do.
    let again = lab.infra(&["plan", "--detailed-exitcode"]).expect(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // Remove it: four destroys, and every system is clean again.
    lab.infra(&["ask", "remove the api scanner"]).expect(0);
    let plan = lab.infra(&["plan", "--detailed-exitcode"]).expect(2);
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 4 to destroy."),
        "{}",
        plan.stdout
    );
    lab.infra(&["apply", "--yes"]).expect(0);
    assert!(lab.pve.world(|w| w.guests.is_empty()));
    assert!(lab.cf_records().is_empty());
    let left: Vec<_> = std::fs::read_dir(lab.nginx.conf_d()).unwrap().collect();
    assert!(left.is_empty(), "nginx site left behind: {left:?}");
    let left: Vec<_> = std::fs::read_dir(lab.prom.targets_dir()).unwrap().collect();
    assert!(left.is_empty(), "Prometheus target left behind: {left:?}");
    lab.infra(&["plan", "--detailed-exitcode"]).expect(0);

    lab.pve.assert_clean();
    assert_eq!(lab.cf.violations(), Vec::<String>::new());
}

/// `examples/homelab/` is a project a user copies: it must validate as shipped,
/// and the request it documents must produce the resources it shows.
#[test]
fn the_homelab_example_validates_and_matches_its_request() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab");
    let env = TestEnv::new();
    for rel in ["infra.toml", "infra/api-scanner.toml"] {
        env.write(rel, &std::fs::read_to_string(example.join(rel)).unwrap());
    }
    env.git(&["init", "-q", "-b", "main"]);
    env.commit_all("example");
    let validate = env
        .cmd(&["validate"])
        .env("PVE_TOKEN", "unused")
        .env("CLOUDFLARE_API_TOKEN", "unused")
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "{}",
        String::from_utf8_lossy(&validate.stderr)
    );
    // Without its spec file, the documented request writes the same four resources.
    let shipped = env.read("infra/api-scanner.toml");
    std::fs::remove_file(env.p("infra/api-scanner.toml")).unwrap();
    env.commit_all("empty");
    let ask = env.infra(&["ask", REQUEST]).expect(0);
    let written = env.read("infra/api-scanner.toml");
    for header in [
        "[container.api-scanner]",
        "[dns_record.api-scanner]",
        "[proxy_site.api-scanner]",
        "[monitor.api-scanner]",
    ] {
        assert!(
            shipped.contains(header) && written.contains(header),
            "{header}\n{}",
            ask.all()
        );
    }
    for line in [
        "provider = \"pve1\"",
        "ip = \"192.168.1.50/24\"",
        "memory = 1024",
        "server_name = \"api-scanner.example.com\"",
    ] {
        assert!(written.contains(line), "{line} not written:\n{written}");
        assert!(
            shipped.contains(line),
            "{line} not in the example:\n{shipped}"
        );
    }
}
