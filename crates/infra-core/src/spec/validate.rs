//! Offline validation of a loaded spec: schemas, references, cycles, pools.
//! What providers declare is checked by `infra_kit::validate`, which runs this first.
//! Every problem becomes a diagnostic; nothing stops at the first one.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use petgraph::graphmap::DiGraphMap;

use super::load::closest;
use super::refs::{self, Ref};
use super::schema::{self, Ty, META_ATTRS};
use super::{check, Address, Diagnostic, Diagnostics, Spec, Value};

/// Is this string a secret reference?
pub fn is_secret_ref(s: &str) -> bool {
    s.strip_prefix("env:")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        || s.strip_prefix("file:").is_some_and(|p| !p.is_empty())
}

/// Checks that need no provider: schemas, references, cycles, pools. The kit's
/// `validate` adds the provider checks (settings, kinds served, audits).
pub fn validate(spec: &Spec) -> Diagnostics {
    let mut d = Diagnostics::default();
    for r in &spec.resources {
        attributes(spec, r, &mut d);
    }
    references(spec, &mut d);
    super::outputs::validate(spec, &mut d);
    vars(spec, &mut d);
    secrets_by_value(spec, &mut d);
    cycles(spec, &mut d);
    pools(spec, &mut d);
    d
}

fn attributes(spec: &Spec, r: &super::Resource, d: &mut Diagnostics) {
    let schema = schema::kind(&r.address.kind).expect("loader only keeps known kinds");
    for (name, value) in &r.attrs {
        let loc = r.attr_locs.get(name).cloned();
        let Some(attr) = schema.attr(name) else {
            let candidates = schema.attr_names().chain(META_ATTRS.iter().copied());
            let hint = closest(name, candidates)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            let known: Vec<_> = schema
                .attrs
                .iter()
                .filter(|a| !a.computed)
                .map(|a| a.name)
                .collect();
            d.push(
                Diagnostic::error(format!("`{}` has no attribute `{name}`", r.address.kind))
                    .at_opt(loc)
                    .label("unknown attribute")
                    .help(format!(
                        "{hint}attributes of {}: {}",
                        r.address.kind,
                        known.join(", ")
                    )),
            );
            continue;
        };
        if attr.computed {
            d.push(
                Diagnostic::error(format!(
                    "`{name}` is computed by the provider and cannot be set"
                ))
                .at_opt(loc)
                .help(format!(
                    "remove it; refer to it as ${{{}.{name}}}",
                    r.address
                )),
            );
            continue;
        }
        if refs::has_refs(value) {
            continue; // checked after resolution, at plan time
        }
        let path_problem = match (attr.ty, value) {
            (Ty::RelPath | Ty::AbsPath, Value::String(s)) => check::path_problem(s),
            _ => None,
        };
        if let Some(why) = path_problem {
            d.push(
                Diagnostic::error(format!("`{name}` {why}"))
                    .at_opt(loc.clone())
                    .label("invalid path")
                    .help(attr.help),
            );
        } else if let Err(expected) = check::check(attr.ty, value) {
            let msg = if expected.contains("out of range") {
                format!("`{name}`: {expected}")
            } else {
                format!("`{name}` must be {expected}, found {}", describe(value))
            };
            d.push(
                Diagnostic::error(msg)
                    .at_opt(loc.clone())
                    .label("invalid value")
                    .help(attr.help),
            );
        }
        if attr.sensitive {
            // Sensitive values are written as references so the secret stays out of git.
            literal_secrets(value, r.attr_locs.get(name).cloned(), name, d);
        }
    }
    for attr in schema
        .attrs
        .iter()
        .filter(|a| a.required && !r.attrs.contains_key(a.name))
    {
        d.push(
            Diagnostic::error(format!(
                "`{}` is missing required attribute `{}`",
                r.address, attr.name
            ))
            .at(r.loc.clone())
            .help(format!("add {} = ...  # {}", attr.name, attr.help)),
        );
    }
    for group in schema.one_of {
        let set: Vec<_> = group
            .attrs
            .iter()
            .filter(|a| r.attrs.contains_key(**a))
            .collect();
        if set.is_empty() || (group.exclusive && set.len() > 1) {
            let list = group.attrs.join(" or ");
            let msg = if set.is_empty() {
                format!("`{}` needs {list}", r.address)
            } else {
                format!("`{}` sets both {list}; set only one", r.address)
            };
            d.push(
                Diagnostic::error(msg)
                    .at(r.loc.clone())
                    .help(format!("{} takes {}", r.address.kind, list)),
            );
        }
    }
    if r.address.kind == schema::kinds::DNS_RECORD {
        super::dns_check::check(r, d);
    }
    let _ = spec;
}

