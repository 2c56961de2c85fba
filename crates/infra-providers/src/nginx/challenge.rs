//! ACME http-01 through nginx: the answer is a file named by its token in
//! `challenge_dir`, which every site rendered by this provider serves at
//! `/.well-known/acme-challenge/` on plain HTTP (a TLS site in its redirect
//! server). A name with no site yet (a certificate is issued before the site
//! that uses it) gets a temporary server that serves only that location, and
//! loses it when the answer is withdrawn. Also the reload after a renewal.

use async_trait::async_trait;

use super::Nginx;
use crate::host::WriteOpts;
use infra_kit::{marker, ProviderError, Result, TlsServer};

/// Owner of a temporary challenge server: never a resource address, so a
/// refresh never takes it for one.
fn temp_owner(domain: &str) -> String {
    format!("acme-challenge/{domain}")
}

impl Nginx {
    fn temp_id(&self, domain: &str) -> String {
        format!(
            "{}acme-challenge.{domain}.conf",
            crate::host::object_file_prefix(&self.project)
        )
    }

    /// Temporary challenge servers a killed apply left (their owner is never a
    /// resource's): removed, then nginx reloads once.
    pub(super) async fn tidy_challenges(&self) -> Result<Vec<String>> {
        let _one_at_a_time = self.lock.lock().await;
        let mut removed = Vec::new();
        for o in self.files.list().await? {
            if o.owner
                .as_deref()
                .is_some_and(|w| w.starts_with("acme-challenge/"))
            {
                self.unlink(&o.id).await?;
                self.files.remove(&o.id).await?;
                removed.push(self.files.show(&o.id));
            }
        }
        if !removed.is_empty() {
            self.test_config().await?;
            self.reload().await?;
        }
        Ok(removed)
    }

    /// The site of this project answering `domain` on plain HTTP, if any.
    async fn site_for(
        &self,
        domain: &str,
    ) -> Result<Option<(String, String, infra_core::spec::Attrs)>> {
        let temp = self.temp_id(domain);
        Ok(self
            .files
            .list()
            .await?
            .into_iter()
            .filter(|o| o.id != temp && o.owner.is_some())
            .find(|o| o.attrs.get("server_name").and_then(|v| v.as_str()) == Some(domain))
            .and_then(|o| Some((o.id, o.owner?, o.attrs))))
    }

    fn temp_server(&self, domain: &str, dir: &str) -> String {
        format!(
            "# {} (managed by infra: answers an ACME http-01 challenge while a certificate is issued)\n\
             server {{\n    listen {};\n    server_name {domain};\n\n    \
             location ^~ /.well-known/acme-challenge/ {{\n        alias {dir}/;\n        default_type text/plain;\n    }}\n\n    \
             location / {{\n        return 404;\n    }}\n}}\n",
            marker(&self.project, &temp_owner(domain)),
            self.challenge_listen
        )
    }
}

fn token_ok(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 128
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[async_trait]
impl TlsServer for Nginx {
    async fn present_http01(
        &self,
        domain: &str,
        token: &str,
        key_authorization: &str,
    ) -> Result<()> {
        let (Some(dir), Some(path)) = (&self.challenge_dir, self.challenge_path()) else {
            return Err(ProviderError::rejected(
                "the nginx provider has no `challenge_dir`, where http-01 answers go: set one",
            ));
        };
        if !token_ok(token) || !token_ok(key_authorization.replace('.', "").as_str()) {
            return Err(ProviderError::rejected(format!(
                "the CA sent a challenge token that is not a file name: {token:?}"
            )));
        }
        let opts = WriteOpts {
            mode: 0o644,
            create_dirs: false,
        };
        dir.write(token, key_authorization.as_bytes(), opts)
            .await
            .map_err(|e| {
                ProviderError::rejected(format!(
                    "{e} (does challenge_dir exist on the nginx host?)"
                ))
            })?;
        match self.site_for(domain).await? {
            // Its site serves the location already, or is rewritten so it does.
            Some((id, owner, mut attrs)) => {
                let serves = self.files.root.read(&id).await?.is_some_and(|e| {
                    String::from_utf8_lossy(&e.data).contains(&format!("alias {path}/;"))
                });
                if serves {
                    return Ok(());
                }
                // Written before `challenge_dir` was set: the same site, now with the location.
                attrs.remove("id");
                self.put(&id, &owner, &attrs).await.map(|_| ())
            }
            None => {
                let id = self.temp_id(domain);
                let text = self.temp_server(domain, &path);
                let _one_at_a_time = self.lock.lock().await;
                self.files.write(&id, text.as_bytes(), 0o644).await?;
                if let Err(e) = self.link(&id).await {
                    let _ = self.files.remove(&id).await;
                    return Err(e);
                }
                self.activate(&id, None).await
            }
        }
    }

    async fn withdraw_http01(&self, domain: &str, token: &str) -> Result<()> {
        // The answer file first, but a failure there must not keep the temporary
        // server in place: it would shadow the site's own plain-HTTP server.
        let token_gone = match &self.challenge_dir {
            Some(dir) if token_ok(token) => dir.remove(token).await,
            _ => Ok(()),
        };
        let id = self.temp_id(domain);
        let _one_at_a_time = self.lock.lock().await;
        if let Some(before) = self.files.owned(&id, Some(&temp_owner(domain))).await? {
            self.unlink(&id).await?;
            self.files.remove(&id).await?;
            self.activate(&id, Some(&before)).await?;
        }
        token_gone
    }

    async fn reload_certificates(&self) -> Result<()> {
        let _one_at_a_time = self.lock.lock().await;
        self.test_config().await?;
        self.reload().await
    }
}
