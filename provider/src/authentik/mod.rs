//! Authentik (API v3): users, groups (the platform's RBAC groups), OAuth2 scope mappings,
//! OAuth2 providers and applications (SSO for Coder, Gitea, MinIO), and flows by slug.

pub mod application;
pub mod flow;
pub mod group;
pub mod group_members;
pub mod names;
pub mod oauth2_provider;
pub mod scope_mapping;
pub mod user;

use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value as Json};

use crate::framework::{DataSource, Resource, StopToken};
use crate::http::{ApiClient, ApiError, CreateTarget, Ownership};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Block, Validator};
use crate::protocol::value::Value;
use crate::provider::{connect, Clients, ServiceConfig, ServiceSpec, Slot};

/// The provider block and its environment variables.
pub const SPEC: ServiceSpec = ServiceSpec {
    block: "authentik",
    url_env: &["AUTHENTIK_URL"],
    secret_attr: "token",
    secret_env: &["AUTHENTIK_TOKEN"],
    secret_alias: None,
};

/// The `authentik` block of the provider configuration.
pub fn block() -> Block {
    SPEC.block("API token of an administrator (Directory > Tokens, intent API).")
}

/// Builds the client from the block and the environment.
pub fn configure(config: &Value, stop: &StopToken, diags: &mut Diagnostics) -> Slot<Client> {
    connect(&SPEC, config, diags, |c| Client::new(c, stop.clone()))
}

/// The resources of this service.
pub fn resources() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![
        Arc::new(user::UserResource),
        Arc::new(group::GroupResource),
        Arc::new(scope_mapping::ScopeMappingResource),
        Arc::new(oauth2_provider::OAuth2ProviderResource),
        Arc::new(application::ApplicationResource),
    ]
}

/// The data sources of this service.
pub fn data_sources() -> Vec<Arc<dyn DataSource<Clients>>> {
    vec![
        Arc::new(flow::FlowDataSource),
        Arc::new(group_members::GroupMembersDataSource),
    ]
}

/// The API client.
#[derive(Clone, Debug)]
pub struct Client {
    api: ApiClient,
    /// `/core/users/` snapshot for batched refresh of users; invalidated by every write
    /// through this client (group and application writes change users' `groups` too).
    users: crate::snapshot::ListSnapshot,
}

/// Collection paths.
pub const USERS: &str = "/api/v3/core/users/";
pub const GROUPS: &str = "/api/v3/core/groups/";
pub const SCOPE_MAPPINGS: &str = "/api/v3/propertymappings/provider/scope/";
pub const OAUTH2_PROVIDERS: &str = "/api/v3/providers/oauth2/";
pub const APPLICATIONS: &str = "/api/v3/core/applications/";
pub const FLOWS: &str = "/api/v3/flows/instances/";

