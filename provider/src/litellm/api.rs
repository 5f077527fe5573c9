//! LiteLLM request and answer shapes, named as in the proxy's OpenAPI document
//! (`components.schemas` of /work/shared/specs/litellm-openapi-1.106.2.json). Answers carry
//! only what the provider reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// The fields of `NewTeamRequest` and `UpdateTeamRequest` the provider manages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamFields {
    pub team_alias: String,
    pub models: Vec<String>,
    pub max_budget: Option<serde_json::Number>,
    pub budget_duration: Option<String>,
    pub tpm_limit: Option<i64>,
    pub rpm_limit: Option<i64>,
    pub max_parallel_requests: Option<i64>,
    pub metadata: BTreeMap<String, String>,
    pub blocked: bool,
}

/// `POST /team/new`: the provider chooses `team_id`.
#[derive(Debug, Clone, Serialize)]
pub struct NewTeamRequest {
    pub team_id: String,
    #[serde(flatten)]
    pub fields: TeamFields,
    pub team_member_permissions: Vec<String>,
}

/// `POST /team/permissions_update`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateTeamMemberPermissionsRequest {
    pub team_member_permissions: Vec<String>,
}

/// A team row (`LiteLLM_TeamTable`, what `/team/info` answers in `team_info`).
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(non_camel_case_types)]
pub struct LiteLLM_TeamTable {
    pub team_id: Option<String>,
    pub team_alias: Option<String>,
    pub models: Option<Vec<Json>>,
    pub max_budget: Option<serde_json::Number>,
    pub budget_duration: Option<String>,
    pub tpm_limit: Option<serde_json::Number>,
    pub rpm_limit: Option<serde_json::Number>,
    pub max_parallel_requests: Option<serde_json::Number>,
    pub metadata: Option<Map<String, Json>>,
    pub blocked: Option<bool>,
    pub team_member_permissions: Option<Vec<Json>>,
}

/// A JSON value as a string attribute: strings as they are, anything else as its JSON text.
pub fn text(j: &Json) -> String {
    match j {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A list the API may leave null, as strings (null = empty).
pub fn texts(a: &Option<Vec<Json>>) -> Vec<String> {
    a.iter().flatten().map(text).collect()
}

/// A whole number of an answer (LiteLLM may write `100.0`).
pub fn whole(n: &Option<serde_json::Number>) -> Option<i64> {
    n.as_ref()
        .and_then(|n| n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)))
}

/// The user's view of an answer's metadata (see [`super::PROXY_METADATA_KEYS`]): proxy-kept
/// entries only when `known` (state or plan) has them; non-string values as JSON text.
pub fn user_metadata(
    meta: &Option<Map<String, Json>>,
    known: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    meta.iter()
        .flatten()
        .filter(|(k, _)| {
            !super::PROXY_METADATA_KEYS.contains(&k.as_str()) || known.contains_key(*k)
        })
        .map(|(k, v)| (k.clone(), text(v)))
        .collect()
}

/// The fields of `GenerateKeyRequest` and `UpdateKeyRequest` the provider manages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyFields {
    pub key_alias: Option<String>,
    pub models: Vec<String>,
    pub max_budget: Option<serde_json::Number>,
    pub budget_duration: Option<String>,
    pub tpm_limit: Option<i64>,
    pub rpm_limit: Option<i64>,
    pub max_parallel_requests: Option<i64>,
    pub metadata: BTreeMap<String, String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub blocked: bool,
    pub allowed_routes: Option<Vec<String>>,
    pub key_type: Option<String>,
    pub duration: Option<String>,
}

/// `POST /key/generate` with the secret the provider made.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateKeyRequest {
    pub key: String,
    #[serde(flatten)]
    pub fields: KeyFields,
}

/// A key row (`LiteLLM_VerificationToken`, what `/key/info` answers in `info`).
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(non_camel_case_types)]
pub struct LiteLLM_VerificationToken {
    pub key_alias: Option<String>,
    pub key_name: Option<String>,
    pub models: Option<Vec<Json>>,
    pub max_budget: Option<serde_json::Number>,
    pub budget_duration: Option<String>,
    pub tpm_limit: Option<serde_json::Number>,
    pub rpm_limit: Option<serde_json::Number>,
    pub max_parallel_requests: Option<serde_json::Number>,
    pub metadata: Option<Map<String, Json>>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub blocked: Option<bool>,
    pub allowed_routes: Option<Vec<Json>>,
    pub key_type: Option<String>,
    pub expires: Option<String>,
    pub spend: Option<serde_json::Number>,
}
