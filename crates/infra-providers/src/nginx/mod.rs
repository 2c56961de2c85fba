//! The `nginx` provider: one file per proxy_site in a sites directory, on this
//! machine or over SSH, checked by `nginx -t` before nginx is told to reload.
//!
//! A change is: write the file atomically (and link it into `enabled_dir` when
//! set), run `nginx -t`; if nginx refuses the configuration, put the previous file
//! back (or remove the new one) and fail with nginx's own words; otherwise
//! `nginx -s reload`. nginx therefore never loads a configuration it rejected, and
//! a failed apply leaves the files as they were. Changes are serialised within
//! one provider, so one bad site cannot fail the test of another.
//!
//! Files are `{project}--{name}.conf`; the first line carries the ownership
//! marker, and files without it are never touched unless imported. Reading back
//! is in `site.rs`. Depends on `providers::host` for the transport.

mod challenge;
mod site;

use std::sync::Arc;

use async_trait::async_trait;

use crate::host::objects::{Adoptable, ObjectDir};
use crate::host::{self, Entry, Host, Root};
use infra_core::spec::schema::kinds;
use infra_core::spec::{Attrs, ProviderConfig};
use infra_kit::{check_settings, parse_settings, Finding, OneOrMany, ProviderInfo, Setting};
use infra_kit::{marker, Context, Desired, KindSupport, Observed, Provider, ProviderError, Result};
use serde::Deserialize;
pub use site::Site;

pub static INFO: ProviderInfo = ProviderInfo {
    kind: "nginx",
    kinds: KINDS,
    settings: &[
        Setting::required("sites_dir", "directory nginx includes site files from, e.g. /etc/nginx/conf.d"),
        Setting::optional("enabled_dir", "sites-enabled directory: files go to sites_dir and are linked here"),
        Setting::optional("nginx", "nginx binary or command prefix, e.g. \"nginx -p /srv/nginx -c /srv/nginx/nginx.conf\" (default nginx)"),
        Setting::optional("host", "ssh://user@host:port to manage a remote host"),
        Setting::optional("challenge_dir", "directory for ACME http-01 answers; every site then serves /.well-known/acme-challenge/ from it"),
        Setting::optional("challenge_listen", "where a name without a site yet answers http-01 while its certificate is issued (default 80)"),
    ],
    check_settings: check_settings::<Written>,
    check_spec: None,
    audit: None,
};

/// `[providers.NAME]` as written.
#[derive(Debug, Deserialize)]
struct Written {
    sites_dir: String,
    enabled_dir: Option<String>,
    nginx: Option<OneOrMany>,
    host: Option<String>,
    challenge_dir: Option<String>,
    challenge_listen: Option<String>,
}

impl infra_kit::Settings for Written {
    fn check(&self, project: &std::path::Path) -> Vec<Finding> {
        let mut out = host::check_host_dirs(
            self.host.as_deref(),
            project,
            &[
                ("sites_dir", Some(&self.sites_dir)),
                ("enabled_dir", self.enabled_dir.as_deref()),
                ("challenge_dir", self.challenge_dir.as_deref()),
            ],
        );
        if let Some(l) = &self.challenge_listen {
            if !site::listen_ok(l) {
                out.push(Finding::at(
                    "challenge_listen",
                    format!("{l:?} is not an nginx listen value (a port or ADDRESS:PORT)"),
                ));
            }
        }
        if self.nginx.clone().is_some_and(|n| command(n).is_empty()) {
            out.push(Finding::at("nginx", "must not be empty"));
        }
        out
    }
}

pub const FACTORY: infra_kit::ProviderFactory = infra_kit::ProviderFactory { info: &INFO, build };

const KINDS: &[KindSupport] = &[KindSupport::plain(kinds::PROXY_SITE)];

