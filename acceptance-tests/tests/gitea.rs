//! Gitea with the real Terraform CLI against the sandbox: the seeds' user matrix (appmanager
//! unrestricted and allowed to create organizations; contractor1-3 and readonly restricted),
//! an organization with repositories, a team and collaborator grants; re-plan empty;
//! restricted users see exactly the repositories granted (checked with their own
//! credentials); drift made through the admin API shows in plan and apply restores it; import
//! of every type round-trips; bad input is refused; destroy leaves nothing.

use anyhow::{ensure, Context, Result};
use reqwest::Method;
use serde_json::{json, Value};
use webide_acceptance_tests::{planned_actions, Harness};
use webide_sandbox::{Ports, RunningSandbox, SandboxConfig};

const MAIN_TF: &str = r#"
terraform {
  required_providers {
    webide = { source = "webide/webide" }
  }
}

variable "contractor1_password" {
  type      = string
  sensitive = true
  default   = "password123"
}

locals {
  # the seeds' permission matrix
  users = {
    appmanager  = { restricted = false, orgs = true }
    contractor1 = { restricted = true, orgs = false }
    contractor2 = { restricted = true, orgs = false }
    contractor3 = { restricted = true, orgs = false }
    readonly    = { restricted = true, orgs = false }
  }
}

resource "webide_gitea_user" "u" {
  for_each                  = local.users
  username                  = each.key
  email                     = "${each.key}@example.com"
  full_name                 = title(each.key)
  password                  = each.key == "contractor1" ? var.contractor1_password : "password123"
  restricted                = each.value.restricted
  allow_create_organization = each.value.orgs
}

resource "webide_gitea_org" "platform" {
  name        = "platform"
  description = "Shared repositories"
}

resource "webide_gitea_repository" "app" {
  owner = webide_gitea_org.platform.name
  name  = "contractor-app"
}

resource "webide_gitea_repository" "tools" {
  owner = webide_gitea_org.platform.name
  name  = "internal-tools"
}

resource "webide_gitea_repository" "docs" {
  owner   = webide_gitea_org.platform.name
  name    = "public-docs"
  private = false
}

resource "webide_gitea_team" "contractors" {
  org          = webide_gitea_org.platform.name
  name         = "contractors"
  permission   = "write"
  members      = [webide_gitea_user.u["contractor1"].username, webide_gitea_user.u["contractor2"].username]
  repositories = [webide_gitea_repository.app.name]
}

resource "webide_gitea_repository_collaborator" "readonly" {
  owner      = webide_gitea_org.platform.name
  repository = webide_gitea_repository.app.name
  username   = webide_gitea_user.u["readonly"].username
  permission = "read"
}

resource "webide_gitea_repository_collaborator" "c3_tools" {
  owner      = webide_gitea_org.platform.name
  repository = webide_gitea_repository.tools.name
  username   = webide_gitea_user.u["contractor3"].username
}

output "clone_url" {
  value = webide_gitea_repository.app.clone_url
}
"#;

