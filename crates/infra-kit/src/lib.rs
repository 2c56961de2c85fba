//! The provider kit: what every provider implements and the data it exchanges
//! with the engine. Providers (the only code that talks to live systems) live in
//! `infra-providers`.
//!
//! What a provider serves, its settings and its audit are static data
//! (`ProviderInfo`), known without building it. Built, it reads live objects in
//! bulk (`list`), and creates, updates and deletes them one change at a time (or
//! several at once, `apply_batch`), marking every object it creates with the
//! resource's address so a crash between "created" and "state written" is
//! repaired by adoption on the next refresh. Retrying is the engine's job.
//! Providers never import the engine, the planner, the CLI or the renderers.

mod catalog;
mod check;
mod identity;
pub mod json_schema;
pub mod memory;
mod peers;
mod registry;
pub mod secret;

use async_trait::async_trait;

use infra_core::spec::Attrs;

pub use peers::Peers;
pub use registry::{ProviderFactory, Registry};
pub use secret::Secret;

pub use catalog::{
    any_setting, check_settings, parse_settings, AuditFn, Finding, HttpUrl, KindSupport, OneOrMany,
    ProviderInfo, SecretRef, Setting, Settings, SpecCheckFn,
};
pub use check::{validate, validate_auditing, COMMON_SETTINGS};
pub use infra_core::spec::validate::is_secret_ref;

/// A resource as the spec wants it, with every reference resolved.
#[derive(Debug, Clone)]
pub struct Desired {
    pub address: String,
    pub kind: String,
    pub attrs: Attrs,
    /// Provider-specific settings from the nested table named after the provider kind.
    pub settings: Attrs,
}

/// A live object as a provider read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub id: String,
    /// Address from the ownership marker; `None` for objects infra does not own.
    pub owner: Option<String>,
    pub attrs: Attrs,
    /// Another infra project's marker, where the object carries one: `infra
    /// adopt` leaves such an object alone.
    pub claimed_by: Option<String>,
}

/// Why a provider call failed. Only `Transient` is retried, and only by the engine.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<std::time::Duration>,
    },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("{message}")]
    Rejected {
        status: Option<u16>,
        message: String,
    },
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("not supported: {0}")]
    Unsupported(String),
    /// The object exists but carries no infra marker (or another project's).
    #[error("{0}")]
    NotOwned(String),
    /// An update that failed part way: some of it was done, and the object is
    /// now as `observed` (read again after the failure), which the state records.
    #[error("{message}")]
    Partial {
        message: String,
        observed: Box<Observed>,
    },
}

impl ProviderError {
    pub fn is_transient(&self) -> bool {
        matches!(self, ProviderError::Transient { .. })
    }

    pub fn rejected(message: impl Into<String>) -> Self {
        ProviderError::Rejected {
            status: None,
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, ProviderError>;

/// Context given to every provider when it is built.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Project root directory (for resolving relative paths).
    pub root: std::path::PathBuf,
    /// Project name: part of every ownership marker, so two projects never claim one object.
    pub project: String,
    /// Provider instance name, as in `[providers.NAME]`.
    pub instance: String,
    /// The instance's `[providers.NAME]` settings as written (references unresolved),
    /// for audits whose rule a setting relaxes.
    pub settings: infra_core::spec::Attrs,
    /// The project's other provider instances, for a provider that works through
    /// one (the acme provider answers DNS-01 through the project's DNS provider).
    pub peers: Peers,
}

#[async_trait]
pub trait Provider: Send + Sync {
    /// Every object of a kind that this provider can see, owned or not; one call per page.
    async fn list(&self, kind: &str) -> Result<Vec<Observed>>;

    async fn create(&self, r: &Desired) -> Result<Observed>;

    async fn update(&self, id: &str, r: &Desired, live: &Observed) -> Result<Observed>;

    /// Delete object `id`, recorded for `address`: only if its marker names this
    /// project and exactly that address (a mismatch is `NotOwned`, nothing touched).
    async fn delete(&self, kind: &str, id: &str, address: &str) -> Result<()>;

    /// Take over an existing unmarked object (`infra import`): write the marker.
    async fn adopt(&self, kind: &str, id: &str, address: &str) -> Result<Observed>;

    /// Everything the provider can say about one object `list` reports only in
    /// part (a guest the bulk listing shows by name and size): read for
    /// `infra adopt`, which describes it as a spec. `None`: `list` said it all.
    async fn describe(&self, _kind: &str, _id: &str) -> Result<Option<Observed>> {
        Ok(None)
    }

    /// Remove what a killed apply left behind: temp files of a write that never
    /// reached its rename, carrying this project's marker. Called once at the
    /// start of an apply, under the project lock; returns what was removed.
    async fn tidy(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    /// The DNS zones this provider serves (a DNS provider; others say `Unsupported`).
    async fn zones(&self) -> Result<Vec<String>> {
        Err(ProviderError::Unsupported(
            "this provider serves no DNS zones".into(),
        ))
    }

    /// The web server side of certificates (nginx): HTTP-01 answers and reloads.
    fn tls_server(&self) -> Option<&dyn TlsServer> {
        None
    }

    /// Can several changes of this kind go to the live system in one call?
    /// (PowerDNS: all rrset changes of one zone in one PATCH.)
    fn batches(&self, _kind: &str) -> bool {
        false
    }

    /// Apply several changes at once; one result per op, in order. The default
    /// runs them one by one. A batching provider returns the same transient error
    /// for every op when the whole call should be retried.
    async fn apply_batch(&self, ops: Vec<BatchOp>) -> Vec<Result<BatchResult>> {
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            out.push(match op {
                BatchOp::Create(d) => self.create(&d).await.map(BatchResult::Created),
                BatchOp::Update { id, desired, live } => self
                    .update(&id, &desired, &live)
                    .await
                    .map(BatchResult::Updated),
                BatchOp::Delete { kind, id, address } => self
                    .delete(&kind, &id, &address)
                    .await
                    .map(|()| BatchResult::Deleted),
            });
        }
        out
    }
}

/// A web server that serves certificates infra obtains: it answers ACME HTTP-01
/// challenges for names, and is told when a certificate it reads was renewed.
#[async_trait]
pub trait TlsServer: Send + Sync {
    /// Serve `key_authorization` at `/.well-known/acme-challenge/{token}` for
    /// `domain` on plain HTTP, until `withdraw_http01`.
    async fn present_http01(
        &self,
        domain: &str,
        token: &str,
        key_authorization: &str,
    ) -> Result<()>;

    async fn withdraw_http01(&self, domain: &str, token: &str) -> Result<()>;

    /// Certificate files changed under the sites that read them: load them.
    async fn reload_certificates(&self) -> Result<()>;
}

/// One change inside a batch.
#[derive(Debug, Clone)]
pub enum BatchOp {
    Create(Desired),
    Update {
        id: String,
        desired: Desired,
        live: Observed,
    },
    Delete {
        kind: String,
        id: String,
        /// The address the state records it for; the marker must name it.
        address: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum BatchResult {
    Created(Observed),
    Updated(Observed),
    Deleted,
}

/// The marker string every provider writes into objects it owns.
pub fn marker(project: &str, address: &str) -> String {
    format!("infra:{project}/{address}")
}

/// The address in a marker, if it belongs to this project.
pub fn parse_marker<'a>(project: &str, text: &'a str) -> Option<&'a str> {
    let rest = text.strip_prefix("infra:")?;
    let (p, address) = rest.split_once('/')?;
    (p == project).then_some(address)
}
