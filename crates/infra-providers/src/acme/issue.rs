//! One certificate from an ACME CA (RFC 8555, through instant-acme): an order
//! for the names, one authorization at a time (an apex and its wildcard share
//! one TXT name, so their answers must not overlap), the challenge answered by
//! the project's DNS provider or web server and withdrawn whatever happens,
//! then a new key, the CSR and the chain. Nothing is written here: the caller
//! gets key and chain together, or an error.

use std::time::{Duration, Instant};

use instant_acme::{Account, AuthorizationStatus, Identifier, NewOrder, OrderStatus, RetryPolicy};

use super::answer::Answerer;
use infra_kit::{ProviderError, Result};

/// A certificate and the key it certifies, both PEM.
pub struct Issued {
    pub chain: String,
    pub key_pem: String,
}

/// Longest wait for the CA to check one challenge, and to sign.
const CHECK_TIMEOUT: Duration = Duration::from_secs(120);

pub async fn issue(
    account: &Account,
    domains: &[String],
    key_type: &str,
    answerer: &Answerer<'_>,
) -> Result<Issued> {
    let identifiers: Vec<Identifier> = domains.iter().map(|d| Identifier::Dns(d.clone())).collect();
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .map_err(acme_err)?;
    let count = order.state().authorizations.len();
    let kind = answerer.challenge_type();
    for i in 0..count {
        // Answer: present, then tell the CA.
        let mut presented = None;
        let mut auths = order.authorizations();
        let mut k = 0;
        while let Some(next) = auths.next().await {
            let mut handle = next.map_err(acme_err)?;
            if k != i {
                k += 1;
                continue;
            }
            if handle.status != AuthorizationStatus::Pending {
                break; // valid already (an earlier order of this account)
            }
            let name = handle.identifier().to_string();
            // The CA's word for the name goes into DNS and nginx: only one asked for.
            if !domains.iter().any(|d| d.eq_ignore_ascii_case(&name)) {
                return Err(ProviderError::rejected(format!(
                    "the CA asked to prove {name:?}, which the certificate does not name"
                )));
            }
            let mut challenge = handle.challenge(kind.clone()).ok_or_else(|| {
                ProviderError::rejected(format!(
                    "the CA offers no {} challenge for {name}",
                    answerer.challenge_name()
                ))
            })?;
            let key_auth = challenge.key_authorization();
            let answer = answerer.present(&name, &challenge.token, &key_auth).await?;
            if let Err(e) = challenge.set_ready().await {
                answerer.withdraw(&answer).await;
                return Err(acme_err(e));
            }
            presented = Some((name, answer));
            break;
        }
        let Some((name, answer)) = presented else {
            continue;
        };
        let checked = wait_valid(&mut order, i, &name).await;
        answerer.withdraw(&answer).await;
        checked?;
    }
    let status = order.poll_ready(&retries()).await.map_err(acme_err)?;
    if status != OrderStatus::Ready {
        return Err(order_problem(
            &mut order,
            "the order is not ready to be signed",
        ));
    }
    let key = generate_key(key_type)?;
    let mut params = rcgen::CertificateParams::new(domains.to_vec())
        .map_err(|e| ProviderError::rejected(format!("making the request: {e}")))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params
        .serialize_request(&key)
        .map_err(|e| ProviderError::rejected(format!("making the request: {e}")))?;
    order.finalize_csr(csr.der()).await.map_err(acme_err)?;
    let chain = order.poll_certificate(&retries()).await.map_err(acme_err)?;
    Ok(Issued {
        chain,
        key_pem: key.serialize_pem(),
    })
}

fn retries() -> RetryPolicy {
    RetryPolicy::new()
        .initial_delay(Duration::from_millis(250))
        .backoff(1.5)
        .timeout(CHECK_TIMEOUT)
}

/// Poll authorization `i` until the CA decided; its problem document if invalid.
async fn wait_valid(order: &mut instant_acme::Order, i: usize, name: &str) -> Result<()> {
    let deadline = Instant::now() + CHECK_TIMEOUT;
    let mut delay = Duration::from_millis(200);
    loop {
        tokio::time::sleep(delay).await;
        let mut auths = order.authorizations();
        let mut k = 0;
        let mut decided = None;
        while let Some(next) = auths.next().await {
            let mut handle = next.map_err(acme_err)?;
            if k != i {
                k += 1;
                continue;
            }
            let state = handle.refresh().await.map_err(acme_err)?;
            decided = match state.status {
                AuthorizationStatus::Valid => Some(Ok(())),
                AuthorizationStatus::Pending => None,
                status => {
                    let why = state
                        .challenges
                        .iter()
                        .find_map(|c| c.error.as_ref())
                        .map(problem_text)
                        .unwrap_or_else(|| format!("the authorization is {status:?}"));
                    Some(Err(ProviderError::rejected(format!(
                        "the CA refused {name}: {why}"
                    ))))
                }
            };
            break;
        }
        if let Some(result) = decided {
            return result;
        }
        if Instant::now() >= deadline {
            return Err(ProviderError::Transient {
                message: format!(
                    "the CA had not checked {name} after {} s",
                    CHECK_TIMEOUT.as_secs()
                ),
                retry_after: None,
            });
        }
        delay = (delay * 3 / 2).min(Duration::from_secs(3));
    }
}

fn order_problem(order: &mut instant_acme::Order, fallback: &str) -> ProviderError {
    let text = order
        .state()
        .error
        .as_ref()
        .map(problem_text)
        .unwrap_or_else(|| fallback.to_string());
    ProviderError::rejected(text)
}

fn generate_key(key_type: &str) -> Result<rcgen::KeyPair> {
    let alg = match key_type {
        "ec384" => &rcgen::PKCS_ECDSA_P384_SHA384,
        _ => &rcgen::PKCS_ECDSA_P256_SHA256,
    };
    rcgen::KeyPair::generate_for(alg)
        .map_err(|e| ProviderError::rejected(format!("generating a {key_type} key: {e}")))
}

/// An RFC 7807 problem document as people read it: detail, type, subproblems.
pub fn problem_text(p: &instant_acme::Problem) -> String {
    let mut text = p.detail.clone().unwrap_or_else(|| "no detail given".into());
    if let Some(t) = &p.r#type {
        text.push_str(&format!(
            " ({})",
            t.trim_start_matches("urn:ietf:params:acme:error:")
        ));
    }
    for sub in &p.subproblems {
        if let Some(d) = &sub.detail {
            text.push_str(&format!("; {d}"));
        }
    }
    text
}

/// An instant-acme error as a provider error: problem documents keep the CA's
/// words; a server error or a refused connection may pass, so it is retried.
pub fn acme_err(e: instant_acme::Error) -> ProviderError {
    match e {
        instant_acme::Error::Api(p) => {
            let text = format!("the ACME server refused: {}", problem_text(&p));
            match p.status {
                Some(s) if s >= 500 || s == 429 => ProviderError::Transient {
                    message: text,
                    retry_after: None,
                },
                // A stale nonce is retried by the client itself; anything else is final.
                _ => ProviderError::Rejected {
                    status: p.status,
                    message: text,
                },
            }
        }
        instant_acme::Error::Hyper(_)
        | instant_acme::Error::Http(_)
        | instant_acme::Error::Timeout(_) => ProviderError::Transient {
            message: format!("the ACME server did not answer: {}", with_sources(&e)),
            retry_after: None,
        },
        other => ProviderError::rejected(format!("ACME: {}", with_sources(&other))),
    }
}

/// An error with what caused it ("client error (Connect): invalid peer certificate: …").
fn with_sources(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}