/// Any string of the spec that has a secret's shape (a token prefix, a password
/// in a URL, a PEM key, a webhook) is refused where it is written, whatever key
/// holds it: the spec is committed and shown in plans and prompts.
fn secrets_by_value(spec: &Spec, d: &mut Diagnostics) {
    let mut places: Vec<(String, &Value, Option<super::Loc>)> = Vec::new();
    for r in &spec.resources {
        for (name, v) in &r.attrs {
            places.push((
                format!("`{}`: `{name}`", r.address),
                v,
                r.attr_locs.get(name).cloned(),
            ));
        }
        for (pkind, settings) in &r.settings {
            for (name, v) in settings {
                let key = format!("{pkind}.{name}");
                let loc = r.attr_locs.get(&key).cloned();
                places.push((format!("`{}`: `{key}`", r.address), v, loc));
            }
        }
    }
    for p in spec.providers.values() {
        for (name, v) in &p.settings {
            places.push((
                format!("provider `{}`: `{name}`", p.name),
                v,
                p.setting_locs.get(name).cloned(),
            ));
        }
    }
    for (name, v) in &spec.vars {
        places.push((
            format!("`vars.{name}`"),
            v,
            spec.var_locs.get(name).cloned(),
        ));
    }
    for (name, v) in &spec.ai {
        let loc = spec.ai_locs.get(name).cloned();
        if looks_secret(name) && v.as_str().is_some_and(|s| !is_secret_ref(s)) {
            d.push(
                Diagnostic::error(format!("`ai.{name}` is a literal secret"))
                    .at_opt(loc)
                    .help(format!(
                        "write {name} = \"env:NAME\" and set the variable where infra runs"
                    )),
            );
            continue;
        }
        places.push((format!("`ai.{name}`"), v, loc));
    }
    for (what, value, loc) in places {
        let mut strings = Vec::new();
        collect_strings(value, &mut strings);
        if let Some(kind) = strings
            .iter()
            .find_map(|s| crate::secrets::find(s).map(|(_, k)| k))
        {
            d.push(
                Diagnostic::error(format!("{what} holds {kind}, written out in the spec"))
                    .at_opt(loc)
                    .help("secrets never go in the spec (it is committed, planned and shown to models): keep it in the environment and write \"env:NAME\" where a setting takes a reference"),
            );
        }
    }
}

fn literal_secrets(value: &Value, loc: Option<super::Loc>, name: &str, d: &mut Diagnostics) {
    if let Value::Object(m) = value {
        for (k, v) in m {
            if looks_secret(k)
                && v.as_str()
                    .is_some_and(|s| !is_secret_ref(s) && !refs::has_refs(v))
            {
                d.push(
                    Diagnostic::error(format!(
                        "`{name}.{k}` looks like a secret and must be a reference"
                    ))
                    .at_opt(loc.clone())
                    .help(format!(
                        "write {k} = \"env:{k}\" and set the variable where infra runs"
                    )),
                );
            }
        }
    }
}

fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "private_key",
    ]
    .iter()
    .any(|s| k.contains(s))
}

fn describe(v: &Value) -> String {
    match v {
        // Debug form: a control or bidi character is shown escaped, never acted on.
        Value::String(s) if s.len() <= 40 => format!("{s:?}"),
        other => check::type_name(other).to_string(),
    }
}

/// The size of a string value with its `${vars.x}` filled in (None: no such reference).
fn size_with_vars(spec: &Spec, value: &Value) -> Option<usize> {
    let Value::String(s) = value else { return None };
    let found = refs::find(s).ok()?;
    let mut size = s.len();
    let mut any = false;
    for (r, range) in found {
        if let Ref::Var(name) = r {
            let len = match spec.vars.get(&name) {
                Some(Value::String(v)) => v.len(),
                Some(v) => v.to_string().len(),
                None => 0,
            };
            size = size.saturating_sub(range.len()).saturating_add(len);
            any = true;
        }
    }
    any.then_some(size)
}

