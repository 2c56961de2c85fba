//! One attribute type (`Ty`) as JSON Schema. Patterns follow what
//! `infra_core::spec::check` accepts and are never stricter: where an exact
//! pattern would be long (IPv6, URLs) a looser one is used, and `infra validate`
//! stays the judge. Every pattern is plain ECMA-262 that Rust's regex also reads.

use serde_json::{json, Value};

use infra_core::spec::check::MAX_PATH_BYTES;
use infra_core::spec::schema::{Attr, Ty, DNS_TYPES};

/// Where the shared `${...}` reference schema sits in the document.
pub const REFERENCE_REF: &str = "#/definitions/reference";

const IPV4: &str = r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
/// Loose on purpose: any run of hex digits, colons and dots with a colon.
const IPV6: &str = r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*";
const HOST_LABEL: &str = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const REF_PART: &str = r"[A-Za-z0-9_-]+";

fn ip() -> String {
    format!("(?:{IPV4}|{IPV6})")
}

/// RFC 1123 labels; trailing dots are accepted, as `check::is_hostname` trims them.
pub fn hostname_pattern() -> String {
    format!(r"^{HOST_LABEL}(?:\.{HOST_LABEL})*\.*$")
}

pub fn ip_pattern() -> String {
    format!("^{}$", ip())
}

pub fn cidr_pattern() -> String {
    // The prefix length's range and leading zeros are ipnet's to judge ("/09" passes, "/024" not).
    format!("^{}/[0-9]+$", ip())
}

/// `FIRST-LAST`, as `[pools.NAME] range` is written.
pub fn ip_range_pattern() -> String {
    format!(r"^\s*{ip}\s*-\s*{ip}\s*$", ip = ip())
}

/// A resource, group or output name (`check::is_name`).
pub const NAME_PATTERN: &str = "^[a-z0-9][a-z0-9_-]{0,62}$";

/// `kind.name` (`Address::parse`).
pub const ADDRESS_PATTERN: &str = r"^[^.]+\.[^.]+$";

/// A secret setting's value (`is_secret_ref`): `env:NAME` or `file:PATH`.
pub const SECRET_REF_PATTERN: &str = r"^(?:env:[A-Za-z0-9_]+|file:[\s\S]+)$";

/// A string holding at least one `${kind.name.attribute}` or `${vars.NAME}`
/// (not escaped as `$${`): validate leaves such a value to the plan, which checks
/// it once the reference is resolved, so any attribute may be one.
pub fn reference_pattern() -> String {
    format!(
        r"(?:^|[^$])\$\{{\s*(?:vars\.{p}|{p}\.{p}\.{p})\s*\}}",
        p = REF_PART
    )
}

pub fn reference() -> Value {
    json!({
        "type": "string",
        "pattern": reference_pattern(),
        "description": "a reference, resolved at plan time: ${kind.name.attribute} or ${vars.NAME}",
    })
}

fn string(pattern: impl Into<String>) -> Value {
    json!({"type": "string", "pattern": pattern.into()})
}

fn path(pattern: &str) -> Value {
    // maxLength counts characters, never more than bytes: no stricter than the byte limit.
    json!({"type": "string", "pattern": pattern, "maxLength": MAX_PATH_BYTES})
}

/// A component that is neither empty, `.` nor `..`.
const REL_COMPONENT: &str = r"(?:[^/.]|[^/.][^/]|\.[^/.]|[^/]{3,})";
/// A component without whitespace or `;` that is not `..` (empty and `.` are fine).
const ABS_COMPONENT: &str = r"(?:[^/\s;.][^/\s;]*|\.|\.[^/\s;.][^/\s;]*|\.\.[^/\s;]+)?";

/// A literal value of `ty`, references aside.
pub fn literal(ty: Ty) -> Value {
    match ty {
        Ty::Str => json!({"type": "string"}),
        Ty::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::List => json!({"type": "array", "items": {"type": "string"}}),
        Ty::Map => json!({
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        }),
        Ty::Cidr => string(cidr_pattern()),
        Ty::Ip => string(ip_pattern()),
        Ty::Hostname | Ty::Zone => {
            json!({"type": "string", "pattern": hostname_pattern(), "maxLength": 253})
        }
        Ty::DnsName => string(r"^(?:@|\*|(?:\*\.)?[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*)$"),
        Ty::DnsType => json!({"type": "string", "enum": DNS_TYPES}),
        Ty::Url => string(r#"^https?://[^/?#\s"';{}`$\\][^\s"';{}`$\\]*$"#),
        Ty::RelPath => path(&format!("^{REL_COMPONENT}(?:/{REL_COMPONENT})*$")),
        Ty::AbsPath => path(&format!("^(?:/{ABS_COMPONENT})+$")),
        Ty::Mode => string("^[0-7]{3,4}$"),
        Ty::Name => string(NAME_PATTERN),
        Ty::Choice(words) => json!({"type": "string", "enum": words}),
        Ty::Domains => json!({
            "type": "array",
            "minItems": 1,
            "items": {"anyOf": [
                {
                    "type": "string",
                    "maxLength": 255,
                    "allOf": [
                        {"pattern": format!(r"^(?:\*\.)?{HOST_LABEL}(?:\.{HOST_LABEL})*\.*$")},
                        {"pattern": r"\."},
                    ],
                },
                {"$ref": REFERENCE_REF},
            ]},
        }),
    }
}

/// What an attribute may be written as: a literal of its type or a reference.
pub fn value(ty: Ty) -> Value {
    match ty {
        // A reference is a string already.
        Ty::Str => literal(ty),
        _ => json!({"anyOf": [literal(ty), {"$ref": REFERENCE_REF}]}),
    }
}

/// An attribute with its help, type, default and what a change of it does.
pub fn attribute(a: &Attr) -> Value {
    let mut schema = value(a.ty);
    let mut text = format!("{}: {}", a.help, a.ty.describe());
    if a.force_new {
        text.push_str("; a change replaces the object");
    }
    if a.sensitive {
        text.push_str("; shown as (sensitive) in plans");
    }
    let o = schema
        .as_object_mut()
        .expect("a type's schema is an object");
    o.insert("description".into(), text.into());
    if let Some(d) = a.default {
        o.insert("default".into(), d.value());
    }
    schema
}
