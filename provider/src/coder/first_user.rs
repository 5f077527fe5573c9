//! `webide_coder_first_user`: Coder's first user (its owner), made through the unauthenticated
//! `POST /api/v2/users/first` of a fresh deployment, and a session token from
//! `POST /api/v2/users/login` that another provider instance's `coder` block uses in the same
//! apply. Idempotent: when Coder already has its first user (`GET /users/first` answers 200),
//! it logs in with the given credentials instead, and fails on `password` when Coder refuses
//! them.
//!
//! The resource needs no configured `coder` block (there is no token yet): it has its own `url`.
//! Destroy forgets it (Coder cannot delete its last owner). Not importable: nothing to import
//! but credentials, which come from the configuration.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value as Json};

use super::api_error;
use crate::framework::validators::{Email, HttpUrl};
use crate::framework::{ApplyError, ApplyResult, PlanContext, Resource, StopToken};
use crate::http::{ApiClient, ApiError, TlsOptions};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct FirstUserResource;

/// How long create waits for Coder to answer `/api/v2/buildinfo` (a fresh Coder migrates its
/// database first).
const READY_TIMEOUT: Duration = Duration::from_secs(300);

const FIELDS: &[&str] = &["email", "username", "name", "password"];

fn client(state: &Value, token: Option<&str>, stop: StopToken) -> Result<ApiClient, Diagnostics> {
    let url = state.get("url").as_str().unwrap_or_default();
    let auth: Vec<(&str, String)> = token
        .map(|t| vec![("Coder-Session-Token", t.to_string())])
        .unwrap_or_default();
    let tls = TlsOptions::from_block(state, false);
    ApiClient::new("coder", url, &auth, &tls, stop).map_err(|e| {
        Diagnostics::attr_error(
            AttrPath::root("url"),
            "Invalid Coder connection",
            format!("{e:#}"),
        )
    })
}

