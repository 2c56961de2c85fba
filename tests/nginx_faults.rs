//! The nginx provider when nginx says no: a configuration `nginx -t` rejects is
//! never loaded, the previous file is put back byte for byte, the error is
//! nginx's own, the state still matches what is live, and the next plan shows
//! exactly the change that is left. Also: hand edits no attribute can express
//! are drift, and a reload that fails (nginx down) rolls the file back.
//!
//! The rejected configuration is a certificate that does not exist (`nginx -t`
//! loads certificates). An unresolvable upstream host would do too, but nginx
//! resolves it with the system resolver, which is not on loopback here.

mod common;
mod labkit;

use std::time::Duration;

use common::{Run, TestEnv};
use labkit::nginx::{Nginx, Upstream};

const MISSING_CERT: &str = "/nonexistent/infra-faults/site.pem";

struct Lab {
    env: TestEnv,
    nginx: Nginx,
    old: Upstream,
}

impl Lab {
    fn new() -> Lab {
        let nginx = Nginx::start();
        let old = Upstream::start("old-site");
        let env = TestEnv::new();
        env.git(&["init", "-q", "-b", "main"]);
        env.write(
            "infra.toml",
            &format!(
                "[project]\nname = \"faults\"\n\n[providers.edge]\nkind = \"nginx\"\nsites_dir = \"{}\"\nnginx = \"{}\"\n",
                nginx.conf_d().display(),
                nginx.command()
            ),
        );
        env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
        env.write("infra/main.toml", "");
        env.commit_all("project");
        Lab { env, nginx, old }
    }

    /// `[proxy_site.NAME]` pointing at `upstream`, plus `extra` lines.
    fn site(&self, name: &str, upstream: &str, extra: &str) -> String {
        format!(
            "[proxy_site.{name}]\nserver_name = \"{name}.test\"\nupstream = \"{upstream}\"\nlisten = \"127.0.0.1:{}\"\n{extra}\n",
            self.nginx.port
        )
    }

    fn spec(&self, text: &str) {
        self.env.write("infra/main.toml", text);
        self.env.commit_all("spec");
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.nginx.conf_d().join(format!("faults--{name}.conf")))
            .unwrap_or_default()
    }

    fn conf_d_names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.nginx.conf_d())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn shown(&self, address: &str) -> serde_json::Value {
        let run = self.env.infra(&["show", "--json"]).expect(0);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        v[address]["attrs"].clone()
    }

    fn plan(&self) -> Run {
        self.env.infra(&["plan", "--detailed-exitcode"])
    }
}

#[test]
fn a_config_nginx_rejects_is_rolled_back_and_the_old_site_keeps_serving() {
    let lab = Lab::new();
    lab.spec(&lab.site("alpha", &lab.old.url(), ""));
    lab.env.infra(&["apply", "--yes"]).expect(0);
    lab.nginx
        .wait_for("alpha.test", "old-site", Duration::from_secs(5));
    let before = lab.file("alpha");
    let state_before = lab.env.read(".infra/state.json");

    // A new upstream and TLS with a certificate that is not there.
    lab.spec(&lab.site(
        "alpha",
        "http://127.0.0.1:9",
        &format!("tls_cert = \"{MISSING_CERT}\"\ntls_key = \"/nonexistent/infra-faults/site.key\""),
    ));
    let run = lab.env.infra(&["apply", "--yes"]).expect(1);
    let all = run.all();
    assert!(
        all.contains(&format!("cannot load certificate \"{MISSING_CERT}\"")),
        "nginx's own error is shown:\n{all}"
    );
    assert!(all.contains("previous file was put back"), "{all}");

    // Nothing half-written: the same file, byte for byte, and no temp files.
    assert_eq!(lab.file("alpha"), before);
    assert_eq!(lab.conf_d_names(), ["faults--alpha.conf"]);
    // The old site still answers.
    let (status, body) = lab.nginx.get("alpha.test", "/").unwrap();
    assert_eq!((status, body.contains("old-site")), (200, true), "{body}");
    // State matches reality: the old upstream is recorded, no drift, and the
    // plan shows exactly the change that is still to do.
    assert_eq!(lab.env.read(".infra/state.json"), state_before);
    assert_eq!(lab.shown("proxy_site.alpha")["upstream"], lab.old.url());
    let plan = lab.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout.contains("will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("changed outside of infra"),
        "{}",
        plan.stdout
    );
}

