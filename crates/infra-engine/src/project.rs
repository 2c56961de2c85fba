//! A project on disk: root, validated spec, recorded state, provider instances.
//! It turns them into plan input (refreshing live state through providers) and
//! is shared by every command that plans or applies.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use petgraph::graphmap::DiGraphMap;
use serde_json::Value;

use infra_core::error::{Error, Result};
use infra_core::spec::{self, load, validate, Address, Spec};
use infra_core::state;

use crate::retry::RetryPolicy;
use infra_kit::{self as providers, Provider, Registry};
use infra_plan::{self as plan, DesiredInput, LiveObject, Plan};

mod prefetch;
pub mod templates;

pub use prefetch::Prefetch;
mod peers;

pub struct Project {
    pub root: PathBuf,
    pub spec: Spec,
    pub state: state::Loaded,
    pub registry: Registry,
    /// Each resource's dependencies, computed once (references are scanned per string).
    deps: std::sync::OnceLock<BTreeMap<Address, BTreeSet<Address>>>,
    /// Reads started while the spec loaded (see `open_prefetching`).
    prefetch: Prefetch,
    /// What the last refresh saw that carries no marker of this project.
    unmanaged: std::sync::Mutex<Vec<plan::beside::Unmanaged>>,
}

/// A plan with what it was computed from.
pub struct Planned {
    pub plan: Plan,
    /// Live objects by address, as the refresh found them.
    pub live: BTreeMap<String, LiveObject>,
    /// Desired resources in dependency order (computed once, for the diff and the executor).
    pub desired: Vec<DesiredInput>,
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub refresh: bool,
    pub targets: Vec<String>,
    /// Replace these even if nothing forces it (`--replace`).
    pub replace: Vec<String>,
    pub destroy: bool,
    pub spec_commit: Option<String>,
    /// Leave out the providers' audit of values that come from references (ask
    /// plans against the recorded state only, and must not be blocked by a
    /// problem the project already had; `infra plan` reports it).
    pub skip_audit: bool,
}

/// Find the project root from `start` (walking up to the first infra.toml).
pub fn find_root(start: &Path) -> Result<PathBuf> {
    load::find_root(start).ok_or_else(|| {
        Error::new(format!(
            "no infra.toml in {} or any parent directory",
            start.display()
        ))
        .hint("run `infra init` to start a project here, or use -C DIR")
    })
}

/// Load and validate the spec: every problem, sorted by place. Only a file that
/// cannot be read is an error.
pub fn check_spec(
    root: &Path,
    registry: &Registry,
    audited: &dyn Fn(&spec::Resource) -> bool,
) -> Result<(Spec, spec::Diagnostics)> {
    let (spec, mut diags) = load::load(root)?;
    if diags.is_empty() {
        diags = infra_kit::validate_auditing(&spec, &registry.infos(), audited);
        templates::check(root, &spec, &mut diags);
    }
    diags.sort();
    Ok((spec, diags))
}

/// Load and validate the spec; diagnostics become one error listing all of them.
pub fn load_spec(root: &Path, registry: &Registry, color: bool) -> Result<Spec> {
    load_spec_auditing(root, registry, color, &|_| true)
}

/// `load_spec`, with the providers' audit only for the resources `audited` picks.
pub fn load_spec_auditing(
    root: &Path,
    registry: &Registry,
    color: bool,
    audited: &dyn Fn(&spec::Resource) -> bool,
) -> Result<Spec> {
    let (spec, diags) = check_spec(root, registry, audited)?;
    if diags.is_empty() {
        return Ok(spec);
    }
    let n = diags.len();
    Err(Error::new(format!(
        "the spec has {n} error{}",
        if n == 1 { "" } else { "s" }
    ))
    .detail(diags.render(&spec.sources, color)))
}

impl Project {
    pub fn dependencies(&self) -> &BTreeMap<Address, BTreeSet<Address>> {
        self.deps.get_or_init(|| validate::dependencies(&self.spec))
    }

    /// A project from a spec already in memory (e.g. `ask`'s proposed change).
    pub fn from_parts(
        root: &Path,
        spec: Spec,
        state: state::Loaded,
        registry: Registry,
    ) -> Project {
        Project {
            root: root.to_path_buf(),
            spec,
            state,
            registry,
            deps: Default::default(),
            prefetch: Prefetch::default(),
            unmanaged: Default::default(),
        }
    }