/// Whether Coder has its first user (`GET /users/first`: 200 yes, 404 no).
async fn has_first_user(api: &ApiClient) -> Result<bool, ApiError> {
    match api.get("/api/v2/users/first", &[]).await {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Why a login failed, on the attribute a person fixes.
fn login_error(email: &str, existed: bool, e: ApiError) -> Diagnostics {
    match e.status() {
        Some(401) | Some(403) => {
            let why = if existed {
                "Coder already has its first user, so this resource logs in instead of creating it, and Coder refused these credentials"
            } else {
                "Coder refused the credentials of the first user"
            };
            Diagnostics::attr_error(
                AttrPath::root("password"),
                "Coder first user: login refused",
                format!(
                    "{why} (email {email:?}): {e}\nSet `email` and `password` to an existing owner's (a password login), or point `url` at a fresh Coder."
                ),
            )
        }
        _ => api_error("first user", "log in as", FIELDS, e),
    }
}

/// `POST /users/login`: the session token.
async fn login(api: &ApiClient, email: &str, password: &str) -> Result<String, ApiError> {
    let r = api
        .call(
            Method::POST,
            "/api/v2/users/login",
            &[],
            Some(&json!({"email": email, "password": password})),
            // A second login only makes a second token.
            true,
        )
        .await?;
    Ok(r["session_token"].as_str().unwrap_or_default().to_string())
}

/// The user behind a token (`GET /users/me`); `Ok(None)` when Coder refuses the token (401).
async fn me(state: &Value, token: &str, stop: StopToken) -> Result<Option<Json>, Diagnostics> {
    let api = client(state, Some(token), stop)?;
    match api.get("/api/v2/users/me", &[]).await {
        Ok(u) => Ok(Some(u)),
        Err(e) if e.status() == Some(401) => Ok(None),
        Err(e) => Err(api_error("first user", "read", FIELDS, e)),
    }
}

#[async_trait]
impl Resource<Clients> for FirstUserResource {
    fn type_name(&self) -> &'static str {
        "webide_coder_first_user"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("Coder's first user (its owner), created through `POST /api/v2/users/first` on a fresh Coder, and a session token for it (`POST /api/v2/users/login`) that another provider instance's `coder { token = ... }` can use in the same apply: no hand step, no pre-existing token. When Coder already has its first user, it logs in with `email` / `password` instead and fails on `password` if Coder refuses them. It needs no `coder` block (it has its own `url`), so it can live on any provider instance. `username`, `name` and `trial` are used only when creating; a later change of them, `email` or `password` changes nothing in Coder, it logs in again with them. Destroy only forgets it: Coder cannot delete its last owner. `password` and `session_token` are sensitive and kept in state: protect the state. Not importable (declare it; it adopts an existing first user by logging in).")
            .attr(Attribute::string("url").required().requires_replace().validate(HttpUrl).describe("Coder base URL (the access URL)."))
            .attr(Attribute::string("ca_file").optional().describe("PEM file of extra CA certificates to trust (Coder with a self-signed certificate)."))
            .attr(crate::http::ca_pem_attribute(false))
            .attr(Attribute::bool("insecure").optional().describe("Skip TLS certificate verification. Only for throw-away test setups."))
            .attr(Attribute::string("email").required().validate(Email).describe("E-mail address: the login name."))
            .attr(Attribute::string("username").required().validate(super::names::CoderName { group: false }).describe("Username (used when creating)."))
            .attr(Attribute::string("name").default("").validate(super::names::CoderDisplayName(128)).validate(crate::framework::validators::NoControlChars).describe("Display name (used when creating)."))
            .attr(Attribute::string("password").required().sensitive().describe("Password, 6 to 64 characters (Coder also refuses low-entropy passwords). Generate one with `webide_random_password`."))
            .attr(Attribute::bool("trial").default(false).describe("Ask Coder for a trial licence when creating (needs internet access from Coder)."))
            .attr(Attribute::string("user_id").computed().use_state_for_unknown().describe("The first user's id (UUID)."))
            .attr(Attribute::string("organization_id").computed().use_state_for_unknown().describe("The default organization's id."))
            .attr(Attribute::bool("created").computed().use_state_for_unknown().describe("Whether this resource created the first user (false: it existed and was logged in to)."))
            .attr(Attribute::string("session_token").computed().sensitive().use_state_for_unknown().describe("A session token of the first user (an owner), for `coder { token = ... }` of another provider instance. Renewed by refresh when Coder no longer accepts it (sessions expire)."));
        Schema::new(0, block)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(p) = config.get("password").as_str() {
            let n = p.chars().count();
            if !(6..=64).contains(&n) {
                diags.push_attr_error(
                    AttrPath::root("password"),
                    "Invalid value for password",
                    format!("Coder wants 6 to 64 characters; this one has {n}"),
                );
            }
        }
    }

    async fn modify_plan(
        &self,
        _d: Option<&Clients>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        if !ctx.is_create() && ctx.changed("url") {
            for a in ["user_id", "organization_id", "created", "session_token"] {
                ctx.set_unknown(a);
            }
        }
        Ok(())
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let api = client(plan, None, data.stop.clone())?;
        api.wait_ready("/api/v2/buildinfo", READY_TIMEOUT)
            .await
            .map_err(|e| {
                Diagnostics::attr_error(
                    AttrPath::root("url"),
                    "Coder did not come up",
                    format!("{e:#}"),
                )
            })?;
        let s = |k: &str| plan.get(k).as_str().unwrap_or_default().to_string();
        let (email, password) = (s("email"), s("password"));
        let existed = has_first_user(&api)
            .await
            .map_err(|e| api_error("first user", "check for", FIELDS, e))?;
        let mut created = false;
        if !existed {
            let body = json!({
                "email": email,
                "username": s("username"),
                "name": s("name"),
                "password": password,
                "trial": plan.get("trial").as_bool().unwrap_or(false),
            });
            match api
                .call(Method::POST, "/api/v2/users/first", &[], Some(&body), false)
                .await
            {
                Ok(_) => created = true,
                // Someone (or a lost answer to our own request) made it first: log in below.
                Err(e) if e.status() == Some(409) => {}
                Err(e) => return Err(api_error("first user", "create", FIELDS, e).into()),
            }
        }
        let token = login(&api, &email, &password)
            .await
            .map_err(|e| login_error(&email, !created, e))?;
        let mut state = plan.clone();
        state.set("created", Value::Bool(created));
        state.set("session_token", Value::string(token.clone()));
        let u = match me(plan, &token, data.stop.clone()).await {
            Ok(Some(u)) => u,
            Ok(None) => {
                let d = Diagnostics::error(
                    "Coder refused a fresh session token",
                    "the login succeeded but GET /api/v2/users/me answered 401",
                );
                return Err(ApplyError::with_state(d, state));
            }
            Err(d) => return Err(ApplyError::with_state(d, state)),
        };
        state.set("user_id", Value::opt_string(u["id"].as_str()));
        state.set(
            "organization_id",
            Value::opt_string(u["organization_ids"][0].as_str()),
        );
        Ok(state)
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let api = client(state, None, data.stop.clone())?;
        if !has_first_user(&api)
            .await
            .map_err(|e| api_error("first user", "check for", FIELDS, e))?
        {
            // A fresh Coder again (its database was reset): plan to create the first user.
            return Ok(None);
        }
        let mut out = state.clone();
        if let Some(token) = state.get("session_token").as_str() {
            if let Some(u) = me(state, token, data.stop.clone()).await? {
                out.set("user_id", Value::opt_string(u["id"].as_str()));
                return Ok(Some(out));
            }
        }
        // The session expired or was revoked: log in again with the recorded credentials.
        let s = |k: &str| state.get(k).as_str().unwrap_or_default().to_string();
        let email = s("email");
        let token = login(&api, &email, &s("password")).await.map_err(|e| {
            let mut d = login_error(&email, true, e);
            d.push_error(
                "The recorded credentials no longer work",
                "the session token expired and the password in state was refused (changed outside Terraform?). Run `terraform state rm` on this resource and apply with the current password: create logs in and adopts the first user.",
            );
            d
        })?;
        out.set("session_token", Value::string(token));
        Ok(Some(out))
    }

    async fn update(&self, data: &Clients, _prior: &Value, plan: &Value) -> ApplyResult {
        // Check the (possibly changed) credentials; the session token stays the one refresh
        // verified, as planned.
        let api = client(plan, None, data.stop.clone())?;
        let s = |k: &str| plan.get(k).as_str().unwrap_or_default().to_string();
        login(&api, &s("email"), &s("password"))
            .await
            .map_err(|e| login_error(&s("email"), true, e))?;
        Ok(plan.clone())
    }

    async fn delete(&self, _data: &Clients, _state: &Value) -> Result<(), Diagnostics> {
        Ok(())
    }
}
