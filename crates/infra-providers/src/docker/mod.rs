//! The `docker` provider: containers on one Docker Engine, through its API on a
//! unix socket (bollard).
//!
//! Ownership: every container it creates carries the label
//! `infra.owner = infra:PROJECT/container.NAME` and is named `PROJECT-NAME`, so two
//! projects on one engine never clash. Containers without this project's label are
//! never changed or removed; Docker cannot add a label to an existing container, so
//! `infra import` of a foreign container is refused with a way forward. The label
//! `infra.spec` echoes spec values Docker cannot give back as written (see convert).
//!
//! Changes: cores and memory are updated in place (`update_container`), `start`
//! starts or stops; everything else Docker fixes at create time, so `update`
//! recreates the container under the same name; `KindSupport::replace_on` lists
//! those attributes so the plan shows the replacement before it happens.
//! Refresh costs one `list_containers(all)` plus one inspect per container this
//! project owns (foreign ones are reported from the list alone).

mod convert;
mod engine;

use std::sync::Arc;

use async_trait::async_trait;
use bollard::models::ContainerUpdateBody;
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, RemoveContainerOptions,
};
use serde_json::Value;

use convert::ContainerSpec;
use engine::{Engine, Socket};
use infra_core::spec::schema::kinds;
use infra_core::spec::{Address, ProviderConfig};
use infra_kit::{check_settings, parse_settings, Finding, ProviderInfo, Setting};
use infra_kit::{
    marker, Context, Desired, KindSupport, Observed, Provider, ProviderError, ProviderFactory,
    Result,
};
use serde::Deserialize;

pub use convert::{OWNER_LABEL, SPEC_LABEL};

pub static INFO: ProviderInfo = ProviderInfo {
    kind: "docker",
    kinds: KINDS,
    settings: &[
        Setting::optional("socket", "Docker Engine socket (unix:///path or a path); default DOCKER_HOST, else /var/run/docker.sock"),
        Setting::optional("network", "network to attach containers to; default \"host\""),
    ],
    check_settings: check_settings::<Written>,
    check_spec: None,
    audit: None,
};

/// `[providers.NAME]` as written.
#[derive(Debug, Deserialize)]
struct Written {
    socket: Option<String>,
    network: Option<String>,
}

impl infra_kit::Settings for Written {
    fn check(&self, _project: &std::path::Path) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Some(Err(e)) = self.socket.as_deref().map(|s| Socket::choose(Some(s))) {
            out.push(Finding::at("socket", e));
        }
        if self.network.as_deref().is_some_and(|n| n.trim().is_empty()) {
            out.push(Finding::at(
                "network",
                "must name a network, e.g. \"host\" or \"bridge\"",
            ));
        }
        out
    }
}

pub const FACTORY: ProviderFactory = ProviderFactory { info: &INFO, build };

const KINDS: &[KindSupport] = &[KindSupport {
    kind: kinds::CONTAINER,
    // Fixed when Docker creates a container; a change recreates it.
    replace_on: &[
        "hostname", "image", "command", "env", "ip", "ports", "gateway", "disk",
    ],
    restart_on: &[],
    write_only: &[],
    // Containers are named after their address; hostnames may repeat.
    identity: Some(&[]),
    settings: convert::SETTINGS,
    // `restart` is updated in place; extra `labels` are fixed at create.
    settings_in_place: &["restart"],
    check_setting: convert::check_setting,
    unadoptable: Some(
        "Docker cannot add infra's ownership label to an existing container: recreate it under infra (declare it, remove the old one, apply)",
    ),
}];

/// The host network is the default: the container shares the host's addresses, so
/// `ip` is simply where its service binds, nothing needs a bridge, NAT or iptables
/// rules, and no private bridge range (172.17.0.0/16) is created or used.
const DEFAULT_NETWORK: &str = "host";

fn build(config: &ProviderConfig, ctx: &Context) -> std::result::Result<Arc<dyn Provider>, String> {
    let w: Written = parse_settings(&config.settings, &ctx.root).map_err(|f| f.to_string())?;
    let socket = Socket::choose(w.socket.as_deref())?;
    let network = w.network.unwrap_or_else(|| DEFAULT_NETWORK.to_string());
    Ok(Arc::new(DockerProvider::new(
        socket.0,
        &network,
        &ctx.project,
    )))
}

pub struct DockerProvider {
    engine: Engine,
    network: String,
    project: String,
}

impl DockerProvider {
    /// A provider for the engine at `socket` (a path), attaching containers to `network`.
    pub fn new(socket: String, network: &str, project: &str) -> Self {
        DockerProvider {
            engine: Engine::new(Socket(socket)),
            network: network.to_string(),
            project: project.to_string(),
        }
    }

