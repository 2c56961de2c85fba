//! A provider the change needs and the project lacks, when the project already
//! says how to set it up: a certificate needs an `acme` provider, which works
//! through the project's DNS provider and its nginx. Added to infra.toml, in the
//! diff for review like any other line, with Let's Encrypt as the CA.

use std::path::{Path, PathBuf};

use serde_json::Value;
use toml_edit::{value, Item, Table};

use super::Expander;
use infra_core::error::Result;
use infra_core::spec::schema::kinds;

impl Expander<'_> {
    pub(super) fn provide_missing(&mut self) -> Result<()> {
        let wants_certificates = self
            .created
            .keys()
            .any(|a| a.starts_with(&format!("{}.", kinds::CERTIFICATE)));
        let has_acme = self.spec.providers.values().any(|p| p.kind == "acme");
        if !wants_certificates || has_acme {
            return Ok(());
        }
        let of_kind = |kind: &str| -> Vec<&infra_core::spec::ProviderConfig> {
            self.spec
                .providers
                .values()
                .filter(|p| p.kind == kind)
                .collect()
        };
        let dns: Vec<_> = ["powerdns", "cloudflare"]
            .iter()
            .flat_map(|k| of_kind(k))
            .collect();
        let nginx = of_kind("nginx");
        let ([dns], [nginx]) = (dns.as_slice(), nginx.as_slice()) else {
            return Ok(()); // no single obvious setup: validate says what is missing
        };
        let text = |name: &str| {
            nginx
                .settings
                .get(name)
                .and_then(Value::as_str)
                .map(String::from)
        };
        let Some(sites) = text("sites_dir") else {
            return Ok(());
        };
        // Beside the sites, on the same host: where nginx can read them.
        let parent = Path::new(&sites)
            .parent()
            .filter(|p| !p.as_os_str().is_empty());
        let cert_dir = parent.map_or_else(|| "certs".into(), |p| p.join("certs"));
        let mut table = Table::new();
        table.insert("kind", value("acme"));
        table.insert("cert_dir", value(cert_dir.display().to_string()));
        if let Some(host) = text("host") {
            table.insert("host", value(host));
        }
        table.insert("dns", value(dns.name.clone()));
        table.insert("proxy", value(nginx.name.clone()));
        let name = if self.spec.providers.contains_key("acme") {
            "letsencrypt"
        } else {
            "acme"
        };
        let root = PathBuf::from(infra_core::spec::load::ROOT_FILE);
        let doc = self.doc(&root)?;
        let providers = doc
            .entry("providers")
            .or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            })
            .as_table_mut()
            .ok_or_else(|| {
                infra_core::error::Error::new("infra.toml: `providers` is not a table")
            })?;
        table
            .decor_mut()
            .set_prefix("\n# Certificates from Let's Encrypt, proven through the DNS provider (added by `infra ask`).\n");
        providers.insert(name, Item::Table(table));
        self.edit.lines.push(format!(
            "add [providers.{name}] (Let's Encrypt; certificates in {} for {}, proven through {})",
            cert_dir.display(),
            nginx.name,
            dns.name
        ));
        Ok(())
    }
}
