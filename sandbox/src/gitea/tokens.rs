//! Personal access tokens: `/users/{username}/tokens` (list, create) and
//! `/users/{username}/tokens/{token}` (delete by id, or by name when not a number), as Gitea
//! 1.25 serves them (routers/api/v1/api.go, routers/api/v1/user/app.go): the user must exist
//! (404), the caller must be that user or a site admin (`reqSelfOrAdmin`, 403) signed in with
//! basic auth and a password, never a token (`reqBasicOrRevProxyAuth`, 401 "auth required").
//! A token made here authenticates later calls within its scopes (see [`check_scope`]).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{body, err, no_content, ok, page};
use super::{Answer, Caller, Gitea, RequestParts};
use crate::table::TableExt;
use crate::time::Micros;

/// Scope categories (models/auth/access_token_scope.go).
const CATEGORIES: &[&str] = &[
    "activitypub",
    "admin",
    "issue",
    "misc",
    "notification",
    "organization",
    "package",
    "repository",
    "user",
];

/// Gitea leaves `created_at` and `last_used_at` unset in these answers: Go's zero time.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A stored access token: only its hash and last eight characters, as Gitea keeps it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenRow {
    pub id: i64,
    /// Lowercase login of the owner.
    pub owner: String,
    pub name: String,
    /// sha256 (hex) of the token.
    pub hash: String,
    pub last_eight: String,
    /// Normalized scopes.
    pub scopes: Vec<String>,
    pub created: Micros,
}

pub(crate) fn hash_token(t: &str) -> String {
    hex::encode(Sha256::digest(
        format!("gitea-sandbox-token:{t}").as_bytes(),
    ))
}

/// `AccessTokenScope.Normalize`: every scope known, `all` absorbs the categories, `write:X`
/// absorbs `read:X`; `None` names the first unknown scope.
fn normalize(scopes: &[String]) -> Result<Vec<String>, String> {
    let mut parts: Vec<String> = Vec::new();
    for s in scopes.iter().flat_map(|s| s.split(',')).map(str::trim) {
        if s.is_empty() {
            continue;
        }
        let known = matches!(s, "all" | "public-only")
            || s.split_once(':')
                .is_some_and(|(l, c)| matches!(l, "read" | "write") && CATEGORIES.contains(&c));
        if !known {
            return Err(format!("access token scope `{s}` is not valid"));
        }
        if !parts.iter().any(|p| p == s) {
            parts.push(s.to_string());
        }
    }
    let all = parts.iter().any(|p| p == "all");
    let has = |p: &str| parts.iter().any(|x| x == p);
    let kept: Vec<String> = parts
        .iter()
        .filter(|p| match p.split_once(':') {
            _ if p.as_str() == "all" || p.as_str() == "public-only" => true,
            Some(("read", c)) => !all && !has(&format!("write:{c}")),
            Some(_) => !all,
            None => false,
        })
        .cloned()
        .collect();
    Ok(kept)
}

/// The category a request path needs (routers/api/v1/api.go `tokenRequiresScopes`); `None`
/// for routes without one (`/version`).
fn category(path: &str) -> Option<&'static str> {
    let p = path.trim_start_matches("/api/v1");
    let first = p.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "admin" => Some("admin"),
        "user" | "users" => Some("user"),
        "orgs" | "teams" => Some("organization"),
        "repos" => Some("repository"),
        _ => None,
    }
}

/// A token's scopes against a request (`AccessTokenScope.HasScope`): 403 when they do not
/// grant the route's category at the method's level (read for GET/HEAD, else write).
pub(crate) fn check_scope(scopes: &[String], method: &Method, path: &str) -> Result<(), Response> {
    let Some(cat) = category(path) else {
        return Ok(());
    };
    let level = if matches!(*method, Method::GET | Method::HEAD) {
        "read"
    } else {
        "write"
    };
    let granted = scopes.iter().any(|s| {
        s == "all"
            || *s == format!("write:{cat}")
            || (level == "read" && *s == format!("read:{cat}"))
    });
    if granted {
        return Ok(());
    }
    Err(err(
        StatusCode::FORBIDDEN,
        format!(
            "token does not have at least one of required scope(s), required=[{level}:{cat}], token scope={}",
            scopes.join(",")
        ),
    ))
}

fn token_json(t: &TokenRow, secret: &str) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "sha1": secret,
        "token_last_eight": t.last_eight,
        "scopes": t.scopes,
        "created_at": ZERO_TIME,
        "last_used_at": ZERO_TIME,
    })
}

