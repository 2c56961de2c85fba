//! What `infra validate` can tell about PowerDNS records from the spec alone:
//! resources of one zone, name and type are records of one rrset, which has
//! one TTL, so they must agree on it.

use std::collections::BTreeMap;

use serde_json::Value;

use infra_core::spec::schema::kinds;
use infra_core::spec::{Diagnostic, ProviderConfig, Spec};
use infra_kit::ProviderInfo;

pub fn check(spec: &Spec, p: &ProviderConfig, catalog: &[&ProviderInfo]) -> Vec<Diagnostic> {
    let serves =
        |pkind: &str, kind: &str| catalog.iter().any(|i| i.kind == pkind && i.serves(kind));
    let text = |r: &infra_core::spec::Resource, k: &str| {
        r.attrs.get(k).and_then(Value::as_str).map(str::to_string)
    };
    // (zone, name, type) → the first resource's address and TTL.
    let mut first: BTreeMap<(String, String, String), (String, i64)> = BTreeMap::new();
    let mut out = Vec::new();
    for r in spec
        .resources
        .iter()
        .filter(|r| r.address.kind == kinds::DNS_RECORD)
    {
        if spec.provider_for(r, serves).map(|c| c.name.as_str()) != Some(p.name.as_str()) {
            continue;
        }
        let (Some(zone), Some(name), Some(rtype)) =
            (text(r, "zone"), text(r, "name"), text(r, "type"))
        else {
            continue; // references: known at plan time
        };
        let ttl = match r.attrs.get("ttl") {
            None => 300,
            Some(v) => match v.as_i64() {
                Some(t) => t,
                None => continue,
            },
        };
        let key = (zone.trim_end_matches('.').to_string(), name, rtype);
        match first.get(&key) {
            None => {
                first.insert(key, (r.address.to_string(), ttl));
            }
            Some((other, t)) if *t != ttl => out.push(
                Diagnostic::error(format!(
                    "`{}` has ttl {ttl}, but `{other}` of the same name and type has {t}: on PowerDNS they are one rrset, with one TTL",
                    r.address
                ))
                .at(r.attr_locs.get("ttl").cloned().unwrap_or_else(|| r.loc.clone()))
                .help(format!("give both ttl = {t}")),
            ),
            Some(_) => {}
        }
    }
    out
}
