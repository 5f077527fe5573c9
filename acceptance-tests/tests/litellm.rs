//! LiteLLM keys and teams with the real Terraform CLI against the sandbox: apply, empty
//! re-plan, a metadata change updating the key in place (same secret), drift made through the
//! API, import (by key and by token id), a key deleted outside Terraform, plan-time validation,
//! secrets kept out of TF_LOG=trace, and destroy.

use anyhow::{ensure, Context, Result};
use reqwest::Method;
use serde_json::{json, Value};
use webide_acceptance_tests::{planned_actions, Harness, TfWorkdir};
use webide_sandbox::{Ports, RunningSandbox, SandboxConfig};

const MAIN_TF: &str = r#"
terraform {
  required_providers {
    webide = { source = "webide/webide" }
  }
}

provider "webide" {}

variable "enforcement_level" {
  type    = string
  default = "strict"
}

resource "webide_litellm_team" "contractors" {
  team_alias = "contractors"
  models     = ["claude-sonnet", "gpt-4o-mini"]
  max_budget = 500
}

resource "webide_litellm_key" "k" {
  key_alias       = "contractor1-workspace"
  team_id         = webide_litellm_team.contractors.id
  user_id         = "contractor1"
  models          = ["claude-sonnet"]
  max_budget      = 25
  budget_duration = "30d"
  rpm_limit       = 60
  metadata = {
    enforcement_level = var.enforcement_level
    owner             = "contractor1"
  }
}

data "webide_litellm_key" "info" {
  id = webide_litellm_key.k.id
}

output "key" {
  value     = webide_litellm_key.k.key
  sensitive = true
}

output "token" {
  value = webide_litellm_key.k.id
}

output "info_alias" {
  value = data.webide_litellm_key.info.key_alias
}
"#;

struct Env {
    sb: RunningSandbox,
    http: reqwest::Client,
}

