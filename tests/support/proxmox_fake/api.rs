//! The fake's API handlers: what each endpoint does to the `World` and answers,
//! with PVE's own error texts (pve-container / qemu-server / pve-manager wording).
//! Requests reach here already checked against the schema.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::world::{canonical, hwaddr, Effect, Guest, Kind, World};

pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub errors: Option<Map<String, Value>>,
}

fn die(message: impl Into<String>) -> ApiError {
    ApiError {
        status: 500,
        message: message.into(),
        errors: None,
    }
}

fn param_error(key: &str, message: impl Into<String>) -> ApiError {
    let mut m = Map::new();
    m.insert(key.into(), json!(message.into()));
    ApiError {
        status: 400,
        message: "Parameter verification failed.".into(),
        errors: Some(m),
    }
}

pub type Params = BTreeMap<String, String>;

/// The privileges an endpoint's `permissions.check` demands, on which ACL path;
/// `any` = one of them suffices.
pub fn required_privs(info: &Value, template: &str, p: &Params) -> (Vec<(String, String)>, bool) {
    let subst = |path: &str| {
        let mut s = path.to_string();
        for (k, v) in p {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    };
    let check = &info["permissions"]["check"];
    if check[0] == "perm" {
        let path = subst(check[1].as_str().unwrap_or("/"));
        let privs = check[2].as_array().cloned().unwrap_or_default();
        let any = check
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x == "any"));
        return (
            privs
                .iter()
                .filter_map(Value::as_str)
                .map(|x| (path.clone(), x.to_string()))
                .collect(),
            any,
        );
    }
    // Creation checks its privileges in code ("user: all" + a description).
    if template.ends_with("/lxc") || template.ends_with("/qemu") {
        if let Some(vmid) = p.get("vmid") {
            let mut v = vec![(format!("/vms/{vmid}"), "VM.Allocate".to_string())];
            let storage = p
                .get("rootfs")
                .or_else(|| p.get("scsi0"))
                .and_then(|r| r.split(':').next())
                .unwrap_or("local");
            v.push((
                format!("/storage/{storage}"),
                "Datastore.AllocateSpace".to_string(),
            ));
            return (v, false);
        }
    }
    (Vec::new(), false)
}