impl Client {
    pub fn new(c: &ServiceConfig, stop: StopToken) -> anyhow::Result<Client> {
        let api = ApiClient::new(
            "authentik",
            &c.url,
            &[("Authorization", format!("Bearer {}", c.secret))],
            &c.tls,
            stop,
        )?;
        Ok(Client {
            api,
            users: Default::default(),
        })
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// Every row of a collection matching `query` (all pages).
    pub async fn list(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<Json>, ApiError> {
        let mut out = Vec::new();
        for page in 1..=1000 {
            let mut q: Vec<(&str, String)> = query.to_vec();
            q.push(("page", page.to_string()));
            q.push(("page_size", "100".into()));
            let mut got = self.api.get(path, &q).await?;
            if let Some(Json::Array(rows)) = got.get_mut("results").map(Json::take) {
                out.extend(rows);
            }
            if got
                .pointer("/pagination/next")
                .and_then(Json::as_i64)
                .unwrap_or(0)
                == 0
            {
                break;
            }
        }
        Ok(out)
    }

    /// The row whose `field` equals `value`, if any.
    pub async fn find(
        &self,
        path: &str,
        field: &str,
        value: &str,
    ) -> Result<Option<Json>, ApiError> {
        let rows = self.list(path, &[(field, value.to_string())]).await?;
        Ok(rows
            .into_iter()
            .find(|r| r.get(field).and_then(Json::as_str) == Some(value)))
    }

    /// GET `path{key}/`; `None` for 404.
    pub async fn get(&self, path: &str, key: &str) -> Result<Option<Json>, ApiError> {
        match self.api.get(&format!("{path}{key}/"), &[]).await {
            Ok(j) => Ok(Some(j)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A user for a refresh: from the `/core/users/` snapshot when listed with every field in
    /// `fields`, else `GET /core/users/{pk}/` (see [`crate::snapshot`]).
    pub async fn user_batched(
        &self,
        pk: i64,
        fields: &[&str],
    ) -> Result<Option<std::sync::Arc<Json>>, ApiError> {
        let listed = self
            .users
            .row(&pk.to_string(), || async {
                Ok(self
                    .list(USERS, &[])
                    .await?
                    .into_iter()
                    .filter_map(|u| Some((u.get("pk")?.as_i64()?.to_string(), u)))
                    .collect())
            })
            .await;
        match listed.filter(|u| crate::snapshot::has_fields(u, fields.iter().copied())) {
            Some(u) => Ok(Some(u)),
            None => Ok(self
                .get(USERS, &pk.to_string())
                .await?
                .map(std::sync::Arc::new)),
        }
    }

    pub async fn create(&self, path: &str, body: &Json) -> Result<Json, ApiError> {
        let r = self
            .api
            .call(Method::POST, path, &[], Some(body), false)
            .await;
        self.users.invalidate();
        r
    }

    pub async fn patch(&self, path: &str, key: &str, body: &Json) -> Result<Json, ApiError> {
        let r = self
            .api
            .call(
                Method::PATCH,
                &format!("{path}{key}/"),
                &[],
                Some(body),
                true,
            )
            .await;
        self.users.invalidate();
        r
    }

    /// DELETE; a row already gone is not an error.
    pub async fn delete(&self, path: &str, key: &str) -> Result<(), ApiError> {
        let r = self
            .api
            .call(Method::DELETE, &format!("{path}{key}/"), &[], None, true)
            .await;
        self.users.invalidate();
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn set_password(&self, user_pk: i64, password: &str) -> Result<(), ApiError> {
        self.users.invalidate();
        self.api
            .call(
                Method::POST,
                &format!("{USERS}{user_pk}/set_password/"),
                &[],
                Some(&json!({ "password": password })),
                true,
            )
            .await
            .map(|_| ())
    }
}

/// Key in a user's or group's `attributes` holding the id of the create that made it: the
/// ownership marker checked after a create whose outcome is unknown. Hidden from state.
pub(crate) const CREATE_MARKER: &str = "webide.create_id";

/// Creates a row without duplicating or orphaning it ([`crate::http::create_once`]). Users
/// and groups carry [`CREATE_MARKER`] in their `attributes`, OAuth2 providers a client secret
/// generated here, so a row found by its natural key is adopted only when it is this
/// create's; applications and scope mappings store no such field, so a row found under their
/// key is never adopted and the error names its import command.
pub(crate) async fn create_or_adopt(
    c: &Client,
    path: &str,
    body: &Json,
    natural_key: &str,
) -> Result<Json, ApiError> {
    let value = body[natural_key].as_str().unwrap_or_default().to_string();
    let marker = hex::encode(rand::random::<[u8; 16]>());
    let mut body = body.clone();
    let marked = [USERS, GROUPS].contains(&path);
    // An OAuth2 provider's client secret, when not given, is generated here rather than by
    // Authentik (the API takes it, up to 255 characters): the row holding it is ours.
    let secret = (path == OAUTH2_PROVIDERS && body.get("client_secret").is_none_or(Json::is_null))
        .then(|| {
            hex::encode(rand::random::<[u8; 32]>()) + &hex::encode(rand::random::<[u8; 32]>())
        });
    if let Some(s) = &secret {
        body["client_secret"] = Json::String(s.clone());
    }
    if marked {
        match body.get_mut("attributes").and_then(Json::as_object_mut) {
            Some(a) => {
                a.insert(CREATE_MARKER.into(), Json::String(marker.clone()));
            }
            None => body["attributes"] = json!({ CREATE_MARKER: marker }),
        }
    }
    let type_name = match path {
        USERS => "webide_authentik_user",
        GROUPS => "webide_authentik_group",
        APPLICATIONS => "webide_authentik_application",
        OAUTH2_PROVIDERS => "webide_authentik_oauth2_provider",
        SCOPE_MAPPINGS => "webide_authentik_scope_mapping",
        _ => "authentik object",
    };
    let target = CreateTarget::new("authentik", type_name, format!("{natural_key} {value:?}"));
    crate::http::create_once(
        target,
        || c.create(path, &body),
        || c.find(path, natural_key, &value),
        |row, _| {
            let mark = row.pointer(&format!("/attributes/{CREATE_MARKER}"));
            let own_secret = secret.is_some()
                && row.get("client_secret").and_then(Json::as_str) == secret.as_deref();
            if own_secret || (marked && mark.and_then(Json::as_str) == Some(marker.as_str())) {
                Ownership::Ours
            } else {
                Ownership::Foreign {
                    import_id: value.clone(),
                }
            }
        },
    )
    .await
}

/// A diagnostic for a failed call; a 400 naming a field points at the matching attribute
/// (`fields` maps API field -> attribute).
pub(crate) fn api_error(
    what: &str,
    action: &str,
    fields: &[(&str, &str)],
    e: ApiError,
) -> Diagnostics {
    let summary = format!("Could not {action} the Authentik {what}");
    let attr = e
        .body()
        .and_then(Json::as_object)
        .and_then(|o| fields.iter().find(|(api, _)| o.contains_key(*api)))
        .map(|(_, attr)| *attr);
    match attr {
        Some(a) => Diagnostics::attr_error(AttrPath::root(a), summary, e.to_string()),
        None => Diagnostics::error(summary, e.to_string()),
    }
}

/// A JSON-object-valued attribute given as a string (`jsonencode({...})`).
pub struct JsonObject;

impl Validator for JsonObject {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str() {
            if !matches!(serde_json::from_str::<Json>(s), Ok(Json::Object(_))) {
                diags.push_attr_error(
                    path.clone(),
                    format!("Invalid value for {path}"),
                    "must be a JSON object, e.g. jsonencode({ team = \"platform\" })",
                );
            }
        }
    }
    fn description(&self) -> String {
        "a JSON object (use `jsonencode`)".into()
    }
}

/// The state's JSON text when it means the same as `api` (no diff for key order or
/// whitespace), else `api` as compact JSON.
pub(crate) fn json_attr(state: &Value, api: Option<&Json>) -> Value {
    let mut api = api.cloned().unwrap_or(json!({}));
    if let Some(o) = api.as_object_mut() {
        o.remove(CREATE_MARKER);
    }
    if let Some(s) = state.as_str() {
        if serde_json::from_str::<Json>(s).ok().as_ref() == Some(&api) {
            return Value::string(s);
        }
    }
    Value::string(api.to_string())
}

/// JSON for a JSON-text attribute (`{}` when null or invalid).
pub(crate) fn parse_json_attr(v: &Value) -> Json {
    v.as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(json!({}))
}

/// Strings of a JSON array.
pub(crate) fn strings(j: Option<&Json>) -> Vec<String> {
    j.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}
