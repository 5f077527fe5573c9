//! The main job's helpers: the Docker Engine check, stand-in images, the scripted drift (made
//! through each service's own API or the docker CLI, as people do by hand) and the leftover
//! check after destroy.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use reqwest::Method;
use serde_json::{json, Value};
use webide_acceptance_tests::find_resource;
use webide_provider::drift::{Report, Severity};
use webide_sandbox::RunningSandbox;

/// The engine's version, or why it cannot be used.
pub fn docker_available() -> Result<String> {
    let out = Command::new("docker")
        .args([
            "version",
            "--format",
            "{{.Server.Version}} (API {{.Server.APIVersion}})",
        ])
        .output()
        .context("running `docker version`")?;
    ensure!(
        out.status.success(),
        "`docker version` failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Images for the example's containers. Nothing can be pulled here: PostgreSQL and Redis run
/// for real from an image built from Debian's packages (built on first use, then cached);
/// every other service runs a stand-in built from the workspace's `fixture-svc` (a static
/// binary `FROM scratch`), which the example builds itself from the context directory given.
/// Gitea's stand-in also carries the stand-in `gitea` CLI, so the exec-driven steps (admin
/// bootstrap, login source) really run in its container.
pub fn images() -> Result<Value> {
    let ctx = webide_acceptance_tests::fixture::fixture_context()?;
    let data = webide_acceptance_tests::debian_image::debian_data_image()
        .context("the Debian-built PostgreSQL/Redis image")?;
    let gitea = webide_acceptance_tests::fixture::gitea_standin_image()
        .context("the stand-in Gitea image")?;
    let minio = webide_acceptance_tests::fixture::minio_standin_image()
        .context("the stand-in MinIO image")?;
    Ok(json!({
        "standin_context": ctx.display().to_string(),
        "postgres": data,
        "redis": data,
        "gitea": gitea,
        "minio": minio,
    }))
}

/// A file of the stand-in Gitea's data directory.
fn gitea_file(container: &str, file: &str) -> Result<String> {
    let out = Command::new("docker")
        .args(["exec", container, "cat", &format!("/data/gitea/{file}")])
        .output()
        .context("docker exec cat")?;
    ensure!(
        out.status.success(),
        "reading {file} in {container}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The stand-in Gitea's "database" (what its CLI stored).
fn gitea_db(container: &str) -> Result<Value> {
    Ok(serde_json::from_str(&gitea_file(
        container,
        "standin-db.json",
    )?)?)
}

/// The Gitea steps run through the Docker exec API, checked in the container: the admin
/// `gitea` and the login source `authentik` exist with the secrets from HCL and Authentik,
/// and the recorded CLI calls carry no secret in their argv.
pub fn check_gitea_cli(prefix: &str, state: &Value) -> Result<Vec<String>> {
    let container = format!("{prefix}-gitea");
    let db = gitea_db(&container)?;
    let secret = values(state, "webide_authentik_oauth2_provider.sso[\"gitea\"]")
        .and_then(|v| v["client_secret"].as_str())
        .context("the Gitea OAuth2 provider's client secret in the state")?
        .to_string();
    let client_id = values(state, "webide_authentik_oauth2_provider.sso[\"gitea\"]")
        .and_then(|v| v["client_id"].as_str())
        .unwrap_or_default()
        .to_string();
    let src = db["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == "authentik")
        .with_context(|| format!("no login source authentik in {container}: {db}"))?;
    ensure!(
        src["cfg"]["secret"] == secret.as_str() && src["cfg"]["key"] == client_id.as_str(),
        "the login source has Authentik's client id and secret"
    );
    let url = src["cfg"]["auto-discover-url"].as_str().unwrap_or_default();
    ensure!(
        url.ends_with("/application/o/gitea/.well-known/openid-configuration"),
        "discovery URL {url}"
    );
    let admin = db["users"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["name"] == "gitea")
        .with_context(|| format!("no admin gitea in {container}"))?;
    ensure!(
        admin["is_admin"] == true && admin["passwd"] == webide_sandbox::DEFAULT_GITEA_ADMIN.1,
        "gitea is an admin with the password of var.gitea_admin_password"
    );
    let calls = gitea_file(&container, "standin-calls.jsonl")?;
    ensure!(
        !calls.contains(&secret) && !calls.contains(webide_sandbox::DEFAULT_GITEA_ADMIN.1),
        "a secret reached a recorded argv"
    );
    let n = calls.lines().count();
    ensure!(
        calls.contains("\"add-oauth\"") && calls.contains("\"--secret=<redacted>\""),
        "add-oauth recorded: {calls}"
    );
    Ok(vec![
        format!("gitea: admin `gitea` and login source `authentik` (id {}) made by the CLI in {container}", src["id"]),
        format!("gitea: {n} CLI calls recorded, none with a secret in its argv"),
    ])
}

/// A file of a container, read with `docker exec cat`.
fn container_file(container: &str, path: &str) -> Result<String> {
    let out = Command::new("docker")
        .args(["exec", container, "cat", path])
        .output()
        .context("docker exec cat")?;
    ensure!(
        out.status.success(),
        "reading {path} in {container}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// MinIO's policies (access.tf), made with `mc` through the Docker exec API and checked in the
/// container: one per RBAC group (the names the `groups` claim carries, which MinIO reads as
/// policy names), each a policy document; the root password reached mc only by environment.
pub fn check_minio_policies(
    prefix: &str,
    state: &Value,
    minio_password: &str,
) -> Result<Vec<String>> {
    let container = format!("{prefix}-minio");
    let policies: Value =
        serde_json::from_str(&container_file(&container, "/data/standin-policies.json")?)?;
    let groups: BTreeSet<String> = webide_acceptance_tests::resource_addresses(state)
        .into_iter()
        .filter(|a| a.starts_with("webide_authentik_group.rbac["))
        .filter_map(|a| {
            values(state, &a)
                .and_then(|v| v["name"].as_str())
                .map(str::to_string)
        })
        .collect();
    ensure!(
        groups.len() == 4,
        "the four RBAC groups in state: {groups:?}"
    );
    let names: BTreeSet<String> = policies
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    ensure!(
        names == groups,
        "a MinIO policy for every RBAC group: policies {names:?}, groups {groups:?}"
    );
    let admin = &policies["coder-admins"]["Statement"];
    ensure!(
        admin.to_string().contains("admin:*"),
        "coder-admins gets MinIO admin: {admin}"
    );
    let member = policies["coder-members"]["Statement"].to_string();
    ensure!(
        !member.contains("s3:*") && !member.contains("admin:") && member.contains("s3:GetObject"),
        "coder-members gets read-only: {member}"
    );
    let calls = container_file(&container, "/data/standin-mc-calls.jsonl")?;
    ensure!(
        !calls.contains(minio_password),
        "the MinIO root password reached a recorded argv"
    );
    let creates = calls
        .lines()
        .filter(|l| l.contains("\"create\"") && l.contains("MC_HOST_local"))
        .count();
    ensure!(
        creates >= 4,
        "four `mc admin policy create` calls with MC_HOST_local: {calls}"
    );
    Ok(vec![format!(
        "minio: policies {} made by `mc admin policy create` in {container} (root credentials by env, none in argv)",
        names.into_iter().collect::<Vec<_>>().join(", ")
    )])
}

/// The `sign_in` output: a page per service, on the ports this run published.
pub fn check_sign_in(outputs: &Value, offset: u64) -> Result<Vec<String>> {
    let urls = outputs
        .pointer("/sign_in/value")
        .and_then(Value::as_object)
        .context("output sign_in")?;
    let want = [
        (
            "coder",
            format!("https://host.docker.internal:{}/login", 7443 + offset),
        ),
        (
            "coder_http",
            format!("http://host.docker.internal:{}/login", 7080 + offset),
        ),
        (
            "gitea",
            format!("http://localhost:{}/user/oauth2/authentik", 3000 + offset),
        ),
        (
            "authentik",
            format!("http://localhost:{}/if/user/", 9000 + offset),
        ),
        (
            "minio_console",
            format!("http://localhost:{}/login", 9001 + offset),
        ),
        (
            "litellm_ui",
            format!("http://localhost:{}/ui", 4000 + offset),
        ),
        ("mailpit", format!("http://localhost:{}/", 8025 + offset)),
    ];
    for (k, v) in &want {
        ensure!(
            urls.get(*k).and_then(Value::as_str) == Some(v.as_str()),
            "sign_in.{k} is {:?}, expected {v}",
            urls.get(*k)
        );
    }
    Ok(urls
        .iter()
        .map(|(k, v)| format!("sign in to {k:<14} {}", v.as_str().unwrap_or("?")))
        .collect())
}

/// A person who was never declared in HCL arrives through SSO: an Authentik admin adds
/// `newhire` to coder-auditors, and the first OIDC sign-in makes the Coder user (login type
/// `oidc`, no roles — what an unlicensed Coder does). Returns the owner session for later.
pub async fn sso_arrival(sb: &RunningSandbox, state: &Value) -> Result<()> {
    let http = coder_http(state)?;
    let c = &sb.config;
    let group = webide_acceptance_tests::resource_addresses(state)
        .into_iter()
        .find(|a| a == "webide_authentik_group.rbac[\"coder-auditors\"]")
        .and_then(|a| {
            values(state, &a)
                .and_then(|v| v["id"].as_str())
                .map(str::to_string)
        })
        .context("coder-auditors in state")?;
    let r = http
        .post(format!("{}/api/v3/core/users/", sb.authentik_url))
        .bearer_auth(&c.authentik_token)
        .json(&json!({"username": SSO_USER, "name": "New Hire", "email": format!("{SSO_USER}@example.com"), "groups": [group], "is_active": true}))
        .send()
        .await?;
    ensure!(
        r.status().is_success(),
        "authentik user: {}",
        r.text().await?
    );
    let token = coder_owner_token(state)?;
    let orgs: Value = http
        .get(format!("{}/api/v2/organizations", sb.coder_url))
        .header("Coder-Session-Token", &token)
        .send()
        .await?
        .json()
        .await?;
    let org = orgs
        .as_array()
        .and_then(|a| a.iter().find(|o| o["is_default"] == true))
        .and_then(|o| o["id"].as_str())
        .context("Coder's default organization")?
        .to_string();
    let r = http
        .post(format!("{}/api/v2/users", sb.coder_url))
        .header("Coder-Session-Token", &token)
        .json(&json!({"username": SSO_USER, "email": format!("{SSO_USER}@example.com"), "login_type": "oidc", "organization_ids": [org]}))
        .send()
        .await?;
    ensure!(r.status().is_success(), "coder user: {}", r.text().await?);
    Ok(())
}

/// An HTTP client that trusts the generated certificate Coder serves on :7443
/// (`webide_tls_certificate.coder`), as the `coder` provider instance does with `ca_pem`.
fn coder_http(state: &Value) -> Result<reqwest::Client> {
    let cert = values(state, "webide_tls_certificate.coder")
        .and_then(|v| v["cert_pem"].as_str())
        .context("webide_tls_certificate.coder in state")?;
    Ok(reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.as_bytes())?)
        .build()?)
}

/// The user [`sso_arrival`] makes (not in HCL).
pub const SSO_USER: &str = "newhire";

/// Site roles of a Coder user in the simulator (without `member`).
pub fn coder_roles(sb: &RunningSandbox, user: &str) -> Result<BTreeSet<String>> {
    let coder = sb.coder_store().snapshot();
    let u = coder
        .user(user)
        .with_context(|| format!("coder user {user}"))?;
    Ok(u["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str().or(r.as_str()))
        .filter(|r| *r != "member")
        .map(str::to_string)
        .collect())
}

/// Removes the SSO user again (it is no object of the configuration, so destroy leaves it).
pub async fn sso_departure(sb: &RunningSandbox, state: &Value) -> Result<()> {
    let http = coder_http(state)?;
    let token = coder_owner_token(state)?;
    let r = http
        .delete(format!("{}/api/v2/users/{SSO_USER}", sb.coder_url))
        .header("Coder-Session-Token", &token)
        .send()
        .await?;
    ensure!(
        r.status().is_success(),
        "delete coder user: {}",
        r.text().await?
    );
    let pk = sb
        .authentik_store()
        .snapshot()
        .rows(webide_sandbox::authentik::Kind::Users)
        .find(|u| u["username"] == SSO_USER)
        .and_then(|u| u["pk"].as_i64())
        .context("authentik user newhire")?;
    let r = http
        .delete(format!("{}/api/v3/core/users/{pk}/", sb.authentik_url))
        .bearer_auth(&sb.config.authentik_token)
        .send()
        .await?;
    ensure!(
        r.status().is_success(),
        "delete authentik user: {}",
        r.text().await?
    );
    Ok(())
}

/// The per-service databases made by `webide_compose_exec.databases`, checked on the real
/// PostgreSQL container: each role logs in over TCP with its password (scram-sha-256) and
/// owns its database.
pub fn check_databases(prefix: &str) -> Result<Vec<String>> {
    let container = format!("{prefix}-postgres");
    let mut lines = Vec::new();
    for db in ["coder", "litellm", "gitea", "authentik"] {
        let pw = format!("change-me-{db}-db");
        let out = Command::new("docker")
            .args(["exec", "-e", &format!("PGPASSWORD={pw}"), &container])
            .args(["psql", "-h", "127.0.0.1", "-U", db, "-d", db, "-tAc"])
            .arg("SELECT current_user || ' owns ' || pg_catalog.pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
            .output()
            .context("docker exec psql")?;
        let got = String::from_utf8_lossy(&out.stdout).trim().to_string();
        ensure!(
            got == format!("{db} owns {db}"),
            "database {db} on {container}: {got:?} {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        lines.push(format!(
            "postgres: role {db} logs in with its password, owns database {db}"
        ));
    }
    Ok(lines)
}

/// The session token of Coder's first user, from the state (`terraform show -json` carries
/// sensitive values): the drift is made with it, as an owner would.
pub fn coder_owner_token(state: &Value) -> Result<String> {
    let addr = find_by_type(state, "webide_coder_first_user")
        .context("webide_coder_first_user in state")?;
    values(state, &addr)
        .and_then(|v| v["session_token"].as_str())
        .map(str::to_string)
        .context("session_token of the first user")
}

fn find_by_type(state: &Value, rtype: &str) -> Option<String> {
    webide_acceptance_tests::resource_addresses(state)
        .into_iter()
        .find(|a| {
            find_resource(state, a)
                .and_then(|r| r.get("type"))
                .and_then(Value::as_str)
                == Some(rtype)
        })
}

/// The admins came from HCL: Coder's first user is the seeds' admin@example.com, an owner,
/// made by `POST /users/first` (the simulator started without users), with a generated password.
pub fn check_bootstrap(sb: &RunningSandbox, state: &Value) -> Result<Vec<String>> {
    let coder = sb.coder_store().snapshot();
    let admin = coder.user("admin").context("coder user admin")?;
    ensure!(
        admin["email"] == "admin@example.com" && admin["roles"] == json!(["owner"]),
        "coder admin: {admin}"
    );
    let addr = find_by_type(state, "webide_coder_first_user").context("first user in state")?;
    let v = values(state, &addr).cloned().unwrap_or_default();
    ensure!(
        v["created"] == true && v["user_id"] == admin["id"],
        "webide_coder_first_user: created={} user_id={}",
        v["created"],
        v["user_id"]
    );
    coder_owner_token(state)?;
    Ok(vec![format!(
        "coder: admin@example.com (owner) created through POST /api/v2/users/first; the coder provider instance used its session"
    )])
}

/// The seeds' role matrix, checked on each service's own state.
pub fn check_role_matrix(sb: &RunningSandbox) -> Result<Vec<String>> {
    let gitea = sb.gitea_store().snapshot();
    let ak = sb.authentik_store().snapshot();
    let lite = sb.litellm_store().snapshot();
    let coder = sb.coder_store().snapshot();
    let mut lines = Vec::new();
    for (user, role, group, restricted, orgs, budget, blocked) in [
        (
            "appmanager",
            "app_manager",
            "coder-template-admins",
            false,
            true,
            100.0,
            false,
        ),
        (
            "contractor1",
            "contractor",
            "coder-members",
            true,
            false,
            25.0,
            false,
        ),
        (
            "contractor2",
            "contractor",
            "coder-members",
            true,
            false,
            25.0,
            false,
        ),
        (
            "contractor3",
            "contractor",
            "coder-members",
            true,
            false,
            25.0,
            false,
        ),
        (
            "readonly",
            "compliance",
            "coder-auditors",
            true,
            false,
            0.0,
            true,
        ),
    ] {
        let g = gitea
            .users
            .get(user)
            .with_context(|| format!("gitea user {user}"))?;
        ensure!(
            (g.restricted, g.allow_create_organization, g.is_admin) == (restricted, orgs, false),
            "gitea {user}: restricted={} orgs={} admin={}",
            g.restricted,
            g.allow_create_organization,
            g.is_admin
        );
        let u = ak
            .user(user)
            .with_context(|| format!("authentik user {user}"))?;
        let gid = ak.group(group).with_context(|| format!("group {group}"))?["pk"].clone();
        ensure!(
            u["groups"] == json!([gid]),
            "authentik {user} in {group}: {}",
            u["groups"]
        );
        let key = lite
            .keys
            .values()
            .find(|k| k["user_id"] == user)
            .with_context(|| format!("litellm key of {user}"))?;
        ensure!(
            key["max_budget"].as_f64() == Some(budget)
                && key["blocked"].as_bool().unwrap_or(false) == blocked,
            "litellm key of {user}: {key}"
        );
        ensure!(
            key["metadata"]["platform_role"] == role,
            "key metadata of {user}"
        );
        let cu = coder
            .user(user)
            .with_context(|| format!("coder user {user}"))?;
        let want_roles = match role {
            "app_manager" => json!(["template-admin"]),
            "compliance" => json!(["auditor"]),
            "platform_admin" => json!(["owner"]),
            _ => json!([]),
        };
        ensure!(
            cu["login_type"] == "oidc" && cu["roles"] == want_roles,
            "coder {user}: {cu}"
        );
        lines.push(format!(
            "{user:<12} {role:<12} authentik:{group:<22} gitea:{:<10} coder:oidc {want_roles} ai:{budget} USD{}",
            if restricted { "restricted" } else { "open" },
            if blocked { " (blocked)" } else { "" }
        ));
    }
    Ok(lines)
}

/// One scripted drift and how to recognise it in the report.
struct Change {
    what: String,
    address: String,
    attr: &'static str,
    severity: Severity,
}

/// The drift the main job makes, chosen from what the state holds.
pub struct Drift<'a> {
    sb: &'a RunningSandbox,
    http: reqwest::Client,
    changes: Vec<Change>,
    state: Value,
}

fn values<'v>(state: &'v Value, address: &str) -> Option<&'v Value> {
    find_resource(state, address).and_then(|r| r.get("values"))
}

/// Address of the first resource of `rtype` whose `attr` equals `value`.
fn find_by(state: &Value, rtype: &str, attr: &str, value: &str) -> Option<String> {
    webide_acceptance_tests::resource_addresses(state)
        .into_iter()
        .find(|a| {
            let r = find_resource(state, a);
            r.and_then(|r| r.get("type")).and_then(Value::as_str) == Some(rtype)
                && r.and_then(|r| r.pointer(&format!("/values/{attr}")))
                    .and_then(Value::as_str)
                    == Some(value)
        })
}

impl<'a> Drift<'a> {
    /// Its HTTP client trusts Coder's certificate (`webide_tls_certificate.coder`).
    pub fn new(sb: &'a RunningSandbox, state: &Value) -> Result<Drift<'a>> {
        Ok(Drift {
            sb,
            http: coder_http(state)?,
            changes: Vec::new(),
            state: state.clone(),
        })
    }

    async fn call(
        &self,
        method: Method,
        url: String,
        auth: (&str, String),
        body: Value,
    ) -> Result<Value> {
        let res = self
            .http
            .request(method.clone(), &url)
            .header(auth.0, auth.1);
        // A body only where the operation takes one (the contract checks refuse the rest).
        let res = if body.is_null() { res } else { res.json(&body) };
        let res = res
            .send()
            .await
            .with_context(|| format!("{method} {url}"))?;
        let status = res.status();
        let text = res.text().await?;
        ensure!(status.is_success(), "{method} {url}: {status}: {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Makes the drift; returns one line per change.
    pub async fn make(&mut self) -> Result<Vec<String>> {
        let mut done = Vec::new();
        let mut changes = Vec::new();
        let c = &self.sb.config;
        let st = &self.state.clone();

        // Gitea: contractor1 un-restricted by hand (the seeds' sqlite UPDATE, reversed).
        if let Some(addr) = find_by(st, "webide_gitea_user", "username", "contractor1") {
            let v = values(st, &addr).cloned().unwrap_or_default();
            self.call(
                Method::PATCH,
                format!("{}/api/v1/admin/users/contractor1", self.sb.gitea_url),
                ("Authorization", format!("token {}", c.gitea_admin_token)),
                json!({"restricted": false, "login_name": v["login_name"].as_str().filter(|l| !l.is_empty()).unwrap_or("contractor1"), "source_id": v["source_id"].as_i64().unwrap_or(0)}),
            )
            .await?;
            changes.push(Change {
                what: "Gitea: contractor1 un-restricted through the admin API".into(),
                address: addr,
                attr: "restricted",
                severity: Severity::Critical,
            });
        }
        // Coder: contractor2 made owner.
        if let Some(addr) = find_by(st, "webide_coder_user", "username", "contractor2") {
            self.call(
                Method::PUT,
                format!("{}/api/v2/users/contractor2/roles", self.sb.coder_url),
                ("Coder-Session-Token", coder_owner_token(st)?),
                json!({"roles": ["owner"]}),
            )
            .await?;
            changes.push(Change {
                what: "Coder: contractor2 granted the owner role".into(),
                address: addr,
                attr: "roles",
                severity: Severity::Critical,
            });
        }
        // Coder: the SSO user (not in HCL, roles from webide_coder_oidc_role_sync) made owner.
        if let Some(addr) = find_by(st, "webide_coder_oidc_role_sync", "id", "login_type:oidc") {
            self.call(
                Method::PUT,
                format!("{}/api/v2/users/{SSO_USER}/roles", self.sb.coder_url),
                ("Coder-Session-Token", coder_owner_token(st)?),
                json!({"roles": ["owner", "auditor"]}),
            )
            .await?;
            changes.push(Change {
                what: format!(
                    "Coder: {SSO_USER} (arrived through SSO, not in HCL) granted the owner role"
                ),
                address: addr,
                attr: "roles",
                severity: Severity::Critical,
            });
        }
        // LiteLLM: contractor1's key budget raised.
        if let Some(addr) = find_by(st, "webide_litellm_key", "user_id", "contractor1") {
            let token = values(st, &addr)
                .and_then(|v| v["id"].as_str())
                .unwrap_or_default();
            self.call(
                Method::POST,
                format!("{}/key/update", self.sb.litellm_url),
                ("Authorization", format!("Bearer {}", c.litellm_master_key)),
                json!({"key": token, "max_budget": 5000.0}),
            )
            .await?;
            changes.push(Change {
                what: "LiteLLM: contractor1's key budget raised to 5000".into(),
                address: addr,
                attr: "max_budget",
                severity: Severity::High,
            });
        }
        // Authentik: the contractors' group made superuser.
        if let Some(addr) = find_by(st, "webide_authentik_group", "name", "coder-members") {
            let pk = values(st, &addr)
                .and_then(|v| v["id"].as_str())
                .unwrap_or_default();
            self.call(
                Method::PATCH,
                format!("{}/api/v3/core/groups/{pk}/", self.sb.authentik_url),
                ("Authorization", format!("Bearer {}", c.authentik_token)),
                json!({"is_superuser": true}),
            )
            .await?;
            changes.push(Change {
                what: "Authentik: group coder-members made superuser".into(),
                address: addr,
                attr: "is_superuser",
                severity: Severity::Critical,
            });
        }
        // Gitea: the SSO login source renamed with the CLI in its container.
        if let Some(addr) = find_by(st, "webide_gitea_login_source", "name", "authentik") {
            let v = values(st, &addr).cloned().unwrap_or_default();
            let container = v["container"].as_str().unwrap_or_default();
            let out = Command::new("docker")
                .args(["exec", "-u", "git", container, "gitea", "admin", "auth"])
                .arg("update-oauth")
                .arg(format!("--id={}", v["id"]))
                .arg("--name=renamed-by-hand")
                .output()?;
            ensure!(
                out.status.success(),
                "gitea update-oauth in {container}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            changes.push(Change {
                what: "Gitea: SSO login source renamed with `gitea admin auth update-oauth`".into(),
                address: addr,
                attr: "name",
                severity: Severity::High,
            });
        }
        // Docker: a service container stopped by hand.
        let services: Vec<String> = webide_acceptance_tests::resource_addresses(st)
            .into_iter()
            .filter(|a| a.contains("webide_compose_service."))
            .collect();
        if let Some(addr) = services
            .iter()
            .find(|a| a.contains("mailpit"))
            .or(services.first())
        {
            let name = values(st, addr)
                .and_then(|v| v["name"].as_str())
                .unwrap_or_default()
                .to_string();
            let out = Command::new("docker")
                .args(["stop", "-t", "2", &name])
                .output()?;
            ensure!(
                out.status.success(),
                "docker stop {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            changes.push(Change {
                what: format!("Docker: container {name} stopped with `docker stop`"),
                address: addr.clone(),
                attr: "",
                severity: Severity::Info,
            });
        }
        if changes.is_empty() {
            bail!("the state holds none of the objects the scripted drift changes");
        }
        done.extend(changes.iter().map(|ch| ch.what.clone()));
        self.changes = changes;
        Ok(done)
    }

    /// Every scripted change is in the report, with at least its expected severity.
    pub fn check_report(&self, report: &Report) -> Result<()> {
        for ch in &self.changes {
            let e = report
                .entries
                .iter()
                .find(|e| e.address == ch.address)
                .with_context(|| format!("the drift report misses {} ({})", ch.address, ch.what))?;
            if !ch.attr.is_empty() {
                ensure!(
                    e.changes.iter().any(|c| c.path.starts_with(ch.attr)),
                    "the report entry of {} does not name {}",
                    ch.address,
                    ch.attr
                );
            }
            ensure!(
                e.severity >= ch.severity,
                "{} is reported as {:?}, expected at least {:?}",
                ch.address,
                e.severity,
                ch.severity
            );
        }
        Ok(())
    }

    /// After the healing apply, the services hold the configured values again.
    pub async fn check_healed(&self) -> Result<()> {
        let c = &self.sb.config;
        for ch in &self.changes {
            match ch.attr {
                "restricted" => {
                    let u = self
                        .call(
                            Method::GET,
                            format!("{}/api/v1/users/contractor1", self.sb.gitea_url),
                            ("Authorization", format!("token {}", c.gitea_admin_token)),
                            Value::Null,
                        )
                        .await?;
                    ensure!(
                        u["restricted"] == json!(true),
                        "contractor1 restricted again: {u}"
                    );
                }
                "name" => {
                    let container = values(&self.state, &ch.address)
                        .and_then(|v| v["container"].as_str())
                        .unwrap_or_default();
                    let db = gitea_db(container)?;
                    ensure!(
                        db["sources"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|s| s["name"] == "authentik"),
                        "the login source is named authentik again: {db}"
                    );
                }
                "roles" => {
                    let user = if ch.address.contains("oidc_role_sync") {
                        SSO_USER
                    } else {
                        "contractor2"
                    };
                    let want: BTreeSet<String> = if user == SSO_USER {
                        ["auditor".to_string()].into()
                    } else {
                        BTreeSet::new()
                    };
                    let have = coder_roles(self.sb, user)?;
                    ensure!(
                        have == want,
                        "coder {user} roles after healing: {have:?}, expected {want:?}"
                    );
                }
                "max_budget" => {
                    let state = self.sb.litellm_store().snapshot();
                    ensure!(
                        !state
                            .keys
                            .values()
                            .any(|k| k["max_budget"] == json!(5000.0)),
                        "the raised budget is gone"
                    );
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Objects with the job's prefix or created by it still present after destroy.
pub fn leftovers(sb: &RunningSandbox, prefix: &str) -> Result<Vec<String>> {
    let mut left = Vec::new();
    let gitea = sb.gitea_store().snapshot();
    left.extend(
        gitea
            .users
            .keys()
            .filter(|u| *u != &sb.config.gitea_admin_username)
            .map(|u| format!("gitea user {u}")),
    );
    left.extend(gitea.orgs.keys().map(|o| format!("gitea org {o}")));
    let coder = sb.coder_store().snapshot();
    left.extend(
        coder
            .templates
            .values()
            .map(|t| format!("coder template {}", t["name"])),
    );
    left.extend(
        coder
            .users
            .values()
            .filter(|u| u["username"] != "admin")
            .map(|u| format!("coder user {}", u["username"])),
    );
    left.extend(gitea.repos.keys().map(|r| format!("gitea repo {r}")));
    let ak = sb.authentik_store().snapshot();
    left.extend(
        ak.rows(webide_sandbox::authentik::Kind::Users)
            .filter(|u| u["username"] != "akadmin")
            .map(|u| format!("authentik user {}", u["username"])),
    );
    left.extend(
        ak.rows(webide_sandbox::authentik::Kind::OAuth2Providers)
            .map(|p| format!("authentik provider {}", p["name"])),
    );
    let lite = sb.litellm_store().snapshot();
    left.extend(lite.keys.keys().map(|k| format!("litellm key {k}")));
    left.extend(lite.teams.keys().map(|k| format!("litellm team {k}")));
    if docker_available().is_ok() {
        let out = Command::new("docker")
            .args([
                "ps",
                "-a",
                "--filter",
                "label=webide.managed=true",
                "--format",
                "{{.Names}}",
            ])
            .output()?;
        for n in String::from_utf8_lossy(&out.stdout).lines() {
            if n.starts_with(prefix) {
                left.push(format!("container {n}"));
            }
        }
        for kind in ["network", "volume"] {
            let out = Command::new("docker")
                .args([
                    kind,
                    "ls",
                    "--filter",
                    "label=webide.managed=true",
                    "--format",
                    "{{.Name}}",
                ])
                .output()?;
            for n in String::from_utf8_lossy(&out.stdout).lines() {
                if n.starts_with(prefix) {
                    left.push(format!("{kind} {n}"));
                }
            }
        }
    }
    Ok(left)
}

/// The template's provisioning key, tried on the LiteLLM simulator: it makes a contractor-team
/// key within its budget, and is refused a higher budget, another team, admin routes and
/// another user's key. Everything it makes here is deleted again.
pub async fn check_provisioning_key(sb: &RunningSandbox, state: &Value) -> Result<Vec<String>> {
    let v = values(state, "webide_litellm_key.provisioner")
        .context("webide_litellm_key.provisioner in state")?;
    let (key, team) = (
        v["key"].as_str().context("provisioning key secret")?,
        v["team_id"].as_str().context("provisioning key team")?,
    );
    let master = sb.config.litellm_master_key.clone();
    let http = reqwest::Client::new();
    let call = |bearer: String, path: &'static str, body: Value| {
        let req = http
            .post(format!("{}{path}", sb.litellm_url))
            .bearer_auth(bearer)
            .json(&body);
        async move {
            let res = req.send().await.with_context(|| format!("POST {path}"))?;
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            anyhow::Ok((status, body))
        }
    };
    let message = |b: &Value| {
        b["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let mut lines = Vec::new();

    let (st, made) = call(
        key.into(),
        "/key/generate",
        json!({"team_id": team, "key_type": "llm_api", "max_budget": 25, "key_alias": "main-job-provisioning-check"}),
    )
    .await?;
    ensure!(
        st == 200,
        "the provisioning key could not make a contractor key: {st} {made}"
    );
    ensure!(
        made["user_id"] == "workspace-provisioner"
            && made["allowed_routes"] == json!(["llm_api_routes"]),
        "the key it made: {made}"
    );
    lines.push("makes a contractor-team key (llm_api routes, 25 USD): 200".into());

    let (st, b) = call(
        key.into(),
        "/key/generate",
        json!({"team_id": team, "max_budget": 1000}),
    )
    .await?;
    ensure!(
        st == 400 && message(&b).contains("cannot exceed the caller's own max_budget"),
        "over budget: {st} {b}"
    );
    lines.push(format!(
        "refused above its own budget: {st} ({})",
        message(&b)
    ));

    let (st, other) = call(
        master.clone(),
        "/team/new",
        json!({"team_alias": "main-job-other-team"}),
    )
    .await?;
    ensure!(st == 200, "making another team: {st} {other}");
    let other_id = other["team_id"].as_str().unwrap_or_default().to_owned();
    let (st, b) = call(key.into(), "/key/generate", json!({"team_id": other_id})).await?;
    let (dst, _) = call(
        master.clone(),
        "/team/delete",
        json!({"team_ids": [other_id]}),
    )
    .await?;
    ensure!(dst == 200, "deleting the other team");
    ensure!(
        st == 400 && message(&b).contains("not assigned to team"),
        "another team: {st} {b}"
    );
    lines.push(format!("refused for another team: {st} ({})", message(&b)));

    // Well-formed requests, so the refusal is the route gate's and the contract checks pass.
    let team_id = made["team_id"].clone();
    for (path, body) in [
        ("/team/new", json!({"team_alias": "provisioner-made"})),
        (
            "/model/new",
            json!({
                "model_name": "provisioner-model",
                "litellm_params": {"model": "openai/gpt-4o-mini"},
                "model_info": {"id": "provisioner-model-id"}
            }),
        ),
        (
            "/team/member_add",
            json!({"team_id": team_id, "member": {"role": "admin", "user_id": "workspace-provisioner"}}),
        ),
    ] {
        let (st, b) = call(key.into(), path, body).await?;
        ensure!(
            st == 403 && message(&b).starts_with("Virtual key is not allowed to call this route"),
            "{path}: {st} {b}"
        );
        lines.push(format!("refused {path}: {st}"));
    }

    let someone = sb
        .litellm_store()
        .snapshot()
        .keys
        .values()
        .find(|k| k["user_id"] == "contractor1")
        .and_then(|k| k["token"].as_str().map(str::to_owned))
        .context("contractor1's key")?;
    let (st, b) = call(key.into(), "/key/delete", json!({"keys": [someone]})).await?;
    ensure!(st == 403, "deleting contractor1's key: {st} {b}");
    lines.push(format!("refused deleting contractor1's key: {st}"));

    let (st, b) = call(key.into(), "/key/delete", json!({"keys": [made["token"]]})).await?;
    ensure!(st == 200, "deleting its own key: {st} {b}");
    lines.push("deletes the key it made: 200".into());
    Ok(lines)
}

/// The role matrix's "cannot create repositories": each person tries `POST /user/repos` with
/// their own password on Gitea. Contractors and read-only users (max_repo_creation 0) are
/// refused by Gitea's repository limit; the app manager may, and the repository is removed.
pub async fn check_repo_creation(sb: &RunningSandbox, password: &str) -> Result<Vec<String>> {
    let http = reqwest::Client::new();
    let mut lines = Vec::new();
    for (user, allowed) in [
        ("contractor1", false),
        ("contractor2", false),
        ("contractor3", false),
        ("readonly", false),
        ("appmanager", true),
    ] {
        let res = http
            .post(format!("{}/api/v1/user/repos", sb.gitea_url))
            .basic_auth(user, Some(password))
            .json(&json!({"name": "main-job-repo-create-check"}))
            .send()
            .await
            .with_context(|| format!("POST /user/repos as {user}"))?;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if allowed {
            ensure!(
                status == 201,
                "{user} could not create a repository: {status} {body}"
            );
            let del = http
                .delete(format!(
                    "{}/api/v1/repos/{user}/main-job-repo-create-check",
                    sb.gitea_url
                ))
                .header(
                    "Authorization",
                    format!("token {}", sb.config.gitea_admin_token),
                )
                .send()
                .await?;
            ensure!(
                del.status().is_success(),
                "removing {user}'s check repository: {}",
                del.status()
            );
            lines.push(format!("{user:<12} may create a repository: {status}"));
        } else {
            let msg = body["message"].as_str().unwrap_or_default();
            ensure!(
                status == 403 && msg.contains("maximum limit of repositories"),
                "{user} was not refused a repository: {status} {body}"
            );
            lines.push(format!(
                "{user:<12} cannot create a repository: {status} ({msg})"
            ));
        }
    }
    Ok(lines)
}

/// What a workspace build of the contractor template would receive: the `tf_vars` pushed with
/// the template (from state; values Terraform marks sensitive, and any whose name says key,
/// token, secret or password, are shown masked), checked against the template's own
/// `variable` blocks: every variable without a default must be given, every given one declared.
pub fn check_workspace_inputs(state: &Value, template_dir: &Path) -> Result<Vec<String>> {
    let addr = find_by_type(state, "webide_coder_template").context("coder template in state")?;
    let resource = find_resource(state, &addr).context("coder template resource")?;
    let vars = resource
        .pointer("/values/tf_vars")
        .and_then(Value::as_object)
        .context("tf_vars of the coder template")?;
    let marked = resource.pointer("/sensitive_values/tf_vars");
    let masked = |k: &str| {
        marked == Some(&Value::Bool(true))
            || marked.and_then(|m| m.get(k)) == Some(&Value::Bool(true))
            || ["key", "token", "secret", "password"]
                .iter()
                .any(|s| k.to_ascii_lowercase().contains(s))
    };
    let webide_acceptance_tests::template::Variables { required, declared } =
        webide_acceptance_tests::template::variables(template_dir)?;
    let given: BTreeSet<String> = vars.keys().cloned().collect();
    let missing: Vec<_> = required.difference(&given).collect();
    ensure!(
        missing.is_empty(),
        "template variables without a default that tf_vars does not give: {missing:?}"
    );
    let undeclared: Vec<_> = given.difference(&declared).collect();
    ensure!(
        undeclared.is_empty(),
        "tf_vars the template does not declare: {undeclared:?}"
    );
    let mut lines: Vec<String> = vars
        .iter()
        .map(|(k, v)| {
            let shown = match v.as_str() {
                Some(s) if masked(k) => format!("(sensitive, {} characters)", s.chars().count()),
                Some(s) => format!("{s:?}"),
                None => v.to_string(),
            };
            format!("tf_vars.{k} = {shown}")
        })
        .collect();
    lines.push(format!(
        "all {} template variables without a default are given ({} declared)",
        required.len(),
        declared.len()
    ));
    Ok(lines)
}

/// The AI gateway: LiteLLM's rendered configuration (from state) closes the personal-key
/// loophole and keeps secrets as `os.environ/` references, Langfuse is off by default, and the
/// container answers `/health` on the seeds' :8090 (published by Docker; the stand-in answers).
pub async fn check_ai_gateway(
    state: &Value,
    port_offset: u64,
    docker: bool,
) -> Result<Vec<String>> {
    let v =
        values(state, "webide_compose_service.litellm").context("litellm container in state")?;
    let text = v["env"]["LITELLM_CONFIG_JSON"]
        .as_str()
        .context("LITELLM_CONFIG_JSON in the litellm container's env")?;
    let config: Value = serde_json::from_str(text).context("the rendered LiteLLM config")?;
    let roles = &config["litellm_settings"]["key_generation_settings"]["personal_key_generation"]
        ["allowed_user_roles"];
    ensure!(
        roles == &json!(["proxy_admin"]),
        "personal keys for proxy admins only: {config}"
    );
    ensure!(
        config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY",
        "the master key stays in the environment: {config}"
    );
    ensure!(
        config["litellm_settings"].get("success_callback").is_none()
            && find_resource(state, "webide_compose_service.langfuse[0]").is_none(),
        "Langfuse is off by default"
    );
    let mut lines = vec![format!(
        "LiteLLM config: personal_key_generation.allowed_user_roles={roles}, secrets as os.environ/ references, no Langfuse callback (langfuse_enabled=false)"
    )];
    let ports: Vec<u64> = v["port"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["external"].as_u64()).collect())
        .unwrap_or_default();
    let gateway = 8090 + port_offset;
    ensure!(
        ports.contains(&gateway),
        "the AI gateway port {gateway} is published: {ports:?}"
    );
    if docker {
        let res = reqwest::get(format!("http://localhost:{gateway}/health"))
            .await
            .with_context(|| format!("GET http://localhost:{gateway}/health"))?;
        ensure!(
            res.status().is_success(),
            "AI gateway /health: {}",
            res.status()
        );
        lines.push(format!(
            "AI gateway: http://localhost:{gateway}/health -> {} (the litellm container, also :{})",
            res.status().as_u16(),
            4000 + port_offset
        ));
    }
    Ok(lines)
}
