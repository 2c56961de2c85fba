//! The `cloudflare` provider's harness: the live system is the contract-checked
//! loopback fake of Cloudflare API v4 (tests/cloudflare_fake), which runs on its
//! own tokio runtime thread and stops when the harness is dropped — asserting
//! then that it saw no contract violations.

use serde_json::{json, Value};

use super::Harness;
use crate::cloudflare_fake::{FakeCloudflare, TOKEN};

const ZONE: &str = "example.com";
const TOKEN_VAR: &str = "CF_TEST_API_TOKEN";

pub struct CloudflareHarness {
    fake: FakeCloudflare,
}

impl CloudflareHarness {
    pub fn new() -> Self {
        CloudflareHarness {
            fake: FakeCloudflare::with_zone(ZONE),
        }
    }
}

impl Harness for CloudflareHarness {
    fn providers_toml(&self) -> String {
        format!(
            "[providers.dns]\nkind = \"cloudflare\"\ntoken = \"env:{TOKEN_VAR}\"\napi_url = \"{}\"\nzones = [\"{ZONE}\"]\n",
            self.fake.url()
        )
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![(TOKEN_VAR.into(), TOKEN.into())]
    }

    fn kind(&self) -> &'static str {
        "dns_record"
    }

    fn body(&self, name: &str, version: u8) -> String {
        match version {
            0 => format!("zone = \"{ZONE}\"\nname = \"{name}\"\ntype = \"A\"\ncontent = \"203.0.113.10\""),
            1 => format!("zone = \"{ZONE}\"\nname = \"{name}\"\ntype = \"A\"\ncontent = \"203.0.113.11\"\nttl = 600"),
            // name forces replacement
            _ => format!("zone = \"{ZONE}\"\nname = \"{name}-new\"\ntype = \"A\"\ncontent = \"203.0.113.10\""),
        }
    }

    fn expect(&self, name: &str) -> Vec<(&'static str, Value)> {
        vec![
            ("zone", json!(ZONE)),
            ("name", json!(name)),
            ("type", json!("A")),
            ("content", json!("203.0.113.10")),
            ("ttl", json!(300)),
            ("proxied", json!(false)),
            ("fqdn", json!(format!("{name}.{ZONE}"))),
        ]
    }

    fn drift(&self, name: &str) {
        let id = self.fake.named(ZONE, name)[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.fake
            .dashboard_edit(&id, |r| r["content"] = json!("198.51.100.66"));
    }

    fn foreign(&self, name: &str) {
        self.fake
            .insert_record(ZONE, name, "A", "198.51.100.1", None);
    }

    fn foreign_intact(&self, name: &str) -> bool {
        let rs = self.fake.named(ZONE, name);
        rs.len() == 1 && rs[0]["content"] == "198.51.100.1" && rs[0].get("comment").is_none()
    }

    fn count(&self, name: &str) -> usize {
        self.fake.named(ZONE, name).len() + self.fake.named(ZONE, &format!("{name}-new")).len()
    }
}
