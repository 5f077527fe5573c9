//! `webide_coder_user`: a Coder user with site roles, login type and status.

use std::collections::BTreeSet;

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::api::{
    CreateUserRequestWithOrgs, UpdateRoles, UpdateUserPasswordRequest, UpdateUserProfileRequest,
    User,
};
use super::{api_error, Client};
use crate::framework::model::{answer, body, from_value, to_value};
use crate::framework::validators::{Email, OneOf};
use crate::framework::write_only::secret_to_resend;
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

const NAME: &str = "";
const LOGIN_TYPE: &str = "password";
const SUSPENDED: bool = false;
const ORGANIZATION: &str = "default";

/// Plan and state of `webide_coder_user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct UserModel {
    id: Option<String>,
    username: String,
    email: String,
    name: String,
    login_type: String,
    roles: Vec<String>,
    roles_from_idp: bool,
    suspended: bool,
    password: Option<String>,
    password_wo: Option<String>,
    password_wo_version: Option<serde_json::Number>,
    organization: String,
}

impl UserModel {
    /// What an import starts from, before the user is read.
    fn imported() -> UserModel {
        UserModel {
            id: None,
            username: String::new(),
            email: String::new(),
            name: NAME.into(),
            login_type: LOGIN_TYPE.into(),
            roles: Vec::new(),
            roles_from_idp: false,
            suspended: SUSPENDED,
            password: None,
            password_wo: None,
            password_wo_version: None,
            organization: ORGANIZATION.into(),
        }
    }

    /// The password a create sends: the write-only one when set.
    fn secret(&self) -> Option<&str> {
        self.password_wo.as_deref().or(self.password.as_deref())
    }
}

fn user(j: &Json) -> Result<User, Diagnostics> {
    answer("Coder user", j)
}

/// State from Coder's `User`; roles without the implicit `member`.
fn state_from(base: &UserModel, u: &User) -> UserModel {
    let mut s = base.clone();
    s.id.clone_from(&u.id);
    for (have, got) in [
        (&mut s.username, &u.username),
        (&mut s.email, &u.email),
        (&mut s.login_type, &u.login_type),
    ] {
        if let Some(g) = got {
            have.clone_from(g);
        }
    }
    s.name = u.name.clone().unwrap_or_default();
    let mut roles: Vec<String> = Vec::new();
    for r in u.role_names().filter(|r| *r != "member") {
        if !roles.iter().any(|x| x == r) {
            roles.push(r.to_string());
        }
    }
    // Coder's own role sync owns the roles: neither set nor compared here.
    if !base.roles_from_idp {
        s.roles = roles;
    }
    s.suspended = u.status.as_deref() == Some("suspended");
    s
}

fn create_body(plan: &UserModel, org_id: Json) -> CreateUserRequestWithOrgs {
    CreateUserRequestWithOrgs {
        username: plan.username.clone(),
        email: plan.email.clone(),
        name: plan.name.clone(),
        password: plan.secret().unwrap_or("").into(),
        login_type: plan.login_type.clone(),
        organization_ids: vec![org_id],
    }
}

