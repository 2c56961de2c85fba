//! What an interpreter may know about the current spec: names, groups and a
//! compact text view. Sensitive attributes and secret references are left out.

use std::collections::BTreeSet;

use crate::spec::{schema, Spec, Value};

#[derive(Debug, Default, Clone)]
pub struct SpecNames {
    /// Every resource address, `kind.name`.
    pub addresses: BTreeSet<String>,
    /// Resource names (without kind).
    pub names: BTreeSet<String>,
    pub groups: BTreeSet<String>,
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
        n
    }

    /// The existing group or resource name a request mentions (longest match wins):
    /// "tear down the API scanner" finds group `api-scanner`.
    pub fn mentioned(&self, request_tokens: &[String]) -> Option<String> {
        let joined = format!(" {} ", request_tokens.join(" "));
        let mut best: Option<&String> = None;
        for cand in self.groups.iter().chain(self.names.iter()).chain(self.addresses.iter()) {
            let spaced = format!(" {} ", cand.replace(['-', '_'], " "));
            let exact = format!(" {cand} ");
            if (joined.contains(&spaced) || joined.contains(&exact)) && best.is_none_or(|b| cand.len() > b.len()) {
                best = Some(cand);
            }
        }
        best.cloned()
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
            .filter(|(_, v)| !v.as_str().is_some_and(|x| x.starts_with("env:") || x.starts_with("file:")))
            .map(|(k, v)| match v {
                Value::String(x) => format!("{k}={x}"),
                other => format!("{k}={other}"),
            })
            .collect();
        let group = r.group.as_deref().map(|g| format!(" group={g}")).unwrap_or_default();
        out.push_str(&format!("{}{group} {}\n", r.address, attrs.join(" ")));
    }
    if out.is_empty() {
        out.push_str("(the spec is empty)\n");
    }
    out
}
