//! Write-only passwords (`password_wo` + `password_wo_version`) on the three user resources,
//! with the real Terraform CLI against the sandbox.
//!
//! Terraform >= 1.11: the password comes from an ephemeral variable; it reaches Authentik,
//! Gitea and Coder (checked in each simulator, and by a Gitea sign-in), and is absent from the
//! state file, the saved plan file (its raw bytes and every decompressed entry), `terraform
//! show -json` of the plan and of the state, and the plan and apply output. A new password
//! with the same version changes nothing; a version bump sends the new one.
//!
//! The same for a container's `sensitive_env_wo` + `sensitive_env_wo_version` on the real
//! Docker Engine: the value is in the container, nowhere in state or plan; a version bump
//! re-creates the container with the new value. And for a Coder template's `tf_vars_wo` +
//! `tf_vars_wo_version`: the value reaches the pushed version's variables, never state or plan;
//! a version bump pushes a new active version with the new value.
//!
//! Terraform < 1.11 cannot take write-only arguments: `terraform validate` refuses
//! `password_wo` (`sensitive_env_wo`) with a diagnostic naming `password` (`sensitive_env`) as
//! the alternative, and nothing is created. Each test prints which of the two paths it took.

use std::io::Read;

use anyhow::{ensure, Context, Result};
use webide_acceptance_tests::fixture::{docker_engine, fixture_context};
use webide_acceptance_tests::{Harness, TfWorkdir};
use webide_sandbox::{Ports, RunningSandbox, SandboxConfig};

const FIRST: &str = "wo-First-8c41d2e7b9";
const SECOND: &str = "wo-Second-3fa95e01c6";

const USERS_TF: &str = r#"
resource "webide_authentik_user" "u" {
  username            = "wo-ak"
  name                = "Write Only"
  password_wo         = var.pw
  password_wo_version = var.pw_version
}

resource "webide_gitea_user" "u" {
  username            = "wo-gitea"
  email               = "wo-gitea@example.com"
  password_wo         = var.pw
  password_wo_version = var.pw_version
}

resource "webide_coder_user" "u" {
  username            = "wo-coder"
  email               = "wo-coder@example.com"
  password_wo         = var.pw
  password_wo_version = var.pw_version
}
"#;

/// The configuration around `resources`; `ephemeral` (Terraform >= 1.10) keeps the variable's
/// value out of the saved plan, where Terraform would otherwise store it with the other input
/// variables.
fn main_tf(ephemeral: bool, resources: &str) -> String {
    let eph = if ephemeral {
        "\n  ephemeral = true"
    } else {
        ""
    };
    format!(
        r#"terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}

variable "pw" {{
  type      = string
  sensitive = true{eph}
}}

variable "pw_version" {{
  type = number
}}
{resources}"#
    )
}

fn version_at_least(v: &str, major: u64, minor: u64) -> bool {
    let mut it = v.split('.').map(|x| x.parse::<u64>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0)) >= (major, minor)
}

/// Where `secret` shows up in `text` (a named place), for the error message.
fn absent(place: &str, text: &[u8], secret: &str) -> Result<()> {
    let found = text.windows(secret.len()).any(|w| w == secret.as_bytes());
    ensure!(!found, "the password is in {place}");
    Ok(())
}

/// The saved plan `p`: its raw bytes, every entry decompressed, and `terraform show -json`.
async fn check_plan_file(wd: &TfWorkdir, secret: &str) -> Result<()> {
    let raw = std::fs::read(wd.path().join("p")).context("read the plan file")?;
    absent("the plan file's raw bytes", &raw, secret)?;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(raw)).context("plan file as zip")?;
    ensure!(zip.len() > 1, "plan file has {} entries", zip.len());
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i)?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        absent(&format!("plan file entry {}", f.name()), &bytes, secret)?;
        names.push(f.name().to_string());
    }
    ensure!(
        names.iter().any(|n| n == "tfplan"),
        "no tfplan in the plan file: {names:?}"
    );
    let shown = wd.run(&["show", "-json", "-no-color", "p"]).await?;
    absent("`terraform show -json p`", shown.stdout.as_bytes(), secret)?;
    // The plan does carry the version (sanity check that the search looks at real content).
    ensure!(
        shown.stdout.contains("_wo_version"),
        "show -json of the plan has no *_wo_version"
    );
    Ok(())
}

/// The state file and `terraform show -json` of it; `password_wo` null, the version kept.
async fn check_state(wd: &TfWorkdir, secret: &str, version: i64) -> Result<()> {
    check_state_file(wd, secret).await?;
    for r in ["authentik", "gitea", "coder"] {
        let v = wd.state_resource(&format!("webide_{r}_user.u")).await?;
        ensure!(
            v["password_wo"].is_null(),
            "{r}: password_wo in state: not null"
        );
        ensure!(v["password"].is_null(), "{r}: password in state: not null");
        ensure!(
            v["password_wo_version"] == version,
            "{r}: password_wo_version in state: {}",
            v["password_wo_version"]
        );
    }
    Ok(())
}