    pub fn open(root: &Path, registry: Registry, color: bool) -> Result<Project> {
        Project::load(root, registry, color, None)
    }

    /// `open` for a command that refreshes next: the reads of what the state
    /// records start on `rt` as soon as the state is read (see `prefetch`).
    pub fn open_prefetching(
        root: &Path,
        registry: Registry,
        color: bool,
        rt: &tokio::runtime::Handle,
    ) -> Result<Project> {
        Project::load(root, registry, color, Some(rt))
    }

    fn load(
        root: &Path,
        registry: Registry,
        color: bool,
        rt: Option<&tokio::runtime::Handle>,
    ) -> Result<Project> {
        // The state file is read on a second thread while the spec loads: both are
        // parsing-bound and independent. Spec errors still come first.
        let (spec, state) = std::thread::scope(|s| {
            let state = s.spawn(|| {
                let state = state::load(root)?;
                let prefetch = match rt {
                    Some(rt) => Prefetch::start(root, &state.state, &registry, rt),
                    None => Prefetch::default(),
                };
                Ok::<_, state::StateError>((state, prefetch))
            });
            let spec = load_spec(root, &registry, color);
            (
                spec,
                state.join().expect("loading the state does not panic"),
            )
        });
        let spec = spec?;
        let (state, prefetch) = state?;
        let mut project = Project::from_parts(root, spec, state, registry);
        project.prefetch = prefetch;
        Ok(project)
    }

    /// Hash of everything the desired state is computed from.
    pub fn spec_digest(&self) -> String {
        let mut all = Vec::new();
        for f in self.spec.sources.files() {
            all.extend_from_slice(f.path.to_string_lossy().as_bytes());
            all.push(0);
            all.extend_from_slice(f.text.as_bytes());
            all.push(0);
        }
        for (path, text) in self.templates_used() {
            all.extend_from_slice(path.as_bytes());
            all.push(0);
            all.extend_from_slice(text.as_bytes());
        }
        infra_core::util::sha256_hex(&all)
    }

