//! `container` attributes ⇄ Engine API objects, and the audit that rejects what
//! Docker cannot express before any call is made.
//!
//! Read back must equal what apply wrote, so a second plan is empty. What Docker
//! keeps in a readable form is read from the container itself (hostname, image,
//! cores, memory, running state). What it keeps only in a transformed form (the
//! command after splitting, env after secrets were resolved, ports as bindings)
//! or not at all (disk, gateway, ip on the host network) is echoed from the
//! `infra.spec` label written at create time: the spec's own values, with secret
//! *references*, never resolved secrets. Labels, like those attributes, cannot
//! change without recreating the container, so the echo stays true.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerSummary, EndpointIpamConfig,
    EndpointSettings, HostConfig, NetworkingConfig, PortBinding, RestartPolicy,
    RestartPolicyNameEnum,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use infra_core::spec::validate::is_secret_ref;
use infra_core::spec::Attrs;
use infra_kit::{parse_marker, Observed, ProviderError, Result, Secret};

/// Label holding the ownership marker.
pub const OWNER_LABEL: &str = "infra.owner";
/// Label holding the echoed spec values (JSON of [`Echo`]).
pub const SPEC_LABEL: &str = "infra.spec";

const MIB: i64 = 1024 * 1024;
const NANO: i64 = 1_000_000_000;

/// Spec values Docker does not hold in a form that reads back as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Echo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<i64>,
    /// Values as the spec wrote them: `env:NAME` stays a reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<String>>,
}

/// One `container` resource, checked against what Docker can do.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    pub hostname: String,
    pub image: String,
    pub cores: Option<i64>,
    pub memory: Option<i64>,
    pub start: bool,
    pub echo: Echo,
    /// `[container.NAME.docker] restart`: the restart policy (changes in place).
    /// `None`: a create uses the default, an update leaves the container's own
    /// (one infra did not create may have another).
    pub restart: Option<RestartPolicyNameEnum>,
    /// `[container.NAME.docker] labels`: extra labels (fixed at create).
    pub labels: BTreeMap<String, String>,
}

/// Per-resource settings in `[container.NAME.docker]`.
pub const SETTINGS: &[&str] = &["restart", "labels"];

fn restart_policy(name: &str) -> Option<RestartPolicyNameEnum> {
    match name {
        "no" => Some(RestartPolicyNameEnum::NO),
        "always" => Some(RestartPolicyNameEnum::ALWAYS),
        "unless-stopped" => Some(RestartPolicyNameEnum::UNLESS_STOPPED),
        "on-failure" => Some(RestartPolicyNameEnum::ON_FAILURE),
        _ => None,
    }
}

/// One `[container.NAME.docker]` value, checked (validate calls this too).
pub fn check_setting(name: &str, value: &Value) -> std::result::Result<(), String> {
    match name {
        "restart" => value
            .as_str()
            .and_then(restart_policy)
            .map(|_| ())
            .ok_or_else(|| {
                format!(
                    "{value} is not one of \"no\", \"always\", \"unless-stopped\", \"on-failure\""
                )
            }),
        "labels" => {
            let ok = value.as_object().is_some_and(|m| {
                m.iter()
                    .all(|(k, v)| v.is_string() && !k.starts_with("infra."))
            });
            ok.then_some(()).ok_or_else(|| {
                "must be a table of strings whose names do not start with `infra.` (infra's own)".into()
            })
        }
        other => Err(format!(
            "unknown setting `{other}`; known: {}",
            SETTINGS.join(", ")
        )),
    }
}
/// Back after the engine restarts, unless someone stopped it on purpose (that
/// shows up as drift of `start`).
const DEFAULT_RESTART: RestartPolicyNameEnum = RestartPolicyNameEnum::UNLESS_STOPPED;

fn text(attrs: &Attrs, name: &str) -> Option<String> {
    attrs.get(name).and_then(Value::as_str).map(str::to_string)
}

impl ContainerSpec {
    /// Parse and audit a desired container (attributes and `[container.NAME.docker]`).
    pub fn from_desired(r: &infra_kit::Desired, network: &str) -> Result<ContainerSpec> {
        let mut spec = ContainerSpec::from_attrs(&r.attrs, network)?;
        let s = &r.settings;
        // Names and values alike (`check_setting` also refuses unknown names).
        for (k, v) in s {
            check_setting(k, v)
                .map_err(|e| ProviderError::rejected(format!("[{}.docker] {k}: {e}", r.address)))?;
        }
        spec.restart = s
            .get("restart")
            .and_then(Value::as_str)
            .and_then(restart_policy);
        if let Some(m) = s.get("labels").and_then(Value::as_object) {
            for (k, v) in m {
                spec.labels
                    .insert(k.clone(), v.as_str().unwrap_or_default().to_string());
            }
        }
        Ok(spec)
    }

