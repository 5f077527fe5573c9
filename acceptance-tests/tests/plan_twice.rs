//! "Plan twice" for every documentation example: each example under `examples/resources/` and
//! `examples/data-sources/` (with the examples it refers to, see
//! [`webide_acceptance_tests::examples`]), and a root configuration of
//! `examples/modules/platform-user`, is applied against a fresh sandbox (and the Docker Engine
//! for `compose_*`), then two consecutive `terraform plan -detailed-exitcode` must both exit 0.
//!
//! Some examples get objects added by the harness ([`extra`]) so that a permission also comes
//! through another path: a read collaborator who has write through a team, a read collaborator
//! who is a site admin, a Coder user in a group, an Authentik user in a group with a parent.
//! A perpetual diff on any of them fails the test.
//!
//! `WEBIDE_PLAN_TWICE_ONLY=<part of an id>` narrows a run to matching examples (printed).
//!
//! An example that cannot run here is in [`CANNOT_RUN`] with the reason, printed on each run;
//! every other example directory runs (the test fails on an example it does not know how to
//! give values to).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use webide_acceptance_tests::examples::{self, Example};
use webide_acceptance_tests::fixture::{docker_engine, fixture_context};
use webide_acceptance_tests::{workspace_root, Harness, TfWorkdir};
use webide_sandbox::{Ports, SandboxConfig};

/// Examples that cannot run on these machines, with why (printed on every run).
const CANNOT_RUN: &[(&str, &str)] = &[
    (
        "resources/webide_compose_service",
        "runs the upstream images postgres:16 and ghcr.io/coder/coder:v2.15.0, which no registry \
         here serves; the type's plan-twice runs in import_roundtrip.rs on the local stand-in image",
    ),
    (
        "resources/webide_compose_exec",
        "runs psql in the compose_service example's postgres:16 container (not available, above); \
         exec_step.rs runs the same step on the Debian-built PostgreSQL and re-plans it empty",
    ),
    (
        "resources/webide_coder_first_user",
        "needs a Coder without users at its own url (the shared sandbox has its admin);          bootstrap.rs applies it against a fresh Coder simulator and plans twice empty",
    ),
    (
        "resources/webide_gitea_admin_user",
        "runs Gitea's CLI in the compose_service example's Gitea container (upstream image, not          available); gitea_login_source.rs applies it in the stand-in Gitea image and re-plans empty",
    ),
    (
        "resources/webide_gitea_login_source",
        "runs Gitea's CLI in the compose_service example's Gitea container (upstream image, not          available); gitea_login_source.rs applies it in the stand-in Gitea image and re-plans empty",
    ),
];

/// Values the harness gives the examples' variables.
fn variable_value(name: &str, sb: &webide_sandbox::RunningSandbox) -> Option<String> {
    Some(match name {
        "initial_password" | "password" => "Initial-Passw0rd!".into(),
        "litellm_master_key" => sb.config.litellm_master_key.clone(),
        "openai_api_key" => "sk-plan-twice-openai".into(),
        "postgres_password" => "plan-twice-pg".into(),
        // Groups need Coder's Premium licence, which the harness's sandbox holds.
        "coder_premium" => "true".into(),
        _ => return None,
    })
}

/// Objects the harness adds to an example, so that a permission also comes through another path.
fn extra(id: &str) -> &'static str {
    match id {
        // The team example gives contractor1 write on the repository; the site admin sees every
        // repository: both also get a read grant, which must read back as `read`.
        "resources/webide_gitea_repository_collaborator" => {
            r#"
resource "webide_gitea_repository_collaborator" "team_writer" {
  owner      = webide_gitea_repository.app.owner
  repository = webide_gitea_repository.app.name
  username   = webide_gitea_user.contractor1.username
  permission = "read"
  depends_on = [webide_gitea_team.contractors]
}

resource "webide_gitea_user" "site_admin" {
  username = "siteadmin"
  email    = "siteadmin@example.com"
  password = var.initial_password
  admin    = true
}

resource "webide_gitea_repository_collaborator" "site_admin" {
  owner      = webide_gitea_repository.app.owner
  repository = webide_gitea_repository.app.name
  username   = webide_gitea_user.site_admin.username
  permission = "read"
}
"#
        }
        // A user in a group whose parent is one of the RBAC groups (inherited membership).
        "resources/webide_authentik_user" => {
            r#"
resource "webide_authentik_group" "inheriting" {
  name    = "contractors-acme"
  parents = [webide_authentik_group.rbac["coder-members"].id]
}

resource "webide_authentik_user" "inherits" {
  username = "contractor2"
  name     = "Contractor Two"
  email    = "contractor2@example.com"
  groups   = [webide_authentik_group.inheriting.id]
}
"#
        }
        // A Coder user in a group, and the user's own plan.
        "resources/webide_coder_user" => {
            r#"
resource "webide_coder_group" "reviewers" {
  name    = "reviewers"
  members = [webide_coder_user.appmanager.id, webide_coder_user.contractor1.id]
}
"#
        }
        _ => "",
    }
}

