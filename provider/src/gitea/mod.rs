//! Gitea (API v1): users with the `restricted` flag and the organizations, teams, repositories
//! and collaborator grants restricted users need. Everything goes through the admin API — never
//! through Gitea's database. What Gitea offers only as a CLI (authentication sources, the first
//! admin) runs inside its container through the Docker exec API ([`cli`]).

pub mod admin_user;
pub mod cli;
pub mod collaborator;
pub mod login_source;
pub mod names;
pub mod org;
pub mod repository;
pub mod team;
pub mod token;
pub mod user;

pub use names::{GiteaName, GiteaRepoName, GiteaTeamName};

use std::sync::Arc;

use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Method;
use serde_json::{json, Value as Json};

use crate::framework::validators::check_http_url;
use crate::framework::{DataSource, Resource, StopToken};
use crate::http::{ApiClient, ApiError, TlsOptions};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block};
use crate::protocol::value::Value;
use crate::provider::{Clients, Slot};

const URL_ENV: &[&str] = &["GITEA_BASE_URL", "GITEA_URL"];

/// The `gitea` block of the provider configuration.
pub fn block() -> Block {
    Block::new("Connection to Gitea (a real server or the sandbox), as a site administrator: a token, or username and password.")
        .attr(Attribute::string("url").optional().describe("Base URL, e.g. `http://localhost:3000` (the API is under `/api/v1`). Env: `GITEA_BASE_URL`, `GITEA_URL`.").validate(crate::framework::validators::HttpUrl))
        .attr(Attribute::string("token").optional().sensitive().describe("Access token of a site administrator (scopes: admin, organization, repository, user — write). Env: `GITEA_TOKEN`."))
        .attr(Attribute::string("username").optional().describe("Site administrator for basic auth, when no token is given. Env: `GITEA_USERNAME`."))
        .attr(Attribute::string("password").optional().sensitive().describe("Password for basic auth. Env: `GITEA_PASSWORD`."))
        .attr(Attribute::string("ca_file").optional().describe("PEM file of extra CA certificates to trust (e.g. for a self-signed certificate). Env: `WEBIDE_CA_FILE`."))
        .attr(crate::http::ca_pem_attribute(true))
        .attr(Attribute::bool("insecure").optional().describe("Skip TLS certificate verification. Only for throw-away test setups."))
}

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

/// Builds the client from the block and the environment.
pub fn configure(config: &Value, stop: &StopToken, diags: &mut Diagnostics) -> Slot<Client> {
    let b = config.get("gitea");
    let names = [
        "url", "token", "username", "password", "ca_file", "ca_pem", "insecure",
    ];
    if b.is_unknown() || names.iter().any(|n| b.get(n).is_unknown()) {
        return Slot::Pending;
    }
    let val = |attr: &str, env: &[&str]| {
        b.get(attr)
            .as_str()
            .map(str::to_string)
            .or_else(|| env_first(env))
    };
    let url = val("url", URL_ENV);
    let token = val("token", &["GITEA_TOKEN"]);
    let basic = val("username", &["GITEA_USERNAME"]).zip(val("password", &["GITEA_PASSWORD"]));
    let basic_auth = token.is_none() && basic.is_some();
    let auth = match (token, basic) {
        (Some(t), _) => format!("token {t}"),
        (None, Some((u, p))) => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        ),
        (None, None) => {
            return Slot::Missing(
                "set `gitea { url = ..., token = ... }` (or username + password) in the provider block, or GITEA_BASE_URL and GITEA_TOKEN".into(),
            )
        }
    };
    let Some(url) = url else {
        return Slot::Missing("set `gitea { url = ... }` or GITEA_BASE_URL".into());
    };
    if let Err(e) = check_http_url(&url) {
        diags.push_attr_error(
            AttrPath::root("gitea").attr("url"),
            "Invalid service URL",
            e,
        );
        return Slot::Missing(format!("invalid gitea url: {url}"));
    }
    let tls = TlsOptions::from_block(&b, true);
    match ApiClient::new(
        "gitea",
        &url,
        &[("Authorization", auth)],
        &tls,
        stop.clone(),
    ) {
        Ok(api) => Slot::Ready(Client {
            api,
            users: Default::default(),
            basic_auth,
        }),
        Err(e) => {
            diags.push_attr_error(
                AttrPath::root("gitea"),
                "Invalid gitea configuration",
                format!("{e:#}"),
            );
            Slot::Missing(format!("{e:#}"))
        }
    }
}

