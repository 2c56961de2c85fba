//! A certificate as files in the certificate directory:
//!
//! ```text
//! {project}--{name}.crt   # infra:PROJECT/certificate.NAME (managed by infra; ...)
//!                         # infra-attrs: {"challenge":"dns-01",...}
//!                         -----BEGIN CERTIFICATE----- ... (the chain, leaf first)
//! {project}--{name}.key   # infra:PROJECT/certificate.NAME
//!                         the PEM private key block ... (mode 0600)
//! ```
//! OpenSSL (so nginx) skips text before a PEM block, so the marker can live in
//! the files themselves. What the certificate says (its names, expiry and
//! fingerprint) is read from the certificate, never from the header: the header
//! keeps only what a certificate cannot tell (challenge, directory, contact, key
//! type, renew-before).

use serde_json::Value;
use sha2::{Digest, Sha256};

use infra_core::spec::Attrs;
use infra_core::time::format_utc;
use infra_kit::{marker, parse_marker};

const ATTRS_PREFIX: &str = "# infra-attrs: ";

/// Attributes kept in the header (the rest come from the certificate).
/// `domains` is there only for its order: a CA may list the names in another.
pub const HEADER_ATTRS: &[&str] = &[
    "domains",
    "challenge",
    "directory",
    "contact",
    "key_type",
    "renew_before",
];

/// What a certificate chain says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// Subject alternative names, in the certificate's order.
    pub domains: Vec<String>,
    /// Unix time.
    pub not_after: i64,
    /// SHA-256 of the leaf (DER), lowercase hex.
    pub fingerprint: String,
}

/// Read the leaf of a PEM chain.
pub fn facts(pem: &[u8]) -> Result<Facts, String> {
    let (_, block) =
        x509_parser::pem::parse_x509_pem(pem).map_err(|e| format!("no PEM certificate: {e}"))?;
    let cert = block
        .parse_x509()
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let mut domains = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(d) = name {
                domains.push(d.to_string());
            }
        }
    }
    Ok(Facts {
        domains,
        not_after: cert.validity().not_after.timestamp(),
        fingerprint: hex(&Sha256::digest(&block.contents)),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A certificate's `domains` attribute (empty when missing or not a list).
pub fn domains(attrs: &Attrs) -> Vec<String> {
    attrs
        .get("domains")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The `.crt` file: marker, header attributes, chain.
pub fn render_cert(project: &str, address: &str, attrs: &Attrs, chain: &str) -> String {
    let header: serde_json::Map<String, Value> = HEADER_ATTRS
        .iter()
        .filter_map(|k| attrs.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    format!(
        "# {} (managed by infra; changes here are overwritten)\n{ATTRS_PREFIX}{}\n{}",
        marker(project, address),
        Value::Object(header),
        chain.trim_start()
    )
}

/// The `.key` file: marker, then the key.
pub fn render_key(project: &str, address: &str, key_pem: &str) -> String {
    format!("# {}\n{}", marker(project, address), key_pem.trim_start())
}

/// The owner named on the first line, if it is this project's.
pub fn owner(project: &str, data: &[u8]) -> Option<String> {
    let first = data.split(|b| *b == b'\n').next()?;
    let first = std::str::from_utf8(first).ok()?;
    let text = first.strip_prefix("# ")?;
    let text = text.split(' ').next()?;
    parse_marker(project, text).map(str::to_string)
}

/// Owner and attributes of a `.crt` file. A file whose certificate cannot be
/// read reports no attributes but `unreadable`, so the plan issues it again.
pub fn read_back(project: &str, data: &[u8]) -> (Option<String>, Attrs) {
    let owner = owner(project, data);
    let mut attrs = Attrs::new();
    let text = String::from_utf8_lossy(data);
    if let Some(line) = text.lines().find_map(|l| l.strip_prefix(ATTRS_PREFIX)) {
        if let Ok(Value::Object(header)) = serde_json::from_str::<Value>(line) {
            for (k, v) in header {
                if HEADER_ATTRS.contains(&k.as_str()) {
                    attrs.insert(k, v);
                }
            }
        }
    }
    match facts(data) {
        Ok(f) => {
            let mut listed = domains(&attrs);
            let mut issued = f.domains.clone();
            for names in [&mut listed, &mut issued] {
                names.iter_mut().for_each(|n| *n = n.to_ascii_lowercase());
                names.sort();
            }
            if listed != issued {
                attrs.insert("domains".into(), Value::from(f.domains));
            }
            attrs.insert("not_after".into(), Value::from(format_utc(f.not_after)));
            attrs.insert("fingerprint".into(), Value::from(f.fingerprint));
        }
        Err(e) => {
            attrs.insert("unreadable".into(), Value::from(e));
        }
    }
    (owner, attrs)
}
