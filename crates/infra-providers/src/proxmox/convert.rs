//! API ⇄ model conversions for Proxmox VE, with no I/O: property strings
//! (`net0`, `rootfs`, `scsi0`, `ipconfig0`), sizes, the ownership marker as a PVE
//! tag, the description block, and PVE's loose JSON types (integers that arrive
//! as strings, booleans as 0/1).
//!
//! Ownership marker. PVE tags allow only `[a-z0-9_+.-]` (case-insensitive, first
//! character not `+.-`), so `infra:PROJECT/ADDRESS` cannot be a tag as-is. It is
//! written as `infra+PROJECT+ADDRESS` where PROJECT and ADDRESS are escaped:
//! `a-z 0-9 . -` stay, `_` becomes `__`, every other byte becomes `_` and two
//! lowercase hex digits (`A` → `_41`). `+` never appears inside an escaped part,
//! so the two `+` split the tag unambiguously and decoding is exact. Example:
//! `infra+homelab+container.api-scanner`, `infra+lab+dns__record.www`.
//! The tag is the marker because `/cluster/resources` returns tags for every guest
//! in one call (bulk refresh); the description also carries the plain marker and
//! the OS template (which PVE does not keep in the config) for people and for
//! reading `image` back.

use serde_json::Value;

/// Prefix of every infra tag.
const TAG_PREFIX: &str = "infra+";

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' => out.push(b as char),
            b'_' => out.push_str("__"),
            _ => out.push_str(&format!("_{b:02x}")),
        }
    }
    out
}

fn unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' if bytes.get(i + 1) == Some(&b'_') => {
                out.push(b'_');
                i += 2;
            }
            b'_' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b @ (b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-') => {
                out.push(b);
                i += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// The PVE tag that marks an object as `infra:PROJECT/ADDRESS`.
pub fn marker_tag(project: &str, address: &str) -> String {
    format!("{TAG_PREFIX}{}+{}", escape(project), escape(address))
}

/// `(project, address)` of an infra tag; `None` for any other tag.
pub fn parse_marker_tag(tag: &str) -> Option<(String, String)> {
    let rest = tag.trim().to_ascii_lowercase();
    let rest = rest.strip_prefix(TAG_PREFIX)?;
    let (p, a) = rest.split_once('+')?;
    Some((unescape(p)?, unescape(a)?))
}

/// Tags of a `pve-tag-list` (`;`, `,` or spaces between tags).
pub fn split_tags(list: &str) -> Vec<String> {
    list.split([';', ',', ' '])
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The address this project's marker tag names, if any.
pub fn owner_from_tags(project: &str, tags: Option<&str>) -> Option<String> {
    split_tags(tags?)
        .iter()
        .filter_map(|t| parse_marker_tag(t))
        .find(|(p, _)| p == project)
        .map(|(_, a)| a)
}

/// Tags with this project's marker set to `address` (other tags kept, other
/// projects' markers kept).
pub fn tags_with_marker(project: &str, address: &str, existing: Option<&str>) -> String {
    let mut tags: Vec<String> = existing
        .map(split_tags)
        .unwrap_or_default()
        .into_iter()
        .filter(|t| parse_marker_tag(t).is_none_or(|(p, _)| p != project))
        .collect();
    tags.push(marker_tag(project, address));
    tags.join(";")
}

/// The description infra writes: the plain marker, then `key: value` lines.
pub fn description(marker: &str, image: Option<&str>) -> String {
    let mut s = format!("{marker} (managed by infra; local edits will be overwritten)\n");
    if let Some(image) = image {
        s.push_str(&format!("ostemplate: {image}\n"));
    }
    s
}

/// A `key: value` line of a description written by infra.
pub fn description_field(desc: Option<&str>, key: &str) -> Option<String> {
    desc?.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// A property string (`name=eth0,bridge=vmbr0,…`) as ordered pairs. A part
/// without `=` belongs to `default_key` (rootfs `volume`, qemu net `model`).
pub fn parse_props(s: &str, default_key: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
            None => (default_key.to_string(), p.trim().to_string()),
        })
        .collect()
}

pub fn get_prop<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Set (or, with `None`, remove) a key, keeping the order of the others.
pub fn set_prop(props: &mut Vec<(String, String)>, key: &str, value: Option<&str>) {
    match (props.iter().position(|(k, _)| k == key), value) {
        (Some(i), Some(v)) => props[i].1 = v.to_string(),
        (Some(i), None) => {
            props.remove(i);
        }
        (None, Some(v)) => props.push((key.to_string(), v.to_string())),
        (None, None) => {}
    }
}

/// Format pairs back; the default key's value goes first without `key=`.
pub fn format_props(props: &[(String, String)], default_key: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(v) = get_prop(props, default_key) {
        parts.push(v.to_string());
    }
    parts.extend(
        props
            .iter()
            .filter(|(k, _)| k != default_key)
            .map(|(k, v)| format!("{k}={v}")),
    );
    parts.join(",")
}

/// A PVE disk size (`8G`, `512M`, `1T`, `1.5G`, bytes without a unit) in GiB:
/// an integer when whole, else a float (which then shows as a difference).
pub fn size_gib(size: &str) -> Option<Value> {
    let size = size.trim();
    let (num, unit) = match size.chars().last()? {
        c @ ('K' | 'M' | 'G' | 'T') => (&size[..size.len() - 1], c),
        _ => (size, 'B'),
    };
    let n: f64 = num.parse().ok()?;
    let gib = match unit {
        'K' => n / (1024.0 * 1024.0),
        'M' => n / 1024.0,
        'G' => n,
        'T' => n * 1024.0,
        _ => n / (1024.0 * 1024.0 * 1024.0),
    };
    Some(if gib.fract() == 0.0 {
        Value::from(gib as i64)
    } else {
        Value::from(gib)
    })
}

/// An integer that PVE may send as a number or as a string.
pub fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean that PVE may send as 0/1, "0"/"1" or true/false.
pub fn boolean(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        other => int(Some(other)).map(|i| i != 0),
    }
}

