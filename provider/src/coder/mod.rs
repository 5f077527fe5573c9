//! Coder (API v2): templates pushed from a directory (like `coder templates push`), users with
//! site roles and login type, groups, and organizations.

pub mod api;
pub mod first_user;
pub mod group;
pub mod names;
pub mod organization;
pub mod role_sync;
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
    secret_alias: None,
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
        Arc::new(first_user::FirstUserResource),
        Arc::new(role_sync::RoleSyncResource),
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
    /// `/users` snapshot for batched refresh of users; invalidated by every write through
    /// this client (group writes do not change user rows, but a blanket rule cannot miss).
    users: crate::snapshot::ListSnapshot,
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
        Ok(Client {
            api,
            users: Default::default(),
        })
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    pub async fn get(&self, path: &str) -> Result<Option<Json>, ApiError> {
        found(self.api.get(&format!("/api/v2{path}"), &[]).await)
    }

    /// A user for a refresh: from the `/users` snapshot (pages of 100) when listed with every
    /// field in `fields`, else `GET /users/{id}` (see [`crate::snapshot`]).
    pub async fn user_batched(
        &self,
        id: &str,
        fields: &[&str],
    ) -> Result<Option<std::sync::Arc<Json>>, ApiError> {
        const PAGE: usize = 100;
        let listed = self
            .users
            .row(id, || async {
                let rows = crate::snapshot::all_pages(
                    |page| async move {
                        let offset = (page as usize - 1) * PAGE;
                        let mut j = self
                            .api
                            .get(
                                "/api/v2/users",
                                &[("limit", PAGE.to_string()), ("offset", offset.to_string())],
                            )
                            .await?;
                        let users = match j.get_mut("users").map(Json::take) {
                            Some(Json::Array(users)) => users,
                            _ => Vec::new(),
                        };
                        let more = users.len() == PAGE;
                        Ok((users, more))
                    },
                    10_000,
                )
                .await?;
                Ok(rows
                    .into_iter()
                    .filter_map(|u| Some((u.get("id")?.as_str()?.to_string(), u)))
                    .collect())
            })
            .await;
        match listed.filter(|u| crate::snapshot::has_fields(u, fields.iter().copied())) {
            Some(u) => Ok(Some(u)),
            None => Ok(self
                .get(&format!("/users/{id}"))
                .await?
                .map(std::sync::Arc::new)),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: &Json,
        idempotent: bool,
    ) -> Result<Json, ApiError> {
        let r = self
            .api
            .call(
                method,
                &format!("/api/v2{path}"),
                &[],
                Some(body),
                idempotent,
            )
            .await;
        self.users.invalidate();
        r
    }

    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        let r = self
            .api
            .call(Method::DELETE, &format!("/api/v2{path}"), &[], None, true)
            .await;
        self.users.invalidate();
        match r {
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
                    data: tar,
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

/// Whether the organizations `a` and `b` (each a name, an id or `default`) are the same one:
/// the default organization and its real name compare equal, so an import by real name
/// round-trips with a configuration that leaves `organization` at `default`.
pub(crate) async fn same_organization(c: &Client, a: &str, b: &str) -> Result<bool, ApiError> {
    if a == b {
        return Ok(true);
    }
    let (x, y) = (c.organization(a).await?, c.organization(b).await?);
    Ok(matches!((x, y), (Some(x), Some(y)) if x["id"] == y["id"]))
}

/// The form of an organization key stored in state: `default` for the default organization
/// (what an unset `organization` plans), else the key as given.
pub(crate) async fn canonical_organization(c: &Client, key: &str) -> Result<String, ApiError> {
    let o = c.organization(key).await?;
    Ok(match o {
        Some(o) if o["is_default"] == true => "default".into(),
        _ => key.into(),
    })
}

/// Treats two names of the same organization (`default` and its real name) as equal: the plan
/// keeps the prior value, which Terraform accepts for a configured attribute as "functionally
/// equivalent" (plans/objchange `assertPlannedValueValid`), so no diff and no replacement.
pub(crate) async fn plan_same_organization(
    data: Option<&Clients>,
    ctx: &mut crate::framework::PlanContext<'_>,
) -> Result<(), Diagnostics> {
    let (Some(d), false) = (data, ctx.is_create()) else {
        return Ok(());
    };
    let (Some(new), Some(old)) = (
        ctx.planned.get("organization").as_str().map(str::to_string),
        ctx.prior.get("organization").as_str().map(str::to_string),
    ) else {
        return Ok(());
    };
    if new == old {
        return Ok(());
    }
    let Ok(c) = d.coder.get() else { return Ok(()) };
    if same_organization(c, &new, &old).await.unwrap_or(false) {
        let p = AttrPath::root("organization");
        ctx.requires_replace.retain(|x| *x != p);
        ctx.planned.set("organization", Value::string(old));
    }
    Ok(())
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
