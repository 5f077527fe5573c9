//! `/admin/users`, `/users/{username}`, `/user`.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{b, body, check_types, err, hash_password, no_content, ok, page, s, valid_name};
use super::{Answer, Caller, Gitea, RequestParts, UserRow};
use crate::table::TableExt;
use crate::time;

const VISIBILITIES: [&str; 3] = ["public", "limited", "private"];

/// The API `User` object; admin-only fields for admins and the user themself.
pub(crate) fn user_json(u: &UserRow, viewer: Option<&Caller>) -> Value {
    let full = viewer.is_some_and(|c| c.is_admin || c.key() == u.login.to_lowercase());
    let mut v = json!({
        "id": u.id,
        "login": u.login,
        "full_name": u.full_name,
        "email": if full { u.email.clone() } else { String::new() },
        "avatar_url": format!("/avatars/{}", u.id),
        "html_url": format!("/{}", u.login),
        "language": "",
        "is_admin": u.is_admin,
        "last_login": "0001-01-01T00:00:00Z",
        "created": time::format(u.created),
        "restricted": u.restricted,
        "active": u.active,
        "prohibit_login": u.prohibit_login,
        "location": u.location,
        "website": u.website,
        "description": u.description,
        "visibility": u.visibility,
        "followers_count": 0,
        "following_count": 0,
        "starred_repos_count": 0,
    });
    if full {
        v["login_name"] = json!(u.login_name);
        v["source_id"] = json!(u.source_id);
    }
    v
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(char::is_whitespace)
}

fn check_visibility(v: &Value) -> Result<(), axum::response::Response> {
    if let Some(vis) = s(v, "visibility").filter(|x| !x.is_empty()) {
        if !VISIBILITIES.contains(&vis) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("[Visibility]: invalid visibility {vis:?}"),
            ));
        }
    }
    Ok(())
}

/// POST /admin/users (CreateUserOption).
pub(crate) async fn create(State(g): State<Arc<Gitea>>, req: Request) -> Answer {
    let (parts, v) = body(req).await?;
    let caller = g.admin(&parts)?;
    check_types(
        &v,
        &[
            ("username", "string"),
            ("email", "string"),
            ("password", "string"),
            ("full_name", "string"),
            ("login_name", "string"),
            ("source_id", "int"),
            ("must_change_password", "bool"),
            ("restricted", "bool"),
            ("send_notify", "bool"),
            ("visibility", "string"),
        ],
    )?;
    let username = s(&v, "username").unwrap_or_default().to_string();
    let email = s(&v, "email").unwrap_or_default().to_string();
    if username.is_empty() {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "[Username]: Required",
        ));
    }
    if email.is_empty() {
        return Err(err(StatusCode::UNPROCESSABLE_ENTITY, "[Email]: Required"));
    }
    if !valid_name(&username) {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("[Username]: name is invalid [{username}]: must be valid alpha or numeric or dash(-_) or dot characters"),
        ));
    }
    if !valid_email(&email) {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("e-mail invalid [email: {email}]"),
        ));
    }
    check_visibility(&v)?;
    let source_id = v.get("source_id").and_then(Value::as_i64).unwrap_or(0);
    let password = s(&v, "password").unwrap_or_default();
    if source_id == 0 && password.len() < 8 {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "PasswordTooShort: password is too short (min 8)",
        ));
    }
    let row = g.commit(|st, now| {
        if st.name_taken(&username) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("user already exists [name: {username}]"),
            ));
        }
        if st
            .users
            .values()
            .any(|u| u.email.eq_ignore_ascii_case(&email))
        {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("e-mail already in use [email: {email}]"),
            ));
        }
        let row = UserRow {
            id: st.id(),
            login: username.clone(),
            email: email.clone(),
            full_name: s(&v, "full_name").unwrap_or_default().to_string(),
            password_hash: if password.is_empty() {
                String::new()
            } else {
                hash_password(password)
            },
            login_name: s(&v, "login_name").unwrap_or_default().to_string(),
            source_id,
            // Gitea defaults must_change_password to true when omitted.
            must_change_password: b(&v, "must_change_password").unwrap_or(true),
            restricted: b(&v, "restricted").unwrap_or(false),
            is_admin: false,
            allow_create_organization: true,
            prohibit_login: false,
            active: true,
            visibility: s(&v, "visibility")
                .filter(|x| !x.is_empty())
                .unwrap_or("public")
                .to_string(),
            created: now,
            ..Default::default()
        };
        st.users.insert(username.to_lowercase(), row.clone());
        Ok(row)
    })?;
    ok(StatusCode::CREATED, user_json(&row, Some(&caller)))
}

