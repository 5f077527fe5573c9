//! LiteLLM proxy simulator (key and team management of LiteLLM 1.106.2).
//!
//! Errors use the proxy's shapes: `{"error": {message, type, param, code}}`
//! for most failures (`code` is the status as a string), FastAPI's
//! `{"detail": [...]}` for 422 validation errors and `{"detail": {...}}` for
//! `/team/delete`'s own checks. The master key (role `proxy_admin`) may manage
//! every key and team; what any other key may do is decided in [`access`] as
//! LiteLLM decides it (`allowed_routes`, the caller's role, team membership and
//! `team_member_permissions`, the delegated budget ceiling).

mod access;
mod error;
mod fields;
mod keys;
mod models;
mod store;
mod teams;

use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

pub use error::ApiError;
pub use fields::Duration;
pub use store::{hash_if_needed, hash_token, State, Store, STATE_FILE};

use crate::http;
use crate::time::{self, Micros};

/// Service name (fault specs, logs, CLI output).
pub const SERVICE: &str = "litellm";

/// The `user_id` LiteLLM gives the master key (`created_by`, `deleted_by`).
pub const ADMIN_USER_ID: &str = "default_user_id";

/// Unauthenticated liveness routes.
pub fn is_health(path: &str) -> bool {
    matches!(path, "/health/liveliness" | "/health/liveness")
}

struct Lite {
    master_key: String,
    store: Store,
}

/// Who is calling.
enum Caller {
    Admin,
    /// A virtual key that passed the route gates.
    Key(Box<access::KeyCaller>),
}

/// The simulator's routes over `store`, managed with `master_key`.
pub fn router(master_key: impl Into<String>, store: Store) -> Router {
    let lite = Arc::new(Lite {
        master_key: master_key.into(),
        store,
    });
    Router::new()
        .route("/health/liveliness", get(alive).options(alive))
        .route("/health/liveness", get(alive).options(alive))
        .route("/key/generate", post(keys::generate))
        .route("/key/info", get(keys::info))
        .route("/key/update", post(keys::update))
        .route("/key/delete", post(keys::delete))
        .route("/key/list", get(keys::list))
        .route("/key/regenerate", post(keys::regenerate))
        .route("/key/*key", post(regenerate_by_path))
        .route("/team/member_add", post(teams::member_add))
        .route("/team/new", post(teams::new))
        .route("/team/info", get(teams::info))
        .route("/team/list", get(teams::list))
        .route("/team/update", post(teams::update))
        .route("/team/delete", post(teams::delete))
        .route("/team/permissions_update", post(teams::permissions_update))
        .route("/model/new", post(models::new))
        .route("/model/info", get(models::info))
        .route("/v1/model/info", get(models::info))
        .route(
            "/model/:model_id/update",
            axum::routing::patch(models::patch),
        )
        .route("/model/delete", post(models::delete))
        .with_state(lite)
        .fallback(|| async { http::detail(StatusCode::NOT_FOUND, "Not Found".into()) })
        .method_not_allowed_fallback(|| async {
            http::detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed".into())
        })
        .layer(axum::middleware::from_fn_with_state(
            SERVICE,
            http::log_requests,
        ))
}

/// `POST /key/{key}/regenerate` (the key may hold slashes: FastAPI's `{key:path}`).
async fn regenerate_by_path(
    state: axum::extract::State<Arc<Lite>>,
    headers: HeaderMap,
    axum::extract::Path(rest): axum::extract::Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    match rest.strip_suffix("/regenerate") {
        Some(key) if !key.is_empty() => {
            keys::regenerate(
                state,
                headers,
                Some(axum::extract::Path(key.to_owned())),
                bytes,
            )
            .await
        }
        _ => Ok(http::detail(StatusCode::NOT_FOUND, "Not Found".into())),
    }
}

async fn alive() -> Json<Value> {
    Json("I'm alive!".into())
}

