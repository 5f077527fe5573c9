//! `webide_tls_certificate`: a self-signed server certificate and its key, made in the provider
//! process with rcgen (the seeds' Coder on `:7443` needs HTTPS for extension webviews and the
//! OAuth cookie). The certificate is its own trust anchor: give `cert_pem` to clients as their CA.
//!
//! Lives only in state (like hashicorp/tls's `tls_self_signed_cert`): reading it back checks the
//! validity window; within `early_renewal_days` of the end it is planned anew.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::framework::validators::{NonEmpty, OneOf, Range};
use crate::framework::{ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;

pub struct CertificateResource;

/// Every argument: a change to any of them makes a new certificate.
const CONFIG: &[&str] = &[
    "common_name",
    "dns_names",
    "ip_addresses",
    "validity_days",
    "key_algorithm",
    "covers_urls",
];

#[async_trait]
impl<D: Send + Sync> Resource<D> for CertificateResource {
    fn type_name(&self) -> &'static str {
        "webide_tls_certificate"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("A self-signed TLS server certificate and its private key, made by the provider (no service is called). Give `cert_pem` to clients as the CA to trust (e.g. the `coder` block's `ca_file`) and both PEMs to the server (e.g. Coder's `CODER_TLS_CERT_FILE` / `CODER_TLS_KEY_FILE`). The private key is sensitive and kept in state: protect the state. Any change, and the approach of the end of the validity window, makes a new certificate.")
                .attr(Attribute::string("common_name").required().validate(NonEmpty).describe("Subject common name."))
                .attr(Attribute::string_list("dns_names").default(Value::List(vec![])).describe("DNS names (subject alternative names); `*.example.com` wildcards allowed."))
                .attr(Attribute::string_list("ip_addresses").default(Value::List(vec![])).describe("IP addresses (subject alternative names)."))
                .attr(Attribute::string_list("covers_urls").default(Value::List(vec![])).describe("URLs the certificate must be valid for (e.g. the Coder access URL `https://coder.example.com:7443`): validate fails when a URL's host is not among `dns_names` / `ip_addresses`."))
                .attr(Attribute::number("validity_days").default(365).validate(Range { min: 1.0, max: Some(3650.0) }).describe("Days the certificate is valid from creation."))
                .attr(Attribute::number("early_renewal_days").default(30).validate(Range { min: 0.0, max: Some(3650.0) }).describe("Plan a new certificate when fewer days than this are left."))
                .attr(Attribute::string("key_algorithm").default("ECDSA_P256").validate(OneOf(&["ECDSA_P256", "ECDSA_P384"])).describe("Key algorithm."))
                .attr(Attribute::string("cert_pem").computed().use_state_for_unknown().describe("The certificate, PEM."))
                .attr(Attribute::string("private_key_pem").computed().sensitive().use_state_for_unknown().describe("The private key, PKCS#8 PEM (sensitive)."))
                .attr(Attribute::string("fingerprint_sha256").computed().use_state_for_unknown().describe("SHA-256 of the certificate (DER), hex."))
                .attr(Attribute::string("not_after").computed().use_state_for_unknown().describe("End of validity, RFC 3339.")),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        for (i, ip) in config.get("ip_addresses").elements().iter().enumerate() {
            if let Some(s) = ip.as_str() {
                if s.parse::<std::net::IpAddr>().is_err() {
                    diags.push_attr_error(
                        AttrPath::root("ip_addresses").index(i),
                        "Invalid IP address",
                        format!("{s:?} is not an IPv4 or IPv6 address"),
                    );
                }
            }
        }
        for (i, name) in config.get("dns_names").elements().iter().enumerate() {
            if let Some(s) = name.as_str() {
                if let Err(why) = check_dns_name(s) {
                    diags.push_attr_error(
                        AttrPath::root("dns_names").index(i),
                        "Invalid DNS name",
                        format!("{s:?}: {why}"),
                    );
                }
            }
        }
        let sans = |attr: &str| -> Option<Vec<String>> {
            let v = config.get(attr);
            if !v.is_wholly_known() {
                return None;
            }
            Some(v.string_elements())
        };
        let (Some(dns), Some(ips)) = (sans("dns_names"), sans("ip_addresses")) else {
            return;
        };
        for (i, url) in config.get("covers_urls").elements().iter().enumerate() {
            let Some(url) = url.as_str() else { continue };
            let path = AttrPath::root("covers_urls").index(i);
            match host_of(url) {
                None => diags.push_attr_error(
                    path,
                    "Invalid URL",
                    format!("{url:?} is not an absolute URL with a host"),
                ),
                Some(host) if !covers(&dns, &ips, &host) => diags.push_attr_error(
                    path,
                    "Certificate does not cover this URL",
                    format!(
                        "the host {host:?} of {url:?} is not among dns_names {dns:?} or ip_addresses {ips:?}: clients would refuse the certificate"
                    ),
                ),
                Some(_) => {}
            }
        }
    }

    async fn modify_plan(
        &self,
        _d: Option<&D>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        if ctx.is_create() {
            return Ok(());
        }
        let changed: Vec<&str> = CONFIG.iter().copied().filter(|a| ctx.changed(a)).collect();
        if !changed.is_empty() {
            for computed in [
                "cert_pem",
                "private_key_pem",
                "fingerprint_sha256",
                "not_after",
            ] {
                ctx.set_unknown(computed);
            }
            for attr in changed {
                ctx.require_replace(attr);
            }
        }
        Ok(())
    }

    async fn create(&self, _d: &D, plan: &Value) -> ApplyResult {
        let made = make(plan)
            .map_err(|e| Diagnostics::error("Cannot make the certificate", format!("{e:#}")))?;
        let mut state = plan.clone();
        state.set("cert_pem", Value::string(made.cert_pem));
        state.set("private_key_pem", Value::string(made.key_pem));
        state.set("fingerprint_sha256", Value::string(made.fingerprint));
        state.set("not_after", Value::string(made.not_after));
        Ok(state)
    }

    async fn read(&self, _d: &D, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let early = state.get("early_renewal_days").as_i64().unwrap_or(0);
        let Some(not_after) = state
            .get("not_after")
            .as_str()
            .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        else {
            // No validity recorded: nothing to renew on.
            return Ok(Some(state.clone()));
        };
        if OffsetDateTime::now_utc() + time::Duration::days(early) >= not_after {
            // Gone for Terraform's purposes: the plan makes a new one.
            return Ok(None);
        }
        Ok(Some(state.clone()))
    }

    async fn update(&self, _d: &D, _prior: &Value, plan: &Value) -> ApplyResult {
        // Only early_renewal_days changes in place; it changes nothing made.
        Ok(plan.clone())
    }

    async fn delete(&self, _d: &D, _state: &Value) -> Result<(), Diagnostics> {
        Ok(())
    }
}

