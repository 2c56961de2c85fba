//! The `proxmox` provider: LXC containers (kind `container`) and QEMU VMs (kind
//! `vm`) on one Proxmox VE node, through the HTTPS API with an API token.
//!
//! Ownership: a PVE tag `infra+PROJECT+ADDRESS` (see `convert` for the escaping)
//! plus a description whose first line is the plain marker. Guests without this
//! project's tag are listed (so the plan can show them) but never changed or
//! deleted, unless `infra import` adopts them.
//!
//! Refresh is one `GET /cluster/resources?type=vm` plus one config read per guest
//! that carries this project's tag (PVE has no bulk config call; IP, gateway and
//! template live only in the config). Create is idempotent: it first looks for a
//! guest already tagged for the address (an earlier attempt whose reply was lost).
//! Updates of cores, memory and network go through `PUT …/config` (LXC applies them
//! live; a running VM gets them at its next reboot, as PVE keeps them pending), disk
//! growth through `PUT …/resize`; a disk cannot shrink. Delete stops the guest, then
//! `DELETE` with `purge=1` and `destroy-unreferenced-disks=1`. Every asynchronous
//! call returns a UPID that is polled until the task stops.
//! Depends only on `providers` and `spec` types; never on the CLI or the planner.

mod client;
pub mod convert;
mod guest;
mod ops;
pub mod tls;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use client::Client;
use guest::Guest;
use infra_core::spec::schema::kinds;
use infra_core::spec::ProviderConfig;
use infra_kit::{
    check_settings, parse_settings, Finding, HttpUrl, ProviderInfo, SecretRef, Setting,
};
use infra_kit::{marker, Context, Desired, KindSupport, Observed, Provider, ProviderError, Result};
use serde::Deserialize;

pub static INFO: ProviderInfo = ProviderInfo {
    kind: "proxmox",
    kinds: KINDS,
    settings: &[
        Setting::required("endpoint", "https://HOST:8006"),
        Setting::required("node", "node name, e.g. pve1"),
        Setting::secret("token", "API token USER@REALM!ID=SECRET, as env:NAME"),
        Setting::optional("tls_fingerprint", "SHA-256 fingerprint of a self-signed certificate to pin (AA:BB:…, from `pvenode cert info`)"),
    ],
    check_settings: check_settings::<Written>,
    check_spec: None,
    audit: Some(|d, _| match Guest::for_kind(&d.kind) {
        Ok(g) => g.findings(d),
        Err(_) => Vec::new(),
    }),
    // (A VM's `image` is refused at apply, not here: cloning is this provider's
    // own missing piece, and a spec may name the image it will be cloned from.)
};

/// `[providers.NAME]` as written: checked at `infra validate`, resolved at build.
#[derive(Debug, Deserialize)]
struct Written {
    endpoint: HttpUrl,
    node: String,
    token: SecretRef,
    tls_fingerprint: Option<String>,
}

impl infra_kit::Settings for Written {
    fn check(&self, _project: &std::path::Path) -> Vec<Finding> {
        let mut out = Vec::new();
        if self.node.trim().is_empty() {
            out.push(Finding::at("node", "must name a node, e.g. \"pve1\""));
        }
        if !self.endpoint.as_str().starts_with("https://") {
            out.push(Finding::at(
                "endpoint",
                "must be an https:// URL: the PVE API is HTTPS only, and the token must not travel in clear",
            ));
        }
        if let Some(Err(e)) = self.tls_fingerprint.as_deref().map(tls::parse_fingerprint) {
            out.push(Finding::at("tls_fingerprint", e));
        }
        out
    }
}

pub const FACTORY: infra_kit::ProviderFactory = infra_kit::ProviderFactory { info: &INFO, build };

const KINDS: &[KindSupport] = &[
    KindSupport {
        kind: kinds::CONTAINER,
        replace_on: &[],
        // LXC takes cores, memory and network changes while running (PVE hotplugs them).
        restart_on: &[],
        // PVE never reports the template a guest was made from: infra reads it
        // back only from its own note, which an imported guest does not have.
        write_only: &["image"],
        identity: None,
        settings: guest::LXC_SETTINGS,
        // Storage, vmid, template, privileges, features and keys are chosen at create.
        settings_in_place: &["swap", "bridge"],
        check_setting: guest::check_setting,
        unadoptable: None,
    },
    KindSupport {
        kind: kinds::VM,
        replace_on: &[],
        // QEMU's default hotplug is network, disk and usb: new cores and memory
        // stay pending until the VM restarts, and cloud-init (ipconfig0) runs at boot.
        restart_on: &["cores", "memory", "ip", "gateway"],
        write_only: &["image"],
        identity: None,
        settings: guest::QEMU_SETTINGS,
        settings_in_place: &["bridge"],
        check_setting: guest::check_setting,
        unadoptable: None,
    },
];

