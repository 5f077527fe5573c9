//! `webide_gitea_user`: a Gitea account with its admin flags. Created through the admin API,
//! then edited for the flags the create call does not take (admin, allow_create_organization,
//! prohibit_login, active, max_repo_creation) — the seeds' `sqlite3 UPDATE user SET
//! is_restricted=1` done right. A new `username` renames the account in place
//! (`POST /admin/users/{username}/rename`), keeping its id, repositories and memberships.

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use serde_json::{json, Value as Json};

use super::{api_error, GiteaName};
use crate::framework::validators::{Email, OneOf};
use crate::framework::write_only::{secret, secret_to_resend};
use crate::framework::{ApplyError, ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct UserResource;

const ATTRS: &[&str] = &["username", "email", "password", "visibility"];

/// Attributes the API returns (name in state, name in Gitea's `User`).
const READ_BACK: &[(&str, &str)] = &[
    ("email", "email"),
    ("full_name", "full_name"),
    ("restricted", "restricted"),
    ("admin", "is_admin"),
    ("prohibit_login", "prohibit_login"),
    ("active", "active"),
    ("visibility", "visibility"),
    ("source_id", "source_id"),
];

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("user", action, ATTRS, e)
}

/// State from Gitea's `User`, keeping what the API does not return (password,
/// must_change_password, allow_create_organization, max_repo_creation). `login_name` is read
/// back for accounts of an authentication source only: for a local account Gitea stores the
/// username the edit call must send there (see [`edit_body`]).
fn state_from_api(base: &Value, u: &Json) -> Value {
    let mut s = base.clone();
    s.set("id", Value::opt_int(u.get("id").and_then(Json::as_i64)));
    s.set(
        "username",
        Value::opt_string(u.get("login").and_then(Json::as_str)),
    );
    for (attr, api) in READ_BACK {
        let v = match u.get(*api) {
            Some(Json::String(x)) => Value::string(x.clone()),
            Some(Json::Bool(x)) => Value::Bool(*x),
            Some(Json::Number(n)) => Value::opt_int(n.as_i64()),
            _ => continue,
        };
        s.set(attr, v);
    }
    if u.get("source_id").and_then(Json::as_i64).unwrap_or(0) != 0 {
        if let Some(ln) = u.get("login_name").and_then(Json::as_str) {
            s.set("login_name", Value::string(ln));
        }
    }
    s
}

/// The login name Gitea's edit call must carry: `EditUserOption.LoginName` is
/// `binding:"Required"` (go-gitea/gitea modules/structs/admin_user.go), so an empty string is
/// refused with 422 `[LoginName]: Required`; for a local account (source 0) Gitea's own API
/// tests send the username.
fn login_name(plan: &Value) -> String {
    let username = plan.get("username").as_str().unwrap_or_default();
    match plan.get("login_name").as_str() {
        Some(l) if !l.is_empty() && plan.get("source_id").as_i64().unwrap_or(0) != 0 => l.into(),
        _ => username.into(),
    }
}

/// The EditUserOption for `plan` (a non-empty login_name is required by Gitea), setting
/// `password` when given.
fn edit_body(plan: &Value, password: Option<&str>) -> Json {
    let mut b = json!({
        "email": plan.get("email").as_str(),
        "full_name": plan.get("full_name").as_str().unwrap_or(""),
        "login_name": login_name(plan),
        "source_id": plan.get("source_id").as_i64().unwrap_or(0),
        "admin": plan.get("admin").as_bool().unwrap_or(false),
        "restricted": plan.get("restricted").as_bool().unwrap_or(false),
        "allow_create_organization": plan.get("allow_create_organization").as_bool().unwrap_or(true),
        "prohibit_login": plan.get("prohibit_login").as_bool().unwrap_or(false),
        "active": plan.get("active").as_bool().unwrap_or(true),
        "must_change_password": plan.get("must_change_password").as_bool().unwrap_or(false),
        "visibility": plan.get("visibility").as_str().unwrap_or("public"),
        "max_repo_creation": plan.get("max_repo_creation").as_i64().unwrap_or(-1),
    });
    if let Some(p) = password {
        b["password"] = json!(p);
    }
    b
}

