//! The Coder simulator's handlers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::{Coder, State, FAIL_MARKER, PENDING_MS, RUNNING_MS};
use crate::table::TableExt;

type Ans = Result<Response, Response>;

const SITE_ROLES: [&str; 4] = ["owner", "template-admin", "user-admin", "auditor"];

pub(crate) fn now() -> String {
    crate::time::format(crate::time::now())
}

fn now_ms() -> i64 {
    crate::time::now() / 1000
}

pub(crate) fn hash(p: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("coder-sandbox:{p}").as_bytes()))
}

/// A `codersdk.Response` error.
pub(crate) fn err(status: StatusCode, message: &str, detail: &str) -> Response {
    (status, Json(json!({"message": message, "detail": detail}))).into_response()
}

fn invalid(field: &str, detail: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"message": "Validation failed.", "validations": [{"field": field, "detail": detail}]})),
    )
        .into_response()
}

fn ok(status: StatusCode, v: Value) -> Ans {
    Ok((status, Json(v)).into_response())
}

impl Coder {
    /// The caller's user id: the fixed admin's for the configured token (not in fresh mode), or
    /// the user a `POST /users/login` session token belongs to.
    fn auth(&self, h: &HeaderMap) -> Result<String, Response> {
        let token = h
            .get("Coder-Session-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| {
                h.get(header::COOKIE)?
                    .to_str()
                    .ok()?
                    .split(';')
                    .find_map(|c| {
                        c.trim()
                            .strip_prefix("coder_session_token=")
                            .map(str::to_string)
                    })
            });
        let invalid_key = || {
            err(
                StatusCode::UNAUTHORIZED,
                "Invalid API key.",
                "API key is invalid or expired.",
            )
        };
        match token {
            Some(t) => {
                let st = self.store.snapshot();
                let id = if self.token.as_deref() == Some(t.as_str()) {
                    self.admin(&st)
                } else {
                    st.sessions.get(&t).cloned()
                };
                let id = id.filter(|id| st.users.contains_key(id)).ok_or_else(invalid_key)?;
                // coderd/httpmw/apikey.go: a suspended user's keys stop working.
                if st.users[&id]["status"] == "suspended" {
                    return Err(err(
                        StatusCode::UNAUTHORIZED,
                        "User is not active (status = \"suspended\"). Contact an admin to reactivate your account.",
                        "",
                    ));
                }
                Ok(id)
            }
            None => Err(err(
                StatusCode::UNAUTHORIZED,
                "You must be authenticated to use this endpoint.",
                "Cookie \"coder_session_token\" or header \"Coder-Session-Token\" must be provided.",
            )),
        }
    }

    /// The Premium gate of the group endpoints: enterprise/coderd/coderd.go wraps them in
    /// `RequireFeatureMW(codersdk.FeatureTemplateRBAC)`, which answers 403 with
    /// "<feature> is a Premium feature. Contact sales!" when the licence lacks it.
    fn licensed(&self) -> Result<(), Response> {
        if self.premium {
            Ok(())
        } else {
            Err(err(
                StatusCode::FORBIDDEN,
                "Template RBAC is a Premium feature. Contact sales!",
                "",
            ))
        }
    }

    fn commit<R>(&self, f: impl FnOnce(&mut State) -> Result<R, Response>) -> Result<R, Response> {
        self.store.commit(
            |st, _| f(st),
            |e| {
                err(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error.",
                    &format!("{e:#}"),
                )
            },
        )
    }

    /// The fixed admin the configured token belongs to.
    fn admin(&self, st: &State) -> Option<String> {
        st.users
            .iter()
            .find(|(_, u)| u["email"] == self.admin_email.as_str())
            .map(|(k, _)| k.clone())
    }
}

/// The user id for a path parameter: an id, a username, an email, or `me` (the caller).
fn user_key(me: &str, st: &State, key: &str) -> Option<String> {
    if key == "me" {
        return Some(me.to_string());
    }
    if st.users.contains_key(key) {
        return Some(key.to_string());
    }
    st.users
        .iter()
        .find(|(_, u)| u["username"] == key || u["email"] == key)
        .map(|(k, _)| k.clone())
}

fn org_key(st: &State, key: &str) -> Option<String> {
    if st.orgs.contains_key(key) {
        return Some(key.to_string());
    }
    if key == "default" {
        return st
            .orgs
            .iter()
            .find(|(_, o)| o["is_default"] == true)
            .map(|(k, _)| k.clone());
    }
    st.orgs
        .iter()
        .find(|(_, o)| o["name"] == key)
        .map(|(k, _)| k.clone())
}

fn render_user(u: &Value) -> Value {
    let mut r = u.clone();
    let roles: Vec<Value> = u["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str())
        .map(|n| json!({"name": n, "display_name": n.replace('-', " "), "organization_id": ""}))
        .collect();
    r["roles"] = json!(roles);
    r["last_seen_at"] = json!(now());
    r
}

fn no_user(key: &str) -> Response {
    err(
        StatusCode::BAD_REQUEST,
        &format!("User {key:?} must be an existing uuid or username."),
        "",
    )
}

fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 32
        && u.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !u.starts_with('-')
        && !u.ends_with('-')
        && !u.contains("--")
}

