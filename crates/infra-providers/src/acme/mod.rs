//! The `acme` provider: `certificate` resources from an ACME CA (Let's Encrypt
//! by default), answered through the project's own providers: DNS-01 by its DNS
//! provider (`dns`), HTTP-01 by its web server (`proxy`, nginx), which is also
//! reloaded when a certificate it serves is renewed.
//!
//! The certificate and its key are files in `cert_dir` on the proxy's host
//! (local, or `host = "ssh://…"`); the key is mode 0600 and is read only by the
//! web server: never by the state, a plan, a commit or a log, which see the
//! paths, the expiry and the fingerprint. The ACME account key is kept in the
//! same directory (`{project}--acme-account-….json`, 0600).
//!
//! Issuing happens completely in memory before anything is written; then the
//! key, then the certificate (its marker and attributes in a comment header,
//! see `files.rs`). A failure writes nothing; a crash between the two writes
//! leaves a key without certificate, which `tidy` removes.

mod answer;
mod files;
mod issue;
mod spec_check;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use crate::host::objects::ObjectDir;
use crate::host::{self, Host, WriteOpts};
use answer::Answerer;
use infra_core::spec::schema::kinds;
use infra_core::spec::{Attrs, ProviderConfig};
use infra_kit::{check_settings, parse_settings, Finding, ProviderInfo, Setting};
use infra_kit::{Context, Desired, KindSupport, Observed, Peers, Provider, ProviderError, Result};

pub use answer::place;

/// Let's Encrypt's directories.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

pub static INFO: ProviderInfo = ProviderInfo {
    kind: "acme",
    kinds: KINDS,
    settings: &[
        Setting::required("cert_dir", "directory the web server reads certificates and keys from, e.g. /etc/nginx/certs"),
        Setting::optional("host", "ssh://user@host:port when that directory is on another machine (the proxy's)"),
        Setting::optional("dns", "the DNS provider instance that answers dns-01 challenges (powerdns or cloudflare)"),
        Setting::optional("proxy", "the nginx provider instance that answers http-01 challenges and is reloaded after a renewal"),
        Setting::optional("directory", "ACME directory URL; default Let's Encrypt"),
        Setting::optional("staging", "true: Let's Encrypt's staging CA (untrusted certificates, generous limits)"),
        Setting::optional("contact", "account e-mail for expiry notices"),
        Setting::optional("ca_cert", "PEM file of the root that signs the ACME server's own HTTPS certificate (a private CA)"),
    ],
    check_settings: check_settings::<Written>,
    check_spec: Some(spec_check::check),
    audit: None,
};

/// `[providers.NAME]` as written.
#[derive(Debug, Deserialize)]
pub struct Written {
    cert_dir: String,
    host: Option<String>,
    pub dns: Option<String>,
    pub proxy: Option<String>,
    directory: Option<infra_kit::HttpUrl>,
    staging: Option<bool>,
    contact: Option<String>,
    ca_cert: Option<String>,
}

impl infra_kit::Settings for Written {
    fn check(&self, project: &std::path::Path) -> Vec<Finding> {
        let mut out = host::check_host_dirs(
            self.host.as_deref(),
            project,
            &[("cert_dir", Some(&self.cert_dir))],
        );
        if self.directory.is_some() && self.staging == Some(true) {
            out.push(Finding::at(
                "staging",
                "`staging` picks Let's Encrypt's staging directory; `directory` names another: give one",
            ));
        }
        if let Some(c) = &self.contact {
            if !c.contains('@') || c.contains(char::is_whitespace) {
                out.push(Finding::at(
                    "contact",
                    format!("{c:?} is not an e-mail address"),
                ));
            }
        }
        if let Some(ca) = &self.ca_cert {
            let path = project.join(ca);
            if !path.is_file() {
                out.push(Finding::at(
                    "ca_cert",
                    format!("{} is not a file", path.display()),
                ));
            }
        }
        out
    }
}

impl Written {
    /// The directory URL certificates come from when they name none.
    pub fn directory(&self) -> &str {
        match (&self.directory, self.staging) {
            (Some(d), _) => d.as_str(),
            (None, Some(true)) => LETS_ENCRYPT_STAGING,
            (None, _) => LETS_ENCRYPT,
        }
    }
}

/// Parse an acme provider's settings (for the spec checks of certificates).
pub fn written(settings: &Attrs, project: &std::path::Path) -> Option<Written> {
    parse_settings(settings, project).ok()
}