    /// Parse and audit desired attributes for a container on `network`.
    pub fn from_attrs(attrs: &Attrs, network: &str) -> Result<ContainerSpec> {
        let hostname = text(attrs, "hostname")
            .ok_or_else(|| ProviderError::rejected("a container needs a hostname"))?;
        let image = text(attrs, "image").ok_or_else(|| {
            ProviderError::rejected(
                "the docker provider needs image = \"NAME:TAG\" (an image already on the engine; infra never pulls)",
            )
        })?;
        let env = match attrs.get("env") {
            None => None,
            Some(Value::Object(m)) => Some(
                m.iter()
                    .map(|(k, v)| match v.as_str() {
                        Some(s) => Ok((k.clone(), s.to_string())),
                        None => Err(ProviderError::rejected(format!("env {k} must be a string"))),
                    })
                    .collect::<Result<BTreeMap<_, _>>>()?,
            ),
            Some(_) => return Err(ProviderError::rejected("env must be a table of strings")),
        };
        let ports = match attrs.get("ports") {
            None => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| ProviderError::rejected("ports must be a list of strings"))?,
            ),
            Some(_) => return Err(ProviderError::rejected("ports must be a list of strings")),
        };
        if network == "host" && ports.as_ref().is_some_and(|p| !p.is_empty()) {
            return Err(ProviderError::rejected(
                "ports cannot be published on the host network (the container already shares the host's ports); \
                 bind the service to `ip` instead, or set network = \"NAME\" on the docker provider",
            ));
        }
        for p in ports.iter().flatten() {
            parse_port(p)?;
        }
        let echo = Echo {
            command: text(attrs, "command"),
            disk: attrs.get("disk").and_then(Value::as_i64),
            env,
            gateway: text(attrs, "gateway"),
            ip: text(attrs, "ip"),
            ports,
        };
        Ok(ContainerSpec {
            hostname,
            image,
            cores: attrs.get("cores").and_then(Value::as_i64),
            memory: attrs.get("memory").and_then(Value::as_i64),
            start: attrs.get("start").and_then(Value::as_bool).unwrap_or(true),
            echo,
            restart: None,
            labels: BTreeMap::new(),
        })
    }

    pub fn restart_policy(&self) -> RestartPolicy {
        RestartPolicy {
            name: Some(self.restart.unwrap_or(DEFAULT_RESTART)),
            maximum_retry_count: None,
        }
    }

    /// The `Cmd`: the command split on whitespace (no shell quoting; use
    /// `sh -c` inside the command only with an image that has a shell).
    pub fn cmd(&self) -> Option<Vec<String>> {
        let c = self.echo.command.as_deref()?;
        let words: Vec<String> = c.split_whitespace().map(str::to_string).collect();
        (!words.is_empty()).then_some(words)
    }

    /// `Env` for the engine: secret references resolved here and only here.
    /// With `ip` set, INFRA_IP and INFRA_ADDRESS carry the address (no prefix) so an
    /// entrypoint can bind to it; a spec value of the same name wins.
    pub fn env(&self) -> Result<Vec<String>> {
        let mut out = BTreeMap::new();
        if let Some(ip) = &self.echo.ip {
            let addr = ip.split('/').next().unwrap_or(ip).to_string();
            out.insert("INFRA_IP".to_string(), addr.clone());
            out.insert("INFRA_ADDRESS".to_string(), addr);
        }
        for (k, v) in self.echo.env.iter().flatten() {
            let value = if is_secret_ref(v) {
                Secret::resolve(v)
                    .map_err(|e| ProviderError::rejected(format!("env {k}: {e}")))?
                    .expose()
                    .to_string()
            } else {
                v.clone()
            };
            out.insert(k.clone(), value);
        }
        Ok(out.into_iter().map(|(k, v)| format!("{k}={v}")).collect())
    }

    /// The create request. `owner` is the marker; `network` the provider's setting.
    pub fn create_body(&self, owner: &str, network: &str) -> Result<ContainerCreateBody> {
        let mut labels: HashMap<String, String> = self.labels.clone().into_iter().collect();
        labels.insert(OWNER_LABEL.to_string(), owner.to_string());
        labels.insert(
            SPEC_LABEL.to_string(),
            serde_json::to_string(&self.echo).expect("echo serialises"),
        );
        let mut port_bindings = HashMap::new();
        for p in self.echo.ports.iter().flatten() {
            let (host_ip, host_port, container) = parse_port(p)?;
            port_bindings
                .entry(container)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: Some(host_ip),
                    host_port: Some(host_port),
                });
        }
        let exposed: Vec<String> = port_bindings.keys().cloned().collect();
        // A fixed address only means something on a user-defined network; on the host
        // network the address reaches the container through INFRA_IP.
        let networking_config = match (&self.echo.ip, network) {
            (Some(ip), n) if n != "host" => Some(NetworkingConfig {
                endpoints_config: Some(HashMap::from([(
                    n.to_string(),
                    EndpointSettings {
                        ipam_config: Some(EndpointIpamConfig {
                            ipv4_address: ip.split('/').next().map(str::to_string),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                )])),
            }),
            _ => None,
        };
        Ok(ContainerCreateBody {
            hostname: Some(self.hostname.clone()),
            image: Some(self.image.clone()),
            cmd: self.cmd(),
            env: Some(self.env()?),
            labels: Some(labels),
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            host_config: Some(HostConfig {
                network_mode: Some(network.to_string()),
                nano_cpus: self.cores.map(|c| c * NANO),
                memory: self.memory.map(|m| m * MIB),
                // No swap beyond the limit: memory is a hard limit, and a later
                // update that raises it never trips over an older swap limit.
                memory_swap: self.memory.map(|m| m * MIB),
                port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
                restart_policy: Some(self.restart_policy()),
                ..Default::default()
            }),
            networking_config,
            ..Default::default()
        })
    }
}

/// `HOST_IP:HOST_PORT:CONTAINER_PORT[/proto]` (or `HOST_PORT:CONTAINER_PORT`)
/// → (host ip, host port, `CONTAINER_PORT/proto`).
pub fn parse_port(p: &str) -> Result<(String, String, String)> {
    let bad = || {
        ProviderError::rejected(format!(
            "port `{p}` is not HOST_IP:HOST_PORT:CONTAINER_PORT (e.g. 127.0.0.1:8080:80)"
        ))
    };
    let (spec, proto) = match p.rsplit_once('/') {
        Some((s, proto @ ("tcp" | "udp" | "sctp"))) => (s, proto),
        Some(_) => return Err(bad()),
        None => (p, "tcp"),
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [ip, host, container] => (*ip, *host, *container),
        [host, container] => ("", *host, *container),
        _ => return Err(bad()),
    };
    let port_ok = |s: &str| s.parse::<u16>().is_ok_and(|n| n > 0);
    if !port_ok(host)
        || !port_ok(container)
        || (!ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err())
    {
        return Err(bad());
    }
    Ok((
        ip.to_string(),
        host.to_string(),
        format!("{container}/{proto}"),
    ))
}

/// The owner address of a container with these labels, if this project owns it.
pub fn owner(project: &str, labels: Option<&HashMap<String, String>>) -> Option<String> {
    let m = labels?.get(OWNER_LABEL)?;
    parse_marker(project, m).map(str::to_string)
}

/// A number of units, as an integer when it divides evenly (what the spec wrote).
fn units(value: i64, unit: i64) -> Option<Value> {
    match value {
        v if v <= 0 => None,
        v if v % unit == 0 => Some(Value::from(v / unit)),
        v => Some(Value::from(v as f64 / unit as f64)),
    }
}

/// The echoed spec values of an inspected container (none for foreign ones).
pub fn echo_of(c: &ContainerInspectResponse) -> Option<Echo> {
    let labels = c.config.as_ref()?.labels.as_ref()?;
    serde_json::from_str(labels.get(SPEC_LABEL)?).ok()
}

/// An inspected container as infra sees it.
pub fn observe(project: &str, c: &ContainerInspectResponse) -> Observed {
    let config = c.config.clone().unwrap_or_default();
    let host = c.host_config.clone().unwrap_or_default();
    let mut attrs = Attrs::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            attrs.insert(k.to_string(), v);
        }
    };
    let id = c.id.clone().unwrap_or_default();
    put("id", Some(Value::from(id.clone())));
    put("hostname", config.hostname.clone().map(Value::from));
    put("image", config.image.clone().map(Value::from));
    put("cores", host.nano_cpus.and_then(|n| units(n, NANO)));
    put("memory", host.memory.and_then(|m| units(m, MIB)));
    let running = c.state.as_ref().and_then(|s| s.running).unwrap_or(false);
    put("start", Some(Value::from(running)));
    let owner = owner(project, config.labels.as_ref());
    match echo_of(c).filter(|_| owner.is_some()) {
        Some(e) => {
            put("command", e.command.map(Value::from));
            put("disk", e.disk.map(Value::from));
            put(
                "env",
                e.env.map(|m| {
                    Value::Object(m.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
                }),
            );
            put("gateway", e.gateway.map(Value::from));
            if let Some(ip) = e.ip {
                let addr = ip.split('/').next().unwrap_or(&ip).to_string();
                put("address", Some(Value::from(addr)));
                put("ip", Some(Value::from(ip)));
            }
            put("ports", e.ports.map(Value::from));
        }
        // Not infra's: report the command as Docker runs it, nothing echoed.
        None => put("command", config.cmd.map(|c| Value::from(c.join(" ")))),
    }
    Observed {
        id,
        owner,
        attrs,
        claimed_by: None,
    }
}

