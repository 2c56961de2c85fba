//! The executor: runs a plan's actions in dependency order (deletes in reverse),
//! independent ones in parallel, retrying only transient provider errors. Every
//! finished operation is journaled before anything that depends on it starts.
//! A failure skips what depends on it; independent work goes on.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::reporter::{Op, Reporter};
use crate::retry::{RetryPolicy, RetryableError};
use infra_core::spec::{Address, Attrs};
use infra_core::state::journal::{Entry, Journal};
use infra_core::state::{ResourceState, State};
use infra_kit::{BatchOp, BatchResult, Desired, Observed, Provider, ProviderError};
use infra_plan::{resolve_attrs, Action, DesiredInput, Plan, Reason};

pub struct ExecOptions {
    pub parallelism: usize,
    /// How calls are retried, by provider instance (see `retry`); others get the default.
    pub retry: BTreeMap<String, RetryPolicy>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            parallelism: 10,
            retry: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub done: Vec<(String, Op)>,
    pub failed: Vec<(String, Op, String)>,
    /// Not attempted because something they depend on failed.
    pub skipped: Vec<(String, Op)>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }

    pub fn count(&self, op: Op) -> usize {
        self.done.iter().filter(|(_, o)| *o == op).count()
    }
}

type Node = (String, Op);

/// The state being built during an apply, journaled as it changes.
struct Shared {
    state: State,
    journal: Journal,
}

impl Shared {
    fn record(&mut self, entry: Entry) -> std::io::Result<()> {
        self.journal.append(&entry)?;
        entry.apply_to(&mut self.state);
        Ok(())
    }

    fn record_all(&mut self, entries: Vec<Entry>) -> std::io::Result<()> {
        self.journal.append_all(&entries)?;
        for e in entries {
            e.apply_to(&mut self.state);
        }
        Ok(())
    }
}

/// What one apply works on: the plan, the resources it creates or updates (with
/// references unresolved), the spec's variables and the providers by instance name.
#[derive(Clone, Copy)]
pub struct Work<'a> {
    pub plan: &'a Plan,
    pub desired: &'a [DesiredInput],
    pub vars: &'a Attrs,
    pub providers: &'a BTreeMap<String, Arc<dyn Provider>>,
}

/// Run the plan. `state` must already reflect the refresh (see `record_refresh`).
pub async fn execute(
    work: Work<'_>,
    state: State,
    journal: Journal,
    reporter: Arc<dyn Reporter>,
    opts: &ExecOptions,
) -> (Outcome, State) {
    let Work {
        plan,
        desired,
        vars,
        providers,
    } = work;
    let desired: BTreeMap<&str, &DesiredInput> =
        desired.iter().map(|d| (d.address.as_str(), d)).collect();
    let (nodes, edges) = graph(plan);
    let shared = Arc::new(Mutex::new(Shared { state, journal }));
    let mut indegree: BTreeMap<Node, usize> = nodes.iter().map(|n| (n.clone(), 0)).collect();
    let mut succ: BTreeMap<Node, Vec<Node>> = BTreeMap::new();
    for (from, to) in &edges {
        *indegree.get_mut(to).expect("edge ends are nodes") += 1;
        succ.entry(from.clone()).or_default().push(to.clone());
    }
    let mut ready: VecDeque<Node> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(n, _)| n.clone())
        .collect();
    let mut outcome = Outcome::default();
    let mut finished: BTreeSet<Node> = BTreeSet::new();
    let mut tasks = tokio::task::JoinSet::new();
    let changes: BTreeMap<&str, &infra_plan::ResourceChange> = plan
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c))
        .collect();

    let make_job = |node: &Node| -> Job {
        let change = changes[node.0.as_str()];
        Job {
            node: node.clone(),
            kind: change.kind.clone(),
            id: change.id.clone(),
            provider: providers[&change.provider].clone(),
            provider_name: change.provider.clone(),
            desired: desired.get(node.0.as_str()).map(|d| (*d).clone()),
            vars: vars.clone(),
            shared: shared.clone(),
            reporter: reporter.clone(),
            retry: opts
                .retry
                .get(&change.provider)
                .copied()
                .unwrap_or_default(),
        }
    };
    loop {
        while tasks.len() < opts.parallelism.max(1) {
            let Some(node) = ready.pop_front() else { break };
            let job = make_job(&node);
            if job.provider.batches(&job.kind) && node.1 != Op::Mark {
                // Everything ready for the same provider instance and kind goes in one call.
                let (same, rest): (Vec<Node>, Vec<Node>) = ready.drain(..).partition(|n| {
                    let c = changes[n.0.as_str()];
                    c.provider == job.provider_name && c.kind == job.kind && n.1 != Op::Mark
                });
                ready = rest.into();
                let mut jobs = vec![job];
                jobs.extend(same.iter().map(&make_job));
                tasks.spawn(run_batch(jobs));
            } else {
                tasks.spawn(async move { vec![job.run().await] });
            }
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        for (node, result) in joined.expect("apply tasks do not panic") {
            finished.insert(node.clone());
            match result {
                Ok(()) => {
                    for next in succ.get(&node).into_iter().flatten() {
                        let d = indegree.get_mut(next).expect("successor is a node");
                        *d -= 1;
                        if *d == 0 {
                            ready.push_back(next.clone());
                        }
                    }
                    outcome.done.push(node);
                }
                Err(message) => outcome.failed.push((node.0, node.1, message)),
            }
        }
    }
    for n in nodes {
        if !finished.contains(&n) {
            outcome.skipped.push(n);
        }
    }
    let state = Arc::try_unwrap(shared)
        .ok()
        .expect("tasks are finished")
        .into_inner()
        .expect("no poisoned lock")
        .state;
    (outcome, state)
}

