//! Answering a challenge through another provider of the project: DNS-01 as a
//! TXT record created (and deleted) by the DNS provider's own code, with its
//! marker; HTTP-01 as a challenge location served by the web server. A record
//! left by a killed apply carries `{address}/acme-challenge` as its owner, so
//! `tidy` finds and removes it.

use std::sync::Arc;

use instant_acme::{ChallengeType, KeyAuthorization};
use serde_json::Value;

use infra_core::spec::schema::kinds;
use infra_core::spec::Attrs;
use infra_kit::{Desired, Provider, ProviderError, Result};

/// The owner a challenge record of certificate `address` carries.
pub fn challenge_owner(address: &str) -> String {
    format!("{address}/acme-challenge")
}

pub enum Answerer<'a> {
    Dns {
        provider: Arc<dyn Provider>,
        /// The zones it serves.
        zones: Vec<String>,
        /// The certificate's address.
        address: &'a str,
    },
    Http {
        server: Arc<dyn Provider>,
    },
}

/// What `present` put in place, for `withdraw`.
pub enum Answer {
    Record { id: String, owner: String },
    Http { domain: String, token: String },
}

impl Answerer<'_> {
    pub fn challenge_type(&self) -> ChallengeType {
        match self {
            Answerer::Dns { .. } => ChallengeType::Dns01,
            Answerer::Http { .. } => ChallengeType::Http01,
        }
    }

    pub fn challenge_name(&self) -> &'static str {
        match self {
            Answerer::Dns { .. } => "dns-01",
            Answerer::Http { .. } => "http-01",
        }
    }

    pub async fn present(
        &self,
        name: &str,
        token: &str,
        key_auth: &KeyAuthorization,
    ) -> Result<Answer> {
        match self {
            Answerer::Dns {
                provider,
                zones,
                address,
            } => {
                let domain = name.strip_prefix("*.").unwrap_or(name);
                let (zone, label) = place(domain, zones).ok_or_else(|| {
                    ProviderError::rejected(format!(
                        "no zone of the DNS provider holds {domain} (it serves {})",
                        zones.join(", ")
                    ))
                })?;
                let owner = challenge_owner(address);
                let mut attrs = Attrs::new();
                attrs.insert("zone".into(), Value::from(zone));
                attrs.insert("name".into(), Value::from(label));
                attrs.insert("type".into(), Value::from("TXT"));
                attrs.insert("content".into(), Value::from(key_auth.dns_value()));
                attrs.insert("ttl".into(), Value::from(60));
                attrs.insert("proxied".into(), Value::from(false));
                let desired = Desired {
                    address: owner.clone(),
                    kind: kinds::DNS_RECORD.into(),
                    attrs,
                    settings: Attrs::new(),
                };
                let made = provider.create(&desired).await?;
                Ok(Answer::Record { id: made.id, owner })
            }
            Answerer::Http { server } => {
                let tls = server.tls_server().ok_or_else(|| {
                    ProviderError::rejected("the proxy provider cannot answer http-01")
                })?;
                tls.present_http01(name, token, key_auth.as_str()).await?;
                Ok(Answer::Http {
                    domain: name.to_string(),
                    token: token.to_string(),
                })
            }
        }
    }

    /// Take an answer away. Failing here must not hide why issuing failed, and a
    /// record left behind is found by the next apply's tidy: so errors are dropped.
    pub async fn withdraw(&self, answer: &Answer) {
        match (self, answer) {
            (Answerer::Dns { provider, .. }, Answer::Record { id, owner }) => {
                let _ = provider.delete(kinds::DNS_RECORD, id, owner).await;
            }
            (Answerer::Http { server }, Answer::Http { domain, token }) => {
                if let Some(tls) = server.tls_server() {
                    let _ = tls.withdraw_http01(domain, token).await;
                }
            }
            _ => {}
        }
    }
}

/// The zone holding `domain` (the longest that does) and the challenge name in it.
pub fn place(domain: &str, zones: &[String]) -> Option<(String, String)> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let zone = zones
        .iter()
        .map(|z| z.trim_end_matches('.').to_ascii_lowercase())
        .filter(|z| domain == *z || domain.ends_with(&format!(".{z}")))
        .max_by_key(String::len)?;
    let label = match domain.strip_suffix(&format!(".{zone}")) {
        Some(rest) => format!("_acme-challenge.{rest}"),
        None => "_acme-challenge".to_string(),
    };
    Some((zone, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_zone_holds_the_challenge() {
        let zones = vec!["example.com".to_string(), "lab.example.com".to_string()];
        assert_eq!(
            place("git.lab.example.com", &zones),
            Some(("lab.example.com".into(), "_acme-challenge.git".into()))
        );
        assert_eq!(
            place("example.com", &zones),
            Some(("example.com".into(), "_acme-challenge".into()))
        );
        assert_eq!(place("example.org", &zones), None);
        // A suffix of a label is not a zone.
        assert_eq!(place("badexample.com", &zones), None);
    }
}
