//! The spec: what the user's TOML files declare.
//!
//! `load` reads and parses the files (keeping source locations), `validate` checks
//! them against the kind schemas (the provider checks are `infra_kit::validate`),
//! `refs` handles `${address.attribute}` references, `outputs` the `[outputs]` table. Edits to spec files are made
//! by `infra-ask`'s expander with toml_edit. Nothing here talks to live infrastructure.

pub mod check;
pub mod diag;
mod dns_check;
pub mod load;
pub mod outputs;
pub mod refs;
pub mod schema;
pub mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub use diag::{Diagnostic, Diagnostics, Loc, SourceMap};
pub use serde_json::Value;

/// Attribute values by name; BTreeMap keeps every serialisation deterministic.
pub type Attrs = BTreeMap<String, Value>;

/// `kind.name`, the address of a resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub kind: String,
    pub name: String,
}

impl Address {
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Address {
            kind: kind.into(),
            name: name.into(),
        }
    }

    /// Parse `kind.name`; the name may not contain dots.
    pub fn parse(s: &str) -> Option<Address> {
        let (kind, name) = s.split_once('.')?;
        if kind.is_empty() || name.is_empty() || name.contains('.') {
            return None;
        }
        Some(Address::new(kind, name))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Project {
    pub name: String,
    pub domain: Option<String>,
}

/// A provider instance: `[providers.NAME]`.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub name: String,
    pub kind: String,
    pub settings: Attrs,
    pub loc: Option<Loc>,
    pub setting_locs: BTreeMap<String, Loc>,
}

/// An address pool: `[pools.NAME]`.
#[derive(Debug, Clone)]
pub struct Pool {
    pub name: String,
    pub cidr: Option<ipnet::IpNet>,
    pub range: Option<(std::net::IpAddr, std::net::IpAddr)>,
    pub gateway: Option<std::net::IpAddr>,
    pub loc: Option<Loc>,
}

#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Addresses that may never be deleted or replaced.
    pub protect: Vec<String>,
    /// Most objects one apply may delete (replacements count).
    pub max_destroy: Option<u64>,
}

/// `[state]`: where the recorded state is shared.
#[derive(Debug, Clone, Default)]
pub struct StateSettings {
    /// The git remote applies fetch from, lock on and push to (a team's shared
    /// state); None keeps the state in this clone.
    pub remote: Option<String>,
    /// Seconds after which a held remote lock is reported as probably stale.
    pub lock_stale_after: Option<u64>,
    /// The branch the shared state is recorded on (default: the remote's default branch).
    pub branch: Option<String>,
}

/// `[mcp]`: what `infra mcp` offers an assistant.
#[derive(Debug, Clone, Default)]
pub struct McpSettings {
    /// The tools a client may call (None: every tool but `apply`).
    pub tools: Option<Vec<String>>,
    /// Whether the `apply` tool exists; it applies only digests a person
    /// approved with `infra approve`.
    pub allow_apply: bool,
    /// The table had an error: `infra mcp` refuses to start rather than guess.
    pub invalid: bool,
}

/// Every tool `infra mcp` has; `[mcp] tools` names a subset.
pub const MCP_TOOLS: &[&str] = &[
    "capabilities",
    "validate",
    "plan",
    "propose",
    "show",
    "history",
    "diff",
    "apply",
];

/// A remote lock held longer than this is reported as probably stale.
pub const DEFAULT_LOCK_STALE_AFTER: u64 = 3600;

#[derive(Debug, Clone)]
pub struct Resource {
    pub address: Address,
    /// Provider instance as written (`None`: the single provider serving the kind).
    pub provider: Option<String>,
    pub group: Option<String>,
    pub depends_on: Vec<(String, Loc)>,
    pub attrs: Attrs,
    /// Provider-specific tables, e.g. `[container.x.proxmox]`.
    pub settings: BTreeMap<String, Attrs>,
    /// Location of the resource's name in its table header.
    pub loc: Loc,
    /// Location of each attribute's value.
    pub attr_locs: BTreeMap<String, Loc>,
}

/// A whole project's spec as loaded from disk.
#[derive(Debug, Default)]
pub struct Spec {
    pub root: PathBuf,
    pub sources: SourceMap,
    pub project: Project,
    pub providers: BTreeMap<String, ProviderConfig>,
    pub pools: BTreeMap<String, Pool>,
    pub policy: Policy,
    pub state: StateSettings,
    pub mcp: McpSettings,
    pub ai: Attrs,
    /// Where each `[ai]` value is written.
    pub ai_locs: BTreeMap<String, Loc>,
    pub vars: Attrs,
    /// Where each `[vars]` value is written.
    pub var_locs: BTreeMap<String, Loc>,
    pub resources: Vec<Resource>,
    /// Index into `resources` by address.
    pub index: BTreeMap<Address, usize>,
    /// `[outputs]` of every spec file, by name.
    pub outputs: BTreeMap<String, outputs::Output>,
}

impl Spec {
    /// Every environment variable the spec names as a secret (`env:NAME`):
    /// provider settings, resources and their provider tables, [ai].
    pub fn env_refs(&self) -> std::collections::BTreeSet<String> {
        self.secret_refs("env:")
    }

    /// Every file the spec names as a secret (`file:PATH`), in the same places.
    pub fn file_refs(&self) -> std::collections::BTreeSet<String> {
        self.secret_refs("file:")
    }

    /// What follows `scheme` in every secret reference of that scheme.
    fn secret_refs(&self, scheme: &str) -> std::collections::BTreeSet<String> {
        fn collect(v: &Value, scheme: &str, out: &mut std::collections::BTreeSet<String>) {
            match v {
                Value::String(s) if validate::is_secret_ref(s) => {
                    if let Some(rest) = s.strip_prefix(scheme) {
                        out.insert(rest.to_string());
                    }
                }
                Value::Array(items) => items.iter().for_each(|i| collect(i, scheme, out)),
                Value::Object(map) => map.values().for_each(|i| collect(i, scheme, out)),
                _ => {}
            }
        }
        let mut out = std::collections::BTreeSet::new();
        let providers = self.providers.values().flat_map(|p| p.settings.values());
        let resources = self.resources.iter().flat_map(|r| {
            r.attrs
                .values()
                .chain(r.settings.values().flat_map(|a| a.values()))
        });
        for v in providers.chain(resources).chain(self.ai.values()) {
            collect(v, scheme, &mut out);
        }
        out
    }

    pub fn resource(&self, addr: &Address) -> Option<&Resource> {
        self.index.get(addr).map(|&i| &self.resources[i])
    }

    /// The provider instance a resource uses: the one it names, or the only one serving its kind.
    pub fn provider_for(
        &self,
        r: &Resource,
        serves: impl Fn(&str, &str) -> bool,
    ) -> Option<&ProviderConfig> {
        match &r.provider {
            Some(name) => self.providers.get(name),
            None => {
                let mut it = self
                    .providers
                    .values()
                    .filter(|p| serves(&p.kind, &r.address.kind));
                let first = it.next()?;
                it.next().is_none().then_some(first)
            }
        }
    }
}
