//! No orphan, no duplicate after an ambiguous create (issue 13), with real `terraform` runs:
//!
//! 1. Every create's answer is lost after the server committed it (LiteLLM teams and keys:
//!    502/504; Authentik groups and OAuth2 providers: connection closed; Coder and Gitea
//!    users: a share of them). The apply adopts each
//!    object by its ownership marker: the server holds exactly what state holds, a second
//!    plan is empty.
//! 2. Objects that already exist under the declared names (made by hand) are never taken
//!    over: the apply fails with the exact `terraform import` command and `import {}` block
//!    for each; running those commands and applying again converges without a duplicate.

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use webide_acceptance_tests::{Harness, TfWorkdir};
use webide_sandbox::faults::FaultSpec;
use webide_sandbox::{Ports, RunningSandbox, SandboxConfig};

const MAIN_TF: &str = r#"terraform {
  required_providers {
    webide = { source = "webide/webide" }
  }
}

resource "webide_litellm_team" "team" {
  count      = 3
  team_alias = "amb-team-${count.index}"
}

resource "webide_litellm_key" "key" {
  count     = 3
  key_alias = "amb-key-${count.index}"
}

resource "webide_authentik_group" "group" {
  count = 3
  name  = "amb-group-${count.index}"
}

data "webide_authentik_flow" "authz" {
  slug = "default-provider-authorization-implicit-consent"
}

data "webide_authentik_flow" "logout" {
  slug = "default-provider-invalidation-flow"
}

resource "webide_authentik_oauth2_provider" "sso" {
  count              = 2
  name               = "amb-sso-${count.index}"
  authorization_flow = data.webide_authentik_flow.authz.id
  invalidation_flow  = data.webide_authentik_flow.logout.id
  redirect_uris      = ["https://amb-${count.index}.example.com/callback"]
}

resource "webide_coder_user" "user" {
  count      = 3
  username   = "amb-user-${count.index}"
  email      = "amb-user-${count.index}@example.com"
  login_type = "oidc"
}

resource "webide_gitea_user" "user" {
  count    = 2
  username = "amb-gitea-${count.index}"
  email    = "amb-gitea-${count.index}@example.com"
  password = "password123"
}
"#;

async fn workdir(h: &Harness, sb: &RunningSandbox) -> Result<TfWorkdir> {
    let mut wd = h.workdir_with_main(MAIN_TF)?;
    wd.set_sandbox_env(sb);
    wd.init().await?;
    Ok(wd)
}

/// Names of the `amb-` objects of each kind on the sandbox (a name made twice shows twice).
fn on_server(sb: &RunningSandbox) -> Vec<(&'static str, Vec<String>)> {
    let lite = sb.litellm_store().snapshot();
    let ak = sb.authentik_store().snapshot();
    let coder = sb.coder_store().snapshot();
    let gitea = sb.gitea_store().snapshot();
    let names = |rows: Vec<&Value>, f: &str| -> Vec<String> {
        let mut v: Vec<String> = rows
            .into_iter()
            .filter_map(|r| r[f].as_str().map(str::to_string))
            .filter(|n| n.starts_with("amb-"))
            .collect();
        v.sort();
        v
    };
    vec![
        (
            "litellm teams",
            names(lite.teams.values().collect(), "team_alias"),
        ),
        (
            "litellm keys",
            names(lite.keys.values().collect(), "key_alias"),
        ),
        (
            "authentik groups",
            names(
                ak.rows(webide_sandbox::authentik::Kind::Groups).collect(),
                "name",
            ),
        ),
        (
            "authentik oauth2",
            names(
                ak.rows(webide_sandbox::authentik::Kind::OAuth2Providers)
                    .collect(),
                "name",
            ),
        ),
        (
            "coder users",
            names(coder.users.values().collect(), "username"),
        ),
        ("gitea users", {
            let mut v: Vec<String> = gitea
                .users
                .values()
                .map(|u| u.login.clone())
                .filter(|n| n.starts_with("amb-"))
                .collect();
            v.sort();
            v
        }),
    ]
}

/// Every kind holds exactly `want` distinct names (no duplicate) and state holds as many.
async fn check(sb: &RunningSandbox, wd: &TfWorkdir, want: &[(&str, usize)]) -> Result<()> {
    let state = wd.show_state_json().await?;
    let in_state = state
        .pointer("/values/root_module/resources")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter(|r| r["mode"] == "managed").count())
        .unwrap_or(0);
    let mut total = 0;
    for ((kind, names), (_, n)) in on_server(sb).iter().zip(want) {
        let mut distinct = names.clone();
        distinct.dedup();
        println!(
            "    {kind:<16} on the server {:>2} (distinct {:>2}), declared {n}",
            names.len(),
            distinct.len()
        );
        ensure!(
            distinct.len() == names.len(),
            "{kind}: duplicates {names:?}"
        );
        ensure!(
            names.len() == *n,
            "{kind}: {} on the server, {n} declared",
            names.len()
        );
        total += n;
    }
    ensure!(
        in_state == total,
        "state holds {in_state}, the server {total}"
    );
    Ok(())
}

