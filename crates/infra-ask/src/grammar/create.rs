//! Creation: a new service, machine, record, monitor or proxy site from a
//! capability, with names (one, a list or a range), sizes, an image, a host
//! name, parts left out ("no monitoring"), and parts added to something that
//! exists ("monitor immich").

use serde_json::{Map, Value};

use super::dns;
use super::edit;
use super::facts::{self, Amount, Fact};
use super::lex::Kind;
use super::names::{explicit_names, name_like, new_names, slug};
use super::quantity;
use super::subject;
use super::vocab::{self, Verb};
use super::{decline, Clause, Created, Ctx, Grammar};
use crate::intent::Operation;
use infra_capability::{CapAction, Capability, ParamType};
use infra_core::error::Error;

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
    let named = c.has_any(&["called", "named"]) || super::names::names_list(c).len() > 1;
    let after_head = (0..c.toks.len()).any(|i| {
        vocab::part_kind(&c.toks[i].low).is_some_and(|k| k == "container" || k == "vm")
            && c.toks[i + 1..]
                .iter()
                .find(|t| !(t.is("pls") || t.is("please") || t.kind == Kind::Punct(':')))
                .is_some_and(name_like)
    });
    let record = dns::record_type(c).is_some()
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
    if let Some(done) = dns::dns(g, c, ctx)? {
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
                    let (name, _) = subject::subject_name(g, &m.cands);
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
        // "set up forgejo on port 3000" when forgejo exists: also without an article.
        let strong = matches!(
            c.toks[v].low.as_str(),
            "deploy" | "create" | "install" | "launch" | "provision" | "setup"
        ) || (c.verb_end > v + 1
            && matches!(c.toks[v].low.as_str(), "set" | "spin" | "stand"));
        let article = k > c.verb_end || strong;
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
            let (name, _) = subject::subject_name(g, &m.cands);
            return Err(decline(
                &format!("`{name}` already exists"),
                "choose another name for the new one, or ask to change the one that exists",
            ));
        }
    }
    // A certificate is asked for with the service it serves ("with a Let's
    // Encrypt certificate"); on its own there is nothing to put it on.
    let said_https = (0..c.toks.len()).any(|i| facts::https_context(&c.toks, i));
    let names_host = c.toks.iter().any(|t| t.kind == Kind::Fqdn);
    if c.has_any(&["certificate", "cert", "certificates"])
        && !c.toks.iter().any(|t| t.kind == Kind::Path)
        && !said_https
        && !names_host
    {
        return Err(decline(
            "it does not say which host name the certificate is for",
            "ask for the service with it (\"deploy gitea with HTTPS\"), or give the proxy a certificate you have: \"serve gitea over https with the cert at /etc/ssl/gitea.pem and the key at /etc/ssl/gitea.key\"",
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
            // A fraction stays one, for the parameter check to name.
            Some(Amount::Delta(d)) => {
                Some(quantity::whole(*d).map_or_else(|| Value::from(*d), Value::from))
            }
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
            ParamType::Bool if p.name == "https" => {
                used.push("https");
                set(fact("https"))
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
    named_params(cap, c, &mut params)?;
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
/// A number its parameter cannot take is declined; a word may be an ordinary one.
fn named_params(
    cap: &Capability,
    c: &Clause,
    params: &mut Map<String, Value>,
) -> Result<(), Error> {
    let t = &c.toks;
    let open: Vec<&infra_capability::Param> = cap
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
            Kind::Num(n) => quantity::whole(n).map_or_else(|| Value::from(n), Value::from),
            _ => match v.low.as_str() {
                "true" | "yes" | "on" => Value::from(true),
                "false" | "no" | "off" => Value::from(false),
                _ => raw,
            },
        };
        match p.ty.check(&value) {
            Ok(v) => {
                params.insert(p.name.clone(), v);
            }
            Err(why) if matches!(v.kind, Kind::Num(_)) => {
                return Err(decline(
                    &format!("`{} {}` cannot be used: {why}", p.name, v.raw),
                    &format!("{} is {}", p.name, p.ty.describe()),
                ));
            }
            Err(_) => {}
        }
    }
    Ok(())
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
                && infra_core::spec::schema::kind(&kind).is_some()
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
                && cap.source == infra_capability::Source::Project
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
                && (infra_core::util::edit_distance(p, name) <= 1
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
    let targets = subject::subjects(g, c, ctx);
    let Some(subject) = targets.first() else {
        return Ok(None);
    };
    let url = c
        .toks
        .iter()
        .find(|t| t.kind == Kind::Url)
        .map(|t| t.raw.clone());
    let (name, group) = subject::subject_name(g, subject);
    // "make kb.example.net reachable from the LAN only": the site exists, so an edit.
    let has_site = subject
        .iter()
        .chain(g.world.group_members(group.as_deref().unwrap_or("")).iter())
        .any(|&e| g.world.entities[e].kind == "proxy_site");
    let wants_proxy = wants_proxy && !(reachable_at && has_site && !c.has_any(&["proxy", "nginx"]));
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
            .or_else(|| subject::host_of(g, subject));
        let Some(host) = host else { return Ok(None) };
        let upstream = match url {
            Some(u) => u,
            None => {
                let port = facts::set_value(facts, "port").and_then(Value::as_i64);
                let Some(port) = port else {
                    return Err(decline(
                        "it does not say where the proxy should send requests",
                        "give a port or URL: \"… to port 5000\"",
                    ));
                };
                let Some(ip) = subject::address_expr(g, subject) else {
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
    let (name, group) = subject::subject_name(g, subject);
    let url = match url {
        Some(u) => u,
        None => match subject::host_of(g, subject) {
            Some(h) => format!("{}://{h}/", subject::scheme_for(g, subject)),
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
    if let Some(v) = facts::set_value(facts, "interval") {
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
