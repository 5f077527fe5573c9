#![allow(clippy::result_large_err)]
//! Gitea 1.25 API v1 simulator: admin user management (create, then edit for the flags the
//! create call leaves alone), organizations, teams with members and repositories,
//! repositories and collaborators, with Gitea's visibility rules for restricted users.
//!
//! Auth as Gitea: `Authorization: token <t>` / `Bearer <t>`, `?access_token=` / `?token=`, or
//! basic auth with a user's password. Errors are `{"message": ..., "url": ...}` with Gitea's
//! status codes (401, 403, 404, 409, 422). Lists take `page` (from 1) and `limit` and set
//! `X-Total-Count`.

mod orgs;
mod repos;
mod tokens;
mod users;

pub use tokens::TokenRow;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::store::JsonStore;
use crate::table::Table;
use crate::time::{self, Micros};
use crate::SandboxConfig;

/// Service name (fault specs, logs, CLI output).
pub const SERVICE: &str = "gitea";

/// Name of the state file in the state directory.
pub const STATE_FILE: &str = "gitea.json";

/// Gitea's page size when `limit` is absent, and its maximum.
const DEFAULT_LIMIT: usize = 30;
const MAX_LIMIT: usize = 50;

/// A user account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub full_name: String,
    /// sha256 of the password (hex); empty = no password login.
    pub password_hash: String,
    pub login_name: String,
    pub source_id: i64,
    pub must_change_password: bool,
    pub restricted: bool,
    pub is_admin: bool,
    pub allow_create_organization: bool,
    /// Repositories the user may own; `None` (Gitea's -1) = the site's `MAX_CREATION_LIMIT`,
    /// which is unlimited here as in a default app.ini.
    pub max_repo_creation: Option<i64>,
    pub prohibit_login: bool,
    pub active: bool,
    pub visibility: String,
    pub description: String,
    pub website: String,
    pub location: String,
    pub created: Micros,
}

/// An organization.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgRow {
    pub id: i64,
    pub name: String,
    pub full_name: String,
    pub description: String,
    pub email: String,
    pub website: String,
    pub location: String,
    pub visibility: String,
    pub repo_admin_change_team_access: bool,
}

/// A team of an organization.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TeamRow {
    pub id: i64,
    pub org: String,
    pub name: String,
    pub description: String,
    pub permission: String,
    pub units: Vec<String>,
    pub units_map: BTreeMap<String, String>,
    pub includes_all_repositories: bool,
    pub can_create_org_repo: bool,
    /// Lowercase logins.
    pub members: BTreeSet<String>,
    /// Lowercase `owner/name` of the team's repositories.
    pub repos: BTreeSet<String>,
}

/// A repository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepoRow {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub description: String,
    pub private: bool,
    pub default_branch: String,
    pub website: String,
    pub archived: bool,
    pub has_issues: bool,
    pub has_wiki: bool,
    pub has_pull_requests: bool,
    /// Lowercase login -> `read` / `write` / `admin`.
    pub collaborators: BTreeMap<String, String>,
    pub created: Micros,
    pub updated: Micros,
}

/// Everything the simulator stores. Keys are lowercase (Gitea names are case-insensitive).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub next_id: i64,
    pub users: Table<String, UserRow>,
    pub orgs: Table<String, OrgRow>,
    pub teams: Table<i64, TeamRow>,
    /// `owner/name` (lowercase) -> repository.
    pub repos: Table<String, RepoRow>,
    /// Personal access tokens by id.
    pub tokens: Table<i64, TokenRow>,
}

impl State {
    fn id(&mut self) -> i64 {
        self.next_id = self.next_id.max(1) + 1;
        self.next_id
    }

    /// Whether `name` is taken by a user or an organization.
    fn name_taken(&self, name: &str) -> bool {
        let k = name.to_lowercase();
        self.users.contains_key(&k) || self.orgs.contains_key(&k)
    }
}

/// Cloneable handle on the simulator's state.
pub type Store = JsonStore<State>;

/// Unauthenticated health routes (only subject to latency and down time faults).
pub fn is_health(path: &str) -> bool {
    matches!(path, "/api/healthz" | "/api/v1/version")
}