pub fn handle(
    w: &mut World,
    method: &str,
    template: &str,
    p: &Params,
    user: &str,
) -> Result<Value, ApiError> {
    if let Some(node) = p.get("node") {
        if *node != w.node {
            return Err(die(format!("hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known")));
        }
    }
    let kind = if template.contains("/lxc") {
        Kind::Lxc
    } else {
        Kind::Qemu
    };
    let vmid: Option<u32> = p.get("vmid").and_then(|v| v.parse().ok());
    let tail = template
        .trim_start_matches("/nodes/{node}/lxc")
        .trim_start_matches("/nodes/{node}/qemu");
    match (method, template) {
        ("GET", "/version") => Ok(json!({"version": "9.1.3", "release": "9.1", "repoid": "e5010dce"})),
        ("GET", "/cluster/nextid") => match vmid {
            Some(id) if w.guests.contains_key(&id) => Err(param_error("vmid", format!("VM {id} already exists"))),
            Some(id) => Ok(json!(id.to_string())),
            None => Ok(json!(w.next_free_vmid().to_string())),
        },
        ("GET", "/cluster/resources") => {
            let ty = p.get("type").map(String::as_str);
            let mut out: Vec<Value> = Vec::new();
            if ty.is_none() || ty == Some("vm") {
                out.extend(w.guests.values().map(|g| w.resource(g)));
            }
            if ty.is_none() || ty == Some("storage") {
                for (name, s) in &w.storages {
                    out.push(json!({"id": format!("storage/{}/{name}", w.node), "type": "storage", "storage": name,
                        "node": w.node, "status": "available", "content": s.content.join(","),
                        "maxdisk": s.total_gib << 30, "disk": s.used_gib << 30, "shared": 0, "plugintype": "lvmthin"}));
                }
            }
            Ok(Value::Array(out))
        }
        ("GET", "/nodes/{node}/tasks/{upid}/status") => {
            w.poll_task(&p["upid"]).ok_or_else(|| die(format!("no such task '{}'", p["upid"])))
        }
        ("GET", "/nodes/{node}/tasks/{upid}/log") => {
            let t = w.tasks.get(&p["upid"]).ok_or_else(|| die("no such task"))?;
            Ok(Value::Array(t.log.iter().enumerate().map(|(i, l)| json!({"n": i + 1, "t": l})).collect()))
        }
        ("GET", "/nodes/{node}/storage/{storage}/content") => {
            let storage = &p["storage"];
            if !w.storages.contains_key(storage) {
                return Err(die(format!("storage '{storage}' does not exist")));
            }
            let prefix = format!("{storage}:");
            Ok(Value::Array(
                w.templates.iter().filter(|t| t.starts_with(&prefix))
                    .map(|t| json!({"volid": t, "format": "tzst", "size": 126_000_000, "content": "vztmpl", "ctime": 1_700_000_000}))
                    .collect(),
            ))
        }
        ("GET", "/nodes/{node}/lxc") | ("GET", "/nodes/{node}/qemu") => Ok(Value::Array(
            w.guests.values().filter(|g| g.kind == kind).map(|g| {
                let mut v = json!({"vmid": g.vmid, "status": if g.running {"running"} else {"stopped"},
                    "maxmem": g.memory_mib() << 20, "maxdisk": g.disk_bytes(), "uptime": 0});
                if let Some(n) = g.name() { v["name"] = json!(n); }
                if let Some(t) = g.tags() { v["tags"] = json!(t); }
                v
            }).collect(),
        )),
        ("POST", "/nodes/{node}/lxc") | ("POST", "/nodes/{node}/qemu") => create(w, kind, p, user),
        _ => {
            let id = vmid.ok_or_else(|| die("no vmid"))?;
            let file = format!("nodes/{}/{}/{id}.conf", w.node, if kind == Kind::Lxc { "lxc" } else { "qemu-server" });
            let Some(g) = w.guests.get(&id).filter(|g| g.kind == kind) else {
                return Err(die(format!("Configuration file '{file}' does not exist")));
            };
            let running = g.running;
            let locked = g.config.get("lock").and_then(Value::as_str).map(str::to_string);
            let label = if kind == Kind::Lxc { "CT" } else { "VM" };
            let tprefix = if kind == Kind::Lxc { "vz" } else { "qm" };
            match (method, tail) {
                ("GET", "/{vmid}/config") => Ok(Value::Object(g.config.clone())),
                ("GET", "/{vmid}/status/current") => {
                    let mut v = json!({"vmid": id, "status": if running {"running"} else {"stopped"}, "ha": {"managed": 0},
                        "maxmem": g.memory_mib() << 20, "maxdisk": g.disk_bytes(), "uptime": 0, "cpus": 1});
                    if let Some(n) = g.name() { v["name"] = json!(n); }
                    Ok(v)
                }
                ("PUT", "/{vmid}/config") => {
                    if let Some(l) = locked {
                        return Err(die(format!("{label} is locked ({l})")));
                    }
                    if let Some(d) = p.get("digest") {
                        if g.config.get("digest").and_then(Value::as_str) != Some(d.as_str()) {
                            return Err(die("detected modified configuration - file changed by other user? Try again."));
                        }
                    }
                    let g = w.guests.get_mut(&id).unwrap();
                    for (k, v) in p {
                        if ["node", "vmid", "digest", "delete", "revert"].contains(&k.as_str()) {
                            continue;
                        }
                        let v = normalise(kind, id, k, v);
                        g.config.insert(k.clone(), v);
                    }
                    for k in p.get("delete").map(|d| d.split([',', ';', ' ']).collect::<Vec<_>>()).unwrap_or_default() {
                        g.config.remove(k);
                    }
                    w.refresh_digest(id);
                    Ok(Value::Null)
                }
                ("PUT", "/{vmid}/resize") => {
                    let key = p["disk"].clone();
                    let cur = g.disk_bytes() >> 30;
                    let size = &p["size"];
                    let gib: u64 = size.trim_start_matches('+').trim_end_matches('G').parse().map_err(|_| die("only sizes in G are supported by the fake"))?;
                    let gib = if size.starts_with('+') { cur + gib } else { gib };
                    if gib < cur {
                        return Err(die("unable to shrink disk size".to_string()));
                    }
                    Ok(json!(w.start_task("resize", &id.to_string(), user, Effect::Resize { vmid: id, key, gib }, None)))
                }
                ("POST", "/{vmid}/status/start") => {
                    if running {
                        return Err(die(format!("{label} {id} already running")));
                    }
                    Ok(json!(w.start_task(&format!("{tprefix}start"), &id.to_string(), user, Effect::Power { vmid: id, on: true }, None)))
                }
                ("POST", "/{vmid}/status/stop") | ("POST", "/{vmid}/status/shutdown") => {
                    if !running {
                        return Err(die(format!("{label} {id} not running")));
                    }
                    Ok(json!(w.start_task(&format!("{tprefix}stop"), &id.to_string(), user, Effect::Power { vmid: id, on: false }, None)))
                }
                ("DELETE", "/{vmid}") => {
                    if running && p.get("force").map(String::as_str) != Some("1") {
                        return Err(die(format!("{label} {id} is running - destroy failed")));
                    }
                    Ok(json!(w.start_task(&format!("{tprefix}destroy"), &id.to_string(), user, Effect::Destroy { vmid: id }, None)))
                }
                _ => Err(ApiError { status: 501, message: format!("Method '{method} {template}' not implemented (by the fake)"), errors: None }),
            }
        }
    }
}

