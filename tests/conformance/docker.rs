//! The `docker` provider's harness: a private dockerd per test (tests/labkit/dockerd.rs),
//! containers on the host network running `/bin/busybox sleep 3600` from an
//! imported busybox image. Version 1 changes memory (updated in place), version 2
//! the command, which Docker fixes at create time: the provider's `replace_on`
//! must make the plan say so. Drift is `docker update --cpus 0.5`.
//! Dropping the harness removes every container of its engine, then stops it.

use serde_json::{json, Value};

use super::{Harness, Suite};
use crate::labkit::dockerd::{Dockerd, BUSYBOX};

/// The project name `Suite` writes into infra.toml: containers are `conf-NAME`.
const PROJECT: &str = "conf";

pub struct DockerHarness {
    pub engine: Dockerd,
}

impl DockerHarness {
    pub fn new() -> Self {
        let engine = Dockerd::start();
        engine.import_busybox(BUSYBOX);
        DockerHarness { engine }
    }

    fn container(name: &str) -> String {
        format!("{PROJECT}-{name}")
    }

    pub fn inspect(&self, name: &str, format: &str) -> Option<String> {
        let out = self
            .engine
            .docker(&["inspect", "--format", format, &Self::container(name)]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

impl Harness for DockerHarness {
    fn providers_toml(&self) -> String {
        format!(
            "[providers.engine]\nkind = \"docker\"\nsocket = \"{}\"\n",
            self.engine.host()
        )
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![("INFRA_TEST_GREETING".into(), "hello-secret".into())]
    }

    fn kind(&self) -> &'static str {
        "container"
    }

    fn body(&self, name: &str, version: u8) -> String {
        let (seconds, memory) = match version {
            0 => (3600, 64),
            1 => (3600, 96),
            _ => (3601, 64),
        };
        format!(
            "hostname = \"{name}\"\nimage = \"{BUSYBOX}\"\ncommand = \"/bin/busybox sleep {seconds}\"\n\
             cores = 1\nmemory = {memory}\nip = \"127.0.0.1/8\"\n\
             env = {{ MODE = \"test\", GREETING = \"env:INFRA_TEST_GREETING\" }}"
        )
    }

    fn expect(&self, name: &str) -> Vec<(&'static str, Value)> {
        vec![
            ("hostname", json!(name)),
            ("image", json!(BUSYBOX)),
            ("command", json!("/bin/busybox sleep 3600")),
            ("cores", json!(1)),
            ("memory", json!(64)),
            ("ip", json!("127.0.0.1/8")),
            ("address", json!("127.0.0.1")),
            ("start", json!(true)),
            // `infra show` redacts sensitive attributes; the state holds references.
            ("env", json!("(sensitive)")),
        ]
    }

    fn drift(&self, name: &str) {
        self.engine
            .docker_ok(&["update", "--cpus", "0.5", &Self::container(name)]);
    }

    fn foreign(&self, name: &str) {
        self.engine.docker_ok(&[
            "run",
            "-d",
            "--name",
            &Self::container(name),
            "--network",
            "host",
            "--label",
            "owner=someone-else",
            BUSYBOX,
            "/bin/busybox",
            "sleep",
            "3600",
        ]);
    }

    fn foreign_intact(&self, name: &str) -> bool {
        self.inspect(name, "{{.State.Running}} {{json .Config.Labels}}")
            .is_some_and(|s| s == r#"true {"owner":"someone-else"}"#)
    }

    fn count(&self, name: &str) -> usize {
        let by_label = self.engine.docker_ok(&[
            "ps",
            "-aq",
            "--no-trunc",
            "--filter",
            &format!("label=infra.owner=infra:{PROJECT}/container.{name}"),
        ]);
        let by_name = self.engine.docker_ok(&[
            "ps",
            "-aq",
            "--no-trunc",
            "--filter",
            &format!("name=^/?{}$", Self::container(name)),
        ]);
        let mut ids: Vec<&str> = by_label.lines().chain(by_name.lines()).collect();
        ids.sort();
        ids.dedup();
        ids.len()
    }
}

/// `[container.NAME.docker]`: the restart policy changes in place, extra labels
/// are fixed at create (a change replaces the container), a bad value is refused
/// before any call. Docker does not report settings as written: the plan compares
/// them with what infra applied.
pub fn settings_restart_in_place_labels_replace() {
    let suite = super::Suite::new(DockerHarness::new());
    let h = &suite.h;
    let spec = |restart: &str, team: &str| {
        suite.env.write(
            "infra/main.toml",
            &format!(
                "[container.web]\n{}\n\n[container.web.docker]\nrestart = \"{restart}\"\nlabels = {{ team = \"{team}\" }}\n",
                h.body("web", 0)
            ),
        );
        suite.env.commit_all("spec");
    };
    let policy = || {
        h.inspect(
            "web",
            "{{.HostConfig.RestartPolicy.Name}} {{index .Config.Labels \"team\"}} {{.Id}}",
        )
        .unwrap()
    };
    spec("always", "scan");
    suite.apply();
    let first = policy();
    assert!(first.starts_with("always scan "), "{first}");
    suite.no_changes("create with settings");

    spec("no", "scan");
    let plan = suite.plan_is(&[("web", "update")], (0, 1, 0));
    let change = &Suite::<DockerHarness>::change(&plan, "container.web");
    assert_eq!(
        (
            &change["before"]["docker.restart"],
            &change["after"]["docker.restart"]
        ),
        (&json!("always"), &json!("no")),
        "{change:#}"
    );
    suite.apply();
    let second = policy();
    assert!(second.starts_with("no scan "), "{second}");
    assert_eq!(
        first.split(' ').next_back(),
        second.split(' ').next_back(),
        "same container, updated in place"
    );
    suite.no_changes("restart change");

    spec("no", "billing");
    let plan = suite.plan_is(&[("web", "replace")], (1, 0, 1));
    assert_eq!(
        Suite::<DockerHarness>::change(&plan, "container.web")["replace_paths"],
        json!(["docker.labels"]),
        "{plan:#}"
    );
    suite.apply();
    let third = policy();
    assert!(third.starts_with("no billing "), "{third}");
    assert_ne!(
        second.split(' ').next_back(),
        third.split(' ').next_back(),
        "a new container"
    );
    suite.no_changes("labels change");

    // A bad value beside a change that forces replacement: refused by validation,
    // before the replacement could delete anything.
    spec("sometimes", "other");
    let fail = suite.infra(&["apply", "--yes"]).expect(1);
    for needle in [
        "[container.web.docker] restart: \"sometimes\" is not one of",
        "infra/main.toml:",
    ] {
        assert!(fail.all().contains(needle), "{needle}\n{}", fail.all());
    }
    assert_eq!(policy(), third, "a refused setting changes nothing");
}
