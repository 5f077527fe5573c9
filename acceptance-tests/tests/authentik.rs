//! Authentik with the real Terraform CLI against the sandbox: the seeds' RBAC groups, users
//! with passwords and groups, a `groups` scope mapping, OAuth2 providers + applications for
//! Coder, Gitea and MinIO (both callback URLs), client secrets kept sensitive; re-plan empty;
//! password change in place; drift through the API shown and healed; import round-trips;
//! bad input refused; destroy leaves only the seeded objects.

use anyhow::{ensure, Context, Result};
use reqwest::Method;
use serde_json::{json, Value};
use webide_acceptance_tests::{planned_actions, Harness};
use webide_sandbox::authentik::Kind;
use webide_sandbox::{Ports, SandboxConfig};

const MAIN_TF: &str = r#"
terraform {
  required_providers {
    webide = { source = "webide/webide" }
  }
}

variable "password" {
  type      = string
  sensitive = true
  default   = "password123"
}

resource "webide_authentik_group" "rbac" {
  for_each = toset(["coder-admins", "coder-template-admins", "coder-auditors", "coder-members"])
  name     = each.key
}

locals {
  users = {
    appmanager  = "coder-template-admins"
    contractor1 = "coder-members"
    contractor2 = "coder-members"
    readonly    = "coder-auditors"
  }
}

resource "webide_authentik_user" "u" {
  for_each = local.users
  username = each.key
  name     = title(each.key)
  email    = "${each.key}@example.com"
  password = var.password
  groups   = [webide_authentik_group.rbac[each.value].id]
  attributes = jsonencode({ role = each.value, seeds = true })
}

resource "webide_authentik_scope_mapping" "groups" {
  name       = "webide: groups claim"
  scope_name = "groups"
  expression = "return {\"groups\": [g.name for g in request.user.ak_groups.all()]}"
}

data "webide_authentik_flow" "authz" {
  slug = "default-provider-authorization-implicit-consent"
}

data "webide_authentik_flow" "logout" {
  slug = "default-provider-invalidation-flow"
}

locals {
  apps = {
    coder = ["https://host.docker.internal:7443/api/v2/users/oidc/callback", "http://host.docker.internal:7080/api/v2/users/oidc/callback"]
    gitea = ["http://localhost:3000/user/oauth2/authentik/callback"]
    minio = ["http://localhost:9001/oauth_callback"]
  }
}

resource "webide_authentik_oauth2_provider" "p" {
  for_each           = local.apps
  name               = each.key
  authorization_flow = data.webide_authentik_flow.authz.id
  invalidation_flow  = data.webide_authentik_flow.logout.id
  redirect_uris      = each.value
  property_mappings  = [webide_authentik_scope_mapping.groups.id]
}

resource "webide_authentik_application" "a" {
  for_each        = local.apps
  name            = title(each.key)
  slug            = each.key
  provider_id     = webide_authentik_oauth2_provider.p[each.key].id
  meta_launch_url = each.value[0]
}

output "client_ids" {
  value = { for k, p in webide_authentik_oauth2_provider.p : k => p.client_id }
}

