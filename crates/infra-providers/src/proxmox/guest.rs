//! The two guest types — LXC containers (kind `container`) and QEMU VMs (kind
//! `vm`) — as data: which API paths they use, how a `Desired` becomes create and
//! update parameters, and how a config reads back into attributes. No I/O.
//!
//! Attribute mapping (container): hostname ↔ `hostname`; image ↔ `ostemplate` on
//! create (a short name like `debian-12` picks the newest matching template on
//! the node), read back from the description as written in the spec (PVE keeps
//! no record of the template); cores,
//! memory (MiB) ↔ same; disk (GiB) ↔ `rootfs` `STORAGE:GiB` on create, `size=` on
//! read; ip/gateway ↔ `net0` `ip=`/`gw=`; start ↔ status `running`. VM: hostname ↔
//! `name`; disk ↔ `scsi0`; ip/gateway ↔ cloud-init `ipconfig0`; the rest as above.

use serde_json::Value;

use super::convert::{self, get_prop, parse_props, set_prop};
use infra_core::spec::schema::kinds;
use infra_core::spec::Attrs;
use infra_kit::{Desired, Finding, ProviderError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guest {
    Lxc,
    Qemu,
}

/// Per-resource settings from `[container.NAME.proxmox]` / `[vm.NAME.proxmox]`.
pub const LXC_SETTINGS: &[&str] = &[
    "storage",
    "bridge",
    "swap",
    "unprivileged",
    "features",
    "ssh_public_keys",
    "vmid",
    "template_storage",
];
pub const QEMU_SETTINGS: &[&str] = &["storage", "bridge", "vmid"];
/// One `[container|vm.NAME.proxmox]` value, checked (validate calls this too).
pub fn check_setting(name: &str, value: &Value) -> std::result::Result<(), String> {
    let word = |v: &Value| {
        v.as_str()
            .is_some_and(|s| !s.is_empty() && !s.contains([',', '=', ' ', ':']))
    };
    let (ok, expected) = match name {
        "storage" | "template_storage" => (word(value), "a storage name like \"local-lvm\""),
        "bridge" => (word(value), "a bridge name like \"vmbr0\""),
        "swap" => (
            value.as_i64().is_some_and(|n| n >= 0),
            "swap in MiB, 0 or more",
        ),
        "vmid" => (
            value
                .as_i64()
                .is_some_and(|n| (100..=999_999_999).contains(&n)),
            "a VMID from 100 to 999999999",
        ),
        "unprivileged" => (value.is_boolean(), "true or false"),
        "features" => (
            value.is_string()
                || value
                    .as_object()
                    .is_some_and(|m| m.values().all(|v| v.is_boolean() || v.is_string())),
            "a table like { nesting = true } or a string like \"nesting=1\"",
        ),
        "ssh_public_keys" => (
            value.is_string()
                || value
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string)),
            "a public key or a list of them",
        ),
        other => return Err(format!("unknown setting `{other}`")),
    };
    ok.then_some(())
        .ok_or_else(|| format!("{value} is not {expected}"))
}

/// Disk size when the spec gives none (the PVE web UI's default).
const DEFAULT_DISK_GIB: i64 = 8;

impl Guest {
    pub fn for_kind(kind: &str) -> Result<Guest> {
        match kind {
            kinds::CONTAINER => Ok(Guest::Lxc),
            kinds::VM => Ok(Guest::Qemu),
            other => Err(ProviderError::Unsupported(format!(
                "proxmox does not serve kind `{other}`"
            ))),
        }
    }