fn build(config: &ProviderConfig, ctx: &Context) -> std::result::Result<Arc<dyn Provider>, String> {
    let w: Written = parse_settings(&config.settings, &ctx.root).map_err(|f| f.to_string())?;
    let host = Host::from_setting(w.host.as_deref())?;
    let sites_dir = host::dir_setting(&host, &ctx.root, &w.sites_dir);
    let enabled_dir = w
        .enabled_dir
        .map(|d| host::dir_setting(&host, &ctx.root, &d));
    let nginx = command(w.nginx.unwrap_or(OneOrMany::One("nginx".into())));
    let challenge_dir = w
        .challenge_dir
        .map(|d| host::dir_setting(&host, &ctx.root, &d));
    Ok(Arc::new(Nginx {
        files: ObjectDir::new(
            sites_dir,
            "conf",
            ("sites_dir", "nginx"),
            &ctx.project,
            read_site,
        ),
        enabled_dir,
        nginx,
        challenge_dir,
        challenge_listen: w.challenge_listen.unwrap_or_else(|| "80".into()),
        project: ctx.project.clone(),
        lock: tokio::sync::Mutex::new(()),
    }))
}

fn read_site(project: &str, data: &[u8]) -> (Option<String>, Attrs) {
    site::read_back(project, &String::from_utf8_lossy(data))
}

/// `nginx = "nginx -p P -c C"` (split on whitespace) or `nginx = ["nginx", "-p", "P"]`.
fn command(v: OneOrMany) -> Vec<String> {
    match v {
        OneOrMany::One(s) => s.split_whitespace().map(String::from).collect(),
        OneOrMany::Many(items) => items,
    }
}

pub struct Nginx {
    /// The sites directory: one `.conf` file per proxy_site.
    files: ObjectDir,
    /// Where each site is linked, when nginx reads a sites-enabled directory.
    enabled_dir: Option<Root>,
    nginx: Vec<String>,
    /// Where ACME http-01 answers are files (one per token).
    challenge_dir: Option<Root>,
    challenge_listen: String,
    project: String,
    /// One change at a time: write, test, reload (or restore) as a unit.
    lock: tokio::sync::Mutex<()>,
}

impl Nginx {
    /// The challenge directory as nginx should read it.
    fn challenge_path(&self) -> Option<String> {
        self.challenge_dir.as_ref().map(|d| {
            d.path("")
                .display()
                .to_string()
                .trim_end_matches('/')
                .to_string()
        })
    }

    /// Link site `id` into the enabled directory (if there is one).
    async fn link(&self, id: &str) -> Result<()> {
        match &self.enabled_dir {
            Some(d) => d.symlink(&self.files.root.path(id), id).await,
            None => Ok(()),
        }
    }

    async fn unlink(&self, id: &str) -> Result<()> {
        match &self.enabled_dir {
            Some(d) => d.remove(id).await,
            None => Ok(()),
        }
    }

    fn argv(&self, args: &[&str]) -> Vec<String> {
        let mut v = self.nginx.clone();
        v.extend(args.iter().map(|a| a.to_string()));
        v
    }

    /// `nginx -t`; Err carries nginx's own explanation.
    async fn test_config(&self) -> Result<()> {
        let out = self.files.root.host().run(&self.argv(&["-t"])).await?;
        if out.success() {
            return Ok(());
        }
        Err(ProviderError::rejected(format!(
            "nginx rejected the configuration (`{}`):\n{}",
            self.argv(&["-t"]).join(" "),
            nginx_text(&out.stderr)
        )))
    }

    async fn reload(&self) -> Result<()> {
        let out = self
            .files
            .root
            .host()
            .run(&self.argv(&["-s", "reload"]))
            .await?;
        if out.success() {
            return Ok(());
        }
        Err(ProviderError::rejected(format!(
            "`{}` failed (is nginx running?):\n{}",
            self.argv(&["-s", "reload"]).join(" "),
            nginx_text(&out.stderr)
        )))
    }

    /// Put back what was there before a change that nginx refused.
    async fn restore(&self, id: &str, before: Option<&Entry>) -> Result<()> {
        match before {
            Some(e) => self.files.write(id, &e.data, e.mode).await,
            None => {
                self.unlink(id).await?;
                self.files.remove(id).await
            }
        }
    }

