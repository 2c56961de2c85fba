//! The expander: an Intent becomes new spec file texts. Capability templates are
//! rendered (minijinja), addresses allocated from pools, and resources written
//! with toml_edit so existing comments and formatting stay. Nothing is written
//! here: the caller validates, plans and checks the result first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Map, Value};
use toml_edit::{DocumentMut, Item, Table};

use super::intent::{Intent, Operation};
use super::pool;
use crate::capability::{CapAction, Capability, Library, Param, ParamType};
use crate::error::{Error, Result};
use crate::spec::{check, schema, Address, Spec};
use crate::state::State;

/// The spec change an intent makes.
#[derive(Debug, Default)]
pub struct Edit {
    /// New text per file (relative to the project root); `None` deletes the file.
    pub files: BTreeMap<PathBuf, Option<String>>,
    /// Addresses the intent removes on purpose.
    pub removed: BTreeSet<String>,
    /// Addresses created or changed.
    pub touched: BTreeSet<String>,
    pub capabilities: Vec<String>,
}

/// Asks for a missing required parameter (on a terminal); `None` means "cannot ask".
pub type Prompt<'a> = &'a dyn Fn(&Capability, &Param) -> Option<Value>;

pub struct Expander<'a> {
    pub library: &'a Library,
    pub spec: &'a Spec,
    pub state: &'a State,
    /// Working copies of the files this edit touches.
    docs: BTreeMap<PathBuf, DocumentMut>,
    deleted: BTreeSet<PathBuf>,
    used_ips: BTreeSet<std::net::IpAddr>,
    edit: Edit,
}

impl<'a> Expander<'a> {
    pub fn new(library: &'a Library, spec: &'a Spec, state: &'a State) -> Self {
        let used_ips = pool::used(spec, state);
        Expander {
            library,
            spec,
            state,
            docs: BTreeMap::new(),
            deleted: BTreeSet::new(),
            used_ips,
            edit: Edit::default(),
        }
    }

    pub fn expand(mut self, intent: &Intent, prompt: Prompt<'_>) -> Result<Edit> {
        if intent.operations.is_empty() {
            let questions = if intent.questions.is_empty() {
                String::new()
            } else {
                format!(": {}", intent.questions.join(" "))
            };
            return Err(
                Error::new(format!("the interpreter proposed no change{questions}"))
                    .hint("add the missing details to the request"),
            );
        }
        for op in &intent.operations {
            match op {
                Operation::UseCapability { capability, params } => {
                    self.use_capability(capability, params, prompt)?
                }
                Operation::Set {
                    address,
                    attribute,
                    value,
                } => self.set(address, attribute, value)?,
                Operation::Remove { target } => self.remove(target)?,
            }
        }
        for (path, doc) in self.docs {
            let text = doc.to_string();
            let empty = doc.as_table().iter().next().is_none()
                && text
                    .trim()
                    .lines()
                    .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
            let keep = !self.deleted.contains(&path) || !empty;
            self.edit.files.insert(path, keep.then_some(text));
        }
        Ok(self.edit)
    }

