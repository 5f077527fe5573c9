//! `webide_authentik_scope_mapping`: an OAuth2 scope mapping, e.g. the `groups` claim.

use async_trait::async_trait;
use serde_json::{json, Value as Json};

use super::{api_error, create_or_adopt, SCOPE_MAPPINGS};
use crate::framework::validators::NonEmpty;
use crate::framework::{ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct ScopeMappingResource;

const FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("scope_name", "scope_name"),
    ("expression", "expression"),
];

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("scope mapping", action, FIELDS, e)
}

fn body(plan: &Value) -> Json {
    json!({
        "name": plan.get("name").as_str(),
        "scope_name": plan.get("scope_name").as_str(),
        "expression": plan.get("expression").as_str(),
        "description": plan.get("description").as_str().unwrap_or(""),
    })
}

fn state_from_api(base: &Value, m: &Json) -> Value {
    let mut s = base.clone();
    s.set("id", Value::opt_string(m["pk"].as_str()));
    for f in ["name", "scope_name", "expression", "description"] {
        if let Some(v) = m[f].as_str() {
            s.set(f, Value::string(v));
        }
    }
    s
}

#[async_trait]
impl Resource<Clients> for ScopeMappingResource {
    fn type_name(&self) -> &'static str {
        "webide_authentik_scope_mapping"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("An OAuth2 scope mapping: a Python expression whose result is merged into the claims when the scope is requested (the seeds' `groups` claim).")
            .attr(Attribute::string("id").computed().use_state_for_unknown().describe("UUID. Import id: the UUID or the name."))
            .attr(Attribute::string("name").required().validate(NonEmpty).validate(crate::framework::validators::NoControlChars).describe("Name (unique)."))
            .attr(Attribute::string("scope_name").required().validate(NonEmpty).describe("The scope, e.g. `groups`."))
            .attr(Attribute::string("expression").required().validate(NonEmpty).describe("Python expression returning a dict of claims."))
            .attr(Attribute::string("description").default("").describe("Shown on the consent screen."));
        Schema::new(0, block)
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.authentik.get()?;
        let m = create_or_adopt(c, SCOPE_MAPPINGS, &body(plan), "name")
            .await
            .map_err(|e| err("create", e))?;
        Ok(state_from_api(plan, &m))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.authentik.get()?;
        let Some(pk) = state.get("id").as_str() else {
            return Ok(None);
        };
        Ok(c.get(SCOPE_MAPPINGS, pk)
            .await
            .map_err(|e| err("read", e))?
            .map(|m| state_from_api(state, &m)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.authentik.get()?;
        let pk = prior.get("id").as_str().unwrap_or_default();
        let m = c
            .patch(SCOPE_MAPPINGS, pk, &body(plan))
            .await
            .map_err(|e| err("update", e))?;
        Ok(state_from_api(plan, &m))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.authentik.get()?;
        if let Some(pk) = state.get("id").as_str() {
            c.delete(SCOPE_MAPPINGS, pk)
                .await
                .map_err(|e| err("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.authentik.get()?;
        let id = id.trim();
        // The primary key is a UUID: anything else is a name (the API document types the
        // path parameter as a UUID, so a name is never sent there).
        let by_pk = match uuid::Uuid::try_parse(id) {
            Ok(_) => c
                .get(SCOPE_MAPPINGS, id)
                .await
                .map_err(|e| err("import", e))?,
            Err(_) => None,
        };
        let m = match by_pk {
            Some(m) => Some(m),
            None => c
                .find(SCOPE_MAPPINGS, "name", id)
                .await
                .map_err(|e| err("import", e))?,
        }
        .ok_or_else(|| {
            Diagnostics::error(
                "Authentik scope mapping not found",
                format!("no scope mapping {id:?}"),
            )
        })?;
        Ok(state_from_api(&self.schema().block.null_object(), &m))
    }
}
