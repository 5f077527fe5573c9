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

# Read grants to users who get more elsewhere (write through the team; site admin): the
# grant is what is read back, so no perpetual diff.
resource "webide_gitea_repository_collaborator" "c1_read" {
  owner      = webide_gitea_org.platform.name
  repository = webide_gitea_repository.app.name
  username   = webide_gitea_user.u["contractor1"].username
  permission = "read"
  depends_on = [webide_gitea_team.contractors]
}

resource "webide_gitea_user" "siteadmin" {
  username = "siteadmin"
  email    = "siteadmin@example.com"
  password = "password123"
  admin    = true
}

resource "webide_gitea_repository_collaborator" "admin_read" {
  owner      = webide_gitea_org.platform.name
  repository = webide_gitea_repository.tools.name
  username   = webide_gitea_user.siteadmin.username
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
    wd.plan()
        .await?
        .assert_empty()
        .context("second plan: no perpetual diff on read grants given more elsewhere")?;

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
    // The read grant itself is stored as read (the team gives write).
    ensure!(
        store.snapshot().repos["platform/contractor-app"].collaborators["contractor1"] == "read"
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
            Some(json!({"restricted": false, "login_name": "contractor1", "source_id": 0})),
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

    // A grant lowered by hand is drift (nothing else lowers it).
    let (s, _) = api
        .admin(
            Method::PUT,
            "/repos/platform/internal-tools/collaborators/contractor3",
            Some(json!({"permission": "read"})),
        )
        .await?;
    ensure!(s == 204);
    let plan = wd.plan_json().await?;
    ensure!(
        planned_actions(&plan)["webide_gitea_repository_collaborator.c3_tools"] == ["update"],
        "lowered grant shows: {:?}",
        planned_actions(&plan)
    );
    wd.apply().await?;

    // Destroy: only the site admin is left.
    wd.destroy().await?;
    let st = store.snapshot();
    ensure!(
        st.users.len() == 1 && st.users.contains_key("gitea"),
        "{:?}",
        st.users.keys().collect::<Vec<_>>()
    );
    ensure!(st.orgs.is_empty() && st.repos.is_empty() && st.teams.is_empty());
    webide_acceptance_tests::assert_contract(&sb)?;
    Ok(())
}

const CONTRACT_TF: &str = r#"
terraform {
  required_providers {
    webide = { source = "webide/webide" }
  }
}

variable "name" {
  type    = string
  default = "contractor9"
}

resource "webide_gitea_user" "c" {
  username          = var.name
  email             = "contractor9@example.com"
  password          = "password123"
  restricted        = true
  max_repo_creation = 0
}

resource "webide_gitea_user" "dev" {
  username          = "dev1"
  email             = "dev1@example.com"
  password          = "password123"
  max_repo_creation = 1
}

resource "webide_gitea_org" "o" {
  name = "rename-org"
}

resource "webide_gitea_repository" "r" {
  owner = webide_gitea_org.o.name
  name  = "work"
}

resource "webide_gitea_team" "t" {
  org          = webide_gitea_org.o.name
  name         = "workers"
  permission   = "write"
  members      = [webide_gitea_user.c.username]
  repositories = [webide_gitea_repository.r.name]
}

resource "webide_gitea_repository_collaborator" "c" {
  owner      = webide_gitea_org.o.name
  repository = webide_gitea_repository.r.name
  username   = webide_gitea_user.c.username
  permission = "read"
}
"#;

/// Gitea 1.25's contract where the provider depends on it: the edit call's required
/// `login_name` (422 on an empty one, as Gitea's binding does), `max_repo_creation` set and
/// enforced on the user's own repository create, a rename in place keeping id, team and
/// grant, and names / local passwords checked at validate time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitea_edit_rename_and_repository_limit() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let api = Api::new(&sb);
    let store = sb.gitea_store();

    // The simulator refuses what Gitea refuses: an empty login_name; source_id 0 is fine.
    let (s, body) = api
        .admin(
            Method::PATCH,
            "/admin/users/gitea",
            Some(json!({"login_name": "", "source_id": 0, "full_name": "x"})),
        )
        .await?;
    ensure!(
        s == 422 && body["message"] == "[LoginName]: Required",
        "{s} {body}"
    );

    let mut wd = h.workdir_with_main(CONTRACT_TF)?;
    wd.set_env("GITEA_BASE_URL", &sb.gitea_url);
    wd.set_env("GITEA_TOKEN", &sb.config.gitea_admin_token);
    wd.init().await?;
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;
    let st = store.snapshot();
    let c = &st.users["contractor9"];
    ensure!(c.max_repo_creation == Some(0) && c.restricted && c.login_name == "contractor9");
    ensure!(st.users["dev1"].max_repo_creation == Some(1));

    // The limit: refused for the user's own create (403, Gitea's message), the admin exempt.
    let create_own = |user: &'static str, name: &'static str| {
        let http = api.http.clone();
        let url = format!("{}/user/repos", api.url);
        async move {
            let r = http
                .post(url)
                .basic_auth(user, Some("password123"))
                .json(&json!({ "name": name }))
                .send()
                .await?;
            Ok::<_, anyhow::Error>((r.status().as_u16(), r.text().await?))
        }
    };
    let (s, text) = create_own("contractor9", "mine").await?;
    ensure!(
        s == 403 && text.contains("maximum limit of repositories"),
        "contractor cannot create a repository: {s} {text}"
    );
    ensure!(
        create_own("dev1", "first").await?.0 == 201,
        "dev1: first repository"
    );
    ensure!(
        create_own("dev1", "second").await?.0 == 403,
        "dev1: over the limit"
    );
    let (s, _) = api
        .admin(
            Method::POST,
            "/admin/users/contractor9/repos",
            Some(json!({"name": "by-admin"})),
        )
        .await?;
    ensure!(s == 201, "site admin exempt from the limit");
    api.admin(Method::DELETE, "/repos/contractor9/by-admin", None)
        .await?;
    api.admin(Method::DELETE, "/repos/dev1/first", None).await?;

    // Rename in place: an update (not a replace); id, team membership and grant kept.
    let id = store.snapshot().users["contractor9"].id;
    wd.set_env("TF_VAR_name", "contractor10");
    let plan = wd.plan_json().await?;
    let actions = planned_actions(&plan);
    ensure!(
        actions["webide_gitea_user.c"] == ["update"],
        "rename is in place: {actions:?}"
    );
    wd.apply().await?;
    let st = store.snapshot();
    ensure!(!st.users.contains_key("contractor9"));
    ensure!(st.users["contractor10"].id == id, "same account");
    ensure!(st
        .teams
        .values()
        .any(|t| t.members.contains("contractor10")));
    ensure!(st.repos["rename-org/work"].collaborators["contractor10"] == "read");
    wd.plan().await?.assert_empty()?;
    wd.plan().await?.assert_empty()?;

    // Validate time: a local account without password, and names Gitea refuses.
    for (body, attr) in [
        (
            "resource \"webide_gitea_user\" \"x\" {\n  username = \"nopass\"\n  email = \"n@example.com\"\n}",
            "password",
        ),
        (
            "resource \"webide_gitea_user\" \"x\" {\n  username = \"first..last\"\n  email = \"n@example.com\"\n  password = \"password123\"\n}",
            "username",
        ),
        (
            "resource \"webide_gitea_repository\" \"x\" {\n  owner = \"o\"\n  name = \"bad.git\"\n}",
            "name",
        ),
    ] {
        let bad = h.workdir_with_main(&format!(
            "terraform {{\n  required_providers {{\n    webide = {{ source = \"webide/webide\" }}\n  }}\n}}\n{body}"
        ))?;
        bad.init().await?;
        let out = bad.run_expect_failure(&["validate", "-no-color"]).await?;
        ensure!(
            out.stderr.contains(attr),
            "{body}: {}",
            out.stderr
        );
    }

    wd.destroy().await?;
    ensure!(store.snapshot().users.len() == 1);
    webide_acceptance_tests::assert_contract(&sb)?;
    Ok(())
}
