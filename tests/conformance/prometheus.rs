//! The `prometheus` provider's harness: a private Prometheus + blackbox exporter
//! whose file_sd directory is the provider's targets_dir.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use super::Harness;
use crate::labkit::prometheus::Prometheus;

pub struct PrometheusHarness {
    pub prom: Prometheus,
}

impl PrometheusHarness {
    pub fn new() -> Self {
        PrometheusHarness {
            prom: Prometheus::start(),
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.prom.targets_dir().join(format!("conf--{name}.json"))
    }

    /// The monitored URL: Prometheus's own readiness endpoint, so probes succeed.
    fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/-/ready?check={name}", self.prom.port)
    }
}

impl Harness for PrometheusHarness {
    fn providers_toml(&self) -> String {
        format!(
            "[providers.prom]\nkind = \"prometheus\"\ntargets_dir = \"{}\"\n",
            self.prom.targets_dir().display()
        )
    }

    fn kind(&self) -> &'static str {
        "monitor"
    }

    fn body(&self, name: &str, version: u8) -> String {
        let url = self.url(name);
        match version {
            0 => format!("url = \"{url}\""),
            // No monitor attribute forces replacement; 2 is never asked for.
            _ => format!("url = \"{url}\"\ninterval = 60\ntimeout = 5\nexpect_status = 204"),
        }
    }

    fn expect(&self, name: &str) -> Vec<(&'static str, Value)> {
        vec![
            ("url", json!(self.url(name))),
            ("interval", json!(30)),
            ("timeout", json!(10)),
            ("expect_status", json!(200)),
            ("id", json!(format!("conf--{name}.json"))),
        ]
    }

    fn drift(&self, name: &str) {
        let p = self.file(name);
        let text = std::fs::read_to_string(&p).unwrap();
        let edited = text.replace("\"30s\"", "\"15s\"");
        assert_ne!(text, edited);
        std::fs::write(&p, edited).unwrap();
    }

    fn foreign(&self, name: &str) {
        std::fs::write(
            self.prom.targets_dir().join(format!("{name}.json")),
            FOREIGN,
        )
        .unwrap();
    }

    fn foreign_intact(&self, name: &str) -> bool {
        std::fs::read_to_string(self.prom.targets_dir().join(format!("{name}.json")))
            .is_ok_and(|t| t == FOREIGN)
    }

    fn count(&self, name: &str) -> usize {
        let marker = format!("\"infra:conf/monitor.{name}\"");
        std::fs::read_dir(self.prom.targets_dir())
            .unwrap()
            .filter(|e| {
                std::fs::read_to_string(e.as_ref().unwrap().path())
                    .is_ok_and(|t| t.contains(&marker))
            })
            .count()
    }

    fn supports_replace(&self) -> bool {
        false
    }

    /// Only once (after the create): file_sd pick-up takes seconds.
    fn verify_live(&self, name: &str, version: u8) {
        if version != 0 {
            return;
        }
        let url = self.url(name);
        let target = self
            .prom
            .wait_for_target(&url, Duration::from_secs(15))
            .unwrap_or_else(|| {
                panic!(
                    "{url} not among Prometheus's targets within 15 s:\n{:?}\n{}",
                    self.prom.targets(),
                    self.prom.log_text()
                )
            });
        assert_eq!(
            target["labels"]["infra_owner"],
            json!("infra:conf/monitor.alpha"),
            "{target}"
        );
        assert_eq!(
            target["labels"]["infra_expect_status"],
            json!("200"),
            "{target}"
        );
        // The per-target interval and timeout labels are honoured (the job says 2s).
        assert_eq!(target["scrapeInterval"], json!("30s"), "{target}");
        assert_eq!(target["scrapeTimeout"], json!("10s"), "{target}");
    }
}

const FOREIGN: &str =
    "[{\"targets\": [\"http://127.0.0.1:9/\"], \"labels\": {\"team\": \"ops\"}}]\n";
