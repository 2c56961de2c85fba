//! A directory holding one file per object, on a `Host`: nginx sites, Prometheus
//! file_sd targets. Ids are file names (`{project}--{name}.{ext}`); each file
//! names its owner, which the provider reads back with its own parser. `write`
//! and `remove` do not check ownership: a provider calls `owned` (or `adoptable`,
//! for an import) first and writes only what that allowed. What a change means
//! beyond the file (nginx's test and reload) stays with the provider.

use serde_json::Value;

use super::{object_file_name, object_file_prefix, Depth, Entry, Root, WriteOpts};
use infra_core::spec::Attrs;
use infra_kit::{Observed, ProviderError, Result};

/// Owner (from the marker) and attributes, read back from a file's bytes.
pub type ReadBack = fn(project: &str, data: &[u8]) -> (Option<String>, Attrs);

pub struct ObjectDir {
    pub root: Root,
    /// Extension of object files ("conf"); other files in the directory are ignored.
    ext: &'static str,
    /// The provider setting naming `dir` and the server it feeds, for error messages.
    setting: &'static str,
    server: &'static str,
    project: String,
    read_back: ReadBack,
}

/// An existing file `infra import` may take over.
pub enum Adoptable {
    /// Already marked for this address (an earlier import or an interrupted create).
    Ours(Observed),
    /// Unmarked: the file as it is, to be rewritten with the marker.
    Unmarked(Entry),
}

impl ObjectDir {
    pub fn new(
        root: Root,
        ext: &'static str,
        (setting, server): (&'static str, &'static str),
        project: &str,
        read_back: ReadBack,
    ) -> ObjectDir {
        ObjectDir {
            root,
            ext,
            setting,
            server,
            project: project.to_string(),
            read_back,
        }
    }

    /// The file name a new object for `address` gets.
    pub fn id_for(&self, address: &str) -> String {
        object_file_name(&self.project, address, self.ext)
    }

    /// The file behind `id`; ids never leave the directory.
    pub fn path<'a>(&self, id: &'a str) -> Result<&'a str> {
        let object_file = id.strip_suffix(self.ext).is_some_and(|s| s.ends_with('.'));
        if id.contains('/') || id.starts_with('.') || !object_file {
            return Err(ProviderError::rejected(format!(
                "`{id}` is not a .{} file name in {}",
                self.ext,
                self.root.show("")
            )));
        }
        Ok(id)
    }

    /// How a path is named in messages (with the host when remote).
    pub fn show(&self, id: &str) -> String {
        self.root.show(id)
    }

    pub fn observe(&self, id: &str, data: &[u8]) -> Observed {
        let (owner, mut attrs) = (self.read_back)(&self.project, data);
        attrs.insert("id".into(), Value::from(id));
        Observed {
            id: id.to_string(),
            owner,
            attrs,
            claimed_by: None,
        }
    }

    /// Every object file, owned or not, in one directory read.
    pub async fn list(&self) -> Result<Vec<Observed>> {
        let entries = self.root.list(Depth::Flat).await?;
        Ok(entries
            .iter()
            .filter(|e| !e.name.starts_with('.') && self.path(&e.name).is_ok())
            .map(|e| self.observe(&e.name, &e.data))
            .collect())
    }

    /// Temp files of this project's object files that a killed write left.
    pub async fn tidy(&self) -> Result<Vec<String>> {
        let prefix = object_file_prefix(&self.project);
        self.root
            .remove_stale_temps(
                |name| name.starts_with(&prefix),
                // The name is this project's object file name; a write killed
                // part way may not hold the marker yet.
                |_| true,
            )
            .await
    }

    pub async fn read(&self, id: &str) -> Result<Option<Observed>> {
        let path = self.path(id)?;
        Ok(self
            .root
            .read(path)
            .await?
            .map(|e| self.observe(id, &e.data)))
    }

    /// The file as it is, after checking infra may change it for `address`
    /// (`None`: any address of this project, as for a delete).
    pub async fn owned(&self, id: &str, address: Option<&str>) -> Result<Option<Entry>> {
        let path = self.path(id)?;
        let Some(entry) = self.root.read(path).await? else {
            return Ok(None);
        };
        match ((self.read_back)(&self.project, &entry.data).0, address) {
            (None, _) => Err(ProviderError::NotOwned(format!(
                "{} exists and was not written by infra; refusing to touch it (adopt it with `infra import`)",
                self.root.show(path)
            ))),
            (Some(o), Some(a)) if o != a => Err(ProviderError::NotOwned(format!(
                "{} belongs to {o}, not {a}",
                self.root.show(path)
            ))),
            _ => Ok(Some(entry)),
        }
    }

    /// An existing file `address` may adopt: refused if missing or another's.
    pub async fn adoptable(&self, id: &str, address: &str) -> Result<Adoptable> {
        let path = self.path(id)?;
        let entry = self.root.read(path).await?.ok_or_else(|| {
            ProviderError::NotFound(format!("{} does not exist", self.root.show(path)))
        })?;
        match (self.read_back)(&self.project, &entry.data).0 {
            Some(o) if o == address => Ok(Adoptable::Ours(self.observe(id, &entry.data))),
            Some(o) => Err(ProviderError::NotOwned(format!(
                "{} already belongs to {o}",
                self.root.show(path)
            ))),
            None => Ok(Adoptable::Unmarked(entry)),
        }
    }

    /// Write the file atomically. The directory must exist: a missing one is
    /// named with the setting that points at it.
    pub async fn write(&self, id: &str, data: &[u8], mode: u32) -> Result<()> {
        let opts = WriteOpts {
            mode,
            create_dirs: false,
        };
        self.root
            .write(self.path(id)?, data, opts)
            .await
            .map_err(|e| {
                ProviderError::rejected(format!(
                    "{e} (does {} exist on the {} host?)",
                    self.setting, self.server
                ))
            })
    }

    pub async fn remove(&self, id: &str) -> Result<()> {
        self.root.remove(self.path(id)?).await
    }
}
