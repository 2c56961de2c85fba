//! The PVE API description, loaded at run time, and the checks made with it.
//!
//! Source: `../shared/contracts/proxmox/pve-{9.1,8.4}-api-subset.json`, extracted
//! verbatim from proxmox/pve-docs `api-viewer/apidata.js` (the data the official
//! API viewer renders; AGPL-3.0-or-later, © Proxmox Server Solutions GmbH). It is
//! read from that shared folder at test time and never copied into this repository.
//!
//! What is checked, per request: the path matches a template and the method exists
//! on it; every parameter (query for GET/DELETE, form body for POST/PUT, plus the
//! path variables) is declared for that method (`additionalProperties: 0`; indexed
//! names like `net0` match `net[n]`); non-optional parameters are present; values
//! match their type (integer with minimum/maximum, number, boolean strictly `0|1`,
//! string with maxLength/enum/pattern — Perl `(?^:…)` patterns anchored as PVE does),
//! string `format`s listed in `check_format` (others are accepted and counted in
//! `unchecked_formats`), `-list` formats element by element, and property strings
//! (`format` objects: `net[n]`, `rootfs`, `scsi[n]`, `features`, qemu `memory`)
//! key by key, with `default_key`, aliases, required sub-keys and each sub-value's
//! own type/format/pattern/enum. Per response: the data against `returns` (types,
//! required properties, `additionalProperties: 0`, arrays item by item); integers
//! may be JSON strings (the documented `/cluster/nextid` divergence).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

pub struct Schema {
    pub version: String,
    paths: Vec<(Vec<String>, Value)>,
    pub unchecked_formats: std::sync::Mutex<BTreeSet<String>>,
}

/// Where the shared contracts live: `$INFRA_CONTRACTS_DIR`, else `../shared/contracts`
/// next to this repository.
pub fn contracts_dir() -> PathBuf {
    std::env::var_os("INFRA_CONTRACTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/contracts"))
}

impl Schema {
    /// `version`: "9.1" or "8.4".
    pub fn load(version: &str) -> Schema {
        let path = contracts_dir().join(format!("proxmox/pve-{version}-api-subset.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("cannot read the PVE API contract {}: {e} (set INFRA_CONTRACTS_DIR to the shared contracts folder)", path.display())
        });
        let doc: Value = serde_json::from_str(&text).expect("the PVE contract is JSON");
        let paths = doc["paths"]
            .as_object()
            .expect("contract has paths")
            .iter()
            .map(|(p, info)| {
                (
                    p.trim_start_matches('/')
                        .split('/')
                        .map(str::to_string)
                        .collect(),
                    info.clone(),
                )
            })
            .collect();
        Schema {
            version: version.to_string(),
            paths,
            unchecked_formats: Default::default(),
        }
    }