pub(crate) async fn list_users(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Query(q): Query<Map<String, Value>>,
) -> Ans {
    c.auth(&h)?;
    let st = c.store.snapshot();
    let search = q
        .get("q")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let mut users: Vec<&Value> = st
        .users
        .values()
        .filter(|u| search.is_empty() || u.to_string().to_lowercase().contains(&search))
        .collect();
    users.sort_by(|a, b| {
        a["created_at"]
            .to_string()
            .cmp(&b["created_at"].to_string())
            .then(a["username"].to_string().cmp(&b["username"].to_string()))
    });
    let count = users.len();
    let num = |k: &str| {
        q.get(k)
            .and_then(|v| v.as_str().and_then(|s| s.parse::<usize>().ok()))
    };
    let offset = num("offset").unwrap_or(0);
    let limit = num("limit").filter(|l| *l > 0).unwrap_or(usize::MAX);
    let page: Vec<Value> = users
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(render_user)
        .collect();
    ok(StatusCode::OK, json!({"users": page, "count": count}))
}

pub(crate) async fn create_user(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Json(b): Json<Value>,
) -> Ans {
    c.auth(&h)?;
    let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (username, email, login_type) = (s("username"), s("email"), s("login_type"));
    if !valid_username(&username) {
        return Err(invalid(
            "username",
            &format!("Validation failed for tag \"username\" with value: \"{username}\""),
        ));
    }
    if !email.contains('@') || email.contains(char::is_whitespace) {
        return Err(invalid(
            "email",
            &format!("Validation failed for tag \"email\" with value: \"{email}\""),
        ));
    }
    let login_type = if login_type.is_empty() {
        "password".to_string()
    } else {
        login_type
    };
    if !["password", "oidc", "github", "none"].contains(&login_type.as_str()) {
        return Err(invalid(
            "login_type",
            &format!("Validation failed for tag \"oneof\" with value: \"{login_type}\""),
        ));
    }
    let password = s("password");
    if login_type == "password" && password.len() < 6 {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "Password not strong enough!",
            "password must be at least 6 characters",
        ));
    }
    if login_type != "password" && !password.is_empty() {
        return Err(err(
            StatusCode::BAD_REQUEST,
            &format!("Password cannot be set for non-password (\"{login_type}\") authentication."),
            "",
        ));
    }
    let user = c.commit(|st| {
        if st.user(&username).is_some() || st.users.values().any(|u| u["email"] == email.as_str()) {
            return Err(err(StatusCode::CONFLICT, "User already exists.", ""));
        }
        let orgs: Vec<String> = match b.get("organization_ids").and_then(Value::as_array) {
            Some(ids) if !ids.is_empty() => {
                let mut out = Vec::new();
                for id in ids {
                    let key = id.as_str().unwrap_or_default();
                    out.push(org_key(st, key).ok_or_else(|| err(StatusCode::NOT_FOUND, &format!("Organization does not exist with the provided id {key:?}."), ""))?);
                }
                out
            }
            _ => st.orgs.iter().filter(|(_, o)| o["is_default"] == true).map(|(k, _)| k.clone()).collect(),
        };
        let id = uuid::Uuid::new_v4().to_string();
        let u = json!({"id": id, "username": username, "email": email, "name": s("name"), "login_type": login_type,
                       "status": "active", "roles": [], "organization_ids": orgs, "created_at": now(), "updated_at": now(),
                       "avatar_url": "", "theme_preference": ""});
        st.users.insert(id.clone(), u.clone());
        if !password.is_empty() {
            st.passwords.insert(id, hash(&password));
        }
        Ok(u)
    })?;
    ok(StatusCode::CREATED, render_user(&user))
}

/// Why a password is refused (coderd/userpassword `Validate`, as the simulator applies it).
fn weak_password(p: &str) -> Option<&'static str> {
    if p.chars().count() < 6 {
        Some("password must be at least 6 characters")
    } else if p.chars().count() > 64 {
        Some("password must be no more than 64 characters")
    } else {
        None
    }
}

/// `httpapi.Read`'s answer to a body that fails its `validate` tags: every failing field.
fn validation_failed(fails: Vec<(&str, &str, String)>) -> Response {
    let v: Vec<Value> = fails
        .into_iter()
        .map(|(field, tag, value)| {
            json!({"field": field, "detail": format!("Validation failed for tag {tag:?} with value: {value:?}")})
        })
        .collect();
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"message": "Validation failed.", "validations": v})),
    )
        .into_response()
}

fn valid_email(e: &str) -> bool {
    matches!(e.split_once('@'), Some((a, b)) if !a.is_empty() && !b.is_empty() && !b.contains('@'))
        && !e.contains(char::is_whitespace)
}

/// `GET /users/first` (unauthenticated, coderd/users.go `firstUser`).
pub(crate) async fn first_user(AxState(c): AxState<Arc<Coder>>) -> Ans {
    if c.store.read(|st| st.users.is_empty()) {
        return Err(err(
            StatusCode::NOT_FOUND,
            "The initial user has not been created!",
            "",
        ));
    }
    ok(
        StatusCode::OK,
        json!({"message": "The initial user has already been created!"}),
    )
}

