//! A group's access card: where its services answer and how to get in, built from
//! the recorded state alone (no provider is asked). Credentials appear as the
//! `env:`/`file:` references the spec wrote, never as values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

use crate::cli::output::Ui;
use crate::spec::schema::{self, kinds};
use crate::spec::validate::is_secret_ref;
use crate::spec::{Attrs, Spec};
use crate::state::{ResourceState, State};

/// What a card needs from the spec beside the state: each provider instance's
/// kind (Proxmox or Docker decide the shell) and node, and the project name
/// (Docker names a container `PROJECT-NAME`).
#[derive(Debug, Default)]
pub struct Places {
    pub project: String,
    /// Instance name → (provider kind, Proxmox node).
    pub providers: BTreeMap<String, (String, Option<String>)>,
}

impl Places {
    pub fn of(spec: &Spec) -> Places {
        let providers = spec
            .providers
            .values()
            .map(|p| {
                let node = p.settings.get("node").and_then(Value::as_str);
                (p.name.clone(), (p.kind.clone(), node.map(str::to_string)))
            })
            .collect();
        Places {
            project: spec.project.name.clone(),
            providers,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    /// The group, or the address of a resource shown on its own.
    pub name: String,
    pub urls: Vec<Item>,
    pub addresses: Vec<Item>,
    pub dns: Vec<Item>,
    pub shells: Vec<Shell>,
    pub monitors: Vec<Monitor>,
    /// TLS certificates infra obtained: names, expiry, where the files are.
    pub certificates: Vec<Certificate>,
    pub credentials: Vec<Credential>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Certificate {
    pub resource: String,
    pub domains: Vec<String>,
    /// RFC 3339, as the CA issued it.
    pub not_after: Option<String>,
    pub cert_path: Option<String>,
}

/// One value and the resource it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub resource: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shell {
    pub resource: String,
    pub command: String,
    /// Where to run it (a Proxmox node); `None`: from anywhere that reaches the guest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Monitor {
    pub resource: String,
    pub url: String,
    /// The probe's current state; `None`: the provider cannot read it (the
    /// prometheus provider writes probe targets and reads no results).
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Credential {
    pub resource: String,
    /// Where the reference is written, e.g. `env.DB_PASSWORD`.
    pub attribute: String,
    /// The reference itself, e.g. `env:GITEA_DB_PASSWORD`.
    pub reference: String,
}

/// Every group the state records, sorted.
pub fn groups(state: &State) -> BTreeSet<&str> {
    state
        .resources
        .values()
        .filter_map(|r| r.group.as_deref())
        .collect()
}

/// The card of `group`, or `None` when no recorded resource belongs to it.
pub fn for_group(state: &State, group: &str, places: &Places) -> Option<Card> {
    let members: Vec<_> = state
        .resources
        .iter()
        .filter(|(_, r)| r.group.as_deref() == Some(group))
        .collect();
    (!members.is_empty()).then(|| Card::build(group, members, places))
}

impl Card {
    /// The card of `resources` (in address order), titled `name`.
    pub fn build<'a>(
        name: &str,
        resources: impl IntoIterator<Item = (&'a String, &'a ResourceState)>,
        places: &Places,
    ) -> Card {
        let mut card = Card {
            name: name.to_string(),
            urls: Vec::new(),
            addresses: Vec::new(),
            dns: Vec::new(),
            shells: Vec::new(),
            monitors: Vec::new(),
            certificates: Vec::new(),
            credentials: Vec::new(),
        };
        for (address, r) in resources {
            let mut attrs = r.attrs.clone();
            schema::derive_computed(&r.kind, &mut attrs);
            let item = |value: String| Item {
                resource: address.clone(),
                value,
            };
            match r.kind.as_str() {
                kinds::PROXY_SITE => card.urls.extend(url(&attrs).map(item)),
                kinds::DNS_RECORD => {
                    let fqdn = text(&attrs, "fqdn");
                    if fqdn.is_some_and(|f| !card.dns.iter().any(|d| d.value == f)) {
                        card.dns.extend(fqdn.map(|f| item(f.to_string())));
                    }
                }
                kinds::MONITOR => card.monitors.extend(text(&attrs, "url").map(|u| Monitor {
                    resource: address.clone(),
                    url: u.to_string(),
                    state: None,
                })),
                kinds::CERTIFICATE => card.certificates.push(Certificate {
                    resource: address.clone(),
                    domains: attrs
                        .get("domains")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default(),
                    not_after: text(&attrs, "not_after").map(String::from),
                    cert_path: text(&attrs, "cert_path").map(String::from),
                }),
                kinds::CONTAINER | kinds::VM => {
                    let ip = text(&attrs, "address");
                    card.addresses.extend(ip.map(|a| item(a.to_string())));
                    card.shells.extend(shells(address, r, ip, places));
                }
                _ => {}
            }
            for (name, value) in &r.attrs {
                references(address, name, value, &mut card.credentials);
            }
        }
        card
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
            && self.addresses.is_empty()
            && self.dns.is_empty()
            && self.shells.is_empty()
            && self.monitors.is_empty()
            && self.certificates.is_empty()
            && self.credentials.is_empty()
    }

    /// For a terminal: the name, then one labelled line per fact.
    pub fn human(&self, ui: &Ui) -> String {
        let name = shown(&self.name);
        let mut out = format!("{}\n", if ui.color { ui.bold(&name) } else { name });
        let mut line = |label: &str, text: String| {
            let _ = writeln!(out, "  {label:<12} {}", shown(&text));
        };
        let mut labelled = |label: &str, lines: Vec<String>| {
            for (i, text) in lines.into_iter().enumerate() {
                line(if i == 0 { label } else { "" }, text);
            }
        };
        labelled("URL", self.urls.iter().map(|u| u.value.clone()).collect());
        labelled(
            "Address",
            self.addresses
                .iter()
                .map(|a| format!("{} ({})", a.value, a.resource))
                .collect(),
        );
        labelled("DNS", self.dns.iter().map(|d| d.value.clone()).collect());
        labelled(
            "Shell",
            self.shells
                .iter()
                .map(|s| match &s.on {
                    Some(node) => format!("{} (on node {node})", s.command),
                    None => s.command.clone(),
                })
                .collect(),
        );
        labelled(
            "Monitor",
            self.monitors
                .iter()
                .map(|m| match &m.state {
                    Some(state) => format!("{} ({state})", m.url),
                    None => format!("{} (state not read by infra)", m.url),
                })
                .collect(),
        );
        let now = crate::util::unix_now();
        labelled(
            "Certificate",
            self.certificates
                .iter()
                .map(|c| {
                    let expiry = c
                        .not_after
                        .as_deref()
                        .and_then(|t| Some((t, crate::time::parse_utc(t)?)))
                        .map(|(t, at)| {
                            let days = (at - now).div_euclid(86_400);
                            format!(", {} ({t})", crate::render::human::expiry_text(days))
                        })
                        .unwrap_or_default();
                    let path = c
                        .cert_path
                        .as_deref()
                        .map(|p| format!(", {p}"))
                        .unwrap_or_default();
                    format!("{}{expiry}{path}", c.domains.join(" "))
                })
                .collect(),
        );
        labelled(
            "Credentials",
            self.credentials
                .iter()
                .map(|c| format!("{} ({} {})", c.reference, c.resource, c.attribute))
                .collect(),
        );
        if self.is_empty() {
            line(
                "",
                "nothing to reach: no site, address, name or monitor".into(),
            );
        }
        out
    }
}

fn text<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a str> {
    attrs
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// `https://` when the site has a certificate, else `http://`; the port from
/// `listen` unless it is the scheme's own.
fn url(attrs: &Attrs) -> Option<String> {
    let host = text(attrs, "server_name")?;
    let (scheme, default) = match text(attrs, "tls_cert") {
        Some(_) => ("https", 443),
        None => ("http", 80),
    };
    match text(attrs, "listen").and_then(listen_port) {
        Some(port) if port != default => Some(format!("{scheme}://{host}:{port}")),
        _ => Some(format!("{scheme}://{host}")),
    }
}

/// The port of an nginx `listen` value: `8080`, `ADDRESS:8080`, `[::]:8080`,
/// with parameters after it; `None` for an address alone or a unix socket.
fn listen_port(listen: &str) -> Option<u16> {
    let first = listen.split_whitespace().next()?;
    first
        .parse()
        .ok()
        .or_else(|| first.rsplit_once(':')?.1.parse().ok())
}

/// How to get a shell in a guest, as far as the state and the spec tell.
fn shells(address: &str, r: &ResourceState, ip: Option<&str>, places: &Places) -> Vec<Shell> {
    let Some((kind, node)) = places.providers.get(&r.provider) else {
        return Vec::new();
    };
    let shell = |command: String, on: Option<String>| Shell {
        resource: address.to_string(),
        command,
        on,
    };
    let mut out = Vec::new();
    match (kind.as_str(), r.kind.as_str()) {
        ("proxmox", _) => {
            // Only keys given at create (`[container.NAME.proxmox] ssh_public_keys`)
            // let root in; without them ssh would only ask for a password.
            if let (Some(ip), true) = (ip, has_ssh_keys(r)) {
                out.push(shell(format!("ssh root@{ip}"), None));
            }
            if r.kind == kinds::CONTAINER {
                out.push(shell(format!("pct enter {}", r.id), node.clone()));
            }
        }
        ("docker", kinds::CONTAINER) => {
            let name = address.split_once('.').map_or(address, |(_, n)| n);
            let container = format!("{}-{name}", places.project);
            out.push(shell(format!("docker exec -it {container} sh"), None));
        }
        _ => {}
    }
    out
}

fn has_ssh_keys(r: &ResourceState) -> bool {
    match r.settings.as_ref().and_then(|s| s.get("ssh_public_keys")) {
        Some(Value::String(k)) => !k.trim().is_empty(),
        Some(Value::Array(keys)) => keys
            .iter()
            .any(|k| k.as_str().is_some_and(|k| !k.trim().is_empty())),
        _ => false,
    }
}

/// Every `env:`/`file:` reference inside a value, with the path to it.
fn references(resource: &str, path: &str, value: &Value, out: &mut Vec<Credential>) {
    match value {
        Value::String(s) if is_secret_ref(s) => out.push(Credential {
            resource: resource.to_string(),
            attribute: path.to_string(),
            reference: s.clone(),
        }),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                references(resource, &format!("{path}[{i}]"), v, out);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                references(resource, &format!("{path}.{k}"), v, out);
            }
        }
        _ => {}
    }
}

/// Text from the state as a terminal should get it: a control or bidi character
/// is shown escaped, never acted on.
pub(super) fn shown(s: &str) -> String {
    if s.chars().any(crate::spec::check::invisible) {
        format!("{s:?}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(kind: &str, provider: &str, id: &str, attrs: Value) -> ResourceState {
        ResourceState {
            kind: kind.into(),
            provider: provider.into(),
            id: id.into(),
            attrs: serde_json::from_value(attrs).unwrap(),
            depends_on: vec![],
            group: Some("gitea".into()),
            settings: None,
            unmarked: false,
        }
    }

    fn places() -> Places {
        let p = |kind: &str, node: Option<&str>| (kind.to_string(), node.map(str::to_string));
        Places {
            project: "lab".into(),
            providers: BTreeMap::from([
                ("pve".into(), p("proxmox", Some("pve1"))),
                ("engine".into(), p("docker", None)),
                ("dns".into(), p("powerdns", None)),
                ("edge".into(), p("nginx", None)),
                ("mon".into(), p("prometheus", None)),
            ]),
        }
    }

    /// A Proxmox container with keys and a secret, its name, site, DNS and monitor.
    fn gitea(tls: bool, listen: &str) -> State {
        let mut state = State::new();
        let mut ct = resource(
            "container",
            "pve",
            "120",
            json!({"hostname": "gitea", "ip": "10.0.0.5/24", "address": "10.0.0.5",
                   "env": {"GITEA__database__PASSWD": "env:GITEA_DB_PASSWORD", "MODE": "prod"}}),
        );
        ct.settings = Some(
            serde_json::from_value(
                json!({"ssh_public_keys": "ssh-ed25519 AAAA admin@lab", "vmid": null}),
            )
            .unwrap(),
        );
        let mut site = json!({"server_name": "git.lab.example.com", "upstream": "http://10.0.0.5:3000", "listen": listen});
        if tls {
            site["tls_cert"] = json!("/etc/ssl/git.pem");
        }
        let add = [
            ("container.gitea", ct),
            (
                "dns_record.gitea",
                resource(
                    "dns_record",
                    "dns",
                    "git.lab.example.com./A",
                    json!({"zone": "lab.example.com", "name": "git", "type": "A", "content": "10.0.0.5"}),
                ),
            ),
            (
                "proxy_site.gitea",
                resource("proxy_site", "edge", "gitea", site),
            ),
            (
                "monitor.gitea",
                resource(
                    "monitor",
                    "mon",
                    "gitea",
                    json!({"url": "https://git.lab.example.com/"}),
                ),
            ),
        ];
        for (a, r) in add {
            state.resources.insert(a.into(), r);
        }
        state
    }

    #[test]
    fn a_group_card_has_every_way_in_and_no_secret() {
        let card = for_group(&gitea(true, "443"), "gitea", &places()).unwrap();
        let item = |r: &str, v: &str| Item {
            resource: r.into(),
            value: v.into(),
        };
        assert_eq!(
            card.urls,
            vec![item("proxy_site.gitea", "https://git.lab.example.com")]
        );
        assert_eq!(card.addresses, vec![item("container.gitea", "10.0.0.5")]);
        // fqdn is derived where the provider did not record it.
        assert_eq!(
            card.dns,
            vec![item("dns_record.gitea", "git.lab.example.com")]
        );
        let commands: Vec<_> = card
            .shells
            .iter()
            .map(|s| (s.command.as_str(), s.on.as_deref()))
            .collect();
        assert_eq!(
            commands,
            vec![("ssh root@10.0.0.5", None), ("pct enter 120", Some("pve1"))]
        );
        assert_eq!(card.monitors[0].url, "https://git.lab.example.com/");
        assert_eq!(card.monitors[0].state, None);
        assert_eq!(
            card.credentials,
            vec![Credential {
                resource: "container.gitea".into(),
                attribute: "env.GITEA__database__PASSWD".into(),
                reference: "env:GITEA_DB_PASSWORD".into(),
            }]
        );
        // A literal env value is not a credential reference and never shown.
        let json = serde_json::to_string(&card).unwrap();
        assert!(!json.contains("prod"), "{json}");
    }

    #[test]
    fn urls_follow_tls_and_listen() {
        let url_of = |tls, listen| {
            for_group(&gitea(tls, listen), "gitea", &places())
                .unwrap()
                .urls[0]
                .value
                .clone()
        };
        assert_eq!(url_of(false, "80"), "http://git.lab.example.com");
        assert_eq!(url_of(false, "8080"), "http://git.lab.example.com:8080");
        assert_eq!(
            url_of(false, "127.0.0.1:8081"),
            "http://git.lab.example.com:8081"
        );
        assert_eq!(
            url_of(true, "[::]:8443 ssl http2"),
            "https://git.lab.example.com:8443"
        );
        assert_eq!(url_of(true, "0.0.0.0:443"), "https://git.lab.example.com");
        assert_eq!(url_of(false, "443"), "http://git.lab.example.com:443");
        assert_eq!(url_of(false, "10.0.0.1"), "http://git.lab.example.com");
    }

    #[test]
    fn shells_follow_the_provider_and_its_settings() {
        let mut state = gitea(false, "80");
        // Without keys there is no ssh line; the node's console still works.
        state.resources.get_mut("container.gitea").unwrap().settings = None;
        let card = for_group(&state, "gitea", &places()).unwrap();
        let commands: Vec<_> = card.shells.iter().map(|s| s.command.as_str()).collect();
        assert_eq!(commands, vec!["pct enter 120"]);

        // A Docker container: exec by the name the provider gives it.
        state.resources.get_mut("container.gitea").unwrap().provider = "engine".into();
        let card = for_group(&state, "gitea", &places()).unwrap();
        let commands: Vec<_> = card.shells.iter().map(|s| s.command.as_str()).collect();
        assert_eq!(commands, vec!["docker exec -it lab-gitea sh"]);

        // A provider the spec no longer declares: nothing is guessed.
        state.resources.get_mut("container.gitea").unwrap().provider = "gone".into();
        let card = for_group(&state, "gitea", &places()).unwrap();
        assert!(card.shells.is_empty());
    }

    #[test]
    fn a_group_without_members_has_no_card() {
        assert_eq!(for_group(&gitea(false, "80"), "other", &places()), None);
        assert_eq!(
            groups(&gitea(false, "80")).into_iter().collect::<Vec<_>>(),
            vec!["gitea"]
        );
    }

    #[test]
    fn human_card() {
        let ui = Ui {
            color: false,
            stdin_tty: false,
            stdout_tty: false,
            stderr_tty: false,
        };
        let card = for_group(&gitea(true, "443"), "gitea", &places()).unwrap();
        insta::assert_snapshot!(card.human(&ui));
    }
}