    /// The template and the path variables of a (decoded) path under /api2/json.
    pub fn route(&self, segs: &[String]) -> Option<(String, BTreeMap<String, String>)> {
        'paths: for (tpl, _) in &self.paths {
            if tpl.len() != segs.len() {
                continue;
            }
            let mut vars = BTreeMap::new();
            for (t, s) in tpl.iter().zip(segs) {
                if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    vars.insert(name.to_string(), s.clone());
                } else if t != s {
                    continue 'paths;
                }
            }
            return Some((format!("/{}", tpl.join("/")), vars));
        }
        None
    }

    pub fn info(&self, template: &str, method: &str) -> Option<&Value> {
        let segs: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        self.paths
            .iter()
            .find(|(t, _)| t.iter().map(String::as_str).eq(segs.iter().copied()))
            .and_then(|(_, info)| info.get(method))
    }

    /// Parameter errors as PVE's 400 `errors` object would list them.
    pub fn check_params(
        &self,
        info: &Value,
        params: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut errors = BTreeMap::new();
        let props = info["parameters"]["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (name, value) in params {
            match lookup(&props, name) {
                None => {
                    errors.insert(name.clone(), "property is not defined in schema and the schema does not allow additional properties".into());
                }
                Some(p) => {
                    if let Err(e) = self.check_value(p, value) {
                        errors.insert(name.clone(), e);
                    }
                }
            }
        }
        for (name, p) in &props {
            if p.get("optional").and_then(Value::as_i64) != Some(1)
                && !name.contains('[')
                && !params.contains_key(name)
            {
                errors.insert(
                    name.clone(),
                    "property is missing and it is not optional".into(),
                );
            }
        }
        errors
    }

    /// One value (as it travels: a string) against its parameter schema.
    pub fn check_value(&self, p: &Value, v: &str) -> Result<(), String> {
        match p.get("type").and_then(Value::as_str).unwrap_or("string") {
            "integer" => {
                let n: i64 = v
                    .parse()
                    .map_err(|_| format!("type check ('integer') failed - got '{v}'"))?;
                if let Some(min) = p.get("minimum").and_then(Value::as_f64) {
                    if (n as f64) < min {
                        return Err(format!("value must have a minimum value of {min}"));
                    }
                }
                if let Some(max) = p.get("maximum").and_then(Value::as_f64) {
                    if (n as f64) > max {
                        return Err(format!("value must have a maximum value of {max}"));
                    }
                }
            }
            "number" => {
                v.parse::<f64>()
                    .map_err(|_| format!("type check ('number') failed - got '{v}'"))?;
            }
            "boolean" => {
                if v != "0" && v != "1" {
                    return Err(format!(
                        "type check ('boolean') failed - got '{v}' (infra must send 0 or 1)"
                    ));
                }
            }
            _ => {
                if let Some(max) = p.get("maxLength").and_then(Value::as_u64) {
                    if v.chars().count() as u64 > max {
                        return Err(format!("value may only be {max} characters long"));
                    }
                }
                if let Some(e) = p.get("enum").and_then(Value::as_array) {
                    if !e.iter().any(|x| x.as_str() == Some(v)) {
                        return Err(format!(
                            "value '{v}' does not have a value in the enumeration"
                        ));
                    }
                }
                if let Some(pat) = p.get("pattern").and_then(Value::as_str) {
                    if !pattern_matches(pat, v) {
                        return Err(format!("value does not match the regex pattern {pat}"));
                    }
                }
                match p.get("format") {
                    Some(Value::Object(f)) => self.check_property_string(f, v)?,
                    Some(Value::String(name)) => self.check_format(name, v)?,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn check_property_string(
        &self,
        format: &serde_json::Map<String, Value>,
        v: &str,
    ) -> Result<(), String> {
        let default_key = format
            .iter()
            .find(|(_, s)| s.get("default_key").and_then(Value::as_i64) == Some(1))
            .map(|(k, _)| k.clone());
        let mut seen = BTreeSet::new();
        for part in v.split(',') {
            let (key, value) = match part.split_once('=') {
                Some((k, val)) => (k.to_string(), val.to_string()),
                None => match &default_key {
                    Some(d) if !seen.contains(d) => (d.clone(), part.to_string()),
                    _ => {
                        return Err(format!(
                            "value without key, but schema does not define a default key: '{part}'"
                        ))
                    }
                },
            };
            let Some(sub) = format.get(&key) else {
                return Err(format!("invalid format - unknown key '{key}' in '{v}'"));
            };
            // `virtio=MAC` style: the key is an alias of another key, its name a value.
            let sub = match sub.get("alias").and_then(Value::as_str) {
                Some(target) => format
                    .get(target)
                    .ok_or_else(|| format!("bad alias {target}"))?,
                None => sub,
            };
            if !seen.insert(key.clone()) {
                return Err(format!("invalid format - duplicate key '{key}'"));
            }
            self.check_value(sub, &value)
                .map_err(|e| format!("invalid format - {key}: {e}"))?;
        }
        for (k, s) in format {
            let optional = s.get("optional").and_then(Value::as_i64) == Some(1)
                || s.get("alias").is_some()
                || s.get("default").is_some();
            if !optional && !seen.contains(k) && s.get("keyAlias").is_none() {
                // `[model=]<enum>` may be given through an alias key (`virtio=MAC`).
                let via_alias = format.iter().any(|(ak, a)| {
                    a.get("keyAlias").and_then(Value::as_str) == Some(k) && seen.contains(ak)
                });
                if !via_alias {
                    return Err(format!(
                        "invalid format - property '{k}' is missing in '{v}'"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Named string formats of PVE::JSONSchema that the provider's requests use.
    fn check_format(&self, name: &str, v: &str) -> Result<(), String> {
        if let Some(elem) = name.strip_suffix("-list") {
            for item in v.split([';', ',', ' ', '\n']).filter(|s| !s.is_empty()) {
                self.check_format(elem, item)?;
            }
            return Ok(());
        }
        let re = |pat: &str| {
            regex::Regex::new(&format!("(?i)^(?:{pat})$"))
                .unwrap()
                .is_match(v)
        };
        let ok = match name {
            "pve-vmid" => v
                .parse::<u64>()
                .is_ok_and(|n| (100..=999_999_999).contains(&n)),
            "pve-node" => re(r"[a-z0-9]([a-z0-9\-]*[a-z0-9])?"),
            "pve-storage-id" => re(r"[a-z][a-z0-9\-_.]*[a-z0-9]"),
            "pve-tag" => re(r"[a-z0-9_][a-z0-9_\-+.]*"),
            "pve-configid" => re(r"[a-z][a-z0-9_\-]*"),
            "dns-name" => re(r"([a-z0-9]([a-z0-9\-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9\-]*[a-z0-9])?"),
            "ipv4" => v.parse::<std::net::Ipv4Addr>().is_ok(),
            "ipv6" => v.parse::<std::net::Ipv6Addr>().is_ok(),
            "mac-addr" => re(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}"),
            "pve-ipv4-config" => v == "dhcp" || v == "manual" || cidr4(v),
            "pve-ipv6-config" => ["auto", "dhcp", "manual"].contains(&v) || cidr6(v),
            "pve-storage-content" => [
                "images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import",
            ]
            .contains(&v),
            "disk-size" => re(r"\d+(\.\d+)?[KMGT]?"),
            "pve-bridge-id" => re(r"[-_.\w\d]+"),
            "pve-volume-id" => re(r"[a-z][a-z0-9\-_.]*[a-z0-9]:.+"),
            // Volume, STORAGE:SIZE allocation, or an absolute path (bind mount).
            "pve-lxc-mp-string" | "pve-volume-id-or-qm-path" | "pve-volume-id-or-absolute-path" => {
                v.starts_with('/')
                    || re(r"[a-z][a-z0-9\-_.]*[a-z0-9]:.+")
                    || v == "none"
                    || v == "cdrom"
            }
            "pve-qm-ipconfig" => {
                return v
                    .split(',')
                    .try_for_each(|part| match part.split_once('=') {
                        Some(("ip", ip)) if ip == "dhcp" || cidr4(ip) => Ok(()),
                        Some(("gw", gw)) if gw.parse::<std::net::Ipv4Addr>().is_ok() => Ok(()),
                        Some(("ip6", ip)) if ["auto", "dhcp"].contains(&ip) || cidr6(ip) => Ok(()),
                        Some(("gw6", gw)) if gw.parse::<std::net::Ipv6Addr>().is_ok() => Ok(()),
                        _ => Err(format!("invalid format - ipconfig part '{part}'")),
                    });
            }
            other => {
                self.unchecked_formats
                    .lock()
                    .unwrap()
                    .insert(other.to_string());
                true
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!("value does not match format '{name}': '{v}'"))
        }
    }

    /// Check response data against `returns`; problems are the fake's own bugs.
    pub fn check_return(&self, ret: &Value, data: &Value, at: &str, out: &mut Vec<String>) {
        let ty = ret.get("type").and_then(Value::as_str).unwrap_or("");
        let bad = |out: &mut Vec<String>, what: &str| {
            out.push(format!("{at}: expected {what}, got {data}"))
        };
        match ty {
            "null" if !data.is_null() => bad(out, "null"),
            "integer" => {
                let ok = data.as_i64().is_some()
                    || data.as_str().is_some_and(|s| s.parse::<i64>().is_ok());
                if !ok {
                    bad(out, "integer")
                }
            }
            "number" if !data.is_number() => bad(out, "number"),
            "boolean"
                if !(data.is_boolean() || data.as_i64().is_some_and(|i| i == 0 || i == 1)) =>
            {
                bad(out, "boolean")
            }
            "string" if !data.is_string() => bad(out, "string"),
            "array" => match data.as_array() {
                None => bad(out, "array"),
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.check_return(&ret["items"], item, &format!("{at}[{i}]"), out);
                    }
                }
            },
            "object" => {
                let Some(obj) = data.as_object() else {
                    return bad(out, "object");
                };
                let props = ret
                    .get("properties")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                for (k, v) in obj {
                    match lookup(&props, k) {
                        Some(p) => self.check_return(p, v, &format!("{at}.{k}"), out),
                        None if ret.get("additionalProperties").and_then(Value::as_i64)
                            == Some(0) =>
                        {
                            out.push(format!("{at}: property {k} is not in the returns schema"))
                        }
                        None => {}
                    }
                }
                for (k, p) in &props {
                    if p.get("optional").and_then(Value::as_i64) != Some(1)
                        && !k.contains('[')
                        && !obj.contains_key(k)
                    {
                        out.push(format!("{at}: required property {k} missing"));
                    }
                }
            }
            _ => {}
        }
    }
}

/// A property's schema by name; `net0` finds `net[n]`.
fn lookup<'a>(props: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    props.get(name).or_else(|| {
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
        (base.len() < name.len())
            .then(|| props.get(&format!("{base}[n]")))
            .flatten()
    })
}

/// PVE anchors patterns (`m/^$pattern$/`); `(?^:…)` is Perl for a default-flags group.
fn pattern_matches(pat: &str, v: &str) -> bool {
    let pat = pat.replace("(?^:", "(?:");
    regex::Regex::new(&format!("^(?:{pat})$")).is_ok_and(|re| re.is_match(v))
}

fn cidr4(v: &str) -> bool {
    v.split_once('/').is_some_and(|(a, p)| {
        a.parse::<std::net::Ipv4Addr>().is_ok() && p.parse::<u8>().is_ok_and(|p| p <= 32)
    })
}

fn cidr6(v: &str) -> bool {
    v.split_once('/').is_some_and(|(a, p)| {
        a.parse::<std::net::Ipv6Addr>().is_ok() && p.parse::<u8>().is_ok_and(|p| p <= 128)
    })
}
