//! The fake's in-memory Proxmox VE node: guests (LXC and QEMU) with their config
//! as PVE would store and print it, storages with free space, OS templates,
//! privileges the token lacks, and tasks with real UPIDs that run for a few polls
//! before they stop (`OK` or an error exit status).
//!
//! Read-back differs from what was sent, as on a real node: `net0` gains `hwaddr`
//! and `type=veth` in canonical key order, `rootfs`/`scsi0` become
//! `STORAGE:vm-ID-disk-0,size=NG`, booleans become 1/0 numbers, a `digest` is
//! added, `lock` is set while a task runs, and `ssh-public-keys`, `password`,
//! `start`, `storage` and `ostemplate` are not kept.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Lxc,
    Qemu,
}

impl Kind {
    pub fn api(self) -> &'static str {
        match self {
            Kind::Lxc => "lxc",
            Kind::Qemu => "qemu",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Guest {
    pub vmid: u32,
    pub kind: Kind,
    /// Config keys → values as GET …/config returns them.
    pub config: Map<String, Value>,
    pub running: bool,
}

impl Guest {
    pub fn name(&self) -> Option<&str> {
        let key = if self.kind == Kind::Lxc {
            "hostname"
        } else {
            "name"
        };
        self.config.get(key).and_then(Value::as_str)
    }

    pub fn tags(&self) -> Option<&str> {
        self.config.get("tags").and_then(Value::as_str)
    }

    pub fn disk_bytes(&self) -> u64 {
        let key = if self.kind == Kind::Lxc {
            "rootfs"
        } else {
            "scsi0"
        };
        self.config
            .get(key)
            .and_then(Value::as_str)
            .and_then(|s| s.split(',').find_map(|p| p.strip_prefix("size=")))
            .and_then(|s| s.strip_suffix('G'))
            .and_then(|g| g.parse::<u64>().ok())
            .unwrap_or(0)
            << 30
    }

    pub fn memory_mib(&self) -> u64 {
        match self.config.get("memory") {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(512),
            Some(Value::String(s)) => s.trim_start_matches("current=").parse().unwrap_or(512),
            _ => 512,
        }
    }

    /// Digest of the config as PVE computes it (SHA-1 of the file there; any
    /// stable 40-hex-digit hash does here).
    pub fn digest(&self) -> String {
        let mut c = self.config.clone();
        c.remove("digest");
        let hex: String = Sha256::digest(Value::Object(c).to_string().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        hex[..40].to_string()
    }
}

/// What happens when a task stops.
#[derive(Debug, Clone)]
pub enum Effect {
    None,
    /// Creation finished: drop the `create` lock; start if asked.
    Created {
        vmid: u32,
        start: bool,
    },
    /// Creation failed: the half-made guest is removed (PVE cleans up).
    CreateFailed {
        vmid: u32,
    },
    Power {
        vmid: u32,
        on: bool,
    },
    Resize {
        vmid: u32,
        key: String,
        gib: u64,
    },
    Destroy {
        vmid: u32,
    },
}

#[derive(Debug, Clone)]
pub struct Task {
    pub upid: String,
    pub kind: String,
    pub id: String,
    pub user: String,
    pub pid: u32,
    pub pstart: u32,
    pub starttime: u32,
    /// Status polls left before the task stops.
    pub polls_left: u32,
    pub exitstatus: Option<String>,
    /// Exit status it will stop with.
    pub outcome: String,
    pub effect: Effect,
    pub log: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Storage {
    pub content: Vec<&'static str>,
    pub total_gib: u64,
    pub used_gib: u64,
}

pub struct World {
    pub node: String,
    pub guests: BTreeMap<u32, Guest>,
    pub tasks: BTreeMap<String, Task>,
    pub storages: BTreeMap<String, Storage>,
    /// Volume ids of OS templates present on `local`.
    pub templates: Vec<String>,
    /// (ACL path, privilege) the token lacks, e.g. ("/vms/100", "VM.Allocate").
    pub denied: BTreeSet<(String, String)>,
    /// Status polls a task stays `running` for.
    pub task_polls: u32,
    /// The next task of this type stops with this exit status instead of OK.
    pub fail_next_task: Option<(String, String)>,
    next_pid: u32,
    clock: u32,
}

pub const TEMPLATE: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";

impl World {
    pub fn new(node: &str) -> World {
        let mut storages = BTreeMap::new();
        storages.insert(
            "local".to_string(),
            Storage {
                content: vec!["vztmpl", "iso", "backup"],
                total_gib: 100,
                used_gib: 10,
            },
        );
        storages.insert(
            "local-lvm".to_string(),
            Storage {
                content: vec!["rootdir", "images"],
                total_gib: 200,
                used_gib: 0,
            },
        );
        World {
            node: node.to_string(),
            guests: BTreeMap::new(),
            tasks: BTreeMap::new(),
            storages,
            templates: vec![TEMPLATE.to_string()],
            denied: BTreeSet::new(),
            task_polls: 1,
            fail_next_task: None,
            next_pid: 0x3a1b2,
            clock: 0x67a0_b1c2,
        }
    }

    pub fn next_free_vmid(&self) -> u32 {
        (100..).find(|id| !self.guests.contains_key(id)).unwrap()
    }

    /// Start a task; returns its UPID (`UPID:node:PID:PSTART:STARTTIME:type:id:user:`).
    pub fn start_task(
        &mut self,
        kind: &str,
        id: &str,
        user: &str,
        effect: Effect,
        failure: Option<String>,
    ) -> String {
        self.next_pid += 1;
        self.clock += 1;
        let (pid, pstart, start) = (self.next_pid, 0x0129_f3c4 + self.next_pid, self.clock);
        let upid = format!(
            "UPID:{}:{pid:08X}:{pstart:08X}:{start:08X}:{kind}:{id}:{user}:",
            self.node
        );
        let injected = match &self.fail_next_task {
            Some((k, _)) if k == kind => self.fail_next_task.take().map(|(_, e)| e),
            _ => None,
        };
        let outcome = failure.or(injected).unwrap_or_else(|| "OK".into());
        let effect = match (&effect, outcome.as_str()) {
            (Effect::Created { vmid, .. }, o) if o != "OK" => Effect::CreateFailed { vmid: *vmid },
            (_, "OK") => effect,
            _ => Effect::None,
        };
        self.tasks.insert(
            upid.clone(),
            Task {
                upid: upid.clone(),
                kind: kind.into(),
                id: id.into(),
                user: user.into(),
                pid,
                pstart,
                starttime: start,
                polls_left: self.task_polls,
                exitstatus: None,
                outcome,
                effect,
                log: vec![format!("starting {kind} {id}")],
            },
        );
        upid
    }

    /// One status poll: a running task may stop now, applying its effect.
    pub fn poll_task(&mut self, upid: &str) -> Option<Value> {
        let task = self.tasks.get_mut(upid)?;
        if task.exitstatus.is_none() {
            if task.polls_left == 0 {
                task.exitstatus = Some(task.outcome.clone());
                let effect = std::mem::replace(&mut task.effect, Effect::None);
                let line = if task.outcome == "OK" {
                    "TASK OK".to_string()
                } else {
                    format!("TASK ERROR: {}", task.outcome)
                };
                task.log.push(line);
                self.apply(effect);
            } else {
                task.polls_left -= 1;
            }
        }
        let t = &self.tasks[upid];
        let mut v = json!({
            "upid": t.upid, "node": self.node, "pid": t.pid, "pstart": t.pstart,
            "starttime": t.starttime, "type": t.kind, "id": t.id, "user": t.user,
            "status": if t.exitstatus.is_some() { "stopped" } else { "running" },
        });
        if let Some(e) = &t.exitstatus {
            v["exitstatus"] = json!(e);
        }
        Some(v)
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::None => {}
            Effect::Created { vmid, start } => {
                if let Some(g) = self.guests.get_mut(&vmid) {
                    g.config.remove("lock");
                    g.running = start;
                }
            }
            // Its space was never taken (the failure came first).
            Effect::CreateFailed { vmid } => {
                self.guests.remove(&vmid);
            }
            Effect::Power { vmid, on } => {
                if let Some(g) = self.guests.get_mut(&vmid) {
                    g.running = on;
                }
            }
            Effect::Resize { vmid, key, gib } => {
                if let Some(g) = self.guests.get_mut(&vmid) {
                    let old = g
                        .config
                        .get(&key)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    let parts: Vec<String> = old
                        .split(',')
                        .map(|p| {
                            if p.starts_with("size=") {
                                format!("size={gib}G")
                            } else {
                                p.to_string()
                            }
                        })
                        .collect();
                    g.config.insert(key, json!(parts.join(",")));
                }
            }
            Effect::Destroy { vmid } => {
                if let Some(g) = self.guests.remove(&vmid) {
                    self.release(&g);
                }
            }
        }
        for g in self.guests.values_mut() {
            let d = g.digest();
            g.config.insert("digest".into(), json!(d));
        }
    }

    /// Give a guest's disk space back to its storage.
    fn release(&mut self, g: &Guest) {
        let key = if g.kind == Kind::Lxc {
            "rootfs"
        } else {
            "scsi0"
        };
        if let Some(storage) = g
            .config
            .get(key)
            .and_then(Value::as_str)
            .and_then(|s| s.split(':').next())
        {
            if let Some(s) = self.storages.get_mut(storage) {
                s.used_gib = s.used_gib.saturating_sub(g.disk_bytes() >> 30);
            }
        }
    }

    pub fn refresh_digest(&mut self, vmid: u32) {
        if let Some(g) = self.guests.get_mut(&vmid) {
            let d = g.digest();
            g.config.insert("digest".into(), json!(d));
        }
    }

    /// A guest as `/cluster/resources?type=vm` lists it.
    pub fn resource(&self, g: &Guest) -> Value {
        let mut v = json!({
            "id": format!("{}/{}", g.kind.api(), g.vmid), "type": g.kind.api(), "vmid": g.vmid,
            "node": self.node, "status": if g.running { "running" } else { "stopped" },
            "template": 0, "maxmem": g.memory_mib() << 20, "maxdisk": g.disk_bytes(),
            "maxcpu": g.config.get("cores").and_then(Value::as_u64).unwrap_or(1),
            "cpu": 0, "mem": 0, "disk": 0, "uptime": if g.running { 42 } else { 0 },
            "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0,
        });
        if let Some(n) = g.name() {
            v["name"] = json!(n);
        }
        if let Some(t) = g.tags() {
            v["tags"] = json!(t);
        }
        if let Some(l) = g.config.get("lock") {
            v["lock"] = l.clone();
        }
        v
    }
}

/// A MAC address in Proxmox's own OUI (BC:24:11), stable per vmid.
pub fn hwaddr(vmid: u32, n: u32) -> String {
    format!(
        "BC:24:11:{:02X}:{:02X}:{:02X}",
        (vmid >> 8) & 0xff,
        vmid & 0xff,
        n
    )
}

/// Rewrite a property string as PVE prints it: `first` key leading, the rest sorted.
pub fn canonical(props: &str, first: &str) -> String {
    let mut parts: Vec<(String, String)> = props
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (String::new(), p.to_string()),
        })
        .collect();
    parts.sort_by(|a, b| (a.0 != first, &a.0).cmp(&(b.0 != first, &b.0)));
    parts
        .iter()
        .map(|(k, v)| {
            if k.is_empty() {
                v.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