/// A root configuration of `examples/modules/platform-user`: one person per role.
fn module_root(module_dir: &Path) -> String {
    format!(
        r#"
resource "webide_authentik_group" "rbac" {{
  for_each = toset(["coder-admins", "coder-template-admins", "coder-auditors", "coder-members"])
  name     = each.key
}}

resource "webide_litellm_team" "contractors" {{
  team_alias = "contractors"
  models     = ["claude-sonnet"]
  max_budget = 500
}}

module "person" {{
  source   = "{dir}"
  for_each = {{ alice = "platform_admin", bob = "app_manager", carol = "contractor", dave = "compliance" }}
  providers = {{
    webide.authentik = webide
    webide.gitea     = webide
    webide.litellm   = webide
    webide.coder     = webide
  }}
  username                   = each.key
  name                       = title(each.key)
  email                      = "${{each.key}}@example.com"
  role                       = each.value
  password                   = var.password
  authentik_group_ids        = {{ for k, g in webide_authentik_group.rbac : k => g.id }}
  litellm_contractor_team_id = webide_litellm_team.contractors.id
}}

variable "password" {{
  type      = string
  sensitive = true
}}
"#,
        dir = module_dir.display()
    )
}

const TERRAFORM_BLOCK: &str =
    "terraform {\n  required_providers {\n    webide = { source = \"webide/webide\" }\n  }\n}\n";

/// The examples' `${path.module}/templates/contractor-workspace`: the repository's template,
/// its image build context replaced by the local stand-in (the real one starts `FROM
/// codercom/code-server`, which cannot be pulled here).
fn write_templates(wd: &TfWorkdir, stand_in: Option<&Path>) -> Result<()> {
    let src = workspace_root()
        .join("templates")
        .join("contractor-workspace");
    let dest = wd.path().join("templates").join("contractor-workspace");
    std::fs::create_dir_all(dest.join("build"))?;
    for f in ["main.tf", "README.md"] {
        std::fs::copy(src.join(f), dest.join(f)).with_context(|| format!("copying {f}"))?;
    }
    let ctx = stand_in.map_or_else(|| src.join("build"), Path::to_path_buf);
    for e in std::fs::read_dir(ctx)?.flatten() {
        std::fs::copy(e.path(), dest.join("build").join(e.file_name()))?;
    }
    Ok(())
}

/// Plans twice; returns the changes each non-empty plan shows.
async fn plan_twice(wd: &TfWorkdir) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for round in ["first", "second"] {
        let out = wd
            .run_unchecked(&["plan", "-detailed-exitcode", "-no-color", "-input=false"])
            .await?;
        match out.exit_code {
            Some(0) => {}
            Some(2) => {
                let lines: Vec<&str> = out
                    .stdout
                    .lines()
                    .filter(|l| {
                        let t = l.trim_start();
                        t.starts_with('#')
                            || t.starts_with('~')
                            || t.starts_with('+')
                            || t.starts_with('-')
                            || l.contains("->")
                    })
                    .take(20)
                    .collect();
                problems.push(format!("{round} plan is not empty:\n{}", lines.join("\n")));
            }
            _ => problems.push(format!("{round} plan failed: {}", out.describe_failure())),
        }
    }
    Ok(problems)
}

/// Addresses of resources the configuration protects with `prevent_destroy` (removed from
/// state before the destroy, then deleted through the Docker CLI).
fn protected(text: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for b in examples::parse_blocks(text)? {
        if b.text.contains("prevent_destroy = true") {
            if !b.key.starts_with("webide_compose_volume.") {
                bail!(
                    "{} has prevent_destroy: the harness only knows how to remove volumes",
                    b.key
                );
            }
            let name = b
                .text
                .lines()
                .find_map(|l| l.trim().strip_prefix("name").map(|v| v.trim()))
                .and_then(|v| v.strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_string())
                .context("a protected volume without a literal name")?;
            out.push((b.key, name));
        }
    }
    Ok(out)
}