    fn templates_used(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .spec
            .resources
            .iter()
            .filter_map(|r| r.attrs.get("template").and_then(Value::as_str))
            .map(|t| {
                (
                    t.to_string(),
                    templates::read(&self.root, t).unwrap_or_default(),
                )
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    pub fn provider_name(&self, r: &spec::Resource) -> String {
        self.provider_of(r).to_string()
    }

    fn provider_of(&self, r: &spec::Resource) -> &str {
        self.spec
            .provider_for(r, |p, k| self.registry.serves(p, k))
            .map(|p| p.name.as_str())
            .expect("validated spec resolves every provider")
    }

    /// Desired resources in dependency order, templates rendered.
    pub fn desired(&self) -> Result<Vec<DesiredInput>> {
        let deps = self.dependencies();
        let mut g = DiGraphMap::<usize, ()>::new();
        for (i, r) in self.spec.resources.iter().enumerate() {
            g.add_node(i);
            for d in &deps[&r.address] {
                g.add_edge(self.spec.index[d], i, ());
            }
        }
        let order =
            petgraph::algo::toposort(&g, None).map_err(|_| Error::new("dependency cycle"))?;
        let mut out = Vec::with_capacity(order.len());
        for i in order {
            let r = &self.spec.resources[i];
            let mut attrs = r.attrs.clone();
            if let Some(t) = attrs.remove("template") {
                let content = self.render_template(r, t.as_str().unwrap_or_default())?;
                attrs.insert("content".into(), Value::from(content));
            }
            let provider = self.provider_name(r);
            let pkind = &self.spec.providers[&provider].kind;
            out.push(DesiredInput {
                address: r.address.to_string(),
                kind: r.address.kind.clone(),
                settings: r.settings.get(pkind).cloned().unwrap_or_default(),
                provider,
                attrs,
                depends_on: deps[&r.address].iter().map(|a| a.to_string()).collect(),
                group: r.group.clone(),
                support: self.registry.kind_support(pkind, &r.address.kind),
                provider_kind: pkind.clone(),
            });
        }
        Ok(out)
    }

    fn render_template(&self, r: &spec::Resource, name: &str) -> Result<String> {
        templates::render(&self.root, &self.spec, r, name).map_err(|e| {
            Error::new(format!("{}: {e}", self.spec.sources.describe(&r.loc)))
                .hint("templates live under templates/ in the project")
        })
    }

    /// Provider instances needed by the spec and the state.
    pub fn providers(&self) -> Result<BTreeMap<String, Arc<dyn Provider>>> {
        // Borrowed: 10,000 resources name a handful of providers.
        let mut names: BTreeSet<&str> = self
            .spec
            .resources
            .iter()
            .map(|r| self.provider_of(r))
            .collect();
        names.extend(
            self.state
                .state
                .resources
                .values()
                .map(|r| r.provider.as_str()),
        );
        let peers = self.peers();
        let mut out = BTreeMap::new();
        for name in names {
            if !self.spec.providers.contains_key(name) {
                return Err(Error::new(format!("the state has objects of provider `{name}`, which infra.toml no longer declares"))
                    .hint(format!("declare [providers.{name}] again so infra can delete them, or forget them with `infra state rm`")));
            }
            let p = peers
                .get(name)
                .map_err(|e| Error::new(format!("provider `{name}`: {e}")))?;
            out.insert(name.to_string(), p);
        }
        Ok(out)
    }

    /// Every provider instance infra.toml declares, built on first use.
    fn peers(&self) -> infra_kit::Peers {
        self.prefetch.peers.clone().unwrap_or_else(|| {
            peers::peers_for(
                self.registry,
                self.spec.providers.clone(),
                self.root.clone(),
                self.spec.project.name.clone(),
            )
        })
    }

    /// One provider instance by name, whether or not the spec uses it yet.
    pub fn provider(&self, name: &str) -> Result<Arc<dyn Provider>> {
        self.peers()
            .get(name)
            .map_err(|e| Error::new(format!("provider `{name}`: {e}")))
    }

    /// How calls to a provider instance are retried (its `retries` setting).
    pub fn retry_policy(&self, provider: &str) -> RetryPolicy {
        self.spec
            .providers
            .get(provider)
            .map(RetryPolicy::for_provider)
            .unwrap_or_default()
    }

    /// The retry policy of every provider instance, for the executor.
    pub fn retry_policies(&self) -> BTreeMap<String, RetryPolicy> {
        self.spec
            .providers
            .keys()
            .map(|name| (name.clone(), self.retry_policy(name)))
            .collect()
    }

    /// Read live state: one bulk `list` per (provider, kind). Objects are matched to
    /// recorded ones by id, and to unrecorded addresses by ownership marker (adoption).
    pub async fn refresh(
        &self,
        providers: &BTreeMap<String, Arc<dyn Provider>>,
    ) -> Result<BTreeMap<String, LiveObject>> {
        // Borrowed: 10,000 resources make a handful of pairs.
        let mut pairs: BTreeSet<(&str, &str)> = BTreeSet::new();
        for r in &self.spec.resources {
            pairs.insert((self.provider_of(r), r.address.kind.as_str()));
        }
        for r in self.state.state.resources.values() {
            pairs.insert((r.provider.as_str(), r.kind.as_str()));
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (pname, kind) in pairs {
            let (pname, kind) = (pname.to_string(), kind.to_string());
            let p = providers[&pname].clone();
            let early = self.prefetch.take(&pname, &kind, &p);
            let policy = self.retry_policy(&pname);
            // Adopted objects not yet marked: a listing may show them only in
            // part (as any object not infra's), so they are read in full.
            let unmarked: Vec<String> = self
                .state
                .state
                .resources
                .values()
                .filter(|r| r.unmarked && r.provider == pname && r.kind == kind)
                .map(|r| r.id.clone())
                .collect();
            tasks.spawn(async move {
                let mut found = match early {
                    Some(read) => read.await.unwrap_or_else(|e| {
                        Err(providers::ProviderError::rejected(format!(
                            "read failed: {e}"
                        )))
                    }),
                    None => list_with_retries(p.as_ref(), &kind, policy).await,
                };
                if let Ok(objects) = &mut found {
                    for id in &unmarked {
                        match p.describe(&kind, id).await {
                            Ok(Some(full)) => {
                                if let Some(o) = objects.iter_mut().find(|o| o.id == *id) {
                                    *o = full;
                                }
                            }
                            Ok(None) => {}
                            Err(e) => {
                                found = Err(e);
                                break;
                            }
                        }
                    }
                }
                (pname, kind, found)
            });
        }
        let mut live = BTreeMap::new();
        let recorded = &self.state.state.resources;
        while let Some(joined) = tasks.join_next().await {
            let (pname, kind, found) =
                joined.map_err(|e| Error::new(format!("refresh task failed: {e}")))?;
            let found = found.map_err(|e| {
                Error::new(format!(
                    "refreshing {kind} objects of provider `{pname}`: {e}"
                ))
            })?;
            // Unmarked objects: kept (attributes only) to warn of a create beside one.
            self.unmanaged.lock().expect("unmanaged lock").extend(
                found
                    .iter()
                    .filter(|o| o.owner.is_none())
                    .map(|o| plan::beside::Unmanaged {
                        provider: pname.clone(),
                        kind: kind.clone(),
                        id: o.id.clone(),
                        attrs: o.attrs.clone(),
                    }),
            );
            // Recorded objects by id first, then adoptions by marker. Each found object is
            // moved into `live`, cloned only in the odd case that it is used twice.
            // (address, (found by marker, recorded without one)).
            let mut uses: Vec<(String, (bool, bool))> = Vec::new();
            let mut used_by: Vec<Vec<usize>> = vec![Vec::new(); found.len()];
            let by_id: HashMap<&str, usize> = found
                .iter()
                .enumerate()
                .map(|(i, o)| (o.id.as_str(), i))
                .collect();
            let mut taken: HashSet<&str> = HashSet::new();
            for (address, rec) in recorded
                .iter()
                .filter(|(_, r)| r.provider == pname && r.kind == kind)
            {
                if let Some(&i) = by_id.get(rec.id.as_str()) {
                    // Adopted and not yet marked: no marker is expected, and one
                    // the spec no longer names is left alone (never deleted).
                    let unmarked = rec.unmarked && found[i].owner.is_none();
                    if unmarked
                        && Address::parse(address)
                            .and_then(|a| self.spec.resource(&a))
                            .is_none()
                    {
                        continue;
                    }
                    if !unmarked {
                        check_owner(address, &found[i], &pname)?;
                    }
                    used_by[i].push(uses.len());
                    uses.push((address.clone(), (false, unmarked)));
                    taken.insert(address);
                }
            }
            for (i, o) in found.iter().enumerate() {
                let Some(owner) = &o.owner else { continue };
                if recorded.contains_key(owner)
                    || live.contains_key(owner)
                    || taken.contains(owner.as_str())
                {
                    continue;
                }
                let Some(addr) = Address::parse(owner).filter(|a| a.kind == kind) else {
                    continue;
                };
                // Adopt only what this provider instance would manage for that address.
                let wanted_here = match self.spec.resource(&addr) {
                    Some(r) => self.provider_of(r) == pname,
                    None => true,
                };
                if wanted_here {
                    used_by[i].push(uses.len());
                    uses.push((owner.clone(), (true, false)));
                    taken.insert(owner);
                }
            }
            drop((by_id, taken));
            let mut objects: Vec<Option<LiveObject>> = (0..uses.len()).map(|_| None).collect();
            for (o, slots) in found.into_iter().zip(used_by) {
                let Some((&last, rest)) = slots.split_last() else {
                    continue;
                };
                for &u in rest {
                    objects[u] = Some(self.live_object(&o, &pname, &kind, uses[u].1));
                }
                objects[last] = Some(LiveObject {
                    id: o.id,
                    provider: pname.clone(),
                    kind: kind.clone(),
                    attrs: o.attrs.into(),
                    adopted: uses[last].1 .0,
                    unmarked: uses[last].1 .1,
                });
            }
            for ((address, _), object) in uses.into_iter().zip(objects) {
                live.insert(address, object.expect("every use has its object"));
            }
        }
        Ok(live)
    }

    fn live_object(
        &self,
        o: &providers::Observed,
        pname: &str,
        kind: &str,
        (adopted, unmarked): (bool, bool),
    ) -> LiveObject {
        LiveObject {
            id: o.id.clone(),
            provider: pname.to_string(),
            kind: kind.to_string(),
            attrs: o.attrs.clone().into(),
            adopted,
            unmarked,
        }
    }

    /// Expand targets with everything they depend on.
    pub fn expand_targets(&self, targets: &[String]) -> Result<BTreeSet<String>> {
        let deps = self.dependencies();
        let mut out = BTreeSet::new();
        let mut stack = Vec::new();
        for t in targets {
            let addr = Address::parse(t).ok_or_else(|| {
                Error::new(format!("`{t}` is not a resource address"))
                    .hint("addresses look like kind.name")
            })?;
            if self.spec.resource(&addr).is_none() && !self.state.state.resources.contains_key(t) {
                return Err(Error::new(format!(
                    "--target {t}: no such resource in the spec or the state"
                )));
            }
            stack.push(addr);
        }
        while let Some(a) = stack.pop() {
            if out.insert(a.to_string()) {
                if let Some(ds) = deps.get(&a) {
                    stack.extend(ds.iter().cloned());
                }
            }
        }
        Ok(out)
    }

    /// Check `--replace` addresses: each must be in the spec and recorded (something to replace).
    fn replacements(&self, addrs: &[String], destroy: bool) -> Result<BTreeSet<String>> {
        if destroy && !addrs.is_empty() {
            return Err(Error::new(
                "--replace cannot be combined with a destroy plan",
            ));
        }
        addrs
            .iter()
            .map(|a| {
                let addr = Address::parse(a).ok_or_else(|| {
                    Error::new(format!("`{a}` is not a resource address"))
                        .hint("addresses look like kind.name")
                })?;
                if self.spec.resource(&addr).is_none() {
                    return Err(Error::new(format!("--replace {a}: not in the spec"))
                        .hint("only a resource the spec declares can be replaced"));
                }
                if !self.state.state.resources.contains_key(a) {
                    return Err(Error::new(format!(
                        "--replace {a}: nothing recorded to replace (it has not been created yet)"
                    )));
                }
                Ok(a.clone())
            })
            .collect()
    }

    /// Refresh (unless told not to) and compute the plan.
    pub async fn plan(
        &self,
        opts: &PlanOptions,
        providers: &BTreeMap<String, Arc<dyn Provider>>,
    ) -> Result<Plan> {
        Ok(self.plan_with_live(opts, providers).await?.plan)
    }

    /// The plan plus the live objects and desired resources it was computed from
    /// (apply records the first and executes with the second).
    pub async fn plan_with_live(
        &self,
        opts: &PlanOptions,
        providers: &BTreeMap<String, Arc<dyn Provider>>,
    ) -> Result<Planned> {
        // The desired side is computed while the providers' reads are in flight.
        let (live, desired) = if opts.refresh {
            let (live, desired) = tokio::join!(self.refresh(providers), async { self.desired() });
            (live?, desired?)
        } else {
            let live = self
                .state
                .state
                .resources
                .iter()
                .map(|(a, r)| {
                    (
                        a.clone(),
                        LiveObject {
                            id: r.id.clone(),
                            provider: r.provider.clone(),
                            kind: r.kind.clone(),
                            attrs: r.attrs.clone().into(),
                            adopted: false,
                            unmarked: false,
                        },
                    )
                })
                .collect();
            (live, self.desired()?)
        };
        let input = plan::Input {
            desired,
            vars: &self.spec.vars,
            recorded: &self.state.state.resources,
            live: &live,
            refreshed: opts.refresh,
            // A resource to replace is in scope even when --target names others.
            targets: if opts.targets.is_empty() {
                self.expand_targets(&[])?
            } else {
                self.expand_targets(&[&opts.targets[..], &opts.replace[..]].concat())?
            },
            replace: self.replacements(&opts.replace, opts.destroy)?,
            destroy: opts.destroy,
            spec_digest: self.spec_digest(),
            spec_commit: opts.spec_commit.clone(),
            state_lineage: self.state.state.lineage.clone(),
            state_serial: self.state.effective_serial(),
            now: infra_core::util::unix_now(),
        };
        let mut plan = plan::diff(&input).map_err(|errors| {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| format!("  {}: {}", e.address, e.message))
                .collect();
            Error::new("cannot compute the plan").detail(lines.join("\n"))
        })?;
        plan::beside::mark(&mut plan, &self.unmanaged.lock().expect("unmanaged lock"));
        if !opts.skip_audit {
            self.audit_resolved(&plan, &input.desired)?;
        }
        let violations = plan::policy::violations(&plan, &self.spec.policy);
        if !violations.is_empty() {
            return Err(Error::new("the plan breaks the project's [policy]")
                .detail(
                    violations
                        .iter()
                        .map(|v| format!("  {v}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
                .hint("change the spec, or edit [policy] in infra.toml if this is really wanted"));
        }
        let desired = input.desired;
        Ok(Planned {
            plan,
            live,
            desired,
        })
    }
}

impl Project {
    /// The providers' audits of what the plan writes, with references resolved:
    /// `infra validate` audited only literal values, so a value that comes from
    /// another resource is checked here, before anything is changed.
    fn audit_resolved(&self, plan: &Plan, desired: &[DesiredInput]) -> Result<()> {
        let by_address: BTreeMap<&str, &DesiredInput> =
            desired.iter().map(|d| (d.address.as_str(), d)).collect();
        let infos = self.registry.infos();
        let mut problems = Vec::new();
        for c in plan.actions() {
            let (Some(after), Some(d)) = (&c.after, by_address.get(c.address.as_str())) else {
                continue;
            };
            // Values known only after apply cannot be audited yet; the provider
            // checks them again before it writes.
            let unknown = c.after_unknown.iter().any(|k| d.attrs.contains_key(k));
            if unknown || !d.attrs.values().any(spec::refs::has_refs) {
                continue;
            }
            let Some(check) = infos
                .iter()
                .find(|i| i.kind == d.provider_kind)
                .and_then(|i| i.audit)
            else {
                continue;
            };
            // As apply will send it: defaults and derived values included.
            let resolved = providers::Desired {
                address: c.address.clone(),
                kind: c.kind.clone(),
                attrs: spec::Attrs::clone(after),
                settings: d.settings.clone(),
            };
            let ctx = providers::Context {
                root: self.root.clone(),
                project: self.spec.project.name.clone(),
                instance: d.provider.clone(),
                settings: self.spec.providers[&d.provider].settings.clone(),
                peers: providers::Peers::default(),
            };
            problems.extend(
                check(&resolved, &ctx)
                    .into_iter()
                    .map(|f| format!("  {}: {f}", c.address)),
            );
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::new(
            "the plan would send values the providers' APIs refuse or store in another form",
        )
        .detail(problems.join("\n"))
        .hint("the values come from references: change the resources they refer to, or write the value"))
    }
}

/// Bulk reads are retried like writes (see `retry`), so a rate-limited API does
/// not fail a plan.
async fn list_with_retries(
    p: &dyn Provider,
    kind: &str,
    policy: RetryPolicy,
) -> providers::Result<Vec<providers::Observed>> {
    policy.run(|| p.list(kind), |_, _, _| {}).await
}

/// A recorded object is changed or deleted only if it carries this project's
/// marker for this very address. A state edited (or merged) so that one address
/// names another's object must stop the plan, before anything is touched.
fn check_owner(address: &str, live: &providers::Observed, provider: &str) -> Result<()> {
    match live.owner.as_deref() {
        Some(owner) if owner == address => Ok(()),
        owner => {
            let carries = match owner {
                Some(other) => format!("carries the marker of `{other}`"),
                None => "carries no marker of this project".to_string(),
            };
            Err(Error::new(format!(
                "`{address}` is recorded as object `{}` of provider `{provider}`, but that object {carries}; \
                 infra changes and deletes only objects marked for the address, so nothing was touched",
                live.id
            ))
            .hint(format!(
                "the state does not match what exists: restore it from git (`git checkout -- .infra/state.json`), \
                 or forget the record with `infra state rm {address}`; if the [project] name changed, the markers name the old one"
            )))
        }
    }
}