/// Nodes and edges: creates/updates after what they depend on; deletes before
/// the deletion of what they depend on; a replacement deletes, then creates.
fn graph(plan: &Plan) -> (Vec<Node>, Vec<(Node, Node)>) {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut ops: BTreeMap<&str, Vec<Op>> = BTreeMap::new();
    for c in plan
        .actions()
        .chain(plan.marks().filter(|c| c.action == Action::NoOp))
    {
        let list: &[Op] = match c.action {
            Action::Create => &[Op::Create],
            Action::Update => &[Op::Update],
            Action::Delete => &[Op::Delete],
            Action::Replace => &[Op::Delete, Op::Create],
            Action::NoOp => &[],
        };
        // An adopted object is marked as infra's before anything else touches
        // it: the provider refuses to change an object without the marker.
        let marked = c.reasons.contains(&Reason::Mark);
        if marked {
            nodes.push((c.address.clone(), Op::Mark));
            if let Some(first) = list.first() {
                edges.push(((c.address.clone(), Op::Mark), (c.address.clone(), *first)));
            }
        }
        for op in list {
            nodes.push((c.address.clone(), *op));
        }
        ops.insert(&c.address, list.to_vec());
        if c.action == Action::Replace {
            edges.push((
                (c.address.clone(), Op::Delete),
                (c.address.clone(), Op::Create),
            ));
        }
    }
    let has = |a: &str, op: Op| ops.get(a).is_some_and(|l| l.contains(&op));
    for c in plan.actions() {
        for dep in &c.depends_on {
            // Build: the dependency's create/update first.
            for op in [Op::Create, Op::Update] {
                if has(&c.address, Op::Create) || has(&c.address, Op::Update) {
                    let me = if has(&c.address, Op::Create) {
                        Op::Create
                    } else {
                        Op::Update
                    };
                    if has(dep, op) {
                        edges.push(((dep.clone(), op), (c.address.clone(), me)));
                    }
                }
            }
            // Tear down: the dependent goes before what it depends on.
            if has(&c.address, Op::Delete) && has(dep, Op::Delete) {
                edges.push(((c.address.clone(), Op::Delete), (dep.clone(), Op::Delete)));
            }
        }
    }
    (nodes, edges)
}

struct Job {
    node: Node,
    kind: String,
    id: Option<String>,
    provider: Arc<dyn Provider>,
    provider_name: String,
    desired: Option<DesiredInput>,
    vars: Attrs,
    shared: Arc<Mutex<Shared>>,
    reporter: Arc<dyn Reporter>,
    retry: RetryPolicy,
}