#[test]
fn a_refused_create_leaves_no_file_and_no_state() {
    let lab = Lab::new();
    let good = lab.site("alpha", &lab.old.url(), "");
    let bad = lab.site(
        "beta",
        &lab.old.url(),
        &format!("tls_cert = \"{MISSING_CERT}\"\ntls_key = \"/nonexistent/infra-faults/site.key\""),
    );
    lab.spec(&format!("{good}\n{bad}"));
    let run = lab.env.infra(&["apply", "--yes"]).expect(1);
    assert!(
        run.all().contains("cannot load certificate"),
        "{}",
        run.all()
    );
    assert!(run.all().contains("new file was removed"), "{}", run.all());
    // alpha went in (changes are serialised, so beta's test did not fail alpha's).
    assert_eq!(lab.conf_d_names(), ["faults--alpha.conf"]);
    lab.nginx
        .wait_for("alpha.test", "old-site", Duration::from_secs(5));
    let state = lab.env.read(".infra/state.json");
    assert!(
        state.contains("proxy_site.alpha") && !state.contains("proxy_site.beta"),
        "{state}"
    );
    let plan = lab.plan();
    assert_eq!(plan.code, 2);
    assert!(
        plan.stdout.contains("proxy_site.beta will be created"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
}

#[test]
fn a_hand_edit_no_attribute_expresses_is_drift_and_is_repaired() {
    let lab = Lab::new();
    lab.spec(&lab.site("alpha", &lab.old.url(), ""));
    lab.env.infra(&["apply", "--yes"]).expect(0);
    lab.nginx
        .wait_for("alpha.test", "old-site", Duration::from_secs(5));

    // Someone blocks the site by hand and reloads nginx.
    let path = lab.nginx.conf_d().join("faults--alpha.conf");
    let text = lab.file("alpha");
    let edited = text.replacen("    location / {", "    return 403;\n\n    location / {", 1);
    std::fs::write(&path, edited).unwrap();
    let mut reload: Vec<String> = lab.nginx.command().split(' ').map(String::from).collect();
    reload.extend(["-s".into(), "reload".into()]);
    let out = std::process::Command::new(&reload[0])
        .args(&reload[1..])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while lab.nginx.get("alpha.test", "/").map(|r| r.0) != Some(403) {
        assert!(std::time::Instant::now() < deadline, "hand reload not live");
        std::thread::sleep(Duration::from_millis(50));
    }

    let plan = lab.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    for needle in [
        "changed outside of infra",
        "edited_lines",
        "+ return 403;",
        "will be updated in-place",
    ] {
        assert!(
            plan.stdout.contains(needle),
            "{needle:?} missing:\n{}",
            plan.stdout
        );
    }
    lab.env.infra(&["apply", "--yes"]).expect(0);
    assert_eq!(lab.file("alpha"), text, "the file infra wrote is back");
    lab.nginx
        .wait_for("alpha.test", "old-site", Duration::from_secs(5));
    assert_eq!(lab.plan().code, 0);
}

#[test]
fn a_failed_reload_puts_the_previous_file_back() {
    let mut lab = Lab::new();
    lab.spec(&lab.site("alpha", &lab.old.url(), ""));
    lab.env.infra(&["apply", "--yes"]).expect(0);
    let before = lab.file("alpha");
    lab.nginx.stop();

    lab.spec(&lab.site("alpha", &lab.old.url(), "client_max_body_size = \"1m\""));
    let run = lab.env.infra(&["apply", "--yes"]).expect(1);
    assert!(
        run.all().contains("-s reload` failed (is nginx running?)"),
        "{}",
        run.all()
    );
    assert_eq!(lab.file("alpha"), before);
    assert_eq!(lab.conf_d_names(), ["faults--alpha.conf"]);
    let plan = lab.plan();
    assert_eq!(plan.code, 2);
    assert!(
        plan.stdout.contains("will be updated in-place"),
        "{}",
        plan.stdout
    );
}