/// The key presented in the request headers, in the proxy's order of preference.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    let bearer = value(header::AUTHORIZATION.as_str())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .filter(|k| !k.is_empty());
    bearer.or_else(|| {
        [
            "x-litellm-api-key",
            "api-key",
            "x-api-key",
            "x-goog-api-key",
            "ocp-apim-subscription-key",
        ]
        .into_iter()
        .find_map(value)
    })
}

/// `abcd****wxyz`, as LiteLLM masks keys in messages.
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() > 8 {
        format!(
            "{}****{}",
            chars[..4].iter().collect::<String>(),
            chars[chars.len() - 4..].iter().collect::<String>()
        )
    } else {
        "****".into()
    }
}

/// `sk-...wxyz` (the stored `key_name`).
fn abbreviate(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    format!(
        "sk-...{}",
        chars[chars.len().saturating_sub(4)..]
            .iter()
            .collect::<String>()
    )
}

/// `active`, `expired`, `revoked` (blocked) or `deleted`.
fn key_status(row: &Value, deleted: bool, now: Micros) -> &'static str {
    let expired = row["expires"]
        .as_str()
        .and_then(time::parse)
        .is_some_and(|e| e < now);
    if deleted {
        "deleted"
    } else if row["blocked"] == true {
        "revoked"
    } else if expired {
        "expired"
    } else {
        "active"
    }
}

impl Caller {
    /// The virtual key, when the caller is not the master key.
    fn key(&self) -> Option<&access::KeyCaller> {
        match self {
            Caller::Admin => None,
            Caller::Key(k) => Some(k),
        }
    }

    /// `created_by` / `updated_by` for a write: the caller's user, the admin's for the master key.
    fn changed_by(&self) -> Value {
        match self {
            Caller::Admin => ADMIN_USER_ID.into(),
            Caller::Key(k) => k.user_id.clone().map_or(Value::Null, Value::String),
        }
    }

    /// Refuses a non-admin on a write whose team-admin rules are not simulated.
    fn admin_only(&self, route: &str) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Key(_) => Err(access::not_simulated(route)),
        }
    }
}

impl Lite {
    /// Checks the caller's key like `user_api_key_auth`.
    fn authenticate(&self, headers: &HeaderMap, path: &str) -> Result<Caller, ApiError> {
        let Some(key) = presented_key(headers) else {
            return Err(ApiError::auth(
                "Authentication Error, No api key passed in.",
            ));
        };
        if key == self.master_key {
            return Ok(Caller::Admin);
        }
        if !key.starts_with("sk-") {
            return Err(ApiError::auth(format!(
                "Authentication Error, LiteLLM Virtual Key expected. Received={}, expected to start with 'sk-'.",
                mask(key)
            )));
        }
        let token = hash_token(key);
        let Some(row) = self.store.key(&token) else {
            return Err(ApiError::auth(format!(
                "Authentication Error, Invalid proxy server token passed. Received API Key = {}, Key Hash (Token) ={token}. Unable to find token in cache or `LiteLLM_VerificationTokenTable`",
                abbreviate(key)
            )));
        };
        match key_status(&row, false, time::now()) {
            "revoked" => Err(ApiError::auth(
                "Authentication Error, Key is blocked. Update via `/key/unblock` if you're admin.",
            )),
            "expired" => Err(ApiError::proxy(
                401,
                "expired_key",
                format!(
                    "Authentication Error - Expired Key. Key Expiry time {} and current time {}",
                    row["expires"].as_str().unwrap_or_default(),
                    time::format(time::now())
                ),
                Some("None"),
            )),
            _ => {
                let caller = self
                    .store
                    .read(|db| access::KeyCaller::from_row(&token, &row, db));
                access::check_route(&caller, path)?;
                Ok(Caller::Key(Box::new(caller)))
            }
        }
    }
}

/// Parses a JSON body, with FastAPI's 422 errors.
fn body(bytes: &[u8]) -> Result<Value, ApiError> {
    http::parse_body(bytes).map_err(ApiError::Validation)
}

/// The string value of a field, when set and not null.
fn str_of<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    m.get(name).and_then(Value::as_str)
}

