//! `memory`: a provider whose live system is a map in this process. It is the
//! engine's test double (faults on demand: transient failures, rejections, slow
//! calls, a crash after N writes) and the smallest complete provider, the example
//! in `docs/providers.md`. It is not in the CLI's registry: its objects die with
//! the process.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use crate::{
    check_settings, marker, parse_marker, parse_settings, Context, Desired, Finding, KindSupport,
    Observed, Provider, ProviderError, ProviderFactory, ProviderInfo, Result, Setting,
};
use infra_core::spec::schema::kinds;
use infra_core::spec::{Attrs, ProviderConfig, Value};

pub static INFO: ProviderInfo = ProviderInfo {
    kind: "memory",
    kinds: &[
        KindSupport::plain(kinds::FILE),
        KindSupport::plain(kinds::DNS_RECORD),
    ],
    settings: &[Setting::optional(
        "latency_ms",
        "how long every call takes, in milliseconds (default 0)",
    )],
    check_settings: check_settings::<Written>,
    check_spec: None,
    audit: Some(audit),
};

pub const FACTORY: ProviderFactory = ProviderFactory { info: &INFO, build };

#[derive(Deserialize)]
struct Written {
    latency_ms: Option<u64>,
}

impl crate::Settings for Written {
    fn check(&self, _project: &std::path::Path) -> Vec<Finding> {
        match self.latency_ms {
            Some(ms) if ms > 60_000 => vec![Finding::at("latency_ms", "at most 60000")],
            _ => Vec::new(),
        }
    }
}

/// Names are stored as written, so, like most DNS APIs, refuse capitals.
fn audit(d: &Desired, _: &Context) -> Vec<Finding> {
    match d.attrs.get("name").and_then(Value::as_str) {
        Some(n) if n != n.to_ascii_lowercase() => vec![Finding::at(
            "name",
            format!(
                "write name = \"{}\": names are lowercase",
                n.to_ascii_lowercase()
            ),
        )],
        _ => Vec::new(),
    }
}

/// Instances by (project root, instance name), so a test reaches the one its
/// project's registry builds.
fn instances() -> &'static Mutex<BTreeMap<(PathBuf, String), Memory>> {
    static INSTANCES: OnceLock<Mutex<BTreeMap<(PathBuf, String), Memory>>> = OnceLock::new();
    INSTANCES.get_or_init(Default::default)
}

fn build(config: &ProviderConfig, ctx: &Context) -> std::result::Result<Arc<dyn Provider>, String> {
    let w: Written = parse_settings(&config.settings, &ctx.root).map_err(|f| f.to_string())?;
    let m = Memory::shared(&ctx.root, &ctx.instance, &ctx.project);
    m.lock().faults.latency = Duration::from_millis(w.latency_ms.unwrap_or(0));
    Ok(Arc::new(m))
}

/// Faults the next calls meet.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The next N calls fail with a transient error (like a 503).
    pub transient: u32,
    /// The next N writes (not reads) fail with a transient error.
    pub transient_writes: u32,
    /// Writes to these addresses are rejected (like a 400 with the API's message).
    pub reject: BTreeSet<String>,
    /// Every call takes this long.
    pub latency: Duration,
    /// After this many successful writes every call hangs, as if the process died:
    /// the test drops the future and looks at what was journaled.
    pub crash_after: Option<usize>,
}

/// One call the provider received, for tests to assert on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    List(String),
    Create(String),
    Update(String),
    Delete(String),
    Adopt(String),
}

#[derive(Default)]
pub struct State {
    /// Live objects by id: (kind, marker if any, attributes).
    pub objects: BTreeMap<String, (String, Option<String>, Attrs)>,
    pub faults: Faults,
    pub calls: Vec<Call>,
    writes: usize,
    next_id: u64,
}

/// A handle on one in-memory live system; clones share it.
#[derive(Clone)]
pub struct Memory {
    project: String,
    state: Arc<Mutex<State>>,
}

impl Memory {
    pub fn new(project: &str) -> Memory {
        Memory {
            project: project.to_string(),
            state: Arc::default(),
        }
    }

    /// The instance a registry builds for `instance` of the project at `root`.
    pub fn shared(root: &std::path::Path, instance: &str, project: &str) -> Memory {
        let key = (root.to_path_buf(), instance.to_string());
        instances()
            .lock()
            .expect("memory registry")
            .entry(key)
            .or_insert_with(|| Memory::new(project))
            .clone()
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("memory provider state")
    }

