//! `/key/generate`, `/key/info`, `/key/update`, `/key/delete`, `/key/list`.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use rand::RngCore;
use serde_json::{json, Map, Value};

use super::error::{ApiError, Kind};
use super::fields::{self, KEY_DELETE, KEY_GENERATE, KEY_SHARED, KEY_UPDATE};
use super::store::{hash_if_needed, hash_token, State as Db};
use super::{
    access, after, body, check_numbers, key_status, ok, presented_key, str_of, Lite, ADMIN_USER_ID,
};
use crate::http::{verr, verr_ctx};
use crate::time::{self, Micros};

type Res = Result<Response, ApiError>;

/// Minimum length of a caller-chosen key.
const MIN_KEY_LEN: usize = 16;

/// Columns of `LiteLLM_VerificationToken` (litellm-schema-1.106.2.prisma), plus the two
/// relations the proxy includes in a key row (`litellm_budget_table`, `object_permission`).
/// Request fields outside this list are not stored as columns: metadata-backed fields go into
/// `metadata`, `soft_budget` into the budget row, `key`/`duration`/`send_invite_email` nowhere.
const COLUMNS: &[&str] = &[
    "token",
    "key_name",
    "key_alias",
    "soft_budget_cooldown",
    "spend",
    "total_spend",
    "expires",
    "models",
    "aliases",
    "config",
    "router_settings",
    "user_id",
    "team_id",
    "agent_id",
    "project_id",
    "permissions",
    "max_parallel_requests",
    "metadata",
    "blocked",
    "tpm_limit",
    "rpm_limit",
    "tpd_limit",
    "max_budget",
    "budget_duration",
    "budget_reset_at",
    "allowed_cache_controls",
    "allowed_routes",
    "key_type",
    "policies",
    "access_group_ids",
    "model_spend",
    "model_max_budget",
    "budget_fallbacks",
    "budget_id",
    "organization_id",
    "object_permission_id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "settings_updated_at",
    "last_active",
    "rotation_count",
    "auto_rotate",
    "rotation_interval",
    "last_rotation_at",
    "key_rotation_at",
    "budget_limits",
    "litellm_budget_table",
    "object_permission",
];

/// Fields of `GenerateKeyResponse` (litellm/proxy/_types.py): the route's `response_model`.
/// FastAPI serialises the answer through it, and the model ignores extra fields, so a column
/// or request field it does not declare never reaches the client.
const GENERATE_RESPONSE_FIELDS: &[&str] = &[
    "access_group_ids",
    "agent_id",
    "aliases",
    "allowed_cache_controls",
    "allowed_passthrough_routes",
    "allowed_routes",
    "allowed_vector_store_indexes",
    "blocked",
    "budget_duration",
    "budget_fallbacks",
    "budget_id",
    "budget_limits",
    "config",
    "created_at",
    "created_by",
    "default_estimated_output_tokens",
    "default_estimated_output_tokens_per_model",
    "denied_passthrough_routes",
    "disable_global_guardrails",
    "duration",
    "enable_prompt_caching",
    "end_user_budget_id",
    "enforced_params",
    "expires",
    "guardrails",
    "key",
    "key_alias",
    "key_name",
    "key_type",
    "litellm_budget_table",
    "max_budget",
    "max_parallel_requests",
    "mcp_rpm_limit",
    "metadata",
    "model_max_budget",
    "model_rpm_limit",
    "model_tpm_limit",
    "models",
    "object_permission",
    "organization_id",
    "permissions",
    "policies",
    "project_id",
    "prompts",
    "router_settings",
    "rpm_limit",
    "rpm_limit_type",
    "spend",
    "tag_rpm_limit",
    "tags",
    "team_id",
    "throttle_on_budget_exceeded",
    "token",
    "token_id",
    "tpd_limit",
    "tpm_limit",
    "tpm_limit_type",
    "updated_at",
    "updated_by",
    "user_id",
];

/// Value of a column the database fills when nothing is given: the Prisma `@default`, or `[]`
/// for a list column (Prisma lists are never null).
fn column_default(name: &str) -> Value {
    match name {
        "models"
        | "allowed_cache_controls"
        | "allowed_routes"
        | "policies"
        | "access_group_ids" => json!([]),
        "metadata" | "aliases" | "config" | "permissions" | "model_max_budget" | "model_spend"
        | "budget_fallbacks" | "router_settings" => json!({}),
        "spend" | "total_spend" => json!(0.0),
        "auto_rotate" | "soft_budget_cooldown" => json!(false),
        "rotation_count" => json!(0),
        _ => Value::Null,
    }
}

