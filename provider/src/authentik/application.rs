//! `webide_authentik_application`: what users see and sign in to; points at a provider.

use async_trait::async_trait;
use serde_json::{json, Value as Json};

use super::{api_error, create_or_adopt, APPLICATIONS};
use crate::framework::validators::{NonEmpty, OneOf};
use crate::framework::{ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct ApplicationResource;

const FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("slug", "slug"),
    ("provider", "provider_id"),
    ("policy_engine_mode", "policy_engine_mode"),
];
const TEXT: &[&str] = &[
    "meta_launch_url",
    "meta_description",
    "meta_publisher",
    "policy_engine_mode",
    "group",
];

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("application", action, FIELDS, e)
}

fn body(plan: &Value) -> Json {
    let mut b = json!({
        "name": plan.get("name").as_str(),
        "slug": plan.get("slug").as_str(),
        "provider": plan.get("provider_id").as_i64(),
        "open_in_new_tab": plan.get("open_in_new_tab").as_bool().unwrap_or(false),
    });
    for f in TEXT {
        b[*f] = json!(plan.get(f).as_str().unwrap_or(""));
    }
    b
}

fn state_from_api(base: &Value, a: &Json) -> Value {
    let mut s = base.clone();
    s.set("id", Value::opt_string(a["pk"].as_str()));
    s.set("name", Value::opt_string(a["name"].as_str()));
    s.set("slug", Value::opt_string(a["slug"].as_str()));
    s.set("provider_id", Value::opt_int(a["provider"].as_i64()));
    s.set(
        "open_in_new_tab",
        Value::Bool(a["open_in_new_tab"].as_bool().unwrap_or(false)),
    );
    for f in TEXT {
        s.set(f, Value::string(a[*f].as_str().unwrap_or("")));
    }
    s
}

#[async_trait]
impl Resource<Clients> for ApplicationResource {
    fn type_name(&self) -> &'static str {
        "webide_authentik_application"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("An Authentik application (Coder, Gitea, MinIO, ...) tied to an OAuth2 provider. The issuer URL of its provider is `<authentik>/application/o/<slug>/`.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().describe("Application UUID."))
            .attr(Attribute::string("name").required().validate(NonEmpty).validate(crate::framework::validators::NoControlChars).describe("Display name (unique)."))
            .attr(Attribute::string("slug").required().requires_replace().validate(super::names::AuthentikSlug).describe("URL slug (lowercase). Import id."))
            .attr(Attribute::number("provider_id").optional().describe("`webide_authentik_oauth2_provider.id`."))
            .attr(Attribute::string("meta_launch_url").default("").describe("Launch URL shown in the user's library."))
            .attr(Attribute::string("meta_description").default("").describe("Description."))
            .attr(Attribute::string("meta_publisher").default("").describe("Publisher."))
            .attr(Attribute::string("policy_engine_mode").default("any").validate(OneOf(&["all", "any"])).describe("How bound policies combine."))
            .attr(Attribute::string("group").default("").describe("Group label in the library."))
            .attr(Attribute::bool("open_in_new_tab").default(false).describe("Open the launch URL in a new tab."));
        Schema::new(0, block)
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.authentik.get()?;
        let a = create_or_adopt(c, APPLICATIONS, &body(plan), "slug")
            .await
            .map_err(|e| err("create", e))?;
        Ok(state_from_api(plan, &a))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.authentik.get()?;
        let Some(slug) = state.get("slug").as_str() else {
            return Ok(None);
        };
        Ok(c.get(APPLICATIONS, slug)
            .await
            .map_err(|e| err("read", e))?
            .map(|a| state_from_api(state, &a)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.authentik.get()?;
        let slug = prior.get("slug").as_str().unwrap_or_default();
        let a = c
            .patch(APPLICATIONS, slug, &body(plan))
            .await
            .map_err(|e| err("update", e))?;
        Ok(state_from_api(plan, &a))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.authentik.get()?;
        if let Some(slug) = state.get("slug").as_str() {
            c.delete(APPLICATIONS, slug)
                .await
                .map_err(|e| err("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.authentik.get()?;
        let a = c
            .get(APPLICATIONS, id.trim())
            .await
            .map_err(|e| err("import", e))?
            .ok_or_else(|| {
                Diagnostics::error(
                    "Authentik application not found",
                    format!("no application {id:?}"),
                )
            })?;
        Ok(state_from_api(&self.schema().block.null_object(), &a))
    }
}
