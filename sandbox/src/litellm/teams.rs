//! `/team/new`, `/team/info`, `/team/update`, `/team/delete`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::error::{ApiError, Kind};
use super::fields::{self, Ty, TEAM_DELETE, TEAM_NEW, TEAM_NOT_UPDATABLE};
use super::{after, body, check_numbers, keys, ok, Lite};
use crate::http::{verr, verr_ctx};
use crate::time::{self, Micros};

type Res = Result<Response, ApiError>;

/// Columns of `LiteLLM_TeamTable` (litellm-schema-1.106.2.prisma) plus the relations the
/// proxy includes (`litellm_model_table`, `object_permission`).
const COLUMNS: &[&str] = &[
    "team_id",
    "team_alias",
    "organization_id",
    "object_permission_id",
    "admins",
    "members",
    "members_with_roles",
    "metadata",
    "max_budget",
    "soft_budget",
    "spend",
    "models",
    "max_parallel_requests",
    "tpm_limit",
    "rpm_limit",
    "tpd_limit",
    "budget_duration",
    "budget_reset_at",
    "blocked",
    "created_at",
    "updated_at",
    "model_spend",
    "model_max_budget",
    "router_settings",
    "team_member_permissions",
    "access_group_ids",
    "policies",
    "default_team_member_models",
    "budget_limits",
    "model_id",
    "allow_team_guardrail_config",
    "litellm_model_table",
    "object_permission",
];

/// Per-member budget fields of a team request: kept in the team-member budget row
/// (`TeamMemberBudgetHandler`, team_endpoints.py), shown as `team_member_budget_table`.
const MEMBER_BUDGET: &[(&str, &str)] = &[
    ("team_member_budget", "max_budget"),
    ("team_member_budget_duration", "budget_duration"),
    ("team_member_rpm_limit", "rpm_limit"),
    ("team_member_tpm_limit", "tpm_limit"),
];

/// Value of a column the database fills when nothing is given: the Prisma `@default`, or `[]`
/// for a list column (`members_with_roles` is a JSON list to the proxy).
fn column_default(name: &str) -> Value {
    match name {
        "admins"
        | "members"
        | "members_with_roles"
        | "models"
        | "team_member_permissions"
        | "access_group_ids"
        | "policies"
        | "default_team_member_models" => json!([]),
        "metadata" | "model_spend" | "model_max_budget" | "router_settings" => json!({}),
        "blocked" | "allow_team_guardrail_config" => json!(false),
        "spend" => json!(0.0),
        _ => Value::Null,
    }
}

/// A new team row: every `LiteLLM_TeamTable` column at its default.
fn new_row() -> Map<String, Value> {
    COLUMNS
        .iter()
        .map(|n| ((*n).to_owned(), column_default(n)))
        .collect()
}

/// The row as the API shows it (no simulator bookkeeping).
fn shown(row: &Map<String, Value>) -> Map<String, Value> {
    let mut r = row.clone();
    r.remove("team_member_budget_table");
    r
}

/// Sets `f`'s fields on `row`: metadata-backed fields into `metadata`, null resets a column;
/// keeps derived columns in step.
fn apply(
    row: &mut Map<String, Value>,
    f: &Map<String, Value>,
    premium: bool,
    now: Micros,
) -> Result<(), ApiError> {
    let mut f = f.clone();
    let base = match f.remove("metadata") {
        Some(Value::Null) => json!({}),
        Some(sent) => sent,
        None => row.get("metadata").cloned().unwrap_or(json!({})),
    };
    let metadata = super::move_to_metadata(&mut f, &base, premium, Kind::Internal)?;
    row.insert("metadata".into(), metadata);
    for (name, v) in &f {
        if let Some((_, budget_field)) = MEMBER_BUDGET.iter().find(|(n, _)| n == name) {
            let mut budget = row
                .get("team_member_budget_table")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let id = budget
                .get("budget_id")
                .cloned()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string().into());
            budget.insert("budget_id".into(), id.clone());
            budget.insert((*budget_field).into(), v.clone());
            row["metadata"]["team_member_budget_id"] = id;
            row.insert("team_member_budget_table".into(), Value::Object(budget));
            continue;
        }
        if name == "model_aliases" {
            let id = row
                .get("model_id")
                .and_then(Value::as_i64)
                .unwrap_or_else(|| (time::now() % 1_000_000_000) + 1);
            row.insert("model_id".into(), json!(id));
            row.insert(
                "litellm_model_table".into(),
                json!({"id": id, "model_aliases": v}),
            );
            continue;
        }
        if !COLUMNS.contains(&name.as_str()) && name != "object_permission" {
            continue;
        }
        let v = if v.is_null() {
            column_default(name)
        } else {
            v.clone()
        };
        match name.as_str() {
            "budget_duration" => {
                let reset = v
                    .as_str()
                    .map(|d| after(d, now, Kind::Internal))
                    .transpose()?;
                row.insert("budget_reset_at".into(), reset.unwrap_or(Value::Null));
            }
            "object_permission" => {
                let id = match (&v, &row["object_permission_id"]) {
                    (Value::Null, _) => Value::Null,
                    (_, Value::Null) => uuid::Uuid::new_v4().to_string().into(),
                    (_, id) => id.clone(),
                };
                row.insert("object_permission_id".into(), id);
            }
            _ => {}
        }
        row.insert(name.clone(), v);
    }
    row.insert("updated_at".into(), time::format(now).into());
    Ok(())
}