#[async_trait]
impl Resource<Clients> for UserResource {
    fn type_name(&self) -> &'static str {
        "webide_gitea_user"
    }

    fn schema(&self) -> Schema {
        let block = Block::new(
            "A Gitea user, managed through the admin API. `restricted` confines the user to the repositories granted to it \
             (collaborator grants or teams); drift on `restricted` and `admin` shows in plan. Works against any Gitea given by URL and admin credentials.",
        )
        .attr(Attribute::number("id").computed().use_state_for_unknown().describe("Numeric user id."))
        .attr(Attribute::string("username").required().validate(GiteaName).describe("Login name. Import id. A new value renames the account in place (`POST /admin/users/{username}/rename`): id, repositories, team memberships and collaborator grants stay."))
        .attr(Attribute::string("email").required().validate(Email).describe("Primary e-mail address (unique)."))
        .attr(Attribute::string("full_name").default("").validate(crate::framework::validators::NoControlChars).describe("Display name."))
        .attr(Attribute::string("password").optional().sensitive().describe("Password (at least 8 characters; a local account, `source_id = 0`, needs this or `password_wo`). Sent to Gitea and never read back, but kept in state (marked sensitive); changing it sets the new password in place. On Terraform >= 1.11 use `password_wo` instead, which never reaches plan or state; on older Terraform use this."))
        .attr(Attribute::string("password_wo").optional().sensitive().write_only().describe("Write-only password (Terraform >= 1.11, at least 8 characters): sent to Gitea at create and whenever `password_wo_version` changes; never stored in plan or state. Preferred over `password` on Terraform >= 1.11 (older Terraform refuses it at validate: use `password`). Conflicts with `password`."))
        .attr(Attribute::number("password_wo_version").optional().describe("Any number, kept in state: changing it sends `password_wo` again (a write-only value is never compared, so a new password needs a new version)."))
        .attr(Attribute::bool("must_change_password").default(false).describe("Ask for a new password at next login. Gitea does not report it, so changes made elsewhere are not detected."))
        .attr(Attribute::bool("restricted").default(false).describe("Restricted users see only repositories they own, collaborate on, or reach through a team."))
        .attr(Attribute::bool("admin").default(false).describe("Site administrator."))
        .attr(Attribute::bool("allow_create_organization").default(true).describe("May create organizations. **Not detectable**: Gitea 1.25's API has no read path for it (its `User` object, also in the admin user search, carries no such field), so a change made elsewhere shows in no plan; the provider sets it on every create and update."))
        .attr(Attribute::number("max_repo_creation").default(-1i64).validate(crate::framework::validators::Range { min: -1.0, max: None }).describe("How many repositories the user may own: `0` = cannot create repositories (contractors, read-only users), `-1` = the site's `MAX_CREATION_LIMIT`. Site administrators are exempt. **Not detectable**: Gitea's `User` object does not carry it, so a change made elsewhere shows in no plan."))
        .attr(Attribute::bool("prohibit_login").default(false).describe("Barred from signing in."))
        .attr(Attribute::bool("active").default(true).describe("Account activated."))
        .attr(Attribute::string("visibility").default("public").validate(OneOf(&["public", "limited", "private"])).describe("Profile visibility."))
        .attr(Attribute::string("login_name").default("").describe("Login name at the authentication source (for OAuth2/LDAP users, `source_id` not 0). For a local account Gitea stores the username here; leave it empty."))
        .attr(Attribute::number("source_id").default(0i64).describe("Authentication source id; 0 = local (password) account."));
        Schema::new(0, block)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let source = config.get("source_id");
        let local = !source.is_unknown() && source.as_i64().unwrap_or(0) == 0;
        // Gitea refuses a local account without a password (routers/api/v1/admin/user.go
        // CreateUser: `PasswordTooShort` for "", min 8). A write-only `password_wo`, where the
        // schema has it, counts as a password.
        let given = |a: &str| !config.get(a).is_null();
        if local && !given("password") && !given("password_wo") {
            diags.push_attr_error(
                crate::protocol::diagnostics::AttrPath::root("password"),
                "Missing password for a local Gitea account",
                "a local account (source_id = 0) needs a password of at least 8 characters; accounts signing in through an authentication source set source_id and login_name instead",
            );
        }
        for attr in ["password", "password_wo"] {
            if let Some(p) = config.get(attr).as_str() {
                if local && p.chars().count() < 8 {
                    diags.push_attr_error(
                        crate::protocol::diagnostics::AttrPath::root(attr),
                        format!("Invalid value for {attr}"),
                        "Gitea requires at least 8 characters",
                    );
                }
            }
        }
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let username = plan
            .get("username")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let body = json!({
            "username": username,
            "email": plan.get("email").as_str(),
            "full_name": plan.get("full_name").as_str().unwrap_or(""),
            "password": secret(plan, "password").unwrap_or(""),
            "login_name": plan.get("login_name").as_str().unwrap_or(""),
            "source_id": plan.get("source_id").as_i64().unwrap_or(0),
            "must_change_password": plan.get("must_change_password").as_bool().unwrap_or(false),
            "restricted": plan.get("restricted").as_bool().unwrap_or(false),
            "visibility": plan.get("visibility").as_str().unwrap_or("public"),
            "send_notify": false,
        });
        let email = plan.get("email").as_str().unwrap_or_default().to_string();
        // Gitea stores no free-form field at create; a user found after an unknown outcome is
        // this create's when it was created since the create started, with its e-mail.
        let created = crate::http::create_once(
            CreateTarget::new(
                "gitea",
                "webide_gitea_user",
                format!("username {username:?}"),
            ),
            || c.create_user(&body),
            || c.user(&username),
            |u, window| {
                let same_email = u.get("email").and_then(Json::as_str) == Some(email.as_str());
                if same_email && window.covers(u.get("created").and_then(Json::as_str)) {
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
        let state = state_from_api(plan, &created);
        // The flags the create call ignores, set by an edit. If it fails, the user exists:
        // record it so the next apply converges.
        let edited = c
            .edit_user(&username, &edit_body(plan, None))
            .await
            .map_err(|e| ApplyError::with_state(err("set the flags of", e), state.clone()))?;
        Ok(state_from_api(plan, &edited))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.gitea.get()?;
        let Some(username) = state.get("username").as_str() else {
            return Ok(None);
        };
        // Batched: answered from one /admin/users listing per refresh when the user is in it.
        let fields: Vec<&str> = ["id", "login"]
            .into_iter()
            .chain(READ_BACK.iter().map(|(_, api)| *api))
            .collect();
        let u = c
            .user_batched(username, &fields)
            .await
            .map_err(|e| err("read", e))?;
        Ok(u.map(|u| state_from_api(state, &u)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let old = prior.get("username").as_str().unwrap_or_default();
        let new = plan.get("username").as_str().unwrap_or_default();
        if old != new {
            // Renamed first; if the edit below fails, the state records the new name so
            // the next apply converges.
            match c.rename_user(old, new).await {
                Ok(()) => {}
                // A retried rename whose first answer was lost: the old name is gone and the
                // new one exists.
                Err(e) if e.is_not_found() && c.user(new).await.ok().flatten().is_some() => {}
                Err(e) => return Err(api_error("user", "rename", &["username"], e).into()),
            }
        }
        let mut renamed = prior.clone();
        renamed.set("username", Value::string(new));
        let u = c
            .edit_user(
                new,
                &edit_body(plan, secret_to_resend(prior, plan, "password")),
            )
            .await
            .map_err(|e| ApplyError::with_state(err("update", e), renamed))?;
        Ok(state_from_api(plan, &u))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.gitea.get()?;
        if let Some(u) = state.get("username").as_str() {
            c.delete_user(u).await.map_err(|e| err("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.gitea.get()?;
        let u = c
            .user(id.trim())
            .await
            .map_err(|e| err("import", e))?
            .ok_or_else(|| Diagnostics::error("Gitea user not found", format!("no user {id:?}")))?;
        let mut base = self.schema().block.null_object();
        for (attr, v) in [
            ("full_name", Value::string("")),
            ("must_change_password", Value::Bool(false)),
            ("allow_create_organization", Value::Bool(true)),
            ("login_name", Value::string("")),
            ("source_id", Value::int(0)),
            ("max_repo_creation", Value::int(-1)),
        ] {
            base.set(attr, v);
        }
        Ok(state_from_api(&base, &u))
    }
}