impl Env {
    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let res = self
            .http
            .request(Method::POST, format!("{}{path}", self.sb.litellm_url))
            .bearer_auth(&self.sb.config.litellm_master_key)
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let text = res.text().await?;
        ensure!(status.is_success(), "{path}: {status}: {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

async fn setup() -> Result<(Env, TfWorkdir)> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let mut wd = h.workdir_with_main(MAIN_TF)?;
    wd.set_env("LITELLM_PROXY_URL", &sb.litellm_url);
    wd.set_env("LITELLM_MASTER_KEY", &sb.config.litellm_master_key);
    Ok((
        Env {
            sb,
            http: reqwest::Client::new(),
        },
        wd,
    ))
}

fn actions_of(plan: &Value, address: &str) -> Vec<String> {
    planned_actions(plan).remove(address).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellm_key_lifecycle() -> Result<()> {
    let (env, mut wd) = setup().await?;
    let store = env.sb.litellm_store();
    let log = wd.enable_log("trace");

    wd.init().await?;
    wd.apply().await?;
    let secret = wd
        .output("key")
        .await?
        .as_str()
        .context("key output")?
        .to_string();
    let token = wd
        .output("token")
        .await?
        .as_str()
        .context("token output")?
        .to_string();
    ensure!(
        secret.starts_with("sk-"),
        "the key is a LiteLLM key: {secret:.6}..."
    );
    let row = store.key(&token).context("the key exists on the server")?;
    ensure!(row["metadata"]["enforcement_level"] == "strict", "{row}");
    ensure!(row["max_budget"] == json!(25.0), "{row}");
    ensure!(wd.output("info_alias").await? == "contractor1-workspace");

    // Secrets never reach the logs, even at trace level (apply + output ran with TF_LOG=trace).
    let text = wd.read_log()?;
    ensure!(
        text.len() > 10_000,
        "trace log written ({} bytes)",
        text.len()
    );
    ensure!(
        !text.contains(&secret),
        "the generated key appears in the trace log"
    );
    ensure!(
        !text.contains(&env.sb.config.litellm_master_key),
        "the master key appears in the trace log"
    );
    wd.disable_log();
    let _ = std::fs::remove_file(log);

    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after apply")?;

    // Metadata change: in-place update, same key, same secret.
    wd.set_env("TF_VAR_enforcement_level", "audit");
    let plan = wd.plan_json().await?;
    ensure!(
        actions_of(&plan, "webide_litellm_key.k") == ["update"],
        "metadata change must update in place: {:?}",
        planned_actions(&plan)
    );
    wd.apply().await?;
    ensure!(
        wd.output("token").await? == token.as_str(),
        "same key after the update"
    );
    ensure!(
        wd.output("key").await? == secret.as_str(),
        "same secret after the update"
    );
    let row = store.key(&token).context("key still there")?;
    ensure!(row["metadata"]["enforcement_level"] == "audit", "{row}");
    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after the update")?;

    // Drift made through the API shows in plan, and apply restores the configuration.
    env.post("/key/update", json!({"key": token, "max_budget": 999.0}))
        .await?;
    let drift = wd.plan().await?;
    drift.assert_changes()?;
    ensure!(
        drift.stdout.contains("max_budget") && drift.stdout.contains("999"),
        "plan names the drifted budget:\n{}",
        drift.stdout
    );
    wd.apply().await?;
    ensure!(store.key(&token).unwrap()["max_budget"] == json!(25.0));
    wd.plan().await?.assert_empty()?;

    // Import by the key itself keeps the secret; then the plan is empty.
    wd.run(&["state", "rm", "webide_litellm_key.k"]).await?;
    wd.import("webide_litellm_key.k", &secret).await?;
    wd.assert_no_resource_changes()
        .await
        .context("plan after import by key")?;
    ensure!(wd.state_resource("webide_litellm_key.k").await?["key"] == secret.as_str());

    // Import by token id (not a secret) also round-trips; the team by its id.
    let team_id = wd.state_resource("webide_litellm_team.contractors").await?["id"]
        .as_str()
        .context("team id")?
        .to_string();
    wd.run(&[
        "state",
        "rm",
        "webide_litellm_key.k",
        "webide_litellm_team.contractors",
    ])
    .await?;
    wd.import("webide_litellm_team.contractors", &team_id)
        .await?;
    wd.import("webide_litellm_key.k", &token).await?;
    wd.assert_no_resource_changes()
        .await
        .context("plan after import by token")?;

    // Deleted outside Terraform: planned for re-creation.
    env.post("/key/delete", json!({"keys": [token]})).await?;
    let plan = wd.plan_json().await?;
    ensure!(
        actions_of(&plan, "webide_litellm_key.k") == ["create"],
        "a key deleted by hand is re-created: {:?}",
        planned_actions(&plan)
    );
    wd.apply().await?;
    let new_token = wd
        .output("token")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string();
    ensure!(new_token != token && store.key(&new_token).is_some());

    // Destroy: nothing left on the server.
    wd.destroy().await?;
    let state = store.snapshot();
    ensure!(
        state.keys.is_empty(),
        "keys left after destroy: {:?}",
        state.keys.keys().collect::<Vec<_>>()
    );
    ensure!(
        state.teams.is_empty(),
        "teams left after destroy: {:?}",
        state.teams.keys().collect::<Vec<_>>()
    );
    webide_acceptance_tests::assert_contract(&env.sb)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellm_bad_input_is_refused_at_plan_time() -> Result<()> {
    let (env, wd) = setup().await?;
    let cases = [
        ("max_budget = -5", "max_budget"),
        ("budget_duration = \"thirty days\"", "budget_duration"),
        ("rpm_limit = 1.5", "rpm_limit"),
        ("key_alias = \"\"", "key_alias"),
    ];
    wd.init().await?;
    for (line, attr) in cases {
        wd.write(
            "main.tf",
            &format!(
                "terraform {{\n  required_providers {{\n    webide = {{ source = \"webide/webide\" }}\n  }}\n}}\nresource \"webide_litellm_key\" \"bad\" {{\n  {line}\n}}\n"
            ),
        )?;
        let out = wd.plan_expect_failure().await?;
        ensure!(
            out.stderr.contains(attr),
            "{line}: the diagnostic names {attr}:\n{}",
            out.stderr
        );
    }
    let state = env.sb.litellm_store().snapshot();
    ensure!(state.keys.is_empty(), "no API write for invalid input");
    webide_acceptance_tests::assert_contract(&env.sb)?;
    Ok(())
}

const PROXY_RULES_TF: &str = r#"
terraform {
  required_providers {
    webide = { source = "webide/webide" }
  }
}

provider "webide" {}

variable "team" {
  type    = string
  default = "eng"
}

variable "owner" {
  type    = string
  default = "dev1"
}

resource "webide_litellm_team" "eng" {
  team_alias = "eng"
}

resource "webide_litellm_team" "ops" {
  team_alias = "ops"
}

resource "webide_litellm_key" "k" {
  key_alias = "dev1-workspace"
  user_id   = "dev1"
  team_id   = var.team == "eng" ? webide_litellm_team.eng.id : webide_litellm_team.ops.id
  metadata  = { owner = var.owner }
}
"#;

/// Rules of a real LiteLLM 1.106.2 the provider must live with: values the proxy keeps in a
/// key's metadata (non-strings among them) neither fail a read nor show as drift, and survive a
/// metadata change; a key moves to a team its user is not yet a member of (the proxy refuses
/// that unless the user joins first); two teams with one alias are refused at plan; a wrong
/// master key's error does not carry the key's SHA-256.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellm_real_proxy_rules() -> Result<()> {
    let (env, mut wd) = setup().await?;
    let store = env.sb.litellm_store();
    wd.write("main.tf", PROXY_RULES_TF)?;
    wd.init().await?;
    wd.apply().await?;
    let key = wd.state_resource("webide_litellm_key.k").await?;
    let token = key["id"].as_str().context("token")?.to_string();
    let ops = wd.state_resource("webide_litellm_team.ops").await?["id"]
        .as_str()
        .context("team id")?
        .to_string();

    // Per-model limits set through the proxy live in metadata as objects and numbers.
    env.post(
        "/key/update",
        json!({"key": token, "model_rpm_limit": {"gpt-4o": 5}, "temp_budget_increase": 10.0,
               "temp_budget_expiry": "2099-01-01T00:00:00Z"}),
    )
    .await?;
    let row = store.key(&token).context("key")?;
    ensure!(
        row["metadata"]["model_rpm_limit"] == json!({"gpt-4o": 5}),
        "{row}"
    );
    wd.plan()
        .await?
        .assert_empty()
        .context("proxy-kept metadata is no drift")?;

    // A metadata change keeps what the proxy keeps there.
    wd.set_env("TF_VAR_owner", "dev2");
    wd.apply().await?;
    let row = store.key(&token).context("key")?;
    ensure!(row["metadata"]["owner"] == "dev2", "{row}");
    ensure!(
        row["metadata"]["model_rpm_limit"] == json!({"gpt-4o": 5})
            && row["metadata"]["temp_budget_increase"] == json!(10.0),
        "proxy-kept metadata survives the update: {row}"
    );
    wd.plan().await?.assert_empty()?;

    // Moving the key to a team its user is not a member of: the user joins, then the key moves.
    wd.set_env("TF_VAR_team", "ops");
    let plan = wd.plan_json().await?;
    ensure!(
        actions_of(&plan, "webide_litellm_key.k") == ["update"],
        "{:?}",
        planned_actions(&plan)
    );
    wd.apply().await?;
    let row = store.key(&token).context("key")?;
    ensure!(row["team_id"] == ops.as_str(), "{row}");
    let team = store.team(&ops).context("team")?;
    ensure!(
        team["members_with_roles"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["user_id"] == "dev1")),
        "{team}"
    );
    wd.plan().await?.assert_empty()?;

    // A wrong master key: the error names the failure, not the key's hash.
    let wrong = "sk-wrong-master-key-0000";
    wd.set_env("LITELLM_MASTER_KEY", wrong);
    let out = wd.plan_expect_failure().await?;
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    ensure!(
        flat(&out.stderr).contains("Invalid proxy server token"),
        "{}",
        out.stderr
    );
    let hash = webide_sandbox::litellm::hash_token(wrong);
    ensure!(
        !out.stderr.contains(&hash) && !out.stdout.contains(&hash),
        "the wrong key's SHA-256 is shown:\n{}",
        out.stderr
    );
    wd.set_env("LITELLM_MASTER_KEY", &env.sb.config.litellm_master_key);
    wd.destroy().await?;

    // Two teams with one alias in one configuration: refused at plan, nothing made.
    wd.write(
        "main.tf",
        "terraform {\n  required_providers {\n    webide = { source = \"webide/webide\" }\n  }\n}\n\
         resource \"webide_litellm_team\" \"a\" {\n  team_alias = \"same\"\n}\n\
         resource \"webide_litellm_team\" \"b\" {\n  team_alias = \"same\"\n}\n",
    )?;
    let out = wd.plan_expect_failure().await?;
    ensure!(
        flat(&out.stderr).contains("Duplicate LiteLLM team alias")
            && out.stderr.contains("team_alias"),
        "{}",
        out.stderr
    );
    ensure!(store.snapshot().teams.is_empty(), "no team made");
    webide_acceptance_tests::assert_contract(&env.sb)?;
    Ok(())
}
