//! What an interpreter may know about the current spec: names, groups and a
//! compact text view. Sensitive attributes and secret references are left out.

use std::collections::BTreeSet;

use infra_core::spec::{schema, Spec, Value};

#[derive(Debug, Default, Clone)]
pub struct SpecNames {
    /// Every resource address, `kind.name`.
    pub addresses: BTreeSet<String>,
    /// Resource names (without kind).
    pub names: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    /// Provider instance names ("on pve1").
    pub providers: BTreeSet<String>,
}

impl SpecNames {
    pub fn of(spec: &Spec) -> SpecNames {
        let mut n = SpecNames::default();
        for r in &spec.resources {
            n.addresses.insert(r.address.to_string());
            n.names.insert(r.address.name.clone());
            if let Some(g) = &r.group {
                n.groups.insert(g.clone());
            }
        }
        n.providers = spec.providers.keys().cloned().collect();
        n
    }

    /// What a request names among existing things, most specific first:
    /// an address (`container.redis`, or "the redis container"), `group:NAME`,
    /// a group, then a resource name. "tear down the API scanner" finds `api-scanner`.
    pub fn mentioned(&self, request_tokens: &[String]) -> Option<String> {
        let joined = format!(" {} ", request_tokens.join(" "));
        let said = |name: &str| {
            joined.contains(&format!(" {} ", name.replace(['-', '_'], " ")))
                || joined.contains(&format!(" {name} "))
        };
        let longest = |it: &mut dyn Iterator<Item = String>| it.max_by_key(|c| c.len());
        if let Some(a) = longest(
            &mut self
                .addresses
                .iter()
                .filter(|a| joined.contains(&format!(" {a} ")))
                .cloned(),
        ) {
            return Some(a);
        }
        if let Some(g) = longest(
            &mut self
                .groups
                .iter()
                .filter(|g| joined.contains(&format!(" group:{g} ")))
                .map(|g| format!("group:{g}")),
        ) {
            return Some(g);
        }
        // "the DNS record for nas": a kind word plus a name picks that one resource.
        let qualified = self.addresses.iter().filter(|a| {
            let (kind, name) = a.split_once('.').unwrap_or((a.as_str(), ""));
            said(name)
                && kind_words(kind)
                    .iter()
                    .any(|w| joined.contains(&format!(" {w} ")))
        });
        if let Some(a) = longest(&mut qualified.cloned()) {
            return Some(a);
        }
        longest(&mut self.groups.iter().filter(|g| said(g)).cloned())
            .or_else(|| longest(&mut self.names.iter().filter(|n| said(n)).cloned()))
    }
}

impl SpecNames {
    /// A provider instance the request names ("create a container on pve1").
    /// Only "on NAME" / "via NAME" / "using NAME" counts: a service may share a provider's name.
    pub fn provider_mentioned(&self, request_tokens: &[String]) -> Option<String> {
        request_tokens
            .windows(2)
            .find(|w| {
                ["on", "via", "using"].contains(&w[0].as_str()) && self.providers.contains(&w[1])
            })
            .map(|w| w[1].clone())
    }
}

/// Words people use for a kind.
fn kind_words(kind: &str) -> &'static [&'static str] {
    match kind {
        "container" => &["container", "lxc", "ct"],
        "vm" => &["vm", "virtual machine"],
        "dns_record" => &["dns", "record", "dns_record"],
        "proxy_site" => &["proxy", "site", "proxy_site"],
        "monitor" => &["monitor", "check", "monitoring"],
        "file" => &["file"],
        _ => &[],
    }
}

/// A compact, secret-free view of the spec for models.
pub fn compact(spec: &Spec) -> String {
    let mut out = String::new();
    if let Some(d) = &spec.project.domain {
        out.push_str(&format!("project {} (domain {d})\n", spec.project.name));
    }
    for p in spec.providers.values() {
        out.push_str(&format!("provider {} kind={}\n", p.name, p.kind));
    }
    for p in spec.pools.values() {
        if let Some(c) = p.cidr {
            out.push_str(&format!("pool {} {c}\n", p.name));
        }
    }
    for r in &spec.resources {
        let s = schema::kind(&r.address.kind);
        let attrs: Vec<String> = r
            .attrs
            .iter()
            .filter(|(k, _)| !s.is_some_and(|s| s.is_sensitive(k)) && *k != "content")
            .filter(|(_, v)| {
                !v.as_str()
                    .is_some_and(|x| x.starts_with("env:") || x.starts_with("file:"))
            })
            // Validation refuses secret-shaped values; a model still never sees one.
            .map(|(k, v)| match v {
                Value::String(x) => format!("{k}={}", masked(x)),
                other => format!("{k}={}", masked(&other.to_string())),
            })
            .collect();
        let group = r
            .group
            .as_deref()
            .map(|g| format!(" group={g}"))
            .unwrap_or_default();
        out.push_str(&format!("{}{group} {}\n", r.address, attrs.join(" ")));
    }
    if out.is_empty() {
        out.push_str("(the spec is empty)\n");
    }
    out
}

fn masked(value: &str) -> String {
    infra_core::secrets::mask(value, "[REDACTED]").0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    #[test]
    fn secret_shaped_values_never_reach_a_model() {
        let toml = "[project]\nname = \"t\"\n\n[container.db]\nhostname = \"db\"\nimage = \"postgres:16\"\ncommand = \"migrate postgres://app:hunter22@db.lan/app\"\n";
        let (spec, _) = infra_core::spec::load::load_texts(
            Path::new("/nonexistent"),
            vec![(PathBuf::from("infra.toml"), toml.to_string())],
        );
        let view = compact(&spec);
        assert!(view.contains("image=postgres:16"), "{view}");
        assert!(
            view.contains("postgres://app:[REDACTED]@db.lan/app"),
            "{view}"
        );
        assert!(!view.contains("hunter22"), "{view}");
    }
}