pub const FACTORY: infra_kit::ProviderFactory = infra_kit::ProviderFactory { info: &INFO, build };

const KINDS: &[KindSupport] = &[KindSupport::plain(kinds::CERTIFICATE)];

fn build(config: &ProviderConfig, ctx: &Context) -> std::result::Result<Arc<dyn Provider>, String> {
    let w: Written = parse_settings(&config.settings, &ctx.root).map_err(|f| f.to_string())?;
    let host = Host::from_setting(w.host.as_deref())?;
    let root = host::dir_setting(&host, &ctx.root, &w.cert_dir);
    Ok(Arc::new(Acme {
        files: ObjectDir::new(
            root,
            "crt",
            ("cert_dir", "web"),
            &ctx.project,
            files::read_back,
        ),
        directory: w.directory().to_string(),
        ca_cert: w.ca_cert.as_ref().map(|c| ctx.root.join(c)),
        contact: w.contact.clone(),
        dns: w.dns.clone(),
        proxy: w.proxy.clone(),
        peers: ctx.peers.clone(),
        project: ctx.project.clone(),
        account: tokio::sync::Mutex::new(None),
        issuing: tokio::sync::Mutex::new(()),
    }))
}

pub struct Acme {
    /// `{project}--{name}.crt` files (the keys sit beside them as `.key`).
    files: ObjectDir,
    directory: String,
    ca_cert: Option<PathBuf>,
    contact: Option<String>,
    dns: Option<String>,
    proxy: Option<String>,
    peers: Peers,
    project: String,
    /// The ACME account, per directory URL, loaded (or registered) once.
    account: tokio::sync::Mutex<Option<(String, instant_acme::Account)>>,
    issuing: tokio::sync::Mutex<()>,
}

fn key_id(cert_id: &str) -> String {
    format!("{}.key", cert_id.strip_suffix(".crt").unwrap_or(cert_id))
}

fn str_attr<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a str> {
    attrs.get(name).and_then(Value::as_str)
}

impl Acme {
    fn peer(&self, setting: &str, name: Option<&String>) -> Result<Arc<dyn Provider>> {
        let name = name.ok_or_else(|| {
            ProviderError::rejected(format!(
                "the acme provider has no `{setting}` setting, which this challenge needs"
            ))
        })?;
        self.peers
            .get(name)
            .map_err(|e| ProviderError::rejected(format!("provider `{name}`: {e}")))
    }

    /// Observed attributes: what the file says, plus where its files are.
    fn observe(&self, id: &str, data: &[u8]) -> Observed {
        self.with_paths(self.files.observe(id, data))
    }

    /// The CA a certificate comes from: its own `directory`, else the provider's.
    fn directory_of<'a>(&'a self, r: &'a Desired) -> &'a str {
        str_attr(&r.attrs, "directory").unwrap_or(&self.directory)
    }

    /// What the certificate file's header records: the attributes, with the CA
    /// written out (so a later change of the provider's default shows).
    fn header(&self, r: &Desired) -> Attrs {
        let mut attrs = r.attrs.clone();
        attrs.insert("directory".into(), Value::from(self.directory_of(r)));
        attrs
    }

    fn with_paths(&self, mut o: Observed) -> Observed {
        let path = |rel: &str| Value::from(self.files.root.path(rel).display().to_string());
        o.attrs.insert("cert_path".into(), path(&o.id));
        o.attrs.insert("key_path".into(), path(&key_id(&o.id)));
        o
    }

