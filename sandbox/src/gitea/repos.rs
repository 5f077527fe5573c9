//! Repositories, collaborators and who may see what. A restricted user sees only repositories
//! it owns, collaborates on, or reaches through a team; others also see public repositories.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::orgs::is_org_member;
use super::users::user_json;
use super::{b, body, check_types, err, no_content, ok, page, s, valid_name};
use super::{Answer, Caller, Gitea, RepoRow, RequestParts, State as St};
use crate::table::TableExt;

const PERMISSIONS: [&str; 3] = ["read", "write", "admin"];

fn rank(p: &str) -> u8 {
    match p {
        "read" => 1,
        "write" => 2,
        "admin" => 3,
        "owner" => 4,
        _ => 0,
    }
}

fn key(owner: &str, name: &str) -> String {
    format!("{}/{}", owner.to_lowercase(), name.to_lowercase())
}

/// The caller's permission on `r` (`None` = cannot see it).
pub(crate) fn permission(st: &St, c: Option<&Caller>, r: &RepoRow) -> Option<&'static str> {
    let k = key(&r.owner, &r.name);
    let mut best: Option<&'static str> = None;
    let mut raise = |p: &'static str| {
        if best.is_none_or(|b| rank(p) > rank(b)) {
            best = Some(p);
        }
    };
    if let Some(c) = c {
        let me = c.key();
        if c.is_admin || r.owner.to_lowercase() == me {
            raise("owner");
        }
        if let Some(p) = r.collaborators.get(&me) {
            raise(match p.as_str() {
                "admin" => "admin",
                "write" => "write",
                _ => "read",
            });
        }
        for t in st.teams.values() {
            if t.org.eq_ignore_ascii_case(&r.owner)
                && t.members.contains(&me)
                && (t.includes_all_repositories || t.repos.contains(&k))
            {
                raise(match t.permission.as_str() {
                    "owner" => "owner",
                    "admin" => "admin",
                    "write" => "write",
                    _ => "read",
                });
            }
        }
    }
    if best.is_some() {
        return best;
    }
    // Without an explicit grant: public repositories of visible owners, never for restricted users.
    let restricted = c.is_some_and(|c| c.restricted);
    let owner_visible = match st.orgs.get(&r.owner.to_lowercase()) {
        Some(o) => match o.visibility.as_str() {
            "private" => c.is_some_and(|c| is_org_member(st, &c.login, &o.name)),
            "limited" => c.is_some(),
            _ => true,
        },
        None => st
            .users
            .get(&r.owner.to_lowercase())
            .is_none_or(|u| u.visibility == "public" || (u.visibility == "limited" && c.is_some())),
    };
    (!r.private && !restricted && owner_visible).then_some("read")
}

pub(crate) fn repo_json(st: &St, r: &RepoRow, c: Option<&Caller>) -> Value {
    let p = permission(st, c, r).unwrap_or("");
    let owner = st
        .users
        .get(&r.owner.to_lowercase())
        .map(|u| user_json(u, c))
        .or_else(|| {
            st.orgs.get(&r.owner.to_lowercase()).map(|o| {
                json!({"id": o.id, "login": o.name, "full_name": o.full_name,
                       "visibility": o.visibility, "avatar_url": format!("/avatars/{}", o.id)})
            })
        })
        .unwrap_or(Value::Null);
    json!({
        "id": r.id,
        "owner": owner,
        "name": r.name,
        "full_name": format!("{}/{}", r.owner, r.name),
        "description": r.description,
        "empty": true,
        "private": r.private,
        "fork": false,
        "template": false,
        "mirror": false,
        "archived": r.archived,
        "size": 0,
        "html_url": format!("/{}/{}", r.owner, r.name),
        "clone_url": format!("/{}/{}.git", r.owner, r.name),
        "ssh_url": format!("git@localhost:{}/{}.git", r.owner, r.name),
        "website": r.website,
        "default_branch": r.default_branch,
        "has_issues": r.has_issues,
        "has_wiki": r.has_wiki,
        "has_pull_requests": r.has_pull_requests,
        "internal": false,
        "created_at": crate::time::format(r.created),
        "updated_at": crate::time::format(r.updated),
        "permissions": {"admin": rank(p) >= 3, "push": rank(p) >= 2, "pull": rank(p) >= 1},
    })
}

