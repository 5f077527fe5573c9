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

async fn coder_get(sb: &webide_sandbox::RunningSandbox, path: &str) -> Result<Value> {
    let res = reqwest::Client::new()
        .get(format!("{}/api/v2{path}", sb.coder_url))
        .header("Coder-Session-Token", &sb.config.coder_session_token)
        .send()
        .await?;
    ensure!(res.status().is_success(), "GET {path}: {}", res.status());
    Ok(res.json().await?)
}

/// Status and raw body text.
async fn coder_send(
    sb: &webide_sandbox::RunningSandbox,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> Result<(u16, String)> {
    let res = reqwest::Client::new()
        .request(method, format!("{}/api/v2{path}", sb.coder_url))
        .header("Coder-Session-Token", &sb.config.coder_session_token)
        .json(body)
        .send()
        .await?;
    Ok((res.status().as_u16(), res.text().await?))
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
    // Groups need Coder's Premium licence.
    let premium = SandboxConfig {
        coder_premium: true,
        ..Default::default()
    };
    let sb = webide_sandbox::start(premium, "127.0.0.1", Ports::default()).await?;
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
    // Members as codersdk.ReducedUser; the organization's Everyone group listed too.
    let groups = coder_get(&sb, "/organizations/default/groups").await?;
    let names: Vec<&str> = groups
        .as_array()
        .context("groups")?
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    ensure!(
        names.contains(&"Everyone") && names.contains(&"contractors"),
        "{names:?}"
    );
    let g = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "contractors")
        .unwrap();
    for f in [
        "id",
        "username",
        "email",
        "created_at",
        "status",
        "login_type",
    ] {
        ensure!(!g["members"][0][f].is_null(), "member field {f}: {g}");
    }

    // Settings the resource does not manage survive its updates: coderd replaces the
    // settings with what the PATCH carries, so the provider must send them back.
    let tid = st.template("contractor-workspace").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut t = coder_get(&sb, &format!("/templates/{tid}")).await?;
    t["allow_user_autostart"] = json!(false);
    t["failure_ttl_ms"] = json!(3_600_000);
    let (s, _) = coder_send(
        &sb,
        reqwest::Method::PATCH,
        &format!("/templates/{tid}"),
        &t,
    )
    .await?;
    ensure!(s == 200, "PATCH: {s}");
    // The same PATCH again changes nothing: 304 without a body.
    let (s, body) = coder_send(
        &sb,
        reqwest::Method::PATCH,
        &format!("/templates/{tid}"),
        &t,
    )
    .await?;
    ensure!(s == 304 && body.is_empty(), "no-op PATCH: {s} {body}");
    wd.write(
        "override.tf",
        "resource \"webide_coder_template\" \"contractor\" {\n  description = \"Changed\"\n}\n",
    )?;
    wd.apply().await?;
    let t = coder_get(&sb, &format!("/templates/{tid}")).await?;
    ensure!(
        t["description"] == "Changed"
            && t["allow_user_autostart"] == false
            && t["failure_ttl_ms"] == 3_600_000
            && t["display_name"] == "Contractor workspace",
        "settings kept: {t}"
    );
    wd.remove("override.tf")?;
    wd.apply().await?;
    ensure!(coder_get(&sb, &format!("/templates/{tid}")).await?["description"] == "");
    wd.plan().await?.assert_empty()?;

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
    // The group (organization left at `default`, imported by the real name `coder`) plans
    // no change; the template only records its directory (organization given by real name).
    let c = wd.resource_changes().await?;
    ensure!(
        !c.contains_key("webide_coder_group.contractors")
            && c.get("webide_coder_template.contractor") == Some(&vec!["update".to_string()]),
        "after import, no replacement: {c:?}"
    );
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
        st.templates.keys().collect::<Vec<_>>()
    );
    ensure!(
        st.users.len() == 1,
        "only the admin left: {:?}",
        st.users
            .values()
            .map(|u| u["username"].clone())
            .collect::<Vec<Value>>()
    );
    webide_acceptance_tests::assert_contract(&sb)?;
    Ok(())
}

const UNLICENSED_TF: &str = r#"
terraform {
  required_providers {
    webide = { source = "webide/webide" }
  }
}

variable "template_dir" {
  type = string
}

variable "with_group" {
  type    = bool
  default = true
}

resource "webide_coder_template" "t" {
  name      = "plain"
  directory = var.template_dir
}

resource "webide_coder_group" "g" {
  count = var.with_group ? 1 : 0
  name  = "contractors"
}
"#;

