//! `webide_litellm_team`: a LiteLLM team (shared budget and model list for keys).

use async_trait::async_trait;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::api::{
    texts, user_metadata, whole, LiteLLM_TeamTable, NewTeamRequest, TeamFields,
    UpdateTeamMemberPermissionsRequest,
};
use super::key::limit_attributes;
use crate::framework::model::{answer, body, changed, from_value, to_value, without_nulls};
use crate::framework::validators::NonEmpty;
use crate::framework::{ApplyError, ApplyResult, PlanContext, Resource};
use crate::http::{CreateTarget, Ownership};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

const BLOCKED: bool = false;

/// Plan and state of `webide_litellm_team`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TeamModel {
    id: Option<String>,
    team_alias: String,
    models: Vec<String>,
    metadata: BTreeMap<String, String>,
    blocked: bool,
    team_member_permissions: Vec<String>,
    max_budget: Option<serde_json::Number>,
    budget_duration: Option<String>,
    tpm_limit: Option<i64>,
    rpm_limit: Option<i64>,
    max_parallel_requests: Option<i64>,
}

impl TeamModel {
    /// What an import starts from, before the team is read.
    fn imported(id: &str) -> TeamModel {
        TeamModel {
            id: Some(id.into()),
            team_alias: String::new(),
            models: Vec::new(),
            metadata: BTreeMap::new(),
            blocked: BLOCKED,
            team_member_permissions: Vec::new(),
            max_budget: None,
            budget_duration: None,
            tpm_limit: None,
            rpm_limit: None,
            max_parallel_requests: None,
        }
    }

    /// The `/team/new` and `/team/update` fields of this plan.
    fn fields(&self) -> TeamFields {
        TeamFields {
            team_alias: self.team_alias.clone(),
            models: self.models.clone(),
            max_budget: self.max_budget.clone(),
            budget_duration: self.budget_duration.clone(),
            tpm_limit: self.tpm_limit,
            rpm_limit: self.rpm_limit,
            max_parallel_requests: self.max_parallel_requests,
            metadata: self.metadata.clone(),
            blocked: self.blocked,
        }
    }

    fn permissions(&self) -> UpdateTeamMemberPermissionsRequest {
        UpdateTeamMemberPermissionsRequest {
            team_member_permissions: self.team_member_permissions.clone(),
        }
    }
}

pub struct TeamResource;

/// A random UUID v4 for a new team (the provider chooses team ids: a create whose answer is
/// lost is then found by its id).
fn new_team_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn team_row(j: &Json) -> Result<LiteLLM_TeamTable, Diagnostics> {
    answer("LiteLLM team", j)
}

/// State from a team row. `metadata` shows the user's entries only (see
/// [`super::PROXY_METADATA_KEYS`]).
fn state_from_api(base: &TeamModel, row: &LiteLLM_TeamTable, id: &str) -> TeamModel {
    TeamModel {
        id: Some(id.to_string()),
        team_alias: row
            .team_alias
            .clone()
            .unwrap_or_else(|| base.team_alias.clone()),
        models: texts(&row.models),
        metadata: user_metadata(&row.metadata, &base.metadata),
        blocked: row.blocked.unwrap_or(false),
        team_member_permissions: texts(&row.team_member_permissions),
        max_budget: row.max_budget.clone(),
        budget_duration: row.budget_duration.clone(),
        tpm_limit: whole(&row.tpm_limit),
        rpm_limit: whole(&row.rpm_limit),
        max_parallel_requests: whole(&row.max_parallel_requests),
    }
}

