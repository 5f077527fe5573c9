//! `webide_litellm_team`: a LiteLLM team (shared budget and model list for keys).

use async_trait::async_trait;
use serde_json::{Map, Value as Json};

use super::key::limit_attributes;
use crate::framework::mapping::{self, field, Field, Kind};
use crate::framework::validators::NonEmpty;
use crate::framework::{ApplyError, ApplyResult, PlanContext, Resource};
use crate::http::{CreateTarget, Ownership};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

const FIELDS: &[Field] = &[
    field("team_alias", Kind::Str),
    field("models", Kind::ListEmpty),
    field("max_budget", Kind::Num),
    field("budget_duration", Kind::Str),
    field("tpm_limit", Kind::Int),
    field("rpm_limit", Kind::Int),
    field("max_parallel_requests", Kind::Int),
    field("metadata", Kind::MapEmpty),
    field("blocked", Kind::FlagFalse),
];

/// Set by `/team/new` and `/team/permissions_update` (not a `/team/update` field).
const PERMISSIONS: &[Field] = &[field("team_member_permissions", Kind::ListEmpty)];

pub struct TeamResource;

/// A random UUID v4 for a new team (the provider chooses team ids: a create whose answer is
/// lost is then found by its id).
fn new_team_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `metadata` shows the user's entries only (see [`super::PROXY_METADATA_KEYS`]).
fn state_from_api(base: &Value, row: &Json, id: &str) -> Value {
    let mut s = base.clone();
    s.set("id", Value::string(id));
    let row = &super::user_metadata_view(row, base.get("metadata"));
    mapping::fill(FIELDS, row, &mut s);
    mapping::fill(PERMISSIONS, row, &mut s);
    s
}

fn api_error(action: &str, e: crate::http::ApiError) -> Diagnostics {
    Diagnostics::error(
        format!("Could not {action} the LiteLLM team"),
        e.to_string(),
    )
}