pub(crate) struct Gitea {
    admin_login: String,
    admin_token: String,
    store: Store,
}

/// The simulator's routes over `store`. The site admin of `config` is created on first use.
pub fn router(config: &SandboxConfig, store: Store) -> Router {
    let admin = config.gitea_admin_username.clone();
    let hash = hash_password(&config.gitea_admin_password);
    let _ = store.mutate(|s| {
        let key = admin.to_lowercase();
        if !s.users.contains_key(&key) {
            let id = s.id();
            s.users.insert(
                key,
                UserRow {
                    id,
                    login: admin.clone(),
                    email: format!("{admin}@example.com"),
                    password_hash: hash,
                    login_name: String::new(),
                    is_admin: true,
                    allow_create_organization: true,
                    active: true,
                    visibility: "public".into(),
                    created: time::now(),
                    ..Default::default()
                },
            );
        }
    });
    let g = Arc::new(Gitea {
        admin_login: config.gitea_admin_username.to_lowercase(),
        admin_token: config.gitea_admin_token.clone(),
        store,
    });
    let api = Router::new()
        .route(
            "/version",
            get(|| async { Json(json!({"version": "1.25.5"})) }),
        )
        .route("/user", get(users::me))
        .route(
            "/user/repos",
            get(repos::my_repos).post(repos::create_for_me),
        )
        .route("/admin/users", get(users::list).post(users::create))
        .route(
            "/admin/users/:username",
            axum::routing::patch(users::edit).delete(users::delete),
        )
        .route(
            "/admin/users/:username/rename",
            axum::routing::post(users::rename),
        )
        .route(
            "/admin/users/:username/repos",
            axum::routing::post(repos::create_for_user),
        )
        .route("/users/:username", get(users::get))
        .route(
            "/users/:username/tokens",
            get(tokens::list).post(tokens::create),
        )
        .route(
            "/users/:username/tokens/:token",
            axum::routing::delete(tokens::delete),
        )
        .route("/orgs", axum::routing::post(orgs::create))
        .route(
            "/orgs/:org",
            get(orgs::get).patch(orgs::edit).delete(orgs::delete),
        )
        .route(
            "/orgs/:org/teams",
            get(orgs::list_teams).post(orgs::create_team),
        )
        .route(
            "/orgs/:org/repos",
            get(repos::org_repos).post(repos::create_for_org),
        )
        .route(
            "/teams/:id",
            get(orgs::get_team)
                .patch(orgs::edit_team)
                .delete(orgs::delete_team),
        )
        .route("/teams/:id/members", get(orgs::team_members))
        .route(
            "/teams/:id/members/:username",
            get(orgs::team_member)
                .put(orgs::add_member)
                .delete(orgs::remove_member),
        )
        .route("/teams/:id/repos", get(orgs::team_repos))
        .route(
            "/teams/:id/repos/:owner/:repo",
            put(orgs::add_team_repo).delete(orgs::remove_team_repo),
        )
        .route("/repos/search", get(repos::search))
        .route(
            "/repos/:owner/:repo",
            get(repos::get).patch(repos::edit).delete(repos::delete),
        )
        .route(
            "/repos/:owner/:repo/collaborators",
            get(repos::collaborators),
        )
        .route(
            "/repos/:owner/:repo/collaborators/:username",
            get(repos::is_collaborator)
                .put(repos::add_collaborator)
                .delete(repos::remove_collaborator),
        )
        .route(
            "/repos/:owner/:repo/collaborators/:username/permission",
            get(repos::collaborator_permission),
        )
        .layer(axum::middleware::from_fn_with_state(
            g.clone(),
            token_scopes,
        ))
        .with_state(g);
    Router::new()
        .route(
            "/api/healthz",
            get(|| async { Json(json!({"status": "pass"})) }),
        )
        .nest("/api/v1", api)
        .fallback(|| async { err(StatusCode::NOT_FOUND, "not found") })
        .layer(axum::middleware::from_fn_with_state(
            SERVICE,
            crate::http::log_requests,
        ))
}

/// A Gitea API error: `{"message", "url"}`.
pub(crate) fn err(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"message": message.into(), "url": "/api/swagger"})),
    )
        .into_response()
}

