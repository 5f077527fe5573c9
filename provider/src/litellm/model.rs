//! `webide_litellm_model`: a model the AI gateway serves (a row of LiteLLM's model table), through
//! the model management API (`/model/new`, `/model/info`, `PATCH /model/{id}/update`,
//! `/model/delete`; the proxy needs `STORE_MODEL_IN_DB=True`).
//!
//! The provider picks the model id (a fresh UUID, sent as `model_info.id`), so a create whose
//! answer is lost is resolved exactly: the id is looked up and, when found, the row is provably
//! the one this create made. LiteLLM never shows the upstream `api_key` again (`/model/info`
//! drops credentials), so it is written, not read back.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Map, Value as Json};

use crate::framework::validators::{NonEmpty, Range};
use crate::framework::{ApplyError, ApplyResult, Resource};
use crate::http::ApiError;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct ModelResource;

/// LiteLLM providers (the `provider/` prefix of `model`) that take no API key: local servers, or
/// cloud credentials from the proxy's own environment.
const KEYLESS: &[&str] = &[
    "ollama",
    "ollama_chat",
    "hosted_vllm",
    "vllm",
    "lm_studio",
    "llamafile",
    "xinference",
    "bedrock",
    "sagemaker",
    "vertex_ai",
];

fn api_error(action: &str, e: ApiError) -> Diagnostics {
    Diagnostics::error(
        format!("Could not {action} the LiteLLM model"),
        e.to_string(),
    )
}

/// `litellm_params` for a plan: the routing target and limits; `api_key` only when given.
fn params(plan: &Value, with_key: bool) -> Map<String, Json> {
    let mut p = Map::new();
    p.insert(
        "model".into(),
        json!(plan.get("model").as_str().unwrap_or_default()),
    );
    if let Some(base) = plan.get("api_base").as_str() {
        p.insert("api_base".into(), json!(base));
    }
    for n in ["rpm", "tpm"] {
        if let Some(v) = plan.get(n).as_i64() {
            p.insert(n.into(), json!(v));
        }
    }
    for (k, v) in plan.get("extra_params").string_entries() {
        p.insert(k, json!(v));
    }
    if with_key {
        if let Some(key) = plan.get("api_key").as_str() {
            p.insert("api_key".into(), json!(key));
        }
    }
    p
}

/// State from a `/model/info` entry; `api_key` stays what the configuration said.
fn state_from_api(base: &Value, entry: &Json, id: &str) -> Value {
    let mut s = base.clone();
    s.set("id", Value::string(id));
    let p = &entry["litellm_params"];
    s.set(
        "model_name",
        Value::opt_string(entry["model_name"].as_str()),
    );
    s.set("model", Value::opt_string(p["model"].as_str()));
    s.set("api_base", Value::opt_string(p["api_base"].as_str()));
    s.set("rpm", Value::opt_int(p["rpm"].as_i64()));
    s.set("tpm", Value::opt_int(p["tpm"].as_i64()));
    // Only the extra parameters the configuration manages are compared.
    let managed = base.get("extra_params").string_entries();
    if !managed.is_empty() || base.get("extra_params").is_null() {
        let read: Vec<(String, String)> = managed
            .keys()
            .filter_map(|k| {
                let v = &p[k.as_str()];
                let text = v
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| (!v.is_null()).then(|| v.to_string()))?;
                Some((k.clone(), text))
            })
            .collect();
        if !base.get("extra_params").is_null() {
            s.set("extra_params", Value::string_map(read));
        }
    }
    s
}

