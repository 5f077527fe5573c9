//! `webide_gitea_admin_user`: Gitea's first site administrator, made with the admin CLI inside
//! the container (see [`super::cli`]) before any API credential exists, so that the `gitea`
//! provider block can sign in with its username and password (basic auth).
//!
//! Create lists the users first: an absent account is made with `gitea admin user create
//! --admin`, an existing one gets the configured password (`change-password`), so a re-run
//! after any failure converges and nothing is made twice. Read finds the account in `gitea
//! admin user list`. Destroy only forgets it: Gitea refuses to delete its last administrator,
//! and the account lives in the Gitea data volume.

use async_trait::async_trait;

use super::cli::{split_import_id, table_rows, with_target_attrs, Cli};
use super::GiteaName;
use crate::framework::validators::Email;
use crate::framework::{ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct AdminUserResource;

/// Gitea's default `MIN_PASSWORD_LENGTH`.
const MIN_PASSWORD: usize = 8;

/// One row of `gitea admin user list`.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: i64,
    username: String,
    email: String,
    admin: bool,
}

async fn find(cli: &Cli, data: &Clients, username: &str) -> Result<Option<Row>, Diagnostics> {
    let args = ["admin", "user", "list"].map(String::from);
    let out = cli.run(data, &args, None).await?;
    Ok(table_rows(&out.stdout, false)
        .into_iter()
        .filter_map(|r| {
            Some(Row {
                id: r.first()?.parse().ok()?,
                username: r.get(1)?.clone(),
                email: r.get(2)?.clone(),
                admin: r.get(4)? == "true",
            })
        })
        .find(|r| r.username.eq_ignore_ascii_case(username)))
}

fn state_from(base: &Value, r: &Row) -> Value {
    let mut s = base.clone();
    s.set("id", Value::int(r.id));
    s.set("username", Value::string(r.username.clone()));
    s.set("email", Value::string(r.email.clone()));
    s.set("admin", Value::Bool(r.admin));
    s
}

fn must_change(plan: &Value) -> String {
    format!(
        "--must-change-password={}",
        plan.get("must_change_password").as_bool().unwrap_or(false)
    )
}

async fn set_password(cli: &Cli, data: &Clients, plan: &Value) -> Result<(), Diagnostics> {
    let args = vec![
        "admin".to_string(),
        "user".into(),
        "change-password".into(),
        format!(
            "--username={}",
            plan.get("username").as_str().unwrap_or_default()
        ),
        must_change(plan),
    ];
    let pw = plan.get("password").as_str().unwrap_or_default();
    cli.run(data, &args, Some(("password", pw))).await?;
    Ok(())
}

