//! `/orgs`, `/orgs/{org}/teams`, `/teams/{id}` with members and repositories.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::repos::repo_json;
use super::users::user_json;
use super::{b, body, check_types, err, no_content, ok, page, s, valid_name};
use super::{Answer, Caller, Gitea, OrgRow, RequestParts, State as St, TeamRow};
use crate::table::TableExt;

const PERMISSIONS: [&str; 3] = ["read", "write", "admin"];
const UNITS: [&str; 9] = [
    "repo.code",
    "repo.issues",
    "repo.ext_issues",
    "repo.wiki",
    "repo.ext_wiki",
    "repo.pulls",
    "repo.releases",
    "repo.projects",
    "repo.actions",
];

pub(crate) fn org_json(o: &OrgRow) -> Value {
    json!({
        "id": o.id,
        "name": o.name,
        "username": o.name,
        "full_name": o.full_name,
        "email": o.email,
        "avatar_url": format!("/avatars/{}", o.id),
        "description": o.description,
        "website": o.website,
        "location": o.location,
        "visibility": o.visibility,
        "repo_admin_change_team_access": o.repo_admin_change_team_access,
    })
}

fn team_json(t: &TeamRow, st: &St) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "organization": st.orgs.get(&t.org.to_lowercase()).map(org_json),
        "includes_all_repositories": t.includes_all_repositories,
        "permission": t.permission,
        "units": t.units,
        "units_map": t.units_map,
        "can_create_org_repo": t.can_create_org_repo,
    })
}

fn no_org(org: &str) -> axum::response::Response {
    err(
        StatusCode::NOT_FOUND,
        format!("org does not exist [id: 0, name: {org}]"),
    )
}

fn no_team(id: i64) -> axum::response::Response {
    err(
        StatusCode::NOT_FOUND,
        format!("team does not exist [id: {id}]"),
    )
}

/// Owners (admins, or members of the org's admin-permission teams) may manage the org.
fn is_org_admin(st: &St, c: &Caller, org: &str) -> bool {
    c.is_admin
        || st.teams.values().any(|t| {
            t.org.eq_ignore_ascii_case(org)
                && t.permission == "owner"
                && t.members.contains(&c.key())
        })
}

pub(crate) fn is_org_member(st: &St, login: &str, org: &str) -> bool {
    let k = login.to_lowercase();
    st.teams
        .values()
        .any(|t| t.org.eq_ignore_ascii_case(org) && t.members.contains(&k))
}

/// POST /orgs (CreateOrgOption). The creator becomes a member of the `Owners` team.
pub(crate) async fn create(State(g): State<Arc<Gitea>>, req: Request) -> Answer {
    let (parts, v) = body(req).await?;
    let c = g.signed_in(&parts)?;
    check_types(
        &v,
        &[
            ("username", "string"),
            ("full_name", "string"),
            ("visibility", "string"),
            ("repo_admin_change_team_access", "bool"),
        ],
    )?;
    let name = s(&v, "username").unwrap_or_default().to_string();
    if name.is_empty() {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "[UserName]: Required",
        ));
    }
    if !valid_name(&name) {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("[UserName]: name is invalid [{name}]"),
        ));
    }
    let vis = s(&v, "visibility")
        .filter(|x| !x.is_empty())
        .unwrap_or("public")
        .to_string();
    if !["public", "limited", "private"].contains(&vis.as_str()) {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("[Visibility]: invalid visibility {vis:?}"),
        ));
    }
    let org = g.commit(|st, _| {
        let me = st.users.get(&c.key()).cloned().unwrap_or_default();
        if !c.is_admin && (!me.allow_create_organization || me.restricted) {
            return Err(err(
                StatusCode::FORBIDDEN,
                "user not allowed to create organizations",
            ));
        }
        if st.name_taken(&name) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("user already exists [name: {name}]"),
            ));
        }
        let org = OrgRow {
            id: st.id(),
            name: name.clone(),
            full_name: s(&v, "full_name").unwrap_or_default().into(),
            description: s(&v, "description").unwrap_or_default().into(),
            email: s(&v, "email").unwrap_or_default().into(),
            website: s(&v, "website").unwrap_or_default().into(),
            location: s(&v, "location").unwrap_or_default().into(),
            visibility: vis.clone(),
            repo_admin_change_team_access: b(&v, "repo_admin_change_team_access").unwrap_or(false),
        };
        st.orgs.insert(name.to_lowercase(), org.clone());
        let id = st.id();
        st.teams.insert(
            id,
            TeamRow {
                id,
                org: name.clone(),
                name: "Owners".into(),
                permission: "owner".into(),
                units: UNITS.iter().map(|u| u.to_string()).collect(),
                includes_all_repositories: true,
                can_create_org_repo: true,
                members: [c.key()].into(),
                ..Default::default()
            },
        );
        Ok(org)
    })?;
    ok(StatusCode::CREATED, org_json(&org))
}

