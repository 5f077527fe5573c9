//! `webide_coder_group`: a group of users with a workspace quota. Groups are a Premium feature
//! of Coder (enterprise/coderd/coderd.go `RequireFeatureMW(FeatureTemplateRBAC)`): without the
//! licence every group call answers 403, which becomes a diagnostic saying so.

use std::collections::BTreeSet;

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value as Json};

use super::names::CoderName;
use super::{api_error, canonical_organization, plan_same_organization};
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

fn state_from(base: &Value, g: &Json) -> Value {
    let mut s = base.clone();
    s.set("id", Value::opt_string(g["id"].as_str()));
    s.set(
        "organization_id",
        Value::opt_string(g["organization_id"].as_str()),
    );
    s.set("name", Value::opt_string(g["name"].as_str()));
    s.set(
        "display_name",
        Value::string(g["display_name"].as_str().unwrap_or("")),
    );
    s.set(
        "quota_allowance",
        Value::opt_int(g["quota_allowance"].as_i64()),
    );
    let members: Vec<String> = g["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .collect();
    s.set("members", Value::string_set(members));
    s
}

fn patch_body(prior: &Value, plan: &Value) -> Json {
    let set = |v: &Value| -> BTreeSet<String> { v.string_elements().into_iter().collect() };
    let (want, have) = (set(plan.get("members")), set(prior.get("members")));
    json!({
        "name": plan.get("name").as_str(),
        "display_name": plan.get("display_name").as_str().unwrap_or(""),
        "quota_allowance": plan.get("quota_allowance").as_i64().unwrap_or(0),
        "add_users": want.difference(&have).collect::<Vec<_>>(),
        "remove_users": have.difference(&want).collect::<Vec<_>>(),
    })
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
                    .default("")
                    .validate(super::names::CoderDisplayName(64))
                    .describe("Display name."),
            )
            .attr(
                Attribute::string("organization")
                    .default("default")
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
                    .default(0i64)
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
        let org_key = plan.get("organization").as_str().unwrap_or("default");
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
        let name = plan.get("name").as_str().unwrap_or_default().to_string();
        let body = json!({"name": name, "display_name": plan.get("display_name").as_str().unwrap_or(""), "quota_allowance": plan.get("quota_allowance").as_i64().unwrap_or(0)});
        let (create_path, lookup_path) = (
            format!("/organizations/{org_id}/groups"),
            format!("/organizations/{org_id}/groups/{name}"),
        );
        // A group stores no creation time or free-form marker: one found under the name after
        // an unknown outcome is never adopted (the error gives its import command).
        let g = crate::http::create_once(
            CreateTarget::new("coder", "webide_coder_group", format!("name {name:?}")),
            || c.send(Method::POST, &create_path, &body, false),
            || c.get(&lookup_path),
            |_, _| Ownership::Foreign {
                import_id: format!("{org_key}/{name}"),
            },
        )
        .await
        .map_err(|e| err("create", e))?;
        let state = state_from(plan, &g);
        let id = g["id"].as_str().unwrap_or_default();
        let g = c
            .send(
                Method::PATCH,
                &format!("/groups/{id}"),
                &patch_body(&state, plan),
                true,
            )
            .await
            .map_err(|e| ApplyError::with_state(err("add the members of", e), state.clone()))?;
        Ok(state_from(plan, &g))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.coder.get()?;
        let Some(id) = state.get("id").as_str() else {
            return Ok(None);
        };
        Ok(c.get(&format!("/groups/{id}"))
            .await
            .map_err(|e| err("read", e))?
            .map(|g| state_from(state, &g)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.coder.get()?;
        let id = prior.get("id").as_str().unwrap_or_default();
        let g = c
            .send(
                Method::PATCH,
                &format!("/groups/{id}"),
                &patch_body(prior, plan),
                true,
            )
            .await
            .map_err(|e| err("update", e))?;
        Ok(state_from(plan, &g))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.coder.get()?;
        if let Some(id) = state.get("id").as_str() {
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
        let mut base = self.schema().block.null_object();
        let org = canonical_organization(c, org)
            .await
            .map_err(|e| err("import", e))?;
        base.set("organization", Value::string(org));
        Ok(state_from(&base, &g))
    }
}
