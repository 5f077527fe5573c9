#![allow(clippy::result_large_err)]
//! Authentik 2026.2 API v3 simulator: users (with `set_password`), groups, OAuth2 scope
//! mappings, OAuth2 providers, applications and flows, as Django REST Framework serves them:
//! `Authorization: Bearer <token>`, 403 `{"detail": ...}` without valid credentials, 400 with
//! per-field errors `{"field": ["message"]}`, 404 `{"detail": "No X matches the given query."}`,
//! and the `{"pagination": {...}, "results": [...]}` envelope (`page`, `page_size`).
//!
//! Seeded like a fresh install: `akadmin` in the superuser group `authentik Admins`, the
//! default flows and the managed `openid`/`email`/`profile`/`offline_access` scope mappings.

mod collections;

use crate::table::Table;
use std::sync::Arc;

use axum::extract::{Path, Request, State as AxState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::store::JsonStore;
use crate::SandboxConfig;

pub use collections::Kind;

/// Service name (fault specs, logs, CLI output).
pub const SERVICE: &str = "authentik";

/// Name of the state file in the state directory.
pub const STATE_FILE: &str = "authentik.json";

/// Everything the simulator stores: one map of rows per collection (key: the lookup field).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub next_pk: i64,
    pub seeded: bool,
    pub rows: Table<String, Table<String, Value>>,
    /// user pk -> password hash.
    pub passwords: Table<String, String>,
}

impl State {
    pub fn rows(&self, kind: Kind) -> impl Iterator<Item = &Value> {
        self.rows
            .get(kind.name())
            .into_iter()
            .flat_map(|m| m.values())
    }

    pub fn get(&self, kind: Kind, key: &str) -> Option<&Value> {
        self.rows.get(kind.name()).and_then(|m| m.get(key))
    }

    pub(crate) fn table(&mut self, kind: Kind) -> &mut Table<String, Value> {
        self.rows.entry(kind.name().to_string()).or_default()
    }

    pub(crate) fn next_pk(&mut self) -> i64 {
        self.next_pk += 1;
        self.next_pk
    }

    /// Users of the user collection (not the seeded admin) and groups etc. for tests.
    pub fn count(&self, kind: Kind) -> usize {
        self.rows(kind).count()
    }

    /// The user with `username`.
    pub fn user(&self, username: &str) -> Option<&Value> {
        self.rows(Kind::Users).find(|u| u["username"] == username)
    }

    /// The group named `name`.
    pub fn group(&self, name: &str) -> Option<&Value> {
        self.rows(Kind::Groups).find(|g| g["name"] == name)
    }

    /// Whether `password` is the user's password.
    pub fn password_matches(&self, pk: i64, password: &str) -> bool {
        self.passwords.get(&pk.to_string()) == Some(&hash(password))
    }
}

pub(crate) fn hash(p: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("authentik-sandbox:{p}").as_bytes()))
}

/// Cloneable handle on the simulator's state.
pub type Store = JsonStore<State>;

/// Unauthenticated health routes.
pub fn is_health(path: &str) -> bool {
    matches!(path, "/-/health/ready/" | "/-/health/live/")
}

pub(crate) struct Authentik {
    token: String,
    store: Store,
}

/// A DRF error response.
pub(crate) fn detail(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({ "detail": msg }))).into_response()
}

/// 400 with field errors.
pub(crate) fn field_errors(errors: Map<String, Value>) -> Response {
    (StatusCode::BAD_REQUEST, Json(Value::Object(errors))).into_response()
}

