//! Gitea's admin CLI (`gitea admin ...`) run inside the Gitea container through the Docker exec
//! API: Gitea has no REST API for authentication sources (go-gitea/gitea#26417), and its
//! first admin exists before any API credential does.
//!
//! The CLI takes secrets only as flags (`--secret`, `--password`), so a command carrying one
//! runs as `sh -c 'exec gitea "$@" --secret="$WEBIDE_GITEA_SECRET"' gitea <args>`: the value
//! travels in the exec's environment, never in the command the Engine records (`docker
//! inspect`) or in a diagnostic. Other values are positional parameters of that script, so
//! nothing is ever quoted for a shell. The upstream image runs Gitea as user `git` with its
//! configuration at `/data/gitea/conf/app.ini` (`GITEA_CUSTOM=/data/gitea`).

use std::time::Duration;

use crate::docker::exec::{self, ExecOutput, ExecSpec};
use crate::framework::validators::{NoControlChars, NonEmpty};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block};
use crate::protocol::value::Value;
use crate::provider::Clients;

/// Environment variable that carries a command's secret.
pub const SECRET_ENV: &str = "WEBIDE_GITEA_SECRET";

/// Time limit of one CLI run (each opens Gitea's database).
const TIMEOUT: Duration = Duration::from_secs(120);

/// The attributes that say where the CLI runs.
pub fn with_target_attrs(b: Block) -> Block {
    b.attr(Attribute::string("container").required().requires_replace().validate(NonEmpty).describe("The Gitea container (`webide_compose_service.gitea.name`); commands run in it through the Docker Engine's exec API (the provider's `docker` connection)."))
        .attr(Attribute::string("exec_user").default("git").validate(NonEmpty).describe("User the CLI runs as: Gitea refuses root and any user other than `RUN_USER` of its app.ini (`git` in the upstream image)."))
        .attr(Attribute::string("config_file").optional().validate(NoControlChars).describe("Passed as `--config`; unset: Gitea's default (`$GITEA_CUSTOM/conf/app.ini`, i.e. `/data/gitea/conf/app.ini` in the upstream image)."))
}

/// Where and how to run `gitea`.
pub struct Cli {
    pub container: String,
    pub user: String,
    pub config: Option<String>,
}

impl Cli {
    pub fn from(v: &Value) -> Cli {
        Cli {
            container: v.get("container").as_str().unwrap_or_default().to_string(),
            user: v.get("exec_user").as_str().unwrap_or("git").to_string(),
            config: v.get("config_file").as_str().map(str::to_string),
        }
    }

    /// The exec of `gitea <args>`, with `secret = (flag, value)` appended through the env.
    pub fn spec(&self, args: &[String], secret: Option<(&str, &str)>) -> ExecSpec {
        let mut gitea_args: Vec<String> = Vec::new();
        if let Some(c) = &self.config {
            gitea_args.push(format!("--config={c}"));
        }
        gitea_args.extend(args.iter().cloned());
        let (cmd, env) = match secret {
            None => (
                std::iter::once("gitea".to_string())
                    .chain(gitea_args)
                    .collect(),
                Vec::new(),
            ),
            Some((flag, value)) => (
                ["sh", "-c"]
                    .iter()
                    .map(|s| s.to_string())
                    .chain([
                        format!("exec gitea \"$@\" --{flag}=\"${SECRET_ENV}\""),
                        "gitea".to_string(),
                    ])
                    .chain(gitea_args)
                    .collect(),
                vec![(SECRET_ENV.to_string(), value.to_string())],
            ),
        };
        ExecSpec {
            container: self.container.clone(),
            cmd,
            env,
            stdin: None,
            user: Some(self.user.clone()),
            working_dir: None,
            timeout: TIMEOUT,
        }
    }

