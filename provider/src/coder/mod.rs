//! Coder (API v2): templates pushed from a directory (like `coder templates push`), users with
//! site roles and login type, groups, and organizations.

pub mod group;
pub mod organization;
pub mod template;
pub mod user;

use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value as Json};

use crate::framework::{DataSource, Resource, StopToken};
use crate::http::{ApiClient, ApiError, Body};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::Block;
use crate::protocol::value::Value;
use crate::provider::{connect, Clients, ServiceConfig, ServiceSpec, Slot};

/// The provider block and its environment variables.
pub const SPEC: ServiceSpec = ServiceSpec {
    block: "coder",
    url_env: &["CODER_URL"],
    secret_attr: "token",
    secret_env: &["CODER_SESSION_TOKEN"],
};

/// The `coder` block of the provider configuration.
pub fn block() -> Block {
    SPEC.block("Session token of an owner (`coder tokens create`). The seeds serve Coder with a self-signed certificate on :7443: set `ca_file` (or, for throw-away setups, `insecure`).")
}

/// Builds the client from the block and the environment.
pub fn configure(config: &Value, stop: &StopToken, diags: &mut Diagnostics) -> Slot<Client> {
    connect(&SPEC, config, diags, |c| Client::new(c, stop.clone()))
}

/// The resources of this service.
pub fn resources() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![
        Arc::new(template::TemplateResource),
        Arc::new(user::UserResource),
        Arc::new(group::GroupResource),
    ]
}

/// The data sources of this service.
pub fn data_sources() -> Vec<Arc<dyn DataSource<Clients>>> {
    vec![Arc::new(organization::OrganizationDataSource)]
}

/// The API client.
#[derive(Clone, Debug)]
pub struct Client {
    api: ApiClient,
}

fn found(r: Result<Json, ApiError>) -> Result<Option<Json>, ApiError> {
    match r {
        Ok(j) => Ok(Some(j)),
        Err(e) if e.is_not_found() => Ok(None),
        // Coder answers 400 for a user that does not exist.
        Err(e) if e.status() == Some(400) && e.to_string().contains("must be an existing") => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

impl Client {
    pub fn new(c: &ServiceConfig, stop: StopToken) -> anyhow::Result<Client> {
        let api = ApiClient::new(
            "coder",
            &c.url,
            &[("Coder-Session-Token", c.secret.clone())],
            &c.tls,
            stop,
        )?;
        Ok(Client { api })
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    pub async fn get(&self, path: &str) -> Result<Option<Json>, ApiError> {
        found(self.api.get(&format!("/api/v2{path}"), &[]).await)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: &Json,
        idempotent: bool,
    ) -> Result<Json, ApiError> {
        self.api
            .call(
                method,
                &format!("/api/v2{path}"),
                &[],
                Some(body),
                idempotent,
            )
            .await
    }

    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        match self
            .api
            .call(Method::DELETE, &format!("/api/v2{path}"), &[], None, true)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() || is_unknown_user(path, &e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Uploads a tar archive; returns the file id.
    pub async fn upload(&self, tar: Vec<u8>) -> Result<String, ApiError> {
        let res = self
            .api
            .call_raw(
                Method::POST,
                "/api/v2/files",
                &[],
                Some(Body::Bytes {
                    content_type: "application/x-tar",
                    data: tar.into(),
                }),
                true,
            )
            .await?;
        Ok(res["hash"].as_str().unwrap_or_default().to_string())
    }

    /// The organization by name or id (`default` = the default organization).
    pub async fn organization(&self, key: &str) -> Result<Option<Json>, ApiError> {
        if key == "default" {
            let all = self.api.get("/api/v2/organizations", &[]).await?;
            return Ok(all
                .as_array()
                .and_then(|a| a.iter().find(|o| o["is_default"] == true).cloned()));
        }
        self.get(&format!("/organizations/{key}")).await
    }
}

/// A diagnostic for a failed call; Coder's `validations` name the attribute.
pub(crate) fn api_error(what: &str, action: &str, attrs: &[&str], e: ApiError) -> Diagnostics {
    let summary = format!("Could not {action} the Coder {what}");
    let field = e
        .body()
        .and_then(|b| b["validations"].as_array())
        .and_then(|v| v.first())
        .and_then(|v| v["field"].as_str())
        .filter(|f| attrs.contains(f));
    let mut detail = e.to_string();
    if let Some(v) = e.body().and_then(|b| b["validations"].as_array()) {
        for x in v {
            detail.push_str(&format!(
                "\n{}: {}",
                x["field"].as_str().unwrap_or("?"),
                x["detail"].as_str().unwrap_or("")
            ));
        }
    }
    if let Some(d) = e
        .body()
        .and_then(|b| b["detail"].as_str())
        .filter(|d| !d.is_empty())
    {
        detail.push_str(&format!("\n{d}"));
    }
    match field {
        Some(f) => Diagnostics::attr_error(AttrPath::root(f), summary, detail),
        None => Diagnostics::error(summary, detail),
    }
}

/// `{"id": ...}` for a JSON body.
pub(crate) fn id_body(id: &str) -> Json {
    json!({ "id": id })
}

/// Coder answers 400 "User ... must be an existing uuid or username." for a user that does not
/// exist (coder/coder `coderd/httpmw/userparam.go`), e.g. when a DELETE is retried after the
/// first one committed and its answer was lost: the user is gone.
fn is_unknown_user(path: &str, e: &ApiError) -> bool {
    path.starts_with("/users/")
        && e.status() == Some(400)
        && e.to_string()
            .contains("must be an existing uuid or username")
}
