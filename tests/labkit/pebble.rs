//! A private ACME CA (LAB.md: Debian's pebble) on 127.0.0.1: its own HTTPS
//! certificate made with openssl, validation through the lab's PowerDNS
//! (`-dnsserver`), HTTP-01 fetched from `http_port`. Every file under one temp
//! dir; killed when dropped.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{free_port, port_open, Process};

pub struct Pebble {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub mgmt_port: u16,
    /// Where pebble fetches HTTP-01 answers (`http://NAME:PORT/...`).
    pub http_port: u16,
    process: Process,
}

impl Pebble {
    /// Validate through the DNS server on 127.0.0.1:`dns_port`.
    pub fn start(dns_port: u16, http_port: u16) -> Pebble {
        Pebble::start_with(dns_port, http_port, false)
    }

    /// `always_valid`: accept every challenge without looking (PEBBLE_VA_ALWAYS_VALID),
    /// for a DNS provider pebble cannot query (the Cloudflare imitation).
    pub fn start_with(dns_port: u16, http_port: u16, always_valid: bool) -> Pebble {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A CA and a leaf for 127.0.0.1 (rustls, unlike curl, refuses a CA
        // certificate as the server's own).
        let script = "set -e
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=lab-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out leaf.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 -extfile leaf.ext 2>/dev/null";
        let made = Command::new("sh")
            .args(["-c", script])
            .current_dir(d)
            .output()
            .expect("openssl (install the openssl package)");
        assert!(
            made.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        let (port, mgmt_port, tls_port) = (free_port(), free_port(), free_port());
        let config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{port}"),
            "managementListenAddress": format!("127.0.0.1:{mgmt_port}"),
            "certificate": d.join("cert.pem"),
            "privateKey": d.join("key.pem"),
            "httpPort": http_port,
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false
        }});
        std::fs::write(d.join("pebble.json"), config.to_string()).unwrap();
        let mut cmd = Command::new("pebble");
        cmd.arg("-config")
            .arg(d.join("pebble.json"))
            .arg("-dnsserver")
            .arg(format!("127.0.0.1:{dns_port}"))
            // No waiting before validation, and no nonce refused at random:
            // the tests are about infra, not about pebble's chaos.
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            // Every order proves its names again (no authorization reused).
            .env("PEBBLE_AUTHZREUSE", "0")
            .env(
                "PEBBLE_VA_ALWAYS_VALID",
                if always_valid { "1" } else { "0" },
            );
        let mut process = Process::spawn("pebble", cmd, &d.join("pebble.log"));
        process.wait_until(Duration::from_secs(10), || {
            port_open(port) && port_open(mgmt_port)
        });
        Pebble {
            dir,
            port,
            mgmt_port,
            http_port,
            process,
        }
    }

    pub fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.port)
    }

    /// The root of pebble's own HTTPS certificate (for the ACME client).
    pub fn server_ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The root that signs issued certificates (new on every start), as a file.
    pub fn issuing_root(&self) -> PathBuf {
        let path = self.dir.path().join("issuing-root.pem");
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(self.server_ca())
            .arg(format!("https://127.0.0.1:{}/roots/0", self.mgmt_port))
            .output()
            .expect("curl");
        assert!(
            out.status.success(),
            "pebble roots: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&path, &out.stdout).unwrap();
        path
    }

    pub fn log(&self) -> String {
        self.process.log_text()
    }
}