#[async_trait]
impl Resource<Clients> for TeamResource {
    fn type_name(&self) -> &'static str {
        "webide_litellm_team"
    }

    fn schema(&self) -> Schema {
        let block =
            Block::new("A LiteLLM team: a budget and model list shared by the keys that name it.")
                .attr(
                    Attribute::string("id")
                        .computed()
                        .use_state_for_unknown()
                        .describe("Team id: a UUID the provider chooses at create, so a create whose answer is lost is recognised by it."),
                )
                .attr(
                    Attribute::string("team_alias")
                        .required()
                        .describe("Team name. LiteLLM accepts several teams with one alias; two teams of one configuration with the same alias are refused at plan.")
                        .validate(NonEmpty)
                        .validate(crate::framework::validators::NoControlChars),
                )
                .attr(
                    Attribute::string_list("models")
                        .default(Value::List(vec![]))
                        .validate(super::names::ModelNames)
                        .describe("Models members may use; empty = all."),
                )
                .attr(
                    Attribute::string_map("metadata")
                        .default(Value::Map(Default::default()))
                        .describe("Free-form metadata. Entries LiteLLM keeps in metadata itself (per-member budget id, per-model limits, ...) are not shown unless set here, and are kept when this map changes."),
                )
                .attr(
                    Attribute::bool("blocked")
                        .default(false)
                        .describe("Block every key of the team."),
                )
                .attr(
                    Attribute::string_list("team_member_permissions")
                        .default(Value::List(vec![]))
                        .describe("Key-management routes the team's plain members (role `user`) may call for the team's keys, e.g. `/key/generate`, `/key/update`, `/key/delete`; `/key/info` and `/key/health` are always allowed. Team admins need none. Changes go through `/team/permissions_update`."),
                );
        Schema::new(0, limit_attributes(block, false))
    }

    /// LiteLLM accepts any number of teams with one alias (keys refuse it), so two teams of one
    /// configuration with the same alias would silently make two teams: refused at plan when
    /// this team is new or takes the alias, a warning when both already exist. Counted per
    /// run (a configure starts one); aliases not known yet are not counted.
    async fn modify_plan(
        &self,
        data: Option<&Clients>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        let Some(alias) = ctx.planned.get("team_alias").as_str().map(str::to_owned) else {
            return Ok(());
        };
        let Some(client) = data.and_then(|d| d.litellm.get().ok()) else {
            return Ok(());
        };
        if client.plan_team_alias(&alias) == 0 {
            return Ok(());
        }
        let summary = "Duplicate LiteLLM team alias";
        let detail = format!(
            "another webide_litellm_team in this configuration has team_alias {alias:?}; LiteLLM \
             would keep two teams under one name. Give each team its own alias."
        );
        if ctx.is_create() || ctx.changed("team_alias") {
            return Err(Diagnostics::attr_error(
                AttrPath::root("team_alias"),
                summary,
                detail,
            ));
        }
        ctx.diags.push_warning(summary, detail);
        Ok(())
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let client = data.litellm.get()?;
        let mut body: Map<String, Json> = mapping::body(FIELDS, plan);
        body.extend(mapping::body(PERMISSIONS, plan));
        body.retain(|_, v| !v.is_null());
        // The provider chooses the team id (a UUID, as LiteLLM would), so a team found under
        // it after a lost answer is provably this create's. LiteLLM allows two teams with one
        // alias: a team already holding the alias is checked before creating and never
        // adopted unless it carries this id.
        let team_id = new_team_id();
        body.insert("team_id".into(), Json::String(team_id.clone()));
        let alias = plan
            .get("team_alias")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let body = Json::Object(body);
        let target = CreateTarget {
            check_first: true,
            ..CreateTarget::new(
                "litellm",
                "webide_litellm_team",
                format!("team_alias {alias:?}"),
            )
        };
        let row = crate::http::create_once(
            target,
            || client.new_team(&body),
            || async {
                if let Some(t) = client.team_info(&team_id).await? {
                    return Ok(Some(t));
                }
                Ok(client.teams_with_alias(&alias).await?.into_iter().next())
            },
            |t, _| match t.get("team_id").and_then(Json::as_str) {
                Some(id) if id == team_id => Ownership::Ours,
                other => Ownership::Foreign {
                    import_id: other.unwrap_or_default().to_string(),
                },
            },
        )
        .await
        .map_err(|e| api_error("create", e))?;
        let id = row
            .get("team_id")
            .and_then(Json::as_str)
            .ok_or_else(|| {
                Diagnostics::error(
                    "LiteLLM answered /team/new without team_id",
                    row.to_string(),
                )
            })?
            .to_string();
        let state = state_from_api(plan, &row, &id);
        match client.team_info(&id).await {
            Ok(Some(info)) => Ok(state_from_api(&state, &info, &id)),
            Ok(None) => Ok(state),
            Err(e) => Err(ApplyError::with_state(api_error("read back", e), state)),
        }
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = data.litellm.get()?;
        let Some(id) = state.get("id").as_str() else {
            return Ok(None);
        };
        let info = client
            .team_info(id)
            .await
            .map_err(|e| api_error("read", e))?;
        Ok(info.map(|row| state_from_api(state, &row, id)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let client = data.litellm.get()?;
        let id = prior.get("id").as_str().unwrap_or_default().to_string();
        let mut body = mapping::changes(FIELDS, prior, plan);
        if let Some(sent) = body.get("metadata").cloned() {
            // /team/update replaces metadata: keep what the proxy keeps there itself.
            let server = client
                .team_info(&id)
                .await
                .map_err(|e| api_error("read", e))?;
            body.insert(
                "metadata".into(),
                super::metadata_to_send(&sent, server.as_ref()),
            );
        }
        if !body.is_empty() {
            body.insert("team_id".into(), Json::String(id.clone()));
            client
                .update_team(&Json::Object(body))
                .await
                .map_err(|e| api_error("update", e))?;
        }
        let mut perms = mapping::changes(PERMISSIONS, prior, plan);
        if !perms.is_empty() {
            perms.insert("team_id".into(), Json::String(id.clone()));
            client
                .update_team_permissions(&Json::Object(perms))
                .await
                .map_err(|e| api_error("update the member permissions of", e))?;
        }
        match client
            .team_info(&id)
            .await
            .map_err(|e| api_error("read back", e))?
        {
            Some(row) => Ok(state_from_api(plan, &row, &id)),
            None => Err(Diagnostics::error(
                "LiteLLM team vanished during update",
                format!("team {id}"),
            )
            .into()),
        }
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let client = data.litellm.get()?;
        if let Some(id) = state.get("id").as_str() {
            client
                .delete_team(id)
                .await
                .map_err(|e| api_error("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let client = data.litellm.get()?;
        let row = client
            .team_info(id.trim())
            .await
            .map_err(|e| api_error("import", e))?
            .ok_or_else(|| {
                Diagnostics::error("LiteLLM team not found", format!("no team with id {id}"))
            })?;
        Ok(state_from_api(
            &self.schema().block.null_object(),
            &row,
            id.trim(),
        ))
    }
}
