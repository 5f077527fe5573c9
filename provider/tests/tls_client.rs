//! The HTTP client against a sandbox served over HTTPS with a self-signed certificate:
//! trusted with `ca_file` or `insecure`, refused at once (no retries) without them.

use std::time::{Duration, Instant};

use webide_provider::framework::StopSource;
use webide_provider::http::{ApiClient, TlsOptions};
use webide_sandbox::{Ports, SandboxConfig};

#[tokio::test]
async fn self_signed_certificate_needs_ca_or_insecure() {
    let sb = webide_sandbox::start(
        SandboxConfig {
            tls: true,
            ..Default::default()
        },
        "127.0.0.1",
        Ports::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sb.ca_pem.as_deref().unwrap()).unwrap();
    let stop = StopSource::new();
    let client = |tls: TlsOptions| {
        ApiClient::new("litellm", &sb.litellm_url, &[], &tls, stop.token()).unwrap()
    };

    let started = Instant::now();
    let err = client(TlsOptions::default())
        .get("/health/liveliness", &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a certificate error is not retried ({:?})",
        started.elapsed()
    );

    let with_ca = TlsOptions {
        ca_file: Some(ca.display().to_string()),
        ca_pem: None,
        insecure: false,
    };
    client(with_ca)
        .get("/health/liveliness", &[])
        .await
        .unwrap();
    let insecure = TlsOptions {
        ca_file: None,
        ca_pem: None,
        insecure: true,
    };
    client(insecure)
        .get("/health/liveliness", &[])
        .await
        .unwrap();
}