fn no_repo(owner: &str, name: &str) -> axum::response::Response {
    err(
        StatusCode::NOT_FOUND,
        format!("repository does not exist [id: 0, uid: 0, owner_name: {owner}, name: {name}]"),
    )
}

/// Creates `v` (CreateRepoOption) owned by `owner` after `may_create` said yes.
fn create_repo(g: &Gitea, c: &Caller, owner: &str, v: &Value) -> Answer {
    check_types(
        v,
        &[
            ("name", "string"),
            ("description", "string"),
            ("private", "bool"),
            ("default_branch", "string"),
            ("auto_init", "bool"),
        ],
    )?;
    let name = s(v, "name").unwrap_or_default().to_string();
    if name.is_empty() {
        return Err(err(StatusCode::UNPROCESSABLE_ENTITY, "[Name]: Required"));
    }
    if !valid_name(&name) || name.len() > 100 {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("[Name]: name is invalid [{name}]"),
        ));
    }
    let (row, st) = g.commit(|st, now| {
        let okey = owner.to_lowercase();
        let is_org = st.orgs.contains_key(&okey);
        if !is_org && !st.users.contains_key(&okey) {
            return Err(err(
                StatusCode::NOT_FOUND,
                format!("user does not exist [uid: 0, name: {owner}]"),
            ));
        }
        if is_org
            && !c.is_admin
            && !st.teams.values().any(|t| {
                t.org.eq_ignore_ascii_case(owner)
                    && t.members.contains(&c.key())
                    && (t.permission == "owner" || t.can_create_org_repo)
            })
        {
            return Err(err(
                StatusCode::FORBIDDEN,
                "given user is not allowed to create repositories in this organization",
            ));
        }
        if !is_org && !c.is_admin && c.key() != okey {
            return Err(err(
                StatusCode::FORBIDDEN,
                "only the user or a site admin may create repositories for a user",
            ));
        }
        let k = key(owner, &name);
        if st.repos.contains_key(&k) {
            return Err(err(
                StatusCode::CONFLICT,
                "The repository with the same name already exists.",
            ));
        }
        // The repository limit (go-gitea/gitea models/user/user.go `CanCreateRepoIn`: site
        // admins are exempt; services/repository/create.go returns `ErrReachLimitOfRepo`,
        // which unwraps to `util.ErrPermissionDenied`, and routers/api/v1/repo/repo.go
        // `CreateUserRepo` answers that with 403).
        if let Some(limit) = st.users.get(&okey).and_then(|u| u.max_repo_creation) {
            let owned = st
                .repos
                .values()
                .filter(|r| r.owner.to_lowercase() == okey)
                .count() as i64;
            if !c.is_admin && owned >= limit {
                return Err(err(
                    StatusCode::FORBIDDEN,
                    format!("user has reached maximum limit of repositories [limit: {limit}]"),
                ));
            }
        }
        let owner_name = st
            .orgs
            .get(&okey)
            .map(|o| o.name.clone())
            .or_else(|| st.users.get(&okey).map(|u| u.login.clone()))
            .unwrap_or_else(|| owner.to_string());
        let row = RepoRow {
            id: st.id(),
            owner: owner_name,
            name: name.clone(),
            description: s(v, "description").unwrap_or_default().into(),
            private: b(v, "private").unwrap_or(false),
            default_branch: s(v, "default_branch")
                .filter(|x| !x.is_empty())
                .unwrap_or("main")
                .into(),
            has_issues: true,
            has_wiki: true,
            has_pull_requests: true,
            created: now,
            updated: now,
            ..Default::default()
        };
        st.repos.insert(k, row.clone());
        Ok((row, st.clone()))
    })?;
    ok(StatusCode::CREATED, repo_json(&st, &row, Some(c)))
}

