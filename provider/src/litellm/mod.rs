//! LiteLLM proxy: virtual keys and teams through its management API
//! (`/key/*`, `/team/*`), authenticated with the master key.

pub mod ephemeral_key;
pub mod key;
pub mod key_data;
pub mod model;
pub mod names;
pub mod team;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};

use crate::framework::StopToken;
use crate::http::{ApiClient, ApiError};
use crate::provider::ServiceConfig;
use crate::snapshot::{self, ListSnapshot};

/// The proxy's management API.
#[derive(Clone, Debug)]
pub struct Client {
    api: ApiClient,
    /// `/key/list` snapshot for batched refresh of keys; invalidated by every key write.
    keys: ListSnapshot,
    /// Team aliases planned in this run (configure starts a run), for the duplicate-alias check.
    planned_team_aliases: Arc<Mutex<HashMap<String, usize>>>,
}

/// Keys the proxy itself keeps in a key's or team's `metadata`: the request fields it stores
/// there (`LiteLLM_ManagementEndpoint_MetadataFields` and `..._Premium`, litellm/proxy/_types.py
/// of 1.106.2) and its own bookkeeping (`team_member_budget_id`, `service_account_id`). They are
/// not the user's free-form metadata: reads leave them out of `metadata` (unless the
/// configuration sets them) and updates send them back unchanged, so nothing set through the
/// proxy's own fields is lost or shown as drift.
pub const PROXY_METADATA_KEYS: &[&str] = &[
    "model_rpm_limit",
    "model_tpm_limit",
    "model_itpm_limit",
    "model_otpm_limit",
    "default_estimated_output_tokens",
    "default_estimated_output_tokens_per_model",
    "mcp_rpm_limit",
    "tag_rpm_limit",
    "rpm_limit_type",
    "tpm_limit_type",
    "enforced_params",
    "temp_budget_increase",
    "temp_budget_expiry",
    "allowed_vector_store_indexes",
    "enforced_batch_output_expires_after",
    "enforced_file_expires_after",
    "throttle_on_budget_exceeded",
    "enable_prompt_caching",
    "end_user_budget_id",
    "disable_global_guardrails",
    "guardrails",
    "policies",
    "tags",
    "team_member_key_duration",
    "prompts",
    "logging",
    "secret_manager_settings",
    "allowed_passthrough_routes",
    "denied_passthrough_routes",
    "team_member_budget_id",
    "service_account_id",
];

/// The API row with `metadata` reduced to what the user manages: proxy-kept keys are dropped
/// unless `known` (the metadata in state or configuration) has them.
pub fn user_metadata_view(row: &Json, known: &crate::protocol::value::Value) -> Json {
    let mut row = row.clone();
    let keep = known.string_entries();
    if let Some(meta) = row.get_mut("metadata").and_then(Json::as_object_mut) {
        meta.retain(|k, _| !PROXY_METADATA_KEYS.contains(&k.as_str()) || keep.contains_key(k));
    }
    row
}