/// `POST /users/first` (unauthenticated, coderd/users.go `postFirstUser`): the body's
/// `validate` tags (email, username required; name a real name), then 409 once any user
/// exists, then the password rule; the user becomes owner in the default organization.
pub(crate) async fn post_first_user(AxState(c): AxState<Arc<Coder>>, Json(b): Json<Value>) -> Ans {
    let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (email, username, name, password) = (s("email"), s("username"), s("name"), s("password"));
    let mut fails = Vec::new();
    if email.is_empty() {
        fails.push(("email", "required", email.clone()));
    } else if !valid_email(&email) {
        fails.push(("email", "email", email.clone()));
    }
    if username.is_empty() {
        fails.push(("username", "required", username.clone()));
    } else if !valid_username(&username) {
        fails.push(("username", "username", username.clone()));
    }
    if name.len() > 128 || name.trim() != name {
        fails.push(("name", "user_real_name", name.clone()));
    }
    if password.is_empty() {
        fails.push(("password", "required", String::new()));
    }
    if !fails.is_empty() {
        return Err(validation_failed(fails));
    }
    let created = c.commit(|st| {
        if !st.users.is_empty() {
            return Err(err(
                StatusCode::CONFLICT,
                "The initial user has already been created.",
                "",
            ));
        }
        if let Some(why) = weak_password(&password) {
            return Err((
                StatusCode::BAD_REQUEST,
                Json(json!({"message": "Password not strong enough!", "validations": [{"field": "password", "detail": why}]})),
            )
                .into_response());
        }
        let org = st
            .orgs
            .iter()
            .find(|(_, o)| o["is_default"] == true)
            .map(|(k, _)| k.clone())
            .unwrap_or_default();
        let id = uuid::Uuid::new_v4().to_string();
        st.users.insert(
            id.clone(),
            json!({"id": id, "username": username, "email": email, "name": name, "login_type": "password",
                   "status": "active", "roles": ["owner"], "organization_ids": [org],
                   "created_at": now(), "updated_at": now(), "avatar_url": "", "theme_preference": ""}),
        );
        st.passwords.insert(id.clone(), hash(&password));
        Ok(json!({"user_id": id, "organization_id": org}))
    })?;
    ok(StatusCode::CREATED, created)
}

/// `POST /users/login` (unauthenticated, coderd/userauth.go `postLogin`): the same answer for
/// an unknown email and a wrong password; a session token `<10>-<22>` like Coder's API keys.
pub(crate) async fn login(AxState(c): AxState<Arc<Coder>>, Json(b): Json<Value>) -> Ans {
    let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (email, password) = (s("email"), s("password"));
    let mut fails = Vec::new();
    if email.is_empty() {
        fails.push(("email", "required", email.clone()));
    } else if !valid_email(&email) {
        fails.push(("email", "email", email.clone()));
    }
    if password.is_empty() {
        fails.push(("password", "required", String::new()));
    }
    if !fails.is_empty() {
        return Err(validation_failed(fails));
    }
    let token = c.commit(|st| {
        let found = st
            .users
            .iter()
            .find(|(_, u)| u["email"] == email.as_str())
            .map(|(k, u)| (k.clone(), u.clone()));
        let Some((id, u)) = found.filter(|(id, _)| st.passwords.get(id) == Some(&hash(&password)))
        else {
            return Err(err(StatusCode::UNAUTHORIZED, "Incorrect email or password.", ""));
        };
        if u["login_type"] != "password" {
            return Err(err(
                StatusCode::FORBIDDEN,
                &format!(
                    "Incorrect login type, attempting to use \"password\" but user is of login type {}",
                    u["login_type"]
                ),
                "",
            ));
        }
        if u["status"] == "suspended" {
            return Err(err(
                StatusCode::UNAUTHORIZED,
                "Your account is suspended. Contact an admin to reactivate your account.",
                "",
            ));
        }
        let rand = |n: usize| {
            let mut out = String::new();
            while out.len() < n {
                out.push_str(&uuid::Uuid::new_v4().simple().to_string());
            }
            out.truncate(n);
            out
        };
        let token = format!("{}-{}", rand(10), rand(22));
        st.sessions.insert(token.clone(), id);
        Ok(token)
    })?;
    Ok((
        StatusCode::CREATED,
        [(
            header::SET_COOKIE,
            format!("coder_session_token={token}; Path=/; HttpOnly"),
        )],
        Json(json!({"session_token": token})),
    )
        .into_response())
}

pub(crate) async fn get_user(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(key): Path<String>,
) -> Ans {
    let me = c.auth(&h)?;
    let st = c.store.snapshot();
    let k = user_key(&me, &st, &key).ok_or_else(|| no_user(&key))?;
    ok(StatusCode::OK, render_user(&st.users[&k]))
}

pub(crate) async fn delete_user(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(key): Path<String>,
) -> Ans {
    let me = c.auth(&h)?;
    c.commit(|st| {
        let k = user_key(&me, st, &key).ok_or_else(|| no_user(&key))?;
        if k == me {
            return Err(err(
                StatusCode::FORBIDDEN,
                "You cannot delete yourself!",
                "",
            ));
        }
        st.users.remove(&k);
        st.passwords.remove(&k);
        st.sessions.retain(|_, u| *u != k);
        st.groups.values_mut_each(|g| {
            if let Some(m) = g["members"].as_array_mut() {
                m.retain(|x| x != &json!(k));
            }
        });
        Ok(())
    })?;
    ok(StatusCode::OK, json!({"message": "User has been deleted!"}))
}

/// Applies `f` to the user and answers with it.
fn change_user(
    c: &Coder,
    me: &str,
    key: &str,
    f: impl FnOnce(&mut Value) -> Result<(), Response>,
) -> Ans {
    let u = c.commit(|st| {
        let k = user_key(me, st, key).ok_or_else(|| no_user(key))?;
        let u = st.users.get_mut(&k).unwrap();
        f(u)?;
        u["updated_at"] = json!(now());
        Ok(u.clone())
    })?;
    ok(StatusCode::OK, render_user(&u))
}

pub(crate) async fn update_profile(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(key): Path<String>,
    Json(b): Json<Value>,
) -> Ans {
    let me = c.auth(&h)?;
    let username = b["username"].as_str().unwrap_or_default().to_string();
    if !valid_username(&username) {
        return Err(invalid(
            "username",
            &format!("Validation failed for tag \"username\" with value: \"{username}\""),
        ));
    }
    let taken = c.store.read(|st| {
        st.users.values().any(|u| {
            u["username"] == username.as_str()
                && user_key(&me, st, &key).as_deref() != u["id"].as_str()
        })
    });
    if taken {
        return Err(err(
            StatusCode::CONFLICT,
            "A user with this username already exists.",
            "",
        ));
    }
    change_user(&c, &me, &key, |u| {
        u["username"] = json!(username);
        if let Some(n) = b.get("name").and_then(Value::as_str) {
            u["name"] = json!(n);
        }
        Ok(())
    })
}

