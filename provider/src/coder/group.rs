//! `webide_coder_group`: a group of users with a workspace quota. Groups are a Premium feature
//! of Coder (enterprise/coderd/coderd.go `RequireFeatureMW(FeatureTemplateRBAC)`): without the
//! licence every group call answers 403, which becomes a diagnostic saying so.

use std::collections::BTreeSet;

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::api::{CreateGroupRequest, Group, PatchGroupRequest};
use super::names::CoderName;
use super::{api_error, canonical_organization, plan_same_organization};
use crate::framework::model::{answer, body, from_value, to_value};
use crate::framework::validators::Range;
use crate::framework::{ApplyError, ApplyResult, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct GroupResource;

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    if e.status() == Some(403) && e.to_string().contains("Premium feature") {
        return Diagnostics::error(
            format!("Could not {action} the Coder group: Coder groups need a Premium licence"),
            format!(
                "{e}\nThis Coder has no licence with the Template RBAC feature, so it serves no groups. \
                 Add a Premium licence (`coder licenses add`), or leave webide_coder_group out of the \
                 configuration (e.g. `count = var.coder_premium ? 1 : 0`)."
            ),
        );
    }
    api_error(
        "group",
        action,
        &["name", "display_name", "quota_allowance"],
        e,
    )
}

const DISPLAY_NAME: &str = "";
const ORGANIZATION: &str = "default";
const QUOTA_ALLOWANCE: i64 = 0;

/// Plan and state of `webide_coder_group`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct GroupModel {
    id: Option<String>,
    name: String,
    display_name: String,
    organization: String,
    organization_id: Option<String>,
    members: Vec<String>,
    quota_allowance: i64,
}

impl GroupModel {
    /// What an import starts from, before the group is read.
    fn imported(organization: String) -> GroupModel {
        GroupModel {
            id: None,
            name: String::new(),
            display_name: DISPLAY_NAME.into(),
            organization,
            organization_id: None,
            members: Vec::new(),
            quota_allowance: QUOTA_ALLOWANCE,
        }
    }
}

fn group(j: &Json) -> Result<Group, Diagnostics> {
    answer("Coder group", j)
}

fn state_from(base: &GroupModel, g: &Group) -> GroupModel {
    let mut s = base.clone();
    s.id.clone_from(&g.id);
    s.organization_id.clone_from(&g.organization_id);
    if let Some(n) = &g.name {
        s.name.clone_from(n);
    }
    s.display_name = g.display_name.clone().unwrap_or_default();
    if let Some(q) = g.quota_allowance {
        s.quota_allowance = q;
    }
    let mut members: Vec<String> = Vec::new();
    for m in g.members.iter().flatten().filter_map(|m| m.id.clone()) {
        if !members.contains(&m) {
            members.push(m);
        }
    }
    s.members = members;
    s
}

fn create_body(plan: &GroupModel) -> CreateGroupRequest {
    CreateGroupRequest {
        name: plan.name.clone(),
        display_name: plan.display_name.clone(),
        quota_allowance: plan.quota_allowance,
    }
}

fn patch_body(prior: &GroupModel, plan: &GroupModel) -> PatchGroupRequest {
    let (want, have): (BTreeSet<&String>, BTreeSet<&String>) = (
        plan.members.iter().collect(),
        prior.members.iter().collect(),
    );
    PatchGroupRequest {
        name: plan.name.clone(),
        display_name: plan.display_name.clone(),
        quota_allowance: plan.quota_allowance,
        add_users: want.difference(&have).map(|s| s.to_string()).collect(),
        remove_users: have.difference(&want).map(|s| s.to_string()).collect(),
    }
}

