//! Desired vs live, attribute by attribute, generic over the kind schemas.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::model::{Action, Drift, Plan, Reason, ResourceChange, SharedAttrs, FORMAT_VERSION};
use infra_core::spec::refs::{self, Ref};
use infra_core::spec::{check, schema, Attrs};
use infra_core::state::ResourceState;
use infra_kit::KindSupport;

/// A resource as the spec declares it (references not yet resolved).
#[derive(Debug, Clone)]
pub struct DesiredInput {
    pub address: String,
    pub kind: String,
    pub provider: String,
    pub attrs: Attrs,
    /// Provider-specific settings (the nested table named after the provider kind).
    pub settings: Attrs,
    pub depends_on: Vec<String>,
    pub group: Option<String>,
    /// What its provider cannot change in place, or changes only at a restart.
    pub support: Option<&'static KindSupport>,
    /// The provider's kind, which names its settings table (`proxmox`).
    pub provider_kind: String,
}

impl DesiredInput {
    /// Does its provider take per-resource settings (recorded, then compared)?
    pub fn takes_settings(&self) -> bool {
        self.support.is_some_and(|s| !s.settings.is_empty())
    }
}

/// A live object as refresh found it, keyed by address.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveObject {
    pub id: String,
    pub provider: String,
    pub kind: String,
    pub attrs: SharedAttrs,
    /// Found by ownership marker, not in recorded state.
    pub adopted: bool,
    /// Recorded by `infra adopt`, without infra's marker yet.
    pub unmarked: bool,
}

/// What the diff reads. Borrowed, so a plan over 10,000 resources does not copy
/// the recorded state or the live objects.
#[derive(Debug)]
pub struct Input<'a> {
    /// In dependency order: every resource after the ones it refers to.
    pub desired: Vec<DesiredInput>,
    pub vars: &'a Attrs,
    pub recorded: &'a BTreeMap<String, ResourceState>,
    /// Live objects by address (with --refresh=false: the recorded ones).
    pub live: &'a BTreeMap<String, LiveObject>,
    pub refreshed: bool,
    /// Addresses to plan (already expanded with dependencies); empty = everything.
    pub targets: BTreeSet<String>,
    /// Addresses to replace even if nothing forces it (`--replace`).
    pub replace: BTreeSet<String>,
    pub destroy: bool,
    pub spec_digest: String,
    pub spec_commit: Option<String>,
    pub state_lineage: String,
    pub state_serial: u64,
    /// Unix time the plan is made at (renewal windows are measured from it).
    pub now: i64,
}

/// An error found while resolving values (a reference yielding an invalid value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub address: String,
    pub message: String,
}

/// Resolved values of one resource, for references from later resources.
struct Resolved {
    attrs: SharedAttrs,
    unknown: BTreeSet<String>,
}

