//! Validation of what depends on providers: each `[providers.NAME]` table against
//! its provider's typed settings, which provider serves each resource, per-resource
//! provider tables, and each provider's audit of the resources it serves. Runs
//! after the spec's own checks; every problem is a diagnostic with its location.

use std::collections::BTreeMap;

use infra_core::spec::load::closest;
use infra_core::spec::validate::is_secret_ref;
use infra_core::spec::{refs, schema};
use infra_core::spec::{Diagnostic, Diagnostics, Resource, Spec};

use crate::{check_settings, Context, Desired, Finding, ProviderInfo, Setting, Settings};

/// Settings every provider takes; the engine reads them, not the provider.
pub const COMMON_SETTINGS: &[Setting] = &[Setting::optional(
    "retries",
    "how often a call that failed transiently (429, 5xx, timeout) is retried, 0-10, default 4",
)];

#[derive(serde::Deserialize)]
struct Common {
    retries: Option<u32>,
}

impl Settings for Common {
    fn check(&self, _project: &std::path::Path) -> Vec<Finding> {
        match self.retries {
            Some(n) if n > 10 => vec![Finding::at("retries", "must be from 0 to 10")],
            _ => Vec::new(),
        }
    }
}

/// Every check `infra validate` runs: the spec's own, then the providers'.
pub fn validate(spec: &Spec, catalog: &[&ProviderInfo]) -> Diagnostics {
    validate_auditing(spec, catalog, &|_| true)
}

/// `validate`, with the providers' audit only for the resources `audited` picks:
/// `infra ask` audits what a request changes, so a problem the project already
/// had (which plan and apply report) does not block an unrelated request.
pub fn validate_auditing(
    spec: &Spec,
    catalog: &[&ProviderInfo],
    audited: &dyn Fn(&Resource) -> bool,
) -> Diagnostics {
    let mut d = infra_core::spec::validate::validate(spec);
    providers(spec, catalog, &mut d);
    let serves =
        |pkind: &str, kind: &str| catalog.iter().any(|i| i.kind == pkind && i.serves(kind));
    crate::identity::check(
        spec,
        &|r| {
            let p = spec.provider_for(r, serves)?;
            let support = catalog
                .iter()
                .find(|i| i.kind == p.kind)
                .and_then(|i| i.kind_support(&r.address.kind));
            Some((p.name.clone(), support))
        },
        &mut d,
    );
    for p in spec.providers.values() {
        let check = catalog
            .iter()
            .find(|i| i.kind == p.kind)
            .and_then(|i| i.check_spec);
        if let Some(check) = check {
            for diag in check(spec, p, catalog) {
                d.push(diag);
            }
        }
    }
    let mut contexts = BTreeMap::new();
    for r in &spec.resources {
        provider_of(spec, r, catalog, &mut d);
        if audited(r) {
            audit(spec, r, catalog, &mut contexts, &mut d);
        }
    }
    d
}

