//! `ephemeral "webide_gitea_token"`: a Gitea access token for one Terraform run (e.g. to
//! clone a repository in a provisioner), made on open (`POST /users/{username}/tokens`) and
//! deleted on close (`DELETE /users/{username}/tokens/{id}`); never in state or plan.
//!
//! Gitea serves these routes only to basic authentication with a password
//! (`reqBasicOrRevProxyAuth` in routers/api/v1/api.go) by the user or a site administrator
//! (`reqSelfOrAdmin`): the provider's `gitea` block must use `username` and `password`.
//! Gitea has no token expiry, so a run killed before close leaves the token; its name
//! (`webide-ephemeral-...`) says where it came from.

use async_trait::async_trait;
use rand::RngCore;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::api::{AccessToken, CreateAccessTokenOption};
use crate::framework::model::{answer, body, from_value, to_value};

use super::{seg, GiteaName};
use crate::framework::ephemeral::{EphemeralResource, OpenError, Opened};
use crate::http::ApiError;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema, Validator};
use crate::protocol::value::Value;
use crate::provider::{Clients, Slot};

/// Prefix of every token name this resource makes.
pub const NAME_PREFIX: &str = "webide-ephemeral-";

/// Scope categories of Gitea 1.25 (`models/auth/access_token_scope.go`).
const CATEGORIES: &[&str] = &[
    "activitypub",
    "admin",
    "issue",
    "misc",
    "notification",
    "organization",
    "package",
    "repository",
    "user",
];

/// A scope Gitea accepts: `all`, `public-only`, or `read:`/`write:` and a category.
fn valid_scope(s: &str) -> bool {
    matches!(s, "all" | "public-only")
        || s.split_once(':').is_some_and(|(level, cat)| {
            matches!(level, "read" | "write") && CATEGORIES.contains(&cat)
        })
}

struct Scopes;

impl Validator for Scopes {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if value.elements().is_empty() {
            diags.push_attr_error(
                path.clone(),
                "Empty scopes",
                "Gitea refuses a token without a scope (\"access token must have a scope\"); e.g. [\"read:repository\"]",
            );
        }
        for (i, s) in value.string_elements().iter().enumerate() {
            if !valid_scope(s) {
                diags.push_attr_error(
                    path.clone().index(i),
                    "Invalid Gitea token scope",
                    format!("{s:?} is not a scope; use `all`, `public-only`, or `read:`/`write:` followed by one of {}", CATEGORIES.join(", ")),
                );
            }
        }
    }
    fn description(&self) -> String {
        "`all`, `public-only`, or `read:`/`write:` and a category (`repository`, `user`, ...)"
            .into()
    }
}

/// Scopes when the configuration gives none (the schema's default).
const DEFAULT_SCOPES: &[&str] = &["read:repository"];

/// Configuration and result of `webide_gitea_token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TokenModel {
    username: String,
    scopes: Option<Vec<String>>,
    token: Option<String>,
    id: Option<i64>,
    name: Option<String>,
    token_last_eight: Option<String>,
}

/// The result of an open: the configuration with what Gitea answered.
fn result_from_api(
    config: &TokenModel,
    scopes: Vec<String>,
    name: &str,
    t: &AccessToken,
) -> TokenModel {
    TokenModel {
        username: config.username.clone(),
        scopes: Some(scopes),
        token: t.sha1.clone(),
        id: t.id,
        name: Some(name.to_string()),
        token_last_eight: t.token_last_eight.clone(),
    }
}

/// What close needs.
#[derive(Serialize, Deserialize)]
struct Private {
    username: String,
    id: i64,
}

fn client(data: &Clients) -> Result<&super::Client, OpenError> {
    let c = match &data.gitea {
        Slot::Pending => return Err(OpenError::NotYetKnown),
        other => other.get()?,
    };
    if !c.basic_auth {
        return Err(Diagnostics::error(
            "Gitea access tokens need basic authentication",
            "Gitea creates and deletes access tokens only for a caller signed in with a password \
             (reqBasicOrRevProxyAuth), not with a token: configure the provider's gitea block \
             with `username` and `password` of a site administrator (or of the token's user), \
             and no `token` (nor GITEA_TOKEN)",
        )
        .into());
    }
    Ok(c)
}

fn api_error(action: &str, e: ApiError) -> Diagnostics {
    let path = match e.status() {
        Some(404) => Some(AttrPath::root("username")),
        Some(400) => Some(AttrPath::root("scopes")),
        _ => None,
    };
    let summary = format!("Could not {action} the Gitea access token");
    match path {
        Some(p) => Diagnostics::attr_error(p, summary, e.to_string()),
        None => Diagnostics::error(summary, e.to_string()),
    }
}

impl super::Client {
    /// POST /users/{username}/tokens (201 AccessToken with `sha1`, shown only here).
    async fn create_token(&self, username: &str, body: &Json) -> Result<Json, ApiError> {
        self.send(
            Method::POST,
            &format!("/users/{}/tokens", seg(username)),
            body,
            false,
        )
        .await
    }

    /// DELETE /users/{username}/tokens/{id or name}; one already gone is not an error.
    async fn delete_token(&self, username: &str, id_or_name: &str) -> Result<(), ApiError> {
        self.delete(&format!(
            "/users/{}/tokens/{}",
            seg(username),
            seg(id_or_name)
        ))
        .await
    }
}

pub struct EphemeralToken;

