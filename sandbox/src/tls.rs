//! HTTPS for the simulators: a fresh self-signed certificate for `localhost`
//! and 127.0.0.1, like the seeds' Coder on :7443. The certificate can be replaced while the
//! simulators run ([`Identity::replace`]), e.g. by one a Terraform run has just made.

use std::sync::{Arc, RwLock};

use anyhow::{anyhow, Context};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

/// The certificate every TLS listener of a sandbox serves; replaceable.
#[derive(Clone, Debug)]
pub struct Identity(Arc<Resolver>);

#[derive(Debug)]
struct Resolver {
    provider: Arc<rustls::crypto::CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

impl Identity {
    /// Serves `cert_pem` (the leaf first, then any chain) with `key_pem` (PKCS#8, SEC1 or
    /// PKCS#1) from the next handshake on.
    pub fn replace(&self, cert_pem: &str, key_pem: &str) -> anyhow::Result<()> {
        let key = certified_key(&self.0.provider, cert_pem, key_pem)?;
        *self.0.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
        Ok(())
    }
}

fn certified_key(
    provider: &rustls::crypto::CryptoProvider,
    cert_pem: &str,
    key_pem: &str,
) -> anyhow::Result<CertifiedKey> {
    let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .context("certificate PEM")?;
    if chain.is_empty() {
        return Err(anyhow!("no certificate in the certificate PEM"));
    }
    let key = rustls_pemfile::private_key(&mut key_pem.as_bytes())
        .context("private key PEM")?
        .ok_or_else(|| anyhow!("no private key in the key PEM"))?;
    CertifiedKey::from_der(chain, key, provider).context("certificate and key do not match")
}

/// A TLS acceptor with a new self-signed certificate, that certificate's PEM, and the handle
/// that replaces it.
pub fn self_signed_acceptor() -> anyhow::Result<(TlsAcceptor, String, Identity)> {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
    params.subject_alt_names.push(rcgen::SanType::IpAddress(
        std::net::Ipv4Addr::LOCALHOST.into(),
    ));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "webide sandbox");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let cert = params.self_signed(&key)?;
    let pem = cert.pem();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let first = CertifiedKey::from_der(
        vec![CertificateDer::from(cert.der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        &provider,
    )
    .context("TLS server certificate")?;
    let resolver = Arc::new(Resolver {
        provider: provider.clone(),
        current: RwLock::new(Arc::new(first)),
    });
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(resolver.clone());
    Ok((TlsAcceptor::from(Arc::new(config)), pem, Identity(resolver)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_takes_a_matching_pair_only() {
        let (_, _, id) = self_signed_acceptor().unwrap();
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["coder".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        id.replace(&cert.pem(), &key.serialize_pem()).unwrap();
        let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        assert!(id.replace(&cert.pem(), &other.serialize_pem()).is_err());
        assert!(id.replace("junk", &key.serialize_pem()).is_err());
    }
}
