#![allow(clippy::result_large_err)]
//! Coder v2.15 API v2 simulator: users (site roles, status, login type), organizations, file
//! uploads, template versions whose provisioner job runs asynchronously (pending -> running ->
//! succeeded / failed, with logs), templates and their settings, and groups — behind the
//! Premium licence like the real server (`SandboxConfig::coder_premium`; without it every group
//! endpoint answers 403, enterprise/coderd/coderd.go `RequireFeatureMW(FeatureTemplateRBAC)`).
//!
//! A fresh Coder (`SandboxConfig::coder_fresh`) has no users: `GET /users/first` answers 404 until
//! `POST /users/first` makes the owner, and `POST /users/login` hands out session tokens.
//!
//! Auth: `Coder-Session-Token` header (or the `coder_session_token` cookie); errors are
//! `codersdk.Response` (`{"message", "detail", "validations": [{field, detail}]}`). A version
//! fails when the uploaded tar holds no `.tf` file, or a file containing
//! [`FAIL_MARKER`] (the tests' way to make a build fail).

mod api;

use crate::table::Table;
use std::sync::Arc;

use axum::routing::{get, post, put};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::store::JsonStore;
use crate::SandboxConfig;

/// Service name (fault specs, logs, CLI output).
pub const SERVICE: &str = "coder";

/// Name of the state file in the state directory.
pub const STATE_FILE: &str = "coder.json";

/// Text that makes a template version's build fail in the simulator.
pub const FAIL_MARKER: &str = "WEBIDE_SANDBOX_FAIL";

/// How long a job stays pending, then running (milliseconds).
const PENDING_MS: i64 = 200;
const RUNNING_MS: i64 = 700;

/// Everything the simulator stores (rows as the API shows them, plus private fields).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub seeded: bool,
    pub users: Table<String, Value>,
    pub passwords: Table<String, String>,
    pub orgs: Table<String, Value>,
    /// file id -> base64 of the tar.
    pub files: Table<String, String>,
    pub versions: Table<String, Value>,
    pub templates: Table<String, Value>,
    pub groups: Table<String, Value>,
    /// Session tokens from `POST /users/login` -> user id.
    pub sessions: Table<String, String>,
}

impl State {
    /// The user by username.
    pub fn user(&self, username: &str) -> Option<&Value> {
        self.users.values().find(|u| u["username"] == username)
    }

    /// The template by name.
    pub fn template(&self, name: &str) -> Option<&Value> {
        self.templates.values().find(|t| t["name"] == name)
    }

    /// The group by name.
    pub fn group(&self, name: &str) -> Option<&Value> {
        self.groups.values().find(|g| g["name"] == name)
    }

    /// Whether `password` is the password of the user `username` (for tests).
    pub fn password_matches(&self, username: &str, password: &str) -> bool {
        let id = self.user(username).and_then(|u| u["id"].as_str());
        id.is_some_and(|id| self.passwords.get(id) == Some(&api::hash(password)))
    }
}

/// Cloneable handle on the simulator's state.
pub type Store = JsonStore<State>;

/// Unauthenticated health routes.
pub fn is_health(path: &str) -> bool {
    matches!(path, "/healthz" | "/api/v2/buildinfo")
}

pub(crate) struct Coder {
    /// The fixed admin's session token; `None` for a fresh Coder.
    token: Option<String>,
    admin_email: String,
    premium: bool,
    store: Store,
}

/// The default organization, and unless `fresh` the fixed admin (Coder v2.15 makes the default
/// organization in a migration; the first user joins it).
fn seed(st: &mut State, email: &str, password: &str, fresh: bool) {
    if st.seeded {
        return;
    }
    st.seeded = true;
    let org = uuid::Uuid::new_v4().to_string();
    st.orgs.insert(
        org.clone(),
        json!({"id": org, "name": "coder", "display_name": "Coder", "description": "", "icon": "",
               "is_default": true, "created_at": api::now(), "updated_at": api::now()}),
    );
    if fresh {
        return;
    }
    let id = uuid::Uuid::new_v4().to_string();
    st.users.insert(
        id.clone(),
        json!({"id": id, "username": "admin", "email": email, "name": "Admin", "login_type": "password",
               "status": "active", "roles": ["owner"], "organization_ids": [org],
               "created_at": api::now(), "updated_at": api::now(), "avatar_url": "", "theme_preference": ""}),
    );
    st.passwords.insert(id, api::hash(password));
}

/// The simulator's routes over `store`.
pub fn router(config: &SandboxConfig, store: Store) -> Router {
    let (email, pw) = (
        config.coder_admin_email.clone(),
        config.coder_admin_password.clone(),
    );
    let fresh = config.coder_fresh;
    let _ = store.mutate(|st| seed(st, &email, &pw, fresh));
    let c = Arc::new(Coder {
        token: (!fresh).then(|| config.coder_session_token.clone()),
        admin_email: config.coder_admin_email.clone(),
        premium: config.coder_premium,
        store,
    });
    let v2 = Router::new()
        .route("/buildinfo", get(|| async { axum::Json(json!({"version": "v2.15.0+sandbox", "external_url": "", "dashboard_url": "/", "workspace_proxy": false, "agent_api_version": "2.2"})) }))
        .route("/users", get(api::list_users).post(api::create_user))
        .route("/users/first", get(api::first_user).post(api::post_first_user))
        .route("/users/login", post(api::login))
        .route("/users/:user", get(api::get_user).delete(api::delete_user))
        .route("/users/:user/profile", put(api::update_profile))
        .route("/users/:user/roles", get(api::get_roles).put(api::update_roles))
        .route("/users/:user/status/:status", put(api::update_status))
        .route("/users/:user/password", put(api::update_password))
        .route("/users/:user/login-type", get(api::get_login_type))
        .route("/organizations", get(api::list_orgs))
        .route("/organizations/:org", get(api::get_org))
        .route("/files", post(api::upload))
        .route("/organizations/:org/templateversions", post(api::create_version))
        .route("/templateversions/:id", get(api::get_version))
        .route("/templateversions/:id/logs", get(api::version_logs))
        .route("/organizations/:org/templates", get(api::list_templates).post(api::create_template))
        .route("/organizations/:org/templates/:name", get(api::template_by_name))
        .route("/templates/:id", get(api::get_template).patch(api::update_template).delete(api::delete_template))
        .route("/templates/:id/versions", get(api::template_versions).patch(api::set_active_version))
        .route("/organizations/:org/groups", get(api::list_groups).post(api::create_group))
        .route("/organizations/:org/groups/:name", get(api::group_by_name))
        .route("/groups/:id", get(api::get_group).patch(api::patch_group).delete(api::delete_group))
        .with_state(c);
    Router::new()
        .route("/healthz", get(|| async { "OK" }))
        .nest("/api/v2", v2)
        .fallback(|| async { api::err(axum::http::StatusCode::NOT_FOUND, "Route not found.", "") })
        .layer(axum::middleware::from_fn_with_state(
            SERVICE,
            crate::http::log_requests,
        ))
}