fn build(config: &ProviderConfig, ctx: &Context) -> std::result::Result<Arc<dyn Provider>, String> {
    let w: Written = parse_settings(&config.settings, &ctx.root).map_err(|f| f.to_string())?;
    let token = w.token.resolve()?;
    let fingerprint = w
        .tls_fingerprint
        .as_deref()
        .map(tls::parse_fingerprint)
        .transpose()?;
    let client = Client::new(w.endpoint.as_str(), token, w.token.reference(), fingerprint)?;
    Ok(Arc::new(ProxmoxProvider {
        client,
        node: w.node,
        project: ctx.project.clone(),
    }))
}

pub struct ProxmoxProvider {
    client: Client,
    node: String,
    project: String,
}

fn vmid_of(id: &str) -> Result<i64> {
    id.parse()
        .map_err(|_| ProviderError::rejected(format!("`{id}` is not a Proxmox VMID")))
}

#[async_trait]
impl Provider for ProxmoxProvider {
    async fn list(&self, kind: &str) -> Result<Vec<Observed>> {
        let g = Guest::for_kind(kind)?;
        let mut out = Vec::new();
        for r in self.resources(g).await? {
            let Some(vmid) = convert::int(r.get("vmid")) else {
                continue;
            };
            let running = r.get("status").and_then(Value::as_str) == Some("running");
            let tags = r.get("tags").and_then(Value::as_str);
            if convert::owner_from_tags(&self.project, tags).is_some() {
                out.extend(self.observe(g, vmid, Some(running)).await?);
                continue;
            }
            // Not ours: what the bulk call says is enough to show it.
            let mut attrs = infra_core::spec::Attrs::new();
            if let Some(name) = r.get("name").and_then(Value::as_str) {
                attrs.insert("hostname".into(), Value::from(name));
            }
            if let Some(c) = convert::int(r.get("maxcpu")) {
                attrs.insert("cores".into(), Value::from(c));
            }
            if let Some(m) = convert::int(r.get("maxmem")) {
                attrs.insert("memory".into(), Value::from(m / (1024 * 1024)));
            }
            attrs.insert("start".into(), Value::from(running));
            attrs.insert("id".into(), Value::from(vmid.to_string()));
            out.push(Observed {
                id: vmid.to_string(),
                owner: None,
                attrs,
                claimed_by: None,
            });
        }
        out.sort_by_key(|o| o.id.parse::<i64>().unwrap_or(0));
        Ok(out)
    }

    async fn create(&self, r: &Desired) -> Result<Observed> {
        let g = Guest::for_kind(&r.kind)?;
        g.audit_create(r)?;
        if let Some(found) = self.find_owned(g, &r.address).await? {
            return Ok(found);
        }
        let explicit = r.settings.get("vmid").and_then(|v| convert::int(Some(v)));
        let mut attempt = 0;
        let vmid = loop {
            let vmid = match explicit {
                Some(v) => v,
                None => convert::int(Some(&self.client.get("/cluster/nextid", &[]).await?))
                    .ok_or_else(|| {
                        ProviderError::rejected("GET /cluster/nextid returned no VMID")
                    })?,
            };
            match self.create_once(g, r, vmid).await {
                // Someone took the id between nextid and create: ask again.
                Err(ProviderError::Rejected {
                    status: Some(400),
                    message,
                }) if explicit.is_none() && message.contains("already exists") && attempt < 3 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
                Ok(()) => break vmid,
            }
        };
        self.observe(g, vmid, None).await?.ok_or_else(|| {
            ProviderError::rejected(format!(
                "{} {vmid} vanished right after it was created",
                g.api()
            ))
        })
    }

