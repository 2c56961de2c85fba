//! TLS for the Proxmox API. Without `tls_fingerprint`, certificates are verified
//! normally (the platform's roots, via reqwest); there is no switch to turn
//! verification off. With it, exactly the pinned certificate is accepted: the
//! SHA-256 of the server's end-entity certificate (DER) must equal the pin, and the
//! handshake signature is still checked against that certificate's key. Chain and
//! host name are not checked then — a homelab's self-signed certificate has
//! neither — which is what pinning means (as `pvenode cert info` shows it).
//!
//! When verification fails, `probe` connects once more with a verifier that only
//! records the presented certificate and always refuses, so the error can name the
//! fingerprint to compare; no request is ever sent over that connection.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// A SHA-256 fingerprint.
pub type Fingerprint = [u8; 32];

/// Parse `AA:BB:…` (colons optional, any case) into 32 bytes.
pub fn parse_fingerprint(s: &str) -> Result<Fingerprint, String> {
    let hex: String = s.chars().filter(|c| *c != ':').collect();
    let bad = || {
        format!(
            "tls_fingerprint must be the SHA-256 of the certificate as 32 hex bytes (\"AA:BB:…\", as `pvenode cert info` prints it), got {s:?}"
        )
    };
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

pub fn format_fingerprint(fp: &[u8]) -> String {
    fp.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub fn fingerprint_of(cert: &[u8]) -> Fingerprint {
    Sha256::digest(cert).into()
}

fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// Accepts exactly one certificate (or, with `pin: None`, none: the probe).
#[derive(Debug)]
pub struct PinnedVerifier {
    pin: Option<Fingerprint>,
    /// The fingerprint the server presented last, for error messages.
    pub seen: Arc<Mutex<Option<Fingerprint>>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = fingerprint_of(end_entity.as_ref());
        *self.seen.lock().expect("no poisoned lock") = Some(fp);
        match self.pin {
            Some(pin) if pin == fp => Ok(ServerCertVerified::assertion()),
            _ => Err(rustls::Error::General(format!(
                "certificate fingerprint {} does not match the pinned one",
                format_fingerprint(&fp)
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls client config that accepts only `pin` (`None`: accepts nothing).
pub fn pinned_config(
    pin: Option<Fingerprint>,
) -> (rustls::ClientConfig, Arc<Mutex<Option<Fingerprint>>>) {
    let provider = provider();
    let seen = Arc::new(Mutex::new(None));
    let verifier = PinnedVerifier {
        pin,
        seen: seen.clone(),
        provider: provider.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the default provider supports the default versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    (config, seen)
}

/// Connect once to learn the certificate fingerprint the server presents. The
/// handshake is always refused by our side, so nothing is sent.
pub async fn probe(base: &str) -> Option<Fingerprint> {
    let (config, seen) = pinned_config(None);
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .ok()?;
    let _ = client.get(base).send().await;
    let fp = *seen.lock().expect("no poisoned lock");
    fp
}

/// Does this error chain say the certificate was refused?
pub fn is_cert_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        text.push_str(&format!(": {s}"));
        cur = s.source();
    }
    text.contains("certificate") || text.contains("UnknownIssuer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_in_pvenode_form() {
        let s = (0..32)
            .map(|i| format!("{i:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let fp = parse_fingerprint(&s).unwrap();
        assert_eq!(fp[31], 31);
        assert_eq!(format_fingerprint(&fp), s);
        assert_eq!(
            parse_fingerprint(&s.replace(':', "").to_lowercase()).unwrap(),
            fp
        );
        assert!(parse_fingerprint("AA:BB").is_err());
    }
}