impl Job {
    async fn run(self) -> (Node, Result<(), String>) {
        let (address, op) = (self.node.0.clone(), self.node.1);
        self.reporter.start(&address, op);
        let started = Instant::now();
        let result = self.attempts().await;
        let error = result.as_ref().err().map(String::as_str);
        self.reporter.finish(&address, op, error, started.elapsed());
        (self.node, result)
    }

    async fn attempts(&self) -> Result<(), String> {
        let notify = |attempt, e: &Failure, wait| {
            self.reporter
                .retry(&self.node.0, self.node.1, attempt, &e.to_string(), wait)
        };
        self.retry
            .run(|| self.once(), notify)
            .await
            .map_err(Failure::message)
    }

    /// The provider call this job makes, with references resolved now.
    fn prepare(&self) -> Result<BatchOp, Failure> {
        let address = &self.node.0;
        match self.node.1 {
            Op::Mark => Err(Failure::Other(format!(
                "{address}: a marker is written by adopt, not in a batch"
            ))),
            Op::Delete => {
                let id = self
                    .current_id()
                    .ok_or_else(|| Failure::Other(format!("{address} has no recorded id")))?;
                Ok(BatchOp::Delete {
                    kind: self.kind.clone(),
                    id,
                    address: address.clone(),
                })
            }
            Op::Create | Op::Update => {
                let d = self
                    .desired
                    .as_ref()
                    .ok_or_else(|| Failure::Other(format!("{address} is not in the spec")))?;
                let attrs = self.resolve(d)?;
                let desired = Desired {
                    address: address.clone(),
                    kind: self.kind.clone(),
                    attrs,
                    settings: d.settings.clone(),
                };
                if self.node.1 == Op::Create {
                    return Ok(BatchOp::Create(desired));
                }
                let id = self
                    .current_id()
                    .or_else(|| self.id.clone())
                    .ok_or_else(|| Failure::Other(format!("{address} has no id")))?;
                let live = self.current_observed(&id);
                Ok(BatchOp::Update { id, desired, live })
            }
        }
    }

    /// Record what the provider reported, in the journal, before anything depending on it starts.
    fn finish(&self, result: BatchResult) -> Result<(), Failure> {
        self.record(self.entry(result))
    }

    /// The journal entry for what the provider reported.
    fn entry(&self, result: BatchResult) -> Entry {
        let address = self.node.0.clone();
        let (observed, created) = match result {
            BatchResult::Deleted => return Entry::Remove { address },
            BatchResult::Created(observed) => (observed, true),
            BatchResult::Updated(observed) => (observed, false),
        };
        let d = self.desired.as_ref();
        let resource = ResourceState {
            kind: self.kind.clone(),
            provider: self.provider_name.clone(),
            id: observed.id,
            attrs: observed.attrs,
            depends_on: d.map(|d| d.depends_on.clone()).unwrap_or_default(),
            group: d.and_then(|d| d.group.clone()),
            settings: d
                .filter(|d| d.takes_settings())
                .and_then(|d| self.applied_settings(d, created)),
            unmarked: false,
        };
        Entry::Put { address, resource }
    }

    /// The settings the object now has, as far as infra knows. After a create,
    /// every setting the kind takes, `null` where the spec left it unset. After an
    /// update, the record as it was, with each in-place setting the spec gives as
    /// the update set it; one the spec no longer gives was left as it was by the
    /// provider, so it is no longer known. The others cannot change in place.
    fn applied_settings(&self, d: &DesiredInput, created: bool) -> Option<Attrs> {
        let support = d.support?;
        if created {
            return Some(
                support
                    .settings
                    .iter()
                    .map(|k| {
                        (
                            k.to_string(),
                            d.settings.get(*k).cloned().unwrap_or(Value::Null),
                        )
                    })
                    .collect(),
            );
        }
        let shared = self.shared.lock().expect("state lock");
        let mut applied = shared
            .state
            .resources
            .get(&self.node.0)
            .and_then(|r| r.settings.clone())
            .unwrap_or_default();
        for key in support.settings_in_place {
            match d.settings.get(*key) {
                Some(v) => applied.insert(key.to_string(), v.clone()),
                None => applied.remove(*key),
            };
        }
        Some(applied)
    }

