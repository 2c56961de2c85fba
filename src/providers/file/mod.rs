//! The `file` provider: real files under a root directory. The reference provider.
//!
//! Ownership: the first line of every file it writes is a comment carrying the
//! marker (`# infra:PROJECT/file.NAME ...`). Files without this project's marker
//! are never overwritten or deleted, unless `infra import` adopts them. Writes are
//! atomic (temp file + rename), so a crash leaves the old or the new file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::{
    marker, parse_marker, Context, Desired, KindSupport, Observed, Provider, ProviderError, Result,
};
use crate::spec::validate::{ProviderInfo, Setting};
use crate::spec::{Attrs, ProviderConfig};

pub static INFO: ProviderInfo = ProviderInfo {
    kind: "file",
    serves: &["file"],
    settings: &[
        Setting {
            name: "root",
            required: true,
            secret: false,
            help: "directory the files live under (relative to the project)",
        },
        Setting {
            name: "comment",
            required: false,
            secret: false,
            help: "comment prefix for the marker line, default \"#\"",
        },
    ],
};

pub const FACTORY: super::ProviderFactory = super::ProviderFactory { info: &INFO, build };

const KINDS: &[KindSupport] = &[KindSupport {
    kind: "file",
    replace_on: &[],
}];

fn build(config: &ProviderConfig, ctx: &Context) -> std::result::Result<Arc<dyn Provider>, String> {
    let root = config
        .settings
        .get("root")
        .and_then(Value::as_str)
        .ok_or("provider needs root = \"DIR\"")?;
    let comment = config
        .settings
        .get("comment")
        .and_then(Value::as_str)
        .unwrap_or("#")
        .to_string();
    Ok(Arc::new(FileProvider {
        root: ctx.root.join(root),
        project: ctx.project.clone(),
        comment,
    }))
}

pub struct FileProvider {
    root: PathBuf,
    project: String,
    comment: String,
}

impl FileProvider {
    pub fn new(root: PathBuf, project: &str) -> Self {
        FileProvider {
            root,
            project: project.to_string(),
            comment: "#".into(),
        }
    }

    fn full(&self, rel: &str) -> Result<PathBuf> {
        if rel.is_empty()
            || rel.starts_with('/')
            || rel.split('/').any(|c| c == ".." || c.is_empty())
        {
            return Err(ProviderError::rejected(format!(
                "path `{rel}` must stay inside the provider root"
            )));
        }
        Ok(self.root.join(rel))
    }

    fn marker_line(&self, address: &str) -> String {
        format!(
            "{} {} (managed by infra; local edits will be overwritten)\n",
            self.comment,
            marker(&self.project, address)
        )
    }

