//! `webide_litellm_model` with the real Terraform CLI against the LiteLLM simulator: the models
//! the keys name are declared, the upstream key never reaches plan output or the log, a change
//! made through the API is seen as drift and healed, a model deleted outside Terraform is planned
//! again, import by id round-trips, and a model without an upstream key fails at validate.

use anyhow::{ensure, Context, Result};
use reqwest::Method;
use serde_json::{json, Value};
use webide_acceptance_tests::{planned_actions, Harness};
use webide_sandbox::{Ports, SandboxConfig};

const UPSTREAM_KEY: &str = "sk-upstream-0123456789-do-not-print";

fn config(rpm: u32, with_key: bool) -> String {
    let key = if with_key {
        "api_key = var.openai_api_key"
    } else {
        ""
    };
    format!(
        r#"
terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}

provider "webide" {{}}

variable "openai_api_key" {{
  type      = string
  sensitive = true
}}

resource "webide_litellm_model" "claude" {{
  model_name = "claude-sonnet"
  model      = "anthropic/claude-sonnet-4-20250514"
  api_key    = "os.environ/ANTHROPIC_API_KEY"
  rpm        = {rpm}
}}

resource "webide_litellm_model" "mini" {{
  model_name = "gpt-4o-mini"
  model      = "openai/gpt-4o-mini"
  {key}
}}

resource "webide_litellm_key" "k" {{
  key_alias  = "model-user"
  models     = [webide_litellm_model.claude.model_name, webide_litellm_model.mini.model_name]
  max_budget = 5
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellm_model_lifecycle() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let mut wd = h.workdir_with_main(&config(60, true))?;
    wd.set_env("LITELLM_PROXY_URL", &sb.litellm_url);
    wd.set_env("LITELLM_MASTER_KEY", &sb.config.litellm_master_key);
    wd.set_env("TF_VAR_openai_api_key", UPSTREAM_KEY);
    let log = wd.enable_log("trace");
    let store = sb.litellm_store();
    let http = reqwest::Client::new();
    let call = |method: Method, path: String, body: Option<Value>| {
        let req = http
            .request(method, format!("{}{path}", sb.litellm_url))
            .bearer_auth(&sb.config.litellm_master_key);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        async move {
            let res = req.send().await?;
            let status = res.status();
            let text = res.text().await?;
            ensure!(status.is_success(), "{status}: {text}");
            anyhow::Ok(serde_json::from_str::<Value>(&text).unwrap_or(Value::Null))
        }
    };

    wd.init().await?;
    let applied = wd.apply().await?;
    let models = store.snapshot().models;
    ensure!(models.len() == 2, "two models on the server: {models:?}");
    let claude_id = wd
        .state_resource("webide_litellm_model.claude")
        .await?
        .get("id")
        .and_then(Value::as_str)
        .context("model id in state")?
        .to_string();
    let row = models
        .get(&claude_id)
        .context("the model has the id in state")?;
    ensure!(row["litellm_params"]["rpm"] == 60, "{row}");
    ensure!(
        row["litellm_params"]["api_key"] == "os.environ/ANTHROPIC_API_KEY",
        "{row}"
    );
    let mini = models
        .values()
        .find(|m| m["model_name"] == "gpt-4o-mini")
        .context("gpt-4o-mini on the server")?;
    ensure!(
        mini["litellm_params"]["api_key"] == UPSTREAM_KEY,
        "the key was sent"
    );
    ensure!(
        !applied.combined().contains(UPSTREAM_KEY),
        "apply printed the upstream key"
    );

    wd.plan().await?.assert_empty()?;

    // Drift: rpm changed through the API is seen, and healed in place.
    call(
        Method::PATCH,
        format!("/model/{claude_id}/update"),
        Some(json!({"litellm_params": {"rpm": 5}})),
    )
    .await?;
    let plan = wd.plan_json().await?;
    let actions = planned_actions(&plan);
    ensure!(
        actions
            .get("webide_litellm_model.claude")
            .map(Vec::as_slice)
            == Some(&["update".to_string()][..]),
        "drift planned as update: {actions:?}"
    );
    wd.apply().await?;
    ensure!(
        store.snapshot().models[&claude_id]["litellm_params"]["rpm"] == 60,
        "healed"
    );

    // Import by id: no changes (the upstream key is not read back; os.environ/ stays as configured).
    wd.run(&["state", "rm", "webide_litellm_model.claude"])
        .await?;
    wd.import("webide_litellm_model.claude", &claude_id).await?;
    let plan = wd.plan_json().await?;
    let actions = planned_actions(&plan);
    ensure!(
        actions
            .get("webide_litellm_model.claude")
            .is_none_or(|a| a.iter().all(|x| x == "no-op" || x == "update")),
        "import then plan: {actions:?}"
    );
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;

    // Deleted outside Terraform: planned as create.
    call(
        Method::POST,
        "/model/delete".into(),
        Some(json!({"id": claude_id})),
    )
    .await?;
    let actions = planned_actions(&wd.plan_json().await?);
    ensure!(
        actions
            .get("webide_litellm_model.claude")
            .map(Vec::as_slice)
            == Some(&["create".to_string()][..]),
        "deleted model planned as create: {actions:?}"
    );

    // No upstream key for a provider that needs one: refused at validate, on api_key.
    wd.write("main.tf", &config(60, false))?;
    let out = wd.run_expect_failure(&["validate", "-no-color"]).await?;
    let text = out.combined();
    ensure!(
        text.contains("Upstream API key missing") && text.contains("api_key"),
        "validate: {text}"
    );

    wd.write("main.tf", &config(60, true))?;
    wd.destroy().await?;
    ensure!(store.snapshot().models.is_empty(), "destroy left models");
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    ensure!(log_text.len() > 10_000, "trace log written");
    ensure!(
        !log_text.contains(UPSTREAM_KEY),
        "the upstream key is in the TF_LOG=trace log"
    );
    webide_acceptance_tests::assert_contract(&sb)?;
    Ok(())
}
