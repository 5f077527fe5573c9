//! `webide_tls_certificate` with the real Terraform CLI: apply makes a certificate whose key
//! stays out of plan output, a re-plan is empty, a SAN change plans a replacement, and a URL the
//! certificate does not cover fails at validate naming the attribute.

use anyhow::{ensure, Context, Result};
use webide_acceptance_tests::{planned_actions, Harness};

fn config(dns: &str, urls: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}

provider "webide" {{}}

resource "webide_tls_certificate" "coder" {{
  common_name  = "coder"
  dns_names    = [{dns}]
  ip_addresses = ["127.0.0.1"]
  covers_urls  = [{urls}]
}}

output "cert" {{
  value = webide_tls_certificate.coder.cert_pem
}}

output "fingerprint" {{
  value = webide_tls_certificate.coder.fingerprint_sha256
}}
"#
    )
}

#[tokio::test]
async fn certificate_lifecycle() -> Result<()> {
    let h = Harness::new()?;
    let wd = h.workdir()?;
    wd.write(
        "main.tf",
        &config(r#""localhost""#, r#""https://localhost:7443""#),
    )?;
    wd.init().await?;
    let applied = wd.apply().await?;
    let key = wd
        .state_resource("webide_tls_certificate.coder")
        .await?
        .get("private_key_pem")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .context("private_key_pem in state")?;
    ensure!(key.contains("BEGIN PRIVATE KEY"), "no PEM key in state");
    let body = key.lines().nth(1).unwrap_or_default().to_string();
    ensure!(
        !applied.combined().contains(&body),
        "the private key was printed by apply"
    );
    let cert = wd.output("cert").await?;
    ensure!(
        cert.as_str()
            .unwrap_or_default()
            .contains("BEGIN CERTIFICATE"),
        "cert output: {cert}"
    );
    let first = wd.output("fingerprint").await?;

    wd.plan().await?.assert_empty()?;

    // Another SAN: a new certificate (replace), with a new fingerprint.
    wd.write(
        "main.tf",
        &config(r#""localhost", "coder""#, r#""https://coder:7443""#),
    )?;
    let plan = wd.plan_json().await?;
    let actions = planned_actions(&plan)
        .remove("webide_tls_certificate.coder")
        .unwrap_or_default();
    ensure!(
        actions == ["delete", "create"] || actions == ["create", "delete"],
        "a SAN change must replace the certificate, planned {actions:?}"
    );
    wd.apply().await?;
    ensure!(
        wd.output("fingerprint").await? != first,
        "same certificate after replacement"
    );

    // A URL the certificate does not cover: refused at validate, on the attribute.
    wd.write(
        "main.tf",
        &config(r#""localhost""#, r#""https://coder.example.com:7443""#),
    )?;
    let out = wd.run_expect_failure(&["validate", "-no-color"]).await?;
    let text = out.combined();
    ensure!(
        text.contains("Certificate does not cover this URL") && text.contains("coder.example.com"),
        "validate output: {text}"
    );
    ensure!(
        text.contains("covers_urls"),
        "the diagnostic names no attribute: {text}"
    );

    wd.write("main.tf", &config(r#""localhost""#, ""))?;
    wd.destroy().await?;
    Ok(())
}
