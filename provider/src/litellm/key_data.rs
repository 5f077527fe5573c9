//! Data source `webide_litellm_key`: what LiteLLM knows of a key, without the secret.

use async_trait::async_trait;
use serde_json::Value as Json;

use super::key::{limit_attributes, FIELDS};
use super::normalize_token;
use crate::framework::mapping::{self, field, Kind};
use crate::framework::DataSource;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct KeyDataSource;

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
        let token = match (config.get("id").as_str(), config.get("key_alias").as_str()) {
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
        let mut state = config.clone();
        state.set("id", Value::string(&token));
        mapping::fill(FIELDS, &row, &mut state);
        mapping::fill(
            &[
                field("key_name", Kind::Str),
                field("expires", Kind::Str),
                field("spend", Kind::Num),
            ],
            &row,
            &mut state,
        );
        Ok(state)
    }
}