pub(crate) async fn get_roles(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(key): Path<String>,
) -> Ans {
    let me = c.auth(&h)?;
    let st = c.store.snapshot();
    let k = user_key(&me, &st, &key).ok_or_else(|| no_user(&key))?;
    // coderd/roles.go userRoles: the site roles, and per organization the member's roles
    // (empty for a plain member: organization-member is implied).
    let org_roles: Map<String, Value> = st.users[&k]["organization_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o.as_str().map(|o| (o.to_string(), json!([]))))
        .collect();
    ok(
        StatusCode::OK,
        json!({"roles": st.users[&k]["roles"], "organization_roles": org_roles}),
    )
}

pub(crate) async fn update_roles(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(key): Path<String>,
    Json(b): Json<Value>,
) -> Ans {
    let me = c.auth(&h)?;
    let roles: Vec<String> = b["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(String::from))
        .collect();
    if let Some(bad) = roles
        .iter()
        .find(|r| !SITE_ROLES.contains(&r.as_str()) && r.as_str() != "member")
    {
        return Err(err(
            StatusCode::BAD_REQUEST,
            &format!("Invalid role {bad:?}."),
            "site roles: owner, template-admin, user-admin, auditor",
        ));
    }
    change_user(&c, &me, &key, |u| {
        u["roles"] = json!(roles
            .iter()
            .filter(|r| r.as_str() != "member")
            .collect::<Vec<_>>());
        Ok(())
    })
}

pub(crate) async fn update_status(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path((key, status)): Path<(String, String)>,
) -> Ans {
    let me = c.auth(&h)?;
    let to = match status.as_str() {
        "suspend" => "suspended",
        "activate" => "active",
        _ => return Err(err(StatusCode::NOT_FOUND, "Route not found.", "")),
    };
    change_user(&c, &me, &key, |u| {
        u["status"] = json!(to);
        Ok(())
    })
}

pub(crate) async fn update_password(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(key): Path<String>,
    Json(b): Json<Value>,
) -> Ans {
    let me = c.auth(&h)?;
    let pw = b["password"].as_str().unwrap_or_default().to_string();
    if pw.len() < 6 {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "Invalid password.",
            "password must be at least 6 characters",
        ));
    }
    c.commit(|st| {
        let k = user_key(&me, st, &key).ok_or_else(|| no_user(&key))?;
        if st.users[&k]["login_type"] != "password" {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "Users without password login type cannot change their password.",
                "",
            ));
        }
        st.passwords.insert(k, hash(&pw));
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn get_login_type(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(key): Path<String>,
) -> Ans {
    let me = c.auth(&h)?;
    let st = c.store.snapshot();
    let k = user_key(&me, &st, &key).ok_or_else(|| no_user(&key))?;
    ok(
        StatusCode::OK,
        json!({"login_type": st.users[&k]["login_type"]}),
    )
}

pub(crate) async fn list_orgs(AxState(c): AxState<Arc<Coder>>, h: HeaderMap) -> Ans {
    c.auth(&h)?;
    ok(
        StatusCode::OK,
        json!(c.store.snapshot().orgs.values().collect::<Vec<_>>()),
    )
}

pub(crate) async fn get_org(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(key): Path<String>,
) -> Ans {
    c.auth(&h)?;
    let st = c.store.snapshot();
    let k = org_key(&st, &key).ok_or_else(|| {
        err(
            StatusCode::NOT_FOUND,
            "Resource not found or you do not have access to this resource",
            "",
        )
    })?;
    ok(StatusCode::OK, st.orgs[&k].clone())
}

pub(crate) async fn upload(AxState(c): AxState<Arc<Coder>>, h: HeaderMap, body: Bytes) -> Ans {
    c.auth(&h)?;
    let ct = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct != "application/x-tar" && ct != "application/zip" {
        return Err(err(
            StatusCode::BAD_REQUEST,
            &format!("Unsupported content type header {ct:?}."),
            "",
        ));
    }
    use sha2::{Digest, Sha256};
    // Content-addressed like Coder's: the same archive gives the same id.
    let digest = Sha256::digest(&body);
    let id = uuid::Builder::from_random_bytes(digest[..16].try_into().unwrap_or_default())
        .into_uuid()
        .to_string();
    let data = base64::engine::general_purpose::STANDARD.encode(&body);
    // coderd/files.go postFile: a file already stored (same hash) answers 200 with its id.
    let existed = c.commit(|st| Ok(st.files.insert(id.clone(), data).is_some()))?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    ok(status, json!({"hash": id}))
}

/// What the simulated `terraform plan` makes of a tar: Ok(logs) or Err((error, logs)).
fn build(tar: &[u8]) -> Result<Vec<String>, (String, Vec<String>)> {
    let mut logs = vec![
        "Setting up".to_string(),
        "Parsing template parameters".to_string(),
    ];
    let mut tf = 0;
    let mut archive = tar::Archive::new(tar);
    let entries = archive
        .entries()
        .map_err(|e| (format!("read tar: {e}"), logs.clone()))?;
    for entry in entries {
        let mut e = entry.map_err(|e| (format!("read tar: {e}"), logs.clone()))?;
        let path = e
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut content = String::new();
        let _ = std::io::Read::read_to_string(&mut e, &mut content);
        if path.ends_with(".tf") {
            tf += 1;
            logs.push(format!("Reading {path}"));
        }
        if content.contains(FAIL_MARKER) {
            logs.push(format!("Error: Invalid expression in {path}"));
            return Err((
                format!("terraform plan: {path}: invalid configuration ({FAIL_MARKER})"),
                logs,
            ));
        }
    }
    if tf == 0 {
        return Err((
            "terraform plan: no Terraform files (*.tf) found in the template".into(),
            logs,
        ));
    }
    logs.push("Planning infrastructure".into());
    logs.push("Cleaning Up".into());
    Ok(logs)
}

pub(crate) async fn create_version(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(org): Path<String>,
    Json(b): Json<Value>,
) -> Ans {
    let me = c.auth(&h)?;
    if b["storage_method"] != "file" {
        return Err(invalid("storage_method", "must be \"file\""));
    }
    if b["provisioner"] != "terraform" && b["provisioner"] != "echo" {
        return Err(invalid("provisioner", "must be \"terraform\" or \"echo\""));
    }
    let v = c.commit(|st| {
        let o = org_key(st, &org).ok_or_else(|| err(StatusCode::NOT_FOUND, "Resource not found or you do not have access to this resource", ""))?;
        let file_id = b["file_id"].as_str().unwrap_or_default().to_string();
        let data = st.files.get(&file_id).ok_or_else(|| err(StatusCode::NOT_FOUND, "File not found.", &file_id))?;
        let tar = base64::engine::general_purpose::STANDARD.decode(data).unwrap_or_default();
        if let Some(t) = b["template_id"].as_str() {
            if !st.templates.contains_key(t) {
                return Err(err(StatusCode::NOT_FOUND, "Template does not exist.", t));
            }
        }
        let (outcome, error, logs) = match build(&tar) {
            Ok(l) => ("succeeded", String::new(), l),
            Err((e, l)) => ("failed", e, l),
        };
        let id = uuid::Uuid::new_v4().to_string();
        let name = b["name"].as_str().filter(|n| !n.is_empty()).map(str::to_string).unwrap_or_else(|| format!("v-{}", &id[..8]));
        let v = json!({"id": id, "template_id": b["template_id"], "organization_id": o, "name": name,
                       "message": b["message"].as_str().unwrap_or(""), "created_at": now(), "updated_at": now(),
                       "readme": "", "archived": false, "warnings": [],
                       "created_by": {"id": me, "username": st.users[&me]["username"]},
                       "user_variable_values": b["user_variable_values"],
                       "_file_id": file_id, "_job_id": uuid::Uuid::new_v4().to_string(), "_created_ms": now_ms(), "_outcome": outcome, "_error": error, "_logs": logs});
        st.versions.insert(id, v.clone());
        Ok(v)
    })?;
    ok(StatusCode::CREATED, render_version(&v))
}

/// The version with its job's status, from the time elapsed since it was queued.
fn render_version(v: &Value) -> Value {
    let mut r: Map<String, Value> = v.as_object().cloned().unwrap_or_default();
    let age = now_ms() - v["_created_ms"].as_i64().unwrap_or(0);
    let outcome = v["_outcome"].as_str().unwrap_or("succeeded");
    let status = if age < PENDING_MS {
        "pending"
    } else if age < RUNNING_MS {
        "running"
    } else {
        outcome
    };
    let done = status == "succeeded" || status == "failed";
    r.insert(
        "job".into(),
        // codersdk.ProvisionerJob.id is a UUID of its own (state saved before it was kept
        // falls back to the version's id).
        json!({"id": v.get("_job_id").unwrap_or(&v["id"]), "status": status,
               "error": if status == "failed" { v["_error"].clone() } else { json!("") },
               "file_id": v["_file_id"], "created_at": v["created_at"],
               "started_at": if age >= PENDING_MS { v["created_at"].clone() } else { Value::Null },
               "completed_at": if done { json!(now()) } else { Value::Null },
               "queue_position": 0, "queue_size": 0, "tags": {}}),
    );
    r.retain(|k, _| !k.starts_with('_') && k != "user_variable_values");
    // codersdk.TemplateVersion / ProvisionerJob: `template_id`, `started_at`, `completed_at` are
    // `omitempty` pointers — absent, not null, while unset.
    if r.get("template_id").is_some_and(Value::is_null) {
        r.remove("template_id");
    }
    if let Some(job) = r.get_mut("job").and_then(Value::as_object_mut) {
        job.retain(|k, v| !(matches!(k.as_str(), "started_at" | "completed_at") && v.is_null()));
    }
    Value::Object(r)
}

pub(crate) async fn get_version(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Ans {
    c.auth(&h)?;
    let st = c.store.snapshot();
    let v = st
        .versions
        .get(&id)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "Template version not found.", ""))?;
    ok(StatusCode::OK, render_version(v))
}