async fn info(api: &crate::http::ApiClient, id: &str) -> Result<Option<Json>, ApiError> {
    match api
        .get("/model/info", &[("litellm_model_id", id.to_string())])
        .await
    {
        Ok(j) => Ok(j["data"].as_array().and_then(|a| a.first()).cloned()),
        // "Model id = ... not found on litellm proxy"
        Err(e) if matches!(e.status(), Some(400 | 404)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl Resource<Clients> for ModelResource {
    fn type_name(&self) -> &'static str {
        "webide_litellm_model"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("A model the AI gateway serves: the public `model_name` keys and teams name (e.g. `claude-sonnet`) routed to an upstream `model` (e.g. `anthropic/claude-sonnet-4-20250514`). Needs `STORE_MODEL_IN_DB=True` on the proxy. The upstream `api_key` is written but never shown again by LiteLLM, so a key changed outside Terraform cannot be detected; prefer `os.environ/NAME` (a variable of the LiteLLM container, e.g. from `sensitive_env`), which keeps the key out of LiteLLM's database and this resource's state.")
                .attr(Attribute::string("id").computed().use_state_for_unknown().describe("Model id (`model_info.id`), chosen by the provider. Import id."))
                .attr(Attribute::string("model_name").required().validate(NonEmpty).describe("Public name clients and keys use (`models = [...]`)."))
                .attr(Attribute::string("model").required().validate(NonEmpty).describe("Upstream model, `provider/name` as LiteLLM names it."))
                .attr(Attribute::string("api_key").optional().sensitive().describe("Upstream API key, or `os.environ/NAME` to use the proxy container's variable. Required unless the provider takes none (local servers; Bedrock, SageMaker and Vertex AI use the proxy's own cloud credentials). Not read back."))
                .attr(Attribute::string("api_base").optional().describe("Upstream base URL (self-hosted or Azure endpoints)."))
                .attr(Attribute::number("rpm").optional().validate(Range { min: 0.0, max: None }).validate(crate::framework::validators::Integer).describe("Requests per minute this deployment takes."))
                .attr(Attribute::number("tpm").optional().validate(Range { min: 0.0, max: None }).validate(crate::framework::validators::Integer).describe("Tokens per minute this deployment takes."))
                .attr(Attribute::string_map("extra_params").optional().describe("Further `litellm_params` (e.g. `api_version`), as strings.")),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let model = config.get("model");
        let key = config.get("api_key");
        let (Some(model), false) = (model.as_str(), key.is_unknown()) else {
            return;
        };
        let provider = model.split_once('/').map(|(p, _)| p).unwrap_or("openai");
        if key.is_null() && !KEYLESS.contains(&provider) {
            diags.push_attr_error(
                AttrPath::root("api_key"),
                "Upstream API key missing",
                format!(
                    "model {model:?} goes to the {provider:?} provider, which needs an API key: set api_key (a sensitive variable) or api_key = \"os.environ/NAME\" with NAME in the LiteLLM container's environment"
                ),
            );
        }
        let extra = config.get("extra_params").string_entries();
        {
            for reserved in ["model", "api_key", "api_base", "rpm", "tpm"] {
                if extra.contains_key(reserved) {
                    diags.push_attr_error(
                        AttrPath::root("extra_params").key(reserved),
                        "Parameter has its own attribute",
                        format!("set `{reserved}` as an attribute of the resource instead"),
                    );
                }
            }
        }
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let client = data.litellm.get()?;
        let api = client.api();
        let id = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "model_name": plan.get("model_name").as_str().unwrap_or_default(),
            "litellm_params": Json::Object(params(plan, true)),
            "model_info": { "id": id },
        });
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match api
                .call(Method::POST, "/model/new", &[], Some(&body), false)
                .await
            {
                Ok(_) => break,
                // The outcome is unknown: the row has our id if it was made.
                Err(e)
                    if matches!(e, ApiError::Transport { .. })
                        || e.status().is_some_and(|s| s >= 500) =>
                {
                    if info(api, &id)
                        .await
                        .map_err(|e| api_error("look up", e))?
                        .is_some()
                    {
                        tracing::info!(
                            attempt,
                            "model create answer lost; found the model by the id this create chose"
                        );
                        break;
                    }
                    if attempt >= 3 {
                        return Err(api_error("create", e).into());
                    }
                    tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt))).await;
                }
                Err(e) => return Err(api_error("create", e).into()),
            }
        }
        let mut state = plan.clone();
        state.set("id", Value::string(&id));
        match info(api, &id).await {
            Ok(Some(entry)) => Ok(state_from_api(&state, &entry, &id)),
            Ok(None) => Err(ApplyError::with_state(
                Diagnostics::error(
                    "LiteLLM did not show the model it created",
                    format!("model {id} is missing from /model/info; is STORE_MODEL_IN_DB=True set on the proxy?"),
                ),
                state,
            )),
            Err(e) => Err(ApplyError::with_state(api_error("read back", e), state)),
        }
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = data.litellm.get()?;
        let Some(id) = state.get("id").as_str() else {
            return Ok(None);
        };
        let entry = info(client.api(), id)
            .await
            .map_err(|e| api_error("read", e))?;
        Ok(entry.map(|e| state_from_api(state, &e, id)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let client = data.litellm.get()?;
        let id = prior.get("id").as_str().unwrap_or_default().to_string();
        let key_changed = !plan.get("api_key").equals(prior.get("api_key"));
        let mut p = params(plan, key_changed);
        // Attributes removed from the configuration are cleared.
        for n in ["api_base", "rpm", "tpm"] {
            if plan.get(n).is_null() && !prior.get(n).is_null() {
                p.insert(n.into(), Json::Null);
            }
        }
        let body = json!({
            "model_name": plan.get("model_name").as_str().unwrap_or_default(),
            "litellm_params": Json::Object(p),
        });
        client
            .api()
            .call(
                Method::PATCH,
                &format!("/model/{id}/update"),
                &[],
                Some(&body),
                true,
            )
            .await
            .map_err(|e| api_error("update", e))?;
        let mut state = plan.clone();
        state.set("id", Value::string(&id));
        match info(client.api(), &id)
            .await
            .map_err(|e| api_error("read back", e))?
        {
            Some(entry) => Ok(state_from_api(&state, &entry, &id)),
            None => Err(Diagnostics::error(
                "LiteLLM model vanished during update",
                format!("model {id}"),
            )
            .into()),
        }
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let client = data.litellm.get()?;
        let Some(id) = state.get("id").as_str() else {
            return Ok(());
        };
        match client
            .api()
            .call(
                Method::POST,
                "/model/delete",
                &[],
                Some(&json!({ "id": id })),
                true,
            )
            .await
        {
            Ok(_) => Ok(()),
            // "Model with id=... not found in db": already gone.
            Err(e)
                if matches!(e.status(), Some(400 | 404))
                    && info(client.api(), id).await.ok().flatten().is_none() =>
            {
                Ok(())
            }
            Err(e) => Err(api_error("delete", e)),
        }
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let client = data.litellm.get()?;
        let id = id.trim();
        let entry = info(client.api(), id)
            .await
            .map_err(|e| api_error("import", e))?
            .ok_or_else(|| {
                Diagnostics::error("LiteLLM model not found", format!("no model with id {id}"))
            })?;
        let mut base = self.schema().block.null_object();
        // Extra parameters are not imported (which of them are managed is unknown).
        base.set("extra_params", Value::Null);
        Ok(state_from_api(&base, &entry, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(model: &str, key: Option<&str>) -> Value {
        let mut v = ModelResource.schema().block.null_object();
        v.set("model_name", Value::string("claude-sonnet"));
        v.set("model", Value::string(model));
        v.set("api_key", Value::opt_string(key));
        v
    }

    #[test]
    fn upstream_key_required_unless_keyless() {
        let mut d = Diagnostics::new();
        ModelResource.validate(&config("anthropic/claude-sonnet-4", None), &mut d);
        assert!(
            d.has_errors() && format!("{d:?}").contains("api_key"),
            "{d:?}"
        );
        let mut d = Diagnostics::new();
        ModelResource.validate(&config("gpt-4o-mini", None), &mut d);
        assert!(d.has_errors(), "openai needs a key: {d:?}");
        let mut d = Diagnostics::new();
        ModelResource.validate(&config("ollama/llama3", None), &mut d);
        assert!(!d.has_errors(), "{d:?}");
        let mut d = Diagnostics::new();
        ModelResource.validate(
            &config("anthropic/claude", Some("os.environ/ANTHROPIC_API_KEY")),
            &mut d,
        );
        assert!(!d.has_errors(), "{d:?}");
    }

    #[test]
    fn params_carry_the_key_only_when_asked() {
        let mut c = config("anthropic/claude", Some("sk-ant-x"));
        c.set("rpm", Value::int(60));
        let with = params(&c, true);
        assert_eq!(with["api_key"], "sk-ant-x");
        assert_eq!(with["rpm"], 60);
        assert!(!params(&c, false).contains_key("api_key"));
    }
}