/// A new key row with every column at its default.
fn new_row() -> Map<String, Value> {
    COLUMNS
        .iter()
        .map(|n| ((*n).to_owned(), column_default(n)))
        .collect()
}

/// Sets a `soft_budget` on the key's budget row (the proxy keeps it in `LiteLLM_BudgetTable`).
fn set_soft_budget(row: &mut Map<String, Value>, soft: &Value) {
    let id = row
        .get("budget_id")
        .filter(|v| !v.is_null())
        .cloned()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string().into());
    row.insert("budget_id".into(), id.clone());
    let mut budget = row
        .get("litellm_budget_table")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    budget.insert("budget_id".into(), id);
    budget.insert("soft_budget".into(), soft.clone());
    row.insert("litellm_budget_table".into(), Value::Object(budget));
}

/// `sk-` + 16 random bytes, url-safe base64 (as `secrets.token_urlsafe(16)`).
fn generate_key() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "sk-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn check_custom_key(key: &str) -> Result<(), ApiError> {
    if !key.starts_with("sk-") {
        return Err(ApiError::http_error(
            Kind::Internal,
            400,
            format!(
                "Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: {}",
                super::mask(key)
            ),
        ));
    }
    if key.chars().count() < MIN_KEY_LEN {
        return Err(ApiError::http_error(
            Kind::Internal,
            400,
            format!("Invalid key format. LiteLLM Virtual Key must be at least {MIN_KEY_LEN} characters long."),
        ));
    }
    Ok(())
}

/// 400 when `team_id` names no team (LiteLLM's message when team checks are on).
fn check_team(db: &Db, f: &Map<String, Value>, kind: Kind) -> Result<(), ApiError> {
    match str_of(f, "team_id") {
        Some(team) if !db.teams.contains_key(team) => Err(ApiError::http(
            kind,
            400,
            format!("Unable to find team object in database. Team ID: {team}").into(),
        )),
        _ => Ok(()),
    }
}

/// 400 when another live key already has `alias`.
fn check_alias(db: &Db, alias: Option<&str>, except: Option<&str>) -> Result<(), ApiError> {
    let Some(alias) = alias else { return Ok(()) };
    if db
        .keys
        .iter()
        .any(|(t, row)| Some(t.as_str()) != except && row["key_alias"] == alias)
    {
        return Err(ApiError::proxy(
            400,
            "bad_request_error",
            format!("Key with alias '{alias}' already exists. Unique key aliases across all keys are required."),
            Some("key_alias"),
        ));
    }
    Ok(())
}

/// Refuses to move `key` into `team` as `validate_key_team_change` does
/// (litellm/proxy/management_endpoints/key_management_endpoints.py): the key's limits must not
/// exceed the team's, and the key's user must already be a member of the team (403, raised as
/// an `HTTPException` inside `/key/update`, so `auth_error`). The caller is the master key, so
/// the proxy-admin check passes. Not simulated: the team's model access check.
fn check_team_change(db: &Db, key: &Value, team_id: &str) -> Result<(), ApiError> {
    let Some(team) = db.teams.get(team_id) else {
        return Ok(()); // check_team reports a missing team
    };
    let token = key["token"].as_str().unwrap_or_default();
    for limit in ["tpm_limit", "rpm_limit"] {
        if let (Some(k), Some(t)) = (key[limit].as_i64(), team[limit].as_i64()) {
            if t > 0 && k > t {
                return Err(ApiError::http(
                    Kind::Auth,
                    403,
                    format!("Key={token} has a {limit}={k} which is greater than the team's {limit}={t}.").into(),
                ));
            }
        }
    }
    if let Some(user) = key["user_id"].as_str() {
        let member = team["members_with_roles"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["user_id"] == user));
        if !member {
            return Err(ApiError::http(
                Kind::Auth,
                403,
                format!("User={user} is not a member of the team={team_id}. Check team members via `/team/info`.").into(),
            ));
        }
    }
    Ok(())
}

