//! Ephemeral resources (`ephemeral "webide_litellm_key"`, `ephemeral "webide_gitea_token"`)
//! with the real Terraform CLI against the sandbox.
//!
//! On Terraform >= 1.10 (run with `TF_BIN=$(command -v terraform)`): a saved plan and its apply
//! open both, feed the key into another provider instance's configuration (a capture server
//! records the credential it is sent, which proves the key was opened during plan and apply and
//! gives the test the secret to search for) and into a provisioner (which writes them to files
//! and calls Gitea with the token); the secrets are absent from the plan file (raw and unzipped
//! bytes, `terraform show -json`), the state and the TF_LOG=trace log, and after each run the simulators hold no
//! live key or token made by them (closed), while their deletion is on record.
//!
//! A Gitea block signed in with a token fails the plan with the provider's diagnostic, and the
//! key that plan opened is closed all the same.
//!
//! On older Terraform (1.0.3, the default TF_BIN) the test prints why it cannot run them and
//! checks what it can: the provider's schema loads and Terraform refuses the `ephemeral` block.

use std::sync::{Arc, Mutex};

use anyhow::{bail, ensure, Context, Result};
use axum::http::HeaderMap;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use webide_acceptance_tests::{Harness, TfWorkdir};
use webide_sandbox::{Ports, RunningSandbox, SandboxConfig};

/// The Gitea user the token is made for (by the site admin, with basic auth).
const BOT: &str = "ci-bot";

const MAIN_TF: &str = r#"
terraform {
  required_providers {
    webide = { source = "webide/webide" }
  }
}

variable "capture_url" { type = string }
variable "gitea_url" { type = string }

provider "webide" {}

ephemeral "webide_litellm_key" "ci" {
  key_alias  = "ci-ephemeral"
  duration   = "15m"
  max_budget = 1
  metadata   = { purpose = "acceptance" }
}

ephemeral "webide_gitea_token" "clone" {
  username = "ci-bot"
  scopes   = ["read:user", "read:repository"]
}

# A second provider instance configured with the ephemeral key; its LiteLLM "server" is the
# test's capture server, which records the credential it receives.
provider "webide" {
  alias = "capture"
  litellm {
    url        = var.capture_url
    master_key = ephemeral.webide_litellm_key.ci.key
  }
}

data "webide_litellm_key" "probe" {
  provider = webide.capture
  id       = "probe"
}

resource "terraform_data" "use" {
  input = data.webide_litellm_key.probe.key_alias
  provisioner "local-exec" {
    command = "printf %s \"$KEY\" > key.txt && printf %s \"$TOKEN\" > token.txt && curl -fsS -H \"Authorization: token $TOKEN\" \"$GITEA/api/v1/user\" > whoami.json"
    environment = {
      KEY    = ephemeral.webide_litellm_key.ci.key
      TOKEN  = ephemeral.webide_gitea_token.clone.token
      GITEA  = var.gitea_url
    }
  }
}
"#;

/// Only the block Terraform < 1.10 does not know.
const EPHEMERAL_ONLY_TF: &str = r#"
terraform {
  required_providers {
    webide = { source = "webide/webide" }
  }
}

provider "webide" {}

ephemeral "webide_litellm_key" "ci" {
  duration = "15m"
}
"#;