pub(crate) async fn version_logs(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Ans {
    c.auth(&h)?;
    let st = c.store.snapshot();
    let v = st
        .versions
        .get(&id)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "Template version not found.", ""))?;
    let failed = v["_outcome"] == "failed";
    let logs: Vec<Value> = v["_logs"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, l)| {
            let level = if failed && l.as_str().is_some_and(|s| s.starts_with("Error")) { "error" } else { "info" };
            json!({"id": i + 1, "created_at": v["created_at"], "log_source": "provisioner", "log_level": level, "stage": "Planning", "output": l})
        })
        .collect();
    ok(StatusCode::OK, json!(logs))
}

fn render_template(st: &State, t: &Value) -> Value {
    let mut r = t.clone();
    let org = st
        .orgs
        .get(t["organization_id"].as_str().unwrap_or_default());
    r["organization_name"] = org.map(|o| o["name"].clone()).unwrap_or(Value::Null);
    r["organization_display_name"] = org
        .map(|o| o["display_name"].clone())
        .unwrap_or(Value::Null);
    r["provisioner"] = json!("terraform");
    r["active_user_count"] = json!(0);
    r["build_time_stats"] = json!({});
    r
}

const TEMPLATE_SETTINGS: [(&str, &str); 12] = [
    ("display_name", "s"),
    ("description", "s"),
    ("icon", "s"),
    ("default_ttl_ms", "i"),
    ("activity_bump_ms", "i"),
    ("allow_user_cancel_workspace_jobs", "b"),
    ("require_active_version", "b"),
    ("allow_user_autostart", "b"),
    ("allow_user_autostop", "b"),
    ("failure_ttl_ms", "i"),
    ("time_til_dormant_ms", "i"),
    ("time_til_dormant_autodelete_ms", "i"),
];

