//! Edits of resources that exist (or that this edit created): set, adjust,
//! rename, clone, and references left dangling by a removal.

use std::path::PathBuf;

use serde_json::Value;
use toml_edit::{Item, Table, TableLike};

use super::super::pool;
use super::Expander;
use infra_core::error::{Error, Result};
use infra_core::spec::{check, schema, Address};

/// `${kind.name.attr}` references in a text.
fn references(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        let mut parts = inner.splitn(3, '.');
        if let (Some(k), Some(n), Some(a)) = (parts.next(), parts.next(), parts.next()) {
            out.push((format!("{k}.{n}"), a.to_string()));
        }
        rest = &after[end + 1..];
    }
    out
}

fn to_toml(v: &Value) -> Result<Option<toml_edit::Value>> {
    Ok(Some(match v {
        Value::Null => return Ok(None),
        Value::String(s) => s.as_str().into(),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => return Err(Error::new(format!("{n} is not a whole number"))),
        },
        Value::Array(items) => {
            let mut a = toml_edit::Array::new();
            for i in items {
                match i.as_str() {
                    Some(s) => a.push(s),
                    None => return Err(Error::new("lists hold strings only")),
                }
            }
            toml_edit::Value::Array(a)
        }
        Value::Object(_) => return Err(Error::new("tables cannot be set from a request")),
    }))
}

