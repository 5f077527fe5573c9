//! Bootstrap secrets and Coder's first user with the real Terraform CLI:
//! `webide_random_password` (value kept out of output, re-plans empty, a `keepers` change
//! replaces it, broken class rules refused at validate), and `webide_coder_first_user` against a
//! fresh Coder simulator: it creates the owner, a second provider instance uses its session
//! token in the same apply, refresh logs in again when the session is revoked, and a second
//! configuration adopts the existing first user by logging in — or fails on `password`.

use anyhow::{ensure, Context, Result};
use webide_acceptance_tests::{planned_actions, Harness};
use webide_sandbox::SandboxConfig;

fn password_config(rotation: &str, extra: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}

provider "webide" {{}}

resource "webide_random_password" "p" {{
  length      = 24
  min_special = 2
  min_numeric = 3
  keepers     = {{ rotation = "{rotation}" }}
  {extra}
}}

output "p" {{
  value     = webide_random_password.p.result
  sensitive = true
}}
"#
    )
}

#[tokio::test]
async fn random_password_lifecycle() -> Result<()> {
    let h = Harness::new()?;
    let wd = h.workdir()?;
    wd.write("main.tf", &password_config("1", ""))?;
    wd.init().await?;
    let applied = wd.apply().await?;
    let first = wd.output("p").await?;
    let value = first.as_str().context("string output")?.to_string();
    ensure!(value.len() == 24, "length: {value:?}");
    ensure!(
        value.bytes().filter(u8::is_ascii_digit).count() >= 3,
        "min_numeric: {value:?}"
    );
    let specials = webide_provider::random::password::DEFAULT_SPECIAL.as_bytes();
    ensure!(
        value.bytes().filter(|b| specials.contains(b)).count() >= 2,
        "min_special: {value:?}"
    );
    ensure!(
        !applied.combined().contains(&value),
        "the generated value was printed by apply"
    );

    // Stable: two plans, no changes.
    wd.plan().await?.assert_empty()?;
    wd.plan().await?.assert_empty()?;

    // A keepers change makes a new value (replace).
    wd.write("main.tf", &password_config("2", ""))?;
    let plan = wd.plan_json().await?;
    let actions = planned_actions(&plan)
        .remove("webide_random_password.p")
        .unwrap_or_default();
    ensure!(
        actions == ["delete", "create"] || actions == ["create", "delete"],
        "a keepers change must replace the password, planned {actions:?}"
    );
    let out = wd.apply().await?;
    ensure!(
        wd.output("p").await? != first,
        "same value after replacement"
    );
    ensure!(!out.combined().contains(&value), "old value printed");
    wd.plan().await?.assert_empty()?;

    // A class rule broken: refused at validate, on the attribute.
    wd.write("main.tf", &password_config("2", "numeric = false"))?;
    let out = wd.run_expect_failure(&["validate", "-no-color"]).await?;
    let text = out.combined();
    ensure!(
        text.contains("min_numeric") && text.contains("needs numeric = true"),
        "validate output: {text}"
    );

    wd.write("main.tf", &password_config("2", ""))?;
    wd.destroy().await?;
    Ok(())
}

/// `s` as an HCL string literal (`%{` and `${` escaped too).
fn hcl_string(s: &str) -> String {
    format!("{s:?}").replace("${", "$${").replace("%{", "%%{")
}

/// `password` is an HCL expression; `extra` more HCL.
fn first_user_config(coder_url: &str, password: &str, extra: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}

provider "webide" {{}}

resource "webide_coder_first_user" "admin" {{
  url      = "{coder_url}"
  email    = "admin@example.com"
  username = "admin"
  name     = "Platform Admin"
  password = {password}
}}

# The token exists only after the first user does: this instance is configured in the same apply.
provider "webide" {{
  alias = "coder"
  coder {{
    url   = "{coder_url}"
    token = webide_coder_first_user.admin.session_token
  }}
}}

resource "webide_coder_user" "dev" {{
  provider = webide.coder
  username = "dev"
  email    = "dev@example.com"
  password = "Dev-password-123!"
}}

{extra}
"#
    )
}

