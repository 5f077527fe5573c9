//! `webide_authentik_group`: a group, e.g. the platform's RBAC groups.

use async_trait::async_trait;
use serde_json::{json, Value as Json};

use super::{api_error, create_or_adopt, json_attr, parse_json_attr, strings, JsonObject, GROUPS};
use crate::framework::validators::NonEmpty;
use crate::framework::{ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct GroupResource;

const FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("parents", "parents"),
    ("users", "users"),
    ("attributes", "attributes"),
];

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("group", action, FIELDS, e)
}

fn body(plan: &Value) -> Json {
    let mut b = json!({
        "name": plan.get("name").as_str(),
        "is_superuser": plan.get("is_superuser").as_bool().unwrap_or(false),
        "parents": plan.get("parents").string_elements(),
        "attributes": parse_json_attr(plan.get("attributes")),
    });
    if !plan.get("users").is_null() {
        let pks: Vec<Json> = plan
            .get("users")
            .string_elements()
            .iter()
            .map(|u| {
                u.parse::<i64>()
                    .map(Json::from)
                    .unwrap_or_else(|_| Json::from(u.as_str()))
            })
            .collect();
        b["users"] = Json::Array(pks);
    }
    b
}

fn state_from_api(base: &Value, g: &Json) -> Value {
    let mut s = base.clone();
    s.set("id", Value::opt_string(g["pk"].as_str()));
    s.set("num_pk", Value::opt_int(g["num_pk"].as_i64()));
    s.set("name", Value::opt_string(g["name"].as_str()));
    s.set(
        "is_superuser",
        Value::Bool(g["is_superuser"].as_bool().unwrap_or(false)),
    );
    s.set("parents", Value::string_set(strings(g.get("parents"))));
    s.set(
        "attributes",
        json_attr(base.get("attributes"), g.get("attributes")),
    );
    if !base.get("users").is_null() {
        s.set("users", Value::string_set(strings(g.get("users"))));
    }
    s
}

#[async_trait]
impl Resource<Clients> for GroupResource {
    fn type_name(&self) -> &'static str {
        "webide_authentik_group"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("An Authentik group. The platform's RBAC groups (coder-admins, coder-template-admins, coder-auditors, coder-members) reach Coder, Gitea and MinIO through the `groups` claim.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().describe("Group UUID (`pk`). Import id: the UUID or the name."))
            .attr(Attribute::number("num_pk").computed().use_state_for_unknown().describe("Numeric id."))
            .attr(Attribute::string("name").required().validate(crate::framework::validators::NoControlChars).validate(NonEmpty).describe("Group name (unique)."))
            .attr(Attribute::bool("is_superuser").default(false).describe("Members are Authentik administrators."))
            .attr(Attribute::string_set("parents").default(Value::string_set(Vec::<String>::new())).describe("Parent group UUIDs."))
            .attr(Attribute::string("attributes").default("{}").validate(JsonObject).describe("Custom attributes as a JSON object (`jsonencode`)."))
            .attr(Attribute::string_set("users").optional().describe("Member user pks (`webide_authentik_user.id`). Null: membership not managed here (use the users' `groups`)."));
        Schema::new(0, block)
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.authentik.get()?;
        let g = create_or_adopt(c, GROUPS, &body(plan), "name")
            .await
            .map_err(|e| err("create", e))?;
        Ok(state_from_api(plan, &g))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.authentik.get()?;
        let Some(pk) = state.get("id").as_str() else {
            return Ok(None);
        };
        let g = c.get(GROUPS, pk).await.map_err(|e| err("read", e))?;
        Ok(g.map(|g| state_from_api(state, &g)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.authentik.get()?;
        let pk = prior.get("id").as_str().unwrap_or_default();
        let g = c
            .patch(GROUPS, pk, &body(plan))
            .await
            .map_err(|e| err("update", e))?;
        Ok(state_from_api(plan, &g))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.authentik.get()?;
        if let Some(pk) = state.get("id").as_str() {
            c.delete(GROUPS, pk).await.map_err(|e| err("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.authentik.get()?;
        let id = id.trim();
        // The primary key is a UUID: anything else is a name (the API document types the
        // path parameter as a UUID, so a name is never sent there).
        let by_pk = match uuid::Uuid::try_parse(id) {
            Ok(_) => c.get(GROUPS, id).await.map_err(|e| err("import", e))?,
            Err(_) => None,
        };
        let g = match by_pk {
            Some(g) => Some(g),
            None => c
                .find(GROUPS, "name", id)
                .await
                .map_err(|e| err("import", e))?,
        }
        .ok_or_else(|| {
            Diagnostics::error("Authentik group not found", format!("no group {id:?}"))
        })?;
        let mut base = self.schema().block.null_object();
        base.set("attributes", Value::string("{}"));
        Ok(state_from_api(&base, &g))
    }
}
