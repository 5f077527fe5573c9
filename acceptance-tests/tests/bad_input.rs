//! The bad-input table: invalid configurations, each refused with a diagnostic naming the
//! attribute (at `validate`/`plan` time when the value is known, else at apply), and no API
//! write made on any service.
//!
//! One `terraform init` for all cases; each case replaces `main.tf`.

use anyhow::{bail, ensure, Result};
use webide_acceptance_tests::{Harness, TfWorkdir};
use webide_sandbox::{Ports, RunningSandbox, SandboxConfig};

/// When the refusal must happen.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// `terraform validate` already fails.
    Validate,
    /// `terraform plan` fails (values known only with the provider configured).
    Plan,
    /// `terraform apply` fails (only the server can tell), still without any write.
    Apply,
    /// Accepted, but `terraform validate` warns (the text must name the file).
    Warn,
}

struct Case {
    name: &'static str,
    /// Extra lines inside the provider block.
    provider: &'static str,
    /// Resources.
    body: &'static str,
    phase: Phase,
    /// Text the diagnostic must contain (the attribute or block name).
    expect: &'static str,
}

const fn case(name: &'static str, phase: Phase, expect: &'static str, body: &'static str) -> Case {
    Case {
        name,
        provider: "",
        body,
        phase,
        expect,
    }
}

use Phase::*;

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Directories the Docker and Coder cases point at: a build that fails on a missing file,
/// a build context and a template directory that each hold a symbolic link.
fn fixture_dirs(dir: &std::path::Path) -> Result<()> {
    let fail = dir.join("failing-build");
    std::fs::create_dir_all(&fail)?;
    std::fs::write(
        fail.join("Dockerfile"),
        "FROM scratch\nCOPY no-such-file.txt /x\n",
    )?;
    let ctx = dir.join("context-with-link");
    std::fs::create_dir_all(&ctx)?;
    std::fs::write(ctx.join("Dockerfile"), "FROM scratch\n")?;
    let tpl = dir.join("template-with-link");
    std::fs::create_dir_all(&tpl)?;
    std::fs::write(tpl.join("main.tf"), "# template\n")?;
    for (link, target) in [
        (ctx.join("linked.txt"), "/etc/hostname"),
        (tpl.join("linked.tf"), "/etc/hostname"),
    ] {
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(target, &link)?;
        }
    }
    Ok(())
}

/// Where [`fixture_dirs`] puts them (one per test process).
fn fixture_root() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("webide-bad-input-{}", std::process::id()))
}

