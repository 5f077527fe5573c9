//! Model management of the LiteLLM simulator (`STORE_MODEL_IN_DB=True`): `/model/new`,
//! `/model/info`, `PATCH /model/{model_id}/update`, `/model/delete`, as in LiteLLM 1.106.2's
//! `litellm/proxy/management_endpoints/model_management_endpoints.py` and `proxy_server.py`
//! (`model_info_v1`).
//!
//! Rows are shaped like `LiteLLM_ProxyModelTable` (`model_id`, `model_name`, `litellm_params`,
//! `model_info`, `created_by`, ...). The real proxy stores every string of `litellm_params`
//! encrypted with the salt key and answers `/model/new` with that row; `/model/info` decrypts and
//! then drops `api_key` and the other credentials (`remove_sensitive_info_from_deployment`), so
//! a credential can be written but never read back. A `model_id` that already exists is a Prisma
//! unique-constraint error, which `add_new_model` logs and answers as 500 "Failed to add model to
//! db".

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::error::{ApiError, Kind};
use super::fields;
use super::{body, ok, Lite, ADMIN_USER_ID};
use crate::time;

type Res = Result<Response, ApiError>;

/// Credentials `/model/info` never shows (`remove_sensitive_info_from_deployment`).
const CREDENTIALS: &[&str] = &[
    "api_key",
    "client_secret",
    "vertex_credentials",
    "vertex_ai_credentials",
    "aws_access_key_id",
    "aws_secret_access_key",
];

/// What the proxy's encryption makes of a string: not the value (the simulator's stand-in for
/// nacl secretbox + base64 with the salt key).
fn encrypted(v: &str) -> String {
    let mut bytes = b"webide-sandbox:".to_vec();
    bytes.extend(v.bytes().rev());
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

fn object<'a>(body: &'a Value, name: &str) -> Result<&'a Map<String, Value>, ApiError> {
    match body.get(name) {
        Some(Value::Object(m)) => Ok(m),
        None | Some(Value::Null) => Err(ApiError::Validation(vec![fields::missing(body, name)])),
        Some(other) => Err(ApiError::Validation(vec![crate::http::verr(
            "model_attributes_type",
            vec!["body".into(), name.into()],
            "Input should be a valid dictionary or object to extract fields from",
            other.clone(),
        )])),
    }
}

/// `POST /model/new` with a `Deployment`.
pub(super) async fn new(State(lite): State<Arc<Lite>>, headers: HeaderMap, bytes: Bytes) -> Res {
    let body = body(&bytes)?;
    lite.authenticate(&headers, "/model/new")?
        .admin_only("/model/new")?;
    let Some(model_name) = body.get("model_name").and_then(Value::as_str) else {
        return Err(ApiError::Validation(vec![fields::missing(
            &body,
            "model_name",
        )]));
    };
    let params = object(&body, "litellm_params")?.clone();
    if !params.get("model").is_some_and(Value::is_string) {
        return Err(ApiError::Validation(vec![crate::http::verr(
            "missing",
            vec!["body".into(), "litellm_params".into(), "model".into()],
            "Field required",
            Value::Object(params),
        )]));
    }
    let mut info = match body.get("model_info") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let id = match info.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => uuid::Uuid::new_v4().to_string(),
    };
    info.insert("id".into(), json!(id));
    let stored_params: Map<String, Value> = params
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => json!(encrypted(s)),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    let plain: Map<String, Value> = params.into_iter().filter(|(_, v)| !v.is_null()).collect();
    let model_name = model_name.to_string();
    let row = lite.store.commit(|db, now| {
        if db.models.contains_key(&id) {
            // Prisma's unique constraint; add_new_model logs it and answers 500.
            return Err(ApiError::http(
                Kind::Auth,
                500,
                json!({ "error": "Failed to add model to db. Check your server logs for more details." }),
            ));
        }
        let ts = time::format(now);
        let row = json!({
            "model_id": id,
            "model_name": model_name,
            "litellm_params": Value::Object(plain),
            "model_info": Value::Object(info),
            "blocked": body.get("blocked").cloned().unwrap_or(json!(false)),
            "created_at": ts,
            "created_by": ADMIN_USER_ID,
            "updated_at": ts,
            "updated_by": ADMIN_USER_ID,
        });
        db.models.insert(id.clone(), row.clone());
        Ok(row)
    })?;
    // The answer carries the stored (encrypted) params, as a JSON string like the row.
    let mut answer = row;
    answer["litellm_params"] = json!(Value::Object(stored_params).to_string());
    answer["model_info"] = json!(answer["model_info"].to_string());
    ok(answer)
}