fn check_budgets(f: &Map<String, Value>) -> Result<(), ApiError> {
    check_numbers(f, Kind::Internal)?;
    if let (Some(soft), Some(max)) = (
        fields::float(f.get("soft_budget")),
        fields::float(f.get("max_budget")),
    ) {
        if soft >= max {
            return Err(ApiError::http_error(
                Kind::Internal,
                400,
                format!("soft_budget ({soft}) must be strictly lower than max_budget ({max})"),
            ));
        }
    }
    Ok(())
}

/// `POST /team/new`
pub(super) async fn new(State(lite): State<Arc<Lite>>, headers: HeaderMap, bytes: Bytes) -> Res {
    let body = body(&bytes)?;
    lite.authenticate(&headers, "/team/new")?
        .admin_only("/team/new")?;
    let mut f = fields::validate(&body, &[TEAM_NEW]).map_err(ApiError::Validation)?;
    check_budgets(&f)?;
    if let (Some(Value::Array(dflt)), Some(Value::Array(models))) =
        (f.get("default_team_member_models"), f.get("models"))
    {
        if let Some(m) = dflt
            .iter()
            .find(|m| !models.is_empty() && !models.contains(m))
        {
            return Err(ApiError::http_error(
                Kind::Internal,
                400,
                format!(
                    "default_team_member_models must be a subset of the team's models; {m} is not"
                ),
            ));
        }
    }
    let team_id = match f.remove("team_id") {
        Some(Value::String(id)) if !id.is_empty() => id,
        _ => uuid::Uuid::new_v4().to_string(),
    };
    let row = lite.store.commit(|db, now| {
        if db.teams.contains_key(&team_id) {
            return Err(ApiError::http_error(
                Kind::Internal,
                400,
                format!("Team id = {team_id} already exists. Please use a different team id."),
            ));
        }
        let mut row = new_row();
        row.insert("team_id".into(), team_id.clone().into());
        row.insert("created_at".into(), time::format(now).into());
        apply(&mut row, &f, db.premium, now)?;
        db.teams.insert(team_id.clone(), Value::Object(row.clone()));
        Ok(row)
    })?;
    ok(shown(&row).into())
}