fn cases() -> Vec<Case> {
    let dir = fixture_root();
    vec![
        case(
            "negative key budget",
            Validate,
            "max_budget",
            r#"resource "webide_litellm_key" "k" { max_budget = -5 }"#,
        ),
        case(
            "malformed budget duration",
            Validate,
            "budget_duration",
            r#"resource "webide_litellm_key" "k" { budget_duration = "thirty days" }"#,
        ),
        case(
            "fractional rpm limit",
            Validate,
            "rpm_limit",
            r#"resource "webide_litellm_key" "k" { rpm_limit = 1.5 }"#,
        ),
        case(
            "negative tpm limit",
            Validate,
            "tpm_limit",
            r#"resource "webide_litellm_key" "k" { tpm_limit = -1 }"#,
        ),
        case(
            "empty key alias",
            Validate,
            "key_alias",
            r#"resource "webide_litellm_key" "k" { key_alias = "" }"#,
        ),
        case(
            "malformed key duration",
            Validate,
            "duration",
            r#"resource "webide_litellm_key" "k" { duration = "forever" }"#,
        ),
        case(
            "negative parallel requests",
            Validate,
            "max_parallel_requests",
            r#"resource "webide_litellm_key" "k" { max_parallel_requests = -3 }"#,
        ),
        case(
            "negative team budget",
            Validate,
            "max_budget",
            r#"resource "webide_litellm_team" "t" {
  team_alias = "t"
  max_budget = -1
}"#,
        ),
        case(
            "empty team alias",
            Validate,
            "team_alias",
            r#"resource "webide_litellm_team" "t" { team_alias = "" }"#,
        ),
        case(
            "malformed team budget duration",
            Validate,
            "budget_duration",
            r#"resource "webide_litellm_team" "t" {
  team_alias      = "t"
  budget_duration = "monthly"
}"#,
        ),
        case(
            "gitea: invalid e-mail",
            Validate,
            "email",
            r#"resource "webide_gitea_user" "u" {
  username = "x1"
  email    = "not-an-email"
}"#,
        ),
        case(
            "gitea: invalid username",
            Validate,
            "username",
            r#"resource "webide_gitea_user" "u" {
  username = "-bad name-"
  email    = "a@example.com"
}"#,
        ),
        case(
            "gitea: short password",
            Validate,
            "password",
            r#"resource "webide_gitea_user" "u" {
  username = "x2"
  email    = "x2@example.com"
  password = "short"
}"#,
        ),
        case(
            "gitea: short password_wo",
            Validate,
            "Invalid value for password_wo",
            r#"resource "webide_gitea_user" "u" {
  username    = "x2"
  email       = "x2@example.com"
  password_wo = "short"
}"#,
        ),
        case(
            "gitea: password and password_wo",
            Validate,
            "Conflicting arguments `password_wo` and `password`",
            r#"resource "webide_gitea_user" "u" {
  username    = "x2"
  email       = "x2@example.com"
  password    = "Password123!"
  password_wo = "Password123!"
}"#,
        ),
        case(
            "gitea: unknown visibility",
            Validate,
            "visibility",
            r#"resource "webide_gitea_org" "o" {
  name       = "o"
  visibility = "secret"
}"#,
        ),
        case(
            "gitea: unknown team permission",
            Validate,
            "permission",
            r#"resource "webide_gitea_team" "t" {
  org        = "o"
  name       = "t"
  permission = "owner"
}"#,
        ),
        case(
            "gitea: unknown collaborator permission",
            Validate,
            "permission",
            r#"resource "webide_gitea_repository_collaborator" "c" {
  owner      = "o"
  repository = "r"
  username   = "u"
  permission = "superuser"
}"#,
        ),
        case(
            "authentik: invalid e-mail",
            Validate,
            "email",
            r#"resource "webide_authentik_user" "u" {
  username = "u"
  name     = "U"
  email    = "nope"
}"#,
        ),
        case(
            "authentik: password and password_wo",
            Validate,
            "Conflicting arguments `password_wo` and `password`",
            r#"resource "webide_authentik_user" "u" {
  username    = "u"
  name        = "U"
  password    = "Password123!"
  password_wo = "Password123!"
}"#,
        ),
        case(
            "authentik: attributes not a JSON object",
            Validate,
            "attributes",
            r#"resource "webide_authentik_user" "u" {
  username   = "u"
  name       = "U"
  attributes = "[1, 2]"
}"#,
        ),
        case(
            "authentik: unknown user type",
            Validate,
            "type",
            r#"resource "webide_authentik_user" "u" {
  username = "u"
  name     = "U"
  type     = "robot"
}"#,
        ),
        case(
            "authentik: bad client type",
            Validate,
            "client_type",
            r#"resource "webide_authentik_oauth2_provider" "p" {
  name               = "p"
  client_type        = "secret"
  authorization_flow = "x"
  invalidation_flow  = "y"
  redirect_uris      = ["https://a/cb"]
}"#,
        ),
        case(
            "authentik: bad application slug",
            Validate,
            "slug",
            r#"resource "webide_authentik_application" "a" {
  name = "A"
  slug = "Not A Slug!"
}"#,
        ),
        case(
            "authentik: application slug with a dot",
            Validate,
            "slug",
            r#"resource "webide_authentik_application" "a" {
  name = "A"
  slug = "coder.app"
}"#,
        ),
        case(
            "authentik: username with a space",
            Validate,
            "username",
            r#"resource "webide_authentik_user" "u" {
  username = "first last"
  name     = "U"
}"#,
        ),
        case(
            "authentik: username over 150",
            Validate,
            "username",
            leak(format!(
                "resource \"webide_authentik_user\" \"u\" {{\n  username = \"{}\"\n  name     = \"U\"\n}}",
                "u".repeat(151)
            )),
        ),
        case(
            "authentik: user path with a leading slash",
            Validate,
            "path",
            r#"resource "webide_authentik_user" "u" {
  username = "u"
  name     = "U"
  path     = "/users"
}"#,
        ),
        case(
            "authentik: group name with a newline",
            Validate,
            "name",
            r#"resource "webide_authentik_group" "g" {
  name = "coder\nadmins"
}"#,
        ),
        case(
            "authentik: empty provider name",
            Validate,
            "name",
            r#"resource "webide_authentik_oauth2_provider" "p" {
  name               = ""
  authorization_flow = "x"
  invalidation_flow  = "y"
  redirect_uris      = ["https://a/cb"]
}"#,
        ),
        case(
            "authentik: bad matching mode",
            Validate,
            "redirect_uri_matching",
            r#"resource "webide_authentik_oauth2_provider" "p" {
  name                  = "p"
  authorization_flow    = "x"
  invalidation_flow     = "y"
  redirect_uris         = ["https://a/cb"]
  redirect_uri_matching = "prefix"
}"#,
        ),
        case(
            "authentik: redirect URI not a regex",
            Validate,
            "redirect_uris[1]",
            r#"resource "webide_authentik_oauth2_provider" "p" {
  name                  = "p"
  authorization_flow    = "x"
  invalidation_flow     = "y"
  redirect_uris         = ["https://a/cb", "https://(a|b/cb"]
  redirect_uri_matching = "regex"
}"#,
        ),
        case(
            "authentik: token validity not a duration",
            Validate,
            "access_token_validity",
            r#"resource "webide_authentik_oauth2_provider" "p" {
  name                  = "p"
  authorization_flow    = "x"
  invalidation_flow     = "y"
  redirect_uris         = ["https://a/cb"]
  access_token_validity = "5m"
}"#,
        ),
        case(
            "litellm: empty model name in a key",
            Validate,
            "models",
            r#"resource "webide_litellm_key" "k" { models = ["claude-sonnet", ""] }"#,
        ),
        case(
            "litellm: model listed twice in a team",
            Validate,
            "models",
            r#"resource "webide_litellm_team" "t" {
  team_alias = "t"
  models     = ["gpt-4o", "gpt-4o"]
}"#,
        ),
        case(
            "litellm: fractional model rpm",
            Validate,
            "rpm",
            r#"resource "webide_litellm_model" "m" {
  model_name = "m"
  model      = "ollama/llama3"
  rpm        = 2.5
}"#,
        ),
        case(
            "litellm: negative team budget",
            Validate,
            "max_budget",
            r#"resource "webide_litellm_team" "t" {
  team_alias = "t"
  max_budget = -1
}"#,
        ),
        case(
            "litellm: team budget duration without unit",
            Validate,
            "budget_duration",
            r#"resource "webide_litellm_team" "t" {
  team_alias      = "t"
  budget_duration = "30"
}"#,
        ),
        case(
            "litellm: key alias outside the alias format",
            Warn,
            "key_alias",
            r#"resource "webide_litellm_key" "k" { key_alias = "my key" }"#,
        ),
        case(
            "authentik: unknown flow slug",
            Plan,
            "slug",
            r#"data "webide_authentik_flow" "f" {
  slug = "no-such-flow"
}"#,
        ),
        case(
            "coder: unknown role",
            Validate,
            "roles",
            r#"resource "webide_coder_user" "u" {
  username = "u"
  email    = "u@example.com"
  roles    = ["superadmin"]
}"#,
        ),
        case(
            "coder: unknown login type",
            Validate,
            "login_type",
            r#"resource "webide_coder_user" "u" {
  username   = "u"
  email      = "u@example.com"
  login_type = "saml"
}"#,
        ),
        case(
            "coder: password with oidc login",
            Validate,
            "password",
            r#"resource "webide_coder_user" "u" {
  username   = "u"
  email      = "u@example.com"
  login_type = "oidc"
  password   = "Password123!"
}"#,
        ),
        case(
            "coder: password_wo with oidc login",
            Validate,
            "Invalid value for password_wo",
            r#"resource "webide_coder_user" "u" {
  username    = "u"
  email       = "u@example.com"
  login_type  = "oidc"
  password_wo = "Password123!"
}"#,
        ),
        case(
            "coder: password and password_wo",
            Validate,
            "Conflicting arguments `password_wo` and `password`",
            r#"resource "webide_coder_user" "u" {
  username    = "u"
  email       = "u@example.com"
  password    = "Password123!"
  password_wo = "Password123!"
}"#,
        ),
        case(
            "coder: nonexistent template directory",
            Validate,
            "directory",
            r#"resource "webide_coder_template" "t" {
  name      = "t"
  directory = "/nonexistent/template"
}"#,
        ),
        case(
            "coder: negative quota",
            Validate,
            "quota_allowance",
            r#"resource "webide_coder_group" "g" {
  name            = "g"
  quota_allowance = -1
}"#,
        ),
        case(
            "coder: malformed build timeout",
            Validate,
            "build_timeout",
            r#"resource "webide_coder_template" "t" {
  name          = "t"
  directory     = "/tmp"
  build_timeout = "soon"
}"#,
        ),
        case(
            "docker: port out of range",
            Validate,
            "internal",
            r#"resource "webide_compose_service" "s" {
  name  = "s"
  image = "i"
  port {
    internal = 70000
  }
}"#,
        ),
        case(
            "docker: unknown restart policy",
            Validate,
            "restart",
            r#"resource "webide_compose_service" "s" {
  name    = "s"
  image   = "i"
  restart = "sometimes"
}"#,
        ),
        case(
            "docker: malformed healthy timeout",
            Validate,
            "healthy_timeout",
            r#"resource "webide_compose_service" "s" {
  name            = "s"
  image           = "i"
  healthy_timeout = "a while"
}"#,
        ),
        case(
            "docker: nonexistent build context",
            Validate,
            "context",
            r#"resource "webide_compose_image" "i" {
  name    = "i:latest"
  context = "/nonexistent/context"
}"#,
        ),
        case(
            "docker: failing build shows the build's error",
            Apply,
            "no-such-file.txt",
            leak(format!(
                r#"resource "webide_compose_image" "i" {{
  name    = "webide-bad-input-{pid}:latest"
  context = "{dir}/failing-build"
}}"#,
                pid = std::process::id(),
                dir = dir.display()
            )),
        ),
        case(
            "docker: symlink in a build context",
            Warn,
            "linked.txt",
            leak(format!(
                r#"resource "webide_compose_image" "i" {{
  name    = "webide-bad-input-{pid}:latest"
  context = "{dir}/context-with-link"
}}"#,
                pid = std::process::id(),
                dir = dir.display()
            )),
        ),
        case(
            "coder: symlink in a template directory",
            Warn,
            "linked.tf",
            leak(format!(
                r#"resource "webide_coder_template" "t" {{
  name      = "t"
  directory = "{dir}/template-with-link"
}}"#,
                dir = dir.display()
            )),
        ),
        Case {
            name: "docker: engine address with an unknown scheme",
            provider: r#"docker {
    host = "gopher://x"
  }"#,
            body: r#"resource "webide_compose_network" "n" { name = "n" }"#,
            phase: Validate,
            expect: "host",
        },
        Case {
            name: "wrong URL scheme",
            provider: r#"litellm {
    url        = "ftp://127.0.0.1:4000"
    master_key = "sk-x"
  }"#,
            body: r#"resource "webide_litellm_team" "t" { team_alias = "t" }"#,
            phase: Validate,
            expect: "url",
        },
        Case {
            name: "URL without host",
            provider: r#"litellm {
    url        = "http://"
    master_key = "sk-x"
  }"#,
            body: r#"resource "webide_litellm_team" "t" { team_alias = "t" }"#,
            phase: Validate,
            expect: "url",
        },
        case(
            "number out of float range",
            Validate,
            "Number out of range for max_budget",
            r#"resource "webide_litellm_team" "t" {
  team_alias = "t"
  max_budget = 1e400
}"#,
        ),
        case(
            "NUL byte in team_alias",
            Validate,
            "team_alias",
            r#"resource "webide_litellm_team" "t" { team_alias = "ops\u0000team" }"#,
        ),
        case(
            "newline in gitea full_name",
            Validate,
            "full_name",
            r#"resource "webide_gitea_user" "u" {
  username  = "ada"
  email     = "ada@example.com"
  password  = "password123"
  full_name = "Ada\nLovelace"
}"#,
        ),
        case(
            "control character in coder username",
            Validate,
            "username",
            r#"resource "webide_coder_user" "u" {
  username = "ada\u0007"
  email    = "ada@example.com"
}"#,
        ),
        case(
            "tab in authentik username",
            Validate,
            "username",
            r#"resource "webide_authentik_user" "u" {
  username = "ada\tl"
  name     = "Ada"
}"#,
        ),
        Case {
            name: "URL with an invalid port",
            provider: r#"litellm {
    url        = "http://127.0.0.1:99999"
    master_key = "sk-x"
  }"#,
            body: r#"resource "webide_litellm_team" "t" { team_alias = "t" }"#,
            phase: Validate,
            expect: "url",
        },
        Case {
            name: "expired or wrong master key",
            provider: r#"litellm {
    master_key = "sk-expired-or-wrong"
  }"#,
            body: r#"resource "webide_litellm_team" "t" { team_alias = "t" }"#,
            phase: Apply,
            // LiteLLM's text names the key's hash: passed on redacted.
            expect: "=[redacted]",
        },
        Case {
            name: "missing CA file",
            provider: r#"litellm {
    ca_file = "/nonexistent/ca.pem"
  }"#,
            body: r#"resource "webide_litellm_team" "t" { team_alias = "t" }"#,
            phase: Plan,
            expect: "ca_file",
        },
        Case {
            name: "CA PEM that is no certificate",
            provider: r#"coder {
    ca_pem = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
  }"#,
            body: r#"data "webide_coder_organization" "o" {}"#,
            phase: Validate,
            expect: "ca_pem",
        },
        Case {
            name: "CA PEM without a certificate block",
            provider: r#"gitea {
    ca_pem = "not PEM at all"
  }"#,
            body: r#"resource "webide_gitea_org" "o" { name = "o" }"#,
            phase: Validate,
            expect: "ca_pem",
        },
    ]
}