struct Made {
    cert_pem: String,
    key_pem: String,
    fingerprint: String,
    not_after: String,
}

fn make(plan: &Value) -> anyhow::Result<Made> {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        plan.get("common_name").as_str().unwrap_or_default(),
    );
    for name in plan.get("dns_names").string_elements() {
        params
            .subject_alt_names
            .push(rcgen::SanType::DnsName(name.clone().try_into()?));
    }
    for ip in plan.get("ip_addresses").string_elements() {
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(ip.parse()?));
    }
    let now = OffsetDateTime::now_utc();
    let days = plan.get("validity_days").as_i64().unwrap_or(365);
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(days);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    // An end-entity certificate (webpki refuses a CA certificate as a server's), which clients
    // take as their trust anchor.
    params.is_ca = rcgen::IsCa::NoCa;
    let alg = match plan.get("key_algorithm").as_str() {
        Some("ECDSA_P384") => &rcgen::PKCS_ECDSA_P384_SHA384,
        _ => &rcgen::PKCS_ECDSA_P256_SHA256,
    };
    let key = rcgen::KeyPair::generate_for(alg)?;
    let not_after = params.not_after.replace_nanosecond(0)?.format(&Rfc3339)?;
    let cert = params.self_signed(&key)?;
    Ok(Made {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        fingerprint: hex::encode(Sha256::digest(cert.der())),
        not_after,
    })
}

/// A DNS name (or a `*.` wildcard of one) a certificate can carry.
fn check_dns_name(s: &str) -> Result<(), &'static str> {
    let bare = s.strip_prefix("*.").unwrap_or(s);
    if bare.is_empty() || bare.len() > 253 {
        return Err("must be 1 to 253 characters");
    }
    for label in bare.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("each dot-separated label must be 1 to 63 characters");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err("labels hold letters, digits and inner hyphens only");
        }
    }
    Ok(())
}