pub fn diff(input: &Input<'_>) -> Result<Plan, Vec<PlanError>> {
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    let mut resolved: BTreeMap<String, Resolved> = BTreeMap::new();
    let mut actions: BTreeMap<String, Action> = BTreeMap::new();
    let in_scope = |a: &str| input.targets.is_empty() || input.targets.contains(a);
    let desired_addrs: BTreeSet<&str> = input.desired.iter().map(|d| d.address.as_str()).collect();
    // Only resources something refers to need their resolved values kept.
    let referenced: BTreeSet<&str> = input
        .desired
        .iter()
        .flat_map(|d| d.depends_on.iter().map(String::as_str))
        .collect();

    if !input.destroy {
        for d in &input.desired {
            let schema = schema::kind(&d.kind).expect("validated spec has known kinds");
            let live = input.live.get(&d.address);
            let (after, unknown) = resolve(d, input, &resolved, &actions, &mut errors);
            let mut change = compare(d, schema, live, after, unknown, input);
            if !in_scope(&d.address) {
                // Outside --target: keep the live values for references, plan nothing.
                change.action = Action::NoOp;
                let (attrs, unknown) = match live {
                    Some(l) => (l.attrs.clone(), BTreeSet::new()),
                    None => (
                        change.after.clone().unwrap_or_default(),
                        change.after_unknown.iter().cloned().collect(),
                    ),
                };
                resolved.insert(d.address.clone(), Resolved { attrs, unknown });
                actions.insert(d.address.clone(), Action::NoOp);
                continue;
            }
            if referenced.contains(d.address.as_str()) {
                resolved.insert(
                    d.address.clone(),
                    Resolved {
                        attrs: change.after.clone().unwrap_or_default(),
                        unknown: change.after_unknown.iter().cloned().collect(),
                    },
                );
                // Read only for resources in `resolved`.
                actions.insert(d.address.clone(), change.action);
            }
            changes.push(change);
        }
    }

    // Objects recorded (or adopted) that the spec no longer wants.
    let mut gone: BTreeSet<&String> = input.recorded.keys().collect();
    gone.extend(input.live.keys());
    for address in gone {
        if (!input.destroy && desired_addrs.contains(address.as_str())) || !in_scope(address) {
            continue;
        }
        let Some(live) = input.live.get(address) else {
            continue;
        };
        let recorded = input.recorded.get(address);
        let schema = schema::kind(&live.kind);
        changes.push(ResourceChange {
            address: address.clone(),
            kind: live.kind.clone(),
            provider: live.provider.clone(),
            action: Action::Delete,
            id: Some(live.id.clone()),
            before: Some(live.attrs.clone()),
            after: None,
            after_unknown: Vec::new(),
            sensitive: schema
                .map(|s| sensitive_names(s, &live.attrs))
                .unwrap_or_default(),
            replace_paths: Vec::new(),
            restart_paths: Vec::new(),
            reasons: vec![if input.destroy {
                Reason::Destroy
            } else {
                Reason::NotInSpec
            }],
            depends_on: recorded.map(|r| r.depends_on.clone()).unwrap_or_default(),
            group: recorded.and_then(|r| r.group.clone()),
            beside: None,
        });
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(Plan {
        format_version: FORMAT_VERSION.into(),
        infra_version: env!("CARGO_PKG_VERSION").into(),
        changes,
        drift: drift(input),
        spec_digest: input.spec_digest.clone(),
        spec_commit: input.spec_commit.clone(),
        state_lineage: input.state_lineage.clone(),
        state_serial: input.state_serial,
        targets: input.targets.iter().cloned().collect(),
        replace: input.replace.iter().cloned().collect(),
        destroy: input.destroy,
        refreshed: input.refreshed,
    })
}

/// Resolve references in the diff: a dependency's planned values, or its live
/// values for computed attributes of objects that stay as they are.
fn resolve(
    d: &DesiredInput,
    input: &Input<'_>,
    resolved: &BTreeMap<String, Resolved>,
    actions: &BTreeMap<String, Action>,
    errors: &mut Vec<PlanError>,
) -> (Attrs, BTreeSet<String>) {
    let lookup = |address: &infra_core::spec::Address, attr: &str| -> Option<Value> {
        let key = address.to_string();
        let dep = resolved.get(&key)?;
        if let Some(v) = dep.attrs.get(attr) {
            return Some(v.clone());
        }
        if dep.unknown.contains(attr) {
            return None;
        }
        match actions.get(&key) {
            Some(Action::NoOp | Action::Update) => input.live.get(&key)?.attrs.get(attr).cloned(),
            _ => None,
        }
    };
    resolve_attrs(d, input.vars, &lookup, errors)
}

/// Settings shown among the attributes as `PROVIDER.NAME` (`proxmox.storage`), as
/// the spec writes them in `[KIND.NAME.PROVIDER]`.
fn settings_rows<'a>(
    d: &'a DesiredInput,
    settings: &'a Attrs,
) -> impl Iterator<Item = (String, Value)> + 'a {
    settings
        .iter()
        .map(move |(k, v)| (format!("{}.{k}", d.provider_kind), v.clone()))
}

/// Resolve references, apply defaults, derive computed attributes. `lookup` answers
/// `address.attribute`; `None` means known only after apply. Used by the diff and,
/// with recorded values, by the executor just before it calls a provider.
pub fn resolve_attrs(
    d: &DesiredInput,
    vars: &Attrs,
    lookup: &dyn Fn(&infra_core::spec::Address, &str) -> Option<Value>,
    errors: &mut Vec<PlanError>,
) -> (Attrs, BTreeSet<String>) {
    let schema = schema::kind(&d.kind).expect("validated spec has known kinds");
    let lookup = |r: &Ref| -> Option<Value> {
        match r {
            Ref::Var(name) => vars.get(name).cloned(),
            Ref::Attr { address, attr } => lookup(address, attr),
        }
    };
    let mut attrs = Attrs::new();
    let mut unknown = BTreeSet::new();
    for (name, raw) in &d.attrs {
        match refs::substitute(raw, &lookup) {
            Some(v) => {
                if v.as_str().is_some_and(|s| s.len() > refs::MAX_VALUE_BYTES) {
                    errors.push(PlanError {
                        address: d.address.clone(),
                        message: format!(
                            "`{name}` resolves to more than {} MiB; the most a value may be",
                            refs::MAX_VALUE_BYTES >> 20
                        ),
                    });
                    continue;
                }
                if refs::has_refs(raw) {
                    if let Some(a) = schema.attr(name) {
                        if let Err(expected) = check::check(a.ty, &v) {
                            errors.push(PlanError {
                                address: d.address.clone(),
                                message: format!(
                                    "`{name}` resolved to {v}, which is not {expected}"
                                ),
                            });
                        }
                    }
                }
                attrs.insert(name.clone(), v);
            }
            None => {
                unknown.insert(name.clone());
            }
        }
    }
    schema.fill_defaults(&mut attrs, |name| unknown.contains(name));
    schema::derive_computed(&d.kind, &mut attrs);
    (attrs, unknown)
}