    /// The account for `directory`: from the account file, else registered now.
    async fn account(
        &self,
        directory: &str,
        contact: Option<&str>,
    ) -> Result<instant_acme::Account> {
        let mut cached = self.account.lock().await;
        if let Some((d, a)) = cached.as_ref() {
            if d == directory {
                return Ok(a.clone());
            }
        }
        let builder = || {
            match &self.ca_cert {
                Some(ca) => instant_acme::Account::builder_with_root(ca),
                None => instant_acme::Account::builder(),
            }
            .map_err(issue::acme_err)
        };
        let file = format!(
            "{}acme-account-{}.json",
            host::object_file_prefix(&self.project),
            &infra_core::util::sha256_hex(directory.as_bytes())[..12]
        );
        let account = match self.files.root.read(&file).await? {
            Some(e) => {
                let creds: instant_acme::AccountCredentials = serde_json::from_slice(&e.data)
                    .map_err(|err| {
                        ProviderError::rejected(format!(
                            "{}: not an ACME account file ({err}); remove it to register a new account",
                            self.files.show(&file)
                        ))
                    })?;
                builder()?
                    .from_credentials(creds)
                    .await
                    .map_err(issue::acme_err)?
            }
            None => {
                let mailto = contact.map(|c| format!("mailto:{c}"));
                let contacts: Vec<&str> = mailto.iter().map(String::as_str).collect();
                let new = instant_acme::NewAccount {
                    contact: &contacts,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                };
                let (account, creds) = builder()?
                    .create(&new, directory.to_string(), None)
                    .await
                    .map_err(issue::acme_err)?;
                let json = serde_json::to_vec(&creds).map_err(|e| {
                    ProviderError::rejected(format!("saving the ACME account: {e}"))
                })?;
                let opts = WriteOpts {
                    mode: 0o600,
                    create_dirs: false,
                };
                self.files.root.write(&file, &json, opts).await?;
                account
            }
        };
        *cached = Some((directory.to_string(), account.clone()));
        Ok(account)
    }

    /// Issue for `r` and write key then certificate into `id`.
    async fn obtain(&self, id: &str, r: &Desired) -> Result<Observed> {
        let domains = files::domains(&r.attrs);
        if domains.is_empty() {
            return Err(ProviderError::rejected(format!(
                "{}: `domains` is empty",
                r.address
            )));
        }
        let directory = self.directory_of(r).to_string();
        let contact = str_attr(&r.attrs, "contact").or(self.contact.as_deref());
        let challenge = str_attr(&r.attrs, "challenge").unwrap_or("dns-01");
        let key_type = str_attr(&r.attrs, "key_type").unwrap_or("ec256");
        let answerer = match challenge {
            "http-01" => Answerer::Http {
                server: self.peer("proxy", self.proxy.as_ref())?,
            },
            _ => {
                let provider = self.peer("dns", self.dns.as_ref())?;
                let zones = provider.zones().await?;
                Answerer::Dns {
                    provider,
                    zones,
                    address: &r.address,
                }
            }
        };
        // Files that are not ours stop it before the CA is asked (and its limits spent).
        let before = self.files.owned(id, Some(&r.address)).await?;
        let key_file = key_id(id);
        let old_key = self.check_key_file(&key_file, &r.address).await?;
        let account = self.account(&directory, contact).await?;
        // One issuance at a time: an apex and its wildcard in two certificates
        // would answer at one TXT name.
        let issued = {
            let _one = self.issuing.lock().await;
            issue::issue(&account, &domains, key_type, &answerer).await?
        };

        // Only now is anything written: the key first, so a certificate is never
        // there without its key; a failed certificate write takes the key away.
        let key_text = files::render_key(&self.project, &r.address, &issued.key_pem);
        let opts = WriteOpts {
            mode: 0o600,
            create_dirs: false,
        };
        self.files
            .root
            .write(&key_file, key_text.as_bytes(), opts)
            .await
            .map_err(|e| {
                ProviderError::rejected(format!("{e} (does cert_dir exist on the web host?)"))
            })?;
        let cert_text =
            files::render_cert(&self.project, &r.address, &self.header(r), &issued.chain);
        if let Err(e) = self.files.write(id, cert_text.as_bytes(), 0o644).await {
            // The key goes back to what matches the certificate still there.
            let _ = match &old_key {
                Some(k) if before.is_some() => {
                    self.files.root.write(&key_file, &k.data, opts).await
                }
                _ => self.files.root.remove(&key_file).await,
            };
            return Err(e);
        }
        if before.is_some() {
            self.reload_proxy().await?;
        }
        Ok(self.observe(id, cert_text.as_bytes()))
    }

    /// A key file may be replaced only if it is ours (or missing); what it holds now.
    async fn check_key_file(&self, key_file: &str, address: &str) -> Result<Option<host::Entry>> {
        match self.files.root.read(key_file).await? {
            Some(e) if files::owner(&self.project, &e.data).as_deref() != Some(address) => {
                Err(ProviderError::NotOwned(format!(
                    "{} exists and was not written by infra for {address}; refusing to replace it",
                    self.files.show(key_file)
                )))
            }
            found => Ok(found),
        }
    }

