//! A private PowerDNS Authoritative server for one test (LAB.md §2): sqlite
//! database from the Debian schema, DNS and HTTP API on free 127.0.0.1 ports,
//! caches off so every answer is current, all files in one temp dir. Ready when
//! the API answers; stopped when dropped. Also a small blocking API client and
//! a `dig` helper for checks made out of band.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use super::{free_port, port_open, Process};

pub const SCHEMA: &str = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql";
pub const KEY: &str = "labkit-pdns-key";

pub struct Pdns {
    pub dir: tempfile::TempDir,
    pub dns_port: u16,
    pub api_port: u16,
    proc: Option<Process>,
}

impl Pdns {
    /// Start a server with these zones (created through the API).
    pub fn start(zones: &[&str]) -> Pdns {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("pdns.db");
        let status = Command::new("sqlite3")
            .arg(&db)
            .stdin(std::fs::File::open(SCHEMA).unwrap_or_else(|e| {
                panic!("{SCHEMA}: {e} (install pdns-backend-sqlite3; tests/run-all.sh does)")
            }))
            .status()
            .expect("sqlite3 (install the sqlite3 package)");
        assert!(status.success(), "initialising {}", db.display());
        let (dns_port, api_port) = (free_port(), free_port());
        let conf = format!(
            "launch=gsqlite3\ngsqlite3-database={db}\nlocal-address=127.0.0.1\nlocal-port={dns_port}\n\
             api=yes\napi-key={KEY}\nwebserver=yes\nwebserver-address=127.0.0.1\nwebserver-port={api_port}\n\
             webserver-allow-from=127.0.0.0/8\nsocket-dir={sock}\ndaemon=no\nguardian=no\ndisable-syslog=yes\n\
             zone-cache-refresh-interval=0\ncache-ttl=0\nnegquery-cache-ttl=0\nquery-cache-ttl=0\n",
            db = db.display(),
            sock = dir.path().display()
        );
        std::fs::write(dir.path().join("pdns.conf"), conf).unwrap();
        let mut p = Pdns {
            dir,
            dns_port,
            api_port,
            proc: None,
        };
        p.spawn();
        for z in zones {
            p.create_zone(z);
        }
        p
    }

    /// Start pdns_server on the existing config and database; wait for API and DNS.
    pub fn spawn(&mut self) {
        let mut cmd = Command::new("pdns_server");
        cmd.arg(format!("--config-dir={}", self.dir.path().display()));
        let mut proc = Process::spawn("pdns_server", cmd, &self.dir.path().join("pdns.log"));
        let api_port = self.api_port;
        let dns_port = self.dns_port;
        proc.wait_until(Duration::from_secs(10), || {
            port_open(dns_port)
                && super::http_get(api_port, "/api/v1/servers/localhost", &[("X-API-Key", KEY)])
                    .is_some_and(|(s, _)| s == 200)
        });
        self.proc = Some(proc);
    }

    /// Stop the server now (SIGTERM, then SIGKILL); `spawn` starts it again.
    pub fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.stop();
        }
    }

    pub fn pid(&self) -> u32 {
        self.proc.as_ref().map(Process::pid).unwrap_or(0)
    }

    pub fn log(&self) -> String {
        self.proc
            .as_ref()
            .map(Process::log_text)
            .unwrap_or_default()
    }

    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("pdns.db")
    }

    /// `[providers.NAME]` for infra.toml (key from env PDNS_TEST_KEY).
    pub fn provider_toml(&self, name: &str, api_url: &str, zones: &[&str], extra: &str) -> String {
        let zones: Vec<String> = zones.iter().map(|z| format!("\"{z}\"")).collect();
        format!(
            "[providers.{name}]\nkind = \"powerdns\"\napi_url = \"{api_url}\"\napi_key = \"env:PDNS_TEST_KEY\"\nzones = [{}]\n{extra}",
            zones.join(", ")
        )
    }

    /// One API call: (status, body). Bounded by a 10 s timeout.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
        http(
            self.api_port,
            method,
            path,
            body.map(Value::to_string).as_deref(),
        )
        .unwrap_or_else(|| panic!("{method} {path}: no answer from PowerDNS\n{}", self.log()))
    }

    pub fn create_zone(&self, zone: &str) {
        let body = json!({"name": format!("{zone}."), "kind": "Native", "nameservers": [format!("ns1.{zone}.")]});
        let (s, b) = self.call("POST", "/api/v1/servers/localhost/zones", Some(&body));
        assert_eq!(s, 201, "creating zone {zone}: {b}");
    }

    /// All rrsets of a zone (JSON objects as the API returns them).
    pub fn rrsets(&self, zone: &str) -> Vec<Value> {
        let (s, b) = self.call(
            "GET",
            &format!("/api/v1/servers/localhost/zones/{zone}."),
            None,
        );
        assert_eq!(s, 200, "reading zone {zone}: {b}");
        let v: Value = serde_json::from_str(&b).unwrap();
        v["rrsets"].as_array().cloned().unwrap_or_default()
    }

    /// The rrset `fqdn` (no trailing dot) of `rtype`, if it exists.
    pub fn rrset(&self, zone: &str, fqdn: &str, rtype: &str) -> Option<Value> {
        let name = format!("{fqdn}.");
        self.rrsets(zone)
            .into_iter()
            .find(|r| r["name"] == name.as_str() && r["type"] == rtype)
    }

    /// PATCH a zone with these rrset changes; returns the status.
    pub fn patch(&self, zone: &str, rrsets: Value) -> u16 {
        let (s, b) = self.call(
            "PATCH",
            &format!("/api/v1/servers/localhost/zones/{zone}."),
            Some(&json!({ "rrsets": rrsets })),
        );
        assert!(s == 204, "PATCH {zone}: {s} {b}");
        s
    }

    /// `dig +short @127.0.0.1 -p PORT name type`, one answer per line.
    pub fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        let out = Command::new("dig")
            .args(["+short", "+time=2", "+tries=1", "@127.0.0.1", "-p"])
            .arg(self.dns_port.to_string())
            .args([name, rtype])
            .output()
            .expect("dig (install dnsutils)");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect()
    }
}

impl Drop for Pdns {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A blocking HTTP/1.1 request to 127.0.0.1:port with the lab API key:
/// (status, body), `None` if nothing answered within 10 s.
pub fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> Option<(u16, String)> {
    let headers = [
        ("X-API-Key", KEY),
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    ];
    // PowerDNS wants a length even for an empty body.
    let body = Some(body.unwrap_or(""));
    super::http_request(port, method, path, &headers, body, Duration::from_secs(10))
}