/// The metadata to send for `user` (the planned map): the user's entries over the proxy-kept
/// entries of `server_row`, which `/key/update` and `/team/update` would otherwise drop (they
/// replace `metadata` wholesale).
pub fn metadata_to_send(user: &Json, server_row: Option<&Json>) -> Json {
    let mut out: Map<String, Json> = server_row
        .and_then(|r| r.get("metadata"))
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| PROXY_METADATA_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(u) = user.as_object() {
        out.extend(u.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Json::Object(out)
}

/// Removes what a LiteLLM error may echo of the credential that was sent: the
/// `Key Hash (Token) =<sha256>` and `Received API Key = sk-...` parts of the proxy's
/// invalid-token message (user_api_key_auth.py). The hash of the master key is as good as
/// the key for a dictionary attack, so it never reaches a diagnostic or a log.
fn scrub(e: ApiError) -> ApiError {
    fn clean(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        type Stop = fn(char) -> bool;
        let markers: [(&str, Stop); 2] = [
            ("Received API Key = ", |c| c == ',' || c.is_whitespace()),
            ("Key Hash (Token) =", |c| !c.is_ascii_hexdigit()),
        ];
        for (marker, stop) in markers {
            if let Some(i) = rest.find(marker) {
                out.push_str(&rest[..i + marker.len()]);
                let after = &rest[i + marker.len()..];
                let end = after.find(stop).unwrap_or(after.len());
                out.push_str("[redacted]");
                rest = &after[end..];
            }
        }
        out.push_str(rest);
        out
    }
    match e {
        ApiError::Status {
            service,
            method,
            path,
            status,
            message,
            mut body,
        } => {
            if let Some(m) = body.pointer_mut("/error/message") {
                if let Some(text) = m.as_str() {
                    *m = Json::String(clean(text));
                }
            }
            ApiError::Status {
                service,
                method,
                path,
                status,
                message: clean(&message),
                body,
            }
        }
        other => other,
    }
}

/// LiteLLM stores keys as the lowercase hex SHA-256 of the key (the "token").
pub fn token_of(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The token for a key or a token given by a user (`sk-...` is hashed).
pub fn normalize_token(key_or_token: &str) -> String {
    if key_or_token.starts_with("sk-") {
        token_of(key_or_token)
    } else {
        key_or_token.to_string()
    }
}

impl Client {
    pub fn new(c: &ServiceConfig, stop: StopToken) -> anyhow::Result<Client> {
        let api = ApiClient::new(
            "litellm",
            &c.url,
            &[("Authorization", format!("Bearer {}", c.secret))],
            &c.tls,
            stop,
        )?;
        Ok(Client {
            api,
            keys: ListSnapshot::new(),
            planned_team_aliases: Default::default(),
        })
    }

    /// Counts a team planned with `alias` in this run; the number planned before it.
    pub fn plan_team_alias(&self, alias: &str) -> usize {
        let mut m = self
            .planned_team_aliases
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let n = m.entry(alias.to_string()).or_insert(0);
        *n += 1;
        *n - 1
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
        idempotent: bool,
    ) -> Result<Json, ApiError> {
        self.api
            .call(method, path, query, body, idempotent)
            .await
            .map_err(scrub)
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Json, ApiError> {
        self.api.get(path, query).await.map_err(scrub)
    }

    /// POST /team/member_add of `user_id` as a plain member; a user already in the team is
    /// not an error.
    pub async fn add_team_member(&self, team_id: &str, user_id: &str) -> Result<(), ApiError> {
        let body = json!({"team_id": team_id, "member": {"role": "user", "user_id": user_id}});
        match self
            .call(Method::POST, "/team/member_add", &[], Some(&body), true)
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.body()
                    .and_then(|b| b.pointer("/error/type"))
                    .and_then(Json::as_str)
                    == Some("team_member_already_in_team") =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// POST /key/generate. Not retried blindly: see the key resource.
    pub async fn generate(&self, body: &Json) -> Result<Json, ApiError> {
        let r = self
            .call(Method::POST, "/key/generate", &[], Some(body), false)
            .await;
        self.keys.invalidate();
        r
    }

    /// GET /key/info; `None` when the key does not exist.
    pub async fn key_info(&self, key_or_token: &str) -> Result<Option<Json>, ApiError> {
        match self
            .get("/key/info", &[("key", key_or_token.to_string())])
            .await
        {
            Ok(j) => Ok(Some(j.get("info").cloned().unwrap_or(j))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A live key's row for a refresh: from the `/key/list` snapshot when the key is there
    /// with every field in `fields`, else from `/key/info` (see [`crate::snapshot`]).
    /// `None` when the key does not exist or is deleted.
    pub async fn key_row_batched(
        &self,
        token: &str,
        fields: &[&str],
    ) -> Result<Option<Arc<Json>>, ApiError> {
        let listed = self.keys.row(token, || self.list_all_keys()).await;
        if let Some(row) = listed.filter(|r| snapshot::has_fields(r, fields.iter().copied())) {
            return Ok(Some(row));
        }
        Ok(self
            .key_info(token)
            .await?
            .filter(|r| r.get("status").and_then(Json::as_str) != Some("deleted"))
            .map(Arc::new))
    }

    /// Every live key as a full object, by token (`/key/list?return_full_object=true`, all
    /// pages of 100, LiteLLM's maximum page size).
    async fn list_all_keys(&self) -> Result<snapshot::Rows, ApiError> {
        let rows = snapshot::all_pages(
            |page| async move {
                let mut j = self
                    .api
                    .get(
                        "/key/list",
                        &[
                            ("return_full_object", "true".into()),
                            ("size", "100".into()),
                            ("page", page.to_string()),
                        ],
                    )
                    .await?;
                let total_pages = j.get("total_pages").and_then(Json::as_u64).unwrap_or(0);
                let keys = match j.get_mut("keys").map(Json::take) {
                    Some(Json::Array(keys)) => keys,
                    _ => Vec::new(),
                };
                Ok((keys, u64::from(page) < total_pages))
            },
            100_000,
        )
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.get("token")?.as_str()?.to_string(), r)))
            .collect())
    }

    /// POST /key/update (merge-patch: only the fields in `body` change).
    pub async fn update_key(&self, body: &Json) -> Result<Json, ApiError> {
        let r = self
            .call(Method::POST, "/key/update", &[], Some(body), true)
            .await;
        self.keys.invalidate();
        r
    }

    /// POST /key/delete; a key already gone is not an error.
    pub async fn delete_key(&self, token: &str) -> Result<(), ApiError> {
        let r = self.delete_key_once(token).await;
        self.keys.invalidate();
        r
    }

    async fn delete_key_once(&self, token: &str) -> Result<(), ApiError> {
        match self
            .call(
                Method::POST,
                "/key/delete",
                &[],
                Some(&json!({"keys": [token]})),
                true,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Keys with this alias (tokens), via /key/list.
    pub async fn keys_with_alias(&self, alias: &str) -> Result<Vec<String>, ApiError> {
        let j = self
            .get(
                "/key/list",
                &[("key_alias", alias.to_string()), ("size", "100".into())],
            )
            .await?;
        Ok(j.get("keys")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|k| {
                        k.as_str()
                            .map(str::to_string)
                            .or_else(|| k.get("token").and_then(Json::as_str).map(str::to_string))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// POST /team/new.
    pub async fn new_team(&self, body: &Json) -> Result<Json, ApiError> {
        self.call(Method::POST, "/team/new", &[], Some(body), false)
            .await
    }

    /// Teams whose alias is `alias` (GET /team/list; LiteLLM does not keep aliases unique).
    pub async fn teams_with_alias(&self, alias: &str) -> Result<Vec<Json>, ApiError> {
        let j = self.api.get("/team/list", &[]).await?;
        let rows = j.as_array().cloned().unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|t| t.get("team_alias").and_then(Json::as_str) == Some(alias))
            .collect())
    }

    /// GET /team/info; `None` when the team does not exist.
    pub async fn team_info(&self, team_id: &str) -> Result<Option<Json>, ApiError> {
        match self
            .get("/team/info", &[("team_id", team_id.to_string())])
            .await
        {
            Ok(j) => Ok(Some(j.get("team_info").cloned().unwrap_or(j))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// POST /team/permissions_update (`team_id`, `team_member_permissions`).
    pub async fn update_team_permissions(&self, body: &Json) -> Result<Json, ApiError> {
        self.call(
            Method::POST,
            "/team/permissions_update",
            &[],
            Some(body),
            true,
        )
        .await
    }

    pub async fn update_team(&self, body: &Json) -> Result<Json, ApiError> {
        self.call(Method::POST, "/team/update", &[], Some(body), true)
            .await
    }

    pub async fn delete_team(&self, team_id: &str) -> Result<(), ApiError> {
        match self
            .call(
                Method::POST,
                "/team/delete",
                &[],
                Some(&json!({"team_ids": [team_id]})),
                true,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrong_key_errors_lose_the_key_hash() {
        let hash = super::token_of("sk-wrong");
        let msg = format!("Authentication Error, Invalid proxy server token passed. Received API Key = sk-...rong, Key Hash (Token) ={hash}. Unable to find token in cache or `LiteLLM_VerificationTokenTable`");
        let e = super::ApiError::Status {
            service: "litellm",
            method: reqwest::Method::GET,
            path: "/key/info".into(),
            status: 401,
            message: msg.clone(),
            body: serde_json::json!({"error": {"message": msg}}),
        };
        let e = super::scrub(e);
        let text = e.to_string();
        assert!(!text.contains(&hash), "{text}");
        assert!(!text.contains("rong"), "{text}");
        assert!(text.contains("Invalid proxy server token passed"), "{text}");
        assert!(text.contains("Unable to find token"), "{text}");
        assert!(!e.body().unwrap().to_string().contains(&hash));
    }

    #[test]
    fn proxy_kept_metadata_is_hidden_and_preserved() {
        use crate::protocol::value::Value;
        let row = serde_json::json!({"metadata": {"owner": "ann", "model_rpm_limit": {"m": 5}, "tags": ["x"]}});
        let known = Value::string_map([("tags", "[\"x\"]")]);
        let view = super::user_metadata_view(&row, &known);
        assert_eq!(
            view["metadata"],
            serde_json::json!({"owner": "ann", "tags": ["x"]})
        );
        let sent = super::metadata_to_send(&serde_json::json!({"owner": "bob"}), Some(&row));
        assert_eq!(
            sent,
            serde_json::json!({"owner": "bob", "model_rpm_limit": {"m": 5}, "tags": ["x"]})
        );
    }

    #[test]
    fn token_is_sha256_hex() {
        assert_eq!(
            super::token_of("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(super::normalize_token("abc"), "abc");
        assert_eq!(super::normalize_token("sk-x"), super::token_of("sk-x"));
    }
}