    async fn update(&self, id: &str, r: &Desired, live: &Observed) -> Result<Observed> {
        let g = Guest::for_kind(&r.kind)?;
        g.audit(r)?;
        let vmid = vmid_of(id)?;
        let config = self.config(g, vmid).await?.ok_or_else(|| {
            ProviderError::NotFound(format!("{} {vmid} on {}", g.api(), self.node))
        })?;
        self.check_owner(g, vmid, &config, Some(&r.address))?;
        // Check what cannot be done before changing anything.
        let want_disk = r.attrs.get("disk").and_then(Value::as_i64);
        let live_disk = g.disk_gib(&config);
        if let (Some(want), Some(have)) = (want_disk, live_disk) {
            if (want as f64) < have {
                return Err(ProviderError::Rejected {
                    status: None,
                    message: format!(
                        "Proxmox cannot shrink a disk ({have} GiB → {want} GiB); keep this size or a larger one (to start smaller, remove the {} from the spec, apply, and add it back)",
                        g.kind(),
                    ),
                });
            }
        }
        let params = g.update_params(r, &config);
        let configured = !params.is_empty();
        if configured {
            let mut params = params;
            if let Some(d) = config.get("digest").and_then(Value::as_str) {
                params.push(("digest", d.to_string()));
            }
            self.client
                .put(&format!("{}/config", self.path(g, vmid)), &params)
                .await?;
        }
        if let Err(e) = self
            .resize_and_power(g, vmid, r, live, (want_disk, live_disk))
            .await
        {
            if !configured {
                return Err(e);
            }
            // The configuration changed and a later step did not: say what the
            // guest now is, so the state does not keep the old values.
            return match self.observe(g, vmid, None).await {
                Ok(Some(now)) if !e.is_transient() => Err(ProviderError::Partial {
                    message: format!("{e} (the configuration change before it was made; the state records the guest as it now is)"),
                    observed: Box::new(now),
                }),
                _ => Err(e),
            };
        }
        self.observe(g, vmid, None).await?.ok_or_else(|| {
            ProviderError::NotFound(format!("{} {vmid} vanished during the update", g.api()))
        })
    }

    async fn delete(&self, kind: &str, id: &str, address: &str) -> Result<()> {
        let g = Guest::for_kind(kind)?;
        let vmid = vmid_of(id)?;
        let Some(config) = self.config(g, vmid).await? else {
            return Ok(());
        };
        self.check_owner(g, vmid, &config, Some(address))?;
        if self.running(g, vmid).await? {
            self.set_power(g, vmid, false).await?;
        }
        let upid = self
            .client
            .delete(
                &self.path(g, vmid),
                &[
                    ("purge", "1".into()),
                    ("destroy-unreferenced-disks", "1".into()),
                ],
            )
            .await?;
        self.client.wait_task(&upid, &self.node).await
    }

    async fn describe(&self, kind: &str, id: &str) -> Result<Option<Observed>> {
        let g = Guest::for_kind(kind)?;
        self.observe(g, vmid_of(id)?, None).await
    }

    async fn adopt(&self, kind: &str, id: &str, address: &str) -> Result<Observed> {
        let g = Guest::for_kind(kind)?;
        let vmid = vmid_of(id)?;
        let config = self.config(g, vmid).await?.ok_or_else(|| {
            ProviderError::NotFound(format!("{} {vmid} on {}", g.api(), self.node))
        })?;
        match self.owner(&config) {
            Some(o) if o != address => {
                return Err(ProviderError::NotOwned(format!(
                    "{} {vmid} already belongs to {o}",
                    g.api()
                )))
            }
            Some(_) => {}
            None => {
                let tags = convert::tags_with_marker(
                    &self.project,
                    address,
                    config.get("tags").and_then(Value::as_str),
                );
                let mut desc = convert::description(&marker(&self.project, address), None);
                if let Some(old) = config.get("description").and_then(Value::as_str) {
                    desc.push_str(old);
                }
                let mut params = vec![("tags", tags), ("description", desc)];
                if let Some(d) = config.get("digest").and_then(Value::as_str) {
                    params.push(("digest", d.to_string()));
                }
                self.client
                    .put(&format!("{}/config", self.path(g, vmid)), &params)
                    .await?;
            }
        }
        self.observe(g, vmid, None)
            .await?
            .ok_or_else(|| ProviderError::NotFound(format!("{} {vmid} vanished", g.api())))
    }
}