/// POST /user/repos.
pub(crate) async fn create_for_me(State(g): State<Arc<Gitea>>, req: Request) -> Answer {
    let (parts, v) = body(req).await?;
    let c = g.signed_in(&parts)?;
    // Gitea has no rule against restricted users creating their own repositories; only the
    // repository limit below (max_repo_creation) stops them.
    create_repo(&g, &c, &c.login.clone(), &v)
}

/// POST /admin/users/{username}/repos.
pub(crate) async fn create_for_user(
    State(g): State<Arc<Gitea>>,
    Path(user): Path<String>,
    req: Request,
) -> Answer {
    let (parts, v) = body(req).await?;
    let c = g.admin(&parts)?;
    create_repo(&g, &c, &user, &v)
}

/// POST /orgs/{org}/repos.
pub(crate) async fn create_for_org(
    State(g): State<Arc<Gitea>>,
    Path(org): Path<String>,
    req: Request,
) -> Answer {
    let (parts, v) = body(req).await?;
    let c = g.signed_in(&parts)?;
    if !g.state().orgs.contains_key(&org.to_lowercase()) {
        return Err(err(
            StatusCode::NOT_FOUND,
            format!("org does not exist [id: 0, name: {org}]"),
        ));
    }
    create_repo(&g, &c, &org, &v)
}

fn visible_repo(
    st: &St,
    c: Option<&Caller>,
    owner: &str,
    name: &str,
) -> Result<RepoRow, axum::response::Response> {
    st.repos
        .get(&key(owner, name))
        .filter(|r| permission(st, c, r).is_some())
        .cloned()
        .ok_or_else(|| no_repo(owner, name))
}

/// GET /repos/{owner}/{repo}: 404 for repositories the caller may not see.
pub(crate) async fn get(
    State(g): State<Arc<Gitea>>,
    Path((owner, name)): Path<(String, String)>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.caller(&parts.headers, parts.query.as_deref())?;
    let st = g.state();
    let r = visible_repo(&st, c.as_ref(), &owner, &name)?;
    ok(StatusCode::OK, repo_json(&st, &r, c.as_ref()))
}

/// PATCH /repos/{owner}/{repo} (EditRepoOption; needs admin permission).
pub(crate) async fn edit(
    State(g): State<Arc<Gitea>>,
    Path((owner, name)): Path<(String, String)>,
    req: Request,
) -> Answer {
    let (parts, v) = body(req).await?;
    let c = g.signed_in(&parts)?;
    check_types(
        &v,
        &[
            ("name", "string"),
            ("description", "string"),
            ("private", "bool"),
            ("archived", "bool"),
            ("default_branch", "string"),
            ("website", "string"),
        ],
    )?;
    if let Some(n) = s(&v, "name") {
        if !valid_name(n) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("[Name]: name is invalid [{n}]"),
            ));
        }
    }
    let (row, st) = g.commit(|st, now| {
        let r = visible_repo(st, Some(&c), &owner, &name)?;
        if rank(permission(st, Some(&c), &r).unwrap_or("")) < 3 {
            return Err(err(
                StatusCode::FORBIDDEN,
                "user should be an owner or a collaborator with admin write of a repository",
            ));
        }
        let old = key(&owner, &name);
        let mut r = st.repos.remove(&old).unwrap();
        if let Some(n) = s(&v, "name") {
            if !n.eq_ignore_ascii_case(&r.name) && st.repos.contains_key(&key(&r.owner, n)) {
                st.repos.insert(old, r);
                return Err(err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "repository already exists",
                ));
            }
            r.name = n.into();
        }
        if let Some(x) = s(&v, "description") {
            r.description = x.into();
        }
        if let Some(x) = s(&v, "website") {
            r.website = x.into();
        }
        if let Some(x) = s(&v, "default_branch").filter(|x| !x.is_empty()) {
            r.default_branch = x.into();
        }
        if let Some(x) = b(&v, "private") {
            r.private = x;
        }
        if let Some(x) = b(&v, "archived") {
            r.archived = x;
        }
        for (field, n) in [
            (&mut r.has_issues, "has_issues"),
            (&mut r.has_wiki, "has_wiki"),
            (&mut r.has_pull_requests, "has_pull_requests"),
        ] {
            if let Some(x) = b(&v, n) {
                *field = x;
            }
        }
        r.updated = now;
        let new = key(&r.owner, &r.name);
        st.teams.values_mut_each(|t| {
            if t.repos.remove(&old) {
                t.repos.insert(new.clone());
            }
        });
        st.repos.insert(new, r.clone());
        Ok((r, st.clone()))
    })?;
    ok(StatusCode::OK, repo_json(&st, &row, Some(&c)))
}

