//! The `proxmox` provider through the real `infra` binary, against the
//! contract-checked fake Proxmox VE (tests/support/proxmox_fake). The contract is
//! the official PVE API description, `../shared/contracts/proxmox/pve-9.1-api-subset.json`
//! and `pve-8.4-api-subset.json` (extracted from proxmox/pve-docs
//! `api-viewer/apidata.js`, AGPL-3.0-or-later, © Proxmox Server Solutions GmbH),
//! loaded at run time and never copied here. Every test ends with no contract
//! violation recorded by the fake.

mod common;
#[path = "support/proxmox_fake/mod.rs"]
mod proxmox_fake;

use std::time::Duration;

use common::{Run, TestEnv};
use proxmox_fake::{FakePve, Fault, Options, Seen, TEMPLATE};
use serde_json::{json, Value};

struct Lab {
    pve: FakePve,
    env: TestEnv,
}

fn container(name: &str, extra: &str) -> String {
    format!(
        "[container.{name}]\nhostname = \"{name}\"\nimage = \"{TEMPLATE}\"\ncores = 1\nmemory = 512\ndisk = 8\nip = \"192.168.1.52/24\"\ngateway = \"192.168.1.1\"\n{extra}\n"
    )
}

impl Lab {
    fn new() -> Lab {
        Lab::with(FakePve::start(), true)
    }

    /// A project whose provider `pve1` points at `pve` (pinned unless `pin` is false).
    fn with(pve: FakePve, pin: bool) -> Lab {
        let env = TestEnv::new();
        env.git(&["init", "-q", "-b", "main"]);
        let fp = if pin {
            format!("tls_fingerprint = \"{}\"\n", pve.fingerprint)
        } else {
            String::new()
        };
        env.write(
            "infra.toml",
            &format!(
                "[project]\nname = \"homelab\"\n\n[providers.pve1]\nkind = \"proxmox\"\nendpoint = \"{}\"\nnode = \"pve1\"\ntoken = \"env:PVE_TOKEN\"\n{fp}",
                pve.endpoint()
            ),
        );
        env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
        env.write("infra/main.toml", "");
        env.commit_all("project");
        Lab { pve, env }
    }

    fn spec(&self, text: &str) {
        self.env.write("infra/main.toml", text);
        self.env.commit_all("spec");
    }

    /// Run infra with the token set (never printed).
    fn infra(&self, args: &[&str]) -> Run {
        self.env
            .infra_with_secrets(args, &[("PVE_TOKEN", &proxmox_fake::token())])
    }

    fn apply(&self) -> Run {
        self.infra(&["apply", "--yes"])
    }

    fn plan_code(&self) -> Run {
        self.infra(&["plan", "--detailed-exitcode"])
    }

    /// Requests seen since the last call.
    fn take_seen(&self, from: &mut usize) -> Vec<Seen> {
        let all = self.pve.seen();
        let out = all[*from..].to_vec();
        *from = all.len();
        out
    }

    fn recorded(&self) -> Value {
        let text = std::fs::read_to_string(self.env.p(".infra/state.json"))
            .unwrap_or_else(|_| "{}".into());
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.pve.assert_clean();
            // Every string format the provider's requests used was really checked.
            assert_eq!(self.pve.unchecked_formats(), Vec::<String>::new());
        }
    }
}

fn calls(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .filter(|s| !s.template.ends_with("/status") || !s.template.contains("/tasks/"))
        .map(|s| format!("{} {}", s.method, s.template))
        .collect()
}