    async fn once(&self) -> Result<(), Failure> {
        if self.node.1 == Op::Mark {
            let id = self
                .current_id()
                .or_else(|| self.id.clone())
                .ok_or_else(|| Failure::Other(format!("{} has no recorded id", self.node.0)))?;
            let observed = self.provider.adopt(&self.kind, &id, &self.node.0).await?;
            return self.finish(BatchResult::Updated(observed));
        }
        let result = match self.prepare()? {
            BatchOp::Create(d) => BatchResult::Created(self.provider.create(&d).await?),
            BatchOp::Update { id, desired, live } => {
                match self.provider.update(&id, &desired, &live).await {
                    Ok(o) => BatchResult::Updated(o),
                    // Part of the change was made: record the object as it now is,
                    // so the next plan does not blame the difference on someone else.
                    Err(ProviderError::Partial { message, observed }) => {
                        self.finish(BatchResult::Updated(*observed))?;
                        return Err(Failure::Other(message));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            BatchOp::Delete { kind, id, address } => {
                self.provider.delete(&kind, &id, &address).await?;
                BatchResult::Deleted
            }
        };
        self.finish(result)
    }

    fn record(&self, entry: Entry) -> Result<(), Failure> {
        let mut shared = self.shared.lock().expect("state lock");
        shared
            .record(entry)
            .map_err(|e| Failure::Other(format!("cannot write the state journal: {e}")))
    }

    fn current_id(&self) -> Option<String> {
        let shared = self.shared.lock().expect("state lock");
        shared
            .state
            .resources
            .get(&self.node.0)
            .map(|r| r.id.clone())
    }

    fn current_observed(&self, id: &str) -> Observed {
        let shared = self.shared.lock().expect("state lock");
        let attrs = shared
            .state
            .resources
            .get(&self.node.0)
            .map(|r| r.attrs.clone())
            .unwrap_or_default();
        Observed {
            id: id.to_string(),
            owner: Some(self.node.0.clone()),
            attrs,
            claimed_by: None,
        }
    }

    /// Resolve references against what is recorded now (dependencies are done).
    fn resolve(&self, d: &DesiredInput) -> Result<Attrs, Failure> {
        let shared = self.shared.lock().expect("state lock");
        let lookup = |a: &Address, attr: &str| -> Option<Value> {
            let r = shared.state.resources.get(&a.to_string())?;
            let mut attrs = r.attrs.clone();
            infra_core::spec::schema::derive_computed(&r.kind, &mut attrs);
            attrs.get(attr).cloned()
        };
        let mut errors = Vec::new();
        let (attrs, unknown) = resolve_attrs(d, &self.vars, &lookup, &mut errors);
        if let Some(e) = errors.first() {
            return Err(Failure::Other(e.message.clone()));
        }
        if !unknown.is_empty() {
            let names: Vec<_> = unknown.into_iter().collect();
            return Err(Failure::Other(format!(
                "values still unknown at apply time: {}",
                names.join(", ")
            )));
        }
        Ok(attrs)
    }
}

/// Run jobs of one batching provider and kind as one `apply_batch` call. A batch
/// whose every op failed transiently is retried whole; otherwise each op stands alone.
async fn run_batch(jobs: Vec<Job>) -> Vec<(Node, Result<(), String>)> {
    let started = Instant::now();
    for j in &jobs {
        j.reporter.start(&j.node.0, j.node.1);
    }
    let mut results: Vec<Option<Result<(), String>>> = vec![None; jobs.len()];
    let mut ops = Vec::new();
    let mut index = Vec::new();
    for (i, j) in jobs.iter().enumerate() {
        match j.prepare() {
            Ok(op) => {
                ops.push(op);
                index.push(i);
            }
            Err(f) => results[i] = Some(Err(f.message())),
        }
    }
    let lead = &jobs[0];
    if !ops.is_empty() {
        // Each call sends what is still pending; what succeeded or failed for good
        // is kept, and only the part that failed transiently is retried (a batching
        // provider may split one call into several requests, and a 429 may hit
        // only the third).
        let done: Mutex<Vec<Option<infra_kit::Result<BatchResult>>>> =
            Mutex::new((0..ops.len()).map(|_| None).collect());
        let call = || async {
            let pending: Vec<usize> = {
                let d = done.lock().expect("batch results lock");
                (0..ops.len()).filter(|k| d[*k].is_none()).collect()
            };
            let batch: Vec<BatchOp> = pending.iter().map(|k| ops[*k].clone()).collect();
            let out = lead.provider.apply_batch(batch).await;
            let mut transient = None;
            let mut d = done.lock().expect("batch results lock");
            for (k, r) in pending.into_iter().zip(out) {
                match r {
                    Err(ProviderError::Transient {
                        message,
                        retry_after,
                    }) => {
                        transient.get_or_insert(ProviderError::Transient {
                            message,
                            retry_after,
                        });
                    }
                    r => d[k] = Some(r),
                }
            }
            match transient {
                Some(e) => Err(e),
                None => Ok(()),
            }
        };
        let notify = |attempt, e: &ProviderError, wait| {
            let d = done.lock().expect("batch results lock");
            for (k, &i) in index.iter().enumerate() {
                if d[k].is_none() {
                    let msg = e.to_string();
                    jobs[i]
                        .reporter
                        .retry(&jobs[i].node.0, jobs[i].node.1, attempt, &msg, wait);
                }
            }
        };
        let last = lead
            .retry
            .run(call, notify)
            .await
            .err()
            .map(|e| e.to_string());
        let out: Vec<infra_kit::Result<BatchResult>> = done
            .into_inner()
            .expect("batch results lock")
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(ProviderError::rejected(
                        last.clone().unwrap_or_else(|| "no result".into()),
                    ))
                })
            })
            .collect();
        // The whole batch is journaled with one write and one sync.
        let mut entries = Vec::new();
        let mut succeeded = Vec::new();
        for (k, r) in out.into_iter().enumerate() {
            let i = index[k];
            match r {
                Ok(done) => {
                    entries.push(jobs[i].entry(done));
                    succeeded.push(i);
                }
                Err(e) => results[i] = Some(Err(e.to_string())),
            }
        }
        let recorded = lead
            .shared
            .lock()
            .expect("state lock")
            .record_all(entries)
            .map_err(|e| format!("cannot write the state journal: {e}"));
        for i in succeeded {
            results[i] = Some(recorded.clone());
        }
    }
    jobs.iter()
        .zip(results)
        .map(|(j, r)| {
            let r =
                r.unwrap_or_else(|| Err("the provider returned no result for this change".into()));
            j.reporter.finish(
                &j.node.0,
                j.node.1,
                r.as_ref().err().map(String::as_str),
                started.elapsed(),
            );
            (j.node.clone(), r)
        })
        .collect()
}

