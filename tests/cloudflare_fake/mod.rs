//! A contract-faithful Cloudflare API v4 on loopback, for the `cloudflare`
//! provider's tests (Cloudflare itself is never contacted). In-memory zones and
//! DNS records; every request is checked against Cloudflare's OpenAPI document
//! (`openapi.rs`, loaded at test time from ../shared/contracts/) and every
//! response the fake builds is checked against the same document. A violation
//! is answered with HTTP 400 *and* recorded; dropping the fake panics if any was
//! recorded, so every test asserts "no contract violations" without saying so.
//!
//! Behaviour beyond the schema follows shared/contracts/NOTES.md §2: the
//! envelope on every answer, `result_info {page, per_page, count, total_count,
//! total_pages}`, FQDN names on output (`@`/relative accepted on input),
//! proxied records get TTL 1, 81058/81053 on duplicates, 81044 for a missing
//! record, 7003 for a missing zone, 403 `10000 Authentication error` for a
//! wrong token and `9109 Invalid access token` for an expired one, 429 with
//! `Retry-After` seconds. Record and zone objects are shaped after octoDNS's
//! recorded fixtures (shared/contracts/cloudflare/octodns-fixtures, MIT).
//!
//! Fault switches: `expire_token`, `throttle` (a burst of N 429s), `page_cap`
//! (serve at most N items per page, as the fixtures' 10), `dashboard_edit`
//! (a change made by hand), `insert_record` (records infra does not own),
//! `lose_write_answers` (the write happens, the answer is a 502).
#![allow(dead_code)]

#[path = "../support/http1.rs"]
mod http1;
pub mod openapi;
mod routes;
mod server;

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

pub use openapi::{Contract, Mode};

/// The token the fake accepts (40 characters, like Cloudflare's).
pub const TOKEN: &str = "cf-test-7Hq2Zx9LmN4pR6sT8vW0yB3dF5gJ1kQe";

/// One request as the fake saw it, with the status it answered.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Below the base path, e.g. `/zones/ID/dns_records`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub status: u16,
    /// The JSON body sent (Null for none).
    pub body: Value,
}

impl Seen {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) struct Zone {
    pub id: String,
    pub name: String,
    pub created_on: String,
    pub records: Vec<Value>,
}

pub(crate) struct Throttle {
    pub remaining: u32,
    pub retry_after: u32,
    pub writes_only: bool,
}

pub(crate) struct State {
    pub expired: bool,
    pub zones: Vec<Zone>,
    pub page_cap: usize,
    pub throttle: Throttle,
    pub seen: Vec<Seen>,
    pub violations: Vec<String>,
    pub next: u64,
    /// Writes still to be done but answered with a 502 from the edge.
    pub lose_answers: u32,
    /// Records a batch request may hold (Free plan: 200).
    pub batch_limit: usize,
    /// Content a batch post is refused for (a record Cloudflare would not take).
    pub reject_content: Option<String>,
}

impl State {
    pub fn new_id(&mut self) -> String {
        self.next += 1;
        format!(
            "{:016x}{:016x}",
            mix(self.next),
            mix(self.next ^ 0x5bd1_e995)
        )
    }

    pub fn zone(&self, id: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.id == id)
    }

    fn zone_by_name(&mut self, name: &str) -> &mut Zone {
        self.zones
            .iter_mut()
            .find(|z| z.name == name)
            .unwrap_or_else(|| panic!("the fake has no zone {name}"))
    }
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

pub struct FakeCloudflare {
    server: server::Server,
    state: Arc<Mutex<State>>,
    contract: Arc<Contract>,
}

impl FakeCloudflare {
    pub fn start() -> FakeCloudflare {
        let contract = Contract::get();
        let state = Arc::new(Mutex::new(State {
            expired: false,
            zones: Vec::new(),
            page_cap: usize::MAX,
            throttle: Throttle {
                remaining: 0,
                retry_after: 1,
                writes_only: false,
            },
            seen: Vec::new(),
            violations: Vec::new(),
            next: 0,
            lose_answers: 0,
            batch_limit: 200,
            reject_content: None,
        }));
        let (st, c) = (state.clone(), contract.clone());
        let server = server::Server::start(Arc::new(move |req| routes::handle(&st, &c, req)));
        FakeCloudflare {
            server,
            state,
            contract,
        }
    }

    /// A fake with one zone, `example.com`.
    pub fn with_zone(name: &str) -> FakeCloudflare {
        let f = FakeCloudflare::start();
        f.add_zone(name);
        f
    }

