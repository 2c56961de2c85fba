//! Reads started before the spec is loaded. Every (provider, kind) pair in the
//! recorded state is refreshed by every plan, so once the state file is read
//! (well before the spec of a large project is parsed and validated) those
//! reads can start, with providers built from `infra.toml` alone. The refresh
//! then awaits them instead of asking again. A pair whose read was not started
//! early, or a refresh given other provider instances than these, reads as before.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use infra_core::spec::load;
use infra_core::state;
use infra_kit::{self as providers, Provider, Registry};

type Listed = providers::Result<Vec<providers::Observed>>;

#[derive(Default)]
pub struct Prefetch {
    /// Provider instances built early, by instance name; the project reuses them.
    pub providers: BTreeMap<String, Arc<dyn Provider>>,
    /// Every instance of `infra.toml`, those above included (built on first use).
    pub peers: Option<providers::Peers>,
    reads: Mutex<BTreeMap<(String, String), JoinHandle<Listed>>>,
}

impl Prefetch {
    /// Start one `list` per recorded (provider, kind) pair whose provider `infra.toml`
    /// declares. Anything that does not work out here is left to the normal refresh.
    pub fn start(
        root: &Path,
        state: &state::State,
        registry: &Registry,
        rt: &tokio::runtime::Handle,
    ) -> Prefetch {
        let mut out = Prefetch::default();
        let Ok(text) = fs_err::read_to_string(root.join(load::ROOT_FILE)) else {
            return out;
        };
        let (root_spec, _) = load::load_texts(root, vec![(load::ROOT_FILE.into(), text)]);
        let peers = super::peers::peers_for(
            *registry,
            root_spec.providers.clone(),
            root.to_path_buf(),
            root_spec.project.name.clone(),
        );
        out.peers = Some(peers.clone());
        let mut reads = BTreeMap::new();
        for r in state.resources.values() {
            let key = (r.provider.clone(), r.kind.clone());
            if reads.contains_key(&key) {
                continue;
            }
            let Some(config) = root_spec.providers.get(&r.provider) else {
                continue;
            };
            if !registry.serves(&config.kind, &r.kind) {
                continue;
            }
            let provider = match out.providers.get(&r.provider) {
                Some(p) => p.clone(),
                None => {
                    let Ok(p) = peers.get(&r.provider) else {
                        continue;
                    };
                    out.providers.insert(r.provider.clone(), p.clone());
                    p
                }
            };
            let kind = r.kind.clone();
            let policy = crate::retry::RetryPolicy::for_provider(config);
            let read = rt.spawn(async move {
                super::list_with_retries(provider.as_ref(), &kind, policy).await
            });
            reads.insert(key, read);
        }
        out.reads = Mutex::new(reads);
        out
    }

    /// The early read of `kind` by `provider` (the instance itself), if one was started.
    pub fn take(
        &self,
        name: &str,
        kind: &str,
        provider: &Arc<dyn Provider>,
    ) -> Option<JoinHandle<Listed>> {
        if !self
            .providers
            .get(name)
            .is_some_and(|p| Arc::ptr_eq(p, provider))
        {
            return None;
        }
        self.reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(name.to_string(), kind.to_string()))
    }
}
