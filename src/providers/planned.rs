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

static DOCKER: ProviderInfo = ProviderInfo {
    kind: "docker",
    serves: &["container"],
    settings: &[
        s(
            "socket",
            false,
            false,
            "Docker Engine socket, default the local engine",
        ),
        s("network", false, false, "network to attach containers to"),
    ],
};
static PROXMOX: ProviderInfo = ProviderInfo {
    kind: "proxmox",
    serves: &["container", "vm"],
    settings: &[
        s("endpoint", true, false, "https://HOST:8006"),
        s("node", true, false, "node name, e.g. pve1"),
        s(
            "token",
            true,
            true,
            "API token USER@REALM!ID=SECRET, as env:NAME",
        ),
        s(
            "tls_fingerprint",
            false,
            false,
            "SHA-256 fingerprint of a self-signed certificate to pin",
        ),
    ],
};
static CLOUDFLARE: ProviderInfo = ProviderInfo {
    kind: "cloudflare",
    serves: &["dns_record"],
    settings: &[
        s("token", true, true, "API token, as env:NAME"),
        s("api_url", false, false, "default the public API"),
    ],
};
static NGINX: ProviderInfo = ProviderInfo {
    kind: "nginx",
    serves: &["proxy_site"],
    settings: &[
        s("sites_dir", true, false, "directory for site files"),
        s(
            "enabled_dir",
            false,
            false,
            "sites-enabled directory for symlinks",
        ),
        s("nginx", false, false, "nginx binary or command prefix"),
        s(
            "host",
            false,
            false,
            "ssh://user@host:port to manage a remote host",
        ),
    ],
};
static PROMETHEUS: ProviderInfo = ProviderInfo {
    kind: "prometheus",
    serves: &["monitor"],
    settings: &[
        s("targets_dir", true, false, "file_sd directory"),
        s(
            "host",
            false,
            false,
            "ssh://user@host:port to manage a remote host",
        ),
    ],
};

fn not_built(config: &ProviderConfig, _: &Context) -> Result<Arc<dyn Provider>, String> {
    Err(format!(
        "the {} provider cannot reach live systems in this build yet; `infra ask` and `infra plan --refresh=false` work, refresh and apply do not",
        config.kind
    ))
}

pub const FACTORIES: [ProviderFactory; 5] = [
    ProviderFactory {
        info: &DOCKER,
        build: not_built,
    },
    ProviderFactory {
        info: &PROXMOX,
        build: not_built,
    },
    ProviderFactory {
        info: &CLOUDFLARE,
        build: not_built,
    },
    ProviderFactory {
        info: &NGINX,
        build: not_built,
    },
    ProviderFactory {
        info: &PROMETHEUS,
        build: not_built,
    },
];