/// GET /orgs/{org}.
pub(crate) async fn get(
    State(g): State<Arc<Gitea>>,
    Path(org): Path<String>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.caller(&parts.headers, parts.query.as_deref())?;
    let st = g.state();
    let o = st
        .orgs
        .get(&org.to_lowercase())
        .ok_or_else(|| no_org(&org))?;
    let visible = match o.visibility.as_str() {
        "private" => c
            .as_ref()
            .is_some_and(|c| c.is_admin || is_org_member(&st, &c.login, &org)),
        "limited" => c
            .as_ref()
            .is_some_and(|c| c.is_admin || !c.restricted || is_org_member(&st, &c.login, &org)),
        _ => true,
    };
    if !visible {
        return Err(no_org(&org));
    }
    ok(StatusCode::OK, org_json(o))
}

/// PATCH /orgs/{org} (EditOrgOption).
pub(crate) async fn edit(
    State(g): State<Arc<Gitea>>,
    Path(org): Path<String>,
    req: Request,
) -> Answer {
    let (parts, v) = body(req).await?;
    let c = g.signed_in(&parts)?;
    if let Some(vis) = s(&v, "visibility").filter(|x| !x.is_empty()) {
        if !["public", "limited", "private"].contains(&vis) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("[Visibility]: invalid visibility {vis:?}"),
            ));
        }
    }
    let o = g.commit(|st, _| {
        if !st.orgs.contains_key(&org.to_lowercase()) {
            return Err(no_org(&org));
        }
        if !is_org_admin(st, &c, &org) {
            return Err(err(StatusCode::FORBIDDEN, "must be an organization owner"));
        }
        let o = st.orgs.get_mut(&org.to_lowercase()).unwrap();
        for (field, name) in [
            (&mut o.full_name, "full_name"),
            (&mut o.description, "description"),
            (&mut o.email, "email"),
            (&mut o.website, "website"),
            (&mut o.location, "location"),
            (&mut o.visibility, "visibility"),
        ] {
            if let Some(x) = s(&v, name).filter(|x| !(x.is_empty() && name == "visibility")) {
                *field = x.to_string();
            }
        }
        if let Some(x) = b(&v, "repo_admin_change_team_access") {
            o.repo_admin_change_team_access = x;
        }
        Ok(o.clone())
    })?;
    ok(StatusCode::OK, org_json(&o))
}

/// DELETE /orgs/{org}: refused while it owns repositories.
pub(crate) async fn delete(
    State(g): State<Arc<Gitea>>,
    Path(org): Path<String>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    g.commit(|st, _| {
        let key = org.to_lowercase();
        if !st.orgs.contains_key(&key) {
            return Err(no_org(&org));
        }
        if !is_org_admin(st, &c, &org) {
            return Err(err(StatusCode::FORBIDDEN, "must be an organization owner"));
        }
        if st.repos.values().any(|r| r.owner.to_lowercase() == key) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("organization still has ownership of repositories [uid: 0, name: {org}]"),
            ));
        }
        st.orgs.remove(&key);
        st.teams.retain(|_, t| t.org.to_lowercase() != key);
        Ok(())
    })?;
    no_content()
}

