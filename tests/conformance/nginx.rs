//! The `nginx` provider's harness: a private nginx whose conf.d is the sites
//! directory, and a python upstream the sites proxy to.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use super::Harness;
use crate::labkit::nginx::{Nginx, Upstream};

const UPSTREAM_BODY: &str = "hello-from-upstream";

pub struct NginxHarness {
    pub nginx: Nginx,
    pub upstream: Upstream,
}

impl NginxHarness {
    pub fn new() -> Self {
        NginxHarness {
            nginx: Nginx::start(),
            upstream: Upstream::start(UPSTREAM_BODY),
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        // Project `conf` (see conformance::Suite::new).
        self.nginx.conf_d().join(format!("conf--{name}.conf"))
    }
}

impl Harness for NginxHarness {
    fn providers_toml(&self) -> String {
        format!(
            "[providers.edge]\nkind = \"nginx\"\nsites_dir = \"{}\"\nnginx = \"{}\"\n",
            self.nginx.conf_d().display(),
            self.nginx.command()
        )
    }

    fn kind(&self) -> &'static str {
        "proxy_site"
    }

    fn body(&self, name: &str, version: u8) -> String {
        let base = format!(
            "server_name = \"{name}.test\"\nupstream = \"{}\"\nlisten = \"127.0.0.1:{}\"",
            self.upstream.url(),
            self.nginx.port
        );
        match version {
            0 => base,
            // No proxy_site attribute forces replacement; 2 is never asked for.
            _ => format!("{base}\nwebsocket = true\nclient_max_body_size = \"1m\"\nallow = [\"127.0.0.1/32\"]"),
        }
    }

    fn expect(&self, name: &str) -> Vec<(&'static str, Value)> {
        vec![
            ("server_name", json!(format!("{name}.test"))),
            ("upstream", json!(self.upstream.url())),
            ("listen", json!(format!("127.0.0.1:{}", self.nginx.port))),
            ("websocket", json!(false)),
            ("id", json!(format!("conf--{name}.conf"))),
        ]
    }

    fn drift(&self, name: &str) {
        // Someone points the site somewhere else by hand.
        let p = self.file(name);
        let text = std::fs::read_to_string(&p).unwrap();
        let edited = text.replace(
            &format!("proxy_pass {};", self.upstream.url()),
            "proxy_pass http://127.0.0.1:9;",
        );
        assert_ne!(text, edited);
        std::fs::write(&p, edited).unwrap();
    }

    fn foreign(&self, name: &str) {
        std::fs::write(
            self.nginx.conf_d().join(format!("{name}.conf")),
            self.foreign_text(),
        )
        .unwrap();
    }

    fn foreign_intact(&self, name: &str) -> bool {
        std::fs::read_to_string(self.nginx.conf_d().join(format!("{name}.conf")))
            .is_ok_and(|t| t == self.foreign_text())
    }

    fn count(&self, name: &str) -> usize {
        let marker = format!("infra:conf/proxy_site.{name} ");
        std::fs::read_dir(self.nginx.conf_d())
            .unwrap()
            .filter(|e| {
                std::fs::read_to_string(e.as_ref().unwrap().path())
                    .is_ok_and(|t| t.lines().next().is_some_and(|l| l.contains(&marker)))
            })
            .count()
    }

    fn supports_replace(&self) -> bool {
        false
    }

    fn verify_live(&self, name: &str, _version: u8) {
        let (status, _) = self
            .nginx
            .wait_for(
                &format!("{name}.test"),
                UPSTREAM_BODY,
                Duration::from_secs(5),
            )
            .unwrap();
        assert_eq!(status, 200);
    }
}

impl NginxHarness {
    fn foreign_text(&self) -> String {
        format!(
            "server {{ listen 127.0.0.1:{}; server_name stranger.test; return 204; }}\n",
            self.nginx.port
        )
    }
}