/// The `/team/new` body: the planned fields (nulls left to LiteLLM) under the id `team_id`.
fn create_body(plan: &TeamModel, team_id: &str) -> Json {
    without_nulls(body(&NewTeamRequest {
        team_id: team_id.to_string(),
        fields: plan.fields(),
        team_member_permissions: plan.team_member_permissions.clone(),
    }))
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
                        .default(BLOCKED)
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
        let schema = self.schema();
        let plan: TeamModel = from_value(plan)?;
        // The provider chooses the team id (a UUID, as LiteLLM would), so a team found under
        // it after a lost answer is provably this create's. LiteLLM allows two teams with one
        // alias: a team already holding the alias is checked before creating and never
        // adopted unless it carries this id.
        let team_id = new_team_id();
        let request = create_body(&plan, &team_id);
        let alias = plan.team_alias.clone();
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
            || client.new_team(&request),
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
        let row = team_row(&row)?;
        let id = row.team_id.clone().ok_or_else(|| {
            Diagnostics::error(
                "LiteLLM answered /team/new without team_id",
                format!("team_alias {alias:?}"),
            )
        })?;
        let state = state_from_api(&plan, &row, &id);
        match client.team_info(&id).await {
            Ok(Some(info)) => Ok(to_value(
                &state_from_api(&state, &team_row(&info)?, &id),
                &schema,
            )),
            Ok(None) => Ok(to_value(&state, &schema)),
            Err(e) => Err(ApplyError::with_state(
                api_error("read back", e),
                to_value(&state, &schema),
            )),
        }
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = data.litellm.get()?;
        let state: TeamModel = from_value(state)?;
        let Some(id) = state.id.clone() else {
            return Ok(None);
        };
        let info = client
            .team_info(&id)
            .await
            .map_err(|e| api_error("read", e))?;
        match info {
            Some(row) => Ok(Some(to_value(
                &state_from_api(&state, &team_row(&row)?, &id),
                &self.schema(),
            ))),
            None => Ok(None),
        }
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let client = data.litellm.get()?;
        let prior: TeamModel = from_value(prior)?;
        let plan: TeamModel = from_value(plan)?;
        let id = prior.id.clone().unwrap_or_default();
        let mut body = changed(&prior.fields(), &plan.fields());
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
        let mut perms = changed(&prior.permissions(), &plan.permissions());
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
            Some(row) => Ok(to_value(
                &state_from_api(&plan, &team_row(&row)?, &id),
                &self.schema(),
            )),
            None => Err(Diagnostics::error(
                "LiteLLM team vanished during update",
                format!("team {id}"),
            )
            .into()),
        }
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let client = data.litellm.get()?;
        if let Some(id) = from_value::<TeamModel>(state)?.id {
            client
                .delete_team(&id)
                .await
                .map_err(|e| api_error("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let client = data.litellm.get()?;
        let id = id.trim();
        let row = client
            .team_info(id)
            .await
            .map_err(|e| api_error("import", e))?
            .ok_or_else(|| {
                Diagnostics::error("LiteLLM team not found", format!("no team with id {id}"))
            })?;
        Ok(to_value(
            &state_from_api(&TeamModel::imported(id), &team_row(&row)?, id),
            &self.schema(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;
    use serde_json::json;

    /// A `LiteLLM_TeamTable` row as /team/info answers it (litellm-openapi-1.106.2.json).
    fn team_info() -> Json {
        json!({
            "team_alias": "platform", "team_id": "0f6b1d3e-1111-4a2b-9c3d-0123456789ab",
            "organization_id": null, "admins": [], "members": [],
            "members_with_roles": [{"role": "admin", "user_id": "alice"}],
            "team_member_permissions": ["/key/generate"],
            "metadata": {"enforcement_level": "strict", "tier": 2, "team_member_budget_id": "b1"},
            "tpm_limit": 1000, "rpm_limit": null, "max_budget": 25.5, "budget_duration": "30d",
            "models": ["gpt-4o"], "blocked": false, "spend": 0.0, "max_parallel_requests": null,
            "budget_reset_at": null, "model_id": null
        })
    }

    #[test]
    fn model_matches_schema() {
        assert_model::<TeamModel>(&TeamResource.schema());
    }

    #[test]
    fn state_from_team_info() {
        let s = state_from_api(
            &TeamModel::imported("x"),
            &team_row(&team_info()).unwrap(),
            "0f6b1d3e-1111-4a2b-9c3d-0123456789ab",
        );
        assert_eq!(s.team_alias, "platform");
        assert_eq!(s.tpm_limit, Some(1000));
        assert_eq!(s.rpm_limit, None);
        assert_eq!(s.models, ["gpt-4o"]);
        assert_eq!(s.team_member_permissions, ["/key/generate"]);
        // Proxy-kept entries are hidden; other values shown as JSON text.
        assert_eq!(
            s.metadata,
            BTreeMap::from([
                ("enforcement_level".to_string(), "strict".to_string()),
                ("tier".to_string(), "2".to_string())
            ])
        );
        let v = to_value(&s, &TeamResource.schema());
        assert_eq!(v.get("max_budget").as_f64(), Some(25.5));
        assert_eq!(v.get("blocked"), &Value::Bool(false));
    }

    #[test]
    fn bodies() {
        let mut plan = TeamModel::imported("x");
        plan.team_alias = "platform".into();
        plan.max_budget = Some(100.into());
        plan.metadata.insert("tier".into(), "2".into());
        assert_eq!(
            create_body(&plan, "tid"),
            json!({"team_id": "tid", "team_alias": "platform", "models": [], "max_budget": 100,
                   "metadata": {"tier": "2"}, "blocked": false, "team_member_permissions": []})
        );
        let mut next = plan.clone();
        next.max_budget = None;
        next.blocked = true;
        assert_eq!(
            Json::Object(changed(&plan.fields(), &next.fields())),
            json!({"max_budget": null, "blocked": true})
        );
        assert!(changed(&plan.permissions(), &next.permissions()).is_empty());
    }
}
