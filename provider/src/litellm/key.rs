//! `webide_litellm_key`: a LiteLLM virtual key.
//!
//! The provider makes the secret itself (`sk-` + 48 random hex digits) and
//! sends it with `/key/generate`, so a create whose answer was lost is found
//! again by its token instead of being duplicated. Everything but the secret
//! updates in place through `/key/update`, sending only what changed.

use async_trait::async_trait;
use rand::RngCore;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::api::{
    texts, user_metadata, whole, GenerateKeyRequest, KeyFields, LiteLLM_VerificationToken,
};
use super::{normalize_token, token_of};
use crate::framework::model::{answer, body, changed, from_value, to_value, without_nulls};
use crate::framework::validators::{Duration, Integer, NonEmpty, OneOf, Range};
use crate::framework::{ApplyError, ApplyResult, PlanContext, Resource};
use crate::http::{CreateTarget, Ownership};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

/// The `GenerateKeyRequest` fields the provider manages (an error naming one points at the
/// attribute of that name).
pub const FIELDS: &[&str] = &[
    "key_alias",
    "models",
    "max_budget",
    "budget_duration",
    "tpm_limit",
    "rpm_limit",
    "max_parallel_requests",
    "metadata",
    "user_id",
    "team_id",
    "blocked",
    "allowed_routes",
    "key_type",
];

/// Fields of a key row a refresh reads (a batched listing must carry them all).
const READ_FIELDS: &[&str] = &[
    "key_alias",
    "models",
    "max_budget",
    "budget_duration",
    "tpm_limit",
    "rpm_limit",
    "max_parallel_requests",
    "metadata",
    "user_id",
    "team_id",
    "blocked",
    "allowed_routes",
    "key_type",
    "key_name",
    "expires",
];

const BLOCKED: bool = false;

/// Plan and state of `webide_litellm_key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct KeyModel {
    id: Option<String>,
    key: Option<String>,
    key_name: Option<String>,
    key_alias: Option<String>,
    models: Vec<String>,
    metadata: BTreeMap<String, String>,
    user_id: Option<String>,
    allowed_routes: Option<Vec<String>>,
    key_type: Option<String>,
    team_id: Option<String>,
    duration: Option<String>,
    expires: Option<String>,
    blocked: bool,
    max_budget: Option<serde_json::Number>,
    budget_duration: Option<String>,
    tpm_limit: Option<i64>,
    rpm_limit: Option<i64>,
    max_parallel_requests: Option<i64>,
}

impl KeyModel {
    /// What an import starts from, before the key is read.
    fn imported(key: Option<String>) -> KeyModel {
        KeyModel {
            id: None,
            key,
            key_name: None,
            key_alias: None,
            models: Vec::new(),
            metadata: BTreeMap::new(),
            user_id: None,
            allowed_routes: None,
            key_type: None,
            team_id: None,
            duration: None,
            expires: None,
            blocked: BLOCKED,
            max_budget: None,
            budget_duration: None,
            tpm_limit: None,
            rpm_limit: None,
            max_parallel_requests: None,
        }
    }

    /// The `/key/generate` and `/key/update` fields of this plan.
    fn fields(&self) -> KeyFields {
        KeyFields {
            key_alias: self.key_alias.clone(),
            models: self.models.clone(),
            max_budget: self.max_budget.clone(),
            budget_duration: self.budget_duration.clone(),
            tpm_limit: self.tpm_limit,
            rpm_limit: self.rpm_limit,
            max_parallel_requests: self.max_parallel_requests,
            metadata: self.metadata.clone(),
            user_id: self.user_id.clone(),
            team_id: self.team_id.clone(),
            blocked: self.blocked,
            allowed_routes: self.allowed_routes.clone(),
            key_type: self.key_type.clone(),
            duration: self.duration.clone(),
        }
    }
}

fn key_row(j: &Json) -> Result<LiteLLM_VerificationToken, Diagnostics> {
    answer("LiteLLM key", j)
}