fn team_fields(v: &Value) -> Result<(), axum::response::Response> {
    check_types(
        v,
        &[
            ("name", "string"),
            ("description", "string"),
            ("permission", "string"),
            ("includes_all_repositories", "bool"),
            ("can_create_org_repo", "bool"),
        ],
    )?;
    if let Some(p) = s(v, "permission") {
        if !PERMISSIONS.contains(&p) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("[Permission]: must be one of read, write, admin, got {p:?}"),
            ));
        }
    }
    if let Some(units) = v.get("units").and_then(Value::as_array) {
        for u in units {
            if !u.as_str().is_some_and(|u| UNITS.contains(&u)) {
                return Err(err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("[Units]: invalid unit {u}"),
                ));
            }
        }
    }
    Ok(())
}

fn apply_team(t: &mut TeamRow, v: &Value) {
    if let Some(x) = s(v, "name") {
        t.name = x.into();
    }
    if let Some(x) = s(v, "description") {
        t.description = x.into();
    }
    if let Some(x) = s(v, "permission") {
        t.permission = x.into();
    }
    if let Some(x) = b(v, "includes_all_repositories") {
        t.includes_all_repositories = x;
    }
    if let Some(x) = b(v, "can_create_org_repo") {
        t.can_create_org_repo = x;
    }
    if let Some(units) = v.get("units").and_then(Value::as_array) {
        t.units = units
            .iter()
            .filter_map(|u| u.as_str().map(String::from))
            .collect();
    }
    if let Some(m) = v.get("units_map").and_then(Value::as_object) {
        t.units_map = m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect::<BTreeMap<_, _>>();
    }
}

/// POST /orgs/{org}/teams (CreateTeamOption).
pub(crate) async fn create_team(
    State(g): State<Arc<Gitea>>,
    Path(org): Path<String>,
    req: Request,
) -> Answer {
    let (parts, v) = body(req).await?;
    let c = g.signed_in(&parts)?;
    let name = s(&v, "name").unwrap_or_default().to_string();
    if name.is_empty() {
        return Err(err(StatusCode::UNPROCESSABLE_ENTITY, "[Name]: Required"));
    }
    team_fields(&v)?;
    let (t, st) = g.commit(|st, _| {
        if !st.orgs.contains_key(&org.to_lowercase()) {
            return Err(no_org(&org));
        }
        if !is_org_admin(st, &c, &org) {
            return Err(err(StatusCode::FORBIDDEN, "must be an organization owner"));
        }
        if st
            .teams
            .values()
            .any(|t| t.org.eq_ignore_ascii_case(&org) && t.name.eq_ignore_ascii_case(&name))
        {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("team already exists [org_id: 0, name: {name}]"),
            ));
        }
        let org_name = st.orgs[&org.to_lowercase()].name.clone();
        let mut t = TeamRow {
            id: st.id(),
            org: org_name,
            permission: "read".into(),
            units: UNITS.iter().map(|u| u.to_string()).collect(),
            ..Default::default()
        };
        apply_team(&mut t, &v);
        st.teams.insert(t.id, t.clone());
        Ok((t, st.clone()))
    })?;
    ok(StatusCode::CREATED, team_json(&t, &st))
}

/// GET /orgs/{org}/teams.
pub(crate) async fn list_teams(
    State(g): State<Arc<Gitea>>,
    Path(org): Path<String>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    let st = g.state();
    if !st.orgs.contains_key(&org.to_lowercase()) {
        return Err(no_org(&org));
    }
    if !c.is_admin && !is_org_member(&st, &c.login, &org) {
        return Err(err(StatusCode::FORBIDDEN, "must be an organization member"));
    }
    let teams: Vec<Value> = st
        .teams
        .values()
        .filter(|t| t.org.eq_ignore_ascii_case(&org))
        .map(|t| team_json(t, &st))
        .collect();
    page(&parts, teams)
}