enum Failure {
    Provider(ProviderError),
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Provider(e) => e.fmt(f),
            Failure::Other(m) => f.write_str(m),
        }
    }
}

impl RetryableError for Failure {
    fn transient(&self) -> Option<Option<Duration>> {
        match self {
            Failure::Provider(e) => e.transient(),
            Failure::Other(_) => None,
        }
    }
}

impl Failure {
    fn message(self) -> String {
        match self {
            Failure::Provider(e) => e.to_string(),
            Failure::Other(m) => m,
        }
    }
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Self {
        Failure::Provider(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::reporter::Silent;
    use infra_kit::Result as PResult;
    use infra_plan::{Plan, ResourceChange, FORMAT_VERSION};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A batching provider that counts calls and fails the first batch transiently.
    struct Batcher {
        calls: AtomicUsize,
        sizes: Mutex<Vec<usize>>,
        fail_first: bool,
    }

    #[async_trait::async_trait]
    impl Provider for Batcher {
        async fn list(&self, _: &str) -> PResult<Vec<Observed>> {
            Ok(vec![])
        }
        async fn create(&self, _: &Desired) -> PResult<Observed> {
            unreachable!("batched")
        }
        async fn update(&self, _: &str, _: &Desired, _: &Observed) -> PResult<Observed> {
            unreachable!("batched")
        }
        async fn delete(&self, _: &str, _: &str, _: &str) -> PResult<()> {
            unreachable!("batched")
        }
        async fn adopt(&self, _: &str, _: &str, _: &str) -> PResult<Observed> {
            unreachable!()
        }
        fn batches(&self, _: &str) -> bool {
            true
        }
        async fn apply_batch(&self, ops: Vec<BatchOp>) -> Vec<PResult<BatchResult>> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            self.sizes.lock().unwrap().push(ops.len());
            if self.fail_first && n == 0 {
                return ops
                    .iter()
                    .map(|_| {
                        Err(ProviderError::Transient {
                            message: "503".into(),
                            retry_after: Some(Duration::from_millis(1)),
                        })
                    })
                    .collect();
            }
            ops.into_iter()
                .map(|op| match op {
                    BatchOp::Create(d) => Ok(BatchResult::Created(Observed {
                        id: d.address.clone(),
                        owner: Some(d.address.clone()),
                        attrs: d.attrs,
                        claimed_by: None,
                    })),
                    _ => Ok(BatchResult::Deleted),
                })
                .collect()
        }
    }

    fn creates(n: usize) -> (Plan, Vec<DesiredInput>) {
        let mut changes = Vec::new();
        let mut desired = Vec::new();
        for i in 0..n {
            let address = format!("dns_record.r{i}");
            let mut attrs = Attrs::new();
            attrs.insert("content".into(), Value::from(format!("10.0.0.{i}")));
            changes.push(ResourceChange {
                address: address.clone(),
                kind: "dns_record".into(),
                provider: "dns".into(),
                action: Action::Create,
                id: None,
                before: None,
                after: Some(attrs.clone().into()),
                after_unknown: vec![],
                sensitive: vec![],
                replace_paths: vec![],
                restart_paths: vec![],
                reasons: vec![],
                depends_on: vec![],
                group: None,
                beside: None,
            });
            desired.push(DesiredInput {
                address,
                kind: "dns_record".into(),
                provider: "dns".into(),
                attrs,
                settings: Attrs::new(),
                depends_on: vec![],
                group: None,
                support: None,
                provider_kind: "powerdns".into(),
            });
        }
        let plan = Plan {
            format_version: FORMAT_VERSION.into(),
            infra_version: "test".into(),
            changes,
            drift: vec![],
            spec_digest: String::new(),
            spec_commit: None,
            state_lineage: String::new(),
            state_serial: 0,
            targets: vec![],
            replace: vec![],
            destroy: false,
            refreshed: true,
        };
        (plan, desired)
    }

    async fn run(fail_first: bool) -> (Arc<Batcher>, Outcome, State) {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("journal.jsonl")).unwrap();
        let provider = Arc::new(Batcher {
            calls: AtomicUsize::new(0),
            sizes: Mutex::new(vec![]),
            fail_first,
        });
        let mut providers: BTreeMap<String, Arc<dyn Provider>> = BTreeMap::new();
        providers.insert("dns".into(), provider.clone());
        let (plan, desired) = creates(50);
        let quick = crate::retry::RetryPolicy {
            first_wait: Duration::from_millis(1),
            ..Default::default()
        };
        let opts = ExecOptions {
            retry: [("dns".to_string(), quick)].into(),
            ..ExecOptions::default()
        };
        let work = Work {
            plan: &plan,
            desired: &desired,
            vars: &Attrs::new(),
            providers: &providers,
        };
        let (outcome, state) = execute(work, State::new(), journal, Arc::new(Silent), &opts).await;
        (provider, outcome, state)
    }

    #[tokio::test]
    async fn ready_changes_of_a_batching_provider_go_in_one_call() {
        let (p, outcome, state) = run(false).await;
        assert!(outcome.ok());
        assert_eq!(*p.sizes.lock().unwrap(), vec![50]);
        assert_eq!(state.resources.len(), 50);
    }

    #[tokio::test]
    async fn a_transient_batch_failure_is_retried_whole() {
        let (p, outcome, state) = run(true).await;
        assert!(outcome.ok(), "{:?}", outcome.failed);
        assert_eq!(*p.sizes.lock().unwrap(), vec![50, 50]);
        assert_eq!(state.resources.len(), 50);
    }
}
