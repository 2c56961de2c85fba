//! The `prometheus` provider: one file_sd JSON file per monitor in a targets
//! directory (local or over SSH), in the blackbox-exporter style: the monitored
//! URL is the target, and a scrape job that relabels `__address__` into
//! `__param_target` probes it. Prometheus watches file_sd files, so no restart
//! or reload is needed; files are written atomically, so it never reads half a file.
//!
//! ```json
//! [{"targets": ["https://app.example.com/"],
//!   "labels": {"__scrape_interval__": "30s", "__scrape_timeout__": "10s",
//!              "infra_expect_status": "200", "infra_owner": "infra:PROJECT/monitor.NAME"}}]
//! ```
//! - JSON has no comments, so the ownership marker is the `infra_owner` label
//!   (it also tells which resource a series belongs to).
//! - `interval` and `timeout` are the `__scrape_interval__`/`__scrape_timeout__`
//!   labels, which Prometheus (2.x and later) honours per target without any
//!   scrape-config change; Prometheus drops a target whose timeout exceeds its
//!   interval, so such a monitor is refused here.
//! - `expect_status` is the `infra_expect_status` label. blackbox decides success
//!   by its module, so a job that should honour it maps the label to a module,
//!   e.g. `source_labels: [infra_expect_status]`, `target_label: __param_module`,
//!   `replacement: http_$1` with modules `http_200`, `http_404`, … in blackbox.yml;
//!   without that, the job's module (usually `http_2xx`) applies.
//!
//! Read back is from the JSON; a file edited beyond what the attributes express
//! (extra labels or targets) reports `edited_lines` and no attribute, and is rewritten.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::host::objects::{Adoptable, ObjectDir};
use crate::host::{self, Host};
use infra_core::spec::schema::kinds;
use infra_core::spec::{Attrs, ProviderConfig};
use infra_kit::{check_settings, parse_settings, Finding, ProviderInfo, Setting};
use infra_kit::{
    marker, parse_marker, Context, Desired, KindSupport, Observed, Provider, ProviderError, Result,
};
use serde::Deserialize;

pub static INFO: ProviderInfo = ProviderInfo {
    kind: "prometheus",
    kinds: KINDS,
    settings: &[
        Setting::required(
            "targets_dir",
            "file_sd directory the blackbox scrape job reads (*.json)",
        ),
        Setting::optional("host", "ssh://user@host:port to manage a remote host"),
    ],
    check_settings: check_settings::<Written>,
    check_spec: None,
    audit: Some(|d, _| match Monitor::from_attrs(&d.attrs) {
        Ok(_) => Vec::new(),
        Err(e) => vec![Finding::whole(e)],
    }),
};

/// `[providers.NAME]` as written.
#[derive(Debug, Deserialize)]
struct Written {
    targets_dir: String,
    host: Option<String>,
}

impl infra_kit::Settings for Written {
    fn check(&self, project: &std::path::Path) -> Vec<Finding> {
        host::check_host_dirs(
            self.host.as_deref(),
            project,
            &[("targets_dir", Some(&self.targets_dir))],
        )
    }
}

pub const FACTORY: infra_kit::ProviderFactory = infra_kit::ProviderFactory { info: &INFO, build };

const KINDS: &[KindSupport] = &[KindSupport::plain(kinds::MONITOR)];

const OWNER: &str = "infra_owner";
const INTERVAL: &str = "__scrape_interval__";
const TIMEOUT: &str = "__scrape_timeout__";
const STATUS: &str = "infra_expect_status";

fn build(config: &ProviderConfig, ctx: &Context) -> std::result::Result<Arc<dyn Provider>, String> {
    let w: Written = parse_settings(&config.settings, &ctx.root).map_err(|f| f.to_string())?;
    let host = Host::from_setting(w.host.as_deref())?;
    let targets_dir = host::dir_setting(&host, &ctx.root, &w.targets_dir);
    Ok(Arc::new(Prometheus {
        files: ObjectDir::new(
            targets_dir,
            "json",
            ("targets_dir", "Prometheus"),
            &ctx.project,
            read_back,
        ),
        project: ctx.project.clone(),
    }))
}

pub struct Prometheus {
    /// The file_sd directory: one `.json` file per monitor.
    files: ObjectDir,
    project: String,
}

/// A monitor's values, checked.
#[derive(Debug, Clone, PartialEq)]
struct Monitor {
    url: String,
    interval: i64,
    expect_status: i64,
    timeout: i64,
}

