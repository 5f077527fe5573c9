//! Data source `webide_litellm_key`: what LiteLLM knows of a key, without the secret.

use async_trait::async_trait;
use serde_json::Value as Json;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::api::{text, texts, whole, LiteLLM_VerificationToken};
use super::key::limit_attributes;
use super::normalize_token;
use crate::framework::model::{answer, from_value, to_value};
use crate::framework::DataSource;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct KeyDataSource;

/// Configuration and result of data source `webide_litellm_key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct KeyDataModel {
    id: Option<String>,
    key_alias: Option<String>,
    key_name: Option<String>,
    models: Vec<String>,
    metadata: BTreeMap<String, String>,
    user_id: Option<String>,
    team_id: Option<String>,
    expires: Option<String>,
    blocked: bool,
    allowed_routes: Vec<String>,
    key_type: Option<String>,
    spend: Option<serde_json::Number>,
    max_budget: Option<serde_json::Number>,
    budget_duration: Option<String>,
    tpm_limit: Option<i64>,
    rpm_limit: Option<i64>,
    max_parallel_requests: Option<i64>,
}

/// The result for key `token` from its row: every entry of its metadata (JSON text for
/// non-string values).
fn result_from_api(token: &str, row: &LiteLLM_VerificationToken) -> KeyDataModel {
    KeyDataModel {
        id: Some(token.to_string()),
        key_alias: row.key_alias.clone(),
        key_name: row.key_name.clone(),
        models: texts(&row.models),
        metadata: row
            .metadata
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect(),
        user_id: row.user_id.clone(),
        team_id: row.team_id.clone(),
        expires: row.expires.clone(),
        blocked: row.blocked.unwrap_or(false),
        allowed_routes: texts(&row.allowed_routes),
        key_type: row.key_type.clone(),
        spend: row.spend.clone(),
        max_budget: row.max_budget.clone(),
        budget_duration: row.budget_duration.clone(),
        tpm_limit: whole(&row.tpm_limit),
        rpm_limit: whole(&row.rpm_limit),
        max_parallel_requests: whole(&row.max_parallel_requests),
    }
}

#[async_trait]
impl DataSource<Clients> for KeyDataSource {
    fn type_name(&self) -> &'static str {
        "webide_litellm_key"
    }

    fn schema(&self) -> Schema {
        let block =
            Block::new("Looks up a LiteLLM key by token id or alias. Never returns the secret.")
                .attr(
                    Attribute::string("id")
                        .optional()
                        .computed()
                        .describe("Token id (SHA-256 of the key). Set this or `key_alias`."),
                )
                .attr(
                    Attribute::string("key_alias")
                        .optional()
                        .computed()
                        .describe("Alias to look up."),
                )
                .attr(
                    Attribute::string("key_name")
                        .computed()
                        .describe("Abbreviated key."),
                )
                .attr(Attribute::string_list("models").computed())
                .attr(Attribute::string_map("metadata").computed())
                .attr(Attribute::string("user_id").computed())
                .attr(Attribute::string("team_id").computed())
                .attr(Attribute::string("expires").computed())
                .attr(Attribute::bool("blocked").computed())
                .attr(Attribute::string_list("allowed_routes").computed())
                .attr(Attribute::string("key_type").computed())
                .attr(
                    Attribute::number("spend")
                        .computed()
                        .describe("Spend in USD in the current budget window."),
                );
        Schema::new(0, limit_attributes(block, true))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let (id, alias) = (config.get("id"), config.get("key_alias"));
        if id.is_null() && alias.is_null() {
            diags.push_attr_error(
                AttrPath::root("id"),
                "Missing lookup key",
                "set `id` (token id) or `key_alias`",
            );
        }
    }

    async fn read(&self, data: &Clients, config: &Value) -> Result<Value, Diagnostics> {
        let client = data.litellm.get()?;
        let config: KeyDataModel = from_value(config)?;
        let token = match (&config.id, &config.key_alias) {
            (Some(id), _) => normalize_token(id),
            (None, Some(alias)) => {
                let found = client.keys_with_alias(alias).await.map_err(|e| {
                    Diagnostics::error("Could not list LiteLLM keys", e.to_string())
                })?;
                match found.as_slice() {
                    [one] => one.clone(),
                    [] => {
                        return Err(Diagnostics::attr_error(
                            AttrPath::root("key_alias"),
                            "LiteLLM key not found",
                            format!("no key with alias {alias:?}"),
                        ))
                    }
                    _ => {
                        return Err(Diagnostics::attr_error(
                            AttrPath::root("key_alias"),
                            "Ambiguous alias",
                            format!("{} keys have alias {alias:?}", found.len()),
                        ))
                    }
                }
            }
            _ => {
                return Err(Diagnostics::error(
                    "Missing lookup key",
                    "set `id` or `key_alias`",
                ))
            }
        };
        let row = client
            .key_info(&token)
            .await
            .map_err(|e| Diagnostics::error("Could not read the LiteLLM key", e.to_string()))?
            .filter(|r| r.get("status").and_then(Json::as_str) != Some("deleted"))
            .ok_or_else(|| {
                Diagnostics::error(
                    "LiteLLM key not found",
                    format!("no key with token id {token}"),
                )
            })?;
        let row: LiteLLM_VerificationToken = answer("LiteLLM key", &row)?;
        Ok(to_value(&result_from_api(&token, &row), &self.schema()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;
    use serde_json::json;

    #[test]
    fn result_from_key_info() {
        assert_model::<KeyDataModel>(&KeyDataSource.schema());
        // A `LiteLLM_VerificationToken` row (litellm-openapi-1.106.2.json).
        let row: LiteLLM_VerificationToken = answer(
            "k",
            &json!({"key_name": "sk-...abcd", "key_alias": "ws", "spend": 1.25, "models": null,
                    "metadata": {"tags": ["a"], "owner": "alice"}, "blocked": true,
                    "tpm_limit": 5, "allowed_routes": [], "expires": null}),
        )
        .unwrap();
        let r = result_from_api("tok", &row);
        assert!(r.models.is_empty() && r.blocked);
        assert_eq!(r.metadata["tags"], "[\"a\"]");
        let v = to_value(&r, &KeyDataSource.schema());
        assert_eq!(v.get("spend").as_f64(), Some(1.25));
        assert_eq!(v.get("tpm_limit").as_i64(), Some(5));
        assert_eq!(v.get("id").as_str(), Some("tok"));
    }
}
