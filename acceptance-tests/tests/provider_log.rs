//! The provider's log at `TF_LOG=trace` through real request paths (LiteLLM over HTTP, and a
//! container with `sensitive_env` on the Docker Engine when one answers): only our own log
//! targets appear below `warn` (no h2/hyper/tonic/reqwest/rustls/bollard lines), and no secret
//! value (master key, generated key, container env) is in the log.

use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use webide_acceptance_tests::fixture::{docker_engine, fixture_context};
use webide_acceptance_tests::Harness;
use webide_sandbox::{Ports, SandboxConfig};

const HEADER: &str = r#"
terraform {
  required_providers {
    webide = { source = "webide/webide" }
  }
}

provider "webide" {}

resource "webide_litellm_key" "k" {
  key_alias  = "log-scan"
  max_budget = 5
}

output "key" {
  value     = webide_litellm_key.k.key
  sensitive = true
}
"#;

const ENV_SECRET: &str = "pg-pass-7f3e9c1b5d";

fn docker_part(prefix: &str, ctx: &str) -> String {
    format!(
        r#"
resource "webide_compose_image" "svc" {{
  name    = "{prefix}-svc:latest"
  context = "{ctx}"
}}

resource "webide_compose_service" "db" {{
  name          = "{prefix}-db"
  image         = webide_compose_image.svc.image_id
  command       = ["serve", "5432", "/tmp"]
  env           = {{ SERVICE_NAME = "db" }}
  sensitive_env = {{ POSTGRES_PASSWORD = "{ENV_SECRET}" }}
}}
"#
    )
}

struct Cleanup(String);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let p = &self.0;
        let _ = Command::new("docker")
            .args(["rm", "-f", &format!("{p}-db")])
            .output();
        let _ = Command::new("docker")
            .args(["rmi", &format!("{p}-svc:latest")])
            .output();
    }
}

/// Lines of Terraform's log written for the provider process (go-plugin prefixes them with
/// the plugin's name; hclog JSON fields come out as `@module=...`).
fn provider_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("terraform-provider-webide"))
        .collect()
}

/// Lines logged below warn by a target that is not ours.
fn foreign_debug_lines(log: &str) -> Vec<String> {
    provider_lines(log)
        .into_iter()
        .filter(|l| l.contains("[DEBUG]") || l.contains("[TRACE]") || l.contains("[INFO]"))
        .filter(|l| match l.split("@module=").nth(1) {
            // Our lines: @module=webide.<crate>...
            Some(m) => {
                !(m.starts_with("webide.webide_provider")
                    || m.starts_with("webide.webide_tfplugin")
                    || m.starts_with("webide.terraform_provider_webide"))
            }
            None => {
                // Not a JSON line of ours; Terraform's own lines about the plugin do not carry
                // the provider's @module but also do not name third-party crates.
                [
                    "h2::",
                    "hyper",
                    "tonic::",
                    "tower::",
                    "reqwest::",
                    "rustls::",
                    "bollard",
                ]
                .iter()
                .any(|c| l.contains(c))
            }
        })
        .map(|l| l.chars().take(300).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_log_has_only_our_targets_and_no_secrets() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let prefix = format!("wlog{}", std::process::id());
    let _guard = Cleanup(prefix.clone());
    let with_docker = docker_engine()?.is_some();
    let mut tf = HEADER.to_string();
    if with_docker {
        tf.push_str(&docker_part(
            &prefix,
            &fixture_context()?.display().to_string(),
        ));
    }
    let mut wd = h.workdir_with_main(&tf)?;
    wd.set_timeout(Duration::from_secs(300));
    wd.set_env("LITELLM_PROXY_URL", &sb.litellm_url);
    wd.set_env("LITELLM_MASTER_KEY", &sb.config.litellm_master_key);
    wd.init().await?;
    wd.enable_log("trace");
    wd.apply().await?;
    // A refresh reads everything back (bollard logs `docker inspect` JSON at debug).
    wd.plan().await?.assert_empty().context("re-plan")?;
    let secret = wd
        .output("key")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string();
    wd.destroy().await?;
    let log = wd.read_log()?;
    wd.disable_log();

    let ours = provider_lines(&log);
    ensure!(
        ours.iter()
            .any(|l| l.contains("@module=webide.webide_provider")),
        "the provider logged nothing of its own at trace ({} provider lines)",
        ours.len()
    );
    let foreign = foreign_debug_lines(&log);
    ensure!(
        foreign.is_empty(),
        "{} third-party debug/trace lines from the provider, e.g.:\n{}",
        foreign.len(),
        foreign
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    ensure!(secret.starts_with("sk-"), "key output");
    ensure!(
        !log.contains(&secret),
        "the generated key is in the trace log"
    );
    ensure!(
        !log.contains(&sb.config.litellm_master_key),
        "the master key is in the trace log"
    );
    if with_docker {
        ensure!(
            !log.contains(ENV_SECRET),
            "a sensitive_env value is in the trace log"
        );
    }
    webide_acceptance_tests::assert_contract(&sb)?;
    Ok(())
}