async fn set_roles(c: &Client, id: &str, plan: &UserModel) -> Result<Json, crate::http::ApiError> {
    let request = UpdateRoles {
        roles: plan.roles.clone(),
    };
    c.send(
        Method::PUT,
        &format!("/users/{id}/roles"),
        &body(&request),
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
            .attr(Attribute::string("name").default(NAME).validate(super::names::CoderDisplayName(128)).validate(crate::framework::validators::NoControlChars).describe("Display name."))
            .attr(Attribute::string("login_type").default(LOGIN_TYPE).requires_replace().validate(OneOf(&["password", "oidc", "github", "none"])).describe("How the user signs in: `oidc` for SSO through Authentik."))
            .attr(Attribute::string_set("roles").default(Value::string_set(Vec::<String>::new())).validate(OneOf(ROLES)).describe("Site roles: owner, template-admin, user-admin, auditor."))
            .attr(Attribute::bool("roles_from_idp").default(false).describe("Coder's OIDC role sync (`CODER_OIDC_USER_ROLE_FIELD`, Premium) sets this user's site roles at every sign-in, and Coder then refuses role changes of OIDC users through the API: the provider neither sets nor compares `roles` (leave it empty)."))
            .attr(Attribute::bool("suspended").default(SUSPENDED).describe("Suspended users cannot sign in."))
            .attr(Attribute::string("password").optional().sensitive().describe("Password for `login_type = \"password\"`. Never read back, but kept in state (marked sensitive); a change sets it in place. On Terraform >= 1.11 use `password_wo` instead, which never reaches plan or state; on older Terraform use this."))
            .attr(Attribute::string("password_wo").optional().sensitive().write_only().describe("Write-only password for `login_type = \"password\"` (Terraform >= 1.11): sent to Coder at create and whenever `password_wo_version` changes; never stored in plan or state. Preferred over `password` on Terraform >= 1.11 (older Terraform refuses it at validate: use `password`). Conflicts with `password`."))
            .attr(Attribute::number("password_wo_version").optional().describe("Any number, kept in state: changing it sends `password_wo` again (a write-only value is never compared, so a new password needs a new version)."))
            .attr(Attribute::string("organization").default(ORGANIZATION).requires_replace().describe("Organization the user joins (name, id or `default`)."));
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
        let schema = self.schema();
        let plan: UserModel = from_value(plan)?;
        let org = c
            .organization(&plan.organization)
            .await
            .map_err(|e| err("find the organization of", e))?
            .ok_or_else(|| {
                Diagnostics::attr_error(
                    AttrPath::root("organization"),
                    "Coder organization not found",
                    plan.organization.clone(),
                )
            })?;
        let request = body(&create_body(&plan, org["id"].clone()));
        let lookup_path = format!("/users/{}", plan.username);
        // Coder stores no free-form field on a user: one found after an unknown outcome is this
        // create's when it was created since the create started, with its e-mail.
        let (username, email) = (plan.username.clone(), plan.email.clone());
        let u = crate::http::create_once(
            CreateTarget::new(
                "coder",
                "webide_coder_user",
                format!("username {username:?}"),
            ),
            || c.send(Method::POST, "/users", &request, false),
            || c.get(&lookup_path),
            |u, window| {
                let u = user(u).unwrap_or_default();
                if u.email.as_ref() == Some(&email) && window.covers(u.created_at.as_deref()) {
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
        let u = user(&u)?;
        let id = u.id.clone().unwrap_or_default();
        let mut state = state_from(&plan, &u);
        if !plan.roles.is_empty() {
            let u = set_roles(c, &id, &plan).await.map_err(|e| {
                ApplyError::with_state(err("set the roles of", e), to_value(&state, &schema))
            })?;
            state = state_from(&state, &user(&u)?);
        }
        if plan.suspended {
            let u = set_status(c, &id, true).await.map_err(|e| {
                ApplyError::with_state(err("suspend", e), to_value(&state, &schema))
            })?;
            state = state_from(&state, &user(&u)?);
        }
        Ok(to_value(&state, &schema))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.coder.get()?;
        let state: UserModel = from_value(state)?;
        let Some(id) = state.id.clone() else {
            return Ok(None);
        };
        // Batched: answered from one /users listing per refresh when the user is in it.
        let fields = ["id", "username", "email", "login_type", "roles", "status"];
        match c
            .user_batched(&id, &fields)
            .await
            .map_err(|e| err("read", e))?
        {
            Some(u) => Ok(Some(to_value(
                &state_from(&state, &user(&u)?),
                &self.schema(),
            ))),
            None => Ok(None),
        }
    }

    async fn update(&self, data: &Clients, prior_v: &Value, plan_v: &Value) -> ApplyResult {
        let c = data.coder.get()?;
        let schema = self.schema();
        let prior: UserModel = from_value(prior_v)?;
        let plan: UserModel = from_value(plan_v)?;
        let id = prior.id.clone().unwrap_or_default();
        let mut state = prior.clone();
        let partial = |s: &UserModel| to_value(s, &schema);
        if plan.username != prior.username || plan.name != prior.name {
            let request = UpdateUserProfileRequest {
                username: plan.username.clone(),
                name: plan.name.clone(),
            };
            let u = c
                .send(
                    Method::PUT,
                    &format!("/users/{id}/profile"),
                    &body(&request),
                    true,
                )
                .await
                .map_err(|e| {
                    ApplyError::with_state(err("update the profile of", e), partial(&state))
                })?;
            state = state_from(&state, &user(&u)?);
        }
        let (want, have): (BTreeSet<&String>, BTreeSet<&String>) =
            (plan.roles.iter().collect(), prior.roles.iter().collect());
        if want != have {
            let u = set_roles(c, &id, &plan)
                .await
                .map_err(|e| ApplyError::with_state(err("set the roles of", e), partial(&state)))?;
            state = state_from(&state, &user(&u)?);
        }
        if plan.suspended != prior.suspended {
            let u = set_status(c, &id, plan.suspended).await.map_err(|e| {
                ApplyError::with_state(err("change the status of", e), partial(&state))
            })?;
            state = state_from(&state, &user(&u)?);
        }
        if let Some(pw) = secret_to_resend(prior_v, plan_v, "password") {
            let request = UpdateUserPasswordRequest {
                password: pw.to_string(),
            };
            c.send(
                Method::PUT,
                &format!("/users/{id}/password"),
                &body(&request),
                true,
            )
            .await
            .map_err(|e| ApplyError::with_state(err("set the password of", e), partial(&state)))?;
        }
        state.password.clone_from(&plan.password);
        state
            .password_wo_version
            .clone_from(&plan.password_wo_version);
        Ok(to_value(&state, &schema))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.coder.get()?;
        if let Some(id) = from_value::<UserModel>(state)?.id {
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
        Ok(to_value(
            &state_from(&UserModel::imported(), &user(&u)?),
            &self.schema(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;

    /// A `codersdk.User` shaped per coder-swagger.json.
    fn coder_user() -> Json {
        json!({
            "id": "4f1c8a52-2b7e-4a4c-9d5e-0123456789ab", "username": "alice",
            "email": "alice@example.com", "name": "Alice A", "avatar_url": "",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "last_seen_at": "2026-01-01T00:00:00Z", "login_type": "oidc",
            "organization_ids": ["0b5c7e1a-0000-4000-8000-000000000001"],
            "roles": [{"name": "member", "display_name": "Member"},
                      {"name": "template-admin", "display_name": "Template Admin"}],
            "status": "suspended", "theme_preference": ""
        })
    }

    #[test]
    fn model_matches_schema() {
        assert_model::<UserModel>(&UserResource.schema());
    }

    #[test]
    fn state_from_coder_user() {
        let s = state_from(&UserModel::imported(), &user(&coder_user()).unwrap());
        assert_eq!(
            s.id.as_deref(),
            Some("4f1c8a52-2b7e-4a4c-9d5e-0123456789ab")
        );
        assert_eq!((s.username.as_str(), s.name.as_str()), ("alice", "Alice A"));
        assert_eq!(s.login_type, "oidc");
        assert_eq!(s.roles, ["template-admin"]);
        assert!(s.suspended);
        assert_eq!(s.organization, ORGANIZATION);
        let v = to_value(&s, &UserResource.schema());
        assert_eq!(v.get("roles"), &Value::string_set(["template-admin"]));
    }

    #[test]
    fn bodies() {
        let plan = UserModel {
            username: "alice".into(),
            email: "alice@example.com".into(),
            password_wo: Some("wo-secret-1".into()),
            roles: vec!["auditor".into()],
            ..UserModel::imported()
        };
        assert_eq!(
            body(&create_body(&plan, json!("org-1"))),
            json!({"username": "alice", "email": "alice@example.com", "name": "",
                   "password": "wo-secret-1", "login_type": "password",
                   "organization_ids": ["org-1"]})
        );
        assert_eq!(
            body(&UpdateRoles {
                roles: plan.roles.clone()
            }),
            json!({"roles": ["auditor"]})
        );
    }
}
