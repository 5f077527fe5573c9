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

/// Column defaults of a team row other than null.
fn column_default(name: &str) -> Value {
    match name {
        "admins" | "members" | "members_with_roles" | "models" => json!([]),
        "model_spend" | "model_max_budget" => json!({}),
        "blocked" | "allow_team_guardrail_config" => json!(false),
        "spend" => json!(0.0),
        _ => Value::Null,
    }
}

/// A new team row: every `LiteLLM_TeamTable` column and accepted request field.
fn new_row() -> Map<String, Value> {
    let table = [
        "spend",
        "max_parallel_requests",
        "budget_reset_at",
        "model_id",
        "model_spend",
        "allow_team_guardrail_config",
        "litellm_model_table",
        "object_permission_id",
        "created_at",
        "updated_at",
    ];
    TEAM_NEW
        .iter()
        .map(|(n, _)| *n)
        .chain(table)
        .map(|n| (n.to_owned(), column_default(n)))
        .collect()
}

/// Sets `f`'s fields on `row`: null resets a column; keeps derived columns in step.
fn apply(
    row: &mut Map<String, Value>,
    f: &Map<String, Value>,
    now: Micros,
) -> Result<(), ApiError> {
    for (name, v) in f {
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
    lite.authenticate(&headers, "/team/new")?;
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
        apply(&mut row, &f, now)?;
        db.teams.insert(team_id.clone(), Value::Object(row.clone()));
        Ok(row)
    })?;
    ok(row.into())
}

/// `GET /team/list[?organization_id=]`: every team row (LiteLLM 1.106.2
/// `litellm/proxy/management_endpoints/team_endpoints.py` `list_team` answers a plain list
/// of team rows; `user_id` narrows to teams that user is a member of).
pub(super) async fn list(
    State(lite): State<Arc<Lite>>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Res {
    lite.authenticate(&headers, "/team/list")?;
    let get = |name: &str| {
        q.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let (org, user) = (get("organization_id"), get("user_id"));
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
    lite.authenticate(&headers, "/team/info")?;
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
    let mut team_info = team;
    for (name, v) in [
        ("team_member_budget_table", Value::Null),
        ("access_group_models", json!([])),
        ("access_group_mcp_server_ids", json!([])),
        ("access_group_agent_ids", json!([])),
        ("access_group_details", json!([])),
        ("organization_models", json!([])),
        ("model_max_budget_usage", json!({})),
        ("caller_edit_access", json!(true)),
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
    lite.authenticate(&headers, "/team/update")?;
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
        apply(&mut row, &f, now)?;
        db.teams.insert(team_id.clone(), Value::Object(row.clone()));
        Ok(row)
    })?;
    ok(json!({ "team_id": team_id, "data": row }))
}

/// `POST /team/delete`: all ids must exist; the teams' keys go with them.
pub(super) async fn delete(State(lite): State<Arc<Lite>>, headers: HeaderMap, bytes: Bytes) -> Res {
    let body = body(&bytes)?;
    lite.authenticate(&headers, "/team/delete")?;
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
        keys::archive(db, &tokens, now);
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
