//! HTTPS with a self-signed certificate (the seeds' Coder on :7443): with the CA file the
//! provider works, without it the run fails with a clear certificate error, and the explicit
//! `insecure` switch works too. Exercised on the LiteLLM block; every service block shares the
//! same `ca_file` / `ca_pem` / `insecure` code. Then Coder over HTTPS end to end: the Coder
//! simulator serves a certificate `webide_tls_certificate` made, and the `coder` block trusts
//! it through `ca_pem`; another certificate as `ca_pem` is refused with a certificate error.

use anyhow::{ensure, Result};
use webide_acceptance_tests::Harness;
use webide_sandbox::{Ports, SandboxConfig};

fn config(url: &str, tls_line: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}

provider "webide" {{
  litellm {{
    url        = "{url}"
    master_key = "sk-webide-master"
    {tls_line}
  }}
}}

resource "webide_litellm_team" "t" {{
  team_alias = "tls-check"
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_https_needs_the_ca_or_insecure() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(
        SandboxConfig {
            tls: true,
            ..Default::default()
        },
        "127.0.0.1",
        Ports::default(),
    )
    .await?;
    ensure!(
        sb.litellm_url.starts_with("https://localhost:"),
        "{}",
        sb.litellm_url
    );
    let store = sb.litellm_store();
    let wd = h.workdir()?;
    let ca = wd.write("sandbox-ca.pem", sb.ca_pem.as_deref().unwrap_or_default())?;

    // No CA: a clear certificate error, and nothing written on the server.
    wd.write("main.tf", &config(&sb.litellm_url, ""))?;
    wd.init().await?;
    let out = wd.apply_expect_failure().await?;
    let text = format!("{}{}", out.stdout, out.stderr);
    ensure!(
        text.to_lowercase().contains("certificate"),
        "the error names the certificate problem:\n{text}"
    );
    ensure!(store.snapshot().teams.is_empty());

    // With the CA file: works, re-plan empty.
    wd.write(
        "main.tf",
        &config(&sb.litellm_url, &format!("ca_file = \"{}\"", ca.display())),
    )?;
    wd.apply().await?;
    ensure!(store.snapshot().teams.len() == 1);
    wd.plan().await?.assert_empty()?;

    // The explicit insecure switch: also works (no CA).
    wd.write("main.tf", &config(&sb.litellm_url, "insecure = true"))?;
    wd.plan().await?.assert_empty()?;
    wd.destroy().await?;
    ensure!(store.snapshot().teams.is_empty());
    webide_acceptance_tests::assert_contract(&sb)?;
    Ok(())
}

/// The certificates (step 1), then a `coder` provider instance trusting `ca_pem` (step 2).
fn coder_config(coder_url: &str, token: &str, ca: Option<&str>) -> String {
    let certs = format!(
        r#"
terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}

provider "webide" {{}}

resource "webide_tls_certificate" "coder" {{
  common_name  = "coder"
  dns_names    = ["localhost", "coder-server"]
  ip_addresses = ["127.0.0.1"]
  covers_urls  = ["{coder_url}"]
}}

resource "webide_tls_certificate" "other" {{
  common_name = "someone else"
  dns_names   = ["localhost"]
}}
"#
    );
    match ca {
        None => certs,
        Some(ca) => format!(
            r#"{certs}
provider "webide" {{
  alias = "coder"
  coder {{
    url    = "{coder_url}"
    token  = "{token}"
    ca_pem = webide_tls_certificate.{ca}.cert_pem
  }}
}}

data "webide_coder_organization" "default" {{
  provider = webide.coder
}}

output "organization_id" {{
  value = data.webide_coder_organization.default.id
}}
"#
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coder_over_https_trusts_the_generated_certificate_by_ca_pem() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(
        SandboxConfig {
            coder_tls: true,
            ..Default::default()
        },
        "127.0.0.1",
        Ports::default(),
    )
    .await?;
    ensure!(
        sb.coder_url.starts_with("https://localhost:"),
        "{}",
        sb.coder_url
    );
    ensure!(
        sb.litellm_url.starts_with("http://"),
        "only Coder serves TLS"
    );
    let token = sb.config.coder_session_token.clone();
    let wd = h.workdir()?;

    // 1. The certificates, made by the provider (rcgen); Coder then serves the first one.
    wd.write("main.tf", &coder_config(&sb.coder_url, &token, None))?;
    wd.init().await?;
    wd.apply().await?;
    let state = wd.state_resource("webide_tls_certificate.coder").await?;
    let pem = |k: &str| {
        state
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("{k} in state"))
    };
    sb.tls_identity
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("a TLS sandbox has an identity"))?
        .replace(&pem("cert_pem")?, &pem("private_key_pem")?)?;

    // 2. The coder instance verifies it through ca_pem: the data source reads the organization.
    wd.write(
        "main.tf",
        &coder_config(&sb.coder_url, &token, Some("coder")),
    )?;
    let before = sb.requests("coder");
    wd.apply().await?;
    let org = wd.output("organization_id").await?;
    ensure!(
        org.as_str().is_some_and(|s| !s.is_empty()),
        "organization read over HTTPS: {org}"
    );
    ensure!(sb.requests("coder") > before, "Coder was asked over HTTPS");
    wd.plan().await?.assert_empty()?;

    // 3. Another certificate as the CA: refused, naming the certificate and what to set.
    wd.write(
        "main.tf",
        &coder_config(&sb.coder_url, &token, Some("other")),
    )?;
    let out = wd.plan_expect_failure().await?;
    let text = out.combined();
    ensure!(
        text.contains("certificate") && text.contains("ca_pem"),
        "a clear certificate diagnostic:\n{text}"
    );
    webide_acceptance_tests::assert_contract(&sb)?;
    Ok(())
}