fn render(c: &Case) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    webide = {{ source = \"webide/webide\" }}\n  }}\n}}\n\nprovider \"webide\" {{\n  {}\n}}\n\n{}\n",
        c.provider, c.body
    )
}

/// Total objects on every simulator.
fn objects(sb: &RunningSandbox) -> usize {
    let l = sb.litellm_store().snapshot();
    let g = sb.gitea_store().snapshot();
    let c = sb.coder_store().snapshot();
    let a = sb.authentik_store().snapshot();
    let ak: usize = webide_sandbox::authentik::Kind::ALL
        .iter()
        .map(|k| a.count(*k))
        .sum();
    l.keys.len()
        + l.teams.len()
        + g.users.len()
        + g.orgs.len()
        + g.repos.len()
        + g.teams.len()
        + c.users.len()
        + c.templates.len()
        + c.groups.len()
        + ak
}

async fn run_case(wd: &TfWorkdir, c: &Case) -> Result<String> {
    wd.write("main.tf", &render(c))?;
    let validate = wd.run_unchecked(&["validate", "-no-color"]).await?;
    if c.phase == Warn {
        ensure!(
            validate.success(),
            "validate refused it: {}",
            validate.stderr
        );
        let text = validate.stderr + &validate.stdout;
        ensure!(text.contains("Warning"), "no warning: {text}");
        return Ok(text);
    }
    if c.phase == Validate {
        ensure!(!validate.success(), "validate accepted it");
        return Ok(validate.stderr + &validate.stdout);
    }
    ensure!(
        validate.success(),
        "validate refused it, expected {:?}: {}",
        c.phase,
        validate.stderr
    );
    let plan = wd
        .run_unchecked(&["plan", "-no-color", "-input=false"])
        .await?;
    if c.phase == Plan {
        ensure!(!plan.success(), "plan accepted it");
        return Ok(plan.stderr + &plan.stdout);
    }
    ensure!(
        plan.success(),
        "plan refused it, expected apply: {}",
        plan.stderr
    );
    let apply = wd.apply_expect_failure().await?;
    Ok(apply.stderr + &apply.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_configurations_are_refused_with_the_attribute_named() -> Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let mut wd = h.workdir()?;
    wd.set_sandbox_env(&sb);
    fixture_dirs(&fixture_root())?;
    wd.write("main.tf", &render(&cases()[0]))?;
    wd.init().await?;

    let before = objects(&sb);
    let mut failures = Vec::new();
    let all = cases();
    for c in &all {
        match run_case(&wd, c).await {
            // Terraform wraps long lines: compare with the line breaks undone.
            Ok(text)
                if text.replace('\n', " ").contains("(Token) =")
                    && !text.replace('\n', " ").contains("(Token) =[redacted]") =>
            {
                failures.push(format!(
                    "{}: the diagnostic repeats the hash of the key sent:\n{text}",
                    c.name
                ))
            }
            Ok(text) if text.contains(&"0".repeat(60)) => failures.push(format!(
                "{}: the diagnostic repeats the digits of the number:\n{text}",
                c.name
            )),
            Ok(text) if text.contains(c.expect) => {
                let first = text
                    .lines()
                    .find(|l| l.contains("Error:") || l.contains("Warning:"))
                    .unwrap_or("")
                    .trim();
                println!("ok   {:<32} {:?}: {first}", c.name, c.phase);
            }
            Ok(text) => failures.push(format!(
                "{}: the diagnostic does not name {:?}:\n{text}",
                c.name, c.expect
            )),
            Err(e) => failures.push(format!("{}: {e:#}", c.name)),
        }
        if objects(&sb) != before {
            failures.push(format!("{}: an API write was made", c.name));
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} cases failed:\n{}",
            failures.len(),
            all.len(),
            failures.join("\n\n")
        );
    }
    let _ = std::fs::remove_dir_all(fixture_root());
    ensure!(all.len() >= 30, "the table holds at least 30 cases");
    println!("{} invalid configurations refused", all.len());
    webide_acceptance_tests::assert_contract(&sb)?;
    Ok(())
}