fn compare(
    d: &DesiredInput,
    schema: &schema::KindSchema,
    live: Option<&LiveObject>,
    mut after: Attrs,
    mut unknown: BTreeSet<String>,
    input: &Input,
) -> ResourceChange {
    let mut reasons = Vec::new();
    let mut replace_paths = Vec::new();
    let mut restart_paths = Vec::new();
    let (replace_on, restart_on, write_only) = d.support.map_or((&[][..], &[][..], &[][..]), |s| {
        (s.replace_on, s.restart_on, s.write_only)
    });
    let forces = |k: &str| schema.is_force_new(k) || replace_on.contains(&k);
    let (action, before, id) = match live {
        None => {
            if input.refreshed && input.recorded.contains_key(&d.address) {
                reasons.push(Reason::DeletedOutOfBand);
            }
            if d.takes_settings() {
                after.extend(settings_rows(d, &d.settings));
            }
            (Action::Create, None, None)
        }
        Some(l) => {
            if l.adopted {
                reasons.push(Reason::Adopted);
            }
            if l.unmarked {
                reasons.push(Reason::Mark);
            }
            let mut changed = false;
            // Values first: the schema lookup is the slower test, and most values are equal.
            for (k, v) in &after {
                let unreadable = write_only.contains(&k.as_str()) && !l.attrs.contains_key(k);
                if l.attrs.get(k) != Some(v) && !schema.is_computed(k) && !unreadable {
                    changed = true;
                    if forces(k) {
                        replace_paths.push(k.clone());
                    } else if restart_on.contains(&k.as_str()) {
                        restart_paths.push(k.clone());
                    }
                }
            }
            for k in unknown.iter().filter(|k| !schema.is_computed(k)) {
                changed = true;
                if forces(k) {
                    replace_paths.push(k.clone());
                } else if restart_on.contains(&k.as_str()) {
                    restart_paths.push(k.clone());
                }
            }
            let mut before = l.attrs.clone();
            // Per-resource settings: no provider reads them back, so they are
            // compared with what infra recorded when it applied them. A setting
            // with no record (an imported object's, say) is compared only if the
            // spec gives it and it changes in place: it is then shown as added,
            // and the update sets it. One that would force a replacement is left
            // alone until infra next creates the object.
            if let Some(support) = d.support.filter(|_| d.takes_settings() && !l.adopted) {
                let recorded = input
                    .recorded
                    .get(&d.address)
                    .and_then(|r| r.settings.as_ref());
                let (mut had_rows, mut want_rows) = (Attrs::new(), Attrs::new());
                for key in support.settings {
                    let want = d.settings.get(*key);
                    let in_place = support.settings_in_place.contains(key);
                    let compared = match recorded.and_then(|r| r.get(*key)) {
                        // Recorded: `null` means infra applied it unset.
                        Some(had) => {
                            let had = (!had.is_null()).then_some(had);
                            if had != want {
                                changed = true;
                                if !in_place {
                                    replace_paths.push(format!("{}.{key}", d.provider_kind));
                                }
                            }
                            if let Some(v) = had {
                                had_rows.insert(key.to_string(), v.clone());
                            }
                            true
                        }
                        None if in_place && want.is_some() => {
                            changed = true;
                            true
                        }
                        None => false,
                    };
                    if let Some(v) = want.filter(|_| compared) {
                        want_rows.insert(key.to_string(), v.clone());
                    }
                }
                if !had_rows.is_empty() {
                    // Copied only for the resources that have settings.
                    SharedAttrs::make_mut(&mut before).extend(settings_rows(d, &had_rows));
                }
                after.extend(settings_rows(d, &want_rows));
            }
            // A replacement starts fresh: nothing waits for a restart.
            if !replace_paths.is_empty() || input.replace.contains(&d.address) {
                restart_paths.clear();
            }
            // A certificate near its expiry: the same attributes, issued again.
            let renewable = replace_paths.is_empty() && !input.replace.contains(&d.address);
            if let Some(days) = renewable
                .then(|| schema::renewal_due(&d.kind, &l.attrs, &after, input.now))
                .flatten()
            {
                reasons.push(Reason::Renew {
                    expires_in_days: days,
                });
                changed = true;
            }
            let action = match (changed, replace_paths.is_empty()) {
                _ if input.replace.contains(&d.address) => {
                    reasons.push(Reason::ReplaceRequested);
                    Action::Replace
                }
                (false, _) => Action::NoOp,
                (true, true) => Action::Update,
                (true, false) => Action::Replace,
            };
            (action, Some(before), Some(l.id.clone()))
        }
    };
    // Computed attributes: kept from the live object unless it is (re)created.
    for a in schema.attrs.iter().filter(|a| a.computed) {
        if after.contains_key(a.name) {
            continue;
        }
        match (action, live.and_then(|l| l.attrs.get(a.name))) {
            (Action::NoOp | Action::Update, Some(v)) => {
                after.insert(a.name.into(), v.clone());
            }
            (Action::Create | Action::Replace, _) => {
                unknown.insert(a.name.into());
            }
            _ => {}
        }
    }
    // A renewal: what the new certificate will say is known only after it.
    if reasons.iter().any(|r| matches!(r, Reason::Renew { .. })) {
        for name in schema::RENEWED {
            after.remove(*name);
            unknown.insert(name.to_string());
        }
    }
    // Names from both sides: a secret that is being removed must stay hidden too.
    let mut sensitive = sensitive_names(schema, &after);
    if let Some(b) = &before {
        sensitive.extend(sensitive_names(schema, b));
        sensitive.sort();
        sensitive.dedup();
    }
    // An unchanged object's planned attributes are usually exactly its live ones: share them.
    let after = match before {
        Some(ref b) if action == Action::NoOp && **b == after => b.clone(),
        _ => SharedAttrs::new(after),
    };
    ResourceChange {
        address: d.address.clone(),
        kind: d.kind.clone(),
        provider: d.provider.clone(),
        action,
        id,
        before,
        after: Some(after),
        after_unknown: unknown.into_iter().collect(),
        sensitive,
        replace_paths,
        restart_paths,
        reasons,
        depends_on: d.depends_on.clone(),
        group: d.group.clone(),
        beside: None,
    }
}