fn to_json(v: &toml_edit::Value) -> Value {
    match v {
        toml_edit::Value::String(s) => Value::from(s.value().clone()),
        toml_edit::Value::Integer(i) => Value::from(*i.value()),
        toml_edit::Value::Float(f) => Value::from(*f.value()),
        toml_edit::Value::Boolean(b) => Value::from(*b.value()),
        toml_edit::Value::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        _ => Value::Null,
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(unset)".into(),
        Some(Value::String(s)) => format!("\"{s}\""),
        Some(Value::Array(a)) => format!(
            "[{}]",
            a.iter()
                .map(|x| x.as_str().unwrap_or("?").to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(other) => other.to_string(),
    }
}

impl Expander<'_> {
    /// The file holding a resource this edit may change: created here, or in the spec.
    fn locate(&self, address: &str) -> Result<(Address, PathBuf)> {
        let address = self
            .renamed
            .get(address)
            .map(String::as_str)
            .unwrap_or(address);
        let addr = Address::parse(address)
            .ok_or_else(|| Error::new(format!("`{address}` is not a resource address")))?;
        if let Some(p) = self.created.get(address) {
            return Ok((addr, p.clone()));
        }
        if self.edit.removed.contains(address) {
            return Err(Error::new(format!(
                "`{address}` is removed by this same request"
            )));
        }
        let r = self.spec.resource(&addr).ok_or_else(|| {
            Error::new(format!(
                "`{address}` does not exist, so it cannot be changed"
            ))
            .hint("`infra state list` and infra/*.toml show what exists")
        })?;
        Ok((addr, self.spec.sources.file(r.loc.file).path.clone()))
    }

    fn table(&mut self, addr: &Address, path: &PathBuf) -> Result<&mut dyn TableLike> {
        let doc = self.doc(path)?;
        doc.get_mut(&addr.kind)
            .and_then(|k| k.get_mut(&addr.name))
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| Error::new(format!("cannot find `{addr}` in {}", path.display())))
    }

    /// An attribute's value as the edit stands now (earlier operations included).
    fn current(
        &mut self,
        addr: &Address,
        path: &PathBuf,
        attribute: &str,
    ) -> Result<Option<Value>> {
        let t = self.table(addr, path)?;
        Ok(t.get(attribute).and_then(Item::as_value).map(to_json))
    }

    pub(super) fn set(&mut self, address: &str, attribute: &str, value: &Value) -> Result<()> {
        let (addr, path) = self.locate(address)?;
        let s = schema::kind(&addr.kind)
            .ok_or_else(|| Error::new(format!("`{}` is not a kind infra knows", addr.kind)))?;
        let a = s.attr(attribute).filter(|a| !a.computed).ok_or_else(|| {
            Error::new(format!(
                "`{}` has no attribute `{attribute}` that can be set",
                addr.kind
            ))
            .hint(format!(
                "its attributes: {}",
                s.attrs
                    .iter()
                    .filter(|a| !a.computed)
                    .map(|a| a.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if value.is_null() && a.required {
            return Err(Error::new(format!(
                "{addr}.{attribute} is required and cannot be unset"
            )));
        }
        // A reference (`http://${container.x.address}:8010`) is checked once resolved, by validation.
        let reference = value.as_str().is_some_and(|v| v.contains("${"));
        if !value.is_null() && !reference {
            check::check(a.ty, value).map_err(|e| {
                // "-5 is out of range (1 to 512)" names the value; a type name does not.
                if e.contains("out of range") {
                    Error::new(format!("{addr}.{attribute}: {e}"))
                } else {
                    Error::new(format!("{addr}.{attribute}: {value} is not {e}"))
                }
            })?;
        }
        let before = self.current(&addr, &path, attribute)?;
        if attribute == "disk" {
            if let (Some(old), Some(new)) =
                (before.as_ref().and_then(Value::as_i64), value.as_i64())
            {
                if new < old {
                    return Err(Error::new(format!(
                        "refusing to shrink {addr}.disk from {old} GB to {new} GB: disks only grow"
                    ))
                    .hint("providers cannot shrink a disk in place; make a new machine and move the data"));
                }
            }
        }
        let existing = !self.created.contains_key(&addr.to_string());
        if a.force_new && existing && before.as_ref() != Some(value) {
            self.edit.replaced.insert(addr.to_string());
        }
        let v =
            to_toml(value).map_err(|e| Error::new(format!("{addr}.{attribute}: {}", e.message)))?;
        let t = self.table(&addr, &path)?;
        match v {
            Some(v) => {
                t.insert(attribute, Item::Value(v));
            }
            None => {
                t.remove(attribute);
            }
        }
        self.edit.touched.insert(addr.to_string());
        self.edit.lines.push(format!(
            "set {addr}.{attribute}: {} → {}",
            show(before.as_ref()),
            show(Some(value))
        ));
        Ok(())
    }

    pub(super) fn adjust(
        &mut self,
        address: &str,
        attribute: &str,
        by: Option<f64>,
        factor: Option<f64>,
    ) -> Result<()> {
        let (addr, path) = self.locate(address)?;
        let s = schema::kind(&addr.kind)
            .ok_or_else(|| Error::new(format!("`{}` is not a kind infra knows", addr.kind)))?;
        let a = s
            .attr(attribute)
            .ok_or_else(|| Error::new(format!("`{}` has no attribute `{attribute}`", addr.kind)))?;
        if !matches!(a.ty, schema::Ty::Int { .. }) {
            return Err(Error::new(format!(
                "{addr}.{attribute} is not a number, so it cannot be adjusted"
            )));
        }
        let now = self
            .current(&addr, &path, attribute)?
            .or_else(|| a.default.map(|d| d.value()))
            .and_then(|v| v.as_f64())
            .ok_or_else(|| {
                Error::new(format!(
                    "{addr}.{attribute} has no value to adjust; say the new value"
                ))
            })?;
        let new = match (by, factor) {
            (Some(b), None) => now + b,
            (None, Some(f)) => now * f,
            _ => {
                return Err(Error::new(
                    "an adjustment needs exactly one of `by` and `factor`",
                ))
            }
        };
        let whole = new.round();
        if !new.is_finite() || (new - whole).abs() > 1e-6 {
            return Err(Error::new(format!(
                "{addr}.{attribute} would become {new}, which is not a whole number"
            ))
            .hint("say the value you want"));
        }
        if let schema::Ty::Int { min, max } = a.ty {
            if whole < min as f64 || whole > max as f64 {
                return Err(Error::new(format!(
                    "{addr}.{attribute} would become {whole} (now {now}), out of range ({min} to {max})"
                ))
                .hint("say the value you want"));
            }
        }
        self.set(address, attribute, &Value::from(whole as i64))
    }

    /// A new name for one resource (`kind.name`) or every member of a group (`group:NAME`).
    pub(super) fn rename(&mut self, address: &str, to: &str) -> Result<()> {
        if !infra_core::spec::check::is_name(to) {
            return Err(Error::new(format!("\"{to}\" is not a valid resource name")));
        }
        if let Some(g) = address.strip_prefix("group:") {
            let members: Vec<Address> = self
                .spec
                .resources
                .iter()
                .filter(|r| r.group.as_deref() == Some(g))
                .map(|r| r.address.clone())
                .collect();
            if members.is_empty() {
                return Err(Error::new(format!("there is no group `{g}`")));
            }
            for m in members {
                let new_name = if m.name == g {
                    to.to_string()
                } else {
                    m.name.replacen(g, to, 1)
                };
                let new = self.rename_one(&m.to_string(), &new_name)?;
                self.set(&new, "group", &Value::from(to))?;
            }
            return Ok(());
        }
        self.rename_one(address, to).map(|_| ())
    }

    fn rename_one(&mut self, address: &str, to: &str) -> Result<String> {
        let (addr, path) = self.locate(address)?;
        let new = Address::new(addr.kind.clone(), to);
        if self.spec.resource(&new).is_some() || self.created.contains_key(&new.to_string()) {
            return Err(Error::new(format!("`{new}` exists already")));
        }
        let doc = self.doc(&path)?;
        let kt = doc
            .get_mut(&addr.kind)
            .and_then(Item::as_table_mut)
            .ok_or_else(|| Error::new(format!("cannot find `{addr}` in {}", path.display())))?;
        let item = kt
            .remove(&addr.name)
            .ok_or_else(|| Error::new(format!("cannot find `{addr}`")))?;
        kt.insert(to, item);
        let (from, into) = (format!("${{{addr}."), format!("${{{new}."));
        self.rewrite_everywhere(&|s: &str| s.contains(&from).then(|| s.replace(&from, &into)))?;
        self.edit.removed.insert(addr.to_string());
        self.edit.touched.insert(new.to_string());
        self.created.insert(new.to_string(), path);
        self.renamed.insert(addr.to_string(), new.to_string());
        self.edit.lines.push(format!("rename {addr} → {new}"));
        Ok(new.to_string())
    }

    /// Apply a string rewrite to every string value of every spec file (and new file).
    fn rewrite_everywhere(&mut self, f: &dyn Fn(&str) -> Option<String>) -> Result<()> {
        let paths: Vec<PathBuf> = self
            .spec
            .sources
            .files()
            .iter()
            .filter(|file| file.text.contains("${"))
            .map(|file| file.path.clone())
            .chain(self.created.values().cloned())
            .collect();
        for p in paths {
            let doc = self.doc(&p)?;
            rewrite_item(doc.as_item_mut(), f);
        }
        Ok(())
    }

    /// Copy a whole group under a new name: same sizes, image and ports; its own
    /// address from the pool, host name, DNS name and proxy site.
    pub(super) fn clone_group(&mut self, group: &str, to: &str) -> Result<()> {
        if !infra_core::spec::check::is_name(to) || to.contains('_') {
            return Err(Error::new(format!("\"{to}\" is not a valid name")));
        }
        let members: Vec<&infra_core::spec::Resource> = self
            .spec
            .resources
            .iter()
            .filter(|r| r.group.as_deref() == Some(group))
            .collect();
        if members.is_empty() {
            return Err(Error::new(format!("there is no group `{group}` to copy")));
        }
        if self
            .spec
            .resources
            .iter()
            .any(|r| r.group.as_deref() == Some(to))
        {
            return Err(Error::new(format!("a group `{to}` exists already")));
        }
        let rename = |name: &str| -> String {
            if name == group {
                to.to_string()
            } else if name.contains(group) {
                name.replacen(group, to, 1)
            } else {
                format!("{to}-{name}")
            }
        };
        let refs: Vec<(String, String)> = members
            .iter()
            .map(|r| {
                (
                    format!("${{{}.", r.address),
                    format!("${{{}.{}.", r.address.kind, rename(&r.address.name)),
                )
            })
            .collect();
        // The old host name and the new one, from the group's record or site.
        let old_host = members.iter().find_map(|r| match r.address.kind.as_str() {
            "proxy_site" => r
                .attrs
                .get("server_name")
                .and_then(Value::as_str)
                .map(str::to_string),
            _ => None,
        });
        let record = members.iter().find(|r| r.address.kind == "dns_record");
        let zone = record
            .and_then(|r| {
                r.attrs
                    .get("zone")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .or_else(|| {
                old_host
                    .as_deref()
                    .and_then(|h| h.split_once('.').map(|(_, z)| z.to_string()))
            })
            .or_else(|| self.spec.project.domain.clone());
        let new_host = zone.as_ref().map(|z| format!("{to}.{z}"));
        let path = PathBuf::from(format!("infra/{to}.toml"));
        let mut made = Vec::new();
        for r in members {
            let src_path = self.spec.sources.file(r.loc.file).path.clone();
            let src = self.doc(&src_path)?;
            let mut table: Table = src
                .get(&r.address.kind)
                .and_then(|k| k.get(&r.address.name))
                .and_then(Item::as_table)
                .cloned()
                .ok_or_else(|| Error::new(format!("cannot find `{}`", r.address)))?;
            table.set_implicit(false);
            table.decor_mut().clear();
            table.insert("group", Item::Value(to.into()));
            if table.contains_key("hostname") {
                table.insert("hostname", Item::Value(to.into()));
            }
            if let Some(ip) = table.get("ip").and_then(Item::as_str).map(str::to_string) {
                let old: Option<std::net::IpAddr> =
                    ip.split('/').next().and_then(|a| a.parse().ok());
                let pool = self
                    .spec
                    .pools
                    .values()
                    .find(|p| p.cidr.zip(old).is_some_and(|(c, a)| c.contains(&a)))
                    .or_else(|| self.spec.pools.values().next())
                    .ok_or_else(|| {
                        Error::new("the project has no [pools] to take an address from")
                    })?;
                let new_ip = pool::allocate(pool, &self.used_ips).map_err(Error::new)?;
                if let Ok(a) = new_ip.split('/').next().unwrap_or_default().parse() {
                    self.used_ips.insert(a);
                }
                table.insert("ip", Item::Value(new_ip.as_str().into()));
            }
            match r.address.kind.as_str() {
                "dns_record" => {
                    table.insert("name", Item::Value(to.into()));
                }
                "proxy_site" => {
                    if let Some(h) = &new_host {
                        table.insert("server_name", Item::Value(h.as_str().into()));
                    }
                }
                "monitor" => {
                    if let (Some(url), Some(old), Some(new)) = (
                        table.get("url").and_then(Item::as_str),
                        &old_host,
                        &new_host,
                    ) {
                        let u = url.replacen(old.as_str(), new, 1);
                        table.insert("url", Item::Value(u.as_str().into()));
                    }
                }
                _ => {}
            }
            let mut item = Item::Table(table);
            rewrite_item(&mut item, &|s: &str| {
                let mut out = s.to_string();
                for (from, into) in &refs {
                    out = out.replace(from, into);
                }
                (out != s).then_some(out)
            });
            let new_addr = Address::new(r.address.kind.clone(), rename(&r.address.name));
            if self.spec.resource(&new_addr).is_some() {
                return Err(Error::new(format!("`{new_addr}` exists already")));
            }
            let doc = self.doc(&path)?;
            let kt = doc.entry(&r.address.kind).or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            });
            kt.as_table_mut()
                .ok_or_else(|| {
                    Error::new(format!(
                        "{}: `{}` is not a table",
                        path.display(),
                        r.address.kind
                    ))
                })?
                .insert(&new_addr.name, item);
            self.created.insert(new_addr.to_string(), path.clone());
            self.edit.touched.insert(new_addr.to_string());
            made.push(new_addr.to_string());
        }
        self.edit
            .lines
            .push(format!("clone group {group} as {to}: {}", made.join(", ")));
        Ok(())
    }

    /// A kept resource that referred to a removed one gets the value it had
    /// ("retire gitea but keep its DNS record": the record keeps its address).
    pub(super) fn resolve_dangling(&mut self) -> Result<()> {
        if self.edit.removed.is_empty() {
            return Ok(());
        }
        let mut values: std::collections::BTreeMap<String, Value> =
            std::collections::BTreeMap::new();
        for r in &self.spec.resources {
            if !self.edit.removed.contains(&r.address.to_string())
                || self.renamed.contains_key(&r.address.to_string())
            {
                continue;
            }
            let mut attrs = r.attrs.clone();
            schema::derive_computed(&r.address.kind, &mut attrs);
            for (k, v) in attrs {
                values.insert(format!("${{{}.{k}}}", r.address), v);
            }
        }
        if values.is_empty() {
            return Ok(());
        }
        let dangling = self.spec.resources.iter().any(|r| {
            !self.edit.removed.contains(&r.address.to_string())
                && r.attrs.values().any(|v| {
                    v.as_str().is_some_and(|s| {
                        references(s).iter().any(|(a, _)| {
                            self.edit.removed.contains(a) && !self.renamed.contains_key(a)
                        })
                    })
                })
        });
        if !dangling {
            return Ok(());
        }
        self.rewrite_everywhere(&|s: &str| {
            let mut out = s.to_string();
            for (reference, v) in &values {
                if out.contains(reference.as_str()) {
                    if let Some(text) = v.as_str() {
                        out = out.replace(reference.as_str(), text);
                    } else if out == *reference {
                        out = v.to_string();
                    }
                }
            }
            (out != s).then_some(out)
        })
    }
}

fn rewrite_item(item: &mut Item, f: &dyn Fn(&str) -> Option<String>) {
    match item {
        Item::Value(v) => rewrite_value(v, f),
        Item::Table(t) => {
            for (_, i) in t.iter_mut() {
                rewrite_item(i, f);
            }
        }
        Item::ArrayOfTables(a) => {
            for t in a.iter_mut() {
                for (_, i) in t.iter_mut() {
                    rewrite_item(i, f);
                }
            }
        }
        Item::None => {}
    }
}

fn rewrite_value(v: &mut toml_edit::Value, f: &dyn Fn(&str) -> Option<String>) {
    match v {
        toml_edit::Value::String(s) => {
            if let Some(new) = f(s.value()) {
                let decor = s.decor().clone();
                let mut n = toml_edit::Formatted::new(new);
                *n.decor_mut() = decor;
                *s = n;
            }
        }
        toml_edit::Value::Array(a) => {
            for x in a.iter_mut() {
                rewrite_value(x, f);
            }
        }
        toml_edit::Value::InlineTable(t) => {
            for (_, x) in t.iter_mut() {
                rewrite_value(x, f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found() {
        assert_eq!(
            references("http://${container.gitea.address}:3000"),
            [("container.gitea".to_string(), "address".to_string())]
        );
        assert!(references("plain").is_empty());
    }
}
