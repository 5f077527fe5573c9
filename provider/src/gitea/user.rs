//! `webide_gitea_user`: a Gitea account with its admin flags. Created through the admin API,
//! then edited for the flags the create call does not take (admin, allow_create_organization,
//! prohibit_login, active, max_repo_creation) — the seeds' `sqlite3 UPDATE user SET
//! is_restricted=1` done right. A new `username` renames the account in place
//! (`POST /admin/users/{username}/rename`), keeping its id, repositories and memberships.

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::api::{CreateUserOption, EditUserOption, User};
use super::{api_error, GiteaName};
use crate::framework::model::{answer, body, from_value, to_value};
use crate::framework::validators::{Email, OneOf};
use crate::framework::write_only::secret_to_resend;
use crate::framework::{ApplyError, ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct UserResource;

const ATTRS: &[&str] = &["username", "email", "password", "visibility"];

/// Defaults of the schema, also what an import assumes for what Gitea does not report.
const FULL_NAME: &str = "";
const MUST_CHANGE_PASSWORD: bool = false;
const RESTRICTED: bool = false;
const ADMIN: bool = false;
const ALLOW_CREATE_ORGANIZATION: bool = true;
const MAX_REPO_CREATION: i64 = -1;
const PROHIBIT_LOGIN: bool = false;
const ACTIVE: bool = true;
const VISIBILITY: &str = "public";
const LOGIN_NAME: &str = "";
const SOURCE_ID: i64 = 0;

/// Fields of Gitea's `User` a refresh reads (a batched listing must carry them all).
const READ_FIELDS: &[&str] = &[
    "id",
    "login",
    "email",
    "full_name",
    "restricted",
    "is_admin",
    "prohibit_login",
    "active",
    "visibility",
    "source_id",
];

/// Plan and state of `webide_gitea_user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct UserModel {
    id: Option<i64>,
    username: String,
    email: String,
    full_name: String,
    password: Option<String>,
    password_wo: Option<String>,
    password_wo_version: Option<serde_json::Number>,
    must_change_password: bool,
    restricted: bool,
    admin: bool,
    allow_create_organization: bool,
    max_repo_creation: i64,
    prohibit_login: bool,
    active: bool,
    visibility: String,
    login_name: String,
    source_id: i64,
}

impl UserModel {
    /// What an import starts from: the schema defaults for what Gitea does not report.
    fn imported() -> UserModel {
        UserModel {
            id: None,
            username: String::new(),
            email: String::new(),
            full_name: FULL_NAME.into(),
            password: None,
            password_wo: None,
            password_wo_version: None,
            must_change_password: MUST_CHANGE_PASSWORD,
            restricted: RESTRICTED,
            admin: ADMIN,
            allow_create_organization: ALLOW_CREATE_ORGANIZATION,
            max_repo_creation: MAX_REPO_CREATION,
            prohibit_login: PROHIBIT_LOGIN,
            active: ACTIVE,
            visibility: VISIBILITY.into(),
            login_name: LOGIN_NAME.into(),
            source_id: SOURCE_ID,
        }
    }

    /// The password a create sends: the write-only one when set.
    fn secret(&self) -> Option<&str> {
        self.password_wo.as_deref().or(self.password.as_deref())
    }

    /// The login name Gitea's edit call must carry: `EditUserOption.LoginName` is
    /// `binding:"Required"` (go-gitea/gitea modules/structs/admin_user.go), so an empty string
    /// is refused with 422 `[LoginName]: Required`; for a local account (source 0) Gitea's own
    /// API tests send the username.
    fn edit_login_name(&self) -> String {
        if !self.login_name.is_empty() && self.source_id != 0 {
            self.login_name.clone()
        } else {
            self.username.clone()
        }
    }
}

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("user", action, ATTRS, e)
}

fn user(j: &Json) -> Result<User, Diagnostics> {
    answer("Gitea user", j)
}