fn team_of(st: &St, id: i64) -> Result<&TeamRow, axum::response::Response> {
    st.teams.get(&id).ok_or_else(|| no_team(id))
}

/// GET /teams/{id}.
pub(crate) async fn get_team(
    State(g): State<Arc<Gitea>>,
    Path(id): Path<i64>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    let st = g.state();
    let t = team_of(&st, id)?;
    if !c.is_admin && !is_org_member(&st, &c.login, &t.org) {
        return Err(no_team(id));
    }
    ok(StatusCode::OK, team_json(t, &st))
}

/// PATCH /teams/{id} (EditTeamOption).
pub(crate) async fn edit_team(
    State(g): State<Arc<Gitea>>,
    Path(id): Path<i64>,
    req: Request,
) -> Answer {
    let (parts, v) = body(req).await?;
    let c = g.signed_in(&parts)?;
    team_fields(&v)?;
    let (t, st) = g.commit(|st, _| {
        let org = team_of(st, id)?.org.clone();
        if !is_org_admin(st, &c, &org) {
            return Err(err(StatusCode::FORBIDDEN, "must be an organization owner"));
        }
        let t = st.teams.get_mut(&id).unwrap();
        if t.permission == "owner" {
            // The Owners team keeps its name and permission.
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("name");
                o.remove("permission");
            }
            apply_team(t, &v);
        } else {
            apply_team(t, &v);
        }
        let t = t.clone();
        Ok((t, st.clone()))
    })?;
    ok(StatusCode::OK, team_json(&t, &st))
}

/// DELETE /teams/{id}.
pub(crate) async fn delete_team(
    State(g): State<Arc<Gitea>>,
    Path(id): Path<i64>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    g.commit(|st, _| {
        let t = team_of(st, id)?.clone();
        if !is_org_admin(st, &c, &t.org) {
            return Err(err(StatusCode::FORBIDDEN, "must be an organization owner"));
        }
        if t.permission == "owner" {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the owners team cannot be deleted",
            ));
        }
        st.teams.remove(&id);
        Ok(())
    })?;
    no_content()
}

/// GET /teams/{id}/members.
pub(crate) async fn team_members(
    State(g): State<Arc<Gitea>>,
    Path(id): Path<i64>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    let st = g.state();
    let t = team_of(&st, id)?;
    if !c.is_admin && !is_org_member(&st, &c.login, &t.org) {
        return Err(no_team(id));
    }
    let members: Vec<Value> = t
        .members
        .iter()
        .filter_map(|m| st.users.get(m))
        .map(|u| user_json(u, Some(&c)))
        .collect();
    page(&parts, members)
}

/// GET /teams/{id}/members/{username}: the user, or 404.
pub(crate) async fn team_member(
    State(g): State<Arc<Gitea>>,
    Path((id, username)): Path<(i64, String)>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    let st = g.state();
    let t = team_of(&st, id)?;
    let key = username.to_lowercase();
    match (t.members.contains(&key), st.users.get(&key)) {
        (true, Some(u)) => ok(StatusCode::OK, user_json(u, Some(&c))),
        _ => Err(err(
            StatusCode::NOT_FOUND,
            format!("user is not a member of the team [name: {username}]"),
        )),
    }
}

/// PUT /teams/{id}/members/{username}.
pub(crate) async fn add_member(
    State(g): State<Arc<Gitea>>,
    Path((id, username)): Path<(i64, String)>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    g.commit(|st, _| {
        let org = team_of(st, id)?.org.clone();
        if !is_org_admin(st, &c, &org) {
            return Err(err(StatusCode::FORBIDDEN, "must be an organization owner"));
        }
        let key = username.to_lowercase();
        if !st.users.contains_key(&key) {
            return Err(err(
                StatusCode::NOT_FOUND,
                format!("user does not exist [uid: 0, name: {username}]"),
            ));
        }
        st.teams.get_mut(&id).unwrap().members.insert(key);
        Ok(())
    })?;
    no_content()
}