impl Monitor {
    fn from_attrs(a: &Attrs) -> std::result::Result<Monitor, String> {
        let int = |n: &str, default: i64| match a.get(n) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_i64()
                .ok_or(format!("`{n}` must be an integer, not {v}")),
        };
        let url = a
            .get("url")
            .and_then(Value::as_str)
            .ok_or("`url` is required")?
            .to_string();
        if url.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("`url` = {url:?} is not a URL"));
        }
        let m = Monitor {
            url,
            interval: int("interval", 30)?,
            expect_status: int("expect_status", 200)?,
            timeout: int("timeout", 10)?,
        };
        if m.interval < 1 || m.timeout < 1 {
            return Err("`interval` and `timeout` must be at least 1 second".into());
        }
        if m.timeout > m.interval {
            return Err(format!(
                "`timeout` ({}s) is longer than `interval` ({}s); Prometheus drops such a target",
                m.timeout, m.interval
            ));
        }
        Ok(m)
    }

    fn attrs(&self) -> Attrs {
        let mut a = Attrs::new();
        a.insert("url".into(), Value::from(self.url.clone()));
        a.insert("interval".into(), Value::from(self.interval));
        a.insert("expect_status".into(), Value::from(self.expect_status));
        a.insert("timeout".into(), Value::from(self.timeout));
        a
    }

    /// The file_sd document.
    fn doc(&self, owner: &str) -> Value {
        json!([{
            "targets": [self.url],
            "labels": {
                INTERVAL: format!("{}s", self.interval),
                TIMEOUT: format!("{}s", self.timeout),
                STATUS: self.expect_status.to_string(),
                OWNER: owner,
            }
        }])
    }

    /// The file's text: the document, pretty, with a final newline.
    fn file(&self, owner: &str) -> String {
        let mut text =
            serde_json::to_string_pretty(&self.doc(owner)).expect("a document serialises");
        text.push('\n');
        text
    }

    /// Recover a monitor from a document; `None` unless the document is
    /// exactly what `doc` writes for it.
    fn from_doc(doc: &Value) -> Option<(Monitor, String)> {
        let group = doc.as_array().filter(|a| a.len() == 1)?.first()?;
        let url = group["targets"].as_array().filter(|t| t.len() == 1)?[0].as_str()?;
        let labels = group["labels"].as_object()?;
        let secs = |k: &str| {
            labels
                .get(k)?
                .as_str()?
                .strip_suffix('s')?
                .parse::<i64>()
                .ok()
        };
        // Without the owner label: a file in this shape made by hand (adoptable).
        let owner = match labels.get(OWNER) {
            Some(o) => o.as_str()?.to_string(),
            None => String::new(),
        };
        let m = Monitor {
            url: url.to_string(),
            interval: secs(INTERVAL)?,
            timeout: secs(TIMEOUT)?,
            expect_status: labels.get(STATUS)?.as_str()?.parse().ok()?,
        };
        let mut expected = m.doc(&owner);
        if owner.is_empty() {
            if let Some(l) = expected[0]["labels"].as_object_mut() {
                l.remove(OWNER);
            }
        }
        (expected == *doc).then_some((m, owner))
    }
}

/// What a file says: owner and attributes (see the module docs).
fn read_back(project: &str, data: &[u8]) -> (Option<String>, Attrs) {
    let doc: Option<Value> = serde_json::from_slice(data).ok();
    let owner_label = doc.as_ref().and_then(|d| {
        d.get(0)?
            .get("labels")?
            .get(OWNER)?
            .as_str()
            .map(String::from)
    });
    let owner = owner_label
        .as_deref()
        .and_then(|m| parse_marker(project, m))
        .map(String::from);
    if let Some((m, _)) = doc.as_ref().and_then(Monitor::from_doc) {
        return (owner, m.attrs());
    }
    let mut attrs = Attrs::new();
    if owner.is_some() {
        attrs.insert(
            "edited_lines".into(),
            Value::from(describe_edits(doc.as_ref())),
        );
    }
    (owner, attrs)
}

/// What in a document is beyond a monitor: extra groups, targets, labels.
fn describe_edits(doc: Option<&Value>) -> Vec<String> {
    let Some(groups) = doc.and_then(Value::as_array) else {
        return vec!["the file is not a JSON list of target groups".into()];
    };
    let mut out = Vec::new();
    if groups.len() != 1 {
        out.push(format!("{} target groups instead of 1", groups.len()));
    }
    for g in groups {
        let targets = g["targets"].as_array().map_or(0, Vec::len);
        if targets != 1 {
            out.push(format!("{targets} targets instead of 1"));
        }
        for (k, v) in g["labels"].as_object().into_iter().flatten() {
            if ![OWNER, INTERVAL, TIMEOUT, STATUS].contains(&k.as_str()) {
                out.push(format!("+ label {k}={v}"));
            } else if k != OWNER
                && k != STATUS
                && !v.as_str().is_some_and(|s| {
                    s.strip_suffix('s')
                        .is_some_and(|n| n.parse::<i64>().is_ok())
                })
            {
                out.push(format!("~ label {k}={v}"));
            }
        }
    }
    if out.is_empty() {
        out.push("the file differs from what infra wrote".into());
    }
    out
}

impl Prometheus {
    async fn put(&self, id: &str, address: &str, attrs: &Attrs) -> Result<Observed> {
        let m = Monitor::from_attrs(attrs)
            .map_err(|e| ProviderError::rejected(format!("{address}: {e}")))?;
        self.files.owned(id, Some(address)).await?;
        let text = m.file(&marker(&self.project, address));
        self.files.write(id, text.as_bytes(), 0o644).await?;
        Ok(self.files.observe(id, text.as_bytes()))
    }
}