    fn use_capability(
        &mut self,
        name: &str,
        given: &Map<String, Value>,
        prompt: Prompt<'_>,
    ) -> Result<()> {
        let cap = self.library.get(name).ok_or_else(|| {
            Error::new(format!("unknown capability `{name}`"))
                .hint("`infra capabilities list` shows what there is")
        })?;
        let mut given = given.clone();
        given.retain(|_, v| !v.is_null());
        // A project's own defaults: [vars] "CAPABILITY.PARAM" = value.
        for p in &cap.params {
            if let Some(v) = self.spec.vars.get(&format!("{}.{}", cap.name, p.name)) {
                given.entry(p.name.clone()).or_insert_with(|| v.clone());
            }
        }
        let mut missing = Vec::new();
        let absent: Vec<&Param> = cap
            .params
            .iter()
            .filter(|p| p.required && !given.contains_key(&p.name))
            .collect();
        for p in absent {
            match prompt(cap, p) {
                Some(v) => {
                    given.insert(p.name.clone(), v);
                }
                None => missing.push(format!(
                    "  {} ({}): {}",
                    p.name,
                    p.ty.as_str(),
                    p.description
                )),
            }
        }
        if !missing.is_empty() {
            return Err(Error::new(format!("`{}` needs more information", cap.name))
                .detail(format!("missing:\n{}", missing.join("\n")))
                .hint("say it in the request (e.g. \"called api-scanner\", \"on port 8080\"), or run on a terminal to be asked"));
        }
        let checked = cap.check_params(&given).map_err(|errors| {
            Error::new(format!("invalid parameters for `{}`", cap.name)).detail(
                errors
                    .iter()
                    .map(|e| format!("  {e}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        self.edit.capabilities.push(cap.name.clone());
        match cap.action {
            CapAction::Remove => {
                let target = cap
                    .params
                    .iter()
                    .find(|p| p.ty == ParamType::Target)
                    .and_then(|p| checked.get(&p.name))
                    .and_then(Value::as_str);
                let target = target
                    .ok_or_else(|| Error::new(format!("`{}` needs a target", cap.name)))?
                    .to_string();
                self.remove(&target)
            }
            CapAction::Create | CapAction::Update => {
                let ctx = self.context(cap, &checked)?;
                let rendered = self.render(cap, &ctx)?;
                self.apply_rendered(cap, &rendered)
            }
        }
    }

    /// Template context: params with defaults, project, derived names, allocated addresses.
    fn context(
        &mut self,
        cap: &Capability,
        checked: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let mut ctx = cap.params_with_defaults(checked);
        // A target names an existing resource or group; templates address it by name.
        for p in cap.params.iter().filter(|p| p.ty == ParamType::Target) {
            if let Some(t) = ctx
                .get(&p.name)
                .and_then(|v| v.as_str())
                .map(|s| s.to_string())
            {
                let name = self.target_name(&t)?;
                ctx.insert(p.name.clone(), Value::from(name));
            }
        }
        let name = ctx.get("name").and_then(Value::as_str).map(str::to_string);
        let domain = self.spec.project.domain.clone();
        ctx.insert(
            "project".into(),
            serde_json::json!({ "name": self.spec.project.name, "domain": domain }),
        );
        if !ctx.get("group").is_some_and(Value::is_string) {
            ctx.insert(
                "group".into(),
                name.clone().map(Value::from).unwrap_or(Value::Null),
            );
        }
        // Names: an fqdn param wins, else NAME.DOMAIN of the project.
        let fqdn = cap
            .params
            .iter()
            .filter(|p| p.ty == ParamType::Fqdn)
            .find_map(|p| ctx.get(&p.name).and_then(Value::as_str).map(str::to_string));
        let (fqdn, zone, record) = match (fqdn, &domain, &name) {
            (Some(f), Some(d), _) if f.ends_with(&format!(".{d}")) => (
                Some(f.clone()),
                Some(d.clone()),
                Some(f[..f.len() - d.len() - 1].to_string()),
            ),
            (Some(f), _, _) => match f.split_once('.') {
                Some((first, rest)) if rest.contains('.') => (
                    Some(f.clone()),
                    Some(rest.to_string()),
                    Some(first.to_string()),
                ),
                _ => (Some(f.clone()), Some(f.clone()), Some("@".to_string())),
            },
            (None, Some(d), Some(n)) => {
                (Some(format!("{n}.{d}")), Some(d.clone()), Some(n.clone()))
            }
            _ => (None, None, None),
        };
        for (k, v) in [("fqdn", fqdn), ("zone", zone), ("record_name", record)] {
            ctx.insert(k.into(), v.map(Value::from).unwrap_or(Value::Null));
        }
        // Addresses: given ones must lie in a pool; missing ones are allocated.
        let mut gateway = None;
        let mut internal = None;
        for p in cap.params.iter().filter(|p| p.ty == ParamType::Address) {
            let pool = self.pool_for(p)?;
            let value = match ctx.get(&p.name).and_then(Value::as_str) {
                Some(given) => Some(self.place(given, pool)?),
                None => match pool {
                    Some(pool) => Some(pool::allocate(pool, &self.used_ips).map_err(Error::new)?),
                    None if p.required => {
                        return Err(Error::new(format!("`{}` needs an address and infra.toml has no [pools] to take one from", cap.name))
                            .hint("add [pools.lan] with cidr = \"192.168.1.0/24\", or give the address in the request"))
                    }
                    None => None,
                },
            };
            if let Some(v) = &value {
                let ip: std::net::IpAddr = v
                    .split('/')
                    .next()
                    .unwrap_or(v)
                    .parse()
                    .map_err(|_| Error::new(format!("`{v}` is not an address")))?;
                self.used_ips.insert(ip);
                internal = Some(pool::is_private(&ip));
                gateway = pool.and_then(|p| p.gateway).map(|g| g.to_string());
            }
            ctx.insert(
                p.name.clone(),
                value.map(Value::from).unwrap_or(Value::Null),
            );
        }
        if !ctx.contains_key("gateway") {
            ctx.insert(
                "gateway".into(),
                gateway.map(Value::from).unwrap_or(Value::Null),
            );
        }
        if !ctx.get("internal").is_some_and(Value::is_boolean) {
            ctx.insert("internal".into(), Value::from(internal.unwrap_or(true)));
        }
        Ok(ctx)
    }

    fn pool_for(&self, p: &Param) -> Result<Option<&'a crate::spec::Pool>> {
        match &p.pool {
            Some(name) => self.spec.pools.get(name).map(Some).ok_or_else(|| {
                Error::new(format!(
                    "param `{}` names pool `{name}`, which infra.toml does not declare",
                    p.name
                ))
            }),
            None => Ok(self.spec.pools.values().next()),
        }
    }

    /// A given address must be inside the pool (and free); a bare IP gets the pool's prefix.
    fn place(&self, given: &str, pool: Option<&crate::spec::Pool>) -> Result<String> {
        let (addr, prefix) = match given.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (given, None),
        };
        let ip: std::net::IpAddr = addr
            .parse()
            .map_err(|_| Error::new(format!("`{given}` is not an IP address")))?;
        let inside = self
            .spec
            .pools
            .values()
            .find(|p| p.cidr.is_some_and(|n| n.contains(&ip)));
        let Some(pool) = inside.or(if self.spec.pools.is_empty() {
            pool
        } else {
            None
        }) else {
            let pools: Vec<String> = self
                .spec
                .pools
                .values()
                .filter_map(|p| p.cidr.map(|c| format!("{} ({c})", p.name)))
                .collect();
            return Err(Error::new(format!("{ip} is outside every address pool"))
                .hint(format!("use an address from {}", pools.join(", "))));
        };
        if self.used_ips.contains(&ip) {
            return Err(
                Error::new(format!("{ip} is already used in the spec or state"))
                    .hint("leave the address out and infra picks a free one"),
            );
        }
        let prefix = prefix
            .map(str::to_string)
            .or_else(|| pool.cidr.map(|c| c.prefix_len().to_string()))
            .unwrap_or_else(|| "32".into());
        Ok(format!("{ip}/{prefix}"))
    }

    fn render(&self, cap: &Capability, ctx: &Map<String, Value>) -> Result<DocumentMut> {
        let template = cap
            .template
            .as_deref()
            .ok_or_else(|| Error::new(format!("`{}` has no template", cap.name)))?;
        let env = crate::capability::render::environment(&self.library.templates);
        let needs_names = self
            .library
            .templates
            .get(template)
            .is_some_and(|t| t.contains("zone") || t.contains("fqdn"));
        if needs_names && ctx.get("zone").is_none_or(Value::is_null) {
            return Err(Error::new(format!("`{}` needs a domain name", cap.name))
                .hint("say where it should be reachable (e.g. \"at api.example.com\"), or set domain in [project] of infra.toml"));
        }
        let text = env
            .get_template(template)
            .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(ctx))))
            .map_err(|e| {
                Error::new(format!(
                    "rendering template {template} of `{}`: {e:#}",
                    cap.name
                ))
            })?;
        text.parse::<DocumentMut>().map_err(|e| {
            Error::new(format!(
                "template {template} of `{}` produced invalid TOML",
                cap.name
            ))
            .detail(format!("{e}\n--- rendered:\n{text}"))
        })
    }