#[tokio::test]
async fn coder_first_user_bootstraps_a_fresh_coder() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let sb = webide_sandbox::start(
        SandboxConfig {
            coder_fresh: true,
            ..Default::default()
        },
        "127.0.0.1",
        Default::default(),
    )
    .await?;
    let store = sb.coder_store();
    ensure!(
        store.read(|st| st.users.is_empty()),
        "a fresh Coder has no users"
    );

    let h = Harness::new()?;
    let mut wd = h.workdir()?;
    wd.enable_log("trace");
    wd.write(
        "main.tf",
        &first_user_config(
            &sb.coder_url,
            "webide_random_password.admin.result",
            r#"resource "webide_random_password" "admin" { length = 20 }"#,
        ),
    )?;
    wd.init().await?;
    let applied = wd.apply().await?;
    let state = wd.state_resource("webide_coder_first_user.admin").await?;
    let token = state["session_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let password = wd.state_resource("webide_random_password.admin").await?["result"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    ensure!(state["created"] == true, "created: {state}");
    ensure!(
        !token.is_empty() && !password.is_empty(),
        "token and password in state"
    );
    ensure!(
        !applied.combined().contains(&token) && !applied.combined().contains(&password),
        "a secret was printed by apply"
    );
    // Nor logged at any level (Terraform's and the provider's log at trace).
    let log = wd.read_log()?;
    ensure!(
        log.contains("webide_coder_first_user"),
        "the trace log was written"
    );
    ensure!(
        !log.contains(&token) && !log.contains(&password),
        "a secret is in the trace log"
    );
    wd.disable_log();
    let (admin_roles, dev) = store.read(|st| {
        (
            st.user("admin").map(|u| u["roles"].clone()),
            st.user("dev").is_some(),
        )
    });
    ensure!(
        admin_roles == Some(serde_json::json!(["owner"])),
        "the first user is an owner: {admin_roles:?}"
    );
    ensure!(
        dev,
        "the second instance created a user with the fresh token"
    );
    wd.plan().await?.assert_empty()?;

    // Sessions revoked (expired): refresh logs in again; nothing to change.
    store.mutate(|st| st.sessions.clear())?;
    wd.plan().await?.assert_empty()?;
    wd.apply().await?;
    let after = wd.state_resource("webide_coder_first_user.admin").await?;
    ensure!(
        after["session_token"] != state["session_token"],
        "refresh renewed the revoked session"
    );

    // Another configuration with the same first user adopts it by logging in...
    let wd2 = h.workdir()?;
    wd2.write(
        "main.tf",
        &first_user_config(&sb.coder_url, &hcl_string(&password), "")
            .replace("\"dev\"", "\"dev2\"")
            .replace("dev@example.com", "dev2@example.com"),
    )?;
    wd2.init().await?;
    wd2.apply().await?;
    let adopted = wd2.state_resource("webide_coder_first_user.admin").await?;
    ensure!(adopted["created"] == false, "adopted: {adopted}");
    ensure!(
        adopted["user_id"] == state["user_id"],
        "the same user: {adopted} vs {state}"
    );
    wd2.destroy().await?;

    // ...and a wrong password fails on `password`, with nothing created.
    // (From a sensitive variable: Terraform quotes the configuration line of an attribute's
    // diagnostic, so a literal would be shown by Terraform itself.)
    let mut wd3 = h.workdir()?;
    wd3.set_env("TF_VAR_pw", "Wrong-password-1!");
    wd3.write(
        "main.tf",
        &first_user_config(
            &sb.coder_url,
            "var.pw",
            r#"variable "pw" {
  type      = string
  sensitive = true
}"#,
        ),
    )?;
    wd3.init().await?;
    let out = wd3.apply_expect_failure().await?;
    let text = out.combined();
    ensure!(
        text.contains("login refused") && text.contains("password"),
        "apply output: {text}"
    );
    ensure!(
        !text.contains("Wrong-password-1!"),
        "the password was printed: {text}"
    );
    ensure!(
        store.read(|st| st.users.len()) == 2,
        "only admin and dev remain"
    );

    wd.destroy().await?;
    // Destroy forgets the first user (Coder cannot delete its last owner).
    ensure!(store.read(|st| st.user("admin").is_some()), "admin kept");
    sb.shutdown().await;
    Ok(())
}

fn copy_tf(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        let n = name.to_string_lossy();
        if n.starts_with(".terraform") || n.contains(".tfstate") {
            continue;
        }
        if e.file_type()?.is_dir() {
            copy_tf(&e.path(), &to.join(&name))?;
        } else {
            std::fs::copy(e.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// examples/full-environment needs no pre-existing admin token, and a bootstrap secret that
/// breaks its variable's rule fails at plan naming the variable (before any container starts).
#[tokio::test]
async fn full_environment_checks_bootstrap_variables() -> Result<()> {
    let h = Harness::new()?;
    let mut wd = h.workdir()?;
    copy_tf(
        &webide_acceptance_tests::workspace_root().join("examples"),
        wd.path(),
    )?;
    wd.chdir("full-environment")?;
    let vars = std::fs::read_to_string(wd.path().join("variables.tf"))?;
    for gone in ["\"authentik_token\"", "\"coder_token\""] {
        ensure!(!vars.contains(gone), "variable {gone} still declared");
    }
    wd.init().await?;
    for (var, bad, says) in [
        ("coder_admin_password", "short", "12 to 64 characters"),
        (
            "authentik_bootstrap_token",
            "has a space in it!",
            "printable ASCII",
        ),
        (
            "authentik_bootstrap_password",
            "tiny",
            "12 to 256 characters",
        ),
        ("coder_admin_email", "not-an-email", "e-mail address"),
    ] {
        let out = wd
            .run_expect_failure(&[
                "plan",
                "-no-color",
                "-input=false",
                "-var",
                "litellm_master_key=sk-test",
                "-var",
                "anthropic_api_key=sk-ant-test",
                "-var",
                "openai_api_key=sk-openai-test",
                "-var",
                &format!("{var}={bad}"),
            ])
            .await?;
        let text = out.combined();
        ensure!(
            text.contains("Invalid value for variable")
                && text.contains(var)
                && text.contains(says),
            "{var}: {text}"
        );
        ensure!(
            !text.contains("webide_compose_service") || !text.contains("Creating"),
            "{var}: nothing may start: {text}"
        );
    }
    Ok(())
}