/// A stored row as `/model/info` shows it.
fn deployment(row: &Value) -> Value {
    let mut params = row["litellm_params"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for c in CREDENTIALS {
        params.remove(*c);
    }
    let mut info = row["model_info"].as_object().cloned().unwrap_or_default();
    info.insert("db_model".into(), json!(true));
    for k in ["created_at", "created_by", "updated_at", "updated_by"] {
        info.insert(k.into(), row[k].clone());
    }
    json!({
        "model_name": row["model_name"],
        "litellm_params": params,
        "model_info": info,
    })
}

/// `GET /model/info[?litellm_model_id=...]`.
pub(super) async fn info(
    State(lite): State<Arc<Lite>>,
    headers: HeaderMap,
    Query(q): Query<std::collections::BTreeMap<String, String>>,
) -> Res {
    lite.authenticate(&headers, "/model/info")?;
    let rows: Vec<Value> = lite.store.read(|db| match q.get("litellm_model_id") {
        Some(id) => db.models.get(id).map(deployment).into_iter().collect(),
        None => db.models.values().map(deployment).collect(),
    });
    if let Some(id) = q.get("litellm_model_id") {
        if rows.is_empty() {
            // Raised outside the endpoint's try: FastAPI's own {"detail": ...}.
            return Err(ApiError::Detail(
                StatusCode::BAD_REQUEST,
                json!({ "error": format!("Model id = {id} not found on litellm proxy") }),
            ));
        }
    }
    ok(json!({ "data": rows }))
}

/// `PATCH /model/{model_id}/update` with an `updateDeployment`: only the fields sent change;
/// `litellm_params` and `model_info` are merged into the stored ones.
pub(super) async fn patch(
    State(lite): State<Arc<Lite>>,
    headers: HeaderMap,
    Path(model_id): Path<String>,
    bytes: Bytes,
) -> Res {
    let body = body(&bytes)?;
    lite.authenticate(&headers, "/model/update")?
        .admin_only("/model/update")?;
    let row = lite.store.commit(|db, now| {
        let Some(row) = db.models.get_mut(&model_id) else {
            return Err(ApiError::http(
                Kind::Auth,
                404,
                json!({ "error": format!("Model with id={model_id} not found in db") }),
            ));
        };
        if let Some(name) = body.get("model_name").and_then(Value::as_str) {
            row["model_name"] = json!(name);
        }
        for part in ["litellm_params", "model_info"] {
            if let Some(Value::Object(m)) = body.get(part) {
                let stored = row[part].as_object_mut().expect("stored rows hold objects");
                for (k, v) in m.iter().filter(|(_, v)| !v.is_null()) {
                    stored.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(b) = body.get("blocked").filter(|b| b.is_boolean()) {
            row["blocked"] = b.clone();
        }
        row["updated_at"] = json!(time::format(now));
        Ok(row.clone())
    })?;
    let mut answer = row;
    if let Some(params) = answer["litellm_params"].as_object_mut() {
        for v in params.values_mut() {
            if let Value::String(s) = v {
                *v = json!(encrypted(s));
            }
        }
    }
    ok(answer)
}

/// `POST /model/delete` with `{"id"}`.
pub(super) async fn delete(State(lite): State<Arc<Lite>>, headers: HeaderMap, bytes: Bytes) -> Res {
    let body = body(&bytes)?;
    lite.authenticate(&headers, "/model/delete")?
        .admin_only("/model/delete")?;
    let Some(id) = body.get("id").and_then(Value::as_str).map(str::to_string) else {
        return Err(ApiError::Validation(vec![fields::missing(&body, "id")]));
    };
    lite.store.commit(|db, _| match db.models.remove(&id) {
        Some(_) => Ok(()),
        None => Err(ApiError::http(
            Kind::Auth,
            400,
            json!({ "error": format!("Model with id={id} not found in db") }),
        )),
    })?;
    ok(json!({ "message": format!("Model: {id} deleted successfully") }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_never_shows_credentials() {
        let row = json!({
            "model_id": "m1",
            "model_name": "claude-sonnet",
            "litellm_params": {"model": "anthropic/claude-sonnet-4", "api_key": "sk-ant-secret", "rpm": 10},
            "model_info": {"id": "m1"},
            "created_at": "t", "created_by": "u", "updated_at": "t", "updated_by": "u",
        });
        let d = deployment(&row);
        assert_eq!(d["litellm_params"]["model"], "anthropic/claude-sonnet-4");
        assert_eq!(d["litellm_params"]["rpm"], 10);
        assert!(d["litellm_params"].get("api_key").is_none());
        assert_eq!(d["model_info"]["db_model"], true);
        assert_eq!(d["model_info"]["id"], "m1");
        assert!(!encrypted("sk-ant-secret").contains("secret"));
    }
}