/// A listed container infra does not own: what the list already says, no inspect.
pub fn observe_summary(c: &ContainerSummary) -> Observed {
    let mut attrs = Attrs::new();
    let id = c.id.clone().unwrap_or_default();
    attrs.insert("id".into(), Value::from(id.clone()));
    if let Some(image) = &c.image {
        attrs.insert("image".into(), Value::from(image.clone()));
    }
    let running = c.state.as_ref().is_some_and(|s| s.to_string() == "running");
    attrs.insert("start".into(), Value::from(running));
    Observed {
        id,
        owner: None,
        attrs,
        claimed_by: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(v: Value) -> Attrs {
        v.as_object().unwrap().clone().into_iter().collect()
    }

    #[test]
    fn ports_are_refused_on_the_host_network() {
        let a = attrs(json!({"hostname": "web", "image": "i:1", "ports": ["127.0.0.1:8080:80"]}));
        let e = ContainerSpec::from_attrs(&a, "host").unwrap_err();
        assert!(e.to_string().contains("host network"), "{e}");
        assert!(ContainerSpec::from_attrs(&a, "apps").is_ok());
    }

    #[test]
    fn port_forms() {
        assert_eq!(
            parse_port("127.0.0.1:8080:80").unwrap(),
            ("127.0.0.1".into(), "8080".into(), "80/tcp".into())
        );
        assert_eq!(parse_port("53:53/udp").unwrap().2, "53/udp");
        assert!(parse_port("80").is_err());
        assert!(parse_port("x:1:2").is_err());
    }

    #[test]
    fn secrets_are_resolved_for_the_engine_but_labels_keep_references() {
        std::env::set_var("INFRA_DOCKER_TEST_SECRET", "s3cret");
        let a = attrs(
            json!({"hostname": "web", "image": "i:1", "ip": "127.0.0.5/8",
            "command": "/bin/busybox  sleep 3600",
            "env": {"TOKEN": "env:INFRA_DOCKER_TEST_SECRET", "MODE": "prod"}}),
        );
        let s = ContainerSpec::from_attrs(&a, "host").unwrap();
        let body = s.create_body("infra:p/container.web", "host").unwrap();
        let env = body.env.unwrap();
        assert!(env.contains(&"TOKEN=s3cret".to_string()));
        assert!(env.contains(&"INFRA_IP=127.0.0.5".to_string()));
        assert_eq!(body.cmd.unwrap(), ["/bin/busybox", "sleep", "3600"]);
        let label = &body.labels.unwrap()[SPEC_LABEL];
        assert!(!label.contains("s3cret"), "{label}");
        assert!(label.contains("env:INFRA_DOCKER_TEST_SECRET"), "{label}");
        assert!(body.networking_config.is_none());
    }

    #[test]
    fn units_read_back_as_written() {
        assert_eq!(units(2 * NANO, NANO), Some(json!(2)));
        assert_eq!(units(NANO / 2, NANO), Some(json!(0.5)));
        assert_eq!(units(0, MIB), None);
    }
}
