//! The provider instances of one project, built on first use and shared: the
//! engine's and those a provider reaches through another (acme → DNS, nginx).

use std::collections::BTreeMap;
use std::path::PathBuf;

use infra_core::spec::ProviderConfig;
use infra_kit::{self as providers, Peers, Registry};

pub fn peers_for(
    registry: Registry,
    configs: BTreeMap<String, ProviderConfig>,
    root: PathBuf,
    project: String,
) -> Peers {
    Peers::new(move |name, peers| {
        let config = configs
            .get(name)
            .ok_or_else(|| format!("no provider `{name}` is declared in infra.toml"))?;
        let ctx = providers::Context {
            root: root.clone(),
            project: project.clone(),
            instance: name.to_string(),
            settings: config.settings.clone(),
            peers: peers.clone(),
        };
        registry.build(config, &ctx)
    })
}