fn ok(v: Value) -> Result<Response, ApiError> {
    Ok(http::json(StatusCode::OK, v))
}

/// Rejects negative budgets and non-finite numbers as `HTTPException(400)`.
fn check_numbers(f: &Map<String, Value>, kind: error::Kind) -> Result<(), ApiError> {
    for (name, v) in f.iter().filter(|(n, _)| fields::is_number_field(n)) {
        let Some(x) = fields::float(Some(v)) else {
            continue;
        };
        let problem = if matches!(
            name.as_str(),
            "max_budget" | "soft_budget" | "team_member_budget"
        ) && x < 0.0
        {
            "cannot be negative"
        } else if !x.is_finite() {
            "must be a finite number"
        } else {
            continue;
        };
        return Err(ApiError::http_error(
            kind,
            400,
            format!("{name} {problem}. Received: {}", http::py_float(x)),
        ));
    }
    Ok(())
}

/// `CommonProxyErrors.not_premium_user` (litellm/proxy/_types.py).
pub(crate) const NOT_PREMIUM: &str = "You must be a LiteLLM Enterprise user to use this feature. If you have a license please set `LITELLM_LICENSE` in your env. Get a 7 day trial key here: https://www.litellm.ai/enterprise#trial. \nPricing: https://www.litellm.ai/#pricing";

/// 403 for an enterprise feature on an unlicensed proxy (`require_enterprise_license`,
/// litellm/proxy/utils.py: `HTTPException(403, {"error": ...})`).
fn premium_required(kind: error::Kind, feature: &str) -> ApiError {
    ApiError::http_error(
        kind,
        403,
        format!(
            "This feature is only available for LiteLLM Enterprise users: {feature}. {NOT_PREMIUM}"
        ),
    )
}

/// Moves the metadata-backed fields of `f` (non-null ones; null means "not set", as the proxy's
/// `model_dump(exclude_none=True)`) into `metadata`, which starts from `base`, as
/// `set_object_metadata_field` / `prepare_metadata_fields` do
/// (management_endpoints/common_utils.py, key_management_endpoints.py). Truthy premium
/// fields need a licence.
fn move_to_metadata(
    f: &mut Map<String, Value>,
    base: &Value,
    premium: bool,
    kind: error::Kind,
) -> Result<Value, ApiError> {
    let mut meta = base.as_object().cloned().unwrap_or_default();
    let names: Vec<String> = f
        .keys()
        .filter(|n| fields::is_metadata_field(n))
        .cloned()
        .collect();
    for name in names {
        let v = f.remove(&name).unwrap_or(Value::Null);
        if v.is_null() {
            continue;
        }
        if !premium
            && fields::PREMIUM_METADATA_FIELDS.contains(&name.as_str())
            && fields::truthy(&v)
        {
            return Err(premium_required(kind, &name));
        }
        meta.insert(name, v);
    }
    Ok(Value::Object(meta))
}

/// `now + duration` as a timestamp string; a bad duration is a plain exception.
fn after(duration: &str, now: Micros, kind: error::Kind) -> Result<Value, ApiError> {
    let d = Duration::parse(duration).map_err(|m| ApiError::exception(kind, m))?;
    Ok(json!(time::format(d.after(now))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_abbreviations() {
        assert_eq!(
            mask("bad-prefix-1234567890abcdefghijklmnop"),
            "bad-****mnop"
        );
        assert_eq!(mask("short"), "****");
        assert_eq!(abbreviate("sk-1234567890abcdef"), "sk-...cdef");
    }

    #[test]
    fn bearer_first_then_other_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "sk-b".parse().unwrap());
        assert_eq!(presented_key(&h), Some("sk-b"));
        h.insert("authorization", "Bearer sk-a".parse().unwrap());
        assert_eq!(presented_key(&h), Some("sk-a"));
        h.insert("authorization", "Basic xyz".parse().unwrap());
        assert_eq!(presented_key(&h), Some("sk-b"));
    }
}
