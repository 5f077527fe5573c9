//! `webide_gitea_org`: an organization (owner of the platform's shared repositories).

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};

use super::{api_error, GiteaName};
use crate::framework::validators::OneOf;
use crate::framework::{ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct OrgResource;

const FIELDS: &[&str] = &[
    "full_name",
    "description",
    "website",
    "location",
    "visibility",
];

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("organization", action, &["name", "visibility"], e)
}

fn state_from_api(base: &Value, o: &Json) -> Value {
    let mut s = base.clone();
    s.set("id", Value::opt_int(o.get("id").and_then(Json::as_i64)));
    s.set(
        "name",
        Value::opt_string(o.get("name").or(o.get("username")).and_then(Json::as_str)),
    );
    for f in FIELDS {
        if let Some(v) = o.get(*f).and_then(Json::as_str) {
            s.set(f, Value::string(v));
        }
    }
    if let Some(b) = o
        .get("repo_admin_change_team_access")
        .and_then(Json::as_bool)
    {
        s.set("repo_admin_change_team_access", Value::Bool(b));
    }
    s
}

fn body(plan: &Value) -> Map<String, Json> {
    let mut b: Map<String, Json> = FIELDS
        .iter()
        .map(|f| (f.to_string(), json!(plan.get(f).as_str().unwrap_or(""))))
        .collect();
    b.insert(
        "repo_admin_change_team_access".into(),
        json!(plan
            .get("repo_admin_change_team_access")
            .as_bool()
            .unwrap_or(false)),
    );
    b
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
            .attr(Attribute::string("visibility").default("public").validate(OneOf(&["public", "limited", "private"])).describe("`limited` hides it from anonymous and restricted users; `private` from non-members."))
            .attr(Attribute::bool("repo_admin_change_team_access").default(false).describe("Repository admins may change team access."));
        Schema::new(0, block)
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let name = plan.get("name").as_str().unwrap_or_default().to_string();
        let mut b = body(plan);
        b.insert("username".into(), json!(name));
        let body = Json::Object(b);
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
        Ok(state_from_api(plan, &o))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.gitea.get()?;
        let Some(name) = state.get("name").as_str() else {
            return Ok(None);
        };
        Ok(c.org(name)
            .await
            .map_err(|e| err("read", e))?
            .map(|o| state_from_api(state, &o)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let name = prior.get("name").as_str().unwrap_or_default();
        let o = c
            .edit_org(name, &Json::Object(body(plan)))
            .await
            .map_err(|e| err("update", e))?;
        Ok(state_from_api(plan, &o))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.gitea.get()?;
        if let Some(name) = state.get("name").as_str() {
            c.delete_org(name).await.map_err(|e| err("delete", e))?;
        }
        Ok(())
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
        Ok(state_from_api(&self.schema().block.null_object(), &o))
    }
}