/// Recomputes `key_rotation_at` from `auto_rotate` and `rotation_interval`.
fn set_rotation(row: &mut Map<String, Value>, now: Micros, kind: Kind) -> Result<(), ApiError> {
    let at = match (
        row.get("auto_rotate") == Some(&json!(true)),
        str_of(row, "rotation_interval"),
    ) {
        (true, Some(interval)) => after(interval, now, kind)?,
        _ => Value::Null,
    };
    row.insert("key_rotation_at".into(), at);
    Ok(())
}

/// The `info` view of a stored row: no `token`, plus derived fields.
fn info_view(row: &Value, deleted: bool, now: Micros) -> Value {
    let mut info = row.clone();
    let obj = info.as_object_mut().expect("rows are objects");
    obj.remove("token");
    obj.insert("status".into(), key_status(row, deleted, now).into());
    obj.insert("org_id".into(), row["organization_id"].clone());
    if let Some(limits) = row["budget_limits"].as_array().filter(|l| !l.is_empty()) {
        let usage: Map<String, Value> = limits
            .iter()
            .filter_map(|l| {
                Some((
                    l["budget_duration"].as_str()?.to_owned(),
                    json!({ "current_spend": 0.0 }),
                ))
            })
            .collect();
        obj.insert("budget_limits_usage".into(), usage.into());
    }
    info
}