    /// After a change: test, then reload; on any failure restore `before`.
    async fn activate(&self, id: &str, before: Option<&Entry>) -> Result<()> {
        let result = match self.test_config().await {
            Ok(()) => self.reload().await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            let note = match self.restore(id, before).await {
                Ok(()) => match before {
                    Some(_) => "the previous file was put back; nginx keeps serving it",
                    None => "the new file was removed; nginx keeps serving what it had",
                },
                Err(r) => {
                    return Err(ProviderError::rejected(format!(
                        "{e}\nand putting back the previous file failed too: {r}"
                    )))
                }
            };
            return Err(match e {
                ProviderError::Rejected { status, message } => ProviderError::Rejected {
                    status,
                    message: format!("{message}\n({note})"),
                },
                other => other,
            });
        }
        Ok(())
    }

    /// Write the site for `address` into file `id`, with the whole test-and-reload dance.
    async fn put(&self, id: &str, address: &str, attrs: &Attrs) -> Result<Observed> {
        let text = site::render_file(
            &marker(&self.project, address),
            attrs,
            self.challenge_path().as_deref(),
        )
        .map_err(|e| ProviderError::rejected(format!("{address}: {e}")))?;
        let _one_at_a_time = self.lock.lock().await;
        let before = self.files.owned(id, Some(address)).await?;
        self.files.write(id, text.as_bytes(), 0o644).await?;
        if let Err(e) = self.link(id).await {
            self.restore(id, before.as_ref()).await?;
            return Err(e);
        }
        self.activate(id, before.as_ref()).await?;
        Ok(self.files.observe(id, text.as_bytes()))
    }
}

/// nginx's stderr, trimmed, without the trailing "test failed" line it always adds.
fn nginx_text(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("test failed"))
        .collect();
    if lines.is_empty() {
        stderr.trim().to_string()
    } else {
        lines.join("\n")
    }
}

#[async_trait]
impl Provider for Nginx {
    fn tls_server(&self) -> Option<&dyn infra_kit::TlsServer> {
        Some(self)
    }

    async fn tidy(&self) -> Result<Vec<String>> {
        let mut removed = self.files.tidy().await?;
        removed.extend(self.tidy_challenges().await?);
        Ok(removed)
    }

    async fn list(&self, _kind: &str) -> Result<Vec<Observed>> {
        self.files.list().await
    }

    async fn create(&self, r: &Desired) -> Result<Observed> {
        // A file with our marker for this address is an earlier, interrupted
        // create: writing over it is adoption, not a clash (`owned` checks).
        self.put(&self.files.id_for(&r.address), &r.address, &r.attrs)
            .await
    }

    async fn update(&self, id: &str, r: &Desired, _live: &Observed) -> Result<Observed> {
        self.put(id, &r.address, &r.attrs).await
    }

    async fn delete(&self, _kind: &str, id: &str, address: &str) -> Result<()> {
        self.files.path(id)?;
        let _one_at_a_time = self.lock.lock().await;
        let Some(before) = self.files.owned(id, Some(address)).await? else {
            return Ok(());
        };
        self.unlink(id).await?;
        self.files.remove(id).await?;
        if let Err(e) = self.activate(id, Some(&before)).await {
            // The file is back; put the link back too.
            let _ = self.link(id).await;
            return Err(e);
        }
        Ok(())
    }

    async fn adopt(&self, _kind: &str, id: &str, address: &str) -> Result<Observed> {
        let _one_at_a_time = self.lock.lock().await;
        let before = match self.files.adoptable(id, address).await? {
            Adoptable::Ours(live) => return Ok(live),
            Adoptable::Unmarked(entry) => entry,
        };
        let mut attrs = self.files.observe(id, &before.data).attrs;
        attrs.remove("id");
        if Site::from_attrs(&attrs).is_err() {
            return Err(ProviderError::rejected(format!(
                "{} is not in the shape infra writes (one server block proxying `location /`), so its attributes cannot be read; \
                 write the proxy_site in the spec and remove or rename the file instead",
                self.files.show(id)
            )));
        }
        // Same body, now with the marker: `put` checks ownership, so write directly.
        let text = site::render_file(
            &marker(&self.project, address),
            &attrs,
            self.challenge_path().as_deref(),
        )
        .map_err(ProviderError::rejected)?;
        self.files.write(id, text.as_bytes(), before.mode).await?;
        self.activate(id, Some(&before)).await?;
        Ok(self.files.observe(id, text.as_bytes()))
    }
}