/// `GET /team/list[?organization_id=]`: every team row (LiteLLM 1.106.2
/// `litellm/proxy/management_endpoints/team_endpoints.py` `list_team` answers a plain list
/// of team rows; `user_id` narrows to teams that user is a member of).
pub(super) async fn list(
    State(lite): State<Arc<Lite>>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Res {
    let caller = lite.authenticate(&headers, "/team/list")?;
    let get = |name: &str| {
        q.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let (org, user) = (get("organization_id"), get("user_id"));
    // `_authorize_and_filter_teams`: a non-admin may only list its own user's teams.
    if let Some(k) = caller.key().filter(|k| user.is_none() || k.user_id != user) {
        return Err(ApiError::http_error(
            Kind::Internal,
            401,
            format!(
                "Only admin users can query all teams/other teams. Your user role={}",
                k.role_text()
            ),
        ));
    }
    let rows: Vec<Value> = lite.store.read(|db| {
        db.teams
            .values()
            .filter(|t| org.as_deref().is_none_or(|o| t["organization_id"] == o))
            .filter(|t| {
                user.as_deref().is_none_or(|u| {
                    t["members_with_roles"]
                        .as_array()
                        .is_some_and(|m| m.iter().any(|m| m["user_id"] == u))
                })
            })
            .cloned()
            .collect()
    });
    ok(Value::Array(rows))
}

/// `GET /team/info?team_id=`
pub(super) async fn info(
    State(lite): State<Arc<Lite>>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Res {
    let caller = lite.authenticate(&headers, "/team/info")?;
    let get = |name: &str| {
        q.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(team_id) = get("team_id").filter(|t| !t.is_empty()) else {
        return Err(ApiError::http(
            Kind::Auth,
            422,
            json!({ "message": "Malformed request. No team id passed in." }),
        ));
    };
    let key_limit = match get("key_limit") {
        None => None,
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) if n > 0 => Some(n as usize),
            Ok(_) => {
                return Err(ApiError::Validation(vec![verr_ctx(
                    "greater_than",
                    vec!["query".into(), "key_limit".into()],
                    "Input should be greater than 0",
                    raw.into(),
                    json!({ "gt": 0 }),
                )]))
            }
            Err(_) => {
                return Err(ApiError::Validation(vec![verr(
                    "int_parsing",
                    vec!["query".into(), "key_limit".into()],
                    "Input should be a valid integer, unable to parse string as an integer",
                    raw.into(),
                )]))
            }
        },
    };
    let found = lite.store.read(|db| {
        let team = db.teams.get(team_id)?.clone();
        let mut keys: Vec<Value> = db
            .keys
            .values()
            .filter(|k| k["team_id"] == team_id)
            .cloned()
            .collect();
        keys.sort_by(|a, b| a["created_at"].as_str().cmp(&b["created_at"].as_str()));
        Some((team, keys))
    });
    let Some((team, mut keys)) = found else {
        return Err(ApiError::http(
            Kind::Auth,
            404,
            json!({ "message": format!("Team not found, passed team id: {team_id}.") }),
        ));
    };
    if let Some(k) = caller.key() {
        super::access::may_read_team(k, &team)?;
    }
    if let Some(n) = key_limit {
        keys.truncate(n);
    }
    let memberships: Vec<Value> = team["members_with_roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["user_id"].is_string())
        .map(|m| {
            json!({
                "user_id": m["user_id"], "team_id": team_id, "budget_id": null, "spend": 0.0,
                "total_spend": 0.0, "litellm_budget_table": null, "budget_source": "none",
            })
        })
        .collect();
    let budget = team
        .get("team_member_budget_table")
        .cloned()
        .unwrap_or(Value::Null);
    let mut team_info = team;
    // The master key is a proxy admin: `_caller_edit_access` (team_endpoints.py) answers
    // `TeamEditUnrestricted`, a tagged object, not a boolean.
    for (name, v) in [
        ("team_member_budget_table", budget),
        ("access_group_models", json!([])),
        ("access_group_mcp_server_ids", json!([])),
        ("access_group_agent_ids", json!([])),
        ("access_group_details", json!([])),
        ("organization_models", json!([])),
        ("model_max_budget_usage", json!({})),
        ("caller_edit_access", json!({"kind": "unrestricted"})),
    ] {
        team_info[name] = v;
    }
    ok(
        json!({ "team_id": team_id, "team_info": team_info, "keys": keys, "team_memberships": memberships }),
    )
}

/// `POST /team/update`: only the fields sent change; null resets a column.
pub(super) async fn update(State(lite): State<Arc<Lite>>, headers: HeaderMap, bytes: Bytes) -> Res {
    let body = body(&bytes)?;
    lite.authenticate(&headers, "/team/update")?
        .admin_only("/team/update")?;
    let table: Vec<(&str, Ty)> = std::iter::once(("team_id", Ty::NonNull(&Ty::Str)))
        .chain(
            TEAM_NEW
                .iter()
                .filter(|(n, _)| !TEAM_NOT_UPDATABLE.contains(n))
                .map(|(n, t)| {
                    let nullable = match t {
                        Ty::NonNull(inner) => **inner,
                        other => *other,
                    };
                    (*n, nullable)
                }),
        )
        .collect();
    let mut f = fields::validate(&body, &[&table]).map_err(ApiError::Validation)?;
    let Some(Value::String(team_id)) = f.remove("team_id") else {
        return Err(ApiError::Validation(vec![fields::missing(
            &body, "team_id",
        )]));
    };
    check_budgets(&f)?;
    let row = lite.store.commit(|db, now| {
        let Some(Value::Object(existing)) = db.teams.get(&team_id) else {
            return Err(ApiError::http_error(
                Kind::Internal,
                404,
                format!("Team not found, passed team_id={team_id}"),
            ));
        };
        let mut row = existing.clone();
        apply(&mut row, &f, db.premium, now)?;
        db.teams.insert(team_id.clone(), Value::Object(row.clone()));
        Ok(row)
    })?;
    ok(json!({ "team_id": team_id, "data": shown(&row) }))
}

/// Python repr of a `Member` (as in the proxy's messages).
fn member_repr(m: &Value) -> String {
    let q = |v: &Value| v.as_str().map_or("None".to_string(), |s| format!("'{s}'"));
    format!(
        "Member(user_id={}, user_email={}, role={})",
        q(&m["user_id"]),
        q(&m["user_email"]),
        q(&m["role"])
    )
}

/// `POST /team/member_add` (`team_member_add`, team_endpoints.py): adds one member or a list;
/// unknown users get a `LiteLLM_UserTable` row. Team admins need a licence (400); a member
/// already in the team is refused (400 `team_member_already_in_team`, only when every given
/// member is already in); unknown team 404.
pub(super) async fn member_add(
    State(lite): State<Arc<Lite>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Res {
    let body = body(&bytes)?;
    lite.authenticate(&headers, "/team/member_add")?
        .admin_only("/team/member_add")?;
    let table: &[(&str, Ty)] = &[
        ("team_id", Ty::NonNull(&Ty::Str)),
        ("max_budget_in_team", Ty::Num),
        ("budget_duration", Ty::Str),
        ("allowed_models", Ty::StrList),
    ];
    let mut f = fields::validate(&body, &[table]).map_err(ApiError::Validation)?;
    let mut errs = Vec::new();
    let members: Vec<Value> = match body.get("member") {
        None => return Err(ApiError::Validation(vec![fields::missing(&body, "member")])),
        Some(Value::Array(list)) => fields::coerce(
            &Value::Array(list.clone()),
            Ty::Members,
            &["body".into(), "member".into()],
            &mut errs,
        )
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default(),
        Some(one) => {
            let wrapped = fields::coerce(
                &json!([one]),
                Ty::Members,
                &["body".into(), "member".into()],
                &mut errs,
            );
            wrapped
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
        }
    };
    let Some(Value::String(team_id)) = f.remove("team_id") else {
        errs.push(fields::missing(&body, "team_id"));
        return Err(ApiError::Validation(errs));
    };
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let single = !body["member"].is_array();
    let row = lite.store.commit(|db, now| {
        if let Some(admin) = members.iter().find(|m| m["role"] == "admin").filter(|_| !db.premium) {
            let got = if single { String::new() } else { format!(" Got={}.", member_repr(admin)) };
            return Err(ApiError::http_error(
                Kind::Internal,
                400,
                format!("Assigning team admins is a premium feature.{got} {}", super::NOT_PREMIUM),
            ));
        }
        let Some(Value::Object(existing)) = db.teams.get(&team_id).cloned() else {
            return Err(ApiError::http_error(
                Kind::Internal,
                404,
                format!("Team not found for team_id={team_id}"),
            ));
        };
        let current: Vec<Value> = existing["members_with_roles"].as_array().cloned().unwrap_or_default();
        let is_in = |m: &Value| {
            current.iter().any(|c| {
                (m["user_id"].is_string() && c["user_id"] == m["user_id"])
                    || (m["user_email"].is_string() && c["user_email"] == m["user_email"])
            })
        };
        let dup = members.iter().filter(|m| is_in(m)).count();
        if dup > 0 && dup == members.len() {
            let shown: Vec<String> = current.iter().map(member_repr).collect();
            let m = &members[0];
            let message = if single {
                format!(
                    "User already in team. Member: user_id={}, user_email={}. Existing members=[{}]",
                    m["user_id"].as_str().unwrap_or("None"),
                    m["user_email"].as_str().unwrap_or("None"),
                    shown.join(", ")
                )
            } else {
                format!("All users are already in team. Existing members=[{}]", shown.join(", "))
            };
            return Err(ApiError::proxy(400, "team_member_already_in_team", message, Some("member")));
        }
        let mut row = existing;
        let mut list = current.clone();
        let (mut users, mut memberships) = (Vec::new(), Vec::new());
        for m in members.iter().filter(|m| !is_in(m)) {
            let user_id = m["user_id"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let stamp = json!(time::format(now));
            let user = db.users.entry(user_id.clone()).or_insert_with(|| {
                json!({"user_id": user_id, "user_email": m["user_email"], "user_role": "internal_user",
                       "teams": [], "models": [], "metadata": {}, "spend": 0.0, "max_budget": null,
                       "allowed_cache_controls": [], "policies": [], "model_spend": {},
                       "model_max_budget": {}, "created_at": stamp, "updated_at": stamp})
            });
            if let Some(t) = user["teams"].as_array_mut() {
                if !t.iter().any(|x| *x == team_id) {
                    t.push(team_id.clone().into());
                }
            }
            users.push(user.clone());
            memberships.push(json!({"user_id": user_id, "team_id": team_id, "budget_id": null,
                "spend": 0.0, "total_spend": 0.0, "litellm_budget_table": null}));
            list.push(json!({"user_id": user_id, "user_email": m["user_email"], "role": m["role"]}));
        }
        row.insert("members_with_roles".into(), Value::Array(list));
        row.insert("updated_at".into(), time::format(now).into());
        db.teams.insert(team_id.clone(), Value::Object(row.clone()));
        let mut res = shown(&row);
        res.insert("updated_users".into(), Value::Array(users));
        res.insert("updated_team_memberships".into(), Value::Array(memberships));
        Ok(res)
    })?;
    ok(row.into())
}

/// `POST /team/permissions_update` (`update_team_member_permissions`, team_endpoints.py): sets
/// the routes the team's plain members may call for its keys; unknown team 404.
pub(super) async fn permissions_update(
    State(lite): State<Arc<Lite>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Res {
    let body = body(&bytes)?;
    let caller = lite.authenticate(&headers, "/team/permissions_update")?;
    let table: &[(&str, Ty)] = &[
        ("team_id", Ty::NonNull(&Ty::Str)),
        ("team_member_permissions", Ty::NonNull(&Ty::StrList)),
    ];
    let f = fields::validate(&body, &[table]).map_err(ApiError::Validation)?;
    let mut errs = Vec::new();
    for name in ["team_id", "team_member_permissions"] {
        if !f.contains_key(name) {
            errs.push(fields::missing(&body, name));
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let team_id = f["team_id"].as_str().unwrap_or_default().to_owned();
    let row = lite.store.commit(|db, now| {
        let Some(Value::Object(mut row)) = db.teams.get(&team_id).cloned() else {
            return Err(ApiError::http_error(
                Kind::Internal,
                404,
                format!("Team not found, passed team_id={team_id}"),
            ));
        };
        // Proxy admins and the team's admins only (TEAM_OR_ORG_ADMIN; orgs not simulated).
        let team_admin = |k: &super::access::KeyCaller| {
            k.user_id
                .as_deref()
                .and_then(|u| super::access::member(&Value::Object(row.clone()), u).cloned())
                .is_some_and(|m| m["role"] == "admin")
        };
        if caller.key().is_some_and(|k| !team_admin(k)) {
            return Err(ApiError::http_error(
                Kind::Internal,
                403,
                format!("Call not allowed. User not proxy admin OR team admin. route=/team/permissions_update, team_id={team_id}"),
            ));
        }
        row.insert(
            "team_member_permissions".into(),
            f["team_member_permissions"].clone(),
        );
        row.insert("updated_at".into(), time::format(now).into());
        db.teams.insert(team_id.clone(), Value::Object(row.clone()));
        Ok(row)
    })?;
    ok(shown(&row).into())
}

/// `POST /team/delete`: all ids must exist; the teams' keys go with them.
pub(super) async fn delete(State(lite): State<Arc<Lite>>, headers: HeaderMap, bytes: Bytes) -> Res {
    let body = body(&bytes)?;
    lite.authenticate(&headers, "/team/delete")?
        .admin_only("/team/delete")?;
    let f = fields::validate(&body, &[TEAM_DELETE]).map_err(ApiError::Validation)?;
    let Some(Value::Array(sent)) = f.get("team_ids") else {
        return Err(ApiError::Validation(vec![fields::missing(
            &body, "team_ids",
        )]));
    };
    let ids: Vec<String> = sent
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    lite.store.commit(|db, now| {
        if let Some(id) = ids.iter().find(|id| !db.teams.contains_key(*id)) {
            return Err(ApiError::Detail(
                StatusCode::NOT_FOUND,
                json!({ "error": format!("Team not found, passed team_id={id}") }),
            ));
        }
        let tokens: Vec<String> = db
            .keys
            .iter()
            .filter(|(_, k)| {
                k["team_id"]
                    .as_str()
                    .is_some_and(|t| ids.iter().any(|id| id == t))
            })
            .map(|(t, _)| t.clone())
            .collect();
        keys::archive(db, &tokens, now, super::ADMIN_USER_ID.into());
        for id in &ids {
            db.teams.remove(id);
        }
        Ok(())
    })?;
    ok(json!({ "deleted_teams": sent }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn info_error_messages_are_python_dicts() {
        let e = super::ApiError::http(
            super::Kind::Auth,
            404,
            serde_json::json!({"message": "Team not found, passed team id: x."}),
        );
        let super::ApiError::Proxy { message, kind, .. } = e else {
            panic!()
        };
        assert_eq!(message, "{'message': 'Team not found, passed team id: x.'}");
        assert_eq!(kind, "auth_error");
    }
}