/// The simulator's routes over `store`.
pub fn router(config: &SandboxConfig, store: Store) -> Router {
    let _ = store.mutate(collections::seed);
    let a = Arc::new(Authentik {
        token: config.authentik_token.clone(),
        store,
    });
    let mut api = Router::new()
        .route("/root/config/", get(|| async { Json(json!({"error_reporting": {"enabled": false}, "capabilities": []})) }))
        .route("/admin/version/", get(|| async { Json(json!({"version_current": "2026.2.2", "version_latest": "2026.2.2", "version_latest_valid": true, "build_hash": "", "outdated": false, "outpost_outdated": false})) }))
        .route("/core/users/:key/set_password/", post(set_password))
        .route("/core/groups/:key/add_user/", post(|s, p, r| group_member(s, p, r, true)))
        .route("/core/groups/:key/remove_user/", post(|s, p, r| group_member(s, p, r, false)));
    for kind in Kind::ALL {
        api = api
            .route(
                kind.path(),
                get(collections::list).post(collections::create),
            )
            .route(
                &format!("{}:key/", kind.path()),
                get(collections::retrieve)
                    .put(collections::update)
                    .patch(collections::partial_update)
                    .delete(collections::destroy),
            );
    }
    Router::new()
        .route("/-/health/ready/", get(|| async { StatusCode::OK }))
        .route("/-/health/live/", get(|| async { StatusCode::OK }))
        .nest("/api/v3", api.with_state(a))
        .fallback(|| async { detail(StatusCode::NOT_FOUND, "Not found.") })
        .layer(axum::middleware::from_fn_with_state(
            SERVICE,
            crate::http::log_requests,
        ))
}

impl Authentik {
    /// DRF token authentication: 403 without valid credentials.
    pub(crate) fn auth(&self, req: &Request) -> Result<(), Response> {
        let auth = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                detail(
                    StatusCode::FORBIDDEN,
                    "Authentication credentials were not provided.",
                )
            })?;
        match auth.strip_prefix("Bearer ") {
            Some(t) if t.trim() == self.token => Ok(()),
            _ => Err(detail(StatusCode::FORBIDDEN, "Token invalid/expired")),
        }
    }

    pub(crate) fn commit<R>(
        &self,
        f: impl FnOnce(&mut State) -> Result<R, Response>,
    ) -> Result<R, Response> {
        self.store.commit(
            |st, _| f(st),
            |e| detail(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e:#}")),
        )
    }
}

/// POST /core/users/{id}/set_password/ `{"password": ...}` -> 204.
async fn set_password(
    AxState(a): AxState<Arc<Authentik>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    if let Err(r) = a.auth(&req) {
        return r;
    }
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let Some(pw) = body.get("password").and_then(Value::as_str) else {
        return field_errors(
            [("password".to_string(), json!(["This field is required."]))]
                .into_iter()
                .collect(),
        );
    };
    let res = a.commit(|st| {
        if st.get(Kind::Users, &id).is_none() {
            return Err(detail(
                StatusCode::NOT_FOUND,
                "No User matches the given query.",
            ));
        }
        st.passwords.insert(id.clone(), hash(pw));
        Ok(())
    });
    match res {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}

/// POST /core/groups/{uuid}/add_user/ and /remove_user/ `{"pk": <user pk>}` -> 204
/// (`GroupViewSet.add_user` / `remove_user`, authentik/core/api/groups.py): 404 `Not found.`
/// for an unknown user (`Http404`), 400 without an integer `pk`.
async fn group_member(
    AxState(a): AxState<Arc<Authentik>>,
    Path(group): Path<String>,
    req: Request,
    add: bool,
) -> Response {
    if let Err(r) = a.auth(&req) {
        return r;
    }
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let user = match body.get("pk") {
        None | Some(Value::Null) => {
            return field_errors(
                [("pk".to_string(), json!(["This field is required."]))]
                    .into_iter()
                    .collect(),
            )
        }
        Some(v) => match v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(pk) => pk,
            None => {
                return field_errors(
                    [("pk".to_string(), json!(["A valid integer is required."]))]
                        .into_iter()
                        .collect(),
                )
            }
        },
    };
    let res = a.commit(|st| {
        let Some(gpk) = st.get(Kind::Groups, &group).map(|g| g["pk"].clone()) else {
            return Err(detail(
                StatusCode::NOT_FOUND,
                "No Group matches the given query.",
            ));
        };
        let Some(u) = st.table(Kind::Users).get_mut(&user.to_string()) else {
            return Err(detail(StatusCode::NOT_FOUND, "Not found."));
        };
        if let Some(groups) = u["groups"].as_array_mut() {
            groups.retain(|g| *g != gpk);
            if add {
                groups.push(gpk);
            }
        }
        Ok(())
    });
    match res {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}
