//! The provider registry: one entry per provider kind. The engine looks providers
//! up here and never names one itself; `infra-providers` holds the list.

use std::sync::Arc;

use super::{Context, KindSupport, Provider};
use crate::ProviderInfo;
use infra_core::spec::ProviderConfig;

/// Builds a provider from its settings; `Err` says what is wrong with them.
pub type BuildFn = fn(&ProviderConfig, &Context) -> Result<Arc<dyn Provider>, String>;

#[derive(Clone, Copy)]
pub struct ProviderFactory {
    pub info: &'static ProviderInfo,
    pub build: BuildFn,
}

#[derive(Clone, Copy)]
pub struct Registry {
    factories: &'static [ProviderFactory],
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.factories.iter().map(|p| p.info.kind))
            .finish()
    }
}

impl Registry {
    pub const fn new(factories: &'static [ProviderFactory]) -> Registry {
        Registry { factories }
    }

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