/// The `/key/generate` body: the planned fields (nulls left to LiteLLM) and the secret.
fn create_body(plan: &KeyModel, secret: &str) -> Json {
    without_nulls(body(&GenerateKeyRequest {
        key: secret.to_string(),
        fields: plan.fields(),
    }))
}

/// LiteLLM's `key_type` presets (`handle_key_type`, key_management_endpoints.py).
pub const KEY_TYPES: &[&str] = &["llm_api", "management", "read_only", "default"];

pub struct KeyResource;

/// Attributes shared with the data source.
pub fn limit_attributes(block: Block, computed_only: bool) -> Block {
    let opt = |a: Attribute| {
        if computed_only {
            a.computed()
        } else {
            a.optional()
        }
    };
    block
        .attr(opt(Attribute::number("max_budget").describe("Hard budget in USD; null = unlimited.")).validate(Range { min: 0.0, max: None }))
        .attr(opt(Attribute::string("budget_duration").describe("Budget reset period, e.g. `30d`.")).validate(Duration))
        .attr(opt(Attribute::number("tpm_limit").describe("Tokens per minute.")).validate(Range { min: 0.0, max: None }).validate(Integer))
        .attr(opt(Attribute::number("rpm_limit").describe("Requests per minute.")).validate(Range { min: 0.0, max: None }).validate(Integer))
        .attr(
            opt(Attribute::number("max_parallel_requests").describe("Concurrent requests allowed."))
                .validate(Range { min: 0.0, max: None })
                .validate(Integer),
        )
}

impl KeyResource {
    fn client<'a>(&self, c: &'a Clients) -> Result<&'a super::Client, Diagnostics> {
        c.litellm.get()
    }
}

/// State from an API row, keeping what the API cannot return (secret, duration).
/// `metadata` shows the user's entries only (see [`super::PROXY_METADATA_KEYS`]): those the
/// proxy keeps there itself are left out unless `base` (state or plan) has them.
fn state_from_api(base: &KeyModel, row: &LiteLLM_VerificationToken, token: &str) -> KeyModel {
    KeyModel {
        id: Some(token.to_string()),
        key_alias: row.key_alias.clone(),
        models: texts(&row.models),
        max_budget: row.max_budget.clone(),
        budget_duration: row.budget_duration.clone(),
        tpm_limit: whole(&row.tpm_limit),
        rpm_limit: whole(&row.rpm_limit),
        max_parallel_requests: whole(&row.max_parallel_requests),
        metadata: user_metadata(&row.metadata, &base.metadata),
        user_id: row.user_id.clone(),
        team_id: row.team_id.clone(),
        blocked: row.blocked.unwrap_or(false),
        allowed_routes: Some(texts(&row.allowed_routes)),
        key_type: row.key_type.clone(),
        key_name: row.key_name.clone(),
        expires: row.expires.clone(),
        ..base.clone()
    }
}

/// A new key secret: `sk-` and 48 random hex digits.
pub(super) fn new_secret() -> String {
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    format!("sk-{}", hex::encode(b))
}

fn api_error(action: &str, e: crate::http::ApiError) -> Diagnostics {
    let path = match e
        .body()
        .and_then(|b| b.pointer("/error/param"))
        .and_then(Json::as_str)
    {
        Some(p) if FIELDS.contains(&p) => Some(AttrPath::root(p)),
        _ => None,
    };
    let summary = format!("Could not {action} the LiteLLM key");
    match path {
        Some(p) => Diagnostics::attr_error(p, summary, e.to_string()),
        None => Diagnostics::error(summary, e.to_string()),
    }
}