/// The host of an absolute URL, without brackets for IPv6.
fn host_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Whether a certificate with these SANs is valid for `host` (RFC 6125: a wildcard covers one
/// left-most label).
fn covers(dns: &[String], ips: &[String], host: &str) -> bool {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ips
            .iter()
            .any(|i| i.parse::<std::net::IpAddr>().ok() == Some(ip));
    }
    dns.iter().any(|name| {
        let name = name.to_ascii_lowercase();
        match name.strip_prefix("*.") {
            Some(suffix) => host
                .split_once('.')
                .is_some_and(|(first, rest)| !first.is_empty() && rest == suffix),
            None => name == host,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(dns: &[&str], ips: &[&str]) -> Value {
        let mut v = CertificateResource_schema().block.null_object();
        v.set("common_name", Value::string("coder"));
        v.set("dns_names", Value::string_list(dns.iter().copied()));
        v.set("ip_addresses", Value::string_list(ips.iter().copied()));
        v.set("validity_days", Value::int(30));
        v.set("key_algorithm", Value::string("ECDSA_P256"));
        v
    }

    #[allow(non_snake_case)]
    fn CertificateResource_schema() -> Schema {
        <CertificateResource as Resource<()>>::schema(&CertificateResource)
    }

    #[test]
    fn covers_follows_rfc6125() {
        let dns = vec![
            "coder.example.com".to_string(),
            "*.apps.example.com".to_string(),
        ];
        let ips = vec!["127.0.0.1".to_string(), "::1".to_string()];
        assert!(covers(&dns, &ips, "coder.example.com"));
        assert!(covers(&dns, &ips, "x.apps.example.com"));
        assert!(!covers(&dns, &ips, "a.b.apps.example.com"));
        assert!(!covers(&dns, &ips, "apps.example.com"));
        assert!(covers(&dns, &ips, "127.0.0.1"));
        assert!(covers(&dns, &ips, "::1"));
        assert!(!covers(&dns, &ips, "10.0.0.1"));
        assert_eq!(host_of("https://[::1]:7443/x").as_deref(), Some("::1"));
        assert_eq!(
            host_of("https://u:p@Coder.Example.com:7443").as_deref(),
            Some("coder.example.com")
        );
        assert_eq!(host_of("coder:7443"), None);
    }

    #[test]
    fn validate_names_the_url_the_certificate_does_not_cover() {
        let mut config = plan(&["localhost"], &["127.0.0.1"]);
        config.set(
            "covers_urls",
            Value::string_list(["https://localhost:7443", "https://coder.internal:7443"]),
        );
        let mut diags = Diagnostics::new();
        <CertificateResource as Resource<()>>::validate(&CertificateResource, &config, &mut diags);
        let text = format!("{diags:?}");
        assert!(diags.has_errors(), "{text}");
        assert!(text.contains("coder.internal"), "{text}");
        assert!(!text.contains("\"localhost\" of"), "{text}");

        let mut bad = plan(&["-bad-"], &["300.1.1.1"]);
        bad.set("covers_urls", Value::List(vec![]));
        let mut diags = Diagnostics::new();
        <CertificateResource as Resource<()>>::validate(&CertificateResource, &bad, &mut diags);
        let text = format!("{diags:?}");
        assert!(
            text.contains("Invalid IP address") && text.contains("Invalid DNS name"),
            "{text}"
        );
    }

    #[test]
    fn made_certificate_verifies_as_its_own_anchor() {
        let made = make(&plan(&["localhost"], &["127.0.0.1"])).unwrap();
        let der = rustls_pemfile::certs(&mut made.cert_pem.as_bytes())
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(made.fingerprint, hex::encode(Sha256::digest(&der)));
        assert!(made.key_pem.contains("BEGIN PRIVATE KEY"));
        // A rustls client trusting only this certificate accepts it for localhost.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der.clone()).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            std::sync::Arc::new(roots),
            provider,
        )
        .build()
        .unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let now = rustls::pki_types::UnixTime::now();
        use rustls::client::danger::ServerCertVerifier;
        verifier
            .verify_server_cert(&der, &[], &name, &[], now)
            .expect("the certificate verifies for localhost against itself");
        let other = rustls::pki_types::ServerName::try_from("example.org").unwrap();
        assert!(verifier
            .verify_server_cert(&der, &[], &other, &[], now)
            .is_err());
        let end = OffsetDateTime::parse(&made.not_after, &Rfc3339).unwrap();
        let days = (end - OffsetDateTime::now_utc()).whole_days();
        assert!((29..=30).contains(&days), "{days}");
    }
}