    /// The API base URL, e.g. `http://127.0.0.1:PORT/client/v4`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.server.addr, self.contract.base_path())
    }

    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    pub fn add_zone(&self, name: &str) -> String {
        let mut s = self.st();
        let id = s.new_id();
        s.zones.push(Zone {
            id: id.clone(),
            name: name.to_string(),
            created_on: routes::now(),
            records: Vec::new(),
        });
        id
    }

    pub fn zone_id(&self, name: &str) -> String {
        self.st().zone_by_name(name).id.clone()
    }

    /// Load octoDNS's 27 recorded `unit.tests` records into `zone` (zone ids and
    /// names rewritten). Records the contract's response schema rejects (the
    /// fixtures were hand-trimmed: an `SOA`, data-only SRV/CAA without
    /// `content`) are left out and returned with the reasons; repeated or
    /// malformed ids are replaced by fresh ones.
    pub fn seed_octodns_records(&self, zone: &str) -> (usize, Vec<String>) {
        let dir = openapi::contracts_dir().join("cloudflare/octodns-fixtures");
        let schema = self.contract.schema("dns-records_dns-record");
        let mut s = self.st();
        let z = s.zone_by_name(zone);
        let (mut kept, mut skipped) = (0, Vec::new());
        for page in 1..=3 {
            let path = dir.join(format!("cloudflare-dns_records-page-{page}.json"));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read octoDNS fixture {}: {e}", path.display()));
            let v: Value = serde_json::from_str(&text).unwrap();
            for mut r in v["result"].as_array().cloned().unwrap_or_default() {
                let name = r["name"].as_str().unwrap_or_default().to_string();
                let rel = name.strip_suffix("unit.tests").unwrap_or(&name);
                r["name"] = json!(format!("{rel}{zone}"));
                r["zone_id"] = json!(z.id);
                r["zone_name"] = json!(zone);
                // Cloudflare's ids are unique 32-character hex: the hand-made
                // fixtures repeat some and have two of 33 characters.
                let id = r["id"].as_str().unwrap_or_default().to_string();
                if id.len() != 32 || z.records.iter().any(|o| o["id"] == id.as_str()) {
                    r["id"] = json!(format!("{:032x}", 0xadd0_0000_u64 + z.records.len() as u64));
                }
                let errs = self.contract.validate(schema, &r, Mode::Response);
                if errs.is_empty() {
                    z.records.push(r);
                    kept += 1;
                } else {
                    skipped.push(format!("{} {name}: {}", r["type"], errs.join("; ")));
                }
            }
        }
        (kept, skipped)
    }

    /// Serve at most `n` items per page, whatever `per_page` asks.
    pub fn page_cap(&self, n: usize) {
        self.st().page_cap = n.max(1);
    }

    pub fn expire_token(&self) {
        self.st().expired = true;
    }

    /// Answer the next `n` requests (only writes when `writes_only`) with 429
    /// and `Retry-After: retry_after` seconds.
    pub fn throttle(&self, n: u32, retry_after: u32, writes_only: bool) {
        self.st().throttle = Throttle {
            remaining: n,
            retry_after,
            writes_only,
        };
    }

    /// Perform the next `n` writes but answer them with an HTML 502 from the
    /// edge, as when the origin committed and the answer was lost on the way.
    /// (5xx answers are not in the document, and not JSON, so not checked.)
    pub fn lose_write_answers(&self, n: u32) {
        self.st().lose_answers = n;
    }

    /// How many records one batch request may hold (a paid plan takes 3,500).
    pub fn batch_limit(&self, n: usize) {
        self.st().batch_limit = n;
    }

    /// Refuse a batch that posts a record with this content (as Cloudflare
    /// refuses a record it cannot take): the whole batch fails, nothing changes.
    pub fn reject_content(&self, content: &str) {
        self.st().reject_content = Some(content.to_string());
    }

    /// A record made outside infra (dashboard, another tool); `name` relative.
    pub fn insert_record(
        &self,
        zone: &str,
        name: &str,
        rtype: &str,
        content: &str,
        comment: Option<&str>,
    ) -> String {
        let mut s = self.st();
        let id = s.new_id();
        let now = routes::now();
        let z = s.zone_by_name(zone);
        let fqdn = if name == "@" {
            zone.to_string()
        } else {
            format!("{name}.{zone}")
        };
        let proxiable = ["A", "AAAA", "CNAME"].contains(&rtype);
        let mut r = json!({
            "id": id, "type": rtype, "name": fqdn, "content": content,
            "proxiable": proxiable, "proxied": false, "ttl": 1,
            "locked": false, "zone_id": z.id, "zone_name": zone, "tags": [],
            "created_on": now, "modified_on": now, "meta": {"auto_added": false, "source": "primary"}
        });
        if let Some(c) = comment {
            r["comment"] = json!(c);
        }
        z.records.push(r);
        id
    }

    /// Change a record by hand, as in the dashboard (bumps `modified_on`).
    pub fn dashboard_edit(&self, id: &str, edit: impl FnOnce(&mut Value)) {
        let mut s = self.st();
        let r = s
            .zones
            .iter_mut()
            .flat_map(|z| z.records.iter_mut())
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no record {id}"));
        edit(r);
        r["modified_on"] = json!(routes::now());
    }

    pub fn records(&self, zone: &str) -> Vec<Value> {
        self.st().zone_by_name(zone).records.clone()
    }

    /// Records of `zone` whose relative name is `name`.
    pub fn named(&self, zone: &str, name: &str) -> Vec<Value> {
        let fqdn = if name == "@" {
            zone.to_string()
        } else {
            format!("{name}.{zone}")
        };
        self.records(zone)
            .into_iter()
            .filter(|r| r["name"] == fqdn.as_str())
            .collect()
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.st().seen.clone()
    }

    /// The POSTs (creates and batches) in order.
    pub fn posts(&self) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect()
    }

    pub fn clear_requests(&self) {
        self.st().seen.clear();
    }

    /// `(method, path)` of every request, for compact assertions.
    pub fn calls(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    pub fn violations(&self) -> Vec<String> {
        self.st().violations.clone()
    }

    /// Take (and forget) the violations, for tests that make them on purpose.
    pub fn take_violations(&self) -> Vec<String> {
        std::mem::take(&mut self.st().violations)
    }
}

impl Drop for FakeCloudflare {
    fn drop(&mut self) {
        let v = self
            .state
            .lock()
            .map(|s| s.violations.clone())
            .unwrap_or_default();
        if !v.is_empty() && !std::thread::panicking() {
            panic!(
                "the Cloudflare fake saw {} contract violation(s):\n  {}",
                v.len(),
                v.join("\n  ")
            );
        }
    }
}