    /// `PROJECT-NAME` for resource `container.NAME`.
    pub fn container_name(&self, address: &str) -> String {
        let name = Address::parse(address).map_or_else(|| address.to_string(), |a| a.name);
        format!("{}-{name}", self.project)
    }

    /// Inspect by id or name; `None` when the engine does not know it.
    async fn inspect(&self, what: &str) -> Result<Option<Observed>> {
        Ok(self
            .inspect_raw(what)
            .await?
            .map(|c| convert::observe(&self.project, &c)))
    }

    async fn inspect_raw(
        &self,
        what: &str,
    ) -> Result<Option<bollard::models::ContainerInspectResponse>> {
        let docker = self.engine.client().await?;
        match docker.inspect_container(what, None).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if engine::status(&e) == Some(404) => Ok(None),
            Err(e) => Err(self.engine.fail(&format!("inspecting container {what}"), e)),
        }
    }

    fn not_owned(
        &self,
        name: &str,
        live: &Observed,
        address: Option<&str>,
    ) -> Option<ProviderError> {
        match (&live.owner, address) {
            (None, _) => Some(ProviderError::NotOwned(format!(
                "container {name} exists and was not created by infra for project {}; refusing to touch it",
                self.project
            ))),
            (Some(o), Some(a)) if o != a => Some(ProviderError::NotOwned(format!(
                "container {name} belongs to {o}, not {a}"
            ))),
            _ => None,
        }
    }

    async fn remove(&self, id: &str) -> Result<()> {
        let docker = self.engine.client().await?;
        let opts = RemoveContainerOptions {
            force: true,
            v: true,
            link: false,
        };
        match docker.remove_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if engine::status(&e) == Some(404) => Ok(()),
            // A removal an earlier (killed) apply started: wait for it to finish.
            Err(e)
                if engine::status(&e) == Some(409)
                    && e.to_string().contains("already in progress") =>
            {
                self.wait_removed(id).await
            }
            Err(e) => Err(self.engine.fail(&format!("removing container {id}"), e)),
        }
    }

    /// Poll until the container is gone (bounded); still there is a transient error.
    async fn wait_removed(&self, id: &str) -> Result<()> {
        const POLL: std::time::Duration = std::time::Duration::from_millis(250);
        const LIMIT: u32 = 240; // 60 s
        for _ in 0..LIMIT {
            if self.inspect_raw(id).await?.is_none() {
                return Ok(());
            }
            tokio::time::sleep(POLL).await;
        }
        Err(ProviderError::Transient {
            message: format!("container {id} is still being removed after 60 s"),
            retry_after: None,
        })
    }

    /// Create (and start) a container for `r`; the name must be free.
    async fn create_fresh(&self, r: &Desired, spec: &ContainerSpec) -> Result<Observed> {
        let docker = self.engine.client().await?;
        let name = self.container_name(&r.address);
        let body = spec.create_body(&marker(&self.project, &r.address), &self.network)?;
        let opts = CreateContainerOptions {
            name: Some(name.clone()),
            platform: String::new(),
        };
        let created = docker
            .create_container(Some(opts), body)
            .await
            .map_err(|e| self.engine.fail(&format!("creating container {name}"), e))?;
        if spec.start {
            if let Err(e) = docker.start_container(&created.id, None).await {
                // Leave nothing half-made behind: the failure is the whole result.
                let _ = self.remove(&created.id).await;
                return Err(self.engine.fail(&format!("starting container {name}"), e));
            }
        }
        self.inspect(&created.id)
            .await?
            .ok_or_else(|| ProviderError::Transient {
                message: format!("container {name} vanished right after it was created"),
                retry_after: None,
            })
    }

    async fn set_running(&self, id: &str, name: &str, running: bool) -> Result<()> {
        let docker = self.engine.client().await?;
        let result = if running {
            docker.start_container(id, None).await
        } else {
            docker.stop_container(id, None).await
        };
        match result {
            Ok(()) => Ok(()),
            // 304: already in that state.
            Err(e) if engine::status(&e) == Some(304) => Ok(()),
            Err(e) => Err(self.engine.fail(
                &format!(
                    "{} container {name}",
                    if running { "starting" } else { "stopping" }
                ),
                e,
            )),
        }
    }
}