/// State from Gitea's `User`, keeping what the API does not return (password,
/// must_change_password, allow_create_organization, max_repo_creation) and what the answer
/// leaves out. `login_name` is read back for accounts of an authentication source only: for a
/// local account Gitea stores the username the edit call must send there (see
/// [`UserModel::edit_login_name`]).
fn state_from_api(base: &UserModel, u: &User) -> UserModel {
    let mut s = base.clone();
    s.id = u.id;
    if let Some(login) = &u.login {
        s.username = login.clone();
    }
    let keep = |have: &mut String, got: &Option<String>| {
        if let Some(g) = got {
            *have = g.clone();
        }
    };
    keep(&mut s.email, &u.email);
    keep(&mut s.full_name, &u.full_name);
    keep(&mut s.visibility, &u.visibility);
    for (have, got) in [
        (&mut s.restricted, u.restricted),
        (&mut s.admin, u.is_admin),
        (&mut s.prohibit_login, u.prohibit_login),
        (&mut s.active, u.active),
    ] {
        if let Some(g) = got {
            *have = g;
        }
    }
    if let Some(id) = u.source_id {
        s.source_id = id;
    }
    if u.source_id.unwrap_or(0) != 0 {
        keep(&mut s.login_name, &u.login_name);
    }
    s
}

/// The `CreateUserOption` for `plan`; the flags it does not take follow in an edit.
fn create_body(plan: &UserModel) -> CreateUserOption {
    CreateUserOption {
        username: plan.username.clone(),
        email: plan.email.clone(),
        full_name: plan.full_name.clone(),
        password: plan.secret().unwrap_or("").into(),
        login_name: plan.login_name.clone(),
        source_id: plan.source_id,
        must_change_password: plan.must_change_password,
        restricted: plan.restricted,
        visibility: plan.visibility.clone(),
        send_notify: false,
    }
}

/// The `EditUserOption` for `plan` (a non-empty login_name is required by Gitea), setting
/// `password` when given.
fn edit_body(plan: &UserModel, password: Option<&str>) -> EditUserOption {
    EditUserOption {
        email: plan.email.clone(),
        full_name: plan.full_name.clone(),
        login_name: plan.edit_login_name(),
        source_id: plan.source_id,
        admin: plan.admin,
        restricted: plan.restricted,
        allow_create_organization: plan.allow_create_organization,
        prohibit_login: plan.prohibit_login,
        active: plan.active,
        must_change_password: plan.must_change_password,
        visibility: plan.visibility.clone(),
        max_repo_creation: plan.max_repo_creation,
        password: password.map(str::to_string),
    }
}

