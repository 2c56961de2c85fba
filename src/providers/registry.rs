//! The provider registry: one entry per provider kind. The engine looks providers
//! up here and never names one itself; adding a provider adds one line below.

use std::sync::Arc;

use super::{Context, KindSupport, Provider};
use crate::spec::validate::ProviderInfo;
use crate::spec::ProviderConfig;

/// Builds a provider from its settings; `Err` says what is wrong with them.
pub type BuildFn = fn(&ProviderConfig, &Context) -> Result<Arc<dyn Provider>, String>;

#[derive(Clone, Copy)]
pub struct ProviderFactory {
    pub info: &'static ProviderInfo,
    pub build: BuildFn,
}

static FACTORIES: &[ProviderFactory] = &[
    super::file::FACTORY,
    super::docker::FACTORY,
    super::cloudflare::FACTORY,
    super::proxmox::FACTORY,
    super::powerdns::FACTORY,
    super::nginx::FACTORY,
    super::prometheus::FACTORY,
];

#[derive(Clone, Copy)]
pub struct Registry {
    factories: &'static [ProviderFactory],
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            factories: FACTORIES,
        }
    }
}

impl Registry {
    pub fn infos(&self) -> Vec<&'static ProviderInfo> {
        self.factories.iter().map(|f| f.info).collect()
    }

    pub fn serves(&self, provider_kind: &str, kind: &str) -> bool {
        self.factories
            .iter()
            .any(|f| f.info.kind == provider_kind && f.info.serves(kind))
    }

    /// What a provider kind can do with a resource kind (static; no provider is built).
    pub fn kind_support(&self, provider_kind: &str, kind: &str) -> Option<&'static KindSupport> {
        self.factories
            .iter()
            .find(|f| f.info.kind == provider_kind)
            .and_then(|f| f.info.kind_support(kind))
    }

    pub fn build(
        &self,
        config: &ProviderConfig,
        ctx: &Context,
    ) -> Result<Arc<dyn Provider>, String> {
        let f = self
            .factories
            .iter()
            .find(|f| f.info.kind == config.kind)
            .ok_or_else(|| format!("unknown provider kind `{}`", config.kind))?;
        (f.build)(config, ctx)
    }
}