/// The audit of the provider serving `r`, on its literal values. A resource whose
/// values still hold `${...}` references is audited when the plan resolves them.
fn audit<'s>(
    spec: &'s Spec,
    r: &Resource,
    catalog: &[&ProviderInfo],
    contexts: &mut BTreeMap<&'s str, Context>,
    d: &mut Diagnostics,
) {
    let serves =
        |pkind: &str, kind: &str| catalog.iter().any(|i| i.kind == pkind && i.serves(kind));
    let Some(p) = spec.provider_for(r, serves) else {
        return;
    };
    let Some(info) = catalog.iter().find(|i| i.kind == p.kind) else {
        return;
    };
    let Some(check) = info.audit.filter(|_| info.serves(&r.address.kind)) else {
        return;
    };
    if r.attrs.values().any(refs::has_refs) {
        return;
    }
    // As apply will send it: schema defaults and derived values included.
    let mut attrs = r.attrs.clone();
    if let Some(kind) = schema::kind(&r.address.kind) {
        kind.fill_defaults(&mut attrs, |_| false);
    }
    schema::derive_computed(&r.address.kind, &mut attrs);
    let desired = Desired {
        address: r.address.to_string(),
        kind: r.address.kind.clone(),
        attrs,
        settings: r.settings.get(&p.kind).cloned().unwrap_or_default(),
    };
    let ctx = contexts.entry(p.name.as_str()).or_insert_with(|| Context {
        root: spec.root.clone(),
        project: spec.project.name.clone(),
        instance: p.name.clone(),
        settings: p.settings.clone(),
        peers: crate::Peers::default(),
    });
    for f in check(&desired, ctx) {
        let loc = f
            .key
            .as_ref()
            .and_then(|k| r.attr_locs.get(k))
            .cloned()
            .unwrap_or_else(|| r.loc.clone());
        // The spec's own checks (record data, a missing priority) already spoke
        // here: the audit saying it again in other words is noise.
        if d.items.iter().any(|x| x.loc.as_ref() == Some(&loc)) {
            continue;
        }
        d.push(
            Diagnostic::error(format!("`{}`: {}", r.address, f.message))
                .at(loc)
                .help(format!(
                    "the {} provider's audit: what its API would refuse or store in another form",
                    p.kind
                )),
        );
    }
}

fn providers(spec: &Spec, catalog: &[&ProviderInfo], d: &mut Diagnostics) {
    for p in spec.providers.values() {
        if p.kind.is_empty() {
            continue; // reported by the loader
        }
        let Some(info) = catalog.iter().find(|i| i.kind == p.kind) else {
            let known: Vec<_> = catalog.iter().map(|i| i.kind).collect();
            let hint = closest(&p.kind, known.iter().copied())
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            d.push(
                Diagnostic::error(format!("unknown provider kind `{}`", p.kind))
                    .at_opt(p.loc.clone())
                    .help(format!("{hint}known provider kinds: {}", known.join(", "))),
            );
            continue;
        };
        let before = d.items.len();
        for (name, value) in &p.settings {
            let loc = p.setting_locs.get(name).cloned();
            let known = info.settings.iter().chain(COMMON_SETTINGS);
            let Some(setting) = known.clone().find(|s| s.name == *name) else {
                let names: Vec<_> = known.map(|s| s.name).collect();
                d.push(
                    Diagnostic::error(format!(
                        "provider `{}` ({}) has no setting `{name}`",
                        p.name, p.kind
                    ))
                    .at_opt(loc)
                    .help(format!(
                        "settings of {}: {}",
                        p.kind,
                        names.join(", ")
                    )),
                );
                continue;
            };
            if setting.secret && !value.as_str().is_some_and(is_secret_ref) {
                d.push(Diagnostic::error(format!("`{name}` is a secret and must be a reference, not a literal value"))
                    .at_opt(loc)
                    .label("literal secret")
                    .help(format!("write {name} = \"env:VARIABLE\" (or \"file:/path\") and keep the value out of the repository")));
            }
        }
        for s in info
            .settings
            .iter()
            .filter(|s| s.required && !p.settings.contains_key(s.name))
        {
            d.push(
                Diagnostic::error(format!("provider `{}` needs setting `{}`", p.name, s.name))
                    .at_opt(p.loc.clone())
                    .help(format!("{} = ...  # {}", s.name, s.help)),
            );
        }
        // Types and values, once every name is right (so a missing or unknown
        // setting is reported once, above, not again by the parser).
        if d.items.len() == before {
            let common = check_settings::<Common>(&p.settings, &spec.root);
            for f in common
                .into_iter()
                .chain((info.check_settings)(&p.settings, &spec.root))
            {
                let loc = f.key.as_ref().and_then(|k| p.setting_locs.get(k)).cloned();
                d.push(
                    Diagnostic::error(format!("provider `{}` ({}): {f}", p.name, p.kind))
                        .at_opt(loc.or_else(|| p.loc.clone())),
                );
            }
        }
    }
}