/// Settings the AGPL template schedule store ignores without a Premium licence (advanced
/// template scheduling; coderd/schedule/template.go `agplTemplateScheduleStore.Set` keeps the
/// template's values).
const PREMIUM_SETTINGS: [&str; 6] = [
    "allow_user_autostart",
    "allow_user_autostop",
    "failure_ttl_ms",
    "time_til_dormant_ms",
    "time_til_dormant_autodelete_ms",
    "autostop_requirement",
];

/// What `PATCH /templates/{id}` makes of the template: coderd/templates.go
/// `patchTemplateMeta` decodes a whole `UpdateTemplateMeta` and writes every setting from it
/// (an absent field is its zero value), except `name` (empty keeps it) and the pointer fields
/// `autostop_requirement`, `autostart_requirement`, `deprecation_message` (absent keeps them).
fn replace_settings(old: &Value, b: &Value, premium: bool) -> Result<Value, Response> {
    let mut t = old.clone();
    for (k, ty) in TEMPLATE_SETTINGS {
        let v = b.get(k).filter(|v| !v.is_null());
        let v = match (ty, v) {
            ("s", None) => json!(""),
            ("i", None) => json!(0),
            (_, None) => json!(false),
            (_, Some(v)) => v.clone(),
        };
        let ok = match ty {
            "s" => v.is_string(),
            "i" => v.as_i64().is_some_and(|n| n >= 0),
            _ => v.is_boolean(),
        };
        if !ok {
            return Err(invalid(
                k,
                "Must be a positive integer or the field's type.",
            ));
        }
        t[k] = v;
    }
    for k in [
        "autostop_requirement",
        "autostart_requirement",
        "deprecation_message",
    ] {
        if let Some(v) = b.get(k).filter(|v| !v.is_null()) {
            t[k] = v.clone();
        }
    }
    if let Some(m) = b.get("deprecation_message").and_then(Value::as_str) {
        t["deprecated"] = json!(!m.is_empty());
    }
    if let Some(n) = b
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        if !valid_username(n) {
            return Err(invalid(
                "name",
                &format!("Validation failed for tag \"template_name\" with value: \"{n}\""),
            ));
        }
        t["name"] = json!(n);
    }
    if !premium {
        for k in PREMIUM_SETTINGS {
            t[k] = old[k].clone();
        }
    }
    Ok(t)
}

fn apply_settings(t: &mut Value, b: &Value) -> Result<(), Response> {
    for (k, ty) in TEMPLATE_SETTINGS {
        if let Some(v) = b.get(k).filter(|v| !v.is_null()) {
            let ok = match ty {
                "s" => v.is_string(),
                "i" => v.as_i64().is_some_and(|n| n >= 0),
                _ => v.is_boolean(),
            };
            if !ok {
                return Err(invalid(k, "invalid value"));
            }
            t[k] = v.clone();
        }
    }
    Ok(())
}

fn succeeded(v: &Value) -> bool {
    render_version(v)["job"]["status"] == "succeeded"
}

pub(crate) async fn create_template(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(org): Path<String>,
    Json(b): Json<Value>,
) -> Ans {
    let me = c.auth(&h)?;
    let name = b["name"].as_str().unwrap_or_default().to_string();
    if !valid_username(&name) {
        return Err(invalid(
            "name",
            &format!("Validation failed for tag \"template_name\" with value: \"{name}\""),
        ));
    }
    let t = c.commit(|st| {
        let o = org_key(st, &org).ok_or_else(|| err(StatusCode::NOT_FOUND, "Resource not found or you do not have access to this resource", ""))?;
        if st.templates.values().any(|t| t["name"] == name.as_str() && t["organization_id"] == o.as_str()) {
            return Err(err(StatusCode::CONFLICT, &format!("Template with name {name:?} already exists."), ""));
        }
        let vid = b["template_version_id"].as_str().unwrap_or_default().to_string();
        let v = st.versions.get(&vid).ok_or_else(|| err(StatusCode::NOT_FOUND, "Template version not found.", &vid))?;
        if !succeeded(v) {
            return Err(err(StatusCode::BAD_REQUEST, "The provided template version has not finished successfully.", &format!("job status: {}", render_version(v)["job"]["status"])));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let mut t = json!({"id": id, "organization_id": o, "name": name, "display_name": "", "description": "", "icon": "",
                           "default_ttl_ms": 0, "activity_bump_ms": 3_600_000, "allow_user_cancel_workspace_jobs": true,
                           "require_active_version": false, "allow_user_autostart": true, "allow_user_autostop": true,
                           "failure_ttl_ms": 0, "time_til_dormant_ms": 0, "time_til_dormant_autodelete_ms": 0,
                           "autostop_requirement": {"days_of_week": [], "weeks": 1},
                           "autostart_requirement": {"days_of_week": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]},
                           "active_version_id": vid, "created_at": now(), "updated_at": now(),
                           "created_by_id": me, "created_by_name": st.users[&me]["username"], "deprecated": false, "deprecation_message": ""});
        apply_settings(&mut t, &b)?;
        st.templates.insert(id.clone(), t.clone());
        st.versions.get_mut(&vid).unwrap()["template_id"] = json!(id);
        Ok(render_template(st, &t))
    })?;
    // The swagger says 200; coderd/templates.go postTemplateByOrganization writes 201.
    ok(StatusCode::CREATED, t)
}