/// DELETE /repos/{owner}/{repo}.
pub(crate) async fn delete(
    State(g): State<Arc<Gitea>>,
    Path((owner, name)): Path<(String, String)>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    g.commit(|st, _| {
        let r = visible_repo(st, Some(&c), &owner, &name)?;
        if rank(permission(st, Some(&c), &r).unwrap_or("")) < 4 {
            return Err(err(
                StatusCode::FORBIDDEN,
                "user should be the owner of the repository",
            ));
        }
        let k = key(&owner, &name);
        st.repos.remove(&k);
        st.teams.values_mut_each(|t| {
            t.repos.remove(&k);
        });
        Ok(())
    })?;
    no_content()
}

/// Repositories visible to the caller, filtered.
fn visible(st: &St, c: Option<&Caller>, keep: impl Fn(&RepoRow) -> bool) -> Vec<Value> {
    let mut rows: Vec<&RepoRow> = st
        .repos
        .values()
        .filter(|r| keep(r) && permission(st, c, r).is_some())
        .collect();
    rows.sort_by_key(|r| r.id);
    rows.into_iter().map(|r| repo_json(st, r, c)).collect()
}

/// GET /repos/search (`q`, `uid`, `private`, paged): `{"ok": true, "data": [...]}`.
pub(crate) async fn search(State(g): State<Arc<Gitea>>, req: Request) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.caller(&parts.headers, parts.query.as_deref())?;
    let st = g.state();
    let q = parts.param("q").unwrap_or_default().to_lowercase();
    let all = visible(&st, c.as_ref(), |r| {
        q.is_empty() || r.name.to_lowercase().contains(&q)
    });
    let res = page(&parts, all)?;
    let total = res.headers().get("X-Total-Count").cloned();
    let data = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap_or_default();
    let data: Value = serde_json::from_slice(&data).unwrap_or(Value::Array(vec![]));
    let mut out = ok(StatusCode::OK, json!({"ok": true, "data": data}))?;
    if let Some(t) = total {
        out.headers_mut().insert("X-Total-Count", t);
    }
    Ok(out)
}

/// GET /user/repos: repositories the caller owns or was granted.
pub(crate) async fn my_repos(State(g): State<Arc<Gitea>>, req: Request) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    let st = g.state();
    let me = c.key();
    let mine = visible(&st, Some(&c), |r| {
        r.owner.to_lowercase() == me
            || r.collaborators.contains_key(&me)
            || st.teams.values().any(|t| {
                t.org.eq_ignore_ascii_case(&r.owner)
                    && t.members.contains(&me)
                    && (t.includes_all_repositories || t.repos.contains(&key(&r.owner, &r.name)))
            })
    });
    page(&parts, mine)
}

/// GET /orgs/{org}/repos.
pub(crate) async fn org_repos(
    State(g): State<Arc<Gitea>>,
    Path(org): Path<String>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.caller(&parts.headers, parts.query.as_deref())?;
    let st = g.state();
    if !st.orgs.contains_key(&org.to_lowercase()) {
        return Err(err(
            StatusCode::NOT_FOUND,
            format!("org does not exist [id: 0, name: {org}]"),
        ));
    }
    page(
        &parts,
        visible(&st, c.as_ref(), |r| r.owner.eq_ignore_ascii_case(&org)),
    )
}

/// The caller may manage collaborators of `owner/name` (admin permission).
fn manageable(
    st: &St,
    c: &Caller,
    owner: &str,
    name: &str,
) -> Result<RepoRow, axum::response::Response> {
    let r = visible_repo(st, Some(c), owner, name)?;
    if rank(permission(st, Some(c), &r).unwrap_or("")) < 3 {
        return Err(err(
            StatusCode::FORBIDDEN,
            "user should be an owner or a collaborator with admin write of a repository",
        ));
    }
    Ok(r)
}