#[test]
fn lifecycle_create_update_replace_delete() {
    let lab = Lab::new();
    let mut mark = 0;
    lab.spec(&container("api-scanner", ""));
    let apply = lab.apply();
    let apply = apply.expect(0);
    assert!(apply.stdout.contains("1 added"), "{}", apply.stdout);
    let seen = lab.take_seen(&mut mark);
    let create = seen
        .iter()
        .find(|s| s.method == "POST" && s.template == "/nodes/{node}/lxc")
        .expect("a create call");
    let p = &create.params;
    assert_eq!(p["vmid"], "100", "vmid from /cluster/nextid");
    assert_eq!(p["ostemplate"], TEMPLATE);
    assert_eq!(p["rootfs"], "local-lvm:8");
    assert_eq!(
        p["net0"],
        "name=eth0,bridge=vmbr0,ip=192.168.1.52/24,gw=192.168.1.1"
    );
    assert_eq!(p["tags"], "infra+homelab+container.api-scanner");
    assert_eq!(p["unprivileged"], "1");
    assert_eq!(p["start"], "1");
    assert!(
        p["description"].starts_with("infra:homelab/container.api-scanner"),
        "{p:?}"
    );
    assert!(seen.iter().any(|s| s.template == "/cluster/nextid"));
    let polls = seen
        .iter()
        .filter(|s| s.template == "/nodes/{node}/tasks/{upid}/status")
        .count();
    assert!(
        polls >= 2,
        "the task was polled until it stopped ({polls} polls)"
    );
    let guest = lab.pve.world(|w| w.guests[&100].clone());
    assert!(guest.running);
    assert_eq!(guest.config["net0"], json!("name=eth0,bridge=vmbr0,gw=192.168.1.1,hwaddr=BC:24:11:00:64:00,ip=192.168.1.52/24,type=veth"));
    let state = lab.recorded();
    assert_eq!(
        state["resources"]["container.api-scanner"]["id"],
        json!("100"),
        "{state}"
    );

    lab.plan_code().expect(0);

    // In place: cores and memory through PUT …/config, nothing recreated.
    lab.spec(
        &container("api-scanner", "")
            .replace("cores = 1", "cores = 2")
            .replace("memory = 512", "memory = 1024"),
    );
    let plan = lab.plan_code().expect(2);
    assert!(
        plan.stdout.contains("will be updated in-place"),
        "{}",
        plan.stdout
    );
    lab.take_seen(&mut mark);
    lab.apply().expect(0);
    let seen = lab.take_seen(&mut mark);
    let put = seen
        .iter()
        .find(|s| s.method == "PUT" && s.template.ends_with("/config"))
        .expect("PUT config");
    assert_eq!(
        (put.params["cores"].as_str(), put.params["memory"].as_str()),
        ("2", "1024")
    );
    assert!(
        put.params.contains_key("digest"),
        "optimistic locking with the config digest"
    );
    assert!(!calls(&seen)
        .iter()
        .any(|c| c.starts_with("POST /nodes/{node}/lxc") && !c.contains("status")));
    assert_eq!(
        lab.pve.world(|w| w.guests[&100].config["cores"].clone()),
        json!(2)
    );
    lab.plan_code().expect(0);

    // Disk growth: PUT …/resize (a task).
    lab.spec(&container("api-scanner", "").replace("disk = 8", "disk = 12"));
    lab.apply().expect(0);
    let seen = lab.take_seen(&mut mark);
    let resize = seen
        .iter()
        .find(|s| s.template.ends_with("/resize"))
        .expect("resize");
    assert_eq!(
        (
            resize.params["disk"].as_str(),
            resize.params["size"].as_str()
        ),
        ("rootfs", "12G")
    );
    lab.plan_code().expect(0);

    // A disk never shrinks: the apply says so and changes nothing.
    lab.spec(&container("api-scanner", "").replace("disk = 8", "disk = 4"));
    let fail = lab.apply().expect(1);
    assert!(
        fail.all().contains("cannot shrink a disk (12 GiB → 4 GiB)"),
        "{}",
        fail.all()
    );
    lab.take_seen(&mut mark);

    // Replace (hostname): stop, DELETE with purge, then create anew.
    lab.spec(
        &container("api-scanner", "")
            .replace("hostname = \"api-scanner\"", "hostname = \"scanner\""),
    );
    let plan = lab.plan_code().expect(2);
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    lab.apply().expect(0);
    let seen = calls(&lab.take_seen(&mut mark));
    let stop = seen
        .iter()
        .position(|c| c == "POST /nodes/{node}/lxc/{vmid}/status/stop")
        .expect("stop");
    let delete = seen
        .iter()
        .position(|c| c == "DELETE /nodes/{node}/lxc/{vmid}")
        .expect("delete");
    let create = seen
        .iter()
        .position(|c| c == "POST /nodes/{node}/lxc")
        .expect("create");
    assert!(stop < delete && delete < create, "{seen:?}");
    let delete_params = lab
        .pve
        .seen()
        .into_iter()
        .find(|s| s.method == "DELETE")
        .unwrap()
        .params;
    assert_eq!(delete_params["purge"], "1");
    assert_eq!(delete_params["destroy-unreferenced-disks"], "1");
    let names: Vec<String> = lab.pve.world(|w| {
        w.guests
            .values()
            .filter_map(|g| g.name().map(String::from))
            .collect()
    });
    assert_eq!(names, vec!["scanner".to_string()]);
    lab.plan_code().expect(0);

    // Delete.
    lab.spec("");
    lab.apply().expect(0);
    assert!(lab.pve.world(|w| w.guests.is_empty()));
    lab.plan_code().expect(0);
}