#[async_trait]
impl Provider for Prometheus {
    async fn tidy(&self) -> Result<Vec<String>> {
        self.files.tidy().await
    }

    async fn list(&self, _kind: &str) -> Result<Vec<Observed>> {
        self.files.list().await
    }

    async fn create(&self, r: &Desired) -> Result<Observed> {
        self.put(&self.files.id_for(&r.address), &r.address, &r.attrs)
            .await
    }

    async fn update(&self, id: &str, r: &Desired, _live: &Observed) -> Result<Observed> {
        self.put(id, &r.address, &r.attrs).await
    }

    async fn delete(&self, _kind: &str, id: &str, address: &str) -> Result<()> {
        if self.files.owned(id, Some(address)).await?.is_some() {
            self.files.remove(id).await?;
        }
        Ok(())
    }

    async fn adopt(&self, _kind: &str, id: &str, address: &str) -> Result<Observed> {
        let e = match self.files.adoptable(id, address).await? {
            Adoptable::Ours(live) => return Ok(live),
            Adoptable::Unmarked(entry) => entry,
        };
        let doc: Value = serde_json::from_slice(&e.data).map_err(|err| {
            ProviderError::rejected(format!("{}: not JSON: {err}", self.files.show(id)))
        })?;
        // A hand-written file: one group, one target; labels as we write them, or absent.
        let group = doc
            .as_array()
            .filter(|a| a.len() == 1)
            .and_then(|a| a.first())
            .filter(|g| g["targets"].as_array().is_some_and(|t| t.len() == 1))
            .ok_or_else(|| {
                ProviderError::rejected(format!(
                    "{} is not one target group with one target, so it is not one monitor",
                    self.files.show(id)
                ))
            })?;
        let label = |k: &str| group["labels"][k].as_str().map(String::from);
        let secs = |k: &str| label(k).and_then(|s| s.strip_suffix('s')?.parse::<i64>().ok());
        let mut attrs = Attrs::new();
        attrs.insert("url".into(), group["targets"][0].clone());
        attrs.insert("interval".into(), Value::from(secs(INTERVAL).unwrap_or(30)));
        attrs.insert("timeout".into(), Value::from(secs(TIMEOUT).unwrap_or(10)));
        let status = label(STATUS)
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(200);
        attrs.insert("expect_status".into(), Value::from(status));
        // The file is not ours yet, so write it without the owner check.
        let m = Monitor::from_attrs(&attrs).map_err(ProviderError::rejected)?;
        let text = m.file(&marker(&self.project, address));
        self.files.write(id, text.as_bytes(), e.mode).await?;
        Ok(self.files.observe(id, text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(v: Value) -> Attrs {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn writes_blackbox_file_sd_and_reads_it_back() {
        let m = Monitor::from_attrs(&attrs(
            json!({"url": "https://a.test/", "interval": 60, "expect_status": 204, "timeout": 5}),
        ))
        .unwrap();
        let doc = m.doc("infra:p/monitor.a");
        assert_eq!(
            doc,
            json!([{"targets": ["https://a.test/"], "labels": {
                "__scrape_interval__": "60s", "__scrape_timeout__": "5s",
                "infra_expect_status": "204", "infra_owner": "infra:p/monitor.a"}}])
        );
        let bytes = serde_json::to_vec_pretty(&doc).unwrap();
        let (owner, back) = read_back("p", &bytes);
        assert_eq!(owner.as_deref(), Some("monitor.a"));
        assert_eq!(back, m.attrs());
        assert_eq!(
            read_back("q", &bytes).0,
            None,
            "another project's file is not ours"
        );
    }

    #[test]
    fn an_edited_url_reads_back_as_that_url() {
        let m = Monitor::from_attrs(&attrs(json!({"url": "https://a.test/"}))).unwrap();
        let text = serde_json::to_string(&m.doc("infra:p/monitor.a")).unwrap();
        let (_, back) = read_back("p", text.replace("a.test", "b.test").as_bytes());
        assert_eq!(back["url"], json!("https://b.test/"));
    }

    #[test]
    fn extra_labels_are_reported_as_edits() {
        let m = Monitor::from_attrs(&attrs(json!({"url": "https://a.test/"}))).unwrap();
        let mut doc = m.doc("infra:p/monitor.a");
        doc[0]["labels"]["team"] = json!("ops");
        let (owner, back) = read_back("p", &serde_json::to_vec(&doc).unwrap());
        assert!(owner.is_some());
        assert!(!back.contains_key("url"));
        assert_eq!(back["edited_lines"], json!(["+ label team=\"ops\""]));
        assert!(read_back("p", b"not json").0.is_none());
    }

    #[test]
    fn refuses_a_timeout_longer_than_the_interval() {
        let e = Monitor::from_attrs(&attrs(
            json!({"url": "https://a.test/", "interval": 5, "timeout": 10}),
        ))
        .unwrap_err();
        assert!(e.contains("Prometheus drops such a target"), "{e}");
    }
}