    fn apply_rendered(&mut self, cap: &Capability, doc: &DocumentMut) -> Result<()> {
        for (kind, item) in doc.iter() {
            let Some(kind_table) = item.as_table() else {
                return Err(Error::new(format!(
                    "template of `{}` renders `{kind}` outside a resource table",
                    cap.name
                )));
            };
            for (name, res) in kind_table.iter() {
                let Some(res) = res.as_table() else { continue };
                let address = Address::new(kind, name);
                let existing = self.spec.resource(&address);
                match (cap.action, existing) {
                    (CapAction::Create, Some(r)) => {
                        return Err(Error::new(format!(
                            "`{address}` already exists ({})",
                            self.spec.sources.describe(&r.loc)
                        ))
                        .hint("choose another name, or ask to change or remove it"))
                    }
                    (CapAction::Update, None) => {
                        return Err(Error::new(format!(
                            "`{address}` does not exist, so it cannot be changed"
                        ))
                        .hint("`infra state list` and infra/*.toml show what exists"))
                    }
                    (CapAction::Create, None) => {
                        let group = res.get("group").and_then(|g| g.as_str()).unwrap_or(name);
                        let path = PathBuf::from(format!("infra/{group}.toml"));
                        let mut table = res.clone();
                        table.set_implicit(false);
                        let doc = self.doc(&path)?;
                        let kt = doc.entry(kind).or_insert_with(|| {
                            let mut t = Table::new();
                            t.set_implicit(true);
                            Item::Table(t)
                        });
                        let kt = kt.as_table_mut().ok_or_else(|| {
                            Error::new(format!("{}: `{kind}` is not a table", path.display()))
                        })?;
                        kt.insert(name, Item::Table(table));
                        self.edit.touched.insert(address.to_string());
                    }
                    (CapAction::Update, Some(r)) => {
                        let path = self.spec.sources.file(r.loc.file).path.clone();
                        let doc = self.doc(&path)?;
                        let target = doc
                            .get_mut(kind)
                            .and_then(|k| k.get_mut(name))
                            .and_then(Item::as_table_like_mut)
                            .ok_or_else(|| {
                                Error::new(format!("cannot find `{address}` in {}", path.display()))
                            })?;
                        for (k, v) in res.iter() {
                            target.insert(k, v.clone());
                        }
                        self.edit.touched.insert(address.to_string());
                    }
                    (CapAction::Remove, _) => {}
                }
            }
        }
        Ok(())
    }

