//! `webide_gitea_login_source` and `webide_gitea_admin_user` on real containers: the stand-in
//! Gitea image (Debian rootfs + the stand-in `gitea` CLI, which answers like the real one and
//! records its calls) runs under the local Docker Engine, and every step goes through the
//! Engine's exec API. Covered: a failing exec (wrong user) shows the CLI's own stderr and no
//! secret; create; the recorded calls (run as `git`, secret redacted in argv, stored in the
//! "database"); empty re-plan; drift made by hand with the CLI; update; import round-trip;
//! destroy.

use std::process::Command;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use webide_acceptance_tests::fixture::{docker_engine, gitea_standin_image};
use webide_acceptance_tests::Harness;

const SECRET: &str = "oidc-client-secret-4711";
const ADMIN_PW: &str = "admin-pass-0815";

fn config(image: &str, name: &str, exec_user: &str, scopes: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}
resource "webide_compose_service" "gitea" {{
  name    = "{name}"
  image   = "{image}"
  command = ["serve", "3000", "/data"]
  env     = {{ GITEA__security__INSTALL_LOCK = "true" }}
  healthcheck {{
    test     = ["/fixture-svc", "check", "127.0.0.1:3000"]
    interval = "1s"
  }}
}}
resource "webide_gitea_admin_user" "admin" {{
  container = webide_compose_service.gitea.name
  username  = "gitea"
  email     = "gitea@example.com"
  password  = "{ADMIN_PW}"
}}
resource "webide_gitea_login_source" "sso" {{
  container         = webide_compose_service.gitea.name
  exec_user         = "{exec_user}"
  name              = "authentik"
  client_id         = "gitea-client"
  client_secret     = "{SECRET}"
  auto_discover_url = "http://authentik:9000/application/o/gitea/.well-known/openid-configuration"
  scopes            = [{scopes}]
  group_claim_name  = "groups"
  admin_group       = "coder-admins"
  restricted_group  = "coder-members"
  skip_local_2fa    = true
  depends_on        = [webide_gitea_admin_user.admin]
}}
"#
    )
}