/// A fresh (unlicensed) Coder v2.15 as the simulator serves it: groups refused with 403 like
/// `RequireFeatureMW(FeatureTemplateRBAC)`, and the provider's diagnostic says a Premium
/// licence is needed; templates work; the API shapes the provider relies on (201 for a new
/// file, 200 for the same file again, unset fields omitted); names and a null directory
/// refused at validate time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coder_unlicensed_and_contract() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let store = sb.coder_store();

    let (s, body) = coder_send(
        &sb,
        reqwest::Method::POST,
        "/organizations/default/groups",
        &json!({"name": "x"}),
    )
    .await?;
    ensure!(
        s == 403 && body.contains("Template RBAC is a Premium feature"),
        "{s} {body}"
    );

    // Files: 201 the first time, 200 for the same content again.
    let mut tar = tar::Builder::new(Vec::new());
    let data = b"resource \"null_resource\" \"x\" {}\n";
    let mut hdr = tar::Header::new_gnu();
    hdr.set_size(data.len() as u64);
    hdr.set_mode(0o644);
    tar.append_data(&mut hdr, "main.tf", &data[..])?;
    let tar = tar.into_inner()?;
    let upload = || async {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v2/files", sb.coder_url))
            .header("Coder-Session-Token", &sb.config.coder_session_token)
            .header("Content-Type", "application/x-tar")
            .body(tar.clone())
            .send()
            .await?;
        Ok::<_, anyhow::Error>((r.status().as_u16(), r.json::<Value>().await?))
    };
    let (s1, f) = upload().await?;
    let (s2, _) = upload().await?;
    ensure!((s1, s2) == (201, 200), "uploads: {s1} {s2}");
    let (s, v) = coder_send(
        &sb,
        reqwest::Method::POST,
        "/organizations/default/templateversions",
        &json!({"storage_method": "file", "file_id": f["hash"], "provisioner": "terraform"}),
    )
    .await?;
    let v: Value = serde_json::from_str(&v)?;
    ensure!(s == 201, "{s}");
    ensure!(
        v.get("template_id").is_none(),
        "unset template_id omitted: {v}"
    );
    ensure!(
        v["job"].get("completed_at").is_none(),
        "unset completed_at omitted: {v}"
    );

    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("tpl");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("main.tf"), "# a template\n")?;
    let mut wd = h.workdir_with_main(UNLICENSED_TF)?;
    wd.set_env("CODER_URL", &sb.coder_url);
    wd.set_env("CODER_SESSION_TOKEN", &sb.config.coder_session_token);
    wd.set_env("TF_VAR_template_dir", dir.display().to_string());
    wd.init().await?;
    let out = wd.apply_expect_failure().await?;
    ensure!(
        out.stderr.contains("Premium licence") && out.stderr.contains("webide_coder_group"),
        "{}",
        out.stderr
    );
    ensure!(
        store.snapshot().template("plain").is_some(),
        "the template is made"
    );
    // Without the group the configuration applies on an unlicensed Coder.
    wd.set_env("TF_VAR_with_group", "false");
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;

    // Import by the default organization's real name into a configuration that leaves
    // `organization` at default: no replacement (only the directory is recorded).
    wd.run(&["state", "rm", "webide_coder_template.t"]).await?;
    wd.import("webide_coder_template.t", "coder/plain").await?;
    let c = wd.resource_changes().await?;
    ensure!(
        c.get("webide_coder_template.t") == Some(&vec!["update".to_string()]),
        "{c:?}"
    );
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;

    // `import {}` + `-generate-config-out` (Terraform >= 1.5): the generated configuration
    // has `directory = null`, which plan refuses naming the attribute and saying why; filled
    // in, the import plans without replacement.
    let version = h.cli().version().to_string();
    let minor: u32 = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if version.starts_with("1.") && minor >= 5 {
        let mut g = h.workdir_with_main(
            "terraform {\n  required_providers {\n    webide = { source = \"webide/webide\" }\n  }\n}\nimport {\n  to = webide_coder_template.gen\n  id = \"coder/plain\"\n}\n",
        )?;
        g.set_env("CODER_URL", &sb.coder_url);
        g.set_env("CODER_SESSION_TOKEN", &sb.config.coder_session_token);
        g.init().await?;
        let out = g
            .run_expect_failure(&[
                "plan",
                "-no-color",
                "-input=false",
                "-generate-config-out=gen.tf",
            ])
            .await?;
        ensure!(
            out.stderr.contains("Missing template directory") && out.stderr.contains("directory"),
            "{}",
            out.stderr
        );
        let gen = g.read("gen.tf")?;
        ensure!(gen.contains("directory"), "{gen}");
        let filled: String = gen
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("directory ") {
                    format!("  directory = {:?}", dir.display().to_string())
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        g.write("gen.tf", &filled)?;
        let plan = g.plan_json().await?;
        let actions = webide_acceptance_tests::planned_actions(&plan);
        ensure!(
            actions
                .get("webide_coder_template.gen")
                .is_some_and(|a| !a.iter().any(|x| x == "delete" || x == "create")),
            "generated config imports without replacement: {actions:?}\n{filled}"
        );
    } else {
        println!("skipped -generate-config-out: needs Terraform >= 1.5, running {version}");
    }

    wd.destroy().await?;
    ensure!(store.snapshot().templates.is_empty());

    // Validate time: Coder's name rule, and a null directory (what -generate-config-out writes).
    for (body, attr) in [
        (
            "resource \"webide_coder_user\" \"x\" {\n  username = \"first.last\"\n  email = \"f@example.com\"\n  password = \"Password123!\"\n}",
            "username",
        ),
        (
            "resource \"webide_coder_template\" \"x\" {\n  name = \"t\"\n  directory = null\n}",
            "Missing template directory",
        ),
    ] {
        let bad = h.workdir_with_main(&format!(
            "terraform {{\n  required_providers {{\n    webide = {{ source = \"webide/webide\" }}\n  }}\n}}\n{body}"
        ))?;
        bad.init().await?;
        let out = bad.run_expect_failure(&["validate", "-no-color"]).await?;
        ensure!(out.stderr.contains(attr), "{body}: {}", out.stderr);
    }
    webide_acceptance_tests::assert_contract(&sb)?;
    Ok(())
}