#[async_trait]
impl Provider for DockerProvider {
    async fn list(&self, _kind: &str) -> Result<Vec<Observed>> {
        let docker = self.engine.client().await?;
        let opts = ListContainersOptions {
            all: true,
            ..Default::default()
        };
        let summaries = docker
            .list_containers(Some(opts))
            .await
            .map_err(|e| self.engine.fail("listing containers", e))?;
        let mut out = Vec::with_capacity(summaries.len());
        for s in &summaries {
            let id = s.id.clone().unwrap_or_default();
            if convert::owner(&self.project, s.labels.as_ref()).is_none() {
                out.push(convert::observe_summary(s));
                continue;
            }
            // Ours: cores, memory and hostname are not in the list, so inspect it.
            // Gone between the list and the inspect = not there.
            out.extend(self.inspect(&id).await?);
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn create(&self, r: &Desired) -> Result<Observed> {
        let spec = ContainerSpec::from_desired(r, &self.network)?;
        let name = self.container_name(&r.address);
        if let Some(live) = self.inspect(&name).await? {
            if let Some(e) = self.not_owned(&name, &live, Some(&r.address)) {
                return Err(e);
            }
            // Ours, for this address, yet not in the state: left by an interrupted run.
            // Its settings are unknown to the plan, so start over with the spec's.
            self.remove(&live.id).await?;
        }
        self.create_fresh(r, &spec).await
    }

    async fn update(&self, id: &str, r: &Desired, _live: &Observed) -> Result<Observed> {
        let spec = ContainerSpec::from_desired(r, &self.network)?;
        let name = self.container_name(&r.address);
        let raw = self.inspect_raw(id).await?.ok_or_else(|| {
            ProviderError::NotFound(format!("container {name} ({id}) no longer exists"))
        })?;
        let live = convert::observe(&self.project, &raw);
        if let Some(e) = self.not_owned(&name, &live, Some(&r.address)) {
            return Err(e);
        }
        let str_attr = |k: &str| live.attrs.get(k).and_then(Value::as_str);
        let fixed_changed = str_attr("hostname") != Some(spec.hostname.as_str())
            || str_attr("image") != Some(spec.image.as_str())
            || convert::echo_of(&raw).as_ref() != Some(&spec.echo);
        if fixed_changed {
            self.remove(id).await?;
            return self.create_fresh(r, &spec).await;
        }
        let cores = spec.cores.map(Value::from);
        let memory = spec.memory.map(Value::from);
        let cores_changed = cores.is_some() && live.attrs.get("cores") != cores.as_ref();
        let memory_changed = memory.is_some() && live.attrs.get("memory") != memory.as_ref();
        let restart = raw
            .host_config
            .as_ref()
            .and_then(|h| h.restart_policy.as_ref())
            .and_then(|p| p.name);
        let restart_changed = spec.restart.is_some_and(|r| restart != Some(r));
        if cores_changed || memory_changed || restart_changed {
            let docker = self.engine.client().await?;
            let body = ContainerUpdateBody {
                nano_cpus: spec
                    .cores
                    .filter(|_| cores_changed)
                    .map(|c| c * 1_000_000_000),
                memory: spec
                    .memory
                    .filter(|_| memory_changed)
                    .map(|m| m * 1024 * 1024),
                memory_swap: spec
                    .memory
                    .filter(|_| memory_changed)
                    .map(|m| m * 1024 * 1024),
                restart_policy: restart_changed.then(|| spec.restart_policy()),
                ..Default::default()
            };
            docker
                .update_container(id, body)
                .await
                .map_err(|e| self.engine.fail(&format!("updating container {name}"), e))?;
        }
        if live.attrs.get("start") != Some(&Value::from(spec.start)) {
            self.set_running(id, &name, spec.start).await?;
        }
        self.inspect(id).await?.ok_or_else(|| {
            ProviderError::NotFound(format!(
                "container {name} ({id}) vanished during the update"
            ))
        })
    }

    async fn delete(&self, _kind: &str, id: &str, address: &str) -> Result<()> {
        let Some(live) = self.inspect(id).await? else {
            return Ok(());
        };
        if let Some(e) = self.not_owned(id, &live, Some(address)) {
            return Err(e);
        }
        self.remove(id).await
    }

    async fn adopt(&self, _kind: &str, id: &str, address: &str) -> Result<Observed> {
        let live = self
            .inspect(id)
            .await?
            .ok_or_else(|| ProviderError::NotFound(format!("no container {id}")))?;
        match &live.owner {
            Some(o) if o == address => Ok(live),
            Some(o) => Err(ProviderError::NotOwned(format!(
                "container {id} already belongs to {o}"
            ))),
            None => Err(ProviderError::Unsupported(format!(
                "Docker cannot add the ownership label to an existing container; \
                 remove container {id} and let `infra apply` create {address} (named {}), \
                 or recreate it yourself with --label {OWNER_LABEL}={}",
                self.container_name(address),
                marker(&self.project, address)
            ))),
        }
    }
}