fn docker(args: &[&str]) -> Result<String> {
    let out = Command::new("docker").args(args).output()?;
    ensure!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The stand-in's "database" (`standin-db.json`).
fn db(container: &str) -> Result<Value> {
    let s = docker(&["exec", container, "cat", "/data/gitea/standin-db.json"])?;
    Ok(serde_json::from_str(&s)?)
}

/// The recorded calls (argv of each) as lines of JSON.
fn calls(container: &str) -> Result<Vec<Value>> {
    let s = docker(&["exec", container, "cat", "/data/gitea/standin-calls.jsonl"])?;
    s.lines()
        .map(|l| serde_json::from_str(l).context("a call line"))
        .collect()
}

fn argv_has(call: &Value, arg: &str) -> bool {
    call["argv"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == arg))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitea_login_source_through_docker_exec() -> Result<()> {
    if docker_engine()?.is_none() {
        return Ok(());
    }
    let image = gitea_standin_image()?;
    let name = format!("webide-gls-{}", std::process::id());
    let h = Harness::new()?;
    let wd = h.workdir()?;
    let scopes = r#""email", "groups""#;

    // Bad input caught at plan, on the attribute: no discovery URL for openidConnect, a
    // group-team map that is not JSON, an admin password shorter than Gitea's minimum.
    let bad = config(&image, &name, "git", scopes)
        .replace(
            "http://authentik:9000/application/o/gitea/.well-known/openid-configuration",
            "",
        )
        .replace(
            "skip_local_2fa    = true",
            "skip_local_2fa    = true\n  group_team_map    = \"{not json\"",
        );
    wd.write("main.tf", &bad)?;
    wd.init().await?;
    let out = wd.plan_expect_failure().await?.combined();
    for want in [
        "Missing discovery URL",
        "auto_discover_url",
        "Invalid group_team_map",
    ] {
        ensure!(out.contains(want), "{want}: {out}");
    }
    // (Separately: Terraform skips validating resources that depend on a failed one.)
    wd.write(
        "main.tf",
        &config(&image, &name, "git", scopes).replace(ADMIN_PW, "short"),
    )?;
    let out = wd.plan_expect_failure().await?.combined();
    ensure!(
        out.contains("Password too short") && out.contains("password"),
        "{out}"
    );

    // Bad input: Gitea refuses to run as root; the apply shows the CLI's own error.
    wd.write("main.tf", &config(&image, &name, "root", scopes))?;
    let out = wd.apply_expect_failure().await?;
    let all = out.combined();
    ensure!(all.contains("failed in container"), "{all}");
    ensure!(all.contains("exit code 1"), "{all}");
    ensure!(all.contains("not supposed to be run as root"), "{all}");
    ensure!(!all.contains(SECRET) && !all.contains(ADMIN_PW), "{all}");

    // Fixed: create converges (the admin made by the first run is kept).
    wd.write("main.tf", &config(&image, &name, "git", scopes))?;
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;
    let src = wd.state_resource("webide_gitea_login_source.sso").await?;
    let id = src["id"].as_i64().context("id in state")?;
    ensure!(src["enabled"] == true, "{src}");

    let d = db(&name)?;
    let s = &d["sources"][0];
    ensure!(s["name"] == "authentik" && s["id"] == id, "{d}");
    ensure!(s["cfg"]["secret"] == SECRET, "the secret reached the CLI");
    ensure!(s["cfg"]["key"] == "gitea-client", "{s}");
    ensure!(s["cfg"]["provider"] == "openidConnect", "{s}");
    ensure!(
        s["cfg"]["scopes"] == serde_json::json!(["email", "groups"]),
        "{s}"
    );
    ensure!(s["cfg"]["skip-local-2fa"] == true, "{s}");
    ensure!(s["cfg"]["restricted-group"] == "coder-members", "{s}");
    let admin = &d["users"][0];
    ensure!(admin["name"] == "gitea" && admin["is_admin"] == true, "{d}");
    ensure!(
        admin["passwd"] == ADMIN_PW,
        "the admin password reached the CLI"
    );
    ensure!(admin["must_change_password"] == false, "{admin}");

    let recorded = calls(&name)?;
    let add = recorded
        .iter()
        .find(|c| argv_has(c, "add-oauth"))
        .context("an add-oauth call")?;
    ensure!(argv_has(add, "--name=authentik"), "{add}");
    ensure!(argv_has(add, "--secret=<redacted>"), "{add}");
    let create = recorded
        .iter()
        .find(|c| argv_has(c, "create"))
        .context("a user create call")?;
    ensure!(
        argv_has(create, "--admin") && argv_has(create, "--password=<redacted>"),
        "{create}"
    );
    // The refused run stopped at its first `list` (as root); every other call ran as git.
    let git_uid: i64 = docker(&["exec", &name, "id", "-u", "git"])?
        .trim()
        .parse()?;
    for c in &recorded {
        ensure!(
            c["uid"] == git_uid || (c["uid"] == 0 && argv_has(c, "list")),
            "{c}"
        );
    }
    // Exactly one add-oauth succeeded (the root attempt was refused before touching the db).
    ensure!(d["sources"].as_array().map(Vec::len) == Some(1), "{d}");

    // Drift: renamed by hand with the CLI; plan shows it and apply heals it.
    docker(&[
        "exec",
        "-u",
        "git",
        &name,
        "gitea",
        "admin",
        "auth",
        "update-oauth",
        &format!("--id={id}"),
        "--name=renamed-by-hand",
    ])?;
    let drift = wd.plan().await?;
    drift.assert_changes()?;
    ensure!(drift.stdout.contains("renamed-by-hand"), "{}", drift.stdout);
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;
    ensure!(db(&name)?["sources"][0]["name"] == "authentik", "healed");

    // Update: scopes changed in HCL reach Gitea through update-oauth.
    wd.write(
        "main.tf",
        &config(&image, &name, "git", r#""email", "profile", "groups""#),
    )?;
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;
    let s = db(&name)?["sources"][0].clone();
    ensure!(
        s["cfg"]["scopes"] == serde_json::json!(["email", "profile", "groups"]) && s["id"] == id,
        "{s}"
    );

    // Import round-trip: forget, import by <container>/<name>, same id; the unreadable
    // settings are re-written by one update, then the plan is empty.
    wd.run(&["state", "rm", "webide_gitea_login_source.sso"])
        .await?;
    wd.import(
        "webide_gitea_login_source.sso",
        &format!("{name}/authentik"),
    )
    .await?;
    let imported = wd.state_resource("webide_gitea_login_source.sso").await?;
    ensure!(
        imported["id"] == id && imported["container"] == name.as_str(),
        "{imported}"
    );
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;
    ensure!(db(&name)?["sources"].as_array().map(Vec::len) == Some(1));
    // The admin too: imported by <container>/<username>, its password set again by one update.
    let admin_id = wd.state_resource("webide_gitea_admin_user.admin").await?["id"].clone();
    wd.run(&["state", "rm", "webide_gitea_admin_user.admin"])
        .await?;
    wd.import("webide_gitea_admin_user.admin", &format!("{name}/gitea"))
        .await?;
    let imported = wd.state_resource("webide_gitea_admin_user.admin").await?;
    ensure!(
        imported["id"] == admin_id && imported["admin"] == true,
        "{imported}"
    );
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;
    let d = db(&name)?;
    ensure!(d["users"].as_array().map(Vec::len) == Some(1), "{d}");
    ensure!(calls(&name)?.iter().any(|c| argv_has(c, "change-password")));
    // Destroy: the source is deleted through the CLI, then everything else goes.
    wd.run(&[
        "destroy",
        "-auto-approve",
        "-no-color",
        "-target=webide_gitea_login_source.sso",
    ])
    .await?;
    ensure!(
        db(&name)?["sources"].as_array().map(Vec::len) == Some(0),
        "deleted"
    );
    ensure!(calls(&name)?.iter().any(|c| argv_has(c, "delete")));
    wd.destroy().await?;
    let left = Command::new("docker").args(["inspect", &name]).output()?;
    ensure!(
        !left.status.success(),
        "container {name} left after destroy"
    );
    Ok(())
}