#[async_trait]
impl EphemeralResource<Clients> for EphemeralToken {
    fn type_name(&self) -> &'static str {
        "webide_gitea_token"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new(
                "A Gitea access token that exists only while a Terraform run needs it (Terraform >= 1.10), \
                 e.g. to clone a repository: created when the run opens it, deleted when the run closes it, \
                 and never written to state or plan. Gitea makes tokens only for basic authentication, so \
                 the provider's `gitea` block must use `username` and `password` (a site administrator \
                 may make tokens for any user). Gitea tokens do not expire: a run killed before closing \
                 leaves a token named `webide-ephemeral-...`, to delete by hand.",
            )
            .attr(Attribute::string("username").required().validate(GiteaName).describe("User the token acts as."))
            .attr(Attribute::string_list("scopes").default(Value::string_list(DEFAULT_SCOPES.iter().copied())).validate(Scopes).describe("Token scopes, e.g. `read:repository` to clone."))
            .attr(Attribute::string("token").computed().sensitive().describe("The secret token."))
            .attr(Attribute::number("id").computed().describe("Gitea's id of the token."))
            .attr(Attribute::string("name").computed().describe("Token name: `webide-ephemeral-` and 12 random hex digits."))
            .attr(Attribute::string("token_last_eight").computed().describe("Last eight characters of the token, as Gitea lists it.")),
        )
    }

    async fn open(&self, data: &Clients, config: &Value) -> Result<Opened, OpenError> {
        let client = client(data)?;
        let config: TokenModel = from_value(config)?;
        let username = config.username.as_str();
        let scopes = config
            .scopes
            .clone()
            .unwrap_or_else(|| DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect());
        let mut b = [0u8; 6];
        rand::thread_rng().fill_bytes(&mut b);
        let name = format!("{NAME_PREFIX}{}", hex::encode(b));
        let request = CreateAccessTokenOption {
            name: name.clone(),
            scopes: scopes.clone(),
        };
        let made = match client.create_token(username, &body(&request)).await {
            Ok(j) => j,
            Err(e) => {
                let ambiguous = matches!(e, ApiError::Transport { .. })
                    || e.status().is_some_and(|s| s >= 500 || s == 429);
                if ambiguous {
                    // The token may exist without its secret ever reaching us: delete it by
                    // its (random, so certainly our) name rather than leave it behind.
                    if let Err(cleanup) = client.delete_token(username, &name).await {
                        tracing::warn!(error = %cleanup, "could not delete a token whose creation had an unknown outcome");
                    }
                }
                return Err(api_error("create", e).into());
            }
        };
        let made: AccessToken = answer("Gitea access token", &made).unwrap_or_default();
        let (Some(id), Some(_)) = (made.id, made.sha1.as_ref()) else {
            let _ = client.delete_token(username, &name).await;
            return Err(Diagnostics::error(
                "Unexpected Gitea answer",
                "POST /users/{username}/tokens answered without `id` or `sha1`",
            )
            .into());
        };
        let result = to_value(
            &result_from_api(&config, scopes, &name, &made),
            &self.schema(),
        );
        let private = serde_json::to_vec(&Private {
            username: username.to_string(),
            id,
        })
        .map_err(|e| Diagnostics::error("Encoding private data", e.to_string()))?;
        Ok(Opened {
            result,
            private,
            renew_at: None,
        })
    }

    async fn close(&self, data: &Clients, private: &[u8]) -> Result<(), Diagnostics> {
        let p: Private = serde_json::from_slice(private).map_err(|e| {
            Diagnostics::error(
                "Unreadable ephemeral Gitea token data",
                format!("the private data Terraform handed back is not this provider's: {e}"),
            )
        })?;
        let client = data.gitea.get()?;
        client
            .delete_token(&p.username, &p.id.to_string())
            .await
            .map_err(|e| api_error("delete", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;
    use serde_json::json;

    #[test]
    fn result_from_access_token() {
        assert_model::<TokenModel>(&EphemeralToken.schema());
        // An `AccessToken` shaped per gitea-swagger.json `definitions.AccessToken`.
        let t: AccessToken = answer(
            "t",
            &json!({"id": 5, "name": "webide-ephemeral-0123456789ab", "scopes": ["read:repository"],
                    "sha1": "4f2b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b", "token_last_eight": "3e4f5a6b",
                    "created_at": "2026-01-01T00:00:00Z", "last_used_at": "2026-01-01T00:00:00Z"}),
        )
        .unwrap();
        let config = TokenModel {
            username: "alice".into(),
            scopes: None,
            token: None,
            id: None,
            name: None,
            token_last_eight: None,
        };
        let r = result_from_api(
            &config,
            vec!["read:repository".into()],
            "webide-ephemeral-0123456789ab",
            &t,
        );
        let v = to_value(&r, &EphemeralToken.schema());
        assert_eq!(v.get("id").as_i64(), Some(5));
        assert_eq!(
            v.get("token").as_str(),
            Some("4f2b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b")
        );
        assert_eq!(v.get("token_last_eight").as_str(), Some("3e4f5a6b"));
        assert_eq!(v.get("scopes"), &Value::string_list(["read:repository"]));
        assert_eq!(
            body(&CreateAccessTokenOption {
                name: "n".into(),
                scopes: vec!["all".into()]
            }),
            json!({"name": "n", "scopes": ["all"]})
        );
    }

    #[test]
    fn scopes_as_gitea_accepts_them() {
        for ok in ["all", "public-only", "read:repository", "write:user"] {
            assert!(super::valid_scope(ok), "{ok}");
        }
        for bad in ["", "read", "admin:repository", "read:repo", "write:"] {
            assert!(!super::valid_scope(bad), "{bad}");
        }
    }
}