/// The resources of this service.
pub fn resources() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![
        Arc::new(user::UserResource),
        Arc::new(org::OrgResource),
        Arc::new(team::TeamResource),
        Arc::new(repository::RepositoryResource),
        Arc::new(collaborator::CollaboratorResource),
        Arc::new(login_source::LoginSourceResource),
        Arc::new(admin_user::AdminUserResource),
    ]
}

/// The data sources of this service.
pub fn data_sources() -> Vec<Arc<dyn DataSource<Clients>>> {
    vec![]
}

/// The ephemeral resources of this service.
pub fn ephemeral_resources() -> Vec<Arc<dyn crate::framework::EphemeralResource<Clients>>> {
    vec![Arc::new(token::EphemeralToken)]
}

/// The API client.
#[derive(Clone, Debug)]
pub struct Client {
    api: ApiClient,
    /// `/admin/users` snapshot for batched refresh of users; invalidated by every user write.
    users: crate::snapshot::ListSnapshot,
    /// Signed in with username and password (Gitea makes access tokens only for those).
    basic_auth: bool,
}

/// `None` for 404.
fn found(r: Result<Json, ApiError>) -> Result<Option<Json>, ApiError> {
    match r {
        Ok(j) => Ok(Some(j)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Ok for 404 (already gone).
fn gone_ok(r: Result<Json, ApiError>) -> Result<(), ApiError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Bytes left as they are in a path segment: RFC 3986 unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One URL path segment (a user, org or repository name), UTF-8 percent-encoded.
fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

impl Client {
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    async fn get(&self, path: &str) -> Result<Option<Json>, ApiError> {
        found(self.api.get(&format!("/api/v1{path}"), &[]).await)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: &Json,
        idempotent: bool,
    ) -> Result<Json, ApiError> {
        self.api
            .call(
                method,
                &format!("/api/v1{path}"),
                &[],
                Some(body),
                idempotent,
            )
            .await
    }

    /// A PUT without a body (the operation takes none in Gitea's API document).
    async fn put_empty(&self, path: &str) -> Result<(), ApiError> {
        self.api
            .call(Method::PUT, &format!("/api/v1{path}"), &[], None, true)
            .await
            .map(|_| ())
    }

    async fn delete(&self, path: &str) -> Result<(), ApiError> {
        gone_ok(
            self.api
                .call(Method::DELETE, &format!("/api/v1{path}"), &[], None, true)
                .await,
        )
    }

    /// Every page of a list endpoint.
    async fn list_all(&self, path: &str) -> Result<Vec<Json>, ApiError> {
        let mut out = Vec::new();
        for page in 1.. {
            let got = self
                .api
                .get(
                    &format!("/api/v1{path}"),
                    &[("page", page.to_string()), ("limit", "50".to_string())],
                )
                .await?;
            let items = match got {
                Json::Array(items) => items,
                _ => Vec::new(),
            };
            let n = items.len();
            out.extend(items);
            if n < 50 || page > 1000 {
                break;
            }
        }
        Ok(out)
    }

    pub async fn user(&self, username: &str) -> Result<Option<Json>, ApiError> {
        self.get(&format!("/users/{}", seg(username))).await
    }
    /// A user for a refresh: from the `/admin/users` snapshot when listed with every field in
    /// `fields`, else `GET /users/{username}` (see [`crate::snapshot`]). Usernames are
    /// case-insensitive in Gitea.
    pub async fn user_batched(
        &self,
        username: &str,
        fields: &[&str],
    ) -> Result<Option<std::sync::Arc<Json>>, ApiError> {
        let listed = self
            .users
            .row(&username.to_lowercase(), || async {
                Ok(self
                    .list_all("/admin/users")
                    .await?
                    .into_iter()
                    .filter_map(|u| Some((u.get("login")?.as_str()?.to_lowercase(), u)))
                    .collect())
            })
            .await;
        match listed.filter(|u| crate::snapshot::has_fields(u, fields.iter().copied())) {
            Some(u) => Ok(Some(u)),
            None => Ok(self.user(username).await?.map(std::sync::Arc::new)),
        }
    }
    pub async fn create_user(&self, body: &Json) -> Result<Json, ApiError> {
        let r = self.send(Method::POST, "/admin/users", body, false).await;
        self.users.invalidate();
        r
    }
    pub async fn edit_user(&self, username: &str, body: &Json) -> Result<Json, ApiError> {
        let r = self
            .send(
                Method::PATCH,
                &format!("/admin/users/{}", seg(username)),
                body,
                true,
            )
            .await;
        self.users.invalidate();
        r
    }
    /// Renames a user in place (204).
    pub async fn rename_user(&self, username: &str, new_username: &str) -> Result<(), ApiError> {
        self.send(
            Method::POST,
            &format!("/admin/users/{}/rename", seg(username)),
            &json!({ "new_username": new_username }),
            true,
        )
        .await
        .map(|_| ())
    }
    pub async fn delete_user(&self, username: &str) -> Result<(), ApiError> {
        let r = self
            .delete(&format!("/admin/users/{}", seg(username)))
            .await;
        self.users.invalidate();
        r
    }

    pub async fn org(&self, name: &str) -> Result<Option<Json>, ApiError> {
        self.get(&format!("/orgs/{}", seg(name))).await
    }
    pub async fn create_org(&self, body: &Json) -> Result<Json, ApiError> {
        self.send(Method::POST, "/orgs", body, false).await
    }
    pub async fn edit_org(&self, name: &str, body: &Json) -> Result<Json, ApiError> {
        self.send(Method::PATCH, &format!("/orgs/{}", seg(name)), body, true)
            .await
    }
    pub async fn delete_org(&self, name: &str) -> Result<(), ApiError> {
        self.delete(&format!("/orgs/{}", seg(name))).await
    }

    pub async fn teams(&self, org: &str) -> Result<Vec<Json>, ApiError> {
        self.list_all(&format!("/orgs/{}/teams", seg(org))).await
    }
    pub async fn team(&self, id: i64) -> Result<Option<Json>, ApiError> {
        self.get(&format!("/teams/{id}")).await
    }
    pub async fn create_team(&self, org: &str, body: &Json) -> Result<Json, ApiError> {
        self.send(
            Method::POST,
            &format!("/orgs/{}/teams", seg(org)),
            body,
            false,
        )
        .await
    }
    pub async fn edit_team(&self, id: i64, body: &Json) -> Result<Json, ApiError> {
        self.send(Method::PATCH, &format!("/teams/{id}"), body, true)
            .await
    }
    pub async fn delete_team(&self, id: i64) -> Result<(), ApiError> {
        self.delete(&format!("/teams/{id}")).await
    }
    pub async fn team_members(&self, id: i64) -> Result<Vec<String>, ApiError> {
        Ok(names(
            &self.list_all(&format!("/teams/{id}/members")).await?,
            "login",
        ))
    }
    pub async fn team_member(&self, id: i64, user: &str, add: bool) -> Result<(), ApiError> {
        let path = format!("/teams/{id}/members/{}", seg(user));
        if add {
            self.put_empty(&path).await
        } else {
            self.delete(&path).await
        }
    }
    pub async fn team_repos(&self, id: i64) -> Result<Vec<String>, ApiError> {
        Ok(names(
            &self.list_all(&format!("/teams/{id}/repos")).await?,
            "name",
        ))
    }
    pub async fn team_repo(
        &self,
        id: i64,
        org: &str,
        repo: &str,
        add: bool,
    ) -> Result<(), ApiError> {
        let path = format!("/teams/{id}/repos/{}/{}", seg(org), seg(repo));
        if add {
            self.put_empty(&path).await
        } else {
            self.delete(&path).await
        }
    }

    pub async fn repo(&self, owner: &str, name: &str) -> Result<Option<Json>, ApiError> {
        self.get(&format!("/repos/{}/{}", seg(owner), seg(name)))
            .await
    }
    /// Creates a repository for an organization or (as admin) for a user.
    pub async fn create_repo(&self, owner: &str, body: &Json) -> Result<Json, ApiError> {
        let path = if self.org(owner).await?.is_some() {
            format!("/orgs/{}/repos", seg(owner))
        } else {
            format!("/admin/users/{}/repos", seg(owner))
        };
        self.send(Method::POST, &path, body, false).await
    }
    pub async fn edit_repo(&self, owner: &str, name: &str, body: &Json) -> Result<Json, ApiError> {
        self.send(
            Method::PATCH,
            &format!("/repos/{}/{}", seg(owner), seg(name)),
            body,
            true,
        )
        .await
    }
    pub async fn delete_repo(&self, owner: &str, name: &str) -> Result<(), ApiError> {
        self.delete(&format!("/repos/{}/{}", seg(owner), seg(name)))
            .await
    }

    /// The collaborator's permission, `None` when the user is not a collaborator.
    pub async fn collaborator(
        &self,
        owner: &str,
        repo: &str,
        user: &str,
    ) -> Result<Option<String>, ApiError> {
        let base = format!(
            "/repos/{}/{}/collaborators/{}",
            seg(owner),
            seg(repo),
            seg(user)
        );
        if self.get(&base).await?.is_none() {
            return Ok(None);
        }
        let p = self.get(&format!("{base}/permission")).await?;
        Ok(p.and_then(|p| {
            p.get("permission")
                .and_then(Json::as_str)
                .map(str::to_string)
        }))
    }
    pub async fn set_collaborator(
        &self,
        owner: &str,
        repo: &str,
        user: &str,
        permission: &str,
    ) -> Result<(), ApiError> {
        let path = format!(
            "/repos/{}/{}/collaborators/{}",
            seg(owner),
            seg(repo),
            seg(user)
        );
        self.send(Method::PUT, &path, &json!({"permission": permission}), true)
            .await
            .map(|_| ())
    }
    pub async fn remove_collaborator(
        &self,
        owner: &str,
        repo: &str,
        user: &str,
    ) -> Result<(), ApiError> {
        self.delete(&format!(
            "/repos/{}/{}/collaborators/{}",
            seg(owner),
            seg(repo),
            seg(user)
        ))
        .await
    }
}

fn names(items: &[Json], key: &str) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i.get(key).and_then(Json::as_str).map(str::to_string))
        .collect()
}

/// A diagnostic for a failed call, naming the attribute (one of `attrs`, the resource's own)
/// Gitea's message points at.
pub(crate) fn api_error(what: &str, action: &str, attrs: &[&str], e: ApiError) -> Diagnostics {
    let msg = e.to_string();
    let lower = msg.to_lowercase();
    let attr = [
        ("[email]", "email"),
        ("e-mail", "email"),
        ("[username]", "username"),
        ("user already exists", "username"),
        ("user already exists", "name"),
        ("[name]", "name"),
        ("[permission]", "permission"),
        ("[visibility]", "visibility"),
        ("password", "password"),
    ]
    .iter()
    .find(|(needle, a)| lower.contains(needle) && attrs.contains(a))
    .map(|(_, a)| *a);
    let summary = format!("Could not {action} the Gitea {what}");
    match attr {
        Some(a) => Diagnostics::attr_error(AttrPath::root(a), summary, msg),
        None => Diagnostics::error(summary, msg),
    }
}

#[cfg(test)]
mod tests {
    use super::seg;

    #[test]
    fn path_segments_are_utf8_percent_encoded() {
        assert_eq!(seg("alice.b-c_d~e"), "alice.b-c_d~e");
        assert_eq!(seg("José"), "Jos%C3%A9");
        assert_eq!(seg("a/b c?#"), "a%2Fb%20c%3F%23");
    }
}
