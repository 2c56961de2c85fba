//! What `infra validate` can tell about certificates from the spec alone: the
//! challenge has a provider to answer it, http-01 is not asked to prove a
//! wildcard, and every name lies in a zone the DNS provider serves.

use std::collections::BTreeSet;

use serde_json::Value;

use infra_core::spec::schema::kinds;
use infra_core::spec::{refs, Diagnostic, ProviderConfig, Resource, Spec};
use infra_kit::ProviderInfo;

pub fn check(spec: &Spec, p: &ProviderConfig, catalog: &[&ProviderInfo]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(w) = super::written(&p.settings, &spec.root) else {
        return out; // the settings' own errors are reported already
    };
    let serves =
        |pkind: &str, kind: &str| catalog.iter().any(|i| i.kind == pkind && i.serves(kind));
    let dns = peer(
        spec,
        p,
        &serves,
        ("dns", w.dns.as_ref()),
        kinds::DNS_RECORD,
        &mut out,
    );
    let proxy = peer(
        spec,
        p,
        &serves,
        ("proxy", w.proxy.as_ref()),
        kinds::PROXY_SITE,
        &mut out,
    );
    let zones = dns.map(|d| zones_of(spec, d, &serves));

    for r in spec
        .resources
        .iter()
        .filter(|r| r.address.kind == kinds::CERTIFICATE)
    {
        if spec.provider_for(r, serves).map(|c| c.name.as_str()) != Some(p.name.as_str()) {
            continue;
        }
        let at = |attr: &str| {
            r.attr_locs
                .get(attr)
                .cloned()
                .unwrap_or_else(|| r.loc.clone())
        };
        let challenge = match r.attrs.get("challenge") {
            Some(Value::String(s)) if !refs::has_refs(&Value::from(s.as_str())) => s.as_str(),
            Some(_) => continue,
            None => "dns-01",
        };
        let domains = literal_domains(r);
        match challenge {
            "http-01" => {
                if let Some(w) = domains.iter().find(|d| d.starts_with("*.")) {
                    out.push(
                        Diagnostic::error(format!(
                            "`{}`: http-01 cannot prove a wildcard name ({w}): the CA checks one host, not every name below it",
                            r.address
                        ))
                        .at(at("domains"))
                        .help("use challenge = \"dns-01\" for wildcard certificates"),
                    );
                }
                if w.proxy.is_none() {
                    out.push(
                        Diagnostic::error(format!(
                            "`{}`: http-01 is answered by the web server, and provider `{}` names none",
                            r.address, p.name
                        ))
                        .at(at("challenge"))
                        .help(format!("set `proxy = \"NGINX-PROVIDER\"` in [providers.{}]", p.name)),
                    );
                } else if let Some(c) = proxy.filter(|c| !c.settings.contains_key("challenge_dir"))
                {
                    out.push(
                        Diagnostic::error(format!(
                            "`{}`: http-01 answers are files nginx serves from its `challenge_dir`, and provider `{}` has none",
                            r.address, c.name
                        ))
                        .at(at("challenge"))
                        .help(format!("set `challenge_dir` in [providers.{}]", c.name)),
                    );
                }
            }
            _ => {
                if w.dns.is_none() {
                    out.push(
                        Diagnostic::error(format!(
                            "`{}`: dns-01 is answered with a TXT record, and provider `{}` names no DNS provider",
                            r.address, p.name
                        ))
                        .at(at("challenge"))
                        .help(format!("set `dns = \"DNS-PROVIDER\"` in [providers.{}]", p.name)),
                    );
                }
                let Some((zones, from)) = zones.as_ref().filter(|(z, _)| !z.is_empty()) else {
                    continue;
                };
                let zones: Vec<String> = zones.iter().cloned().collect();
                for d in &domains {
                    let name = d.strip_prefix("*.").unwrap_or(d);
                    if super::place(name, &zones).is_none() {
                        out.push(
                            Diagnostic::error(format!(
                                "`{}`: {d} is in none of the zones provider `{}` serves ({})",
                                r.address,
                                w.dns.as_deref().unwrap_or_default(),
                                zones.join(", ")
                            ))
                            .at(at("domains"))
                            .help(format!("the zones are {from}; a name outside them cannot get its challenge record")),
                        );
                    }
                }
            }
        }
    }
    out
}

/// The provider a setting names, if it exists and serves `kind`.
fn peer<'s>(
    spec: &'s Spec,
    p: &ProviderConfig,
    serves: &dyn Fn(&str, &str) -> bool,
    (setting, name): (&str, Option<&String>),
    kind: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<&'s ProviderConfig> {
    let name = name?;
    let loc = p.setting_locs.get(setting).cloned().or(p.loc.clone());
    let problem = match spec.providers.get(name) {
        Some(c) if serves(&c.kind, kind) => return Some(c),
        Some(c) => format!("a {} provider, which serves no {kind}", c.kind),
        None => "which infra.toml does not declare".to_string(),
    };
    out.push(
        Diagnostic::error(format!(
            "provider `{}`: `{setting}` names `{name}`, {problem}",
            p.name
        ))
        .at_opt(loc),
    );
    None
}

fn literal_domains(r: &Resource) -> Vec<String> {
    match r.attrs.get("domains") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !refs::has_refs(&Value::from(*s)))
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

/// The zones a DNS provider is known to serve, and where that is known from:
/// its `zones` setting, else the zones of its records in the spec and the
/// project's domain.
fn zones_of(
    spec: &Spec,
    dns: &ProviderConfig,
    serves: &dyn Fn(&str, &str) -> bool,
) -> (BTreeSet<String>, String) {
    let lower = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
    match dns.settings.get("zones") {
        Some(Value::String(z)) => return ([lower(z)].into(), "its `zones` setting".to_string()),
        Some(Value::Array(items)) => {
            let zones = items.iter().filter_map(Value::as_str).map(lower).collect();
            return (zones, "its `zones` setting".to_string());
        }
        _ => {}
    }
    let mut zones: BTreeSet<String> = spec
        .resources
        .iter()
        .filter(|r| r.address.kind == kinds::DNS_RECORD)
        .filter(|r| {
            spec.provider_for(r, serves).map(|c| c.name.as_str()) == Some(dns.name.as_str())
        })
        .filter_map(|r| r.attrs.get("zone").and_then(Value::as_str))
        .filter(|z| !refs::has_refs(&Value::from(*z)))
        .map(lower)
        .collect();
    zones.extend(spec.project.domain.as_deref().map(lower));
    (
        zones,
        format!(
            "those of its records in the spec and the project's domain (a `zones` setting on [providers.{}] says exactly)",
            dns.name
        ),
    )
}
