//! The project's provider instances, shared with the providers that work through
//! another one. Built on first use, once per instance: the engine and a peer
//! asking for the same name get the same provider (nginx's one-change-at-a-time
//! lock then covers challenge answers too).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::Provider;

type Build = dyn Fn(&str, &Peers) -> Result<Arc<dyn Provider>, String> + Send + Sync;

#[derive(Clone, Default)]
pub struct Peers(Arc<Inner>);

#[derive(Default)]
struct Inner {
    built: Mutex<BTreeMap<String, Arc<dyn Provider>>>,
    build: Option<Box<Build>>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let built = self
            .0
            .built
            .lock()
            .map(|b| b.keys().cloned().collect::<Vec<_>>());
        f.debug_struct("Peers")
            .field("built", &built.unwrap_or_default())
            .finish()
    }
}

impl Peers {
    /// `build` makes the instance of a name (it is given these peers for its context).
    pub fn new(
        build: impl Fn(&str, &Peers) -> Result<Arc<dyn Provider>, String> + Send + Sync + 'static,
    ) -> Peers {
        Peers(Arc::new(Inner {
            built: Mutex::default(),
            build: Some(Box::new(build)),
        }))
    }

    /// The instance named `name`, built now if nobody has yet.
    pub fn get(&self, name: &str) -> Result<Arc<dyn Provider>, String> {
        if let Some(p) = self.0.built.lock().expect("peers lock").get(name) {
            return Ok(p.clone());
        }
        let build = self
            .0
            .build
            .as_ref()
            .ok_or_else(|| format!("provider `{name}` is not available here"))?;
        // Built outside the lock: building may ask for other peers.
        let p = build(name, self)?;
        Ok(self
            .0
            .built
            .lock()
            .expect("peers lock")
            .entry(name.to_string())
            .or_insert(p)
            .clone())
    }

    /// Record an instance built elsewhere, so peers share it.
    pub fn insert(&self, name: &str, p: Arc<dyn Provider>) -> Arc<dyn Provider> {
        self.0
            .built
            .lock()
            .expect("peers lock")
            .entry(name.to_string())
            .or_insert(p)
            .clone()
    }
}
