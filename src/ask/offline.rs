//! The offline interpreter: deterministic rules, no network. It understands
//! verbs, names, numbers with units, ports, host names, addresses and the names
//! of what already exists; when unsure it declines with suggestions, and it
//! never guesses a destructive change.

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::extract::{extract, slug, Entities};
use super::intent::{Intent, Operation};
use super::interpreter::{Interpreter, Request};
use super::router::Router;
use super::view::SpecNames;
use super::words::{correct, normalise, tokens, verb, Verb};
use crate::capability::{CapAction, Capability, Library, ParamType};
use crate::error::Error;

pub struct Offline<'a> {
    pub library: &'a Library,
    pub router: &'a Router,
    pub names: SpecNames,
}

#[async_trait]
impl Interpreter for Offline<'_> {
    fn name(&self) -> String {
        "offline".into()
    }

    async fn interpret(&self, req: &Request) -> Result<Intent, Error> {
        self.understand(&req.text)
    }
}

impl Offline<'_> {
    pub fn understand(&self, text: &str) -> Result<Intent, Error> {
        self.understand_inner(text).map(|mut intent| {
            // Params named in the request itself ("with title Welcome") fill what is left.
            for op in &mut intent.operations {
                if let Operation::UseCapability { capability, params } = op {
                    if let Some(cap) = self.library.get(capability) {
                        named_params(cap, text, params);
                    }
                }
            }
            intent
        })
    }

    fn understand_inner(&self, text: &str) -> Result<Intent, Error> {
        let mut toks = tokens(&normalise(text));
        correct(&mut toks);
        let Some(v) = verb(&toks) else {
            return Err(self.decline(
                text,
                "it does not say what to do (create, change or remove)",
            ));
        };
        let ranked = self.router.rank(text);
        let wanted = match v {
            Verb::Create => CapAction::Create,
            Verb::Update => CapAction::Update,
            Verb::Remove => CapAction::Remove,
        };
        let Some(best) = ranked
            .iter()
            .map(|r| &self.library.caps[r.index])
            .find(|c| c.action == wanted)
        else {
            return Err(self.decline(text, "no capability matches it"));
        };
        let mut e = extract(&toks);
        e.quoted = quoted(text);
        match v {
            Verb::Remove => self.remove(text, &toks, best),
            Verb::Update => self.update(text, &toks, &e, best),
            Verb::Create => {
                let provider = self.names.provider_mentioned(&toks);
                self.create(&e, best, provider)
            }
        }
    }

    fn remove(&self, text: &str, toks: &[String], cap: &Capability) -> Result<Intent, Error> {
        // Only what the request names by an existing name is ever removed.
        let Some(target) = self.names.mentioned(toks) else {
            return Err(self.decline(
                text,
                "it asks to remove something, but names nothing that exists in the spec (infra never guesses what to delete)",
            ));
        };
        let param = target_param(cap).ok_or_else(|| {
            Error::new(format!("capability {} has no target parameter", cap.name))
        })?;
        let mut params = Map::new();
        params.insert(param, Value::from(target.clone()));
        Ok(Intent {
            summary: format!("Remove {target}"),
            operations: vec![Operation::UseCapability {
                capability: cap.name.clone(),
                params,
            }],
            questions: vec![],
        })
    }

    fn update(
        &self,
        text: &str,
        toks: &[String],
        e: &Entities,
        cap: &Capability,
    ) -> Result<Intent, Error> {
        let Some(target) = self.names.mentioned(toks) else {
            return Err(self.decline(
                text,
                "it asks to change something, but names nothing that exists in the spec",
            ));
        };
        let mut params = self.fill(cap, e);
        let changes: Vec<String> = params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        if changes.is_empty() {
            return Err(self.decline(text, "it does not say what to change (e.g. \"4 cores\", \"2 GB of memory\", \"20 GB disk\")"));
        }
        if let Some(p) = target_param(cap) {
            params.insert(p, Value::from(target.clone()));
        }
        Ok(Intent {
            summary: format!("Resize {target}: {}", changes.join(", ")),
            operations: vec![Operation::UseCapability {
                capability: cap.name.clone(),
                params,
            }],
            questions: vec![],
        })
    }

    fn create(
        &self,
        e: &Entities,
        cap: &Capability,
        provider: Option<String>,
    ) -> Result<Intent, Error> {
        let mut params = self.fill(cap, e);
        if let (Some(p), true) = (provider, cap.param("provider").is_some()) {
            params.insert("provider".into(), Value::from(p));
        }
        let explicit = e.name_explicit;
        // "Add a page": a word that only names the capability is not a name.
        if let Some(n) = params.get("name").and_then(Value::as_str) {
            let generic = cap.name.split('-').any(|w| w == n)
                || cap.triggers.iter().any(|t| t.split(' ').any(|w| w == n));
            if generic && !explicit {
                params.remove("name");
            }
        }
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        let summary = match &name {
            Some(n) => format!("Add {} {n}", cap.name),
            None => format!("Add {}", cap.name),
        };
        Ok(Intent {
            summary,
            operations: vec![Operation::UseCapability {
                capability: cap.name.clone(),
                params,
            }],
            questions: vec![],
        })
    }

    /// Fill a capability's parameters from the entities, by parameter type.
    fn fill(&self, cap: &Capability, e: &Entities) -> Map<String, Value> {
        let mut out = Map::new();
        let mut fqdns = e.fqdns.iter();
        for p in &cap.params {
            let v: Option<Value> = match p.ty {
                // A provider is named by its instance name ("on pve1"), filled in `create`.
                ParamType::Name if p.name == "provider" => None,
                ParamType::Name => e
                    .name
                    .as_deref()
                    .map(slug)
                    .filter(|s| !s.is_empty())
                    .map(Value::from),
                ParamType::Port => e.port.map(Value::from),
                ParamType::Cores => e.cores.map(Value::from),
                ParamType::Memory => e.memory.map(Value::from),
                ParamType::Disk => e.disk.map(Value::from),
                ParamType::Fqdn | ParamType::Hostname => fqdns.next().cloned().map(Value::from),
                ParamType::Ip => e.ips.first().cloned().map(Value::from),
                ParamType::Address => e
                    .cidrs
                    .first()
                    .cloned()
                    .or_else(|| e.ips.first().cloned())
                    .map(Value::from),
                ParamType::Url => e.urls.first().cloned().map(Value::from),
                ParamType::RecordType => e.record_type.clone().map(Value::from),
                ParamType::Image => e.image.clone().map(Value::from),
                ParamType::Bool if p.name.contains("internal") || p.name.contains("private") => {
                    e.internal.map(Value::from)
                }
                ParamType::Bool if p.name.contains("public") => e.internal.map(|i| Value::from(!i)),
                ParamType::Int if p.name.contains("ttl") => e.ttl.map(Value::from),
                ParamType::Int if p.name.contains("interval") => e.interval.map(Value::from),
                ParamType::Int if p.name.contains("priority") => e.priority.map(Value::from),
                ParamType::Bool if p.name.contains("websocket") => {
                    e.websocket.then_some(Value::from(true))
                }
                ParamType::Text if p.name == "tls_cert" => e.tls_cert.clone().map(Value::from),
                ParamType::Text if p.name == "tls_key" => e.tls_key.clone().map(Value::from),
                ParamType::Text if p.name == "content" || p.name == "value" => e
                    .quoted
                    .first()
                    .cloned()
                    .or_else(|| e.value.clone())
                    .or_else(|| e.ips.first().cloned())
                    .or_else(|| e.targets.first().cloned())
                    .map(Value::from),
                _ => None,
            };
            if let Some(v) = v {
                out.insert(p.name.clone(), v);
            }
        }
        out
    }

    /// A refusal that helps: why, the closest capabilities and how to phrase them.
    fn decline(&self, text: &str, why: &str) -> Error {
        let ranked = self.router.rank(text);
        let mut lines = Vec::new();
        let picks: Vec<&Capability> = if ranked.is_empty() {
            self.library.caps.iter().take(3).collect()
        } else {
            ranked
                .iter()
                .take(3)
                .map(|r| &self.library.caps[r.index])
                .collect()
        };
        for c in picks {
            lines.push(format!("  {} — {}", c.name, c.summary));
            for ex in c.examples.iter().filter(|x| !x.declined).take(2) {
                lines.push(format!("      e.g. \"{}\"", ex.request));
            }
        }
        Error::new(format!("not sure what to do with this request: {why}"))
            .detail(format!("Closest capabilities:\n{}", lines.join("\n")))
            .hint("rephrase it like one of the examples, or configure a model under [ai] in infra.toml")
    }
}