    fn set(&mut self, address: &str, attribute: &str, value: &Value) -> Result<()> {
        let addr = Address::parse(address)
            .ok_or_else(|| Error::new(format!("`{address}` is not a resource address")))?;
        let r = self.spec.resource(&addr).ok_or_else(|| {
            Error::new(format!(
                "`{address}` does not exist, so it cannot be changed"
            ))
        })?;
        let s = schema::kind(&addr.kind).expect("declared kinds are known");
        let a = s.attr(attribute).filter(|a| !a.computed).ok_or_else(|| {
            Error::new(format!(
                "`{}` has no attribute `{attribute}` that can be set",
                addr.kind
            ))
        })?;
        check::check(a.ty, value)
            .map_err(|e| Error::new(format!("{address}.{attribute}: must be {e}")))?;
        let v: toml_edit::Value = match value {
            Value::String(s) => s.as_str().into(),
            Value::Bool(b) => (*b).into(),
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| Error::new("only whole numbers can be set"))?
                .into(),
            _ => {
                return Err(Error::new(format!(
                    "{address}.{attribute}: only strings, numbers and booleans can be set"
                )))
            }
        };
        let path = self.spec.sources.file(r.loc.file).path.clone();
        let doc = self.doc(&path)?;
        let t = doc
            .get_mut(&addr.kind)
            .and_then(|k| k.get_mut(&addr.name))
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| Error::new(format!("cannot find `{address}` in {}", path.display())))?;
        t.insert(attribute, Item::Value(v));
        self.edit.touched.insert(address.to_string());
        Ok(())
    }

    /// Resolve a target (`group:NAME`, `kind.name`, or a group or resource name) to a name.
    fn target_name(&self, target: &str) -> Result<String> {
        let addresses = self.targets(target)?;
        Ok(addresses
            .first()
            .map(|a| a.name.clone())
            .unwrap_or_default())
    }

    fn targets(&self, target: &str) -> Result<Vec<Address>> {
        let by_group = |g: &str| -> Vec<Address> {
            self.spec
                .resources
                .iter()
                .filter(|r| r.group.as_deref() == Some(g))
                .map(|r| r.address.clone())
                .collect()
        };
        let found: Vec<Address> = if let Some(g) = target.strip_prefix("group:") {
            by_group(g)
        } else if let Some(a) = Address::parse(target) {
            self.spec
                .resource(&a)
                .map(|r| vec![r.address.clone()])
                .unwrap_or_default()
        } else {
            let g = by_group(target);
            if g.is_empty() {
                self.spec
                    .resources
                    .iter()
                    .filter(|r| r.address.name == target)
                    .map(|r| r.address.clone())
                    .collect()
            } else {
                g
            }
        };
        if found.is_empty() {
            return Err(Error::new(format!("`{target}` names nothing in the spec"))
                .hint("`infra state list` and infra/*.toml show what exists"));
        }
        Ok(found)
    }

    fn remove(&mut self, target: &str) -> Result<()> {
        for addr in self.targets(target)? {
            let r = self.spec.resource(&addr).expect("targets exist");
            let path = self.spec.sources.file(r.loc.file).path.clone();
            let doc = self.doc(&path)?;
            let kt = doc
                .get_mut(&addr.kind)
                .and_then(Item::as_table_like_mut)
                .ok_or_else(|| Error::new(format!("cannot find `{addr}` in {}", path.display())))?;
            kt.remove(&addr.name);
            if kt.is_empty() {
                doc.remove(&addr.kind);
            }
            self.deleted.insert(path);
            self.edit.removed.insert(addr.to_string());
        }
        Ok(())
    }

    /// The working document for a file: the spec's text, or a new empty file.
    fn doc(&mut self, path: &PathBuf) -> Result<&mut DocumentMut> {
        if !self.docs.contains_key(path) {
            let text = self
                .spec
                .sources
                .files()
                .iter()
                .find(|f| &f.path == path)
                .map(|f| f.text.clone());
            let doc = match text {
                Some(t) => t
                    .parse::<DocumentMut>()
                    .map_err(|e| Error::new(format!("{}: {e}", path.display())))?,
                None => {
                    let mut d = DocumentMut::new();
                    d.decor_mut().set_prefix(
                        "# Written by `infra ask`; edit freely, comments are kept.\n\n",
                    );
                    d
                }
            };
            self.docs.insert(path.clone(), doc);
        }
        Ok(self.docs.get_mut(path).expect("just inserted"))
    }
}
