//! The `file` provider: real files under a root directory. The reference provider.
//!
//! Ownership: the first line of every file it writes is a comment carrying the
//! marker (`# infra:PROJECT/file.NAME ...`). Files without this project's marker
//! are never overwritten or deleted, unless `infra import` adopts them. Writes are
//! atomic (temp file + rename), so a crash leaves the old or the new file.
//!
//! With `host = "ssh://user@host:port"` the root is a directory on that host
//! (absolute), reached through `providers::host`; a refresh is one round trip.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::host::{self, Depth, Entry, Host, Root, WriteOpts};
use infra_core::spec::schema::kinds;
use infra_core::spec::{Attrs, ProviderConfig};
use infra_kit::{check_settings, parse_settings, Finding, ProviderInfo, Setting};
use infra_kit::{
    marker, parse_marker, Context, Desired, KindSupport, Observed, Provider, ProviderError, Result,
};
use serde::Deserialize;

pub static INFO: ProviderInfo = ProviderInfo {
    kind: "file",
    kinds: KINDS,
    settings: &[
        Setting::required(
            "root",
            "directory the files live under (relative to the project)",
        ),
        Setting::optional(
            "comment",
            "comment prefix for the marker line, default \"#\"",
        ),
        Setting::optional(
            "host",
            "ssh://user@host:port to keep the files on a remote host (root must then be absolute)",
        ),
        Setting::optional(
            "allow_special_modes",
            "true to let files have setuid, setgid or sticky modes (4755, 2755, 1777)",
        ),
    ],
    check_settings: check_settings::<Written>,
    check_spec: None,
    audit: Some(audit),
};

/// A mode with setuid, setgid or sticky bits grants privileges: only when the
/// provider's `allow_special_modes` says so.
fn audit(d: &Desired, ctx: &Context) -> Vec<Finding> {
    let mode = d
        .attrs
        .get("mode")
        .and_then(Value::as_str)
        .unwrap_or("0644");
    let special = u32::from_str_radix(mode, 8).is_ok_and(|m| m & 0o7000 != 0);
    let allowed = ctx.settings.get("allow_special_modes") == Some(&Value::Bool(true));
    if special && !allowed {
        return vec![Finding::at(
            "mode",
            format!("{mode:?} sets setuid, setgid or sticky bits; write a mode from 0000 to 0777, or set allow_special_modes = true on the provider if the file must have them"),
        )];
    }
    Vec::new()
}

/// `[providers.NAME]` as written.
#[derive(Debug, Deserialize)]
struct Written {
    root: String,
    comment: Option<String>,
    host: Option<String>,
    #[allow(dead_code)] // read by `audit` from the settings as written
    allow_special_modes: Option<bool>,
}

impl infra_kit::Settings for Written {
    fn check(&self, project: &std::path::Path) -> Vec<Finding> {
        host::check_host_dirs(self.host.as_deref(), project, &[("root", Some(&self.root))])
    }
}

pub const FACTORY: infra_kit::ProviderFactory = infra_kit::ProviderFactory { info: &INFO, build };

const KINDS: &[KindSupport] = &[KindSupport::plain(kinds::FILE)];

fn build(config: &ProviderConfig, ctx: &Context) -> std::result::Result<Arc<dyn Provider>, String> {
    let w: Written = parse_settings(&config.settings, &ctx.root).map_err(|f| f.to_string())?;
    let host = Host::from_setting(w.host.as_deref())?;
    let root = host::dir_setting(&host, &ctx.root, &w.root);
    let comment = w.comment.unwrap_or_else(|| "#".into());
    Ok(Arc::new(FileProvider {
        root,
        project: ctx.project.clone(),
        comment,
    }))
}

pub struct FileProvider {
    /// Every path is resolved beneath it, never through a link.
    root: Root,
    project: String,
    comment: String,
}

impl FileProvider {
    /// Files under `dir` (absolute) on this machine.
    pub fn new(dir: &std::path::Path, project: &str) -> Self {
        FileProvider {
            root: host::dir_setting(&Host::Local, dir, &dir.to_string_lossy()),
            project: project.to_string(),
            comment: "#".into(),
        }
    }