    /// A renewed certificate is read by the web server only when it reloads.
    async fn reload_proxy(&self) -> Result<()> {
        let Some(name) = &self.proxy else {
            return Ok(());
        };
        let proxy = self.peer("proxy", Some(name))?;
        match proxy.tls_server() {
            Some(tls) => tls.reload_certificates().await,
            None => Ok(()),
        }
    }

    /// Rewrite only the header (no new certificate): the chain stays as issued.
    async fn rewrite_header(&self, id: &str, r: &Desired, live_file: &[u8]) -> Result<Observed> {
        let text = String::from_utf8_lossy(live_file);
        let chain = text.find("-----BEGIN").map(|i| &text[i..]).ok_or_else(|| {
            ProviderError::rejected(format!("{}: no certificate in it", self.files.show(id)))
        })?;
        let cert_text = files::render_cert(&self.project, &r.address, &self.header(r), chain);
        self.files.write(id, cert_text.as_bytes(), 0o644).await?;
        Ok(self.observe(id, cert_text.as_bytes()))
    }
}

#[async_trait]
impl Provider for Acme {
    async fn list(&self, _kind: &str) -> Result<Vec<Observed>> {
        let listed = self.files.list().await?;
        Ok(listed.into_iter().map(|o| self.with_paths(o)).collect())
    }

    async fn create(&self, r: &Desired) -> Result<Observed> {
        self.obtain(&self.files.id_for(&r.address), r).await
    }

    async fn update(&self, id: &str, r: &Desired, live: &Observed) -> Result<Observed> {
        let now = infra_core::util::unix_now();
        let due =
            infra_core::spec::schema::renewal_due(kinds::CERTIFICATE, &live.attrs, &r.attrs, now);
        // Other names, key or CA: a new certificate, written over the old one only
        // once it is issued (the site keeps serving the old one until then).
        let reissue = ["domains", "key_type", "directory"].iter().any(|k| {
            r.attrs
                .get(*k)
                .is_some_and(|v| live.attrs.get(*k) != Some(v))
        });
        if due.is_some() || reissue || live.attrs.contains_key("unreadable") {
            return self.obtain(id, r).await;
        }
        // Settings only (contact, renew_before, challenge): the certificate stays.
        let Some(entry) = self.files.owned(id, Some(&r.address)).await? else {
            return self.obtain(id, r).await;
        };
        self.rewrite_header(id, r, &entry.data).await
    }

    async fn delete(&self, _kind: &str, id: &str, address: &str) -> Result<()> {
        let Some(_) = self.files.owned(id, Some(address)).await? else {
            return Ok(());
        };
        let key_file = key_id(id);
        self.check_key_file(&key_file, address).await?;
        // The certificate first, so nginx never reads a certificate whose key is
        // gone; a key a crash leaves behind without one is removed by `tidy`.
        self.files.remove(id).await?;
        self.files.root.remove(&key_file).await
    }

    async fn adopt(&self, _kind: &str, id: &str, _address: &str) -> Result<Observed> {
        Err(ProviderError::Unsupported(format!(
            "{}: certificates are issued by infra, not imported; declare the certificate and apply to issue one",
            self.files.show(id)
        )))
    }

    /// Keys without a certificate (a crash between the two writes), temp files,
    /// and challenge records a killed apply left at the DNS provider.
    async fn tidy(&self) -> Result<Vec<String>> {
        let mut removed = self.files.tidy().await?;
        let entries = self.files.root.list(host::Depth::Flat).await?;
        let names: std::collections::BTreeSet<&str> =
            entries.iter().map(|e| e.name.as_str()).collect();
        for e in &entries {
            let Some(stem) = e.name.strip_suffix(".key") else {
                continue;
            };
            let orphan = !names.contains(format!("{stem}.crt").as_str())
                && files::owner(&self.project, &e.data).is_some();
            if orphan {
                self.files.root.remove(&e.name).await?;
                removed.push(self.files.show(&e.name));
            }
        }
        if let Some(dns) = &self.dns {
            let provider = self.peer("dns", Some(dns))?;
            for o in provider.list(kinds::DNS_RECORD).await? {
                let Some(owner) = &o.owner else { continue };
                if owner.ends_with("/acme-challenge") {
                    provider.delete(kinds::DNS_RECORD, &o.id, owner).await?;
                    removed.push(format!("challenge record {}", o.id));
                }
            }
        }
        Ok(removed)
    }
}