pub(crate) type Answer = Result<Response, Response>;

pub(crate) fn ok(status: StatusCode, body: Value) -> Answer {
    Ok((status, Json(body)).into_response())
}

pub(crate) fn no_content() -> Answer {
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) fn hash_password(p: &str) -> String {
    hex::encode(Sha256::digest(format!("gitea-sandbox:{p}").as_bytes()))
}

/// Who is calling.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub login: String,
    pub is_admin: bool,
    pub restricted: bool,
    /// Signed in by basic auth with the password (not a token).
    pub basic_password: bool,
    /// A personal access token's scopes; `None` when not signed in with one.
    pub scopes: Option<Vec<String>>,
}

impl Caller {
    pub fn key(&self) -> String {
        self.login.to_lowercase()
    }
}

fn query_token(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        matches!(k, "access_token" | "token").then(|| v.to_string())
    })
}

impl Gitea {
    /// The caller, `None` for anonymous; `Err` for bad credentials (401) or a barred user (403).
    pub(crate) fn caller(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<Option<Caller>, Response> {
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let token = auth
            .and_then(|a| {
                a.strip_prefix("token ")
                    .or_else(|| a.strip_prefix("Bearer "))
                    .or_else(|| a.strip_prefix("bearer "))
            })
            .map(str::to_string)
            .or_else(|| query_token(query));
        let state = self.store.snapshot();
        let as_caller = |u: &UserRow| Caller {
            login: u.login.clone(),
            is_admin: u.is_admin,
            restricted: u.restricted,
            basic_password: false,
            scopes: None,
        };
        // A personal access token (services/auth: header, query, or basic auth's password).
        let personal = |t: &str| -> Option<Result<Caller, Response>> {
            let hash = tokens::hash_token(t);
            let row = state.tokens.values().find(|r| r.hash == hash)?;
            let user = state.users.get(&row.owner)?;
            if user.prohibit_login || !user.active {
                return Some(Err(err(
                    StatusCode::FORBIDDEN,
                    "user is not allowed to sign in",
                )));
            }
            Some(Ok(Caller {
                scopes: Some(row.scopes.clone()),
                ..as_caller(user)
            }))
        };
        if let Some(t) = token {
            if t == self.admin_token {
                return state
                    .users
                    .get(&self.admin_login)
                    .map(|u| Some(as_caller(u)))
                    .ok_or_else(|| err(StatusCode::UNAUTHORIZED, "user does not exist"));
            }
            if let Some(c) = personal(&t) {
                return c.map(Some);
            }
            return Err(err(
                StatusCode::UNAUTHORIZED,
                "invalid username, password or token",
            ));
        }
        if let Some(basic) = auth.and_then(|a| {
            a.strip_prefix("Basic ")
                .or_else(|| a.strip_prefix("basic "))
        }) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(basic.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| err(StatusCode::UNAUTHORIZED, "invalid basic authentication"))?;
            let (user, pass) = decoded.split_once(':').unwrap_or((&decoded, ""));
            // A token as the password (or as the user name with an empty or
            // `x-oauth-basic` password) is token auth, not a password login.
            let as_token = match pass {
                "" | "x-oauth-basic" => user,
                p => p,
            };
            if let Some(c) = personal(as_token) {
                return c.map(Some);
            }
            let key = user.to_lowercase();
            let row = state
                .users
                .get(&key)
                .or_else(|| {
                    state
                        .users
                        .values()
                        .find(|u| u.email.eq_ignore_ascii_case(user))
                })
                .filter(|u| !u.password_hash.is_empty() && u.password_hash == hash_password(pass))
                .ok_or_else(|| {
                    err(
                        StatusCode::UNAUTHORIZED,
                        "invalid username, password or token",
                    )
                })?;
            if row.prohibit_login || !row.active {
                return Err(err(StatusCode::FORBIDDEN, "user is not allowed to sign in"));
            }
            return Ok(Some(Caller {
                basic_password: true,
                ..as_caller(row)
            }));
        }
        Ok(None)
    }

    /// The caller, who must be signed in.
    pub(crate) fn signed_in(&self, req: &RequestParts) -> Result<Caller, Response> {
        self.caller(&req.headers, req.query.as_deref())?
            .ok_or_else(|| err(StatusCode::UNAUTHORIZED, "token is required"))
    }