    /// An object someone else made (no marker), as found on a real system.
    pub fn insert_foreign(&self, kind: &str, id: &str, attrs: Attrs) {
        self.lock()
            .objects
            .insert(id.to_string(), (kind.to_string(), None, attrs));
    }

    /// Wait, then fail or hang as the faults say; `write` counts towards `crash_after`.
    async fn enter(&self, call: Call, address: Option<&str>) -> Result<()> {
        let (latency, outcome) = {
            let mut s = self.lock();
            let write = !matches!(call, Call::List(_));
            s.calls.push(call);
            let outcome = if s.faults.crash_after.is_some_and(|n| s.writes >= n) {
                Err(None)
            } else if s.faults.transient > 0 || (write && s.faults.transient_writes > 0) {
                if s.faults.transient > 0 {
                    s.faults.transient -= 1;
                } else {
                    s.faults.transient_writes -= 1;
                }
                Err(Some(ProviderError::Transient {
                    message: "503 Service Unavailable".into(),
                    retry_after: None,
                }))
            } else if write && address.is_some_and(|a| s.faults.reject.contains(a)) {
                Err(Some(ProviderError::rejected(format!(
                    "400 Bad Request: {} is refused",
                    address.unwrap_or_default()
                ))))
            } else {
                Ok(())
            };
            (s.faults.latency, outcome)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match outcome {
            Ok(()) => Ok(()),
            Err(Some(e)) => Err(e),
            Err(None) => std::future::pending().await,
        }
    }

    fn observed(&self, id: &str, owner: &Option<String>, attrs: &Attrs) -> Observed {
        Observed {
            id: id.to_string(),
            owner: owner
                .as_deref()
                .and_then(|m| parse_marker(&self.project, m))
                .map(str::to_string),
            attrs: attrs.clone(),
            claimed_by: None,
        }
    }

    fn write(&self, id: &str, kind: &str, address: &str, attrs: &Attrs) -> Observed {
        let mut s = self.lock();
        let owner = Some(marker(&self.project, address));
        s.objects.insert(
            id.to_string(),
            (kind.to_string(), owner.clone(), attrs.clone()),
        );
        s.writes += 1;
        drop(s);
        self.observed(id, &owner, attrs)
    }
}

#[async_trait]
impl Provider for Memory {
    async fn list(&self, kind: &str) -> Result<Vec<Observed>> {
        self.enter(Call::List(kind.to_string()), None).await?;
        let s = self.lock();
        Ok(s.objects
            .iter()
            .filter(|(_, (k, _, _))| k == kind)
            .map(|(id, (_, owner, attrs))| self.observed(id, owner, attrs))
            .collect())
    }

    async fn create(&self, d: &Desired) -> Result<Observed> {
        self.enter(Call::Create(d.address.clone()), Some(&d.address))
            .await?;
        if let Some(f) = audit(d, &Context::default()).into_iter().next() {
            return Err(ProviderError::rejected(f.to_string()));
        }
        let id = {
            let mut s = self.lock();
            s.next_id += 1;
            format!("m-{}", s.next_id)
        };
        Ok(self.write(&id, &d.kind, &d.address, &d.attrs))
    }

    async fn update(&self, id: &str, d: &Desired, _: &Observed) -> Result<Observed> {
        self.enter(Call::Update(d.address.clone()), Some(&d.address))
            .await?;
        if !self.lock().objects.contains_key(id) {
            return Err(ProviderError::NotFound(id.to_string()));
        }
        Ok(self.write(id, &d.kind, &d.address, &d.attrs))
    }

    async fn delete(&self, _: &str, id: &str, address: &str) -> Result<()> {
        self.enter(Call::Delete(id.to_string()), None).await?;
        let mut s = self.lock();
        let owner = match s.objects.get(id) {
            None => return Err(ProviderError::NotFound(id.to_string())),
            Some((_, owner, _)) => owner
                .as_deref()
                .and_then(|m| parse_marker(&self.project, m)),
        };
        if owner != Some(address) {
            return Err(ProviderError::NotOwned(format!(
                "{id} is marked for {}, not {address}",
                owner.unwrap_or("no address of this project")
            )));
        }
        s.objects.remove(id);
        s.writes += 1;
        Ok(())
    }

    async fn adopt(&self, kind: &str, id: &str, address: &str) -> Result<Observed> {
        self.enter(Call::Adopt(id.to_string()), Some(address))
            .await?;
        let attrs = match self.lock().objects.get(id) {
            Some((k, _, attrs)) if k == kind => attrs.clone(),
            _ => return Err(ProviderError::NotFound(id.to_string())),
        };
        Ok(self.write(id, kind, address, &attrs))
    }
}