const ALL: [(&str, usize); 6] = [
    ("litellm teams", 3),
    ("litellm keys", 3),
    ("authentik groups", 3),
    ("authentik oauth2", 2),
    ("coder users", 3),
    ("gitea users", 2),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_create_answers_are_adopted_without_duplicates() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    // Every write commits and loses its answer. The resources declared make exactly one
    // write at create, so every create is ambiguous. (Gitea users make a second write, an
    // edit, which would never get an answer: Gitea runs at a 50% rate below.)
    let spec = FaultSpec::parse(
        "litellm:commit_error_rate=1; authentik:commit_drop_rate=1; coder:commit_drop_rate=0.5,commit_error_rate=0.5; gitea:commit_drop_rate=0.25,commit_error_rate=0.25",
    )?;
    let sb = webide_sandbox::start(
        SandboxConfig {
            faults: spec,
            ..Default::default()
        },
        "127.0.0.1",
        Ports::default(),
    )
    .await?;
    let wd = workdir(&h, &sb).await?;
    wd.apply_with(&["-parallelism=4"]).await?;
    check(&sb, &wd, &ALL).await?;
    wd.plan().await?.assert_empty()?;
    webide_acceptance_tests::assert_contract(&sb)?;
    sb.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_made_by_hand_are_not_taken_over() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let http = reqwest::Client::new();
    let post = |url: String, auth: (&'static str, String), body: Value| {
        let req = http.post(url).header(auth.0, auth.1).json(&body);
        async move {
            let res = req.send().await?;
            let status = res.status();
            let j: Value = res.json().await.unwrap_or(Value::Null);
            ensure!(status.is_success(), "{status}: {j}");
            anyhow::Ok(j)
        }
    };
    let lite = (
        "Authorization",
        format!("Bearer {}", sb.config.litellm_master_key),
    );
    // Made by hand (or by a run killed before Terraform saved state), same names as declared.
    let team = post(
        format!("{}/team/new", sb.litellm_url),
        lite.clone(),
        json!({"team_alias": "amb-team-1"}),
    )
    .await?;
    let team_id = team["team_id"].as_str().context("team_id")?.to_string();
    let key = post(
        format!("{}/key/generate", sb.litellm_url),
        lite,
        json!({"key_alias": "amb-key-2"}),
    )
    .await?;
    let token = key["token"].as_str().context("token")?.to_string();
    post(
        format!("{}/api/v3/core/groups/", sb.authentik_url),
        (
            "Authorization",
            format!("Bearer {}", sb.config.authentik_token),
        ),
        json!({"name": "amb-group-0"}),
    )
    .await?;
    post(
        format!("{}/api/v1/admin/users", sb.gitea_url),
        (
            "Authorization",
            format!("token {}", sb.config.gitea_admin_token),
        ),
        json!({"username": "amb-gitea-1", "email": "amb-gitea-1@example.com",
               "password": "password123", "must_change_password": false}),
    )
    .await?;
    let before = on_server(&sb);

    let wd = workdir(&h, &sb).await?;
    let out = wd.apply_expect_failure().await?;
    let text = out.stderr + &out.stdout;
    if let Some(first) = text.split("Error:").nth(1) {
        println!("    first diagnostic:\n    Error:{}", first.trim_end());
    }
    let expected = [
        (
            "webide_litellm_team",
            "webide_litellm_team.team[1]",
            team_id.as_str(),
        ),
        (
            "webide_litellm_key",
            "webide_litellm_key.key[2]",
            token.as_str(),
        ),
        (
            "webide_authentik_group",
            "webide_authentik_group.group[0]",
            "amb-group-0",
        ),
        (
            "webide_gitea_user",
            "webide_gitea_user.user[1]",
            "amb-gitea-1",
        ),
    ];
    for (ty, _, id) in expected {
        let cmd = format!("terraform import {ty}.NAME {id}");
        ensure!(text.contains(&cmd), "no {cmd:?} in:\n{text}");
        ensure!(
            text.contains(&format!("to = {ty}.NAME")) && text.contains(&format!("id = \"{id}\"")),
            "no import block for {ty} in:\n{text}"
        );
    }
    // Nothing taken over, nothing made twice: the hand-made objects are still the only ones
    // under their names.
    for ((kind, now), (_, was)) in on_server(&sb).iter().zip(&before) {
        for n in was {
            ensure!(
                now.iter().filter(|x| *x == n).count() == 1,
                "{kind}: {n} duplicated"
            );
        }
    }
    println!("    apply refused the 4 hand-made objects with their import commands");

    // What the diagnostic gives, with NAME filled in, brings them under Terraform: the
    // `import {}` blocks on Terraform >= 1.5, else the `terraform import` commands.
    let (major, minor) = {
        let mut v = h
            .cli()
            .version()
            .split('.')
            .map(|x| x.parse::<u32>().unwrap_or(0));
        (v.next().unwrap_or(0), v.next().unwrap_or(0))
    };
    if (major, minor) >= (1, 5) {
        let blocks: String = expected
            .iter()
            .map(|(_, addr, id)| format!("import {{\n  to = {addr}\n  id = \"{id}\"\n}}\n"))
            .collect();
        wd.write("imports.tf", &blocks)?;
        println!("    adopted with import blocks ({})", h.cli().version_line);
    } else {
        for (_, addr, id) in expected {
            wd.import(addr, id)
                .await
                .with_context(|| format!("import {addr}"))?;
        }
        println!(
            "    adopted with terraform import ({})",
            h.cli().version_line
        );
    }
    wd.apply().await?;
    check(&sb, &wd, &ALL).await?;
    wd.plan().await?.assert_empty()?;
    wd.destroy().await?;
    ensure!(
        on_server(&sb).iter().all(|(_, v)| v.is_empty()),
        "left after destroy: {:?}",
        on_server(&sb)
    );
    webide_acceptance_tests::assert_contract(&sb)?;
    sb.shutdown().await;
    Ok(())
}
