//! `webide_coder_user`: a Coder user with site roles, login type and status.

use std::collections::BTreeSet;

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value as Json};

use super::{api_error, Client};
use crate::framework::validators::{Email, OneOf};
use crate::framework::write_only::{secret, secret_to_resend};
use crate::framework::{ApplyError, ApplyResult, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct UserResource;

const ROLES: &[&str] = &["owner", "template-admin", "user-admin", "auditor"];

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error(
        "user",
        action,
        &["username", "email", "login_type", "password", "name"],
        e,
    )
}

fn state_from(base: &Value, u: &Json) -> Value {
    let mut s = base.clone();
    s.set("id", Value::opt_string(u["id"].as_str()));
    for k in ["username", "email", "login_type"] {
        s.set(k, Value::opt_string(u[k].as_str()));
    }
    s.set("name", Value::string(u["name"].as_str().unwrap_or("")));
    let roles: Vec<String> = u["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str().or(r.as_str()).map(str::to_string))
        .filter(|r| r != "member")
        .collect();
    // Coder's own role sync owns the roles: neither set nor compared here.
    if base.get("roles_from_idp").as_bool() != Some(true) {
        s.set("roles", Value::string_set(roles));
    }
    s.set("suspended", Value::Bool(u["status"] == "suspended"));
    s
}

async fn set_roles(c: &Client, id: &str, plan: &Value) -> Result<Json, crate::http::ApiError> {
    c.send(
        Method::PUT,
        &format!("/users/{id}/roles"),
        &json!({"roles": plan.get("roles").string_elements()}),
        true,
    )
    .await
}

async fn set_status(c: &Client, id: &str, suspended: bool) -> Result<Json, crate::http::ApiError> {
    let to = if suspended { "suspend" } else { "activate" };
    c.send(
        Method::PUT,
        &format!("/users/{id}/status/{to}"),
        &json!({}),
        true,
    )
    .await
}

#[async_trait]
impl Resource<Clients> for UserResource {
    fn type_name(&self) -> &'static str {
        "webide_coder_user"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("A Coder user. `roles` are site roles (every user is a member); drift on them shows in plan. Declaring `login_type = \"oidc\"` avoids the seeds' \"OIDC login fails for existing user\" problem (users created with a password cannot sign in through SSO); Coder v2.15's API cannot change another user's login type, so a change re-creates the user.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().describe("User id (UUID)."))
            .attr(Attribute::string("username").required().validate(super::names::CoderName { group: false }).describe("Username (changes in place). Import id."))
            .attr(Attribute::string("email").required().requires_replace().validate(Email).describe("E-mail address (cannot change through the API)."))
            .attr(Attribute::string("name").default("").validate(super::names::CoderDisplayName(128)).validate(crate::framework::validators::NoControlChars).describe("Display name."))
            .attr(Attribute::string("login_type").default("password").requires_replace().validate(OneOf(&["password", "oidc", "github", "none"])).describe("How the user signs in: `oidc` for SSO through Authentik."))
            .attr(Attribute::string_set("roles").default(Value::string_set(Vec::<String>::new())).validate(OneOf(ROLES)).describe("Site roles: owner, template-admin, user-admin, auditor."))
            .attr(Attribute::bool("roles_from_idp").default(false).describe("Coder's OIDC role sync (`CODER_OIDC_USER_ROLE_FIELD`, Premium) sets this user's site roles at every sign-in, and Coder then refuses role changes of OIDC users through the API: the provider neither sets nor compares `roles` (leave it empty)."))
            .attr(Attribute::bool("suspended").default(false).describe("Suspended users cannot sign in."))
            .attr(Attribute::string("password").optional().sensitive().describe("Password for `login_type = \"password\"`. Never read back, but kept in state (marked sensitive); a change sets it in place. On Terraform >= 1.11 use `password_wo` instead, which never reaches plan or state; on older Terraform use this."))
            .attr(Attribute::string("password_wo").optional().sensitive().write_only().describe("Write-only password for `login_type = \"password\"` (Terraform >= 1.11): sent to Coder at create and whenever `password_wo_version` changes; never stored in plan or state. Preferred over `password` on Terraform >= 1.11 (older Terraform refuses it at validate: use `password`). Conflicts with `password`."))
            .attr(Attribute::number("password_wo_version").optional().describe("Any number, kept in state: changing it sends `password_wo` again (a write-only value is never compared, so a new password needs a new version)."))
            .attr(Attribute::string("organization").default("default").requires_replace().describe("Organization the user joins (name, id or `default`)."));
        Schema::new(0, block)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let lt = config.get("login_type").as_str().unwrap_or("password");
        if config.get("roles_from_idp").as_bool() == Some(true)
            && !config.get("roles").string_elements().is_empty()
        {
            diags.push_attr_error(
                AttrPath::root("roles"),
                "Invalid value for roles",
                "roles cannot be set when roles_from_idp is true: Coder's role sync sets them",
            );
        }
        for attr in ["password", "password_wo"] {
            if !config.get(attr).is_null() && !config.get(attr).is_unknown() && lt != "password" {
                diags.push_attr_error(
                    AttrPath::root(attr),
                    format!("Invalid value for {attr}"),
                    format!("a password cannot be set for login_type {lt:?}"),
                );
            }
        }
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
        let body = json!({
            "username": plan.get("username").as_str(),
            "email": plan.get("email").as_str(),
            "name": plan.get("name").as_str().unwrap_or(""),
            "password": secret(plan, "password").unwrap_or(""),
            "login_type": plan.get("login_type").as_str().unwrap_or("password"),
            "organization_ids": [org["id"]],
        });
        let lookup_path = format!(
            "/users/{}",
            plan.get("username").as_str().unwrap_or_default()
        );
        // Coder stores no free-form field on a user: one found after an unknown outcome is this
        // create's when it was created since the create started, with its e-mail.
        let (username, email) = (
            plan.get("username")
                .as_str()
                .unwrap_or_default()
                .to_string(),
            plan.get("email").as_str().unwrap_or_default().to_string(),
        );
        let u = crate::http::create_once(
            CreateTarget::new(
                "coder",
                "webide_coder_user",
                format!("username {username:?}"),
            ),
            || c.send(Method::POST, "/users", &body, false),
            || c.get(&lookup_path),
            |u, window| {
                let same_email = u.get("email").and_then(Json::as_str) == Some(email.as_str());
                if same_email && window.covers(u.get("created_at").and_then(Json::as_str)) {
                    Ownership::Ours
                } else {
                    Ownership::Foreign {
                        import_id: username.clone(),
                    }
                }
            },
        )
        .await
        .map_err(|e| err("create", e))?;
        let id = u["id"].as_str().unwrap_or_default().to_string();
        let mut state = state_from(plan, &u);
        if !plan.get("roles").string_elements().is_empty() {
            let u = set_roles(c, &id, plan)
                .await
                .map_err(|e| ApplyError::with_state(err("set the roles of", e), state.clone()))?;
            state = state_from(&state, &u);
        }
        if plan.get("suspended").as_bool() == Some(true) {
            let u = set_status(c, &id, true)
                .await
                .map_err(|e| ApplyError::with_state(err("suspend", e), state.clone()))?;
            state = state_from(&state, &u);
        }
        Ok(state)
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.coder.get()?;
        let Some(id) = state.get("id").as_str() else {
            return Ok(None);
        };
        // Batched: answered from one /users listing per refresh when the user is in it.
        let fields = ["id", "username", "email", "login_type", "roles", "status"];
        Ok(c.user_batched(id, &fields)
            .await
            .map_err(|e| err("read", e))?
            .map(|u| state_from(state, &u)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.coder.get()?;
        let id = prior.get("id").as_str().unwrap_or_default().to_string();
        let mut state = prior.clone();
        if !plan.get("username").equals(prior.get("username"))
            || !plan.get("name").equals(prior.get("name"))
        {
            let u = c
                .send(Method::PUT, &format!("/users/{id}/profile"), &json!({"username": plan.get("username").as_str(), "name": plan.get("name").as_str().unwrap_or("")}), true)
                .await
                .map_err(|e| ApplyError::with_state(err("update the profile of", e), state.clone()))?;
            state = state_from(&state, &u);
        }
        let (want, have): (BTreeSet<String>, BTreeSet<String>) = (
            plan.get("roles").string_elements().into_iter().collect(),
            prior.get("roles").string_elements().into_iter().collect(),
        );
        if want != have {
            let u = set_roles(c, &id, plan)
                .await
                .map_err(|e| ApplyError::with_state(err("set the roles of", e), state.clone()))?;
            state = state_from(&state, &u);
        }
        if !plan.get("suspended").equals(prior.get("suspended")) {
            let u = set_status(c, &id, plan.get("suspended").as_bool().unwrap_or(false))
                .await
                .map_err(|e| {
                    ApplyError::with_state(err("change the status of", e), state.clone())
                })?;
            state = state_from(&state, &u);
        }
        if let Some(pw) = secret_to_resend(prior, plan, "password") {
            c.send(
                Method::PUT,
                &format!("/users/{id}/password"),
                &json!({"password": pw}),
                true,
            )
            .await
            .map_err(|e| ApplyError::with_state(err("set the password of", e), state.clone()))?;
        }
        for a in ["password", "password_wo_version"] {
            state.set(a, plan.get(a).clone());
        }
        Ok(state)
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.coder.get()?;
        if let Some(id) = state.get("id").as_str() {
            c.delete(&format!("/users/{id}"))
                .await
                .map_err(|e| err("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.coder.get()?;
        let u = c
            .get(&format!("/users/{}", id.trim()))
            .await
            .map_err(|e| err("import", e))?
            .ok_or_else(|| Diagnostics::error("Coder user not found", format!("no user {id:?}")))?;
        let mut base = self.schema().block.null_object();
        base.set("organization", Value::string("default"));
        Ok(state_from(&base, &u))
    }
}
