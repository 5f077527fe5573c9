//! `webide_authentik_user`: an Authentik user; password set through `set_password`.

use async_trait::async_trait;
use serde_json::{json, Value as Json};

use super::{api_error, create_or_adopt, json_attr, parse_json_attr, strings, JsonObject, USERS};
use crate::framework::validators::{Email, NonEmpty, OneOf};
use crate::framework::write_only::{secret, secret_to_resend};
use crate::framework::{ApplyError, ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct UserResource;

const FIELDS: &[(&str, &str)] = &[
    ("username", "username"),
    ("name", "name"),
    ("email", "email"),
    ("groups", "groups"),
    ("type", "type"),
    ("path", "path"),
    ("attributes", "attributes"),
    ("password", "password"),
];

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("user", action, FIELDS, e)
}

fn body(plan: &Value) -> Json {
    let mut b = json!({
        "username": plan.get("username").as_str(),
        "name": plan.get("name").as_str(),
        "email": plan.get("email").as_str().unwrap_or(""),
        "is_active": plan.get("is_active").as_bool().unwrap_or(true),
        "path": plan.get("path").as_str().unwrap_or("users"),
        "type": plan.get("type").as_str().unwrap_or("internal"),
        "attributes": parse_json_attr(plan.get("attributes")),
    });
    if !plan.get("groups").is_null() {
        b["groups"] = json!(plan.get("groups").string_elements());
    }
    b
}

fn state_from_api(base: &Value, u: &Json) -> Value {
    let mut s = base.clone();
    s.set("id", Value::opt_int(u["pk"].as_i64()));
    s.set("uuid", Value::opt_string(u["uuid"].as_str()));
    for f in ["username", "name", "email", "path", "type"] {
        if let Some(v) = u[f].as_str() {
            s.set(f, Value::string(v));
        }
    }
    s.set(
        "is_active",
        Value::Bool(u["is_active"].as_bool().unwrap_or(true)),
    );
    s.set(
        "is_superuser",
        Value::Bool(u["is_superuser"].as_bool().unwrap_or(false)),
    );
    s.set(
        "attributes",
        json_attr(base.get("attributes"), u.get("attributes")),
    );
    // Membership is managed here only when configured (else by webide_authentik_group.users).
    if !base.get("groups").is_null() {
        s.set("groups", Value::string_set(strings(u.get("groups"))));
    }
    s
}

#[async_trait]
impl Resource<Clients> for UserResource {
    fn type_name(&self) -> &'static str {
        "webide_authentik_user"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("An Authentik user (the identity every platform login goes through). Its groups decide its platform role (coder-admins, coder-template-admins, coder-auditors, coder-members).")
            .attr(Attribute::number("id").computed().use_state_for_unknown().describe("Numeric primary key (`pk`)."))
            .attr(Attribute::string("uuid").computed().use_state_for_unknown().describe("User UUID."))
            .attr(Attribute::string("username").required().validate(super::names::AuthentikUsername).describe("Login name. Import id: the username or the numeric pk."))
            .attr(Attribute::string("name").required().validate(crate::framework::validators::NoControlChars).validate(NonEmpty).describe("Display name."))
            .attr(Attribute::string("email").default("").validate(Email).validate(crate::framework::validators::MaxLength(254)).describe("E-mail address."))
            .attr(Attribute::bool("is_active").default(true).describe("Inactive users cannot sign in."))
            .attr(Attribute::string("path").default("users").validate(super::names::AuthentikPath).describe("Directory path."))
            .attr(Attribute::string("type").default("internal").validate(OneOf(&["internal", "external", "service_account", "internal_service_account"])).describe("User type."))
            .attr(Attribute::string("attributes").default("{}").validate(JsonObject).describe("Custom attributes as a JSON object (`jsonencode`); compared by meaning, not text."))
            .attr(Attribute::string_set("groups").optional().describe("Group UUIDs (`webide_authentik_group.id`). Null: membership not managed here."))
            .attr(Attribute::string("password").optional().sensitive().describe("Password, set through the `set_password` endpoint; never read back, but kept in state (marked sensitive). A change sets the new password in place. On Terraform >= 1.11 use `password_wo` instead, which never reaches plan or state; on older Terraform use this."))
            .attr(Attribute::string("password_wo").optional().sensitive().write_only().describe("Write-only password (Terraform >= 1.11): set through `set_password` at create and whenever `password_wo_version` changes; never stored in plan or state. Preferred over `password` on Terraform >= 1.11 (older Terraform refuses it at validate: use `password`). Conflicts with `password`."))
            .attr(Attribute::number("password_wo_version").optional().describe("Any number, kept in state: changing it sets `password_wo` again (a write-only value is never compared, so a new password needs a new version)."))
            .attr(Attribute::bool("is_superuser").computed().describe("Whether one of its groups is a superuser group."));
        Schema::new(0, block)
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.authentik.get()?;
        let u = create_or_adopt(c, USERS, &body(plan), "username")
            .await
            .map_err(|e| err("create", e))?;
        let state = state_from_api(plan, &u);
        if let (Some(pw), Some(pk)) = (secret(plan, "password"), u["pk"].as_i64()) {
            c.set_password(pk, pw).await.map_err(|e| {
                ApplyError::with_state(err("set the password of", e), state.clone())
            })?;
        }
        Ok(state)
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.authentik.get()?;
        let Some(pk) = state.get("id").as_i64() else {
            return Ok(None);
        };
        // Batched: answered from one /core/users/ listing per refresh when the user is in it
        // with every field read back.
        let u = c
            .user_batched(
                pk,
                &[
                    "pk",
                    "uuid",
                    "username",
                    "name",
                    "email",
                    "path",
                    "type",
                    "is_active",
                    "is_superuser",
                    "attributes",
                    "groups",
                ],
            )
            .await
            .map_err(|e| err("read", e))?;
        Ok(u.map(|u| state_from_api(state, &u)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.authentik.get()?;
        let pk = prior.get("id").as_i64().unwrap_or_default();
        let u = c
            .patch(USERS, &pk.to_string(), &body(plan))
            .await
            .map_err(|e| err("update", e))?;
        let state = state_from_api(plan, &u);
        if let Some(pw) = secret_to_resend(prior, plan, "password") {
            // Not set: the prior password (and version) stay in state, so a re-run sends it.
            let mut kept = state.clone();
            for a in ["password", "password_wo_version"] {
                kept.set(a, prior.get(a).clone());
            }
            c.set_password(pk, pw)
                .await
                .map_err(|e| ApplyError::with_state(err("set the password of", e), kept))?;
        }
        Ok(state)
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.authentik.get()?;
        if let Some(pk) = state.get("id").as_i64() {
            c.delete(USERS, &pk.to_string())
                .await
                .map_err(|e| err("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.authentik.get()?;
        let id = id.trim();
        let u = if id.chars().all(|ch| ch.is_ascii_digit()) && !id.is_empty() {
            c.get(USERS, id).await
        } else {
            c.find(USERS, "username", id).await
        }
        .map_err(|e| err("import", e))?
        .ok_or_else(|| Diagnostics::error("Authentik user not found", format!("no user {id:?}")))?;
        let mut base = self.schema().block.null_object();
        base.set("attributes", Value::string("{}"));
        base.set("groups", Value::string_set(Vec::<String>::new()));
        Ok(state_from_api(&base, &u))
    }
}
