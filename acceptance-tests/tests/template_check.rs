//! Static checks of the Coder template (`templates/contractor-workspace`) and the examples.
//!
//! A real workspace build runs the template in Coder's provisioner with the `coder/coder` and
//! `kreuzwerker/docker` providers, which cannot be installed on these machines (no registry), so
//! `terraform validate` cannot run on the template here. What can be checked without them is
//! checked: `terraform fmt -check` on every `.tf` file of `templates/` and `examples/`, an HCL
//! parse of the template, every `webide_*` block and attribute in it against this provider's own
//! schema, and every template variable without a default against the `tf_vars` that
//! `examples/full-environment` pushes with it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{bail, ensure, Context, Result};
use hcl::{Body, Expression, ObjectKey};
use webide_acceptance_tests::template::{self, parse_dir};
use webide_acceptance_tests::{terraform_cli, workspace_root};
use webide_provider::protocol::schema::Block;
use webide_provider::protocol::server::ProviderService;
use webide_provider::provider::WebideProvider;

fn template_dir() -> PathBuf {
    workspace_root().join("templates/contractor-workspace")
}

fn label(block: &hcl::Block, i: usize) -> Option<&str> {
    block.labels.get(i).map(|l| l.as_str())
}

/// Names the `body` sets that `schema` does not declare, and required attributes it leaves out.
fn check_body(body: &Body, schema: &Block, at: &str, problems: &mut Vec<String>) {
    // Meta-arguments Terraform handles itself.
    const META: &[&str] = &["count", "for_each", "provider", "depends_on", "lifecycle"];
    let mut set = BTreeSet::new();
    for attr in body.attributes() {
        let name = attr.key.as_str();
        set.insert(name.to_string());
        if META.contains(&name) {
            continue;
        }
        match schema.attributes.iter().find(|a| a.name == name) {
            None => problems.push(format!("{at}: `{name}` is not an argument of this type")),
            Some(a) if a.computed && !a.optional && !a.required => {
                problems.push(format!("{at}: `{name}` is read-only"))
            }
            Some(_) => {}
        }
    }
    for block in body.blocks() {
        let name = block.identifier.as_str();
        if META.contains(&name) || name == "dynamic" {
            continue;
        }
        match schema.blocks.iter().find(|b| b.name == name) {
            None => problems.push(format!("{at}: block `{name}` is not declared by this type")),
            Some(nested) => check_body(
                &block.body,
                &nested.block,
                &format!("{at}.{name}"),
                problems,
            ),
        }
    }
    for a in schema.attributes.iter().filter(|a| a.required) {
        if !set.contains(&a.name) {
            problems.push(format!("{at}: required argument `{}` is missing", a.name));
        }
    }
}