#[test]
fn drift_in_cores_shows_in_the_plan_and_is_repaired() {
    let lab = Lab::new();
    lab.spec(&container("web", ""));
    lab.apply().expect(0);
    lab.pve.world(|w| {
        w.guests
            .get_mut(&100)
            .unwrap()
            .config
            .insert("cores".into(), json!(3));
        w.refresh_digest(100);
    });
    let plan = lab.plan_code().expect(2);
    assert!(
        plan.stdout.contains("changed outside of infra"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("cores"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("will be updated in-place"),
        "{}",
        plan.stdout
    );
    lab.apply().expect(0);
    assert_eq!(
        lab.pve.world(|w| w.guests[&100].config["cores"].clone()),
        json!(1)
    );
    lab.plan_code().expect(0);
}

#[test]
fn stopped_by_hand_is_started_again() {
    let lab = Lab::new();
    lab.spec(&container("web", ""));
    lab.apply().expect(0);
    lab.pve
        .world(|w| w.guests.get_mut(&100).unwrap().running = false);
    let plan = lab.plan_code().expect(2);
    assert!(plan.stdout.contains("start"), "{}", plan.stdout);
    lab.apply().expect(0);
    assert!(lab.pve.world(|w| w.guests[&100].running));
    assert!(lab
        .pve
        .seen()
        .iter()
        .any(|s| s.template.ends_with("/status/start")));
}

#[test]
fn expired_token_is_a_clear_error() {
    let lab = Lab::new();
    lab.spec(&container("web", ""));
    lab.apply().expect(0);
    let before = lab.recorded();
    lab.pve.revoke_token();
    let plan = lab.plan_code().expect(1);
    assert!(
        plan.stderr
            .contains("refused the API token from env:PVE_TOKEN"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("Authentication failed!"),
        "the server's own words: {}",
        plan.stderr
    );
    assert!(
        !plan.all().contains(proxmox_fake::TOKEN_SECRET),
        "the secret never shows"
    );
    assert_eq!(lab.recorded(), before);
}

#[test]
fn unauthorised_replies_are_slow_and_still_clear() {
    let lab = Lab::with(
        FakePve::start_with(Options {
            unauthorized_delay: Duration::from_secs(3),
            ..Options::default()
        }),
        true,
    );
    lab.pve.revoke_token();
    lab.spec(&container("web", ""));
    let started = std::time::Instant::now();
    let plan = lab.plan_code().expect(1);
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert!(
        plan.stderr.contains("refused the API token"),
        "{}",
        plan.stderr
    );
}

#[test]
fn missing_privilege_is_named_and_nothing_is_recorded() {
    let lab = Lab::new();
    lab.pve
        .world(|w| w.denied.insert(("/vms/100".into(), "VM.Allocate".into())));
    lab.spec(&container("web", ""));
    let fail = lab.apply().expect(1);
    assert!(
        fail.all()
            .contains("Permission check failed (/vms/100, VM.Allocate)"),
        "{}",
        fail.all()
    );
    assert!(lab.pve.world(|w| w.guests.is_empty()));
    assert!(
        lab.recorded()["resources"]
            .as_object()
            .is_none_or(|r| r.is_empty()),
        "{}",
        lab.recorded()
    );
    lab.pve.world(|w| w.denied.clear());
    lab.apply().expect(0);
    lab.plan_code().expect(0);
}

#[test]
fn failed_tasks_report_their_exit_status() {
    let lab = Lab::new();
    // Template missing: the vzcreate task ends with PVE's error, the CT is cleaned up.
    lab.spec(&container("web", "").replace(
        TEMPLATE,
        "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
    ));
    let fail = lab.apply().expect(1);
    assert!(
        fail.all().contains("unable to create CT 100 - volume 'local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz' does not exist"),
        "{}",
        fail.all()
    );
    assert!(fail.all().contains("vzcreate"), "{}", fail.all());
    assert!(lab.pve.world(|w| w.guests.is_empty()));
    // Storage full.
    lab.spec(&container("web", "").replace("disk = 8", "disk = 500"));
    let fail = lab.apply().expect(1);
    assert!(
        fail.all().contains("insufficient free space"),
        "{}",
        fail.all()
    );
    assert!(lab.pve.world(|w| w.guests.is_empty()));
    let plan = lab.plan_code().expect(2);
    assert!(
        plan.stdout.contains("will be created"),
        "state matches reality: {}",
        plan.stdout
    );
    // A stop task that fails during a delete.
    lab.spec(&container("web", ""));
    lab.apply().expect(0);
    lab.pve.world(|w| {
        w.fail_next_task = Some((
            "vzstop".into(),
            "command 'lxc-stop -n 100 --kill' failed: exit code 1".into(),
        ))
    });
    lab.spec("");
    let fail = lab.apply().expect(1);
    assert!(
        fail.all().contains("lxc-stop -n 100 --kill"),
        "{}",
        fail.all()
    );
    assert_eq!(lab.pve.world(|w| w.guests.len()), 1);
    lab.apply().expect(0);
    assert!(lab.pve.world(|w| w.guests.is_empty()));
}

#[test]
fn server_errors_carry_the_message_with_or_without_a_body() {
    for pre_8_3 in [false, true] {
        let lab = Lab::with(
            FakePve::start_with(Options {
                pre_8_3_errors: pre_8_3,
                ..Options::default()
            }),
            true,
        );
        lab.spec(&container("web", ""));
        lab.apply().expect(0);
        lab.pve.fault(Fault::Die {
            method: "PUT",
            path: "/config",
            message: "unable to apply pending change cores : got unexpected error".into(),
        });
        lab.spec(&container("web", "").replace("cores = 1", "cores = 2"));
        let fail = lab.apply().expect(1);
        assert!(
            fail.all()
                .contains("unable to apply pending change cores : got unexpected error"),
            "pre 8.3: {pre_8_3}: {}",
            fail.all()
        );
        lab.apply().expect(0);
        lab.plan_code().expect(0);
    }
}

#[test]
fn a_proxys_429_burst_is_retried_and_converges() {
    let lab = Lab::new();
    lab.spec(&container("web", ""));
    lab.pve.fault(Fault::Proxy429 {
        count: 2,
        retry_after: 1,
        method: Some("POST"),
        path: None,
    });
    lab.apply().expect(0);
    assert_eq!(lab.pve.seen().iter().filter(|s| s.status == 429).count(), 2);
    assert_eq!(
        lab.pve.world(|w| w.guests.len()),
        1,
        "exactly one container"
    );
    // While a task is polled, the poll just waits.
    lab.spec(&container("web", "").replace("disk = 8", "disk = 10"));
    lab.pve.fault(Fault::Proxy429 {
        count: 3,
        retry_after: 0,
        method: Some("GET"),
        path: Some("/tasks/"),
    });
    lab.apply().expect(0);
    lab.plan_code().expect(0);
    // During refresh: a short Retry-After is waited out, a long one reported.
    lab.pve.fault(Fault::Proxy429 {
        count: 2,
        retry_after: 1,
        method: Some("GET"),
        path: Some("/cluster/resources"),
    });
    lab.plan_code().expect(0);
    lab.pve.fault(Fault::Proxy429 {
        count: 1,
        retry_after: 300,
        method: Some("GET"),
        path: Some("/cluster/resources"),
    });
    let plan = lab.plan_code().expect(1);
    assert!(
        plan.stderr
            .contains("GET /cluster/resources: 429 Too Many Requests (retry after 300s)"),
        "{}",
        plan.stderr
    );
}

#[test]
fn tls_is_verified_or_pinned_never_skipped() {
    // No pin, self-signed: refused, with the fingerprint to compare.
    let lab = Lab::with(FakePve::start(), false);
    lab.spec(&container("web", ""));
    let plan = lab.plan_code().expect(1);
    assert!(
        plan.stderr.contains("is not trusted (self-signed?)"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains(&lab.pve.fingerprint),
        "names the presented fingerprint: {}",
        plan.stderr
    );
    assert!(
        lab.pve.seen().is_empty(),
        "no request went over an unverified connection"
    );
    // A wrong pin: refused.
    let other = FakePve::start();
    let wrong = Lab::with(FakePve::start(), false);
    let toml =
        wrong.env.read("infra.toml") + &format!("tls_fingerprint = \"{}\"\n", other.fingerprint);
    wrong.env.write("infra.toml", &toml);
    wrong.spec(&container("web", ""));
    let plan = wrong.plan_code().expect(1);
    assert!(
        plan.stderr
            .contains("does not present the pinned certificate"),
        "{}",
        plan.stderr
    );
    assert!(wrong.pve.seen().is_empty());
    // A malformed pin: a config error before any connection.
    let bad = Lab::with(FakePve::start(), false);
    bad.env.write(
        "infra.toml",
        &(bad.env.read("infra.toml") + "tls_fingerprint = \"AA:BB\"\n"),
    );
    bad.spec(&container("web", ""));
    let plan = bad.plan_code().expect(1);
    assert!(
        plan.stderr.contains("tls_fingerprint must be the SHA-256"),
        "{}",
        plan.stderr
    );
    // The right pin works (every other test).
    let good = Lab::new();
    good.spec(&container("web", ""));
    good.plan_code().expect(2);
}

#[test]
fn pve_8_4_contract_and_integers_as_strings() {
    let lab = Lab::with(
        FakePve::start_with(Options {
            version: "8.4",
            ints_as_strings: true,
            ..Options::default()
        }),
        true,
    );
    lab.spec(&container("web", ""));
    lab.apply().expect(0);
    lab.plan_code().expect(0);
    lab.spec(&container("web", "").replace("memory = 512", "memory = 768"));
    lab.apply().expect(0);
    lab.plan_code().expect(0);
    lab.spec("");
    lab.apply().expect(0);
    assert!(lab.pve.world(|w| w.guests.is_empty()));
}

#[test]
fn per_resource_settings_reach_the_api() {
    let lab = Lab::new();
    let extra = "\n[container.web.proxmox]\nvmid = 250\nstorage = \"local-lvm\"\nbridge = \"vmbr1\"\nswap = 0\nunprivileged = true\nfeatures = { nesting = true, keyctl = true }\nssh_public_keys = [\"ssh-ed25519 AAAAC3Nza… a@b\", \"ssh-ed25519 AAAAC3Nzb… c@d\"]\n";
    lab.spec(&container("web", extra));
    lab.apply().expect(0);
    let create = lab
        .pve
        .seen()
        .into_iter()
        .find(|s| s.method == "POST" && s.template == "/nodes/{node}/lxc")
        .unwrap();
    let p = create.params;
    assert_eq!(p["vmid"], "250");
    assert!(p["net0"].contains("bridge=vmbr1"));
    assert_eq!(p["swap"], "0");
    assert_eq!(p["features"], "keyctl=1,nesting=1");
    assert_eq!(p["ssh-public-keys"].lines().count(), 2);
    assert!(!lab
        .pve
        .seen()
        .iter()
        .any(|s| s.template == "/cluster/nextid"));
    lab.plan_code().expect(0);

    // PVE does not report settings back: the plan compares them with what infra
    // applied. Swap and bridge change in place…
    let mut mark = lab.pve.seen().len();
    lab.spec(&container(
        "web",
        &extra
            .replace("swap = 0", "swap = 1024")
            .replace("vmbr1", "vmbr2"),
    ));
    let plan = lab.plan_code().expect(2);
    for line in [
        "# container.web will be updated in-place",
        "~ proxmox.bridge = \"vmbr1\" -> \"vmbr2\"",
        "~ proxmox.swap   = 0 -> 1024",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    lab.apply().expect(0);
    let put = lab
        .take_seen(&mut mark)
        .into_iter()
        .find(|s| s.method == "PUT" && s.template.ends_with("/config"))
        .expect("PUT config");
    assert_eq!(put.params["swap"], "1024");
    assert!(
        put.params["net0"].contains("bridge=vmbr2"),
        "{:?}",
        put.params
    );
    lab.plan_code().expect(0);
    // …while storage is chosen at create: a change is a replacement, said so.
    lab.spec(&container(
        "web",
        &extra
            .replace("swap = 0", "swap = 1024")
            .replace("vmbr1", "vmbr2")
            .replace("local-lvm", "fast-zfs"),
    ));
    let plan = lab.plan_code().expect(2);
    assert!(
        plan.stdout.contains("# container.web must be replaced"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("~ proxmox.storage = \"local-lvm\" -> \"fast-zfs\" # forces replacement"),
        "{}",
        plan.stdout
    );
    lab.spec(&container(
        "web",
        &extra
            .replace("swap = 0", "swap = 1024")
            .replace("vmbr1", "vmbr2"),
    ));

    // An unknown setting is refused before any call.
    lab.spec(
        &container("db", "\n[container.db.proxmox]\nstorrage = \"x\"\n")
            .replace("192.168.1.52", "192.168.1.53"),
    );
    let fail = lab.apply().expect(1);
    assert!(
        fail.all().contains("unknown setting `storrage`"),
        "{}",
        fail.all()
    );
}

#[test]
fn vm_create_resize_delete() {
    let lab = Lab::new();
    let vm = |cores: u32, memory: u32, disk: u32| {
        format!("[vm.db]\nhostname = \"db\"\ncores = {cores}\nmemory = {memory}\ndisk = {disk}\nip = \"192.168.1.60/24\"\ngateway = \"192.168.1.1\"\n")
    };
    lab.spec(&vm(2, 2048, 16));
    lab.apply().expect(0);
    let create = lab
        .pve
        .seen()
        .into_iter()
        .find(|s| s.method == "POST" && s.template == "/nodes/{node}/qemu")
        .unwrap();
    assert_eq!(create.params["scsi0"], "local-lvm:16");
    assert_eq!(
        create.params["ipconfig0"],
        "ip=192.168.1.60/24,gw=192.168.1.1"
    );
    assert_eq!(create.params["name"], "db");
    lab.plan_code().expect(0);
    lab.spec(&vm(4, 4096, 32));
    // QEMU does not hotplug cores or memory by default: the plan says when they count.
    let plan = lab.plan_code().expect(2);
    for line in [
        "cores  = 2 -> 4 # takes effect after a restart",
        "memory = 2048 -> 4096 # takes effect after a restart",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    assert!(
        !plan.stdout.contains("disk   = 16 -> 32 # takes"),
        "{}",
        plan.stdout
    );
    let json = lab.infra(&["plan", "--format", "json"]);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        json["changes"][0]["restart_paths"],
        json!(["cores", "memory"])
    );
    lab.apply().expect(0);
    let g = lab.pve.world(|w| w.guests[&100].clone());
    assert_eq!(g.config["cores"], json!(4));
    assert_eq!(g.config["memory"], json!("4096"));
    assert!(g.config["scsi0"].as_str().unwrap().contains("size=32G"));
    lab.plan_code().expect(0);
    lab.spec("");
    lab.apply().expect(0);
    assert!(lab.pve.world(|w| w.guests.is_empty()));
}

#[test]
fn import_adopts_a_hand_made_container() {
    let lab = Lab::new();
    lab.pve.world(|w| {
        let mut config = serde_json::Map::new();
        config.insert("hostname".into(), json!("legacy"));
        config.insert("memory".into(), json!(512));
        config.insert("cores".into(), json!(1));
        config.insert("tags".into(), json!("prod"));
        config.insert("rootfs".into(), json!("local-lvm:vm-120-disk-0,size=8G"));
        config.insert(
            "net0".into(),
            json!("name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:78:00,ip=192.168.1.80/24,type=veth"),
        );
        w.guests.insert(
            120,
            proxmox_fake::world::Guest {
                vmid: 120,
                kind: proxmox_fake::Kind::Lxc,
                config,
                running: true,
            },
        );
        w.refresh_digest(120);
    });
    lab.spec("[container.legacy]\nhostname = \"legacy\"\nmemory = 512\ncores = 1\ndisk = 8\nip = \"192.168.1.80/24\"\n");
    let plan = lab.plan_code().expect(2);
    assert!(
        plan.stdout.contains("will be created"),
        "not ours until imported: {}",
        plan.stdout
    );
    lab.infra(&["import", "container.legacy", "120"]).expect(0);
    let tags = lab.pve.world(|w| w.guests[&120].tags().map(String::from));
    assert_eq!(tags.as_deref(), Some("prod;infra+homelab+container.legacy"));
    assert_eq!(
        lab.recorded()["resources"]["container.legacy"]["settings"],
        Value::Null,
        "unknown after an import"
    );

    // Its settings were never recorded: an in-place one the spec gives is shown as
    // added and set by the update; one that would force a replacement (storage)
    // is left alone; the bridge, not given, is not touched.
    lab.spec("[container.legacy]\nhostname = \"legacy\"\nmemory = 1024\ncores = 1\ndisk = 8\nip = \"192.168.1.80/24\"\n\n[container.legacy.proxmox]\nswap = 256\nstorage = \"fast-zfs\"\n");
    let plan = lab.plan_code().expect(2);
    for line in [
        "# container.legacy will be updated in-place",
        "~ memory       = 512 -> 1024",
        "+ proxmox.swap = 256",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    assert!(!plan.stdout.contains("proxmox.storage"), "{}", plan.stdout);
    let mut mark = lab.pve.seen().len();
    lab.apply().expect(0);
    let put = lab
        .take_seen(&mut mark)
        .into_iter()
        .find(|s| s.method == "PUT" && s.template.ends_with("/config"))
        .expect("PUT config");
    assert_eq!(
        (put.params["memory"].as_str(), put.params["swap"].as_str()),
        ("1024", "256")
    );
    assert!(
        !put.params.contains_key("net0"),
        "the bridge is not touched: {:?}",
        put.params
    );
    assert_eq!(
        lab.recorded()["resources"]["container.legacy"]["settings"],
        json!({"swap": 256})
    );
    lab.plan_code().expect(0);

    // The spec names the template it was made from, which PVE never reports:
    // not a replacement of a running guest, not even a change.
    lab.spec("[container.legacy]\nhostname = \"legacy\"\nimage = \"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst\"\nmemory = 1024\ncores = 1\ndisk = 8\nip = \"192.168.1.80/24\"\n\n[container.legacy.proxmox]\nswap = 256\nstorage = \"fast-zfs\"\n");
    let plan = lab.plan_code();
    assert_eq!(plan.code, 0, "{}", plan.stdout);
}

/// The issue's request, offline interpreter: with every provider kind declared
/// (DNS, proxy and monitoring are not contacted by a dry run), it becomes the
/// web-service capability on pve1. Then a container-only request for real:
/// ask → apply → empty plan → "remove" → apply, against the fake.
#[test]
fn the_issue_request_becomes_a_sensible_intent() {
    let lab = Lab::new();
    let pool = "\n[pools.lan]\ncidr = \"192.168.1.0/24\"\nrange = \"192.168.1.50-192.168.1.199\"\ngateway = \"192.168.1.1\"\n";
    let others = "\n[providers.dns]\nkind = \"cloudflare\"\ntoken = \"env:CLOUDFLARE_API_TOKEN\"\n\n[providers.edge]\nkind = \"nginx\"\nsites_dir = \"/etc/nginx/conf.d\"\n\n[providers.mon]\nkind = \"prometheus\"\ntargets_dir = \"/etc/prometheus/targets\"\n";
    let base = lab.env.read("infra.toml");
    lab.env
        .write("infra.toml", &format!("{base}{others}{pool}"));
    lab.env.commit_all("all providers");
    let request = "Create a container on pve1 for the API scanner and make it accessible at api-scanner.example.com";
    let run = lab.infra(&["ask", "--dry-run", "--format", "json", request]);
    assert_eq!(run.code, 0, "{}", run.all());
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let op = &v["intent"]["operations"][0];
    assert_eq!(op["capability"], json!("web-service"), "{v:#}");
    assert_eq!(op["params"]["name"], json!("api-scanner"), "{v:#}");
    assert_eq!(op["params"]["provider"], json!("pve1"), "{v:#}");
    let addresses: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["address"].as_str())
        .collect();
    assert!(
        addresses.contains(&"container.api-scanner"),
        "{addresses:?}"
    );
    assert!(
        addresses.contains(&"dns_record.api-scanner"),
        "{addresses:?}"
    );
    assert!(lab.pve.seen().is_empty(), "a dry run contacts nothing");

    // For real, with the providers this branch can reach.
    lab.env.write("infra.toml", &format!("{base}{pool}"));
    lab.env.commit_all("proxmox only");
    lab.infra(&["ask", "Create a container on pve1 for the API scanner"])
        .expect(0);
    lab.apply().expect(0);
    let ct = lab
        .pve
        .world(|w| w.guests.values().next().cloned())
        .expect("a container");
    assert_eq!(ct.name(), Some("api-scanner"));
    // `image = "debian-12"` (the capability's default) resolved to the node's template.
    let create = lab
        .pve
        .seen()
        .into_iter()
        .find(|s| s.method == "POST" && s.template == "/nodes/{node}/lxc")
        .unwrap();
    assert_eq!(create.params["ostemplate"], TEMPLATE);
    lab.plan_code().expect(0);
    lab.infra(&["ask", "remove the api scanner"]).expect(0);
    lab.apply().expect(0);
    assert!(lab.pve.world(|w| w.guests.is_empty()));
    lab.plan_code().expect(0);
}

#[test]
fn a_partly_failed_update_records_what_was_done() {
    let lab = Lab::new();
    lab.spec(&container("web", ""));
    lab.apply().expect(0);
    // More cores (PUT config, succeeds) and a bigger disk (resize task, fails).
    lab.spec(
        &container("web", "")
            .replace("cores = 1", "cores = 2")
            .replace("disk = 8", "disk = 12"),
    );
    lab.pve.world(|w| {
        w.fail_next_task = Some(("resize".into(), "disk resize failed: storage error".into()))
    });
    let fail = lab.apply().expect(1);
    assert!(fail.all().contains("disk resize failed"), "{}", fail.all());
    assert!(
        fail.all()
            .contains("the state records the guest as it now is"),
        "{}",
        fail.all()
    );
    let rec = &lab.recorded()["resources"]["container.web"]["attrs"];
    assert_eq!(
        rec["cores"],
        json!(2),
        "the change that was made is recorded: {rec}"
    );
    // The next plan is about the disk only, and blames nobody.
    let plan = lab.plan_code().expect(2);
    assert!(!plan.stdout.contains("outside of infra"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("disk") && !plan.stdout.contains("~ cores"),
        "{}",
        plan.stdout
    );
    lab.apply().expect(0);
    lab.plan_code().expect(0);
}

#[test]
fn apply_prints_how_to_reach_the_group_and_output_repeats_it() {
    let lab = Lab::new();
    let keys = "[container.web.proxmox]\nssh_public_keys = \"ssh-ed25519 AAAAC3Nza… a@b\"\n";
    let db = container("db", "group = \"site\"\n").replace("192.168.1.52", "192.168.1.53");
    lab.spec(&format!(
        "{}{db}\n[outputs]\nlogin = \"root@${{container.web.address}}\"\n",
        container("web", &format!("group = \"site\"\n{keys}"))
    ));
    let run = lab.apply().expect(0);
    // Both are created at once: which takes which VMID is up to the node.
    let vmid = |a: &str| {
        lab.recorded()["resources"][a]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (db, web) = (vmid("container.db"), vmid("container.web"));
    let card = format!(
        "site\n\
         \x20 Address      192.168.1.53 (container.db)\n\
         \x20              192.168.1.52 (container.web)\n\
         \x20 Shell        pct enter {db} (on node pve1)\n\
         \x20              ssh root@192.168.1.52\n\
         \x20              pct enter {web} (on node pve1)\n"
    );
    assert!(run.stdout.contains(&card), "{}", run.stdout);
    assert!(
        run.stdout
            .ends_with("Outputs:\n\nlogin = \"root@192.168.1.52\"\n"),
        "{}",
        run.stdout
    );

    // The same from the state, without a call to the node.
    let calls = lab.pve.seen().len();
    let run = lab
        .infra(&["output", "container.web", "--format", "json"])
        .expect(0);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["groups"][0]["shells"],
        json!([
            {"resource": "container.web", "command": "ssh root@192.168.1.52"},
            {"resource": "container.web", "command": format!("pct enter {web}"), "on": "pve1"}
        ])
    );
    assert_eq!(lab.pve.seen().len(), calls, "output contacted the node");
}