/// The state file and `terraform show -json` of it.
async fn check_state_file(wd: &TfWorkdir, secret: &str) -> Result<()> {
    let raw = std::fs::read(wd.path().join("terraform.tfstate")).context("read the state")?;
    absent("terraform.tfstate", &raw, secret)?;
    let shown = wd.run(&["show", "-json", "-no-color"]).await?;
    absent("`terraform show -json`", shown.stdout.as_bytes(), secret)?;
    Ok(())
}

/// Whether `pw` is the user's password in Authentik, Gitea (signing in with it) and Coder.
async fn password_is(sb: &RunningSandbox, pw: &str) -> Result<[bool; 3]> {
    let ak = sb.authentik_store().snapshot();
    let pk = ak.user("wo-ak").context("authentik user")?["pk"]
        .as_i64()
        .context("pk")?;
    let gitea = reqwest::Client::new()
        .get(format!("{}/api/v1/user", sb.gitea_url))
        .basic_auth("wo-gitea", Some(pw))
        .send()
        .await?
        .status()
        .is_success();
    Ok([
        ak.password_matches(pk, pw),
        gitea,
        sb.coder_store().snapshot().password_matches("wo-coder", pw),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_only_passwords() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let version = h.cli().version().to_string();
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let modern = version_at_least(&version, 1, 11);
    let mut wd = h.workdir_with_main(&main_tf(modern, USERS_TF))?;
    wd.set_sandbox_env(&sb);
    wd.set_env("TF_VAR_pw", FIRST)
        .set_env("TF_VAR_pw_version", "1");
    wd.init().await?;

    if !modern {
        println!(
            "Terraform {version} < 1.11: write-only path skipped (needs Terraform >= 1.11); \
             checking that validate refuses password_wo and names `password`"
        );
        let out = wd.run_expect_failure(&["validate", "-no-color"]).await?;
        let text = format!("{}{}", out.stdout, out.stderr);
        for r in ["authentik", "gitea", "coder"] {
            ensure!(
                text.contains(&format!("resource \"webide_{r}_user\" \"u\"")),
                "no diagnostic for webide_{r}_user: {text}"
            );
        }
        ensure!(
            text.matches("`password_wo` needs Terraform 1.11 or later")
                .count()
                == 3,
            "one diagnostic per resource expected: {text}"
        );
        ensure!(text.contains("use `password` instead"), "{text}");
        absent("validate output", text.as_bytes(), FIRST)?;
        // Plan refuses too, before any write.
        let out = wd.plan_expect_failure().await?;
        ensure!(
            out.stderr.contains("needs Terraform 1.11"),
            "{}",
            out.stderr
        );
        ensure!(sb.authentik_store().snapshot().user("wo-ak").is_none());
        ensure!(sb.coder_store().snapshot().user("wo-coder").is_none());
        ensure!(!sb.gitea_store().snapshot().users.contains_key("wo-gitea"));
        println!("validate and plan refused password_wo on all three resources; nothing created");
        return Ok(());
    }
    println!("Terraform {version} >= 1.11: checking write-only passwords end to end");

    let plan = wd
        .run(&["plan", "-out=p", "-no-color", "-input=false"])
        .await?;
    absent("plan output", plan.stdout.as_bytes(), FIRST)?;
    absent("plan output", plan.stderr.as_bytes(), FIRST)?;
    ensure!(plan.stdout.contains("3 to add"), "{}", plan.stdout);
    check_plan_file(&wd, FIRST).await?;
    // A saved plan is applied with the ephemeral variable given again (TF_VAR_pw).
    let applied = wd.run(&["apply", "-no-color", "-input=false", "p"]).await?;
    absent("apply output", applied.stdout.as_bytes(), FIRST)?;
    check_state(&wd, FIRST, 1).await?;
    let set = password_is(&sb, FIRST).await?;
    ensure!(
        set == [true; 3],
        "password set (authentik, gitea, coder): {set:?}"
    );
    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after apply")?;

    // A new password under the same version: not compared, so nothing to do.
    wd.set_env("TF_VAR_pw", SECOND);
    wd.plan()
        .await?
        .assert_empty()
        .context("new password, same version")?;

    // The version bump sends it.
    wd.set_env("TF_VAR_pw_version", "2");
    let plan = wd
        .run(&["plan", "-out=p", "-no-color", "-input=false"])
        .await?;
    absent("plan output", plan.stdout.as_bytes(), SECOND)?;
    ensure!(plan.stdout.contains("3 to change"), "{}", plan.stdout);
    check_plan_file(&wd, SECOND).await?;
    wd.run(&["apply", "-no-color", "-input=false", "p"]).await?;
    check_state(&wd, SECOND, 2).await?;
    absent(
        "terraform.tfstate",
        &std::fs::read(wd.path().join("terraform.tfstate"))?,
        FIRST,
    )?;
    let set = password_is(&sb, SECOND).await?;
    ensure!(
        set == [true; 3],
        "new password set (authentik, gitea, coder): {set:?}"
    );
    let old = password_is(&sb, FIRST).await?;
    ensure!(
        old == [false; 3],
        "old password still valid (authentik, gitea, coder): {old:?}"
    );
    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after the bump")?;

    wd.destroy().await?;
    ensure!(sb.authentik_store().snapshot().user("wo-ak").is_none());
    ensure!(sb.coder_store().snapshot().user("wo-coder").is_none());
    Ok(())
}

/// `docker inspect` of the container: its id and environment.
fn container(name: &str) -> Result<(String, Vec<String>)> {
    let out = std::process::Command::new("docker")
        .args(["inspect", "--format", "{{.Id}} {{json .Config.Env}}", name])
        .output()?;
    ensure!(
        out.status.success(),
        "docker inspect {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let (id, env) = text.trim().split_once(' ').context("inspect output")?;
    Ok((id.to_string(), serde_json::from_str(env)?))
}

struct RemoveContainer(String);
impl Drop for RemoveContainer {
    fn drop(&mut self) {
        for args in [
            vec!["rm", "-f", &self.0],
            vec!["rmi", &format!("{}:latest", self.0)],
        ] {
            let _ = std::process::Command::new("docker").args(&args).output();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_only_container_env() -> Result<()> {
    if docker_engine()?.is_none() {
        return Ok(());
    }
    let h = Harness::new()?;
    let version = h.cli().version().to_string();
    let modern = version_at_least(&version, 1, 11);
    let name = format!("wacc-wo{}", std::process::id());
    let _guard = RemoveContainer(name.clone());
    let ctx = fixture_context()?;
    let resources = format!(
        r#"
resource "webide_compose_image" "svc" {{
  name    = "{name}:latest"
  context = "{ctx}"
}}

resource "webide_compose_service" "s" {{
  name                     = "{name}"
  image                    = webide_compose_image.svc.image_id
  command                  = ["serve", "8080"]
  env                      = {{ SERVICE_NAME = "wo" }}
  sensitive_env_wo         = {{ DB_PASSWORD = var.pw }}
  sensitive_env_wo_version = var.pw_version
}}
"#,
        ctx = ctx.display()
    );
    let mut wd = h.workdir_with_main(&main_tf(modern, &resources))?;
    wd.set_timeout(std::time::Duration::from_secs(300));
    wd.set_env("TF_VAR_pw", FIRST)
        .set_env("TF_VAR_pw_version", "1");
    wd.init().await?;
    let entry = |pw: &str| format!("DB_PASSWORD={pw}");

    if !modern {
        println!(
            "Terraform {version} < 1.11: write-only path skipped (needs Terraform >= 1.11); \
             checking that validate refuses sensitive_env_wo and names `sensitive_env`"
        );
        let out = wd.run_expect_failure(&["validate", "-no-color"]).await?;
        let text = format!("{}{}", out.stdout, out.stderr);
        ensure!(
            text.contains("`sensitive_env_wo` needs Terraform 1.11 or later")
                && text.contains("use `sensitive_env` instead"),
            "{text}"
        );
        absent("validate output", text.as_bytes(), FIRST)?;
        println!("validate refused sensitive_env_wo");
        return Ok(());
    }
    println!("Terraform {version} >= 1.11: checking sensitive_env_wo on the Docker Engine");

    let plan = wd
        .run(&["plan", "-out=p", "-no-color", "-input=false"])
        .await?;
    absent("plan output", plan.stdout.as_bytes(), FIRST)?;
    check_plan_file(&wd, FIRST).await?;
    wd.run(&["apply", "-no-color", "-input=false", "p"]).await?;
    let (id1, env) = container(&name)?;
    ensure!(env.contains(&entry(FIRST)), "container env: no DB_PASSWORD");
    check_state_file(&wd, FIRST).await?;
    let s = wd.state_resource("webide_compose_service.s").await?;
    ensure!(
        s["sensitive_env_wo"].is_null() && s["sensitive_env"].is_null(),
        "{s}"
    );
    // Read back: the write-only key is neither drift nor stored under `sensitive_env`.
    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after apply")?;
    wd.set_env("TF_VAR_pw", SECOND);
    wd.plan()
        .await?
        .assert_empty()
        .context("new value, same version")?;

    wd.set_env("TF_VAR_pw_version", "2");
    let plan = wd
        .run(&["plan", "-out=p", "-no-color", "-input=false"])
        .await?;
    absent("plan output", plan.stdout.as_bytes(), SECOND)?;
    ensure!(
        plan.stdout.contains("must be replaced") && plan.stdout.contains("1 to add"),
        "{}",
        plan.stdout
    );
    check_plan_file(&wd, SECOND).await?;
    wd.run(&["apply", "-no-color", "-input=false", "p"]).await?;
    let (id2, env) = container(&name)?;
    ensure!(id2 != id1, "the container was not re-created");
    ensure!(
        env.contains(&entry(SECOND)),
        "container env: DB_PASSWORD not updated"
    );
    check_state_file(&wd, SECOND).await?;
    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after the bump")?;
    wd.destroy().await?;
    Ok(())
}

/// The user variable values of the template's active version, as the Coder simulator stored
/// them.
fn active_vars(sb: &RunningSandbox, name: &str) -> Result<(String, serde_json::Value)> {
    let st = sb.coder_store().snapshot();
    let t = st.template(name).context("template")?;
    let vid = t["active_version_id"].as_str().context("active version")?;
    let v = st.versions.get(vid).context("version")?;
    Ok((vid.to_string(), v["user_variable_values"].clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_only_template_vars() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let version = h.cli().version().to_string();
    let modern = version_at_least(&version, 1, 11);
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let tpl = tempfile::tempdir()?;
    std::fs::write(
        tpl.path().join("main.tf"),
        "variable \"region\" {}\nvariable \"api_key\" {\n  sensitive = true\n}\n",
    )?;
    let resources = format!(
        r#"
resource "webide_coder_template" "t" {{
  name               = "wo-template"
  directory          = "{}"
  tf_vars            = {{ region = "eu" }}
  tf_vars_wo         = {{ api_key = var.pw }}
  tf_vars_wo_version = var.pw_version
}}
"#,
        tpl.path().display()
    );
    let mut wd = h.workdir_with_main(&main_tf(modern, &resources))?;
    wd.set_sandbox_env(&sb);
    wd.set_env("TF_VAR_pw", FIRST)
        .set_env("TF_VAR_pw_version", "1");
    wd.init().await?;
    let has = |vars: &serde_json::Value, name: &str, value: &str| {
        vars.as_array()
            .is_some_and(|a| a.iter().any(|v| v["name"] == name && v["value"] == value))
    };

    if !modern {
        println!(
            "Terraform {version} < 1.11: write-only path skipped (needs Terraform >= 1.11); \
             checking that validate refuses tf_vars_wo and names `tf_vars`"
        );
        let out = wd.run_expect_failure(&["validate", "-no-color"]).await?;
        let text = format!("{}{}", out.stdout, out.stderr);
        ensure!(
            text.contains("`tf_vars_wo` needs Terraform 1.11 or later")
                && text.contains("use `tf_vars` instead"),
            "{text}"
        );
        ensure!(sb
            .coder_store()
            .snapshot()
            .template("wo-template")
            .is_none());
        println!("validate refused tf_vars_wo");
        return Ok(());
    }
    println!("Terraform {version} >= 1.11: checking tf_vars_wo on a Coder template");

    let plan = wd
        .run(&["plan", "-out=p", "-no-color", "-input=false"])
        .await?;
    absent("plan output", plan.stdout.as_bytes(), FIRST)?;
    check_plan_file(&wd, FIRST).await?;
    wd.run(&["apply", "-no-color", "-input=false", "p"]).await?;
    let (v1, vars) = active_vars(&sb, "wo-template")?;
    ensure!(
        has(&vars, "api_key", FIRST) && has(&vars, "region", "eu"),
        "version variables: names {:?}",
        vars.as_array()
            .map(|a| a.iter().map(|v| v["name"].clone()).collect::<Vec<_>>())
    );
    check_state_file(&wd, FIRST).await?;
    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after apply")?;
    wd.set_env("TF_VAR_pw", SECOND);
    wd.plan()
        .await?
        .assert_empty()
        .context("new value, same version")?;

    wd.set_env("TF_VAR_pw_version", "2");
    let plan = wd
        .run(&["plan", "-out=p", "-no-color", "-input=false"])
        .await?;
    absent("plan output", plan.stdout.as_bytes(), SECOND)?;
    ensure!(plan.stdout.contains("1 to change"), "{}", plan.stdout);
    check_plan_file(&wd, SECOND).await?;
    wd.run(&["apply", "-no-color", "-input=false", "p"]).await?;
    let (v2, vars) = active_vars(&sb, "wo-template")?;
    ensure!(v2 != v1, "no new active version");
    ensure!(
        has(&vars, "api_key", SECOND),
        "new version lacks the new value"
    );
    check_state_file(&wd, SECOND).await?;
    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after the bump")?;
    wd.destroy().await?;
    Ok(())
}