output "client_secrets" {
  value     = { for k, p in webide_authentik_oauth2_provider.p : k => p.client_secret }
  sensitive = true
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentik_rbac_users_and_sso_apps() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let store = sb.authentik_store();
    let seeded = store.snapshot();
    let http = reqwest::Client::new();
    let api = |m: Method, path: String, body: Value| {
        http.request(m, format!("{}/api/v3{path}", sb.authentik_url))
            .bearer_auth(&sb.config.authentik_token)
            .json(&body)
            .send()
    };
    let mut wd = h.workdir_with_main(MAIN_TF)?;
    wd.set_env("AUTHENTIK_URL", &sb.authentik_url);
    wd.set_env("AUTHENTIK_TOKEN", &sb.config.authentik_token);
    let log = wd.enable_log("trace");

    wd.init().await?;
    wd.apply().await?;
    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after apply")?;

    let st = store.snapshot();
    ensure!(st.count(Kind::Groups) == seeded.count(Kind::Groups) + 4);
    let members = st.group("coder-members").context("group")?["pk"].clone();
    let c1 = st.user("contractor1").context("contractor1")?.clone();
    ensure!(c1["groups"] == json!([members]), "{c1}");
    ensure!(st.password_matches(c1["pk"].as_i64().unwrap(), "password123"));
    let coder = st
        .rows(Kind::OAuth2Providers)
        .find(|p| p["name"] == "coder")
        .context("coder provider")?
        .clone();
    ensure!(
        coder["redirect_uris"].as_array().map(Vec::len) == Some(2),
        "both callbacks: {coder}"
    );
    let secrets = wd.output("client_secrets").await?;
    ensure!(
        secrets["coder"] == coder["client_secret"],
        "client secret output"
    );
    let ids = wd.output("client_ids").await?;
    ensure!(ids["gitea"].as_str().is_some_and(|s| s.len() == 40));
    // Secrets stay out of the logs (the trace log of init, apply, plan and output).
    let text = wd.read_log()?;
    let secret = coder["client_secret"].as_str().unwrap_or_default();
    ensure!(
        !secret.is_empty() && !text.contains(secret),
        "client secret in the trace log"
    );
    ensure!(
        !text.contains(&sb.config.authentik_token),
        "API token in the trace log"
    );
    ensure!(!text.contains("password123"), "password in the trace log");
    wd.disable_log();
    let _ = std::fs::remove_file(log);

    // Password change: in place, then stable.
    wd.set_env("TF_VAR_password", "a-new-password-2");
    let plan = wd.plan_json().await?;
    ensure!(planned_actions(&plan)["webide_authentik_user.u[\"contractor1\"]"] == ["update"]);
    wd.apply().await?;
    ensure!(store
        .snapshot()
        .password_matches(c1["pk"].as_i64().unwrap(), "a-new-password-2"));
    wd.plan().await?.assert_empty()?;

    // Drift through the API: contractor1 deactivated and moved to coder-admins.
    let admins = store.snapshot().group("coder-admins").context("admins")?["pk"].clone();
    let res = api(
        Method::PATCH,
        format!("/core/users/{}/", c1["pk"]),
        json!({"is_active": false, "groups": [admins]}),
    )
    .await?;
    ensure!(res.status().is_success(), "{}", res.text().await?);
    let plan = wd.plan().await?;
    plan.assert_changes()?;
    ensure!(
        plan.stdout.contains("is_active") && plan.stdout.contains("groups"),
        "{}",
        plan.stdout
    );
    wd.apply().await?;
    let u = store
        .snapshot()
        .user("contractor1")
        .cloned()
        .context("user")?;
    ensure!(
        u["is_active"] == true && u["groups"] == json!([members]),
        "healed: {u}"
    );
    wd.plan().await?.assert_empty()?;

    // Import of each type.
    for (addr, id) in [
        (
            "webide_authentik_user.u[\"contractor2\"]",
            "contractor2".to_string(),
        ),
        (
            "webide_authentik_group.rbac[\"coder-auditors\"]",
            "coder-auditors".into(),
        ),
        (
            "webide_authentik_scope_mapping.groups",
            "webide: groups claim".into(),
        ),
        (
            "webide_authentik_oauth2_provider.p[\"minio\"]",
            "minio".into(),
        ),
        ("webide_authentik_application.a[\"minio\"]", "minio".into()),
    ] {
        wd.run(&["state", "rm", addr]).await?;
        wd.import(addr, &id)
            .await
            .with_context(|| format!("import {addr}"))?;
    }
    // The imported user's password is write-only: set once more, then nothing changes.
    let plan = wd.plan_json().await?;
    let changing: Vec<_> = planned_actions(&plan)
        .into_iter()
        .filter(|(_, a)| a.iter().any(|x| x != "no-op" && x != "read"))
        .collect();
    ensure!(
        changing
            .iter()
            .all(|(a, x)| a == "webide_authentik_user.u[\"contractor2\"]" && x == &["update"]),
        "after import only the password is set again: {changing:?}"
    );
    wd.apply().await?;
    wd.assert_no_resource_changes().await?;

    // Bad input: an unknown group pk, and a duplicate username — Authentik's field errors name
    // the attribute; state unchanged.
    let before = wd.show_state_json().await?;
    wd.write(
        "bad.tf",
        "resource \"webide_authentik_user\" \"ghost\" {\n  username = \"ghost\"\n  name = \"Ghost\"\n  groups = [\"00000000-0000-0000-0000-000000000000\"]\n}\nresource \"webide_authentik_user\" \"dup\" {\n  username = \"contractor1\"\n  name = \"Dup\"\n}\n",
    )?;
    let out = wd.apply_expect_failure().await?;
    ensure!(
        out.stderr.contains("object does not exist") && out.stderr.contains("groups"),
        "{}",
        out.stderr
    );
    ensure!(
        out.stderr.contains("already exists") && out.stderr.contains("username"),
        "{}",
        out.stderr
    );
    wd.remove("bad.tf")?;
    let after = wd.show_state_json().await?;
    let managed = |d: &Value| -> Vec<Value> {
        d.pointer("/values/root_module/resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|r| r["mode"] == "managed")
            .map(|r| json!([r["address"], r["values"]]))
            .collect()
    };
    let (b, a) = (managed(&before), managed(&after));
    let changed: Vec<_> = b
        .iter()
        .zip(&a)
        .filter(|(x, y)| x != y)
        .map(|(x, y)| format!("{x}\n{y}"))
        .collect();
    ensure!(
        b.len() == a.len() && changed.is_empty(),
        "state unchanged: {changed:?}"
    );
    ensure!(store.snapshot().user("ghost").is_none());

    // Destroy: back to the seeded objects.
    wd.destroy().await?;
    let st = store.snapshot();
    for k in Kind::ALL {
        ensure!(
            st.count(k) == seeded.count(k),
            "{k:?}: {} left, {} seeded",
            st.count(k),
            seeded.count(k)
        );
    }
    webide_acceptance_tests::assert_contract(&sb)?;
    Ok(())
}
