//! Provider kinds whose settings are part of the spec contract (DESIGN.md §2) but
//! whose live implementation is not in this build yet. The spec validates against
//! them and `ask`/`plan --refresh=false` work; building one for a refresh or an
//! apply fails with a clear message instead of pretending.

use std::sync::Arc;

use super::{Context, Provider, ProviderFactory};
use crate::spec::validate::{ProviderInfo, Setting};
use crate::spec::ProviderConfig;

const fn s(name: &'static str, required: bool, secret: bool, help: &'static str) -> Setting {
    Setting {
        name,
        required,
        secret,
        help,
    }
}

static POWERDNS: ProviderInfo = ProviderInfo {
    kind: "powerdns",
    serves: &["dns_record"],
    settings: &[
        s("api_url", true, false, "http://HOST:8081"),
        s("api_key", true, true, "X-API-Key, as env:NAME"),
        s("server_id", false, false, "default localhost"),
    ],
};

fn not_built(config: &ProviderConfig, _: &Context) -> Result<Arc<dyn Provider>, String> {
    Err(format!(
        "the {} provider cannot reach live systems in this build yet; `infra ask` and `infra plan --refresh=false` work, refresh and apply do not",
        config.kind
    ))
}

pub const FACTORIES: [ProviderFactory; 1] = [ProviderFactory {
    info: &POWERDNS,
    build: not_built,
}];