struct Api {
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    fn new(sb: &RunningSandbox) -> Api {
        Api {
            url: format!("{}/api/v1", sb.gitea_url),
            token: sb.config.gitea_admin_token.clone(),
            http: reqwest::Client::new(),
        }
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("Authorization", format!("token {}", self.token));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Names of the repositories `user` finds with `/repos/search`, signed in as itself.
    async fn visible_to(&self, user: &str, password: &str) -> Result<Vec<String>> {
        let res = self
            .http
            .get(format!("{}/repos/search?limit=50", self.url))
            .basic_auth(user, Some(password))
            .send()
            .await?;
        ensure!(
            res.status().is_success(),
            "{user} signs in: {}",
            res.status()
        );
        let body: Value = res.json().await?;
        let mut names: Vec<String> = body["data"]
            .as_array()
            .context("search data")?
            .iter()
            .filter_map(|r| r["name"].as_str().map(String::from))
            .collect();
        names.sort();
        Ok(names)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitea_users_orgs_teams_repositories() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let api = Api::new(&sb);
    let store = sb.gitea_store();
    let mut wd = h.workdir_with_main(MAIN_TF)?;
    wd.set_env("GITEA_BASE_URL", &sb.gitea_url);
    wd.set_env("GITEA_TOKEN", &sb.config.gitea_admin_token);

    wd.init().await?;
    wd.apply().await?;
    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after apply")?;

    // The permission matrix, as Gitea has it.
    let st = store.snapshot();
    for (name, restricted, orgs) in [
        ("appmanager", false, true),
        ("contractor1", true, false),
        ("contractor2", true, false),
        ("contractor3", true, false),
        ("readonly", true, false),
    ] {
        let u = &st.users[name];
        ensure!(
            (u.restricted, u.allow_create_organization, u.is_admin) == (restricted, orgs, false),
            "{name}: {u:?}"
        );
    }
    ensure!(wd
        .output("clone_url")
        .await?
        .as_str()
        .is_some_and(|u| u.ends_with("/platform/contractor-app.git")));

    // Restricted users see exactly what they were granted, with their own credentials.
    let see = |u: &'static str| api.visible_to(u, "password123");
    ensure!(
        see("contractor1").await? == ["contractor-app"],
        "contractor1 (team)"
    );
    ensure!(
        see("contractor3").await? == ["internal-tools"],
        "contractor3 (collaborator)"
    );
    ensure!(
        see("readonly").await? == ["contractor-app"],
        "readonly (read collaborator)"
    );
    ensure!(
        see("appmanager").await? == ["public-docs"],
        "unrestricted: public repositories only"
    );

    // Drift through the admin API: contractor1 un-restricted, contractor2 dropped from the team.
    let (s, _) = api
        .admin(
            Method::PATCH,
            "/admin/users/contractor1",
            Some(json!({"restricted": false, "login_name": "", "source_id": 0})),
        )
        .await?;
    ensure!(s == 200);
    let team_id = wd.state_resource("webide_gitea_team.contractors").await?["id"]
        .as_i64()
        .context("team id")?;
    let (s, _) = api
        .admin(
            Method::DELETE,
            &format!("/teams/{team_id}/members/contractor2"),
            None,
        )
        .await?;
    ensure!(s == 204);
    ensure!(
        see("contractor1")
            .await?
            .contains(&"public-docs".to_string()),
        "un-restricted by hand"
    );
    let plan = wd.plan().await?;
    plan.assert_changes()?;
    ensure!(
        plan.stdout.contains("restricted") && plan.stdout.contains("contractor2"),
        "plan shows the drift:\n{}",
        plan.stdout
    );
    wd.apply().await?;
    ensure!(
        store.snapshot().users["contractor1"].restricted,
        "apply restores the flag"
    );
    ensure!(see("contractor1").await? == ["contractor-app"]);
    ensure!(store.snapshot().teams[&team_id]
        .members
        .contains("contractor2"));
    wd.plan().await?.assert_empty()?;

    // Password change: in place; the new password works, then no diff.
    wd.set_env("TF_VAR_contractor1_password", "a-new-password-1");
    let plan = wd.plan_json().await?;
    ensure!(planned_actions(&plan)["webide_gitea_user.u[\"contractor1\"]"] == ["update"]);
    wd.apply().await?;
    api.visible_to("contractor1", "a-new-password-1").await?;
    ensure!(
        api.visible_to("contractor1", "password123").await.is_err(),
        "old password refused"
    );
    wd.plan().await?.assert_empty()?;

    // Import of every type round-trips.
    for (addr, id) in [
        (
            "webide_gitea_user.u[\"contractor2\"]",
            "contractor2".to_string(),
        ),
        ("webide_gitea_org.platform", "platform".into()),
        (
            "webide_gitea_repository.app",
            "platform/contractor-app".into(),
        ),
        (
            "webide_gitea_team.contractors",
            "platform/contractors".into(),
        ),
        (
            "webide_gitea_repository_collaborator.readonly",
            "platform/contractor-app/readonly".into(),
        ),
    ] {
        wd.run(&["state", "rm", addr]).await?;
        wd.import(addr, &id)
            .await
            .with_context(|| format!("import {addr}"))?;
    }
    // Passwords are write-only: an imported user has none in state, which the next apply
    // sets again (one update), then everything is stable.
    let plan = wd.plan_json().await?;
    let changing: Vec<_> = planned_actions(&plan)
        .into_iter()
        .filter(|(_, a)| a.iter().any(|x| x != "no-op" && x != "read"))
        .collect();
    ensure!(
        changing
            .iter()
            .all(|(a, x)| a == "webide_gitea_user.u[\"contractor2\"]" && x == &["update"]),
        "only the imported user's password is set again: {changing:?}"
    );
    wd.apply().await?;
    wd.assert_no_resource_changes().await?;

    // Bad input: an invalid e-mail is refused at validate time, naming the attribute.
    let bad = h.workdir_with_main(&format!(
        "{}\n{}",
        "terraform {\n  required_providers {\n    webide = { source = \"webide/webide\" }\n  }\n}",
        "resource \"webide_gitea_user\" \"x\" {\n  username = \"x1\"\n  email = \"not-an-email\"\n  password = \"password123\"\n}"
    ))?;
    bad.init().await?;
    let out = bad.run_expect_failure(&["validate", "-no-color"]).await?;
    ensure!(out.stderr.contains("email"), "{}", out.stderr);
    // A duplicate username: Gitea's message, and the state unchanged.
    let before = wd.show_state_json().await?;
    wd.write(
        "dup.tf",
        "resource \"webide_gitea_user\" \"dup\" {\n  username = \"contractor1\"\n  email = \"other@example.com\"\n  password = \"password123\"\n}\n",
    )?;
    let out = wd.apply_expect_failure().await?;
    ensure!(out.stderr.contains("user already exists"), "{}", out.stderr);
    ensure!(
        out.stderr.contains("username"),
        "names the attribute: {}",
        out.stderr
    );
    wd.remove("dup.tf")?;
    let after = wd.show_state_json().await?;
    let resources = |doc: &Value| -> Vec<Value> {
        doc.pointer("/values/root_module/resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| json!([r["address"], r["values"]]))
            .collect()
    };
    ensure!(
        resources(&before) == resources(&after),
        "state unchanged by the failed create:\n{}\n{}",
        before,
        after
    );

    // Destroy: only the site admin is left.
    wd.destroy().await?;
    let st = store.snapshot();
    ensure!(
        st.users.len() == 1 && st.users.contains_key("gitea"),
        "{:?}",
        st.users.keys()
    );
    ensure!(st.orgs.is_empty() && st.repos.is_empty() && st.teams.is_empty());
    Ok(())
}