/// `(major, minor)` of a version such as `1.11.4`.
fn major_minor(v: &str) -> (u32, u32) {
    let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

fn sha256_hex(s: &str) -> String {
    hex_lower(&Sha256::digest(s.as_bytes()))
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A stand-in LiteLLM that records every `Authorization` header and answers `/key/info`.
async fn capture_server() -> Result<(String, Arc<Mutex<Vec<String>>>)> {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let app = axum::Router::new().fallback({
        let seen = seen.clone();
        move |headers: HeaderMap| {
            let seen = seen.clone();
            async move {
                if let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
                    seen.lock().unwrap().push(v.to_string());
                }
                axum::Json(json!({
                    "key": "probe",
                    "info": {"token": "probe", "key_alias": "captured", "key_name": "sk-...e", "spend": 0}
                }))
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, seen))
}

/// Every byte of the saved plan: the zip itself and each entry decompressed (`unzip -p`).
fn plan_bytes(wd: &TfWorkdir, name: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    let path = wd.path().join(name);
    let raw = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let out = std::process::Command::new("unzip")
        .arg("-p")
        .arg(&path)
        .output()
        .context("running `unzip -p` on the plan file (install unzip)")?;
    ensure!(
        out.status.success(),
        "unzip -p failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(!out.stdout.is_empty(), "the plan file has no entries");
    Ok((raw, out.stdout))
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Keys made by the ephemeral resource: live ones (must be none) and deleted ones by token.
fn marked_keys(sb: &RunningSandbox) -> (Vec<String>, Vec<String>) {
    let st = sb.litellm_store().snapshot();
    let marked = |row: &Value| row["metadata"]["webide_ephemeral"].is_string();
    let live = st
        .keys
        .iter()
        .filter(|(_, r)| marked(r))
        .map(|(t, _)| t.clone())
        .collect();
    let deleted = st
        .deleted_keys
        .iter()
        .filter(|(_, r)| marked(r))
        .map(|(t, _)| t.clone())
        .collect();
    (live, deleted)
}

fn bot_tokens(sb: &RunningSandbox) -> usize {
    sb.gitea_store()
        .snapshot()
        .tokens
        .values()
        .filter(|t| t.owner == BOT)
        .count()
}

/// The credentials the capture server saw that it had not been asked about yet.
fn new_keys(seen: &Mutex<Vec<String>>, from: usize) -> Vec<String> {
    seen.lock().unwrap()[from..]
        .iter()
        .filter_map(|h| h.strip_prefix("Bearer ").map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_key_and_token_stay_out_of_state_and_plan() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let version = h.cli().version().to_string();
    let (major, minor) = major_minor(&version);
    if (major, minor) < (1, 10) {
        return older_terraform(&h, &version).await;
    }

    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let cfg = &sb.config;
    // The token's user, made through the simulator's admin API.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/admin/users", sb.gitea_url))
        .header("Authorization", format!("token {}", cfg.gitea_admin_token))
        .json(&json!({"username": BOT, "email": "ci-bot@example.com", "password": "bot-password-1", "must_change_password": false}))
        .send()
        .await?;
    ensure!(
        res.status().is_success(),
        "creating {BOT}: {}",
        res.text().await?
    );
    let (capture_url, seen) = capture_server().await?;

    let mut wd = h.workdir_with_main(MAIN_TF)?;
    wd.set_sandbox_env(&sb)
        // Gitea makes tokens only for basic auth: username and password, no token.
        .remove_env("GITEA_TOKEN")
        .set_env("GITEA_USERNAME", &cfg.gitea_admin_username)
        .set_env("GITEA_PASSWORD", &cfg.gitea_admin_password)
        .set_env("TF_VAR_capture_url", &capture_url)
        .set_env("TF_VAR_gitea_url", &sb.gitea_url);
    wd.init().await?;
    // Every later run logs at trace level (Terraform core and the provider): the secrets must
    // not appear there either.
    wd.enable_log("trace");

    // The schema Terraform sees lists both ephemeral resources.
    let schema = wd.run(&["providers", "schema", "-json"]).await?;
    let schema: Value = serde_json::from_str(&schema.stdout)?;
    let eph = schema["provider_schemas"]
        .as_object()
        .and_then(|m| m.values().next())
        .map(|p| p["ephemeral_resource_schemas"].clone())
        .context("provider schema")?;
    for t in ["webide_litellm_key", "webide_gitea_token"] {
        ensure!(
            eph.get(t).is_some(),
            "{t} missing from ephemeral_resource_schemas: {eph}"
        );
        ensure!(
            eph[t]["block"]["attributes"][if t == "webide_litellm_key" {
                "key"
            } else {
                "token"
            }]["sensitive"]
                == json!(true),
            "{t}'s secret is not marked sensitive"
        );
    }

    // Plan, saved: both are opened (the capture server got the key) and closed again.
    wd.run(&["plan", "-input=false", "-out=tfplan"]).await?;
    let plan_keys = new_keys(&seen, 0);
    ensure!(
        !plan_keys.is_empty(),
        "the capture provider was never sent the ephemeral key during plan"
    );
    let plan_key = plan_keys[0].clone();
    ensure!(
        plan_key.starts_with("sk-") && plan_key.len() > 20,
        "not a key: {} chars",
        plan_key.len()
    );
    let (live, deleted) = marked_keys(&sb);
    ensure!(
        live.is_empty(),
        "ephemeral keys still live after plan: {live:?}"
    );
    ensure!(
        deleted.contains(&sha256_hex(&plan_key)),
        "the key opened during plan is not among the deleted keys"
    );
    ensure!(
        bot_tokens(&sb) == 0,
        "a Gitea token of {BOT} is left after plan"
    );
    let gitea_tokens_made = sb.gitea_store().snapshot().next_id;

    let (raw, unzipped) = plan_bytes(&wd, "tfplan")?;
    ensure!(
        !contains(&raw, &plan_key),
        "the key is in the plan file's raw bytes"
    );
    ensure!(
        !contains(&unzipped, &plan_key),
        "the key is in the plan file's entries"
    );
    ensure!(
        !contains(&unzipped, &sha256_hex(&plan_key)),
        "the key's token id is in the plan file"
    );
    let shown = wd.run(&["show", "-json", "tfplan"]).await?;
    ensure!(
        !shown.stdout.contains(&plan_key),
        "the key is in `terraform show -json tfplan`"
    );
    let shown: Value = serde_json::from_str(&shown.stdout)?;
    ensure!(
        shown.get("resource_changes").is_some(),
        "show -json gave no resource_changes"
    );

    // Apply the saved plan: opened again (new key and token), used, closed.
    let before = seen.lock().unwrap().len();
    let applied = wd.run(&["apply", "-input=false", "tfplan"]).await?;
    let key = wd.read("key.txt")?;
    let token = wd.read("token.txt")?;
    ensure!(
        key.starts_with("sk-") && key != plan_key,
        "apply did not open a new key"
    );
    ensure!(
        token.len() == 40,
        "not a Gitea token: {} chars",
        token.len()
    );
    let whoami: Value = serde_json::from_str(&wd.read("whoami.json")?)
        .context("the provisioner's GET /api/v1/user with the token")?;
    ensure!(
        whoami["login"] == BOT,
        "the token authenticated as {}",
        whoami["login"]
    );
    for secret in [&key, &token, &plan_key] {
        ensure!(
            !applied.combined().contains(secret.as_str()),
            "a secret is in the apply output"
        );
    }
    let apply_keys = new_keys(&seen, before);
    ensure!(
        apply_keys.is_empty() || apply_keys.contains(&key),
        "the capture provider was configured with a key other than the one the run opened"
    );
    ensure!(
        sb.gitea_store().snapshot().next_id > gitea_tokens_made,
        "no Gitea token was made during apply"
    );

    // Closed: nothing live on either simulator; the apply's key is on record as deleted.
    let (live, deleted) = marked_keys(&sb);
    ensure!(
        live.is_empty(),
        "ephemeral keys still live after apply: {live:?}"
    );
    ensure!(
        deleted.contains(&sha256_hex(&key)),
        "the key of the apply was not deleted"
    );
    ensure!(
        bot_tokens(&sb) == 0,
        "a Gitea token of {BOT} is left after apply"
    );
    let st = reqwest::Client::new()
        .get(format!("{}/api/v1/user", sb.gitea_url))
        .header("Authorization", format!("token {token}"))
        .send()
        .await?
        .status();
    ensure!(st == 401, "the closed token still authenticates: {st}");

    // Neither secret nor the key's token id is in the state.
    let state = wd.read("terraform.tfstate")?;
    for (what, s) in [
        ("key", key.as_str()),
        ("plan key", plan_key.as_str()),
        ("token", token.as_str()),
        ("key token id", &sha256_hex(&key)),
    ] {
        ensure!(!state.contains(s), "the {what} is in terraform.tfstate");
    }
    ensure!(
        state.contains("terraform_data"),
        "state does not hold the resource: {state}"
    );
    let log = wd.read_log()?;
    ensure!(
        log.contains("OpenEphemeralResource"),
        "the trace log does not show the opens"
    );
    for (what, s) in [("key", &key), ("plan key", &plan_key), ("token", &token)] {
        ensure!(
            !log.contains(s.as_str()),
            "the {what} is in the TF_LOG=trace log"
        );
    }

    // Destroy opens and closes them once more and leaves nothing.
    wd.destroy().await?;
    let (live, _) = marked_keys(&sb);
    ensure!(
        live.is_empty(),
        "ephemeral keys live after destroy: {live:?}"
    );
    ensure!(
        bot_tokens(&sb) == 0,
        "a Gitea token of {BOT} is left after destroy"
    );

    // Gitea signed in with a token cannot make tokens: the plan fails with the provider's
    // diagnostic naming the fix, and the key the same plan opened is still closed.
    wd.remove_env("GITEA_USERNAME")
        .remove_env("GITEA_PASSWORD")
        .set_env("GITEA_TOKEN", &cfg.gitea_admin_token);
    let failed = wd.plan_expect_failure().await?;
    ensure!(
        failed
            .combined()
            .contains("Gitea access tokens need basic authentication"),
        "{}",
        failed.combined()
    );
    let (live, _) = marked_keys(&sb);
    ensure!(
        live.is_empty(),
        "ephemeral keys live after a failed plan: {live:?}"
    );
    Ok(())
}

/// Terraform < 1.10 has no ephemeral resources: the provider (which serves them) must still
/// load, and the block must be refused by Terraform, not crash anything.
async fn older_terraform(h: &Harness, version: &str) -> Result<()> {
    eprintln!(
        "SKIPPED (ephemeral resources need Terraform >= 1.10; TF_BIN is {version}): checking \
         only that the provider loads and Terraform refuses `ephemeral` blocks. Run with \
         TF_BIN=$(command -v terraform) on Terraform >= 1.11 for the full test."
    );
    let wd = h.workdir_with_main(
        r#"
terraform {
  required_providers {
    webide = { source = "webide/webide" }
  }
}
provider "webide" {}
"#,
    )?;
    wd.init().await?;
    let schema = wd.run(&["providers", "schema", "-json"]).await?;
    let schema: Value = serde_json::from_str(&schema.stdout)?;
    let p = schema["provider_schemas"]
        .as_object()
        .and_then(|m| m.values().next())
        .context("provider schema")?;
    ensure!(
        p["resource_schemas"].get("webide_litellm_key").is_some(),
        "the provider's schema did not load: {p}"
    );
    wd.write("main.tf", EPHEMERAL_ONLY_TF)?;
    let out = wd.run_unchecked(&["validate", "-no-color"]).await?;
    if out.success() {
        bail!(
            "Terraform {version} accepted an ephemeral block: {}",
            out.combined()
        );
    }
    ensure!(
        out.combined().contains("ephemeral"),
        "the refusal does not name the ephemeral block: {}",
        out.combined()
    );
    Ok(())
}