/// PATCH /admin/users/{username} (EditUserOption; a non-empty `login_name` required).
pub(crate) async fn edit(
    State(g): State<Arc<Gitea>>,
    Path(username): Path<String>,
    req: Request,
) -> Answer {
    let (parts, v) = body(req).await?;
    let caller = g.admin(&parts)?;
    check_types(
        &v,
        &[
            ("active", "bool"),
            ("admin", "bool"),
            ("allow_create_organization", "bool"),
            ("email", "string"),
            ("full_name", "string"),
            ("login_name", "string"),
            ("must_change_password", "bool"),
            ("password", "string"),
            ("prohibit_login", "bool"),
            ("restricted", "bool"),
            ("source_id", "int"),
            ("visibility", "string"),
        ],
    )?;
    // `LoginName string `binding:"Required"`` on EditUserOption (go-gitea/gitea
    // modules/structs/admin_user.go): the binding refuses a missing *or empty* string. `SourceID`
    // carries no binding rule, so 0 (a local account) is accepted.
    if s(&v, "login_name").is_none_or(str::is_empty) {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "[LoginName]: Required",
        ));
    }
    if v.get("max_repo_creation")
        .is_some_and(|m| !m.is_null() && m.as_i64().is_none())
    {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "[MaxRepoCreation]: must be an integer",
        ));
    }
    check_visibility(&v)?;
    if let Some(e) = s(&v, "email").filter(|e| !e.is_empty()) {
        if !valid_email(e) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("e-mail invalid [email: {e}]"),
            ));
        }
    }
    if let Some(p) = s(&v, "password").filter(|p| !p.is_empty()) {
        if p.len() < 8 {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "PasswordTooShort: password is too short (min 8)",
            ));
        }
    }
    let row = g.commit(|st, _| {
        let key = username.to_lowercase();
        if let Some(e) = s(&v, "email").filter(|e| !e.is_empty()) {
            if st
                .users
                .iter()
                .any(|(k, u)| *k != key && u.email.eq_ignore_ascii_case(e))
            {
                return Err(err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("e-mail already in use [email: {e}]"),
                ));
            }
        }
        let u = st.users.get_mut(&key).ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                format!("user does not exist [uid: 0, name: {username}]"),
            )
        })?;
        let set_b = |field: &mut bool, name: &str| {
            if let Some(x) = b(&v, name) {
                *field = x;
            }
        };
        set_b(&mut u.is_admin, "admin");
        set_b(&mut u.active, "active");
        set_b(
            &mut u.allow_create_organization,
            "allow_create_organization",
        );
        set_b(&mut u.must_change_password, "must_change_password");
        set_b(&mut u.prohibit_login, "prohibit_login");
        set_b(&mut u.restricted, "restricted");
        for (field, name) in [
            (&mut u.email, "email"),
            (&mut u.full_name, "full_name"),
            (&mut u.visibility, "visibility"),
            (&mut u.website, "website"),
            (&mut u.location, "location"),
            (&mut u.description, "description"),
        ] {
            if let Some(x) = s(&v, name) {
                if !(x.is_empty() && matches!(name, "email" | "visibility")) {
                    *field = x.to_string();
                }
            }
        }
        // routers/api/v1/admin/user.go EditUser: LoginName is always stored, LoginSource only
        // when non-zero (`optional.FromNonDefault`); MaxRepoCreation when given.
        u.login_name = s(&v, "login_name").unwrap_or_default().to_string();
        if let Some(src) = v
            .get("source_id")
            .and_then(Value::as_i64)
            .filter(|x| *x != 0)
        {
            u.source_id = src;
        }
        if let Some(m) = v.get("max_repo_creation").and_then(Value::as_i64) {
            u.max_repo_creation = (m >= 0).then_some(m);
        }
        if let Some(p) = s(&v, "password").filter(|p| !p.is_empty()) {
            u.password_hash = hash_password(p);
        }
        Ok(u.clone())
    })?;
    ok(StatusCode::OK, user_json(&row, Some(&caller)))
}

/// DELETE /admin/users/{username}; refused while the user owns repositories (unless `purge`).
pub(crate) async fn delete(
    State(g): State<Arc<Gitea>>,
    Path(username): Path<String>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let caller = g.admin(&parts)?;
    let purge = parts.param("purge").as_deref() == Some("true");
    g.commit(|st, _| {
        let key = username.to_lowercase();
        if key == caller.key() {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "you cannot delete yourself",
            ));
        }
        if !st.users.contains_key(&key) {
            return Err(err(
                StatusCode::NOT_FOUND,
                format!("user does not exist [uid: 0, name: {username}]"),
            ));
        }
        let owned: Vec<String> = st
            .repos
            .iter()
            .filter(|(_, r)| r.owner.to_lowercase() == key)
            .map(|(k, _)| k.clone())
            .collect();
        if !owned.is_empty() && !purge {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "user still has ownership of repositories [uid: 0, count: {}]",
                    owned.len()
                ),
            ));
        }
        for k in owned {
            st.repos.remove(&k);
        }
        st.users.remove(&key);
        super::tokens::forget_user(st, &key);
        st.teams.values_mut_each(|t| {
            t.members.remove(&key);
        });
        st.repos.values_mut_each(|r| {
            r.collaborators.remove(&key);
        });
        Ok(())
    })?;
    no_content()
}