/// GET /repos/{owner}/{repo}/collaborators.
pub(crate) async fn collaborators(
    State(g): State<Arc<Gitea>>,
    Path((owner, name)): Path<(String, String)>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    let st = g.state();
    let r = visible_repo(&st, Some(&c), &owner, &name)?;
    let users: Vec<Value> = r
        .collaborators
        .keys()
        .filter_map(|u| st.users.get(u))
        .map(|u| user_json(u, Some(&c)))
        .collect();
    page(&parts, users)
}

/// GET /repos/{owner}/{repo}/collaborators/{username}: 204 when a collaborator, else 404.
pub(crate) async fn is_collaborator(
    State(g): State<Arc<Gitea>>,
    Path((owner, name, user)): Path<(String, String, String)>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    let st = g.state();
    let r = visible_repo(&st, Some(&c), &owner, &name)?;
    if r.collaborators.contains_key(&user.to_lowercase()) {
        no_content()
    } else {
        Err(err(StatusCode::NOT_FOUND, "not found"))
    }
}

/// PUT /repos/{owner}/{repo}/collaborators/{username} (AddCollaboratorOption).
pub(crate) async fn add_collaborator(
    State(g): State<Arc<Gitea>>,
    Path((owner, name, user)): Path<(String, String, String)>,
    req: Request,
) -> Answer {
    let (parts, v) = body(req).await?;
    let c = g.signed_in(&parts)?;
    check_types(&v, &[("permission", "string")])?;
    let perm = s(&v, "permission").unwrap_or("write").to_string();
    if !PERMISSIONS.contains(&perm.as_str()) {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("[Permission]: must be one of read, write, admin, got {perm:?}"),
        ));
    }
    g.commit(|st, _| {
        manageable(st, &c, &owner, &name)?;
        let u = user.to_lowercase();
        if !st.users.contains_key(&u) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("user does not exist [uid: 0, name: {user}]"),
            ));
        }
        let r = st.repos.get_mut(&key(&owner, &name)).unwrap();
        if r.owner.to_lowercase() == u {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the owner cannot be a collaborator",
            ));
        }
        r.collaborators.insert(u, perm.clone());
        Ok(())
    })?;
    no_content()
}

/// DELETE /repos/{owner}/{repo}/collaborators/{username}.
pub(crate) async fn remove_collaborator(
    State(g): State<Arc<Gitea>>,
    Path((owner, name, user)): Path<(String, String, String)>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    g.commit(|st, _| {
        manageable(st, &c, &owner, &name)?;
        let u = user.to_lowercase();
        if !st.users.contains_key(&u) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("user does not exist [uid: 0, name: {user}]"),
            ));
        }
        st.repos
            .get_mut(&key(&owner, &name))
            .unwrap()
            .collaborators
            .remove(&u);
        Ok(())
    })?;
    no_content()
}

/// GET /repos/{owner}/{repo}/collaborators/{username}/permission.
pub(crate) async fn collaborator_permission(
    State(g): State<Arc<Gitea>>,
    Path((owner, name, user)): Path<(String, String, String)>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    let st = g.state();
    let r = visible_repo(&st, Some(&c), &owner, &name)?;
    let u = st.users.get(&user.to_lowercase()).ok_or_else(|| {
        err(
            StatusCode::NOT_FOUND,
            format!("user does not exist [uid: 0, name: {user}]"),
        )
    })?;
    let as_user = Caller {
        login: u.login.clone(),
        is_admin: u.is_admin,
        restricted: u.restricted,
        basic_password: false,
        scopes: None,
    };
    let p = permission(&st, Some(&as_user), &r).unwrap_or("none");
    let p = if p == "owner" { "admin" } else { p };
    ok(
        StatusCode::OK,
        json!({"permission": p, "role_name": p, "user": user_json(u, Some(&c))}),
    )
}
