//! AutoMTLS: a fresh self-signed server certificate, and a client verifier
//! that accepts exactly the certificate Terraform put in PLUGIN_CLIENT_CERT.
//!
//! Terraform's client certificate is a self-signed ECDSA P-521 CA
//! certificate; a WebPKI verifier would reject it as an end entity, so the
//! check here is byte-identity plus a real signature check of the handshake
//! (aws-lc-rs verifies P-521).

use std::sync::Arc;

use anyhow::{anyhow, Context};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};

/// The crypto provider used everywhere (aws-lc-rs: has P-521).
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// First certificate of a PEM text.
pub fn parse_pem_cert(pem: &str) -> anyhow::Result<CertificateDer<'static>> {
    let mut rd = std::io::BufReader::new(pem.as_bytes());
    let first = rustls_pemfile::certs(&mut rd).next();
    first
        .ok_or_else(|| anyhow!("no PEM certificate found"))?
        .context("invalid PEM certificate")
}

/// A self-signed certificate for `localhost` (what go-plugin expects), and its PKCS#8 key.
pub fn self_signed() -> anyhow::Result<(CertificateDer<'static>, Vec<u8>)> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "terraform-provider-webide");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let now = std::time::SystemTime::now();
    params.not_before = (now - std::time::Duration::from_secs(60)).into();
    params.not_after = (now + std::time::Duration::from_secs(30 * 24 * 3600)).into();
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let cert = params.self_signed(&key)?;
    Ok((cert.der().clone(), key.serialize_der()))
}

/// Accepts only the byte-identical expected certificate.
#[derive(Debug)]
pub struct ExactClientCert {
    expected: CertificateDer<'static>,
    algs: WebPkiSupportedAlgorithms,
}

impl ExactClientCert {
    pub fn new(expected: CertificateDer<'static>, provider: &CryptoProvider) -> ExactClientCert {
        ExactClientCert {
            expected,
            algs: provider.signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for ExactClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// Server TLS config: our certificate, mandatory client certificate, HTTP/2 ALPN.
pub fn server_config(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    client_cert: CertificateDer<'static>,
) -> anyhow::Result<ServerConfig> {
    let provider = crypto_provider();
    let verifier = Arc::new(ExactClientCert::new(client_cert, &provider));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert], key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p521_is_verifiable() {
        let schemes = ExactClientCert::new(CertificateDer::from(vec![]), &crypto_provider())
            .supported_verify_schemes();
        assert!(
            schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512),
            "{schemes:?}"
        );
    }

    #[test]
    fn only_the_expected_certificate_is_accepted() {
        let (a, _) = self_signed().unwrap();
        let (b, _) = self_signed().unwrap();
        let v = ExactClientCert::new(a.clone(), &crypto_provider());
        assert!(v.verify_client_cert(&a, &[], UnixTime::now()).is_ok());
        assert!(v.verify_client_cert(&b, &[], UnixTime::now()).is_err());
        assert!(v.client_auth_mandatory());
    }
}
