//! The expander: an Intent becomes new spec file texts. Capability templates are
//! rendered (minijinja), addresses allocated from pools, and resources written
//! with toml_edit so existing comments and formatting stay. Nothing is written
//! here: the caller validates, plans and checks the result first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;
use toml_edit::{DocumentMut, Item};

mod capability;
mod edits;
mod providers;
mod rrsets;

use super::intent::{Intent, Operation};
use super::pool;
use infra_capability::{Capability, Library, Param};
use infra_core::error::{Error, Result};
use infra_core::spec::{Address, Spec};
use infra_core::state::State;

/// The spec change an intent makes.
#[derive(Debug, Default)]
pub struct Edit {
    /// New text per file (relative to the project root); `None` deletes the file.
    pub files: BTreeMap<PathBuf, Option<String>>,
    /// Addresses the intent removes on purpose (renames remove the old address).
    pub removed: BTreeSet<String>,
    /// Addresses whose replacement the intent asked for (a new image, a record's new name or type).
    pub replaced: BTreeSet<String>,
    /// Addresses created or changed.
    pub touched: BTreeSet<String>,
    pub capabilities: Vec<String>,
    /// One line per operation, with the values it resolved ("set container.immich.cores: 4 → 6").
    pub lines: Vec<String>,
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
    /// Where resources made by this edit live, by address.
    created: BTreeMap<String, PathBuf>,
    /// Old address → new, for renames earlier in the same intent.
    renamed: BTreeMap<String, String>,
    /// Addresses the request said to keep: never removed, even with their group.
    keep: BTreeSet<String>,
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
            created: BTreeMap::new(),
            renamed: BTreeMap::new(),
            keep: BTreeSet::new(),
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
        self.keep = intent.keep.iter().cloned().collect();
        for op in &intent.operations {
            match op {
                Operation::UseCapability {
                    capability,
                    params,
                    without,
                } => self.use_capability(capability, params, without, prompt)?,
                Operation::Set {
                    address,
                    attribute,
                    value,
                } => self.set(address, attribute, value)?,
                Operation::Adjust {
                    address,
                    attribute,
                    by,
                    factor,
                } => self.adjust(address, attribute, *by, *factor)?,
                Operation::Remove { target } => self.remove(target)?,
                Operation::Rename { address, to } => self.rename(address, to)?,
                Operation::Clone { group, to } => self.clone_group(group, to)?,
                // Read from the providers by `infra adopt`, never expanded here.
                Operation::Adopt { .. } => {
                    return Err(Error::new("an adoption is not a spec edit"))
                }
            }
        }
        self.resolve_dangling()?;
        self.share_rrset_ttls()?;
        self.provide_missing()?;
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
        let group = target.starts_with("group:");
        let mut kept = Vec::new();
        for addr in self.targets(target)? {
            if self.edit.removed.contains(&addr.to_string()) {
                continue; // removed by an earlier operation of the same request
            }
            if self.keep.contains(&addr.to_string()) {
                if !group {
                    return Err(Error::new(format!(
                        "refusing to remove `{addr}`: the request says to keep it"
                    )));
                }
                kept.push(addr.to_string());
                continue;
            }
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
            self.edit.lines.push(format!("remove {addr}"));
        }
        if !kept.is_empty() {
            self.edit.lines.push(format!("keep {}", kept.join(", ")));
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