/// `POST /key/generate`
pub(super) async fn generate(
    State(lite): State<Arc<Lite>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Res {
    let body = body(&bytes)?;
    let caller = lite.authenticate(&headers, "/key/generate")?;
    let mut f =
        fields::validate(&body, &[KEY_SHARED, KEY_GENERATE]).map_err(ApiError::Validation)?;
    check_numbers(&f, Kind::Internal)?;
    if str_of(&f, "organization_id") == Some("") {
        f.remove("organization_id");
    }
    if f.get("auto_rotate") == Some(&json!(true)) && str_of(&f, "rotation_interval").is_none() {
        return Err(ApiError::http_error(
            Kind::Internal,
            400,
            "rotation_interval is required when auto_rotate is True",
        ));
    }
    let key = str_of(&f, "key").map_or_else(generate_key, str::to_owned);
    let row = lite.store.commit(|db, now| {
        let mut f = f.clone();
        if let Some(k) = caller.key() {
            access::generate_checks(k, &mut f, &body, db)?;
        }
        check_team(db, &f, Kind::Internal)?;
        check_alias(db, str_of(&f, "key_alias"), None)?;
        check_custom_key(&key)?;
        let base = f.remove("metadata").unwrap_or(Value::Null);
        let metadata = super::move_to_metadata(&mut f, &base, db.premium, Kind::Internal)?;
        let mut row = new_row();
        for (name, v) in f
            .iter()
            .filter(|(n, v)| !v.is_null() && COLUMNS.contains(&n.as_str()))
        {
            row.insert(name.clone(), v.clone());
        }
        row.insert("metadata".into(), metadata);
        if let Some(soft) = f.get("soft_budget").filter(|v| !v.is_null()) {
            set_soft_budget(&mut row, soft);
        }
        if let Some(perm) = f.get("object_permission").filter(|v| !v.is_null()) {
            row.insert(
                "object_permission_id".into(),
                uuid::Uuid::new_v4().to_string().into(),
            );
            row.insert("object_permission".into(), perm.clone());
        }
        let expires = str_of(&f, "duration")
            .map(|d| after(d, now, Kind::Internal))
            .transpose()?;
        let reset = str_of(&f, "budget_duration")
            .map(|d| after(d, now, Kind::Internal))
            .transpose()?;
        let routes = match str_of(&f, "key_type") {
            Some("llm_api") => Some(json!(["llm_api_routes"])),
            Some("management") => Some(json!(["management_routes"])),
            Some("read_only") => Some(json!(["info_routes"])),
            _ => None,
        };
        let token = hash_token(&key);
        if db.keys.contains_key(&token) {
            return Err(ApiError::http_error(
                Kind::Internal,
                500,
                "Internal Server Error.",
            ));
        }
        let stamp = json!(time::format(now));
        let set: [(&str, Option<Value>); 8] = [
            ("token", Some(token.clone().into())),
            ("key_name", Some(super::abbreviate(&key).into())),
            ("expires", expires),
            ("budget_reset_at", reset),
            ("allowed_routes", routes),
            ("created_at", Some(stamp.clone())),
            ("updated_at", Some(stamp)),
            ("created_by", Some(caller.changed_by())),
        ];
        for (name, v) in set {
            if let Some(v) = v {
                row.insert(name.into(), v);
            }
        }
        row.insert("updated_by".into(), caller.changed_by());
        set_rotation(&mut row, now, Kind::Internal)?;
        db.keys.insert(token, Value::Object(row.clone()));
        Ok(row)
    })?;
    let mut res = row;
    let token = res["token"].clone();
    res.insert("key".into(), key.into());
    res.insert("token_id".into(), token);
    for name in ["duration", "send_invite_email"] {
        res.insert(name.into(), f.get(name).cloned().unwrap_or(Value::Null));
    }
    // GenerateKeyResponse still declares the request fields the proxy moved into `metadata`;
    // pydantic serialises them with their default (None) at the top level.
    for name in fields::METADATA_FIELDS
        .iter()
        .chain(fields::PREMIUM_METADATA_FIELDS)
    {
        res.entry(*name).or_insert(Value::Null);
    }
    res.retain(|k, _| GENERATE_RESPONSE_FIELDS.contains(&k.as_str()));
    ok(res.into())
}

/// `GET /key/info?key=`
pub(super) async fn info(
    State(lite): State<Arc<Lite>>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Res {
    let caller = lite.authenticate(&headers, "/key/info")?;
    let key = q
        .iter()
        .rev()
        .find(|(k, v)| k == "key" && !v.is_empty())
        .map(|(_, v)| v.as_str())
        .or_else(|| presented_key(&headers))
        .unwrap_or_default()
        .to_owned();
    let token = hash_if_needed(&key);
    let found = lite.store.read(|db| {
        db.keys
            .get(&token)
            .map(|r| (r.clone(), false))
            .or_else(|| db.deleted_keys.get(&token).map(|r| (r.clone(), true)))
    });
    let Some((row, deleted)) = found else {
        return Err(ApiError::proxy(
            404,
            "not_found_error",
            "Key not found in database",
            Some("key"),
        ));
    };
    if let Some(k) = caller
        .key()
        .filter(|k| !lite.store.read(|db| access::may_read_key(k, &row, db)))
    {
        return Err(ApiError::http(
            Kind::Internal,
            403,
            format!(
                "You are not allowed to access this key's info. Your role={}",
                k.role_text()
            )
            .into(),
        ));
    }
    ok(json!({ "key": key, "info": info_view(&row, deleted, time::now()) }))
}

/// Applies the validated fields `f` of an update or regeneration to `row`: metadata-backed fields
/// merged into `metadata` (`prepare_key_update_data` / `prepare_metadata_fields`), columns set,
/// null resetting a column to its default. `alias_settable`: the key was named by key, not alias.
fn apply_changes(
    row: &mut Map<String, Value>,
    f: &Map<String, Value>,
    alias_settable: bool,
    premium: bool,
    now: Micros,
    kind: Kind,
) -> Result<(), ApiError> {
    let mut f = f.clone();
    let base = match f.remove("metadata") {
        Some(Value::Null) => json!({}),
        Some(sent) => sent,
        None => row.get("metadata").cloned().unwrap_or(json!({})),
    };
    let metadata = super::move_to_metadata(&mut f, &base, premium, kind)?;
    row.insert("metadata".into(), metadata);
    if let Some(soft) = f.get("soft_budget").filter(|v| !v.is_null()) {
        set_soft_budget(row, soft);
    }
    for (name, v) in &f {
        match name.as_str() {
            "key" | "soft_budget" => {}
            _ if !COLUMNS.contains(&name.as_str()) && name != "duration" => {}
            "key_alias" if !alias_settable => {}
            "duration" => {
                let expires = match v.as_str() {
                    None | Some("-1") => Value::Null,
                    Some(d) => after(d, now, kind)?,
                };
                row.insert("expires".into(), expires);
            }
            "budget_duration" => {
                let reset = v.as_str().map(|d| after(d, now, kind)).transpose()?;
                row.insert("budget_reset_at".into(), reset.unwrap_or(Value::Null));
                row.insert(name.clone(), v.clone());
            }
            _ if v.is_null() => {
                row.insert(name.clone(), column_default(name));
            }
            _ => {
                row.insert(name.clone(), v.clone());
            }
        }
    }
    if f.contains_key("auto_rotate") || f.contains_key("rotation_interval") {
        set_rotation(row, now, kind)?;
    }
    Ok(())
}

/// `POST /key/{key}/regenerate` and `POST /key/regenerate` (`regenerate_key_fn`,
/// key_management_endpoints.py): an enterprise feature, so an unlicensed proxy answers 500 (a
/// `ValueError`) before looking at the key. With a licence the row keeps everything but its
/// token (new key from `new_key` or generated; the old key stops working at once, no
/// `grace_period` simulated) and takes the body's changes. Rotating the master key itself
/// (`new_master_key`) is not simulated: 400.
pub(super) async fn regenerate(
    State(lite): State<Arc<Lite>>,
    headers: HeaderMap,
    path: Option<axum::extract::Path<String>>,
    bytes: Bytes,
) -> Res {
    let body = if bytes.is_empty() {
        json!({})
    } else {
        body(&bytes)?
    };
    lite.authenticate(&headers, "/key/regenerate")?;
    let extra: &[(&str, fields::Ty)] = &[
        ("new_key", fields::Ty::Str),
        ("new_master_key", fields::Ty::Str),
        ("grace_period", fields::Ty::Str),
    ];
    let f = fields::validate(&body, &[KEY_SHARED, KEY_GENERATE, extra])
        .map_err(ApiError::Validation)?;
    let target = str_of(&f, "key")
        .map(str::to_owned)
        .or(path.map(|p| p.0))
        .unwrap_or_default();
    if !lite.store.read(|db| db.premium) {
        if target == lite.master_key && f.get("new_master_key").is_some_and(|v| !v.is_null()) {
            return Err(ApiError::http_error(
                Kind::Internal,
                400,
                "master key rotation is not simulated",
            ));
        }
        return Err(ApiError::exception(
            Kind::Internal,
            format!(
                "Regenerating Virtual Keys is an Enterprise feature, {}",
                super::NOT_PREMIUM
            ),
        ));
    }
    if target.is_empty() {
        return Err(ApiError::http_error(
            Kind::Internal,
            400,
            "No key passed in.",
        ));
    }
    check_numbers(&f, Kind::Internal)?;
    let new_key = str_of(&f, "new_key").map_or_else(generate_key, str::to_owned);
    check_custom_key(&new_key)?;
    let old = if target.contains("sk") {
        hash_token(&target)
    } else {
        target.clone()
    };
    let row = lite.store.commit(|db, now| {
        let Some(existing) = db.keys.get(&old).and_then(Value::as_object).cloned() else {
            return Err(ApiError::http_error(
                Kind::Internal,
                404,
                format!("Key {target} not found."),
            ));
        };
        check_team(db, &f, Kind::Internal)?;
        let mut row = existing;
        let mut changes = f.clone();
        for name in ["new_key", "new_master_key", "grace_period"] {
            changes.remove(name);
        }
        apply_changes(&mut row, &changes, true, db.premium, now, Kind::Internal)?;
        let token = hash_token(&new_key);
        if token != old && db.keys.contains_key(&token) {
            return Err(ApiError::http_error(
                Kind::Internal,
                400,
                "Key already exists.",
            ));
        }
        let count = row
            .get("rotation_count")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let stamp = json!(time::format(now));
        row.insert("token".into(), token.clone().into());
        row.insert("key_name".into(), super::abbreviate(&new_key).into());
        row.insert("rotation_count".into(), json!(count + 1));
        row.insert("last_rotation_at".into(), stamp.clone());
        row.insert("updated_at".into(), stamp);
        row.insert("updated_by".into(), ADMIN_USER_ID.into());
        db.keys.remove(&old);
        db.keys.insert(token, Value::Object(row.clone()));
        Ok(row)
    })?;
    let mut res = row;
    let token = res["token"].clone();
    res.insert("key".into(), new_key.into());
    res.insert("token_id".into(), token);
    ok(res.into())
}

/// `POST /key/update`: only the fields sent change; null resets a column.
pub(super) async fn update(State(lite): State<Arc<Lite>>, headers: HeaderMap, bytes: Bytes) -> Res {
    let body = body(&bytes)?;
    let caller = lite.authenticate(&headers, "/key/update")?;
    let mut f = fields::validate(&body, &[KEY_SHARED, KEY_UPDATE]).map_err(ApiError::Validation)?;
    let (key, alias) = (
        str_of(&f, "key").map(str::to_owned),
        str_of(&f, "key_alias").map(str::to_owned),
    );
    if key.is_none() && alias.is_none() {
        return Err(ApiError::Validation(vec![verr_ctx(
            "value_error",
            vec!["body".into()],
            "Value error, Either key or key_alias must be provided",
            body.clone(),
            json!({"error": {}}),
        )]));
    }
    check_numbers(&f, Kind::Auth)?;
    if (f.get("temp_budget_increase").is_some_and(|v| !v.is_null()))
        != (f.get("temp_budget_expiry").is_some_and(|v| !v.is_null()))
    {
        return Err(ApiError::http_error(
            Kind::Auth,
            400,
            "temp_budget_increase and temp_budget_expiry must be set together",
        ));
    }
    if str_of(&f, "team_id") == Some("") {
        f.remove("team_id");
    }
    let (ident, row) = lite.store.commit(|db, now| {
        let token = match (&key, &alias) {
            (Some(k), _) => {
                let t = hash_if_needed(k);
                if !db.keys.contains_key(&t) {
                    return Err(ApiError::proxy(404, "not_found_error", "Key not found.", Some("key")));
                }
                t
            }
            (None, Some(a)) => {
                let matches: Vec<&String> = db.keys.iter().filter(|(_, r)| r["key_alias"] == a.as_str()).map(|(t, _)| t).collect();
                match matches[..] {
                    [t] => t.clone(),
                    [] => {
                        return Err(ApiError::proxy(
                            404,
                            "not_found_error",
                            format!("Key not found. No key with key_alias='{a}'."),
                            Some("key"),
                        ))
                    }
                    _ => {
                        return Err(ApiError::proxy(
                            400,
                            "bad_request_error",
                            format!("Multiple keys found with key_alias='{a}'. Pass the key or its hash instead."),
                            Some("key_alias"),
                        ))
                    }
                }
            }
            (None, None) => unreachable!("checked above"),
        };
        if let Some(k) = caller.key() {
            access::update_checks(k, &db.keys[&token], &body, db)?;
        }
        check_team(db, &f, Kind::Auth)?;
        if key.is_some() {
            check_alias(db, alias.as_deref(), Some(&token))?;
        }
        if let Some(team) = str_of(&f, "team_id") {
            if db.keys[&token]["team_id"] != team {
                // validate_key_team_change's team-admin rules are not simulated.
                caller.admin_only("/key/update (team change)")?;
                check_team_change(db, &db.keys[&token], team)?;
            }
        }
        let mut row = db.keys[&token].as_object().cloned().unwrap_or_default();
        apply_changes(&mut row, &f, key.is_some(), db.premium, now, Kind::Auth)?;
        row.insert("updated_at".into(), time::format(now).into());
        row.insert("updated_by".into(), caller.changed_by());
        db.keys.insert(token.clone(), Value::Object(row.clone()));
        Ok((key.clone().unwrap_or(token), row))
    })?;
    let mut res = Map::new();
    res.insert("key".into(), ident.into());
    res.extend(row);
    ok(res.into())
}

/// `POST /key/delete`
pub(super) async fn delete(State(lite): State<Arc<Lite>>, headers: HeaderMap, bytes: Bytes) -> Res {
    let body = body(&bytes)?;
    let caller = lite.authenticate(&headers, "/key/delete")?;
    let f = fields::validate(&body, &[KEY_DELETE]).map_err(ApiError::Validation)?;
    let list = |name| {
        f.get(name)
            .and_then(Value::as_array)
            .filter(|l| !l.is_empty())
            .cloned()
    };
    let (keys, aliases) = (list("keys"), list("key_aliases"));
    let Some(sent) = keys.clone().or(aliases.clone()) else {
        return Err(ApiError::Validation(vec![verr_ctx(
            "value_error",
            vec!["body".into()],
            "Value error, Either keys or key_aliases must be provided",
            body.clone(),
            json!({"error": {}}),
        )]));
    };
    lite.store.commit(|db, now| {
        let mut found: Vec<String> = match &keys {
            Some(keys) => keys
                .iter()
                .filter_map(Value::as_str)
                .map(hash_if_needed)
                .filter(|t| db.keys.contains_key(t))
                .collect(),
            None => db
                .keys
                .iter()
                .filter(|(_, r)| aliases.iter().flatten().any(|a| r["key_alias"] == *a))
                .map(|(t, _)| t.clone())
                .collect(),
        };
        found.sort();
        found.dedup();
        if found.is_empty() {
            return Err(ApiError::http_error(Kind::Internal, 404, "No keys found"));
        }
        if let Some(k) = caller.key() {
            if found
                .iter()
                .any(|t| !access::may_modify_key(k, &db.keys[t], db))
            {
                return Err(ApiError::http_error(
                    Kind::Internal,
                    403,
                    "You are not authorized to delete this key",
                ));
            }
        }
        archive(db, &found, now, caller.changed_by());
        Ok(())
    })?;
    ok(json!({ "deleted_keys": sent }))
}

/// Moves live keys to the deleted-keys archive, deleted `by` a user id.
pub(super) fn archive(db: &mut Db, tokens: &[String], now: Micros, by: Value) {
    for token in tokens {
        if let Some(mut row) = db.keys.remove(token) {
            // A `LiteLLM_DeletedVerificationToken` row: the key's columns that table has
            // (no `budget_limits`, no included relations) and its own `id`.
            if let Some(obj) = row.as_object_mut() {
                for gone in ["budget_limits", "litellm_budget_table", "object_permission"] {
                    obj.remove(gone);
                }
            }
            row["id"] = uuid::Uuid::new_v4().to_string().into();
            row["deleted_at"] = time::format(now).into();
            row["deleted_by"] = by.clone();
            db.deleted_keys.insert(token.clone(), row);
        }
    }
}

/// Orders JSON values: null first, then numbers, strings, others by text.
fn cmp_json(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// Query parameters of `/key/list`, validated like FastAPI.
struct ListQuery<'a>(&'a [(String, String)]);

impl ListQuery<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn int(&self, name: &str, default: i64, min: i64, max: i64, errs: &mut Vec<Value>) -> i64 {
        let Some(raw) = self.get(name) else {
            return default;
        };
        let at = vec!["query".into(), name.into()];
        match raw.trim().parse::<i64>() {
            Err(_) => errs.push(verr(
                "int_parsing",
                at,
                "Input should be a valid integer, unable to parse string as an integer",
                raw.into(),
            )),
            Ok(v) if v < min => errs.push(verr_ctx(
                "greater_than_equal",
                at,
                format!("Input should be greater than or equal to {min}"),
                raw.into(),
                json!({ "ge": min }),
            )),
            Ok(v) if v > max => errs.push(verr_ctx(
                "less_than_equal",
                at,
                format!("Input should be less than or equal to {max}"),
                raw.into(),
                json!({ "le": max }),
            )),
            Ok(v) => return v,
        }
        default
    }

    fn flag(&self, name: &str, errs: &mut Vec<Value>) -> bool {
        let Some(raw) = self.get(name) else {
            return false;
        };
        let v = fields::coerce(
            &raw.into(),
            fields::Ty::Bool,
            &["query".into(), name.into()],
            errs,
        );
        v == Some(Value::Bool(true))
    }
}

/// `GET /key/list`
#[allow(clippy::unnecessary_map_or)] // `is_none_or` needs Rust 1.82 (MSRV 1.80)
pub(super) async fn list(
    State(lite): State<Arc<Lite>>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Res {
    let caller = lite.authenticate(&headers, "/key/list")?;
    let q = ListQuery(&q);
    let mut errs = Vec::new();
    let page = q.int("page", 1, 1, i64::MAX, &mut errs);
    let size = q.int("size", 10, 1, 100, &mut errs);
    let full = q.flag("return_full_object", &mut errs);
    let substring = q.flag("substring_matching", &mut errs);
    for name in ["include_team_keys", "include_created_by_keys"] {
        q.flag(name, &mut errs);
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let status = q.get("status");
    if let Some(s) = status.filter(|s| !["active", "expired", "revoked", "deleted"].contains(s)) {
        return Err(ApiError::http_error(
            Kind::Internal,
            400,
            format!("Invalid status value: {s}. Must be one of: active, expired, revoked, deleted"),
        ));
    }
    let expires = q.get("expires");
    if let Some(e) = expires.filter(|e| !["active", "expired"].contains(e)) {
        return Err(ApiError::http_error(
            Kind::Internal,
            400,
            format!("Invalid expires value: {e}. Must be one of: active, expired"),
        ));
    }
    // A non-admin sees its own user's keys only.
    let own_user = match caller.key() {
        Some(k) => Some(
            lite.store
                .read(|db| access::list_scope(k, q.get("user_id"), q.get("team_id"), db))?,
        ),
        None => None,
    };
    let expand_user = q.0.iter().any(|(k, v)| k == "expand" && v == "user");
    let now = time::now();
    let matches_text = |field: &Value, wanted: &str| match field.as_str() {
        Some(s) if substring => s.to_lowercase().contains(&wanted.to_lowercase()),
        Some(s) => s == wanted,
        None => false,
    };
    let (mut rows, teams) = lite.store.read(|db| {
        let source = if status == Some("deleted") {
            &db.deleted_keys
        } else {
            &db.keys
        };
        let rows: Vec<Value> = source.values().cloned().collect();
        (rows, db.teams.clone())
    });
    rows.retain(|r| {
        let eq = |col: &str, param: &str| q.get(param).map_or(true, |want| r[col] == want);
        let st = key_status(r, status == Some("deleted"), now);
        r["team_id"] != "litellm-dashboard"
            && own_user
                .as_ref()
                .map_or(true, |u| r["user_id"] == u.as_str())
            && q.get("key_alias")
                .map_or(true, |a| matches_text(&r["key_alias"], a))
            && q.get("user_id")
                .map_or(true, |u| matches_text(&r["user_id"], u))
            && eq("team_id", "team_id")
            && eq("organization_id", "organization_id")
            && eq("project_id", "project_id")
            && eq("agent_id", "agent_id")
            && eq("token", "key_hash")
            && q.get("access_group_id").map_or(true, |g| {
                r["access_group_ids"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == g))
            })
            && q.get("search").map_or(true, |s| {
                r["token"] == s
                    || r["key_alias"]
                        .as_str()
                        .is_some_and(|a| a.to_lowercase().contains(&s.to_lowercase()))
            })
            && status.map_or(true, |s| s == "deleted" || st == s)
            && expires.map_or(true, |e| (st == "expired") == (e == "expired"))
    });
    let sort_by = q.get("sort_by").unwrap_or("created_at");
    let asc = q.get("sort_order") == Some("asc");
    rows.sort_by(|a, b| {
        let o = cmp_json(&a[sort_by], &b[sort_by])
            .then_with(|| cmp_json(&a["created_at"], &b["created_at"]));
        if asc {
            o
        } else {
            o.reverse()
        }
    });
    let total = rows.len() as i64;
    let start = ((page - 1).saturating_mul(size)).min(total) as usize;
    let keys: Vec<Value> = rows
        .into_iter()
        .skip(start)
        .take(size as usize)
        .map(|mut r| {
            if !(full || expand_user) {
                return r["token"].clone();
            }
            let team_alias = r["team_id"]
                .as_str()
                .and_then(|t| teams.get(t))
                .map(|t| t["team_alias"].clone());
            r["team_alias"] = team_alias.unwrap_or(Value::Null);
            // Keys are listed as `UserAPIKeyAuth` (live) or `LiteLLM_DeletedVerificationToken`
            // (the route's response model; extra fields ignored): neither has `policies`, and
            // `UserAPIKeyAuth` has no `organization_id` (its field is `org_id`), so those
            // never reach the client.
            if let Some(m) = r.as_object_mut() {
                m.remove("policies");
                if status != Some("deleted") {
                    m.remove("organization_id");
                }
            }
            if expand_user {
                r["user"] = Value::Null;
            }
            r
        })
        .collect();
    ok(json!({
        "keys": keys,
        "total_count": total,
        "current_page": page,
        "total_pages": (total + size - 1) / size,
    }))
}
