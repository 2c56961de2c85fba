//! A private Prometheus and blackbox exporter (LAB.md §3) on 127.0.0.1.
//!
//! One scrape job probes every target in `targets/*.json` (file_sd, the
//! prometheus provider's targets_dir) through the blackbox exporter, with the
//! usual relabeling (`__address__` → `__param_target` → `instance`). Storage and
//! config live in the temp dir; both processes stop when the guard is dropped.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{free_port, port_open, Process};

pub struct Prometheus {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub blackbox_port: u16,
    prometheus: Process,
    blackbox: Process,
}

impl Prometheus {
    pub fn start() -> Prometheus {
        Prometheus::start_with(None)
    }

    /// Probes go to the reverse proxy on `127.0.0.1:port`, which routes them by
    /// host name: the exporter resolves no name, so a probe of
    /// `http://api-scanner.example.com/` never asks the machine's (off-loopback)
    /// DNS resolver and still passes through nginx to the service, as a user's
    /// request would.
    pub fn start_probing_through(proxy_port: u16) -> Prometheus {
        Prometheus::start_with(Some(proxy_port))
    }

    fn start_with(proxy_port: Option<u16>) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("targets")).unwrap();
        let (port, blackbox_port) = (free_port(), free_port());
        let proxy = proxy_port
            .map(|p| {
                format!(
                    "    http:\n      proxy_url: http://127.0.0.1:{p}\n      skip_resolve_phase_with_proxy: true\n"
                )
            })
            .unwrap_or_default();
        std::fs::write(
            d.join("blackbox.yml"),
            format!("modules:\n  http_2xx:\n    prober: http\n    timeout: 2s\n{proxy}"),
        )
        .unwrap();
        std::fs::write(
            d.join("prometheus.yml"),
            format!(
                "global: {{ scrape_interval: 2s, evaluation_interval: 2s }}\n\
                 scrape_configs:\n\
                 \x20 - job_name: blackbox-http\n\
                 \x20   metrics_path: /probe\n\
                 \x20   params: {{ module: [http_2xx] }}\n\
                 \x20   file_sd_configs: [ {{ files: ['{}/targets/*.json'], refresh_interval: 2s }} ]\n\
                 \x20   relabel_configs:\n\
                 \x20     - {{ source_labels: [__address__], target_label: __param_target }}\n\
                 \x20     - {{ source_labels: [__param_target], target_label: instance }}\n\
                 \x20     - {{ target_label: __address__, replacement: '127.0.0.1:{blackbox_port}' }}\n",
                d.display()
            ),
        )
        .unwrap();
        let mut bb = Command::new("prometheus-blackbox-exporter");
        bb.arg(format!(
            "--config.file={}",
            d.join("blackbox.yml").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{blackbox_port}"));
        let mut blackbox = Process::spawn("blackbox exporter", bb, &d.join("blackbox.log"));
        blackbox.wait_until(Duration::from_secs(10), || port_open(blackbox_port));
        let mut cmd = Command::new("prometheus");
        cmd.arg(format!(
            "--config.file={}",
            d.join("prometheus.yml").display()
        ))
        .arg(format!("--storage.tsdb.path={}", d.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.enable-lifecycle")
        .current_dir(d);
        let mut prometheus = Process::spawn("prometheus", cmd, &d.join("prometheus.log"));
        prometheus.wait_until(Duration::from_secs(15), || {
            get(port, "/-/ready").is_some_and(|b| b.contains("Ready"))
        });
        Prometheus {
            dir,
            port,
            blackbox_port,
            prometheus,
            blackbox,
        }
    }

    /// The provider's targets_dir.
    pub fn targets_dir(&self) -> PathBuf {
        self.dir.path().join("targets")
    }

    /// `/api/v1/targets` as JSON.
    pub fn targets(&self) -> Option<Value> {
        serde_json::from_str(&get(self.port, "/api/v1/targets")?).ok()
    }

    /// Poll `/api/v1/targets` (every 200 ms, at most `timeout`) until an active
    /// target probes `url`; returns that target. file_sd changes take ≤ ~5 s.
    pub fn wait_for_target(&self, url: &str, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(t) = self.targets().and_then(|v| {
                v["data"]["activeTargets"]
                    .as_array()?
                    .iter()
                    .find(|t| t["labels"]["instance"] == url)
                    .cloned()
            }) {
                return Some(t);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        None
    }

    pub fn log_text(&self) -> String {
        self.prometheus.log_text()
    }

    /// Poll (every 200 ms, at most `timeout`) until the blackbox probe of `url`
    /// reports `probe_success` 1; returns whether it did.
    pub fn wait_for_probe_success(&self, url: &str, timeout: Duration) -> bool {
        let query = format!("probe_success{{instance=\"{url}\"}}");
        let path = format!(
            "/api/v1/query?query={}",
            percent_encoding::utf8_percent_encode(&query, percent_encoding::NON_ALPHANUMERIC)
        );
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let value = get(self.port, &path)
                .and_then(|b| serde_json::from_str::<Value>(&b).ok())
                .and_then(|v| {
                    v["data"]["result"][0]["value"][1]
                        .as_str()
                        .map(String::from)
                });
            if value.as_deref() == Some("1") {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.prometheus.stop();
        self.blackbox.stop();
    }
}

/// GET over loopback with curl (Prometheus answers large bodies chunked).
fn get(port: u16, path: &str) -> Option<String> {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "5", "--noproxy", "*"])
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