    /// Parse a file's text into (owner, content without the marker line).
    fn split<'a>(&self, text: &'a str) -> (Option<String>, &'a str) {
        let (first, rest) = match text.find('\n') {
            Some(i) => (&text[..i], &text[i + 1..]),
            None => (text, ""),
        };
        let owner = first
            .strip_prefix(self.comment.as_str())
            .map(str::trim_start)
            .and_then(|m| m.split_whitespace().next())
            .and_then(|m| parse_marker(&self.project, m))
            .map(str::to_string);
        match owner {
            Some(o) => (Some(o), rest),
            None => (None, text),
        }
    }

    fn observe(&self, rel: &str, path: &Path) -> Result<Option<Observed>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(path, e)),
        };
        let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
        let text = String::from_utf8_lossy(&bytes);
        let (owner, content) = self.split(&text);
        let mut attrs = Attrs::new();
        attrs.insert("path".into(), Value::from(rel));
        attrs.insert("content".into(), Value::from(content));
        attrs.insert("mode".into(), Value::from(mode_string(&meta)));
        attrs.insert("id".into(), Value::from(rel));
        Ok(Some(Observed {
            id: rel.to_string(),
            owner,
            attrs,
        }))
    }

    fn write(&self, r: &Desired) -> Result<Observed> {
        let rel = r
            .attrs
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::rejected("file needs a path"))?;
        let path = self.full(rel)?;
        let content = r.attrs.get("content").and_then(Value::as_str).unwrap_or("");
        let mode = r
            .attrs
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or("0644");
        let mode = u32::from_str_radix(mode, 8)
            .map_err(|_| ProviderError::rejected(format!("bad mode {mode}")))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
        }
        let data = format!("{}{content}", self.marker_line(&r.address));
        crate::util::write_atomic(&path, data.as_bytes()).map_err(|e| io_err(&path, e))?;
        set_mode(&path, mode)?;
        self.observe(rel, &path)?.ok_or_else(|| {
            ProviderError::rejected(format!("{} vanished after writing", path.display()))
        })
    }

    /// Refuse to touch a file that is not ours.
    fn check_owner(&self, rel: &str, address: Option<&str>) -> Result<()> {
        let path = self.full(rel)?;
        if let Some(live) = self.observe(rel, &path)? {
            match (&live.owner, address) {
                (None, _) => {
                    return Err(ProviderError::NotOwned(format!(
                        "{} exists and was not written by infra; refusing to touch it (adopt it with `infra import`)",
                        path.display()
                    )))
                }
                (Some(o), Some(a)) if o != a => {
                    return Err(ProviderError::NotOwned(format!("{} belongs to {o}, not {a}", path.display())))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for FileProvider {
    fn kinds(&self) -> &[KindSupport] {
        KINDS
    }

    async fn list(&self, _kind: &str) -> Result<Vec<Observed>> {
        let mut out = Vec::new();
        if !self.root.exists() {
            return Ok(out);
        }
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| io_err(&dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| io_err(&dir, e))?;
                let path = entry.path();
                let ft = entry.file_type().map_err(|e| io_err(&path, e))?;
                if ft.is_dir() {
                    stack.push(path);
                } else if ft.is_file() && !is_temp(&path) {
                    let rel = path
                        .strip_prefix(&self.root)
                        .expect("walk stays under root")
                        .to_string_lossy()
                        .to_string();
                    out.extend(self.observe(&rel, &path)?);
                }
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn read(&self, _kind: &str, id: &str) -> Result<Option<Observed>> {
        let path = self.full(id)?;
        self.observe(id, &path)
    }

    async fn create(&self, r: &Desired) -> Result<Observed> {
        let rel = r
            .attrs
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // An existing file with our marker for this address is the result of an earlier,
        // interrupted create: overwriting it is adoption, not a clash.
        self.check_owner(rel, Some(&r.address))?;
        self.write(r)
    }

    async fn update(&self, id: &str, r: &Desired, _live: &Observed) -> Result<Observed> {
        self.check_owner(id, Some(&r.address))?;
        self.write(r)
    }

    async fn delete(&self, _kind: &str, id: &str) -> Result<()> {
        self.check_owner(id, None)?;
        let path = self.full(id)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    async fn adopt(&self, _kind: &str, id: &str, address: &str) -> Result<Observed> {
        let path = self.full(id)?;
        let live = self
            .observe(id, &path)?
            .ok_or_else(|| ProviderError::NotFound(format!("{} does not exist", path.display())))?;
        if let Some(o) = &live.owner {
            if o != address {
                return Err(ProviderError::NotOwned(format!(
                    "{} already belongs to {o}",
                    path.display()
                )));
            }
            return Ok(live);
        }
        let mut attrs = live.attrs.clone();
        attrs.remove("id");
        let desired = Desired {
            address: address.to_string(),
            kind: "file".into(),
            attrs,
            settings: Attrs::new(),
        };
        self.write(&desired)
    }
}

fn is_temp(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        n.to_string_lossy().starts_with('.') && n.to_string_lossy().contains(".tmp.")
    })
}

fn io_err(path: &Path, e: std::io::Error) -> ProviderError {
    ProviderError::rejected(format!("{}: {e}", path.display()))
}

fn mode_string(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::PermissionsExt;
    format!("{:04o}", meta.permissions().mode() & 0o7777)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| io_err(path, e))
}