#[test]
fn terraform_fmt_check_on_templates_and_examples() -> Result<()> {
    let cli = terraform_cli()?;
    let root = workspace_root();
    for dir in ["templates", "examples"] {
        let out = std::process::Command::new(&cli.path)
            .args(["fmt", "-check", "-recursive", "-diff", dir])
            .current_dir(&root)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .output()
            .context("running terraform fmt")?;
        ensure!(
            out.status.success(),
            "`terraform fmt -check -recursive {dir}` ({}) wants changes:\n{}{}",
            cli.version(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

#[test]
fn template_webide_blocks_match_the_provider_schema() -> Result<()> {
    let service = ProviderService::new(WebideProvider::default());
    let (provider_schema, resources, data_sources) = service.schemas();
    let mut problems = Vec::new();
    let mut seen = 0;
    for (path, body) in parse_dir(&template_dir())? {
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        for block in body.blocks() {
            let kind = block.identifier.as_str();
            let Some(ty) = label(block, 0) else { continue };
            let schema = match kind {
                "resource" if ty.starts_with("webide_") => resources
                    .iter()
                    .find(|(n, _)| *n == ty)
                    .map(|(_, s)| &s.block),
                "data" if ty.starts_with("webide_") => data_sources
                    .iter()
                    .find(|(n, _)| *n == ty)
                    .map(|(_, s)| &s.block),
                "provider" if ty == "webide" => Some(&provider_schema.block),
                _ => continue,
            };
            let at = format!(
                "{file}: {kind} {}",
                block
                    .labels
                    .iter()
                    .map(|l| format!("\"{}\"", l.as_str()))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            seen += 1;
            match schema {
                None => problems.push(format!("{at}: the provider has no type `{ty}`")),
                Some(schema) => check_body(&block.body, schema, &at, &mut problems),
            }
        }
    }
    ensure!(seen >= 2, "expected the template's webide provider block and at least one webide resource, saw {seen}");
    ensure!(
        problems.is_empty(),
        "the template does not match the provider schema:\n  {}",
        problems.join("\n  ")
    );
    Ok(())
}

/// The checker itself: a misspelt argument, a read-only one and a missing required one are found.
#[test]
fn schema_check_finds_wrong_arguments() -> Result<()> {
    let service = ProviderService::new(WebideProvider::default());
    let (_, resources, _) = service.schemas();
    let (_, key) = resources
        .iter()
        .find(|(n, _)| *n == "webide_litellm_key")
        .context("webide_litellm_key in the schema")?;
    let body: Body = hcl::from_str("key_alias = \"a\"\nmax_budgett = 1\nkey = \"x\"\n")?;
    let mut problems = Vec::new();
    check_body(&body, &key.block, "t", &mut problems);
    let text = problems.join("\n");
    ensure!(text.contains("`max_budgett` is not an argument"), "{text}");
    ensure!(text.contains("`key` is read-only"), "{text}");
    let (_, user) = resources
        .iter()
        .find(|(n, _)| *n == "webide_gitea_user")
        .context("webide_gitea_user in the schema")?;
    let mut problems = Vec::new();
    check_body(
        &hcl::from_str("full_name = \"x\"")?,
        &user.block,
        "u",
        &mut problems,
    );
    ensure!(
        problems
            .iter()
            .any(|p| p.contains("required argument `username` is missing")),
        "{problems:?}"
    );
    Ok(())
}

/// Keys of the object expression given to `attr` in `body`.
fn object_keys(body: &Body, attr: &str) -> Result<BTreeSet<String>> {
    let Some(a) = body.attributes().find(|a| a.key.as_str() == attr) else {
        return Ok(BTreeSet::new());
    };
    let Expression::Object(obj) = &a.expr else {
        bail!("`{attr}` is not an object literal")
    };
    Ok(obj
        .keys()
        .map(|k| match k {
            ObjectKey::Identifier(i) => i.as_str().to_string(),
            ObjectKey::Expression(Expression::String(s)) => s.clone(),
            ObjectKey::Expression(e) => e.to_string(),
            _ => String::new(),
        })
        .collect())
}

#[test]
fn full_environment_gives_every_template_variable_without_default() -> Result<()> {
    let vars = template::variables(&template_dir())?;
    let required = &vars.required;
    let env = workspace_root().join("examples/full-environment");
    let mut pushed = None;
    for (_, body) in parse_dir(&env)? {
        for block in body.blocks() {
            if block.identifier.as_str() == "resource"
                && label(block, 0) == Some("webide_coder_template")
            {
                let dir = block
                    .body
                    .attributes()
                    .find(|a| a.key.as_str() == "directory")
                    .map(|a| a.expr.to_string())
                    .unwrap_or_default();
                if dir.contains("contractor-workspace") {
                    pushed = Some(object_keys(&block.body, "tf_vars")?);
                }
            }
        }
    }
    let given = pushed.context("examples/full-environment pushes no webide_coder_template from templates/contractor-workspace")?;
    let missing: Vec<_> = required.difference(&given).collect();
    ensure!(
        missing.is_empty(),
        "template variables without a default that examples/full-environment does not give in tf_vars: {missing:?}"
    );
    let unknown: Vec<_> = given.iter().filter(|k| !required.contains(*k)).collect();
    // Extra keys are fine only when the template declares them (with a default).
    let declared = &vars.declared;
    let undeclared: Vec<_> = unknown
        .into_iter()
        .filter(|k| !declared.contains(*k))
        .collect();
    ensure!(
        undeclared.is_empty(),
        "tf_vars given by examples/full-environment that the template does not declare: {undeclared:?}"
    );
    Ok(())
}

/// The agent's startup script writes Roo Code's settings with the gateway URL and the workspace
/// key, valid JSON, readable only by the owner, without printing the key. Run with bash up to
/// the point where it starts code-server (which is not installed here).
#[test]
fn startup_script_writes_roo_code_settings_without_printing_the_key() -> Result<()> {
    let mut script = None;
    for (_, body) in parse_dir(&template_dir())? {
        for block in body.blocks() {
            if block.identifier.as_str() == "resource" && label(block, 0) == Some("coder_agent") {
                if let Some(a) = block
                    .body
                    .attributes()
                    .find(|a| a.key.as_str() == "startup_script")
                {
                    script = Some(match &a.expr {
                        Expression::String(s) => s.clone(),
                        Expression::TemplateExpr(t) => t.to_string(),
                        other => other.to_string(),
                    });
                }
            }
        }
    }
    let script = script.context("coder_agent.startup_script in the template")?;
    let setup = script
        .split("# Background output")
        .next()
        .context("the script's settings part")?;
    // A heredoc template: `$${` would be an escape; there is none, so what is left is plain shell.
    ensure!(
        !setup.contains("${"),
        "the settings part interpolates Terraform values: {setup}"
    );
    let home = tempfile::tempdir()?;
    let key = "sk-workspace-key-0123456789";
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(setup)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("OPENAI_API_BASE", "http://litellm:4000/v1")
        .env("OPENAI_API_KEY", key)
        .env("AI_MODEL", "claude-sonnet")
        .env("AI_ENFORCEMENT_LEVEL", "strict")
        .output()?;
    ensure!(
        out.status.success(),
        "the script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(
        !printed.contains(key),
        "the script printed the key: {printed}"
    );
    let path = home.path().join(".config/roo-code/settings.json");
    let settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path)?).context("settings.json is JSON")?;
    ensure!(settings["apiKey"] == key, "{settings}");
    ensure!(
        settings["openAiBaseUrl"] == "http://litellm:4000/v1",
        "{settings}"
    );
    ensure!(settings["enforcementLevel"] == "strict", "{settings}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
    ensure!(mode == 0o600, "settings.json mode {mode:o}, want 600");
    Ok(())
}