/// DELETE /teams/{id}/members/{username}.
pub(crate) async fn remove_member(
    State(g): State<Arc<Gitea>>,
    Path((id, username)): Path<(i64, String)>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    g.commit(|st, _| {
        let t = team_of(st, id)?.clone();
        if !is_org_admin(st, &c, &t.org) {
            return Err(err(StatusCode::FORBIDDEN, "must be an organization owner"));
        }
        let key = username.to_lowercase();
        if !st.users.contains_key(&key) {
            return Err(err(
                StatusCode::NOT_FOUND,
                format!("user does not exist [uid: 0, name: {username}]"),
            ));
        }
        if t.permission == "owner" && t.members.len() == 1 && t.members.contains(&key) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cannot remove the last owner",
            ));
        }
        st.teams.get_mut(&id).unwrap().members.remove(&key);
        Ok(())
    })?;
    no_content()
}

/// GET /teams/{id}/repos.
pub(crate) async fn team_repos(
    State(g): State<Arc<Gitea>>,
    Path(id): Path<i64>,
    req: Request,
) -> Answer {
    let parts = RequestParts::of(&req);
    let c = g.signed_in(&parts)?;
    let st = g.state();
    let t = team_of(&st, id)?;
    if !c.is_admin && !is_org_member(&st, &c.login, &t.org) {
        return Err(no_team(id));
    }
    let repos: Vec<Value> = st
        .repos
        .iter()
        .filter(|(k, r)| {
            r.owner.eq_ignore_ascii_case(&t.org)
                && (t.includes_all_repositories || t.repos.contains(*k))
        })
        .map(|(_, r)| repo_json(&st, r, Some(&c)))
        .collect();
    page(&parts, repos)
}

fn team_repo_change(
    g: &Gitea,
    parts: &RequestParts,
    id: i64,
    owner: &str,
    repo: &str,
    add: bool,
) -> Answer {
    let c = g.signed_in(parts)?;
    g.commit(|st, _| {
        let t = team_of(st, id)?.clone();
        if !is_org_admin(st, &c, &t.org) {
            return Err(err(StatusCode::FORBIDDEN, "must be an organization owner"));
        }
        let key = format!("{}/{}", owner.to_lowercase(), repo.to_lowercase());
        if !st.repos.contains_key(&key) {
            return Err(err(
                StatusCode::NOT_FOUND,
                format!(
                    "repository does not exist [id: 0, uid: 0, owner_name: {owner}, name: {repo}]"
                ),
            ));
        }
        if !owner.eq_ignore_ascii_case(&t.org) {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "repository does not belong to the team's organization",
            ));
        }
        let t = st.teams.get_mut(&id).unwrap();
        if add {
            t.repos.insert(key);
        } else {
            t.repos.remove(&key);
        }
        Ok(())
    })?;
    no_content()
}

/// PUT /teams/{id}/repos/{owner}/{repo}.
pub(crate) async fn add_team_repo(
    State(g): State<Arc<Gitea>>,
    Path((id, owner, repo)): Path<(i64, String, String)>,
    req: Request,
) -> Answer {
    team_repo_change(&g, &RequestParts::of(&req), id, &owner, &repo, true)
}

/// DELETE /teams/{id}/repos/{owner}/{repo}.
pub(crate) async fn remove_team_repo(
    State(g): State<Arc<Gitea>>,
    Path((id, owner, repo)): Path<(i64, String, String)>,
    req: Request,
) -> Answer {
    team_repo_change(&g, &RequestParts::of(&req), id, &owner, &repo, false)
}