fn body_of_edit(plan: &UserModel, password: Option<&str>) -> Json {
    body(&edit_body(plan, password))
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
        .attr(Attribute::string("full_name").default(FULL_NAME).validate(crate::framework::validators::NoControlChars).describe("Display name."))
        .attr(Attribute::string("password").optional().sensitive().describe("Password (at least 8 characters; a local account, `source_id = 0`, needs this or `password_wo`). Sent to Gitea and never read back, but kept in state (marked sensitive); changing it sets the new password in place. On Terraform >= 1.11 use `password_wo` instead, which never reaches plan or state; on older Terraform use this."))
        .attr(Attribute::string("password_wo").optional().sensitive().write_only().describe("Write-only password (Terraform >= 1.11, at least 8 characters): sent to Gitea at create and whenever `password_wo_version` changes; never stored in plan or state. Preferred over `password` on Terraform >= 1.11 (older Terraform refuses it at validate: use `password`). Conflicts with `password`."))
        .attr(Attribute::number("password_wo_version").optional().describe("Any number, kept in state: changing it sends `password_wo` again (a write-only value is never compared, so a new password needs a new version)."))
        .attr(Attribute::bool("must_change_password").default(MUST_CHANGE_PASSWORD).describe("Ask for a new password at next login. Gitea does not report it, so changes made elsewhere are not detected."))
        .attr(Attribute::bool("restricted").default(RESTRICTED).describe("Restricted users see only repositories they own, collaborate on, or reach through a team."))
        .attr(Attribute::bool("admin").default(ADMIN).describe("Site administrator."))
        .attr(Attribute::bool("allow_create_organization").default(ALLOW_CREATE_ORGANIZATION).describe("May create organizations. **Not detectable**: Gitea 1.25's API has no read path for it (its `User` object, also in the admin user search, carries no such field), so a change made elsewhere shows in no plan; the provider sets it on every create and update."))
        .attr(Attribute::number("max_repo_creation").default(MAX_REPO_CREATION).validate(crate::framework::validators::Range { min: -1.0, max: None }).describe("How many repositories the user may own: `0` = cannot create repositories (contractors, read-only users), `-1` = the site's `MAX_CREATION_LIMIT`. Site administrators are exempt. **Not detectable**: Gitea's `User` object does not carry it, so a change made elsewhere shows in no plan."))
        .attr(Attribute::bool("prohibit_login").default(PROHIBIT_LOGIN).describe("Barred from signing in."))
        .attr(Attribute::bool("active").default(ACTIVE).describe("Account activated."))
        .attr(Attribute::string("visibility").default(VISIBILITY).validate(OneOf(&["public", "limited", "private"])).describe("Profile visibility."))
        .attr(Attribute::string("login_name").default(LOGIN_NAME).describe("Login name at the authentication source (for OAuth2/LDAP users, `source_id` not 0). For a local account Gitea stores the username here; leave it empty."))
        .attr(Attribute::number("source_id").default(SOURCE_ID).describe("Authentication source id; 0 = local (password) account."));
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
        let schema = self.schema();
        let plan: UserModel = from_value(plan)?;
        let username = plan.username.clone();
        let body = body(&create_body(&plan));
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
                let u = user(u).unwrap_or_default();
                if u.email.as_ref() == Some(&plan.email) && window.covers(u.created.as_deref()) {
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
        let state = state_from_api(&plan, &user(&created)?);
        // The flags the create call ignores, set by an edit. If it fails, the user exists:
        // record it so the next apply converges.
        let edited = c
            .edit_user(&username, &body_of_edit(&plan, None))
            .await
            .map_err(|e| {
                ApplyError::with_state(err("set the flags of", e), to_value(&state, &schema))
            })?;
        Ok(to_value(&state_from_api(&plan, &user(&edited)?), &schema))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.gitea.get()?;
        if state.get("username").is_null() {
            return Ok(None);
        }
        let state: UserModel = from_value(state)?;
        // Batched: answered from one /admin/users listing per refresh when the user is in it.
        let Some(u) = c
            .user_batched(&state.username, READ_FIELDS)
            .await
            .map_err(|e| err("read", e))?
        else {
            return Ok(None);
        };
        Ok(Some(to_value(
            &state_from_api(&state, &user(&u)?),
            &self.schema(),
        )))
    }

    async fn update(&self, data: &Clients, prior_v: &Value, plan_v: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let schema = self.schema();
        let prior: UserModel = from_value(prior_v)?;
        let plan: UserModel = from_value(plan_v)?;
        let (old, new) = (prior.username.as_str(), plan.username.as_str());
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
        let renamed = UserModel {
            username: new.to_string(),
            ..prior.clone()
        };
        let u = c
            .edit_user(
                new,
                &body_of_edit(&plan, secret_to_resend(prior_v, plan_v, "password")),
            )
            .await
            .map_err(|e| ApplyError::with_state(err("update", e), to_value(&renamed, &schema)))?;
        Ok(to_value(&state_from_api(&plan, &user(&u)?), &schema))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.gitea.get()?;
        if state.get("username").is_null() {
            return Ok(());
        }
        let state: UserModel = from_value(state)?;
        c.delete_user(&state.username)
            .await
            .map_err(|e| err("delete", e))
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.gitea.get()?;
        let u = c
            .user(id.trim())
            .await
            .map_err(|e| err("import", e))?
            .ok_or_else(|| Diagnostics::error("Gitea user not found", format!("no user {id:?}")))?;
        Ok(to_value(
            &state_from_api(&UserModel::imported(), &user(&u)?),
            &self.schema(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;
    use serde_json::json;

    /// A `User` shaped per gitea-swagger.json `definitions.User`.
    fn gitea_user() -> Json {
        json!({
            "id": 7, "login": "alice", "login_name": "", "source_id": 0,
            "full_name": "Alice A", "email": "alice@example.com",
            "avatar_url": "http://gitea/avatars/a", "html_url": "http://gitea/alice",
            "language": "en-US", "is_admin": false, "last_login": "2026-01-01T00:00:00Z",
            "created": "2026-01-01T00:00:00Z", "restricted": true, "active": true,
            "prohibit_login": false, "location": "", "website": "", "description": "",
            "visibility": "limited", "followers_count": 0, "following_count": 0,
            "starred_repos_count": 0
        })
    }

    fn plan() -> UserModel {
        UserModel {
            username: "alice".into(),
            email: "alice@example.com".into(),
            password: Some("s3cret-pw".into()),
            restricted: true,
            ..UserModel::imported()
        }
    }

    #[test]
    fn model_matches_schema() {
        assert_model::<UserModel>(&UserResource.schema());
        // Every default of the schema is the one import assumes.
        let v = to_value(&UserModel::imported(), &UserResource.schema());
        for a in UserResource.schema().block.attributes {
            if let Some(d) = &a.default {
                assert_eq!(v.get(&a.name), d, "{}", a.name);
            }
        }
    }

    #[test]
    fn state_from_user() {
        let s = state_from_api(&plan(), &user(&gitea_user()).unwrap());
        assert_eq!(s.id, Some(7));
        assert_eq!(s.username, "alice");
        assert_eq!(s.full_name, "Alice A");
        assert!(s.restricted && s.active && !s.admin && !s.prohibit_login);
        assert_eq!(s.visibility, "limited");
        // Not reported by Gitea: kept from the plan.
        assert_eq!(s.password.as_deref(), Some("s3cret-pw"));
        assert!(s.allow_create_organization);
        assert_eq!(s.max_repo_creation, -1);
        // A local account's login_name is not read back.
        assert_eq!(s.login_name, "");
        let v = to_value(&s, &UserResource.schema());
        assert_eq!(v.get("admin"), &Value::Bool(false));
        assert_eq!(from_value::<UserModel>(&v).unwrap(), s);
    }

    #[test]
    fn batched_answer_without_fields_keeps_state() {
        let s = state_from_api(&plan(), &user(&json!({"id": 7, "login": "alice"})).unwrap());
        assert_eq!(s.full_name, "");
        assert!(s.restricted);
        let mut ext = gitea_user();
        ext["source_id"] = json!(3);
        ext["login_name"] = json!("alice@ldap");
        let s = state_from_api(&plan(), &user(&ext).unwrap());
        assert_eq!((s.source_id, s.login_name.as_str()), (3, "alice@ldap"));
    }

    #[test]
    fn bodies() {
        let p = plan();
        let c = body(&create_body(&p));
        assert_eq!(
            c,
            json!({"username": "alice", "email": "alice@example.com", "full_name": "",
                   "password": "s3cret-pw", "login_name": "", "source_id": 0,
                   "must_change_password": false, "restricted": true,
                   "visibility": "public", "send_notify": false})
        );
        let e = body_of_edit(&p, None);
        assert_eq!(
            e["allow_create_organization"],
            json!(ALLOW_CREATE_ORGANIZATION)
        );
        assert_eq!(
            e["login_name"],
            json!("alice"),
            "local account: the username"
        );
        assert_eq!(e["max_repo_creation"], json!(-1));
        assert_eq!(e["active"], json!(true));
        assert!(e.get("password").is_none());
        let e = body_of_edit(
            &UserModel {
                source_id: 2,
                login_name: "alice@ldap".into(),
                ..p
            },
            Some("n3w-password"),
        );
        assert_eq!(e["login_name"], json!("alice@ldap"));
        assert_eq!(e["password"], json!("n3w-password"));
    }

    #[test]
    fn write_only_password_wins_at_create() {
        let p = UserModel {
            password_wo: Some("from-wo-123".into()),
            ..plan()
        };
        assert_eq!(create_body(&p).password, "from-wo-123");
    }
}
