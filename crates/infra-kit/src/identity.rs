//! Two resources that would be one live object: the same identity (a file's path,
//! a container's hostname on one node, a record's zone/name/type/content, or what
//! the provider's `KindSupport::identity` says instead) on one provider instance,
//! or a file path below another resource's file. Apply would fail (or worse, the
//! second write would win); validate names both places instead.

use std::collections::BTreeMap;

use infra_core::spec::diag::{Diagnostic, Diagnostics};
use infra_core::spec::schema::{self, Ty};
use infra_core::spec::{refs, Resource, Spec, Value};

use crate::KindSupport;

/// The provider instance serving a resource, and what that provider says of the
/// kind (its own identity, if it has one).
pub(crate) type ProviderOf<'a> =
    dyn Fn(&Resource) -> Option<(String, Option<&'static KindSupport>)> + 'a;

pub(crate) fn check(spec: &Spec, provider_of: &ProviderOf<'_>, d: &mut Diagnostics) {
    // (provider, kind, identity values) → first resource with them.
    let mut seen: BTreeMap<(String, String, Vec<String>), &Resource> = BTreeMap::new();
    // (provider, kind) → paths of RelPath identities, for the file-below-file check.
    let mut paths: BTreeMap<(String, String), Vec<(&str, &Resource)>> = BTreeMap::new();
    for r in &spec.resources {
        let Some(kind) = schema::kind(&r.address.kind) else {
            continue;
        };
        let Some((provider, support)) = provider_of(r) else {
            continue;
        };
        let identity = support.and_then(|s| s.identity).unwrap_or(kind.identity);
        if identity.is_empty() {
            continue;
        }
        let mut attrs = r.attrs.clone();
        kind.fill_defaults(&mut attrs, |_| false);
        let values: Option<Vec<String>> = identity
            .iter()
            .map(|a| match attrs.get(*a) {
                Some(v) if refs::has_refs(v) => None,
                // Host and DNS names compare without case; paths and contents do not.
                Some(Value::String(s))
                    if kind
                        .attr(a)
                        .is_some_and(|t| matches!(t.ty, Ty::Hostname | Ty::DnsName | Ty::Zone)) =>
                {
                    Some(s.to_lowercase())
                }
                Some(Value::String(s)) => Some(s.clone()),
                Some(v) => Some(v.to_string()),
                None => Some(String::new()),
            })
            .collect();
        let Some(values) = values else { continue };
        let key = (provider.clone(), r.address.kind.clone(), values);
        match seen.get(&key) {
            Some(first) => d.push(
                Diagnostic::error(format!(
                    "`{}` is the same object as `{}`: both have {}",
                    r.address,
                    first.address,
                    describe(identity, &key.2)
                ))
                .at(r.loc.clone())
                .help(format!(
                    "`{}` is declared at {}; give one of them another {}",
                    first.address,
                    spec.sources.describe(&first.loc),
                    identity[0]
                )),
            ),
            None => {
                seen.insert(key.clone(), r);
            }
        }
        if let [attr] = identity {
            if kind.attr(attr).is_some_and(|a| a.ty == Ty::RelPath) {
                if let Some(Value::String(p)) = r.attrs.get(*attr) {
                    paths
                        .entry((provider, r.address.kind.clone()))
                        .or_default()
                        .push((p, r));
                }
            }
        }
    }
    for files in paths.values() {
        // Each path's parent directories looked up by name: linear, not pairwise.
        let by_path: BTreeMap<&str, &Resource> = files.iter().map(|(p, r)| (*p, *r)).collect();
        for (path, r) in files {
            let parent = path
                .match_indices('/')
                .map(|(i, _)| &path[..i])
                .find_map(|dir| by_path.get(dir).map(|owner| (dir, *owner)));
            if let Some((other, owner)) = parent {
                d.push(
                    Diagnostic::error(format!(
                        "`{}`'s path {path:?} is below {other:?}, the file of `{}`: one path cannot be a file and a directory",
                        r.address, owner.address
                    ))
                    .at(r.loc.clone())
                    .help(format!("`{}` is declared at {}", owner.address, spec.sources.describe(&owner.loc))),
                );
            }
        }
    }
}

fn describe(names: &[&str], values: &[String]) -> String {
    names
        .iter()
        .zip(values)
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| format!("{n} {v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