    /// Path segment under /nodes/{node}: `lxc` or `qemu`; also the `type` in /cluster/resources.
    pub fn api(self) -> &'static str {
        match self {
            Guest::Lxc => "lxc",
            Guest::Qemu => "qemu",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Guest::Lxc => kinds::CONTAINER,
            Guest::Qemu => kinds::VM,
        }
    }

    /// The config key of the disk infra manages.
    pub fn disk_key(self) -> &'static str {
        match self {
            Guest::Lxc => "rootfs",
            Guest::Qemu => "scsi0",
        }
    }

    fn disk_default_key(self) -> &'static str {
        match self {
            Guest::Lxc => "volume",
            Guest::Qemu => "file",
        }
    }

    fn ip_key(self) -> &'static str {
        match self {
            Guest::Lxc => "net0",
            Guest::Qemu => "ipconfig0",
        }
    }

    fn name_key(self) -> &'static str {
        match self {
            Guest::Lxc => "hostname",
            Guest::Qemu => "name",
        }
    }

    /// The attributes PVE cannot express for this guest type (the provider's audit).
    pub fn findings(self, r: &Desired) -> Vec<Finding> {
        let unsupported: &[&str] = match self {
            Guest::Lxc => &["command", "ports", "env"],
            Guest::Qemu => &[],
        };
        unsupported
            .iter()
            .filter(|a| r.attrs.contains_key(**a))
            .map(|a| {
                let why = if *a == "image" {
                    " (cloning a template is not implemented; the VM gets an empty disk)"
                } else {
                    ""
                };
                Finding::at(
                    *a,
                    format!("proxmox {} guests do not support `{a}`{why}", self.api()),
                )
            })
            .collect()
    }

    /// Reject what this guest type cannot express, before any API call.
    pub fn audit(self, r: &Desired) -> Result<()> {
        if let Some(f) = self.findings(r).into_iter().next() {
            return Err(ProviderError::Unsupported(f.message));
        }
        if self == Guest::Qemu && r.attrs.contains_key("image") {
            return Err(ProviderError::Unsupported(
                "proxmox qemu guests do not support `image` (cloning a template is not implemented; the VM gets an empty disk)".into(),
            ));
        }
        let known = match self {
            Guest::Lxc => LXC_SETTINGS,
            Guest::Qemu => QEMU_SETTINGS,
        };
        if let Some(k) = r.settings.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ProviderError::rejected(format!(
                "unknown setting `{k}` in [{}.proxmox]; known: {}",
                r.address,
                known.join(", ")
            )));
        }
        for (k, v) in &r.settings {
            check_setting(k, v).map_err(|e| {
                ProviderError::rejected(format!("[{}.proxmox] {k}: {e}", r.address))
            })?;
        }
        Ok(())
    }

    /// What only a create needs: a container's template (an imported container
    /// has none on record, and is updated without one).
    pub fn audit_create(self, r: &Desired) -> Result<()> {
        self.audit(r)?;
        if self == Guest::Lxc && !r.attrs.contains_key("image") {
            return Err(ProviderError::rejected(
                "a Proxmox container needs an image: a template volid like \"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst\", or a name like \"debian-12\" that picks the newest matching template",
            ));
        }
        Ok(())
    }

    /// Parameters of `POST /nodes/{node}/{lxc|qemu}` (vmid, tags and description added by the caller).
    pub fn create_params(self, r: &Desired) -> Result<Vec<(&'static str, String)>> {
        let a = &r.attrs;
        let s = &r.settings;
        let storage = setting_str(s, "storage").unwrap_or_else(|| "local-lvm".into());
        let bridge = setting_str(s, "bridge").unwrap_or_else(|| "vmbr0".into());
        let disk = a
            .get("disk")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_DISK_GIB);
        let mut p: Vec<(&'static str, String)> = Vec::new();
        if let Some(h) = a.get("hostname").and_then(Value::as_str) {
            p.push((self.name_key(), h.to_string()));
        }
        for k in ["cores", "memory"] {
            if let Some(v) = a.get(k).and_then(Value::as_i64) {
                p.push((if k == "cores" { "cores" } else { "memory" }, v.to_string()));
            }
        }
        let start = a.get("start").and_then(Value::as_bool).unwrap_or(true);
        p.push(("start", convert::bit(start)));
        p.push((self.disk_key(), format!("{storage}:{disk}")));
        let ip = a.get("ip").and_then(Value::as_str);
        let gw = a.get("gateway").and_then(Value::as_str);
        match self {
            Guest::Lxc => {
                p.push((
                    "ostemplate",
                    a.get("image")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                ));
                let mut net = format!("name=eth0,bridge={bridge},ip={}", ip.unwrap_or("dhcp"));
                if let Some(gw) = gw {
                    net.push_str(&format!(",gw={gw}"));
                }
                p.push(("net0", net));
                if let Some(swap) = s.get("swap").and_then(|v| convert::int(Some(v))) {
                    p.push(("swap", swap.to_string()));
                }
                let unprivileged = s
                    .get("unprivileged")
                    .and_then(|v| convert::boolean(Some(v)))
                    .unwrap_or(true);
                p.push(("unprivileged", convert::bit(unprivileged)));
                if let Some(f) = features(s.get("features")) {
                    p.push(("features", f));
                }
                if let Some(keys) = ssh_keys(s.get("ssh_public_keys")) {
                    p.push(("ssh-public-keys", keys));
                }
            }
            Guest::Qemu => {
                p.push(("scsihw", "virtio-scsi-single".into()));
                p.push(("net0", format!("virtio,bridge={bridge}")));
                p.push(("ostype", "l26".into()));
                if let Some(ip) = ip {
                    let mut cfg = format!("ip={ip}");
                    if let Some(gw) = gw {
                        cfg.push_str(&format!(",gw={gw}"));
                    }
                    p.push(("ipconfig0", cfg));
                }
            }
        }
        Ok(p)
    }

    /// Attributes of a guest read from its config (+ whether it runs).
    pub fn observe(self, vmid: i64, config: &Value, running: bool) -> Attrs {
        let mut attrs = Attrs::new();
        let get = |k: &str| config.get(k);
        if let Some(h) = convert::string(get(self.name_key())) {
            attrs.insert("hostname".into(), Value::from(h));
        }
        if let Some(c) = convert::int(get("cores")) {
            attrs.insert("cores".into(), Value::from(c));
        }
        let memory = match self {
            Guest::Lxc => convert::int(get("memory")),
            Guest::Qemu => convert::qemu_memory(get("memory")),
        };
        if let Some(m) = memory {
            attrs.insert("memory".into(), Value::from(m));
        }
        if let Some(disk) = convert::string(get(self.disk_key())) {
            let props = parse_props(&disk, self.disk_default_key());
            if let Some(size) = get_prop(&props, "size").and_then(convert::size_gib) {
                attrs.insert("disk".into(), size);
            }
        }
        if let Some(net) = convert::string(get(self.ip_key())) {
            let props = parse_props(&net, "");
            if let Some(ip) = get_prop(&props, "ip").filter(|ip| ip.contains('/')) {
                attrs.insert("ip".into(), Value::from(ip));
                attrs.insert(
                    "address".into(),
                    Value::from(ip.split('/').next().unwrap_or(ip)),
                );
            }
            if let Some(gw) = get_prop(&props, "gw") {
                attrs.insert("gateway".into(), Value::from(gw));
            }
        }
        let desc = convert::string(get("description"));
        if let Some(image) = convert::description_field(desc.as_deref(), "ostemplate") {
            attrs.insert("image".into(), Value::from(image));
        }
        attrs.insert("start".into(), Value::from(running));
        attrs.insert("id".into(), Value::from(vmid.to_string()));
        attrs
    }

    /// `PUT …/config` parameters that move `config` towards `r` (empty: nothing to do).
    pub fn update_params(self, r: &Desired, config: &Value) -> Vec<(&'static str, String)> {
        let a = &r.attrs;
        let mut p = Vec::new();
        let live = self.observe(0, config, false);
        if let Some(h) = a.get("hostname").and_then(Value::as_str) {
            if live.get("hostname").and_then(Value::as_str) != Some(h) {
                p.push((self.name_key(), h.to_string()));
            }
        }
        for k in ["cores", "memory"] {
            if let Some(v) = a.get(k).and_then(Value::as_i64) {
                if live.get(k).and_then(Value::as_i64) != Some(v) {
                    p.push((if k == "cores" { "cores" } else { "memory" }, v.to_string()));
                }
            }
        }
        let (ip, gw) = (
            a.get("ip").and_then(Value::as_str),
            a.get("gateway").and_then(Value::as_str),
        );
        let ip_changed = ip.is_some() && live.get("ip").and_then(Value::as_str) != ip;
        let gw_changed = gw.is_some() && live.get("gateway").and_then(Value::as_str) != gw;
        // The bridge is a setting (`[KIND.NAME.proxmox] bridge`), on net0 for both
        // guests. Only a bridge the spec names is set: a guest infra did not create
        // keeps its own (the plan cannot show a setting it never recorded).
        let net0 = convert::string(config.get("net0")).unwrap_or_default();
        let bridge = setting_str(&r.settings, "bridge");
        let bridge_changed = bridge.is_some()
            && !net0.is_empty()
            && get_prop(&parse_props(&net0, ""), "bridge") != bridge.as_deref();
        let bridge = bridge.unwrap_or_default();
        if ip_changed || gw_changed || (bridge_changed && self == Guest::Lxc) {
            let current = convert::string(config.get(self.ip_key())).unwrap_or_default();
            let default_key = if self == Guest::Lxc { "name" } else { "" };
            let mut props = parse_props(&current, default_key);
            if self == Guest::Lxc {
                if get_prop(&props, "name").is_none() {
                    set_prop(&mut props, "name", Some("eth0"));
                }
                if bridge_changed {
                    set_prop(&mut props, "bridge", Some(&bridge));
                }
            }
            if let Some(ip) = ip {
                set_prop(&mut props, "ip", Some(ip));
            }
            set_prop(&mut props, "gw", gw);
            p.push((self.ip_key(), join_props(&props)));
        }
        if bridge_changed && self == Guest::Qemu {
            let mut props = parse_props(&net0, "");
            set_prop(&mut props, "bridge", Some(&bridge));
            // `virtio=MAC,bridge=…`, or a bare model before PVE assigned a MAC.
            p.push(("net0", convert::format_props(&props, "")));
        }
        if self == Guest::Lxc {
            let swap = r.settings.get("swap").and_then(|v| convert::int(Some(v)));
            if swap.is_some() && swap != convert::int(config.get("swap")) {
                p.push(("swap", swap.unwrap_or_default().to_string()));
            }
        }
        p
    }

    /// The live disk size in GiB, if the config names one.
    pub fn disk_gib(self, config: &Value) -> Option<f64> {
        let disk = convert::string(config.get(self.disk_key()))?;
        let props = parse_props(&disk, self.disk_default_key());
        convert::size_gib(get_prop(&props, "size")?)?.as_f64()
    }
}

fn join_props(props: &[(String, String)]) -> String {
    props
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn setting_str(s: &Attrs, k: &str) -> Option<String> {
    s.get(k).and_then(|v| convert::string(Some(v)))
}

/// `features` as a property string (`"nesting=1,keyctl=1"`) or a table (`{nesting = true}`).
fn features(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => Some(
            m.iter()
                .map(|(k, v)| match v {
                    Value::Bool(b) => format!("{k}={}", convert::bit(*b)),
                    Value::String(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

/// `ssh_public_keys` as one string or a list; PVE wants them newline-separated.
fn ssh_keys(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        _ => None,
    }
}