/// `<param> VALUE` or `<param> "a value"` in the raw text, for params not yet filled
/// (the text keeps its case). Only values the param's type accepts are taken.
fn named_params(cap: &Capability, text: &str, params: &mut Map<String, Value>) {
    let lower = text.to_lowercase();
    let open: Vec<&crate::capability::Param> = cap
        .params
        .iter()
        .filter(|p| !params.contains_key(&p.name))
        .collect();
    for p in open {
        let key = format!("{} ", p.name.replace('_', " "));
        let Some(pos) = lower
            .match_indices(&key)
            .map(|(i, _)| i)
            .find(|&i| i == 0 || !lower.as_bytes()[i - 1].is_ascii_alphanumeric())
        else {
            continue;
        };
        let rest = text[pos + key.len()..].trim_start();
        let raw = match rest.strip_prefix('"') {
            Some(q) => q.split('"').next().unwrap_or_default().to_string(),
            None => rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_end_matches([',', '.', '!', '?'])
                .to_string(),
        };
        if raw.is_empty() {
            continue;
        }
        let value = raw
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| match raw.as_str() {
                "true" | "yes" | "on" => Value::from(true),
                "false" | "no" | "off" => Value::from(false),
                _ => Value::from(raw.clone()),
            });
        if let Ok(v) = p.ty.check(&value) {
            params.insert(p.name.clone(), v);
        }
    }
}

fn target_param(cap: &Capability) -> Option<String> {
    cap.params
        .iter()
        .find(|p| p.ty == ParamType::Target)
        .map(|p| p.name.clone())
}

/// Strings in double quotes, as written (case kept), for TXT contents and the like.
fn quoted(text: &str) -> Vec<String> {
    let text = text.replace(['\u{201c}', '\u{201d}'], "\"");
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
        .collect()
}
