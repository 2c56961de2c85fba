//! The `proxmox` provider's harness: the live system is the contract-checked fake
//! Proxmox VE (tests/support/proxmox_fake), served over HTTPS on 127.0.0.1 with a
//! pinned self-signed certificate. Every case ends by asserting that no request
//! broke the PVE API contract (schema loaded from ../shared/contracts at run time).

use serde_json::{json, Value};

use super::Harness;
use crate::proxmox_fake::{self, FakePve, Kind, TEMPLATE};

pub struct ProxmoxHarness {
    pub pve: FakePve,
}

impl ProxmoxHarness {
    pub fn new() -> Self {
        ProxmoxHarness {
            pve: FakePve::start(),
        }
    }

    fn marker(name: &str) -> String {
        format!("infra+conf+container.{name}")
    }

    fn ip(name: &str) -> String {
        let n = 60 + name.bytes().map(u32::from).sum::<u32>() % 100;
        format!("192.168.1.{n}/24")
    }
}

impl Drop for ProxmoxHarness {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.pve.assert_clean();
        }
    }
}

impl Harness for ProxmoxHarness {
    fn providers_toml(&self) -> String {
        format!(
            "[providers.pve1]\nkind = \"proxmox\"\nendpoint = \"{}\"\nnode = \"pve1\"\ntoken = \"env:PVE_TOKEN\"\ntls_fingerprint = \"{}\"\n",
            self.pve.endpoint(),
            self.pve.fingerprint
        )
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![("PVE_TOKEN".into(), proxmox_fake::token())]
    }

    fn kind(&self) -> &'static str {
        "container"
    }

    fn body(&self, name: &str, version: u8) -> String {
        let (hostname, cores, memory) = match version {
            0 => (name.to_string(), 1, 512),
            1 => (name.to_string(), 2, 1024),
            // hostname forces replacement
            _ => (format!("{name}-new"), 1, 512),
        };
        format!(
            "hostname = \"{hostname}\"\nimage = \"{TEMPLATE}\"\ncores = {cores}\nmemory = {memory}\ndisk = 8\nip = \"{}\"\ngateway = \"192.168.1.1\"",
            Self::ip(name)
        )
    }

    fn expect(&self, name: &str) -> Vec<(&'static str, Value)> {
        vec![
            ("hostname", json!(name)),
            ("image", json!(TEMPLATE)),
            ("cores", json!(1)),
            ("memory", json!(512)),
            ("disk", json!(8)),
            ("ip", json!(Self::ip(name))),
            ("gateway", json!("192.168.1.1")),
            ("start", json!(true)),
        ]
    }

    fn drift(&self, name: &str) {
        let marker = Self::marker(name);
        self.pve.world(|w| {
            let g = w
                .guests
                .values_mut()
                .find(|g| g.tags().is_some_and(|t| t.contains(&marker)))
                .expect("the container exists");
            g.config.insert("cores".into(), json!(4));
            let id = g.vmid;
            w.refresh_digest(id);
        });
    }

    fn foreign(&self, name: &str) {
        self.pve.world(|w| {
            let id = w.next_free_vmid();
            let mut config = serde_json::Map::new();
            config.insert("hostname".into(), json!(name));
            config.insert("cores".into(), json!(1));
            config.insert("memory".into(), json!(256));
            config.insert(
                "rootfs".into(),
                json!(format!("local-lvm:vm-{id}-disk-0,size=4G")),
            );
            config.insert("tags".into(), json!("hand-made"));
            w.guests.insert(
                id,
                proxmox_fake::world::Guest {
                    vmid: id,
                    kind: Kind::Lxc,
                    config,
                    running: true,
                },
            );
            w.refresh_digest(id);
        });
    }

    fn foreign_intact(&self, name: &str) -> bool {
        self.pve.world(|w| {
            w.guests.values().any(|g| {
                g.name() == Some(name)
                    && g.running
                    && g.tags() == Some("hand-made")
                    && g.config.get("memory") == Some(&json!(256))
            })
        })
    }

    fn count(&self, name: &str) -> usize {
        let marker = Self::marker(name);
        self.pve.world(|w| {
            w.guests
                .values()
                .filter(|g| g.tags().is_some_and(|t| t.split(';').any(|x| x == marker)))
                .count()
        })
    }
}