/// `[vars]` are plain values: a reference inside one is never substituted (it
/// would reach a file as the literal text `${vars.y}`), and two that name each
/// other would be a cycle. Either is refused where it is written.
fn vars(spec: &Spec, d: &mut Diagnostics) {
    for (name, value) in &spec.vars {
        let mut strings = Vec::new();
        collect_strings(value, &mut strings);
        let first = strings
            .iter()
            .filter_map(|s| refs::find(s).ok())
            .find_map(|found| found.into_iter().next());
        if let Some((reference, _)) = first {
            let shown = format!("`${{{reference}}}`");
            d.push(
                Diagnostic::error(format!("`vars.{name}` contains the reference {shown}; variables are plain values and are not resolved"))
                    .at_opt(spec.var_locs.get(name).cloned())
                    .help("write the value itself; references work in resource attributes"),
            );
        }
    }
}

fn references(spec: &Spec, d: &mut Diagnostics) {
    for r in &spec.resources {
        for (name, value) in &r.attrs {
            let loc = r.attr_locs.get(name).cloned();
            if let Some(size) = size_with_vars(spec, value).filter(|n| *n > refs::MAX_VALUE_BYTES) {
                d.push(
                    Diagnostic::error(format!(
                        "`{name}` would be {} MiB once its variables are filled in; the most a value may be is {} MiB",
                        size >> 20,
                        refs::MAX_VALUE_BYTES >> 20
                    ))
                    .at_opt(loc.clone())
                    .help("a value this large is a mistake; keep large content in a template file"),
                );
                continue;
            }
            let mut strings = Vec::new();
            collect_strings(value, &mut strings);
            for s in strings {
                let found = match refs::find(s) {
                    Ok(found) => found,
                    Err((msg, _)) => {
                        d.push(Diagnostic::error(msg).at_opt(loc.clone()).help("references look like ${kind.name.attribute} or ${vars.NAME}; write $${ for a literal ${"));
                        continue;
                    }
                };
                for (reference, _) in found {
                    check_ref(spec, r, &reference, loc.clone(), d);
                }
            }
        }
        for (dep, loc) in &r.depends_on {
            match Address::parse(dep) {
                Some(a) if spec.index.contains_key(&a) => {}
                Some(_) => d.push(
                    Diagnostic::error(format!("`depends_on` names `{dep}`, which is not declared"))
                        .at(loc.clone())
                        .help(similar_address(spec, dep)),
                ),
                None => d.push(
                    Diagnostic::error(format!("`{dep}` is not a resource address"))
                        .at(loc.clone())
                        .help("addresses look like kind.name"),
                ),
            }
        }
    }
}

fn check_ref(
    spec: &Spec,
    r: &super::Resource,
    reference: &Ref,
    loc: Option<super::Loc>,
    d: &mut Diagnostics,
) {
    match reference {
        Ref::Var(name) => {
            if !spec.vars.contains_key(name) {
                d.push(
                    Diagnostic::error(format!("reference to undefined variable `vars.{name}`"))
                        .at_opt(loc)
                        .help(format!(
                            "define it under [vars] in infra.toml: {name} = ..."
                        )),
                );
            }
        }
        Ref::Attr { address, attr } => {
            if spec.resource(address).is_none() {
                d.push(
                    Diagnostic::error(format!(
                        "`{}` refers to `{address}`, which is not declared",
                        r.address
                    ))
                    .at_opt(loc)
                    .label("missing resource")
                    .help(similar_address(spec, &address.to_string())),
                );
                return;
            }
            let schema = schema::kind(&address.kind).expect("declared resources have known kinds");
            if schema.attr(attr).is_none() {
                let names: Vec<_> = schema.attr_names().collect();
                d.push(
                    Diagnostic::error(format!("`{address}` has no attribute `{attr}`"))
                        .at_opt(loc)
                        .label("unknown attribute")
                        .help(format!(
                            "attributes of {}: {}",
                            address.kind,
                            names.join(", ")
                        )),
                );
            }
        }
    }
}

