//! `webide_gitea_org`: an organization (owner of the platform's shared repositories).

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::api::{CreateOrgOption, EditOrgOption, Organization};
use super::{api_error, GiteaName};
use crate::framework::model::{answer, body, from_value, to_value};
use crate::framework::validators::OneOf;
use crate::framework::{ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct OrgResource;

const VISIBILITY: &str = "public";
const REPO_ADMIN_CHANGE_TEAM_ACCESS: bool = false;

/// Plan and state of `webide_gitea_org`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OrgModel {
    id: Option<i64>,
    name: String,
    full_name: String,
    description: String,
    website: String,
    location: String,
    visibility: String,
    repo_admin_change_team_access: bool,
}

impl OrgModel {
    /// What an import starts from (every field is then read from Gitea).
    fn imported(name: &str) -> OrgModel {
        OrgModel {
            id: None,
            name: name.into(),
            full_name: String::new(),
            description: String::new(),
            website: String::new(),
            location: String::new(),
            visibility: VISIBILITY.into(),
            repo_admin_change_team_access: REPO_ADMIN_CHANGE_TEAM_ACCESS,
        }
    }
}

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("organization", action, &["name", "visibility"], e)
}

fn organization(j: &Json) -> Result<Organization, Diagnostics> {
    answer("Gitea organization", j)
}

fn state_from_api(base: &OrgModel, o: &Organization) -> OrgModel {
    let mut s = base.clone();
    s.id = o.id;
    if let Some(n) = o.name.as_ref().or(o.username.as_ref()) {
        s.name = n.clone();
    }
    for (have, got) in [
        (&mut s.full_name, &o.full_name),
        (&mut s.description, &o.description),
        (&mut s.website, &o.website),
        (&mut s.location, &o.location),
        (&mut s.visibility, &o.visibility),
    ] {
        if let Some(g) = got {
            *have = g.clone();
        }
    }
    if let Some(b) = o.repo_admin_change_team_access {
        s.repo_admin_change_team_access = b;
    }
    s
}

fn edit_body(plan: &OrgModel) -> EditOrgOption {
    EditOrgOption {
        full_name: plan.full_name.clone(),
        description: plan.description.clone(),
        website: plan.website.clone(),
        location: plan.location.clone(),
        visibility: plan.visibility.clone(),
        repo_admin_change_team_access: plan.repo_admin_change_team_access,
    }
}

fn create_body(plan: &OrgModel) -> CreateOrgOption {
    CreateOrgOption {
        username: plan.name.clone(),
        fields: edit_body(plan),
    }
}

#[async_trait]
impl Resource<Clients> for OrgResource {
    fn type_name(&self) -> &'static str {
        "webide_gitea_org"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("A Gitea organization. Members come from its teams (`webide_gitea_team`); the token's user owns it.")
            .attr(Attribute::number("id").computed().use_state_for_unknown().describe("Numeric id."))
            .attr(Attribute::string("name").required().requires_replace().validate(GiteaName).describe("Organization name. Import id."))
            .attr(Attribute::string("full_name").default("").validate(crate::framework::validators::NoControlChars).describe("Display name."))
            .attr(Attribute::string("description").default("").describe("Description."))
            .attr(Attribute::string("website").default("").describe("Website URL."))
            .attr(Attribute::string("location").default("").describe("Location."))
            .attr(Attribute::string("visibility").default(VISIBILITY).validate(OneOf(&["public", "limited", "private"])).describe("`limited` hides it from anonymous and restricted users; `private` from non-members."))
            .attr(Attribute::bool("repo_admin_change_team_access").default(REPO_ADMIN_CHANGE_TEAM_ACCESS).describe("Repository admins may change team access."));
        Schema::new(0, block)
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let plan: OrgModel = from_value(plan)?;
        let name = plan.name.clone();
        let body = body(&create_body(&plan));
        // An organization stores no creation time or free-form marker: one found under the
        // name after an unknown outcome is never adopted (the error gives its import command).
        let o = crate::http::create_once(
            CreateTarget::new("gitea", "webide_gitea_org", format!("name {name:?}")),
            || c.create_org(&body),
            || c.org(&name),
            |_, _| Ownership::Foreign {
                import_id: name.clone(),
            },
        )
        .await
        .map_err(|e| err("create", e))?;
        Ok(to_value(
            &state_from_api(&plan, &organization(&o)?),
            &self.schema(),
        ))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.gitea.get()?;
        if state.get("name").is_null() {
            return Ok(None);
        }
        let state: OrgModel = from_value(state)?;
        let Some(o) = c.org(&state.name).await.map_err(|e| err("read", e))? else {
            return Ok(None);
        };
        Ok(Some(to_value(
            &state_from_api(&state, &organization(&o)?),
            &self.schema(),
        )))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let prior: OrgModel = from_value(prior)?;
        let plan: OrgModel = from_value(plan)?;
        let o = c
            .edit_org(&prior.name, &body(&edit_body(&plan)))
            .await
            .map_err(|e| err("update", e))?;
        Ok(to_value(
            &state_from_api(&plan, &organization(&o)?),
            &self.schema(),
        ))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.gitea.get()?;
        if state.get("name").is_null() {
            return Ok(());
        }
        let state: OrgModel = from_value(state)?;
        c.delete_org(&state.name)
            .await
            .map_err(|e| err("delete", e))
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.gitea.get()?;
        let o = c
            .org(id.trim())
            .await
            .map_err(|e| err("import", e))?
            .ok_or_else(|| {
                Diagnostics::error(
                    "Gitea organization not found",
                    format!("no organization {id:?}"),
                )
            })?;
        Ok(to_value(
            &state_from_api(&OrgModel::imported(id.trim()), &organization(&o)?),
            &self.schema(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;
    use serde_json::json;

    /// An `Organization` shaped per gitea-swagger.json `definitions.Organization`.
    fn gitea_org() -> Json {
        json!({
            "id": 3, "name": "platform", "username": "platform", "full_name": "Platform team",
            "email": "", "avatar_url": "http://gitea/avatars/3", "description": "shared repos",
            "website": "https://example.com", "location": "Berlin", "visibility": "limited",
            "repo_admin_change_team_access": true
        })
    }

    #[test]
    fn model_matches_schema() {
        assert_model::<OrgModel>(&OrgResource.schema());
    }

    #[test]
    fn state_from_organization() {
        let s = state_from_api(
            &OrgModel::imported("platform"),
            &organization(&gitea_org()).unwrap(),
        );
        assert_eq!(s.id, Some(3));
        assert_eq!(s.full_name, "Platform team");
        assert_eq!(s.website, "https://example.com");
        assert_eq!(s.visibility, "limited");
        assert!(s.repo_admin_change_team_access);
        let v = to_value(&s, &OrgResource.schema());
        assert_eq!(v.get("location").as_str(), Some("Berlin"));
        // The older answer spelling (`username` only) still names it.
        let o = organization(&json!({"id": 3, "username": "legacy"})).unwrap();
        assert_eq!(state_from_api(&s, &o).name, "legacy");
    }

    #[test]
    fn bodies() {
        let plan = OrgModel {
            description: "d".into(),
            ..OrgModel::imported("platform")
        };
        assert_eq!(
            body(&create_body(&plan)),
            json!({"username": "platform", "full_name": "", "description": "d", "website": "",
                   "location": "", "visibility": "public", "repo_admin_change_team_access": false})
        );
        let e = body(&edit_body(&plan));
        assert!(e.get("username").is_none());
        assert_eq!(e["visibility"], json!(VISIBILITY));
    }
}