    /// The caller, who must be a site administrator.
    pub(crate) fn admin(&self, req: &RequestParts) -> Result<Caller, Response> {
        let c = self.signed_in(req)?;
        if !c.is_admin {
            return Err(err(
                StatusCode::FORBIDDEN,
                "reqSiteAdmin: must be a site administrator",
            ));
        }
        Ok(c)
    }

    /// Runs a change; the closure's `Err` is the answer.
    pub(crate) fn commit<R>(
        &self,
        f: impl FnOnce(&mut State, Micros) -> Result<R, Response>,
    ) -> Result<R, Response> {
        self.store.commit(f, |e| {
            err(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))
        })
    }

    pub(crate) fn state(&self) -> State {
        self.store.snapshot()
    }
}

/// Refuses a request made with a personal access token whose scopes do not cover the route;
/// credential errors are left to the handler.
async fn token_scopes(
    axum::extract::State(g): axum::extract::State<Arc<Gitea>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    if let Ok(Some(Caller {
        scopes: Some(scopes),
        ..
    })) = g.caller(req.headers(), req.uri().query())
    {
        if let Err(refused) = tokens::check_scope(&scopes, req.method(), req.uri().path()) {
            return refused;
        }
    }
    next.run(req).await
}

/// Headers and query of a request, for auth.
pub(crate) struct RequestParts {
    pub headers: HeaderMap,
    pub query: Option<String>,
}

impl RequestParts {
    pub fn of(req: &Request) -> RequestParts {
        RequestParts {
            headers: req.headers().clone(),
            query: req.uri().query().map(str::to_string),
        }
    }

    /// A query parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.as_deref()?.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then(|| crate::http::url_decode(v))
        })
    }
}

/// Reads the JSON body of `req` (422 when it is not JSON).
pub(crate) async fn body(req: Request) -> Result<(RequestParts, Value), Response> {
    let parts = RequestParts::of(&req);
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map_err(|_| err(StatusCode::BAD_REQUEST, "request body too large"))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((parts, json!({})));
    }
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        err(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("[]: invalid JSON: {e}"),
        )
    })?;
    if !v.is_object() {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "[]: request body must be an object",
        ));
    }
    Ok((parts, v))
}

/// One page of `items` (Gitea: `page` from 1, `limit` capped) with `X-Total-Count`.
pub(crate) fn page(parts: &RequestParts, items: Vec<Value>) -> Answer {
    let total = items.len();
    let limit = parts
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_LIMIT)
        .min(MAX_LIMIT);
    let page = parts
        .param("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    let mut res = (StatusCode::OK, Json(Value::Array(slice))).into_response();
    res.headers_mut().insert(
        "X-Total-Count",
        HeaderValue::from_str(&total.to_string()).unwrap(),
    );
    res.headers_mut().insert(
        "Access-Control-Expose-Headers",
        HeaderValue::from_static("X-Total-Count, Link"),
    );
    Ok(res)
}

/// Gitea's name rule for users, orgs and repos: alphanumerics, `-`, `_`, `.`; no leading or
/// trailing punctuation, no consecutive punctuation.
pub(crate) fn valid_name(name: &str) -> bool {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    let punct = |c: char| "-_.".contains(c);
    !name.is_empty()
        && name.len() <= 40
        && ok_chars
        && !name.starts_with(punct)
        && !name.ends_with(punct)
        && !name.contains("..")
        && !name.contains("--")
        && !name.contains("__")
}

pub(crate) fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

pub(crate) fn b(v: &Value, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}

/// A type error the way Gitea's binding reports it (422).
pub(crate) fn check_types(v: &Value, fields: &[(&str, &str)]) -> Result<(), Response> {
    for (name, ty) in fields {
        let Some(x) = v.get(*name) else { continue };
        let ok = match *ty {
            "string" => x.is_string() || x.is_null(),
            "bool" => x.is_boolean() || x.is_null(),
            "int" => x.is_i64() || x.is_null(),
            _ => true,
        };
        if !ok {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("[{name}]: cannot unmarshal into a {ty}"),
            ));
        }
    }
    Ok(())
}