struct Case {
    id: String,
    text: String,
    docker: bool,
}

async fn run_case(h: &Harness, case: &Case, docker: Option<&Path>) -> Result<Vec<String>> {
    let premium = SandboxConfig {
        coder_premium: true,
        ..Default::default()
    };
    let sb = webide_sandbox::start(premium, "127.0.0.1", Ports::default()).await?;
    let mut wd = h.workdir()?;
    wd.set_sandbox_env(&sb);
    wd.set_timeout(Duration::from_secs(300));
    wd.write("versions.tf", TERRAFORM_BLOCK)?;
    wd.write("main.tf", &case.text)?;
    let builds = case.text.contains("resource \"webide_compose_image\"");
    write_templates(&wd, docker.filter(|_| builds))?;
    for var in examples::required_variables(&case.text)?
        .into_iter()
        .chain(["coder_premium".to_string()])
    {
        let declared = case.text.contains(&format!("variable \"{var}\""));
        match variable_value(&var, &sb) {
            Some(v) if declared => {
                wd.set_env(format!("TF_VAR_{var}"), v);
            }
            Some(_) => {}
            None => bail!("{}: the harness has no value for variable {var:?}", case.id),
        }
    }
    let protected = protected(&case.text)?;
    wd.init().await?;
    let applied = wd.apply().await;
    let mut problems = match &applied {
        Ok(_) => plan_twice(&wd).await?,
        Err(e) => vec![format!("apply failed: {e:#}")],
    };
    for (addr, _) in &protected {
        wd.run_unchecked(&["state", "rm", "-no-color", addr])
            .await?;
    }
    if let Err(e) = wd.destroy().await {
        problems.push(format!("destroy failed: {e:#}"));
    }
    for (_, name) in &protected {
        let _ = std::process::Command::new("docker")
            .args(["volume", "rm", name])
            .output();
    }
    Ok(problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_plans_twice_clean() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let root = workspace_root();
    let all = examples::load(&root)?;
    let h = Harness::new()?;
    println!("Terraform CLI: {}", h.cli().version_line);
    let docker = docker_engine()?;
    let stand_in = match docker {
        Some(_) => Some(fixture_context()?),
        None => None,
    };

    let mut cases = Vec::new();
    for e in &all {
        if let Some((_, why)) = CANNOT_RUN.iter().find(|(id, _)| *id == e.id) {
            println!("not run  {}: {why}", e.id);
            continue;
        }
        let chosen: Vec<&Example> = examples::closure(&all, e, extra(&e.id));
        let text = examples::compose(&chosen, extra(&e.id))?;
        let docker_needed = text.contains("webide_compose_");
        cases.push(Case {
            id: e.id.clone(),
            text,
            docker: docker_needed,
        });
    }
    cases.push(Case {
        id: "modules/platform-user".into(),
        text: module_root(&root.join("examples").join("modules").join("platform-user")),
        docker: false,
    });
    for (id, _) in CANNOT_RUN {
        if !all.iter().any(|e| e.id == *id) {
            bail!("CANNOT_RUN names {id}, which is no example directory: remove it");
        }
    }

    // `WEBIDE_PLAN_TWICE_ONLY=<part of an id>` runs only matching examples (while working on one).
    let only = std::env::var("WEBIDE_PLAN_TWICE_ONLY").ok();
    if let Some(o) = &only {
        println!("WEBIDE_PLAN_TWICE_ONLY={o}: only the examples whose id contains it");
    }
    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for case in &cases {
        if only.as_deref().is_some_and(|o| !case.id.contains(o)) {
            continue;
        }
        if case.docker && docker.is_none() {
            // docker_engine() already failed under CI; here it printed why it is missing.
            println!("skipped  {}: no Docker Engine", case.id);
            continue;
        }
        let started = std::time::Instant::now();
        let problems = run_case(&h, case, stand_in.as_deref())
            .await
            .with_context(|| format!("{}: the harness failed", case.id))?;
        println!(
            "{}  {} ({:.0?})",
            if problems.is_empty() {
                "clean   "
            } else {
                "FAILED  "
            },
            case.id,
            started.elapsed()
        );
        for p in &problems {
            println!("    {}", p.replace('\n', "\n    "));
        }
        if !problems.is_empty() {
            failures.insert(case.id.clone(), problems);
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} example(s) do not plan twice clean: {:?}",
            failures.len(),
            failures.keys().collect::<Vec<_>>()
        );
    }
    Ok(())
}
