//! Coder with the real Terraform CLI against the sandbox: the contractor-workspace template
//! pushed from its directory; re-plan empty; a file edited -> in-place update -> new active
//! version; a failing build -> error with the provisioner log and the active version kept;
//! users with roles and login type, a group; roles drift through the API shown and healed;
//! import round-trips; destroy.

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use webide_acceptance_tests::{workspace_root, Harness};
use webide_sandbox::{Ports, SandboxConfig};

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()))?;
        } else {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

fn config(dir: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}

variable "template_dir" {{
  type    = string
  default = "{dir}"
}}

data "webide_coder_organization" "default" {{}}

resource "webide_coder_template" "contractor" {{
  name         = "contractor-workspace"
  organization = data.webide_coder_organization.default.name
  directory    = var.template_dir
  display_name = "Contractor workspace"
  icon         = "/icon/code.svg"
  tf_vars      = {{ litellm_master_key = "sk-test" }}
}}

resource "webide_coder_user" "appmanager" {{
  username = "appmanager"
  email    = "appmanager@example.com"
  name     = "App Manager"
  roles    = ["template-admin"]
  password = "Password123!"
}}

resource "webide_coder_user" "contractor1" {{
  username   = "contractor1"
  email      = "contractor1@example.com"
  login_type = "oidc"
}}

resource "webide_coder_user" "auditor" {{
  username   = "readonly"
  email      = "readonly@example.com"
  login_type = "oidc"
  roles      = ["auditor"]
}}

resource "webide_coder_group" "contractors" {{
  name            = "contractors"
  members         = [webide_coder_user.contractor1.id]
  quota_allowance = 10
}}

output "active_version" {{
  value = webide_coder_template.contractor.active_version_id
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coder_template_users_groups() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let store = sb.coder_store();
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("contractor-workspace");
    copy_dir(
        &workspace_root()
            .join("templates")
            .join("contractor-workspace"),
        &dir,
    )?;
    let mut wd = h.workdir_with_main(&config(&dir.display().to_string()))?;
    wd.set_env("CODER_URL", &sb.coder_url);
    wd.set_env("CODER_SESSION_TOKEN", &sb.config.coder_session_token);

    wd.init().await?;
    wd.apply().await?;
    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after the push")?;
    let st = store.snapshot();
    let t = st
        .template("contractor-workspace")
        .context("template")?
        .clone();
    let v1 = wd
        .output("active_version")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string();
    ensure!(t["active_version_id"] == v1.as_str());
    ensure!(st.user("contractor1").context("user")?["login_type"] == "oidc");
    ensure!(st.user("appmanager").context("user")?["roles"] == json!(["template-admin"]));
    ensure!(
        st.group("contractors").context("group")?["members"]
            .as_array()
            .map(Vec::len)
            == Some(1)
    );
    let versions_before = st.versions.len();

    // An unchanged directory pushes nothing.
    wd.apply().await?;
    ensure!(
        store.snapshot().versions.len() == versions_before,
        "no new version without a change"
    );

    // A changed file: in-place update, new active version.
    let main_tf = dir.join("main.tf");
    let text = std::fs::read_to_string(&main_tf)?;
    std::fs::write(&main_tf, text.replace("max_budget = 25", "max_budget = 30"))?;
    let c = wd.resource_changes().await?;
    ensure!(
        c.get("webide_coder_template.contractor") == Some(&vec!["update".to_string()]),
        "{c:?}"
    );
    wd.apply().await?;
    let v2 = wd
        .output("active_version")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string();
    ensure!(v2 != v1, "a new active version");
    ensure!(
        store.snapshot().template("contractor-workspace").unwrap()["active_version_id"]
            == v2.as_str()
    );
    wd.plan().await?.assert_empty()?;

    // A failing build: error with the provisioner log, active version unchanged.
    std::fs::write(dir.join("broken.tf"), "# WEBIDE_SANDBOX_FAIL\n")?;
    let out = wd.apply_expect_failure().await?;
    ensure!(
        out.stderr.contains("build failed") && out.stderr.contains("provisioner log"),
        "{}",
        out.stderr
    );
    ensure!(
        store.snapshot().template("contractor-workspace").unwrap()["active_version_id"]
            == v2.as_str(),
        "active version kept"
    );
    std::fs::remove_file(dir.join("broken.tf"))?;
    wd.plan()
        .await?
        .assert_empty()
        .context("back to the pushed directory")?;

    // A directory without .tf files: refused at validate time, naming the attribute.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty)?;
    wd.set_env("TF_VAR_template_dir", empty.display().to_string());
    let out = wd
        .run_expect_failure(&["plan", "-no-color", "-input=false"])
        .await?;
    ensure!(
        out.stderr.contains("directory") && out.stderr.contains("no .tf file"),
        "{}",
        out.stderr
    );
    wd.remove_env("TF_VAR_template_dir");

    // Roles drift through the API: shown in plan, healed by apply.
    let uid = store.snapshot().user("contractor1").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = reqwest::Client::new()
        .put(format!("{}/api/v2/users/{uid}/roles", sb.coder_url))
        .header("Coder-Session-Token", &sb.config.coder_session_token)
        .json(&json!({"roles": ["owner"]}))
        .send()
        .await?;
    ensure!(res.status().is_success());
    let plan = wd.plan().await?;
    plan.assert_changes()?;
    ensure!(
        plan.stdout.contains("roles") && plan.stdout.contains("owner"),
        "{}",
        plan.stdout
    );
    wd.apply().await?;
    ensure!(
        store.snapshot().user("contractor1").unwrap()["roles"] == json!([]),
        "owner removed again"
    );

    // The template's hash key is in its private state, not among its attributes.
    let raw: Value = serde_json::from_str(&wd.read("terraform.tfstate")?)?;
    let tpl = raw["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["type"] == "webide_coder_template"))
        .context("template in state")?;
    ensure!(
        tpl["instances"][0]["private"]
            .as_str()
            .is_some_and(|p| !p.is_empty()),
        "private state holds the hash key: {tpl}"
    );
    ensure!(tpl["instances"][0]["attributes"].get("hash_key").is_none());

    // Import round-trips. The template's `directory_hash` is keyed with a random key kept in
    // state (it must not reveal `tf_vars`), so an imported template has no key and cannot be
    // compared: the next apply pushes it once under a new key, and nothing after that.
    for (addr, id) in [
        ("webide_coder_user.auditor", "readonly"),
        ("webide_coder_group.contractors", "coder/contractors"),
        (
            "webide_coder_template.contractor",
            "coder/contractor-workspace",
        ),
    ] {
        wd.run(&["state", "rm", addr]).await?;
        wd.import(addr, id)
            .await
            .with_context(|| format!("import {addr}"))?;
    }
    let before = store.snapshot().versions.len();
    wd.apply().await?;
    ensure!(
        store.snapshot().versions.len() == before + 1,
        "one push after import"
    );
    wd.apply().await?;
    ensure!(
        store.snapshot().versions.len() == before + 1,
        "no push once the key is recorded"
    );
    let c = wd.resource_changes().await?;
    ensure!(c.is_empty(), "after import: {c:?}");

    // Destroy.
    wd.destroy().await?;
    let st = store.snapshot();
    ensure!(
        st.templates.is_empty() && st.groups.is_empty(),
        "left: {:?}",
        st.templates.keys()
    );
    ensure!(
        st.users.len() == 1,
        "only the admin left: {:?}",
        st.users
            .values()
            .map(|u| u["username"].clone())
            .collect::<Vec<Value>>()
    );
    Ok(())
}