    /// Whether the container exists and runs (a refresh cannot ask a stopped Gitea anything:
    /// it keeps the prior state while the container is being replaced or restarted).
    pub async fn container_running(&self, data: &Clients) -> Result<bool, Diagnostics> {
        let d = data.docker.get()?.engine().await?;
        match d.inspect_container(&self.container, None).await {
            Ok(c) => Ok(c.state.and_then(|s| s.running).unwrap_or(false)),
            Err(e) if crate::docker::is_not_found(&e) => Ok(false),
            Err(e) => Err(crate::docker::engine_error(
                &format!("inspect container {}", self.container),
                e,
            )),
        }
    }

    /// Runs the command; a non-zero exit is an error with Gitea's own message.
    pub async fn run(
        &self,
        data: &Clients,
        args: &[String],
        secret: Option<(&str, &str)>,
    ) -> Result<ExecOutput, Diagnostics> {
        let d = data.docker.get()?.engine().await?;
        exec::run_checked(d, &self.spec(args, secret)).await
    }
}

/// Rows of a table printed by Go's text/tabwriter (`gitea admin auth list` pads with tabs,
/// `gitea admin user list` with spaces): the header row is dropped; cells are split on the
/// padding (names in those tables hold neither tabs nor, for users, spaces).
pub fn table_rows(out: &str, tabs: bool) -> Vec<Vec<String>> {
    out.lines()
        .skip_while(|l| !l.trim_start().starts_with("ID"))
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            if tabs {
                l.split('\t')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect()
            } else {
                l.split_whitespace().map(str::to_string).collect()
            }
        })
        .collect()
}

/// `a/b` import ids: the container, then the object's name.
pub fn split_import_id(id: &str, what: &str) -> Result<(String, String), Diagnostics> {
    match id.trim().split_once('/') {
        Some((c, n)) if !c.is_empty() && !n.is_empty() => Ok((c.to_string(), n.to_string())),
        _ => Err(Diagnostics::error(
            "Invalid import id",
            format!("expected `<container>/<{what}>`, got {id:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_travel_in_the_env_only() {
        let cli = Cli {
            container: "gitea".into(),
            user: "git".into(),
            config: Some("/etc/gitea/app.ini".into()),
        };
        let s = cli.spec(
            &["admin".into(), "auth".into(), "list".into()],
            Some(("secret", "s3cr3t value")),
        );
        assert_eq!(s.cmd[0..2], ["sh", "-c"]);
        assert!(s.cmd[2].contains("--secret=\"$WEBIDE_GITEA_SECRET\""));
        assert_eq!(
            s.cmd[3..],
            [
                "gitea",
                "--config=/etc/gitea/app.ini",
                "admin",
                "auth",
                "list"
            ]
        );
        assert!(!s.display().contains("s3cr3t"));
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert_eq!(
            s.env,
            [(SECRET_ENV.to_string(), "s3cr3t value".to_string())]
        );
        assert_eq!(s.user.as_deref(), Some("git"));
        let plain = cli.spec(&["admin".into()], None);
        assert_eq!(plain.cmd, ["gitea", "--config=/etc/gitea/app.ini", "admin"]);
        assert!(plain.env.is_empty());
    }

    #[test]
    fn tabwriter_tables() {
        let auth =
            "ID\tName\t\tType\tEnabled\n1\tauthentik sso\tOAuth2\ttrue\n12\tx\t\tOAuth2\tfalse\n";
        assert_eq!(
            table_rows(auth, true),
            [
                ["1", "authentik sso", "OAuth2", "true"],
                ["12", "x", "OAuth2", "false"]
            ]
        );
        let users = "ID   Username Email             IsActive IsAdmin 2FA\n1    gitea    gitea@example.com true     true    false\n";
        assert_eq!(
            table_rows(users, false),
            [["1", "gitea", "gitea@example.com", "true", "true", "false"]]
        );
        assert!(table_rows("", true).is_empty());
    }

    #[test]
    fn import_ids() {
        assert_eq!(
            split_import_id("webide-gitea/authentik", "name").unwrap(),
            ("webide-gitea".to_string(), "authentik".to_string())
        );
        assert!(split_import_id("nocontainer", "name").is_err());
        assert!(split_import_id("/x", "name").is_err());
    }
}