pub(crate) async fn list_templates(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(org): Path<String>,
) -> Ans {
    c.auth(&h)?;
    let st = c.store.snapshot();
    let o = org_key(&st, &org).unwrap_or_default();
    let ts: Vec<Value> = st
        .templates
        .values()
        .filter(|t| t["organization_id"] == o.as_str())
        .map(|t| render_template(&st, t))
        .collect();
    ok(StatusCode::OK, json!(ts))
}

pub(crate) async fn template_by_name(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path((org, name)): Path<(String, String)>,
) -> Ans {
    c.auth(&h)?;
    let st = c.store.snapshot();
    let o = org_key(&st, &org).unwrap_or_default();
    let t = st
        .templates
        .values()
        .find(|t| t["name"] == name.as_str() && t["organization_id"] == o.as_str())
        .ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                &format!("No template found by name {name:?} in the {org:?} organization."),
                "",
            )
        })?;
    ok(StatusCode::OK, render_template(&st, t))
}

pub(crate) async fn get_template(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Ans {
    c.auth(&h)?;
    let st = c.store.snapshot();
    let t = st.templates.get(&id).ok_or_else(|| {
        err(
            StatusCode::NOT_FOUND,
            "Resource not found or you do not have access to this resource",
            "",
        )
    })?;
    ok(StatusCode::OK, render_template(&st, t))
}

pub(crate) async fn update_template(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<Value>,
) -> Ans {
    c.auth(&h)?;
    let t = c.commit(|st| {
        let old = st.templates.get(&id).cloned().ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                "Resource not found or you do not have access to this resource",
                "",
            )
        })?;
        let new = replace_settings(&old, &b, c.premium)?;
        if new == old {
            return Ok(None);
        }
        if let Some(n) = new["name"].as_str().filter(|n| *n != old["name"]) {
            if st
                .templates
                .values()
                .any(|t| t["name"] == n && t["organization_id"] == old["organization_id"])
            {
                return Err(err(
                    StatusCode::CONFLICT,
                    &format!("Template with name {n:?} already exists."),
                    "",
                ));
            }
        }
        let mut new = new;
        new["updated_at"] = json!(now());
        st.templates.insert(id.clone(), new.clone());
        Ok(Some(render_template(st, &new)))
    })?;
    match t {
        Some(t) => ok(StatusCode::OK, t),
        // Nothing changed: `rw.WriteHeader(http.StatusNotModified)`, no body.
        None => Ok(StatusCode::NOT_MODIFIED.into_response()),
    }
}

pub(crate) async fn delete_template(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Ans {
    c.auth(&h)?;
    c.commit(|st| {
        st.templates.remove(&id).ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                "Resource not found or you do not have access to this resource",
                "",
            )
        })?;
        st.versions.retain(|_, v| v["template_id"] != id.as_str());
        Ok(())
    })?;
    ok(
        StatusCode::OK,
        json!({"message": "Template has been deleted!"}),
    )
}

pub(crate) async fn template_versions(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Ans {
    c.auth(&h)?;
    let st = c.store.snapshot();
    let vs: Vec<Value> = st
        .versions
        .values()
        .filter(|v| v["template_id"] == id.as_str())
        .map(render_version)
        .collect();
    ok(StatusCode::OK, json!(vs))
}

pub(crate) async fn set_active_version(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<Value>,
) -> Ans {
    c.auth(&h)?;
    let vid = b["id"].as_str().unwrap_or_default().to_string();
    c.commit(|st| {
        if !st.templates.contains_key(&id) {
            return Err(err(
                StatusCode::NOT_FOUND,
                "Resource not found or you do not have access to this resource",
                "",
            ));
        }
        let v = st
            .versions
            .get(&vid)
            .ok_or_else(|| err(StatusCode::NOT_FOUND, "Template version not found.", &vid))?;
        if v["template_id"] != id.as_str() {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "The provided template version doesn't belong to the specified template.",
                "",
            ));
        }
        if !succeeded(v) {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "The provided template version has not finished successfully.",
                "",
            ));
        }
        st.templates.get_mut(&id).unwrap()["active_version_id"] = json!(vid);
        Ok(())
    })?;
    ok(
        StatusCode::OK,
        json!({"message": "Updated the active template version!"}),
    )
}

/// A group member as `codersdk.ReducedUser`.
fn reduced_user(u: &Value) -> Value {
    json!({"id": u["id"], "username": u["username"], "name": u["name"], "email": u["email"],
           "avatar_url": u["avatar_url"], "created_at": u["created_at"], "updated_at": u["updated_at"],
           "last_seen_at": now(), "status": u["status"], "login_type": u["login_type"],
           "theme_preference": u["theme_preference"]})
}