fn similar_address(spec: &Spec, wanted: &str) -> String {
    let all: Vec<String> = spec.index.keys().map(|a| a.to_string()).collect();
    match closest(wanted, all.iter().map(String::as_str)) {
        Some(c) => format!("did you mean `{c}`?"),
        None => "declare the resource or fix the address".into(),
    }
}

fn collect_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// The dependency edges of each resource: references plus `depends_on`.
pub fn dependencies(spec: &Spec) -> BTreeMap<Address, BTreeSet<Address>> {
    let mut deps = BTreeMap::new();
    for r in &spec.resources {
        let mut set = BTreeSet::new();
        let mut found = Vec::new();
        for v in r.attrs.values() {
            refs::refs_in(v, &mut found);
        }
        for reference in found {
            if let Ref::Attr { address, .. } = reference {
                if spec.index.contains_key(&address) {
                    set.insert(address);
                }
            }
        }
        for (dep, _) in &r.depends_on {
            if let Some(a) = Address::parse(dep).filter(|a| spec.index.contains_key(a)) {
                set.insert(a);
            }
        }
        deps.insert(r.address.clone(), set);
    }
    deps
}

fn cycles(spec: &Spec, d: &mut Diagnostics) {
    let deps = dependencies(spec);
    let ids: BTreeMap<&Address, usize> = spec.index.iter().map(|(a, &i)| (a, i)).collect();
    let mut g = DiGraphMap::<usize, ()>::new();
    // Only resources with edges can be on a cycle; most have none.
    for (a, ds) in deps.iter().filter(|(_, ds)| !ds.is_empty()) {
        g.add_node(ids[a]);
        for b in ds {
            g.add_edge(ids[a], ids[b], ());
        }
    }
    for scc in petgraph::algo::tarjan_scc(&g) {
        let cyclic = scc.len() > 1 || g.contains_edge(scc[0], scc[0]);
        if !cyclic {
            continue;
        }
        let mut names: Vec<String> = scc
            .iter()
            .map(|&i| spec.resources[i].address.to_string())
            .collect();
        names.sort();
        let first = scc.iter().copied().min().expect("scc is never empty");
        d.push(
            Diagnostic::error(format!("dependency cycle: {}", names.join(" -> ")))
                .at(spec.resources[first].loc.clone())
                .help("break the cycle: remove a reference or a depends_on entry"),
        );
    }
}

fn pools(spec: &Spec, d: &mut Diagnostics) {
    for p in spec.pools.values() {
        let Some(net) = p.cidr else { continue };
        if let Some((a, b)) = p.range {
            if !net.contains(&a) || !net.contains(&b) {
                d.push(
                    Diagnostic::error(format!("range of pool `{}` is outside {net}", p.name))
                        .at_opt(p.loc.clone())
                        .help("keep the range inside the pool's cidr"),
                );
            }
        }
        if let Some(g) = p.gateway {
            if !net.contains(&g) {
                d.push(
                    Diagnostic::error(format!("gateway {g} of pool `{}` is outside {net}", p.name))
                        .at_opt(p.loc.clone())
                        .help("the gateway must be inside the pool's cidr"),
                );
            }
        }
    }
    // Two resources with the same address inside a pool would clash on the network.
    let mut seen: BTreeMap<IpAddr, &super::Resource> = BTreeMap::new();
    for r in &spec.resources {
        let Some(ip) = r
            .attrs
            .get("ip")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<ipnet::IpNet>().ok())
        else {
            continue;
        };
        let addr = ip.addr();
        let Some(pool) = spec
            .pools
            .values()
            .find(|p| p.cidr.is_some_and(|n| n.contains(&addr)))
        else {
            continue;
        };
        let loc = r.attr_locs.get("ip").cloned().unwrap_or(r.loc.clone());
        if let Some(other) = seen.get(&addr) {
            d.push(
                Diagnostic::error(format!(
                    "{addr} in pool `{}` is used by both `{}` and `{}`",
                    pool.name, other.address, r.address
                ))
                .at(loc)
                .label("duplicate address")
                .help(format!(
                    "give one of them another address (first used at {})",
                    spec.sources
                        .describe(other.attr_locs.get("ip").unwrap_or(&other.loc))
                )),
            );
        } else {
            seen.insert(addr, r);
        }
    }
}