/// GET /users/{username}.
pub(crate) async fn get(
    State(g): State<Arc<Gitea>>,
    Path(username): Path<String>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let caller = g.caller(&parts.headers, parts.query.as_deref())?;
    let st = g.state();
    let u = st.users.get(&username.to_lowercase()).ok_or_else(|| {
        err(
            StatusCode::NOT_FOUND,
            format!("user does not exist [uid: 0, name: {username}]"),
        )
    })?;
    // Private users are visible only to admins and themselves; restricted viewers and
    // anonymous callers do not see limited ones.
    let me = caller.as_ref();
    let visible = match u.visibility.as_str() {
        "private" => me.is_some_and(|c| c.is_admin || c.key() == username.to_lowercase()),
        "limited" => {
            me.is_some_and(|c| !c.restricted || c.is_admin || c.key() == username.to_lowercase())
        }
        _ => true,
    };
    if !visible {
        return Err(err(
            StatusCode::NOT_FOUND,
            format!("user does not exist [uid: 0, name: {username}]"),
        ));
    }
    ok(StatusCode::OK, user_json(u, me))
}

/// GET /user.
pub(crate) async fn me(State(g): State<Arc<Gitea>>, req: Request) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    let st = g.state();
    let u = st
        .users
        .get(&c.key())
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "user does not exist"))?;
    ok(StatusCode::OK, user_json(u, Some(&c)))
}

/// GET /admin/users (paged; `login_name`, `source_id` filters).
pub(crate) async fn list(State(g): State<Arc<Gitea>>, req: Request) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.admin(&parts)?;
    let st = g.state();
    let mut users: Vec<&UserRow> = st.users.values().collect();
    users.sort_by_key(|u| u.id);
    if let Some(ln) = parts.param("login_name") {
        users.retain(|u| u.login_name == ln);
    }
    page(
        &parts,
        users.into_iter().map(|u| user_json(u, Some(&c))).collect(),
    )
}

/// POST /admin/users/{username}/rename (RenameUserOption): the account keeps its id, its
/// repositories move with it, team memberships and collaborator grants follow (go-gitea/gitea
/// routers/api/v1/admin/user.go `RenameUser`, services/user/user.go `RenameUser`). 204.
pub(crate) async fn rename(
    State(g): State<Arc<Gitea>>,
    Path(username): Path<String>,
    req: Request,
) -> Answer {
    let (parts, v) = body(req).await?;
    g.admin(&parts)?;
    check_types(&v, &[("new_username", "string")])?;
    let new = s(&v, "new_username").unwrap_or_default().to_string();
    if new.is_empty() {
        return Err(err(StatusCode::UNPROCESSABLE_ENTITY, "[NewName]: Required"));
    }
    if !valid_name(&new) {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("name is invalid [{new}]: must be valid alpha or numeric or dash(-_) or dot characters"),
        ));
    }
    g.commit(|st, _| {
        let old = username.to_lowercase();
        if st.orgs.contains_key(&old) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{username} is an organization"),
            ));
        }
        let mut row = st.users.get(&old).cloned().ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                format!("user does not exist [uid: 0, name: {username}]"),
            )
        })?;
        let nk = new.to_lowercase();
        if nk != old && st.name_taken(&new) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("user already exists [name: {new}]"),
            ));
        }
        row.login = new.clone();
        st.users.remove(&old);
        st.users.insert(nk.clone(), row);
        let moved: Vec<String> = st
            .repos
            .iter()
            .filter(|(_, r)| r.owner.to_lowercase() == old)
            .map(|(k, _)| k.clone())
            .collect();
        for k in moved {
            let mut r = st.repos.remove(&k).expect("listed above");
            r.owner = new.clone();
            let nkey = format!("{nk}/{}", r.name.to_lowercase());
            st.teams.values_mut_each(|t| {
                if t.repos.remove(&k) {
                    t.repos.insert(nkey.clone());
                }
            });
            st.repos.insert(nkey, r);
        }
        st.teams.values_mut_each(|t| {
            if t.members.remove(&old) {
                t.members.insert(nk.clone());
            }
        });
        st.repos.values_mut_each(|r| {
            if let Some(p) = r.collaborators.remove(&old) {
                r.collaborators.insert(nk.clone(), p);
            }
        });
        Ok(())
    })?;
    no_content()
}