pub fn string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Memory of a QEMU config (`2048` or `current=2048`; older releases: an integer).
pub fn qemu_memory(v: Option<&Value>) -> Option<i64> {
    if let Some(i) = int(v) {
        return Some(i);
    }
    let s = string(v)?;
    get_prop(&parse_props(&s, "current"), "current")?
        .parse()
        .ok()
}

/// PVE booleans on the wire.
pub fn bit(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_tags_round_trip_and_stay_in_the_tag_alphabet() {
        for (p, a) in [
            ("homelab", "container.api-scanner"),
            ("conf", "dns_record.www"),
            ("My Lab", "vm.db_1"),
            ("ünï", "container.x"),
        ] {
            let tag = marker_tag(p, a);
            assert!(
                tag.bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'+' | b'.' | b'-')),
                "{tag}"
            );
            assert_eq!(parse_marker_tag(&tag), Some((p.to_string(), a.to_string())));
        }
        assert_eq!(
            marker_tag("homelab", "container.api-scanner"),
            "infra+homelab+container.api-scanner"
        );
        assert_eq!(parse_marker_tag("prod"), None);
        assert_eq!(parse_marker_tag("infra+x_zz+y"), None);
    }

    #[test]
    fn tags_keep_foreign_ones_and_replace_our_marker() {
        let t = tags_with_marker(
            "p",
            "container.b",
            Some("web;infra+p+container.a;infra+q+container.a"),
        );
        assert_eq!(t, "web;infra+q+container.a;infra+p+container.b");
        assert_eq!(
            owner_from_tags("p", Some(&t)).as_deref(),
            Some("container.b")
        );
        assert_eq!(owner_from_tags("z", Some(&t)), None);
    }

    #[test]
    fn property_strings_and_sizes() {
        let mut p = parse_props("local-lvm:vm-105-disk-0,size=8G", "volume");
        assert_eq!(get_prop(&p, "volume"), Some("local-lvm:vm-105-disk-0"));
        assert_eq!(
            size_gib(get_prop(&p, "size").unwrap()),
            Some(Value::from(8))
        );
        set_prop(&mut p, "size", Some("10G"));
        assert_eq!(
            format_props(&p, "volume"),
            "local-lvm:vm-105-disk-0,size=10G"
        );
        assert_eq!(size_gib("512M"), Some(Value::from(0.5)));
        assert_eq!(size_gib("1T"), Some(Value::from(1024)));
        assert_eq!(int(Some(&Value::from("105"))), Some(105));
        assert_eq!(boolean(Some(&Value::from(1))), Some(true));
        assert_eq!(qemu_memory(Some(&Value::from("current=2048"))), Some(2048));
        assert_eq!(
            description_field(
                Some(&description("infra:p/a", Some("local:vztmpl/x.tar.zst"))),
                "ostemplate"
            )
            .as_deref(),
            Some("local:vztmpl/x.tar.zst")
        );
    }
}