/// A config value as PVE stores and prints it.
fn normalise(kind: Kind, vmid: u32, key: &str, v: &str) -> Value {
    match key {
        "cores" | "swap" | "unprivileged" | "onboot" => json!(v.parse::<i64>().unwrap_or(0)),
        "memory" if kind == Kind::Lxc => json!(v.parse::<i64>().unwrap_or(0)),
        "memory" => json!(v.trim_start_matches("current=")),
        k if kind == Kind::Lxc && k.starts_with("net") => {
            let mut s = v.to_string();
            if !s.contains("hwaddr=") {
                s.push_str(&format!(",hwaddr={}", hwaddr(vmid, 0)));
            }
            if !s.contains("type=") {
                s.push_str(",type=veth");
            }
            json!(canonical(&s, "name"))
        }
        _ => json!(v),
    }
}

fn create(w: &mut World, kind: Kind, p: &Params, user: &str) -> Result<Value, ApiError> {
    let id: u32 = p["vmid"].parse().unwrap();
    let label = if kind == Kind::Lxc { "CT" } else { "VM" };
    if w.guests.contains_key(&id) {
        return Err(param_error(
            "vmid",
            format!("{label} {id} already exists on node '{}'", w.node),
        ));
    }
    let disk_key = if kind == Kind::Lxc { "rootfs" } else { "scsi0" };
    let (storage, gib) = match p
        .get(disk_key)
        .map(|d| d.split(',').next().unwrap_or("").to_string())
    {
        Some(vol) => {
            let (s, size) = vol.split_once(':').unwrap_or(("local", "4"));
            (s.to_string(), size.parse::<u64>().unwrap_or(4))
        }
        None => (
            p.get("storage").cloned().unwrap_or_else(|| "local".into()),
            4,
        ),
    };
    let mut failure = None;
    let tkind = if kind == Kind::Lxc {
        "vzcreate"
    } else {
        "qmcreate"
    };
    if kind == Kind::Lxc {
        let tpl = &p["ostemplate"];
        if !w.templates.contains(tpl) {
            failure = Some(format!(
                "unable to create CT {id} - volume '{tpl}' does not exist"
            ));
        }
    }
    match w.storages.get_mut(&storage) {
        None => return Err(die(format!("storage '{storage}' does not exist"))),
        Some(_) if failure.is_some() => {}
        Some(s) if s.used_gib + gib > s.total_gib => {
            failure = Some(format!(
                "unable to create {label} {id} - lvcreate 'pve/vm-{id}-disk-0' error:   Volume group \"pve\" has insufficient free space ({} extents): {} required.",
                (s.total_gib - s.used_gib) * 256,
                gib * 256
            ));
        }
        Some(s) => s.used_gib += gib,
    }
    let mut config = Map::new();
    let skip = [
        "node",
        "vmid",
        "ostemplate",
        "ssh-public-keys",
        "password",
        "start",
        "storage",
        "pool",
        "unique",
        "force",
        "restore",
    ];
    for (k, v) in p.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
        config.insert(k.clone(), normalise(kind, id, k, v));
    }
    let disk = format!("{storage}:vm-{id}-disk-0,size={gib}G");
    match kind {
        Kind::Lxc => {
            let ostype = if p["ostemplate"].contains("debian") {
                "debian"
            } else {
                "unmanaged"
            };
            config.insert("rootfs".into(), json!(disk));
            config.insert("arch".into(), json!("amd64"));
            config.insert("ostype".into(), json!(ostype));
            config.entry("memory").or_insert(json!(512));
            config.entry("swap").or_insert(json!(512));
        }
        Kind::Qemu => {
            config.insert("scsi0".into(), json!(format!("{disk},iothread=1")));
            if let Some(net) = p.get("net0") {
                let model_mac = format!("virtio={}", hwaddr(id, 0));
                config.insert("net0".into(), json!(net.replacen("virtio", &model_mac, 1)));
            }
            config.insert(
                "smbios1".into(),
                json!(format!("uuid=00000000-0000-4000-8000-{id:012}")),
            );
            config.insert(
                "vmgenid".into(),
                json!(format!("00000000-0000-4000-9000-{id:012}")),
            );
        }
    }
    config.insert("lock".into(), json!("create"));
    let g = Guest {
        vmid: id,
        kind,
        config,
        running: false,
    };
    w.guests.insert(id, g);
    w.refresh_digest(id);
    let start = p.get("start").map(String::as_str) == Some("1");
    Ok(json!(w.start_task(
        tkind,
        &id.to_string(),
        user,
        Effect::Created { vmid: id, start },
        failure
    )))
}