#[async_trait]
impl Resource<Clients> for GroupResource {
    fn type_name(&self) -> &'static str {
        "webide_coder_group"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("A Coder group: members (user ids) and a workspace quota. **Needs a Coder Premium licence**: Coder serves groups only with the Template RBAC feature; an unlicensed Coder answers 403 (\"Template RBAC is a Premium feature\") and apply fails with a diagnostic saying so. Declare groups only where a licence is installed (e.g. `count = var.coder_premium ? 1 : 0`).")
            .attr(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .describe("Group id. Import id: `organization/name`."),
            )
            .attr(
                Attribute::string("name")
                    .required()
                    .validate(CoderName { group: true })
                    .describe("Group name."),
            )
            .attr(
                Attribute::string("display_name")
                    .default(DISPLAY_NAME)
                    .validate(super::names::CoderDisplayName(64))
                    .describe("Display name."),
            )
            .attr(
                Attribute::string("organization")
                    .default(ORGANIZATION)
                    .requires_replace()
                    .describe("Organization name, id or `default`. `default` and the default organization's real name are the same organization: switching between them (or importing by either) plans no change."),
            )
            .attr(
                Attribute::string("organization_id")
                    .computed()
                    .use_state_for_unknown()
                    .describe("Organization id."),
            )
            .attr(
                Attribute::string_set("members")
                    .default(Value::string_set(Vec::<String>::new()))
                    .describe("Member user ids (`webide_coder_user.id`)."),
            )
            .attr(
                Attribute::number("quota_allowance")
                    .default(QUOTA_ALLOWANCE)
                    .validate(Range {
                        min: 0.0,
                        max: None,
                    })
                    .describe("Workspace quota credits."),
            );
        Schema::new(0, block)
    }

    async fn modify_plan(
        &self,
        data: Option<&Clients>,
        ctx: &mut crate::framework::PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        plan_same_organization(data, ctx).await
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.coder.get()?;
        let schema = self.schema();
        let plan: GroupModel = from_value(plan)?;
        let org_key = plan.organization.as_str();
        let org = c
            .organization(org_key)
            .await
            .map_err(|e| err("find the organization of", e))?
            .ok_or_else(|| {
                Diagnostics::attr_error(
                    AttrPath::root("organization"),
                    "Coder organization not found",
                    org_key.to_string(),
                )
            })?;
        let org_id = org["id"].as_str().unwrap_or_default();
        let name = plan.name.clone();
        let request = body(&create_body(&plan));
        let (create_path, lookup_path) = (
            format!("/organizations/{org_id}/groups"),
            format!("/organizations/{org_id}/groups/{name}"),
        );
        // A group stores no creation time or free-form marker: one found under the name after
        // an unknown outcome is never adopted (the error gives its import command).
        let g = crate::http::create_once(
            CreateTarget::new("coder", "webide_coder_group", format!("name {name:?}")),
            || c.send(Method::POST, &create_path, &request, false),
            || c.get(&lookup_path),
            |_, _| Ownership::Foreign {
                import_id: format!("{org_key}/{name}"),
            },
        )
        .await
        .map_err(|e| err("create", e))?;
        let g = group(&g)?;
        let state = state_from(&plan, &g);
        let id = g.id.clone().unwrap_or_default();
        let g = c
            .send(
                Method::PATCH,
                &format!("/groups/{id}"),
                &body(&patch_body(&state, &plan)),
                true,
            )
            .await
            .map_err(|e| {
                ApplyError::with_state(err("add the members of", e), to_value(&state, &schema))
            })?;
        Ok(to_value(&state_from(&plan, &group(&g)?), &schema))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.coder.get()?;
        let state: GroupModel = from_value(state)?;
        let Some(id) = state.id.clone() else {
            return Ok(None);
        };
        match c
            .get(&format!("/groups/{id}"))
            .await
            .map_err(|e| err("read", e))?
        {
            Some(g) => Ok(Some(to_value(
                &state_from(&state, &group(&g)?),
                &self.schema(),
            ))),
            None => Ok(None),
        }
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.coder.get()?;
        let prior: GroupModel = from_value(prior)?;
        let plan: GroupModel = from_value(plan)?;
        let id = prior.id.clone().unwrap_or_default();
        let g = c
            .send(
                Method::PATCH,
                &format!("/groups/{id}"),
                &body(&patch_body(&prior, &plan)),
                true,
            )
            .await
            .map_err(|e| err("update", e))?;
        Ok(to_value(&state_from(&plan, &group(&g)?), &self.schema()))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.coder.get()?;
        if let Some(id) = from_value::<GroupModel>(state)?.id {
            c.delete(&format!("/groups/{id}"))
                .await
                .map_err(|e| err("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.coder.get()?;
        let (org, name) = id.trim().split_once('/').unwrap_or(("default", id.trim()));
        let o = c
            .organization(org)
            .await
            .map_err(|e| err("import", e))?
            .ok_or_else(|| Diagnostics::error("Coder organization not found", org.to_string()))?;
        let g = c
            .get(&format!(
                "/organizations/{}/groups/{name}",
                o["id"].as_str().unwrap_or_default()
            ))
            .await
            .map_err(|e| err("import", e))?
            .ok_or_else(|| {
                Diagnostics::error(
                    "Coder group not found",
                    format!("no group {name:?} in {org:?}"),
                )
            })?;
        let org = canonical_organization(c, org)
            .await
            .map_err(|e| err("import", e))?;
        Ok(to_value(
            &state_from(&GroupModel::imported(org.to_string()), &group(&g)?),
            &self.schema(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;
    use serde_json::json;

    /// A `codersdk.Group` shaped per coder-swagger.json.
    fn coder_group() -> Json {
        json!({
            "id": "9a1f0000-0000-4000-8000-000000000002", "name": "devs", "display_name": "Developers",
            "organization_id": "0b5c7e1a-0000-4000-8000-000000000001", "organization_name": "coder",
            "organization_display_name": "Coder", "avatar_url": "", "quota_allowance": 5,
            "source": "user", "total_member_count": 1,
            "members": [{"id": "4f1c8a52-2b7e-4a4c-9d5e-0123456789ab", "username": "alice",
                         "email": "alice@example.com", "created_at": "2026-01-01T00:00:00Z",
                         "status": "active", "login_type": "password"}]
        })
    }

    #[test]
    fn model_matches_schema() {
        assert_model::<GroupModel>(&GroupResource.schema());
    }

    #[test]
    fn state_and_patch_body() {
        let s = state_from(
            &GroupModel::imported("default".into()),
            &group(&coder_group()).unwrap(),
        );
        assert_eq!(s.name, "devs");
        assert_eq!(s.quota_allowance, 5);
        assert_eq!(s.members, ["4f1c8a52-2b7e-4a4c-9d5e-0123456789ab"]);
        assert_eq!(
            s.organization_id.as_deref(),
            Some("0b5c7e1a-0000-4000-8000-000000000001")
        );
        let plan = GroupModel {
            members: vec!["b".into()],
            ..s.clone()
        };
        assert_eq!(
            body(&patch_body(&s, &plan)),
            json!({"name": "devs", "display_name": "Developers", "quota_allowance": 5,
                   "add_users": ["b"], "remove_users": ["4f1c8a52-2b7e-4a4c-9d5e-0123456789ab"]})
        );
        assert_eq!(
            body(&create_body(&plan)),
            json!({"name": "devs", "display_name": "Developers", "quota_allowance": 5})
        );
        let v = to_value(&s, &GroupResource.schema());
        assert_eq!(v.get("quota_allowance").as_i64(), Some(5));
    }
}