/// The group's checks, in Gitea's order: the user exists, self or admin, basic auth.
fn guard(g: &Gitea, parts: &RequestParts, username: &str) -> Result<(Caller, String), Response> {
    let caller = g.signed_in(parts)?;
    let key = username.to_lowercase();
    if !g.state().users.contains_key(&key) {
        return Err(err(
            StatusCode::NOT_FOUND,
            format!("user does not exist [uid: 0, name: {username}]"),
        ));
    }
    if !caller.is_admin && caller.key() != key {
        return Err(err(
            StatusCode::FORBIDDEN,
            "doer should be the site admin or be same as the contextUser",
        ));
    }
    if !caller.basic_password {
        return Err(err(StatusCode::UNAUTHORIZED, "auth required"));
    }
    Ok((caller, key))
}

/// GET /users/{username}/tokens (paged; no secrets).
pub(crate) async fn list(
    State(g): State<Arc<Gitea>>,
    Path(username): Path<String>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let (_, key) = guard(&g, &parts, &username)?;
    let items = g
        .state()
        .tokens
        .values()
        .filter(|t| t.owner == key)
        .map(|t| token_json(t, ""))
        .collect();
    page(&parts, items)
}

/// POST /users/{username}/tokens: 201 with the secret (`sha1`), shown only here.
pub(crate) async fn create(
    State(g): State<Arc<Gitea>>,
    Path(username): Path<String>,
    req: Request,
) -> Answer {
    let (parts, v) = body(req).await?;
    let (_, key) = guard(&g, &parts, &username)?;
    let name = match v.get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(err(StatusCode::UNPROCESSABLE_ENTITY, "[Name]: Required"))
        }
        Some(_) => {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "[name]: cannot unmarshal into a string",
            ))
        }
    };
    let scopes: Vec<String> = match v.get("scopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(_) => {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "[scopes]: cannot unmarshal into a []string",
            ))
        }
    };
    let mut raw = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut raw);
    let secret = hex::encode(raw);
    let row = g.commit(|st, now| {
        if st.tokens.values().any(|t| t.owner == key && t.name == name) {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "access token name has been used already",
            ));
        }
        let scopes = normalize(&scopes).map_err(|e| {
            err(
                StatusCode::BAD_REQUEST,
                format!("invalid access token scope provided: {e}"),
            )
        })?;
        if scopes.is_empty() {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "access token must have a scope",
            ));
        }
        let row = TokenRow {
            id: st.id(),
            owner: key.clone(),
            name: name.clone(),
            hash: hash_token(&secret),
            last_eight: secret[secret.len() - 8..].to_string(),
            scopes,
            created: now,
        };
        st.tokens.insert(row.id, row.clone());
        Ok(row)
    })?;
    ok(StatusCode::CREATED, token_json(&row, &secret))
}

/// DELETE /users/{username}/tokens/{token}: by id, or by name when `token` is not a number
/// (422 when several tokens have that name). 204.
pub(crate) async fn delete(
    State(g): State<Arc<Gitea>>,
    Path((username, token)): Path<(String, String)>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let (_, key) = guard(&g, &parts, &username)?;
    g.commit(|st, _| {
        let id = match token.parse::<i64>().ok().filter(|i| *i != 0) {
            Some(id) => id,
            None => {
                let named: Vec<i64> = st
                    .tokens
                    .values()
                    .filter(|t| t.owner == key && t.name == token)
                    .map(|t| t.id)
                    .collect();
                match named.as_slice() {
                    [] => return Err(err(StatusCode::NOT_FOUND, "not found")),
                    [id] => *id,
                    _ => {
                        return Err(err(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            format!("multiple matches for token name '{token}'"),
                        ))
                    }
                }
            }
        };
        match st.tokens.get(&id) {
            Some(t) if t.owner == key => {
                st.tokens.remove(&id);
                Ok(())
            }
            _ => Err(err(
                StatusCode::NOT_FOUND,
                format!("access token does not exist [id: {id}]"),
            )),
        }
    })?;
    no_content()
}

/// Drops the tokens of a deleted user.
pub(crate) fn forget_user(st: &mut super::State, key: &str) {
    st.tokens.retain(|_, t| t.owner != key);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_normalize_like_gitea() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            normalize(&v(&["read:repository", "write:repository", "read:user"])).unwrap(),
            v(&["write:repository", "read:user"])
        );
        assert_eq!(normalize(&v(&["all", "read:user"])).unwrap(), v(&["all"]));
        assert!(normalize(&v(&["read:repo"])).is_err());
        assert!(normalize(&v(&[])).unwrap().is_empty());
    }

    #[test]
    fn scope_check_by_route_and_method() {
        let s = vec!["read:repository".to_string()];
        assert!(check_scope(&s, &Method::GET, "/api/v1/repos/a/b").is_ok());
        assert!(check_scope(&s, &Method::PATCH, "/api/v1/repos/a/b").is_err());
        assert!(check_scope(&s, &Method::GET, "/api/v1/admin/users").is_err());
        assert!(check_scope(&s, &Method::GET, "/api/v1/version").is_ok());
        let all = vec!["all".to_string()];
        assert!(check_scope(&all, &Method::POST, "/api/v1/admin/users").is_ok());
    }
}