fn render_group(st: &State, g: &Value) -> Value {
    let mut r = g.clone();
    let members: Vec<Value> = g["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|id| st.users.get(id.as_str().unwrap_or_default()))
        .map(reduced_user)
        .collect();
    let org = st
        .orgs
        .get(g["organization_id"].as_str().unwrap_or_default());
    r["organization_name"] = org.map(|o| o["name"].clone()).unwrap_or(json!(""));
    r["organization_display_name"] = org.map(|o| o["display_name"].clone()).unwrap_or(json!(""));
    r["total_member_count"] = json!(members.len());
    r["members"] = json!(members);
    r["source"] = json!("user");
    r
}

/// The `Everyone` group every organization has (its id is the organization's id; members are
/// the organization's members; coderd/database: `group.IsEveryone()`).
fn everyone(st: &State, org_id: &str) -> Option<Value> {
    st.orgs.get(org_id)?;
    let members: Vec<Value> = st
        .users
        .values()
        .filter(|u| {
            u["organization_ids"]
                .as_array()
                .is_some_and(|a| a.contains(&json!(org_id)))
        })
        .map(|u| u["id"].clone())
        .collect();
    let g = json!({"id": org_id, "organization_id": org_id, "name": "Everyone", "display_name": "",
                   "avatar_url": "", "quota_allowance": 0, "members": members});
    Some(render_group(st, &g))
}

pub(crate) async fn create_group(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(org): Path<String>,
    Json(b): Json<Value>,
) -> Ans {
    c.auth(&h)?;
    c.licensed()?;
    let name = b["name"].as_str().unwrap_or_default().to_string();
    if name.is_empty() || name == "Everyone" {
        return Err(invalid("name", "invalid group name"));
    }
    let g = c.commit(|st| {
        let o = org_key(st, &org).ok_or_else(|| err(StatusCode::NOT_FOUND, "Resource not found or you do not have access to this resource", ""))?;
        if st.groups.values().any(|g| g["name"] == name.as_str() && g["organization_id"] == o.as_str()) {
            return Err(err(StatusCode::CONFLICT, &format!("A group named {name:?} already exists."), ""));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let g = json!({"id": id, "organization_id": o, "name": name, "display_name": b["display_name"].as_str().unwrap_or(""),
                       "avatar_url": "", "quota_allowance": b["quota_allowance"].as_i64().unwrap_or(0), "members": []});
        st.groups.insert(id, g.clone());
        Ok(render_group(st, &g))
    })?;
    ok(StatusCode::CREATED, g)
}

pub(crate) async fn list_groups(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(org): Path<String>,
) -> Ans {
    c.auth(&h)?;
    c.licensed()?;
    let st = c.store.snapshot();
    let o = org_key(&st, &org).unwrap_or_default();
    let groups: Vec<Value> = everyone(&st, &o)
        .into_iter()
        .chain(
            st.groups
                .values()
                .filter(|g| g["organization_id"] == o.as_str())
                .map(|g| render_group(&st, g)),
        )
        .collect();
    ok(StatusCode::OK, json!(groups))
}

pub(crate) async fn group_by_name(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path((org, name)): Path<(String, String)>,
) -> Ans {
    c.auth(&h)?;
    c.licensed()?;
    let st = c.store.snapshot();
    let o = org_key(&st, &org).unwrap_or_default();
    if name == "Everyone" {
        if let Some(g) = everyone(&st, &o) {
            return ok(StatusCode::OK, g);
        }
    }
    let g = st
        .groups
        .values()
        .find(|g| g["name"] == name.as_str() && g["organization_id"] == o.as_str())
        .ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                "Resource not found or you do not have access to this resource",
                "",
            )
        })?;
    ok(StatusCode::OK, render_group(&st, g))
}

pub(crate) async fn get_group(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Ans {
    c.auth(&h)?;
    c.licensed()?;
    let st = c.store.snapshot();
    if let Some(g) = everyone(&st, &id) {
        return ok(StatusCode::OK, g);
    }
    let g = st.groups.get(&id).ok_or_else(|| {
        err(
            StatusCode::NOT_FOUND,
            "Resource not found or you do not have access to this resource",
            "",
        )
    })?;
    ok(StatusCode::OK, render_group(&st, g))
}

pub(crate) async fn patch_group(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<Value>,
) -> Ans {
    c.auth(&h)?;
    c.licensed()?;
    if c.store.read(|st| st.orgs.contains_key(&id)) {
        // coderd/groups.go patchGroup: the Everyone group's name and members are not editable.
        return Err(err(
            StatusCode::BAD_REQUEST,
            "Cannot change the Everyone group.",
            "its members are the organization's members",
        ));
    }
    let g = c.commit(|st| {
        let add: Vec<String> = b["add_users"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(String::from))
            .collect();
        for u in &add {
            if !st.users.contains_key(u) {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    &format!("User {u:?} must be a member of the organization."),
                    "",
                ));
            }
        }
        let g = st.groups.get_mut(&id).ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                "Resource not found or you do not have access to this resource",
                "",
            )
        })?;
        if let Some(n) = b["name"].as_str().filter(|n| !n.is_empty()) {
            g["name"] = json!(n);
        }
        if let Some(n) = b["display_name"].as_str() {
            g["display_name"] = json!(n);
        }
        if let Some(q) = b["quota_allowance"].as_i64() {
            g["quota_allowance"] = json!(q);
        }
        let members = g["members"].as_array_mut().unwrap();
        for u in add {
            if !members.contains(&json!(u)) {
                members.push(json!(u));
            }
        }
        let remove: Vec<Value> = b["remove_users"].as_array().cloned().unwrap_or_default();
        members.retain(|m| !remove.contains(m));
        let g = g.clone();
        Ok(render_group(st, &g))
    })?;
    ok(StatusCode::OK, g)
}

pub(crate) async fn delete_group(
    AxState(c): AxState<Arc<Coder>>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Ans {
    c.auth(&h)?;
    c.licensed()?;
    if c.store.read(|st| st.orgs.contains_key(&id)) {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "Cannot delete the Everyone group.",
            "",
        ));
    }
    c.commit(|st| {
        st.groups.remove(&id).ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                "Resource not found or you do not have access to this resource",
                "",
            )
        })?;
        Ok(())
    })?;
    ok(
        StatusCode::OK,
        json!({"message": "Group has been deleted!"}),
    )
}
