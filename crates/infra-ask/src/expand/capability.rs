//! Capabilities rendered into the spec: parameters checked, defaults and the
//! project's [vars] applied, names and zones derived, addresses allocated.

use std::path::PathBuf;

use serde_json::{Map, Value};
use toml_edit::{DocumentMut, Item, Table};

use super::super::pool;
use super::{Expander, Prompt};
use infra_capability::{CapAction, Capability, Param, ParamType};
use infra_core::error::{Error, Result};
use infra_core::spec::Address;

impl<'a> Expander<'a> {
    pub(super) fn use_capability(
        &mut self,
        name: &str,
        given: &Map<String, Value>,
        without: &[String],
        prompt: Prompt<'_>,
    ) -> Result<()> {
        let cap = self.library.get(name).ok_or_else(|| {
            Error::new(format!("unknown capability `{name}`"))
                .hint("`infra capabilities list` shows what there is")
        })?;
        let mut given = given.clone();
        given.retain(|_, v| !v.is_null());
        // Every capability takes a group: a part added to a service joins its group.
        let group = match given.remove("group") {
            Some(Value::String(g)) if infra_core::spec::check::is_name(&g) => Some(g),
            Some(other) => return Err(Error::new(format!("`group` must be a name, not {other}"))),
            None => None,
        };
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
                let mut ctx = self.context(cap, &checked)?;
                if let Some(g) = group {
                    ctx.insert("group".into(), Value::from(g));
                }
                let rendered = self.render(cap, &ctx)?;
                self.apply_rendered(cap, &rendered, without)
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
        // Names: an fqdn param wins, else NAME.DOMAIN of the project; a zone the
        // project serves decides where the record lives.
        let fqdn = cap
            .params
            .iter()
            .filter(|p| p.ty == ParamType::Fqdn)
            .find_map(|p| ctx.get(&p.name).and_then(Value::as_str).map(str::to_string));
        let (fqdn, zone, record) = match (fqdn, &domain, &name) {
            (Some(f), _, _) => {
                let (zone, label) = self.split_host(&f);
                (Some(f), Some(zone), Some(label))
            }
            (None, Some(d), Some(n)) => {
                (Some(format!("{n}.{d}")), Some(d.clone()), Some(n.clone()))
            }
            _ => (None, None, None),
        };
        for (k, v) in [("fqdn", fqdn), ("zone", zone), ("record_name", record)] {
            // A capability may take the zone or record name as parameters of its own.
            if !ctx.get(k).is_some_and(Value::is_string) {
                ctx.insert(k.into(), v.map(Value::from).unwrap_or(Value::Null));
            }
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

    fn pool_for(&self, p: &Param) -> Result<Option<&'a infra_core::spec::Pool>> {
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
    fn place(&self, given: &str, pool: Option<&infra_core::spec::Pool>) -> Result<String> {
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
        let env = infra_capability::render::environment(&self.library.templates);
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

    /// The zone a host name belongs to (the longest the project serves) and its label.
    fn split_host(&self, host: &str) -> (String, String) {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let mut zones: Vec<String> = self.spec.project.domain.iter().cloned().collect();
        for p in self.spec.providers.values() {
            if let Some(list) = p.settings.get("zones").and_then(Value::as_array) {
                zones.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
            }
        }
        zones.extend(
            self.spec
                .resources
                .iter()
                .filter(|r| r.address.kind == "dns_record")
                .filter_map(|r| {
                    r.attrs
                        .get("zone")
                        .and_then(Value::as_str)
                        .map(|z| z.trim_end_matches('.').to_string())
                }),
        );
        zones.sort_by_key(|z| std::cmp::Reverse(z.len()));
        for z in zones {
            if host == z {
                return (z, "@".into());
            }
            if let Some(label) = host.strip_suffix(&format!(".{z}")) {
                return (z.clone(), label.to_string());
            }
        }
        match host.split_once('.') {
            Some((first, rest)) if rest.contains('.') => (rest.to_string(), first.to_string()),
            _ => (host.clone(), "@".into()),
        }
    }

    fn apply_rendered(
        &mut self,
        cap: &Capability,
        doc: &DocumentMut,
        without: &[String],
    ) -> Result<()> {
        let mut made = Vec::new();
        for (kind, item) in doc.iter() {
            let Some(kind_table) = item.as_table() else {
                return Err(Error::new(format!(
                    "template of `{}` renders `{kind}` outside a resource table",
                    cap.name
                )));
            };
            if without.iter().any(|w| w == kind) {
                continue;
            }
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
                        self.created.insert(address.to_string(), path.clone());
                        made.push(address.to_string());
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
        if !made.is_empty() {
            self.edit.lines.push(format!(
                "create {} {}: {}",
                cap.name,
                made.first()
                    .and_then(|a| a.split_once('.'))
                    .map(|(_, n)| n)
                    .unwrap_or(""),
                made.join(", ")
            ));
        }
        Ok(())
    }
}