#[async_trait]
impl Resource<Clients> for AdminUserResource {
    fn type_name(&self) -> &'static str {
        "webide_gitea_admin_user"
    }

    fn schema(&self) -> Schema {
        let b = Block::new("Gitea's bootstrap site administrator, made with `gitea admin user create --admin` inside the Gitea container through the Docker Engine's exec API (before any API token exists), so a `gitea` provider block can use its `username` and `password`. Idempotent: when the account already exists, create sets its password instead (`gitea admin user change-password`); the password reaches the CLI through the exec's environment, never its command line. Needs Gitea's install lock (`GITEA__security__INSTALL_LOCK=true`). **Read-back:** `gitea admin user list` shows id, username, email and the admin flag (drift on those); the password cannot be read back. While the container is stopped or missing, refresh keeps the prior state. Destroy only forgets the account (Gitea refuses to delete its last administrator). Import id: `<container>/<username>`.");
        let b = with_target_attrs(b)
            .attr(Attribute::number("id").computed().use_state_for_unknown().describe("Gitea's user id."))
            .attr(Attribute::string("username").required().requires_replace().validate(GiteaName).describe("Login name (the seeds: `gitea`). Part of the import id."))
            .attr(Attribute::string("email").required().validate(Email).describe("Email address; set at creation (Gitea's CLI cannot change it: a change is refused at plan)."))
            .attr(Attribute::string("password").required().sensitive().describe("Password (at least 8 characters, Gitea's default minimum); a change runs `change-password`. Not readable back."))
            .attr(Attribute::bool("must_change_password").default(false).describe("Force a password change at the next web sign-in (API basic auth keeps working)."))
            .attr(Attribute::bool("admin").computed().describe("Whether the account is a site administrator (read back; always true after create)."));
        Schema::new(0, b)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(pw) = config.get("password").as_str() {
            if pw.chars().count() < MIN_PASSWORD {
                diags.push_attr_error(
                    AttrPath::root("password"),
                    "Password too short",
                    format!("Gitea requires at least {MIN_PASSWORD} characters"),
                );
            }
        }
    }

    async fn modify_plan(
        &self,
        _d: Option<&Clients>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        if ctx.is_create() {
            ctx.set_unknown("admin");
            return Ok(());
        }
        if ctx.changed("email") && !ctx.prior.get("email").is_null() {
            ctx.diags.push_attr_error(
                AttrPath::root("email"),
                "Gitea admin email cannot be changed here",
                format!(
                    "the account has email {}; Gitea's CLI cannot change it: change it in Gitea (Site Administration) or set `email` to that value",
                    ctx.prior.get("email").as_str().unwrap_or_default()
                ),
            );
        }
        if ctx.prior.get("admin").as_bool() == Some(false) {
            ctx.diags.push_attr_error(
                AttrPath::root("admin"),
                "Gitea account is no longer an administrator",
                "someone removed its admin flag in Gitea; grant it again in Site Administration (the CLI cannot)",
            );
        }
        Ok(())
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let cli = Cli::from(plan);
        let username = plan
            .get("username")
            .as_str()
            .unwrap_or_default()
            .to_string();
        if find(&cli, data, &username).await?.is_none() {
            let args = vec![
                "admin".to_string(),
                "user".into(),
                "create".into(),
                "--admin".into(),
                format!("--username={username}"),
                format!("--email={}", plan.get("email").as_str().unwrap_or_default()),
                must_change(plan),
            ];
            let pw = plan.get("password").as_str().unwrap_or_default();
            let made = cli.run(data, &args, Some(("password", pw))).await;
            // An unknown outcome: the list decides; an existing account gets the password.
            match (made, find(&cli, data, &username).await?) {
                (Ok(_), Some(row)) => return Ok(state_from(plan, &row)),
                (Err(e), None) => return Err(e.into()),
                (Ok(_), None) => {
                    return Err(Diagnostics::error(
                        "Gitea admin not created",
                        format!("`gitea admin user create` succeeded but {username} is not in `gitea admin user list`"),
                    )
                    .into())
                }
                (Err(_), Some(_)) => {}
            }
        }
        set_password(&cli, data, plan).await?;
        let row = find(&cli, data, &username).await?.ok_or_else(|| {
            Diagnostics::error(
                "Gitea admin vanished",
                format!("{username} is gone from `gitea admin user list`"),
            )
        })?;
        Ok(state_from(plan, &row))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let cli = Cli::from(state);
        let username = state.get("username").as_str().unwrap_or_default();
        if !cli.container_running(data).await? {
            return Ok(Some(state.clone()));
        }
        Ok(find(&cli, data, username)
            .await?
            .map(|r| state_from(state, &r)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let cli = Cli::from(plan);
        if ["password", "must_change_password", "container", "exec_user"]
            .iter()
            .any(|a| prior.get(a) != plan.get(a))
        {
            set_password(&cli, data, plan).await?;
        }
        let mut s = plan.clone();
        for a in ["id", "admin"] {
            s.set(a, prior.get(a).clone());
        }
        Ok(s)
    }

    async fn delete(&self, _data: &Clients, _state: &Value) -> Result<(), Diagnostics> {
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let (container, username) = split_import_id(id, "username")?;
        let mut base = self.schema().block.null_object();
        base.set("container", Value::string(container));
        base.set("exec_user", Value::string("git"));
        base.set("must_change_password", Value::Bool(false));
        let cli = Cli::from(&base);
        let row = find(&cli, data, &username).await?.ok_or_else(|| {
            Diagnostics::error(
                "Gitea user not found",
                format!(
                    "`gitea admin user list` in {} shows no {username:?}",
                    cli.container
                ),
            )
        })?;
        Ok(state_from(&base, &row))
    }
}
