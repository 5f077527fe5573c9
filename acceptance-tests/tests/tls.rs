//! HTTPS with a self-signed certificate (the seeds' Coder on :7443): with the CA file the
//! provider works, without it the run fails with a clear certificate error, and the explicit
//! `insecure` switch works too. Exercised on the LiteLLM block; every service block shares the
//! same `ca_file` / `insecure` code.

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