fn provider_of(spec: &Spec, r: &Resource, catalog: &[&ProviderInfo], d: &mut Diagnostics) {
    let serves =
        |pkind: &str, kind: &str| catalog.iter().any(|i| i.kind == pkind && i.serves(kind));
    let kind = &r.address.kind;
    match &r.provider {
        Some(name) => {
            let loc = r
                .attr_locs
                .get("provider")
                .cloned()
                .unwrap_or(r.loc.clone());
            match spec.providers.get(name) {
                None => {
                    let hint = closest(name, spec.providers.keys().map(String::as_str))
                        .map(|c| format!("did you mean `{c}`? "))
                        .unwrap_or_default();
                    d.push(
                        Diagnostic::error(format!(
                            "`{}` uses provider `{name}`, which is not declared",
                            r.address
                        ))
                        .at(loc)
                        .help(format!(
                            "{hint}declare it as [providers.{name}] in infra.toml"
                        )),
                    );
                }
                Some(p)
                    if !p.kind.is_empty()
                        && catalog.iter().any(|i| i.kind == p.kind)
                        && !serves(&p.kind, kind) =>
                {
                    d.push(
                        Diagnostic::error(format!(
                            "provider `{name}` ({}) does not serve kind `{kind}`",
                            p.kind
                        ))
                        .at(loc)
                        .help(format!(
                            "kinds served by {}: {}",
                            p.kind,
                            served_by(catalog, &p.kind)
                        )),
                    );
                }
                Some(_) => {}
            }
        }
        None => {
            let candidates: Vec<_> = spec
                .providers
                .values()
                .filter(|p| serves(&p.kind, kind))
                .map(|p| p.name.as_str())
                .collect();
            match candidates.len() {
                1 => {}
                0 => {
                    let kinds: Vec<_> = catalog
                        .iter()
                        .filter(|i| i.serves(kind))
                        .map(|i| i.kind)
                        .collect();
                    d.push(
                        Diagnostic::error(format!("no provider serves `{}`", r.address))
                            .at(r.loc.clone())
                            .help(format!(
                                "declare a provider of kind {} in infra.toml",
                                kinds.join(" or ")
                            )),
                    );
                }
                _ => d.push(
                    Diagnostic::error(format!(
                        "several providers serve `{kind}`: {}",
                        candidates.join(", ")
                    ))
                    .at(r.loc.clone())
                    .help(format!("choose one with provider = \"{}\"", candidates[0])),
                ),
            }
        }
    }
    for (name, settings) in &r.settings {
        let Some(info) = catalog.iter().find(|i| i.kind == name) else {
            d.push(
                Diagnostic::error(format!(
                    "`{}` has a table `{name}`, which is not a provider kind",
                    r.address
                ))
                .at(r.loc.clone())
                .help("nested tables hold provider-specific settings, e.g. [container.web.docker]"),
            );
            continue;
        };
        let support = info.kind_support(kind);
        let known = support.map_or(&[][..], |k| k.settings);
        for (key, value) in settings {
            let loc = r
                .attr_locs
                .get(&format!("{name}.{key}"))
                .cloned()
                .unwrap_or_else(|| r.loc.clone());
            if !known.contains(&key.as_str()) {
                let help = if known.is_empty() {
                    format!("the {name} provider takes no [{kind}.NAME.{name}] settings")
                } else {
                    format!("known: {}", known.join(", "))
                };
                d.push(
                    Diagnostic::error(format!("unknown setting `{key}` in [{}.{name}]", r.address))
                        .at(loc)
                        .help(help),
                );
            } else if let Some(Err(e)) = support.map(|s| (s.check_setting)(key, value)) {
                d.push(Diagnostic::error(format!("[{}.{name}] {key}: {e}", r.address)).at(loc));
            }
        }
    }
}

fn served_by(catalog: &[&ProviderInfo], pkind: &str) -> String {
    catalog
        .iter()
        .find(|i| i.kind == pkind)
        .map(|i| {
            i.kinds
                .iter()
                .map(|k| k.kind)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
