//! The `powerdns` provider's harness: the live system is a real PowerDNS server
//! (labkit::pdns) with one zone. Version 1 changes content and ttl (in place),
//! version 2 changes the type (replacement); drift and foreign rrsets are made
//! through the API, out of band.

use serde_json::{json, Value};

use super::{Harness, Suite};
use crate::labkit::pdns::{Pdns, KEY};

pub const ZONE: &str = "conf.test";

pub struct PowerDnsHarness {
    pub pdns: Pdns,
}

impl PowerDnsHarness {
    pub fn new() -> Self {
        PowerDnsHarness {
            pdns: Pdns::start(&[ZONE]),
        }
    }

    fn fqdn(name: &str) -> String {
        format!("{name}.{ZONE}")
    }
}

impl Harness for PowerDnsHarness {
    fn providers_toml(&self) -> String {
        self.pdns
            .provider_toml("dns", &self.pdns.api_url(), &[ZONE], "timeout_secs = 5\n")
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![("PDNS_TEST_KEY".into(), KEY.into())]
    }

    fn kind(&self) -> &'static str {
        "dns_record"
    }

    fn body(&self, name: &str, version: u8) -> String {
        let head = format!("zone = \"{ZONE}\"\nname = \"{name}\"\n");
        match version {
            0 => format!("{head}type = \"A\"\ncontent = \"10.0.0.1\""),
            1 => format!("{head}type = \"A\"\ncontent = \"10.0.0.2\"\nttl = 600"),
            // type forces replacement
            _ => format!("{head}type = \"AAAA\"\ncontent = \"2001:db8::1\""),
        }
    }

    fn expect(&self, name: &str) -> Vec<(&'static str, Value)> {
        vec![
            ("zone", json!(ZONE)),
            ("name", json!(name)),
            ("type", json!("A")),
            ("content", json!("10.0.0.1")),
            ("ttl", json!(300)),
            ("fqdn", json!(Self::fqdn(name))),
            ("id", json!(format!("{ZONE}/{name}/A/10.0.0.1"))),
        ]
    }

    fn drift(&self, name: &str) {
        // A REPLACE without `comments` leaves the rrset's comments (our marker) as they are.
        self.pdns.patch(
            ZONE,
            json!([{"name": format!("{}.", Self::fqdn(name)), "type": "A", "ttl": 300, "changetype": "REPLACE",
                    "records": [{"content": "10.9.9.9", "disabled": false}]}]),
        );
    }

    fn foreign(&self, name: &str) {
        self.pdns.patch(
            ZONE,
            json!([{"name": format!("{}.", Self::fqdn(name)), "type": "A", "ttl": 120, "changetype": "REPLACE",
                    "records": [{"content": "192.0.2.7", "disabled": false}]}]),
        );
    }

    fn foreign_intact(&self, name: &str) -> bool {
        self.pdns
            .rrset(ZONE, &Self::fqdn(name), "A")
            .is_some_and(|r| {
                r["records"] == json!([{"content": "192.0.2.7", "disabled": false}])
                    && r["ttl"] == 120
                    && r["comments"].as_array().is_none_or(Vec::is_empty)
            })
    }

    fn count(&self, name: &str) -> usize {
        let want = format!("{}.", Self::fqdn(name));
        self.pdns
            .rrsets(ZONE)
            .iter()
            .filter(|r| r["name"] == want.as_str())
            .count()
    }
}

/// After an apply the server answers DNS queries with the record; the rrset
/// carries the ownership marker; MX and TXT read back without a change.
pub fn dig_answers_after_apply() {
    let s = Suite::new(PowerDnsHarness::new());
    s.env.write(
        "infra/main.toml",
        &format!(
            "[dns_record.www]\nzone = \"{ZONE}\"\nname = \"www\"\ntype = \"A\"\ncontent = \"10.0.0.7\"\n\n\
             [dns_record.mail]\nzone = \"{ZONE}\"\nname = \"@\"\ntype = \"MX\"\ncontent = \"mx.{ZONE}\"\npriority = 10\n\n\
             [dns_record.spf]\nzone = \"{ZONE}\"\nname = \"@\"\ntype = \"TXT\"\ncontent = \"v=spf1 -all\"\n\n\
             [dns_record.alias]\nzone = \"{ZONE}\"\nname = \"alias\"\ntype = \"CNAME\"\ncontent = \"www.{ZONE}\"\n"
        ),
    );
    s.env.commit_all("records");
    s.apply();
    let pdns = &s.h.pdns;
    assert_eq!(pdns.dig(&format!("www.{ZONE}"), "A"), vec!["10.0.0.7"]);
    assert_eq!(pdns.dig(ZONE, "MX"), vec![format!("10 mx.{ZONE}.")]);
    assert_eq!(pdns.dig(ZONE, "TXT"), vec!["\"v=spf1 -all\""]);
    assert_eq!(
        pdns.dig(&format!("alias.{ZONE}"), "CNAME"),
        vec![format!("www.{ZONE}.")]
    );
    let rrset = pdns.rrset(ZONE, &format!("www.{ZONE}"), "A").unwrap();
    assert_eq!(
        rrset["comments"][0]["content"],
        "infra:conf/dns_record.www 10.0.0.7"
    );
    s.no_changes("apply of A, MX, TXT and CNAME records");
}