    /// `rel`, checked to stay inside the root lexically (the root resolves it
    /// without links).
    fn full<'a>(&self, rel: &'a str) -> Result<&'a str> {
        if rel.is_empty()
            || rel.starts_with('/')
            || rel.split('/').any(|c| c == ".." || c.is_empty())
        {
            return Err(ProviderError::rejected(format!(
                "path `{rel}` must stay inside the provider root"
            )));
        }
        Ok(rel)
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

    fn observe(&self, rel: &str, entry: &Entry) -> Observed {
        let text = String::from_utf8_lossy(&entry.data);
        let (owner, content) = self.split(&text);
        let mut attrs = Attrs::new();
        attrs.insert("path".into(), Value::from(rel));
        attrs.insert("content".into(), Value::from(content));
        attrs.insert("mode".into(), Value::from(format!("{:04o}", entry.mode)));
        attrs.insert("id".into(), Value::from(rel));
        Observed {
            id: rel.to_string(),
            owner,
            attrs,
            claimed_by: None,
        }
    }

    async fn observe_path(&self, rel: &str) -> Result<Option<Observed>> {
        let rel = self.full(rel)?;
        Ok(self.root.read(rel).await?.map(|e| self.observe(rel, &e)))
    }

    async fn write(&self, r: &Desired) -> Result<Observed> {
        let rel = r
            .attrs
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::rejected("file needs a path"))?;
        let rel = self.full(rel)?;
        let content = r.attrs.get("content").and_then(Value::as_str).unwrap_or("");
        let mode = r
            .attrs
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or("0644");
        let mode = u32::from_str_radix(mode, 8)
            .map_err(|_| ProviderError::rejected(format!("bad mode {mode}")))?;
        let data = format!("{}{content}", self.marker_line(&r.address));
        let opts = WriteOpts {
            mode,
            create_dirs: true,
        };
        self.root.write(rel, data.as_bytes(), opts).await?;
        // What was written is what is there: no second round trip to read it back.
        let entry = Entry {
            name: rel.to_string(),
            mode,
            data: data.into_bytes(),
        };
        Ok(self.observe(rel, &entry))
    }

    /// Refuse to touch a file that is not ours.
    async fn check_owner(&self, rel: &str, address: Option<&str>) -> Result<()> {
        let path = self.full(rel)?;
        if let Some(live) = self.observe_path(rel).await? {
            match (&live.owner, address) {
                (None, _) => {
                    return Err(ProviderError::NotOwned(format!(
                        "{} exists and was not written by infra; refusing to touch it (adopt it with `infra import`)",
                        self.root.show(path)
                    )))
                }
                (Some(o), Some(a)) if o != a => {
                    return Err(ProviderError::NotOwned(format!("{} belongs to {o}, not {a}", self.root.show(path))))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for FileProvider {
    async fn list(&self, _kind: &str) -> Result<Vec<Observed>> {
        let entries = self.root.list(Depth::Recursive).await?;
        Ok(entries.iter().map(|e| self.observe(&e.name, e)).collect())
    }

    async fn tidy(&self) -> Result<Vec<String>> {
        // Ours: it carries this project's marker, or it was cut off before the
        // marker line was whole (empty, or a beginning of it).
        let start = format!("{} infra:{}/", self.comment, self.project);
        self.root
            .remove_stale_temps(
                |_| true,
                |data| {
                    start.as_bytes().starts_with(data)
                        || self.split(&String::from_utf8_lossy(data)).0.is_some()
                },
            )
            .await
    }

    async fn create(&self, r: &Desired) -> Result<Observed> {
        let rel = r
            .attrs
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // An existing file with our marker for this address is the result of an earlier,
        // interrupted create: overwriting it is adoption, not a clash.
        self.check_owner(rel, Some(&r.address)).await?;
        self.write(r).await
    }

    async fn update(&self, id: &str, r: &Desired, _live: &Observed) -> Result<Observed> {
        self.check_owner(id, Some(&r.address)).await?;
        self.write(r).await
    }

    async fn delete(&self, _kind: &str, id: &str, address: &str) -> Result<()> {
        self.check_owner(id, Some(address)).await?;
        self.root.remove(self.full(id)?).await
    }

    async fn adopt(&self, _kind: &str, id: &str, address: &str) -> Result<Observed> {
        let path = self.full(id)?;
        let live = self.observe_path(id).await?.ok_or_else(|| {
            ProviderError::NotFound(format!("{} does not exist", self.root.show(path)))
        })?;
        if let Some(o) = &live.owner {
            if o != address {
                return Err(ProviderError::NotOwned(format!(
                    "{} already belongs to {o}",
                    self.root.show(path)
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
        self.write(&desired).await
    }
}
