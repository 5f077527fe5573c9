//! LiteLLM proxy: virtual keys and teams through its management API
//! (`/key/*`, `/team/*`), authenticated with the master key.

pub mod key;
pub mod key_data;
pub mod model;
pub mod team;

use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value as Json};
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
        })
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// POST /key/generate. Not retried blindly: see the key resource.
    pub async fn generate(&self, body: &Json) -> Result<Json, ApiError> {
        let r = self
            .api
            .call(Method::POST, "/key/generate", &[], Some(body), false)
            .await;
        self.keys.invalidate();
        r
    }

    /// GET /key/info; `None` when the key does not exist.
    pub async fn key_info(&self, key_or_token: &str) -> Result<Option<Json>, ApiError> {
        match self
            .api
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
            .api
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
            .api
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
            .api
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
        self.api
            .call(Method::POST, "/team/new", &[], Some(body), false)
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
            .api
            .get("/team/info", &[("team_id", team_id.to_string())])
            .await
        {
            Ok(j) => Ok(Some(j.get("team_info").cloned().unwrap_or(j))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn update_team(&self, body: &Json) -> Result<Json, ApiError> {
        self.api
            .call(Method::POST, "/team/update", &[], Some(body), true)
            .await
    }

    pub async fn delete_team(&self, team_id: &str) -> Result<(), ApiError> {
        match self
            .api
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
    fn token_is_sha256_hex() {
        assert_eq!(
            super::token_of("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(super::normalize_token("abc"), "abc");
        assert_eq!(super::normalize_token("sk-x"), super::token_of("sk-x"));
    }
}