#[async_trait]
impl Resource<Clients> for KeyResource {
    fn type_name(&self) -> &'static str {
        "webide_litellm_key"
    }

    fn schema(&self) -> Schema {
        let block = Block::new(
            "A LiteLLM virtual key. The secret is generated by the provider and only kept in state (sensitive). \
             Changing limits, metadata, models, alias, owner or `blocked` updates the key in place; the secret never changes.",
        )
        .attr(Attribute::string("id").computed().use_state_for_unknown().describe("Token id: the SHA-256 of the key, as LiteLLM stores it. Not a secret; used for import."))
        .attr(Attribute::string("key").computed().sensitive().use_state_for_unknown().describe("The secret key (`sk-...`). Unknown after an import by token id; import by the key itself to keep it."))
        .attr(Attribute::string("key_name").computed().use_state_for_unknown().describe("Abbreviated key LiteLLM shows (`sk-...abcd`)."))
        .attr(Attribute::string("key_alias").optional().validate(crate::framework::validators::NoControlChars).describe("Human name; unique across all keys.").validate(NonEmpty).validate(super::names::KeyAliasFormat))
        .attr(Attribute::string_list("models").default(Value::List(vec![])).validate(super::names::ModelNames).describe("Models the key may use; empty = all."))
        .attr(Attribute::string_map("metadata").default(Value::Map(Default::default())).describe("Free-form metadata, e.g. `enforcement_level`. Changes update the key in place. Entries LiteLLM keeps in metadata itself (per-model limits, `tags`, `temp_budget_*`, ...) are not shown unless set here, and are kept when this map changes."))
        .attr(Attribute::string("user_id").optional().computed().use_state_for_unknown().describe("Owning LiteLLM user. When the provider connects with a key that is not the master key, LiteLLM makes the key its caller's own: leave this unset (it is read back) or set the caller's user."))
        .attr(Attribute::string_list("allowed_routes").optional().computed().use_state_for_unknown().describe("Routes the key may call (LiteLLM `allowed_routes`): exact paths (`/key/generate`), prefixes ending in `*`, or route groups (`llm_api_routes`, `info_routes`, ...). Only the master key may set them; a narrower key picks a preset with `key_type`. Unset: what LiteLLM stores (empty = every route its role allows, or the preset of `key_type`)."))
        .attr(Attribute::string("key_type").optional().requires_replace().validate(OneOf(KEY_TYPES)).describe("LiteLLM preset of allowed routes, set at creation: `llm_api` (model calls only), `read_only`, `management` (master key only), `default`. A workspace key made by a provisioning key should be `llm_api`, so it cannot make keys itself. Changing it makes a new key."))
        .attr(Attribute::string("team_id").optional().describe("Owning team (`webide_litellm_team.id`). A team's keys are used and made by its members, so when both `user_id` and `team_id` are set the provider first adds the user to the team as a member (at creation and on a team change; a member already in is left as is)."))
        .attr(Attribute::string("duration").optional().describe("Lifetime from creation (or from the last change of this value), e.g. `30d`; null = never expires.").validate(Duration))
        .attr(Attribute::string("expires").computed().use_state_for_unknown().describe("Expiry time (RFC 3339) or null."))
        .attr(Attribute::bool("blocked").default(BLOCKED).describe("A blocked key is refused by the proxy."));
        Schema::new(0, limit_attributes(block, false))
    }

    async fn modify_plan(
        &self,
        _data: Option<&Clients>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        if !ctx.is_create() && ctx.changed("duration") {
            ctx.set_unknown("expires");
        }
        Ok(())
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let client = self.client(data)?;
        let schema = self.schema();
        let plan: KeyModel = from_value(plan)?;
        let secret = new_secret();
        let token = token_of(&secret);
        let request = create_body(&plan, &secret);
        // A key's user makes keys for the team (a provisioning key) only as a member of it.
        if let (Some(team), Some(user)) = (&plan.team_id, &plan.user_id) {
            client
                .add_team_member(team, user)
                .await
                .map_err(|e| api_error("add the key's user to its team for", e))?;
        }
        let base = KeyModel {
            key: Some(secret.clone()),
            ..plan.clone()
        };
        // The secret is generated here, so a key found by its token after a lost answer is
        // provably this create's; a key found only by its alias is someone else's.
        let alias = plan.key_alias.clone();
        let key = match &alias {
            Some(a) => format!("key_alias {a:?}"),
            None => "the same key".to_string(),
        };
        let (row, _) = crate::http::create_once(
            CreateTarget::new("litellm", "webide_litellm_key", key),
            || async { client.generate(&request).await.map(|r| (r, None)) },
            || async {
                if let Some(r) = client.key_info(&token).await? {
                    return Ok(Some((r, None)));
                }
                let Some(a) = &alias else { return Ok(None) };
                let other = client.keys_with_alias(a).await?.into_iter().next();
                Ok(other.map(|t| (Json::Null, Some(t))))
            },
            |(_, foreign): &(Json, Option<String>), _| match foreign {
                None => Ownership::Ours,
                Some(t) => Ownership::Foreign {
                    import_id: t.clone(),
                },
            },
        )
        .await
        .map_err(|e| api_error("create", e))?;
        let mut state = state_from_api(&base, &key_row(&row)?, &token);
        // /key/generate answers with the request echoed; read the stored row.
        match client.key_info(&token).await {
            Ok(Some(info)) => state = state_from_api(&state, &key_row(&info)?, &token),
            Ok(None) => {}
            Err(e) => {
                return Err(ApplyError::with_state(
                    api_error("read back", e),
                    to_value(&state, &schema),
                ))
            }
        }
        Ok(to_value(&state, &schema))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = self.client(data)?;
        let state: KeyModel = from_value(state)?;
        let Some(token) = state.id.clone() else {
            return Ok(None);
        };
        // Batched: answered from one /key/list per refresh when the key is listed in full.
        let row = client
            .key_row_batched(&token, READ_FIELDS)
            .await
            .map_err(|e| api_error("read", e))?;
        match row {
            Some(row) => Ok(Some(to_value(
                &state_from_api(&state, &key_row(&row)?, &token),
                &self.schema(),
            ))),
            None => Ok(None),
        }
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let client = self.client(data)?;
        let prior: KeyModel = from_value(prior)?;
        let plan: KeyModel = from_value(plan)?;
        let token = prior.id.clone().unwrap_or_default();
        let mut body = changed(&prior.fields(), &plan.fields());
        if let Some(sent) = body.get("metadata").cloned() {
            // /key/update replaces metadata: keep what the proxy keeps there itself.
            let server = client
                .key_info(&token)
                .await
                .map_err(|e| api_error("read", e))?;
            body.insert(
                "metadata".into(),
                super::metadata_to_send(&sent, server.as_ref()),
            );
        }
        // LiteLLM refuses to move a key into a team its user is not a member of
        // (`validate_key_team_change`, key_management_endpoints.py: 403 "User=... is not a
        // member of the team"), and checks the user the key has before the update. So the
        // planned user joins the new team first, and a changed user is set before the team.
        if let Some(team) = body
            .get("team_id")
            .and_then(Json::as_str)
            .map(str::to_owned)
        {
            if let Some(user) = &plan.user_id {
                client
                    .add_team_member(&team, user)
                    .await
                    .map_err(|e| api_error("add the key's user to its new team for", e))?;
            }
            if body.contains_key("user_id") {
                let mut first = body.clone();
                first.remove("team_id");
                first.insert("key".into(), Json::String(token.clone()));
                client
                    .update_key(&Json::Object(first))
                    .await
                    .map_err(|e| api_error("update", e))?;
                body = [("team_id".to_string(), Json::String(team))]
                    .into_iter()
                    .collect();
            }
        }
        if !body.is_empty() {
            body.insert("key".into(), Json::String(token.clone()));
            client
                .update_key(&Json::Object(body))
                .await
                .map_err(|e| api_error("update", e))?;
        }
        match client
            .key_info(&token)
            .await
            .map_err(|e| api_error("read back", e))?
        {
            Some(row) => Ok(to_value(
                &state_from_api(&plan, &key_row(&row)?, &token),
                &self.schema(),
            )),
            None => Err(Diagnostics::error(
                "LiteLLM key vanished during update",
                format!("token {token}"),
            )
            .into()),
        }
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let client = self.client(data)?;
        if let Some(token) = from_value::<KeyModel>(state)?.id {
            client
                .delete_key(&token)
                .await
                .map_err(|e| api_error("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let client = self.client(data)?;
        let token = normalize_token(id.trim());
        let row = client
            .key_info(&token)
            .await
            .map_err(|e| api_error("import", e))?
            .filter(|r| r.get("status").and_then(Json::as_str) != Some("deleted"))
            .ok_or_else(|| {
                Diagnostics::error(
                    "LiteLLM key not found",
                    format!("no key with token id {token}; import by the token id (id attribute) or by the key itself"),
                )
            })?;
        let secret = id.trim().starts_with("sk-").then(|| id.trim().to_string());
        Ok(to_value(
            &state_from_api(&KeyModel::imported(secret), &key_row(&row)?, &token),
            &self.schema(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;
    use serde_json::json;

    /// A `LiteLLM_VerificationToken` row as /key/info answers it (litellm-openapi-1.106.2.json).
    fn key_info() -> Json {
        json!({
            "token": "5f0c1e0b9a8d7c6b5a4f3e2d1c0b9a8d7c6b5a4f3e2d1c0b9a8d7c6b5a4f3e2d",
            "key_name": "sk-...abcd", "key_alias": "ws-alice", "spend": 0.0, "max_budget": 10,
            "expires": "2027-01-01T00:00:00Z", "models": ["gpt-4o"], "aliases": {}, "config": {},
            "user_id": "alice", "team_id": null, "max_parallel_requests": null,
            "metadata": {"enforcement_level": "strict", "tags": ["x"]}, "tpm_limit": 1000.0,
            "rpm_limit": 60, "budget_duration": "30d", "allowed_routes": ["llm_api_routes"],
            "key_type": "llm_api", "permissions": {}, "blocked": null
        })
    }

    #[test]
    fn model_matches_schema() {
        assert_model::<KeyModel>(&KeyResource.schema());
        let fields = body(&KeyModel::imported(None).fields());
        let mut names: Vec<&str> = fields
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.retain(|n| *n != "duration");
        let mut expected = FIELDS.to_vec();
        names.sort();
        expected.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn state_from_key_info() {
        let base = KeyModel {
            key: Some("sk-secret".into()),
            duration: Some("30d".into()),
            ..KeyModel::imported(None)
        };
        let s = state_from_api(&base, &key_row(&key_info()).unwrap(), "tok");
        assert_eq!(s.id.as_deref(), Some("tok"));
        assert_eq!(s.key.as_deref(), Some("sk-secret"));
        assert_eq!(s.duration.as_deref(), Some("30d"));
        assert_eq!(s.tpm_limit, Some(1000));
        assert_eq!(s.rpm_limit, Some(60));
        assert!(!s.blocked, "null blocked is false");
        assert_eq!(s.allowed_routes, Some(vec!["llm_api_routes".to_string()]));
        // `tags` is kept by the proxy itself: hidden.
        assert_eq!(
            s.metadata,
            BTreeMap::from([("enforcement_level".to_string(), "strict".to_string())])
        );
        let v = to_value(&s, &KeyResource.schema());
        assert_eq!(v.get("max_budget"), &Value::int(10));
        assert_eq!(v.get("key_name").as_str(), Some("sk-...abcd"));
    }

    #[test]
    fn bodies() {
        let plan = KeyModel {
            key_alias: Some("ws-alice".into()),
            user_id: Some("alice".into()),
            max_budget: Some(serde_json::Number::from_f64(2.5).unwrap()),
            ..KeyModel::imported(None)
        };
        assert_eq!(
            create_body(&plan, "sk-new"),
            json!({"key": "sk-new", "key_alias": "ws-alice", "models": [], "max_budget": 2.5,
                   "metadata": {}, "user_id": "alice", "blocked": false})
        );
        let next = KeyModel {
            max_budget: None,
            duration: Some("7d".into()),
            ..plan.clone()
        };
        assert_eq!(
            Json::Object(changed(&plan.fields(), &next.fields())),
            json!({"max_budget": null, "duration": "7d"})
        );
    }
}
