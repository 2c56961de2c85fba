//! The providers: the only code that talks to live systems. Each one is a module
//! with a static `FACTORY` (what it serves, its settings, how to build it);
//! `registry()` lists them, and adding a provider adds one line there.

pub mod acme;
pub mod cloudflare;
pub mod docker;
pub mod file;
pub mod host;
pub mod http;
pub mod nginx;
pub mod powerdns;
pub mod prometheus;
pub mod proxmox;

use infra_kit::{ProviderFactory, Registry};

static FACTORIES: &[ProviderFactory] = &[
    file::FACTORY,
    docker::FACTORY,
    cloudflare::FACTORY,
    proxmox::FACTORY,
    powerdns::FACTORY,
    nginx::FACTORY,
    prometheus::FACTORY,
    acme::FACTORY,
];

/// Every provider this build of infra knows.
pub fn registry() -> Registry {
    Registry::new(FACTORIES)
}