fn sensitive_names(schema: &schema::KindSchema, attrs: &Attrs) -> Vec<String> {
    attrs
        .keys()
        .filter(|k| schema.is_sensitive(k))
        .cloned()
        .collect()
}

/// Recorded objects whose live form differs (or vanished) since infra last wrote them.
fn drift<'a>(input: &Input<'a>) -> Vec<Drift> {
    if !input.refreshed {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (address, rec) in input.recorded {
        let schema = schema::kind(&rec.kind);
        // Compared in place: copying both sides per resource cost more than the diff itself.
        let user_attrs = |a: &'a Attrs| {
            a.iter()
                .filter(move |(k, _)| !schema.is_some_and(|s| s.is_computed(k)))
        };
        match input.live.get(address) {
            None => out.push(Drift {
                address: address.clone(),
                before: Some(rec.attrs.clone()),
                after: None,
                sensitive: schema
                    .map(|s| sensitive_names(s, &rec.attrs))
                    .unwrap_or_default(),
            }),
            // Identical maps (the usual case) need no schema lookups.
            Some(l)
                if *l.attrs != rec.attrs && !user_attrs(&l.attrs).eq(user_attrs(&rec.attrs)) =>
            {
                let mut sensitive = schema
                    .map(|s| sensitive_names(s, &l.attrs))
                    .unwrap_or_default();
                sensitive.extend(
                    schema
                        .map(|s| sensitive_names(s, &rec.attrs))
                        .unwrap_or_default(),
                );
                sensitive.sort();
                sensitive.dedup();
                out.push(Drift {
                    address: address.clone(),
                    before: Some(rec.attrs.clone()),
                    after: Some(Attrs::clone(&l.attrs)),
                    sensitive,
                })
            }
            Some(_) => {}
        }
    }
    out
}
