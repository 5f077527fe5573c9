//! `webide_gitea_login_source`: an OAuth2 / OpenID Connect authentication source ("sign in
//! with Authentik"), managed with Gitea's CLI inside its container (see [`super::cli`]):
//! create `gitea admin auth add-oauth`, read `gitea admin auth list`, update
//! `update-oauth --id`, delete `delete --id`.
//!
//! `list` prints only `ID Name Type Enabled`, so those are what drift detection sees; the
//! source's settings are written on every create and update but cannot be read back.

use async_trait::async_trait;

use super::cli::{split_import_id, table_rows, with_target_attrs, Cli};
use crate::framework::validators::{HttpUrl, NoControlChars, NonEmpty, OneOf};
use crate::framework::{ApplyError, ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct LoginSourceResource;

/// Gitea's OAuth2 providers (goth names).
const PROVIDERS: &[&str] = &[
    "openidConnect",
    "gitea",
    "gitlab",
    "github",
    "bitbucket",
    "dropbox",
    "facebook",
    "google",
    "nextcloud",
    "mastodon",
    "azuread",
    "azureadv2",
    "microsoftonline",
    "discord",
    "twitter",
    "yandex",
];

/// String settings: attribute → CLI flag.
const STRINGS: &[(&str, &str)] = &[
    ("provider", "provider"),
    ("client_id", "key"),
    ("auto_discover_url", "auto-discover-url"),
    ("icon_url", "icon-url"),
    ("required_claim_name", "required-claim-name"),
    ("required_claim_value", "required-claim-value"),
    ("group_claim_name", "group-claim-name"),
    ("admin_group", "admin-group"),
    ("restricted_group", "restricted-group"),
    ("group_team_map", "group-team-map"),
];

/// Boolean settings: attribute → CLI flag.
const BOOLS: &[(&str, &str)] = &[
    ("skip_local_2fa", "skip-local-2fa"),
    ("group_team_map_removal", "group-team-map-removal"),
];

/// One row of `gitea admin auth list`.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: i64,
    name: String,
    kind: String,
    enabled: bool,
}

fn rows(out: &str) -> Vec<Row> {
    table_rows(out, true)
        .into_iter()
        .filter_map(|r| {
            let [id, name, kind, enabled] = <[String; 4]>::try_from(r).ok()?;
            Some(Row {
                id: id.parse().ok()?,
                name,
                kind,
                enabled: enabled == "true",
            })
        })
        .collect()
}

async fn list(cli: &Cli, data: &Clients) -> Result<Vec<Row>, Diagnostics> {
    let args = ["admin", "auth", "list"].map(String::from);
    Ok(rows(&cli.run(data, &args, None).await?.stdout))
}

/// The settings as CLI flags (the secret goes separately).
fn flags(plan: &Value) -> Vec<String> {
    let mut f = vec![format!(
        "--name={}",
        plan.get("name").as_str().unwrap_or_default()
    )];
    for (attr, flag) in STRINGS {
        f.push(format!(
            "--{flag}={}",
            plan.get(attr).as_str().unwrap_or_default()
        ));
    }
    for (attr, flag) in BOOLS {
        f.push(format!(
            "--{flag}={}",
            plan.get(attr).as_bool().unwrap_or(false)
        ));
    }
    for s in plan.get("scopes").string_elements() {
        f.push(format!("--scopes={s}"));
    }
    f
}

fn state_from(base: &Value, row: &Row) -> Value {
    let mut s = base.clone();
    s.set("id", Value::int(row.id));
    s.set("name", Value::string(row.name.clone()));
    s.set("enabled", Value::Bool(row.enabled));
    s
}

fn import_hint(cli: &Cli, name: &str) -> String {
    format!(
        "import it instead: `terraform import <address> {}/{name}`",
        cli.container
    )
}

#[async_trait]
impl Resource<Clients> for LoginSourceResource {
    fn type_name(&self) -> &'static str {
        "webide_gitea_login_source"
    }

    fn schema(&self) -> Schema {
        let b = Block::new("An OAuth2 / OpenID Connect authentication source of Gitea (e.g. sign-in through Authentik), managed with Gitea's admin CLI inside its container through the Docker Engine's exec API: Gitea has no REST API for authentication sources. Create runs `gitea admin auth add-oauth`, update `update-oauth --id`, delete `delete --id`; the client secret reaches the CLI through the exec's environment, never its command line. **Read-back:** `gitea admin auth list` shows only the id, name, type and whether the source is enabled, so drift is detected on `name` (renamed or deleted by hand) and `enabled`; every other setting (client id and secret, discovery URL, scopes, claims, groups, icon, 2FA) cannot be read back and is re-written by every update. A source disabled in Gitea's UI is replaced (the CLI cannot enable one). While the container is stopped or missing, refresh keeps the prior state. Import id: `<container>/<name>`; the unreadable settings then show as an in-place update on the next plan.");
        let b = with_target_attrs(b)
            .attr(Attribute::number("id").computed().use_state_for_unknown().describe("Gitea's id of the source (the `ID` column of `gitea admin auth list`)."))
            .attr(Attribute::string("name").required().validate(NonEmpty).validate(NoControlChars).describe("Name shown on Gitea's sign-in page (`Sign in with <name>`); unique among the sources. Part of the import id."))
            .attr(Attribute::string("provider").default("openidConnect").validate(OneOf(PROVIDERS)).describe("OAuth2 provider type; `openidConnect` for Authentik."))
            .attr(Attribute::string("client_id").required().validate(NonEmpty).describe("Client id of the OAuth2 application (Authentik: the provider's `client_id`). Not readable back."))
            .attr(Attribute::string("client_secret").required().sensitive().validate(NonEmpty).describe("Client secret; passed to the CLI through the exec's environment. Not readable back."))
            .attr(Attribute::string("auto_discover_url").default("").describe("OpenID Connect discovery URL (`.../.well-known/openid-configuration`; Authentik: `<authentik>/application/o/<slug>/.well-known/openid-configuration`), as Gitea's server reaches it. Required for `openidConnect`. Not readable back."))
            .attr(Attribute::string_list("scopes").default(Value::List(vec![])).describe("Scopes requested besides `openid`, e.g. `[\"email\", \"profile\", \"groups\"]`. Not readable back; emptying a non-empty list replaces the source (the CLI cannot clear it)."))
            .attr(Attribute::string("icon_url").default("").describe("Icon on the sign-in button. Not readable back."))
            .attr(Attribute::bool("skip_local_2fa").default(false).describe("Users signing in through this source skip Gitea's own 2FA. Not readable back."))
            .attr(Attribute::string("required_claim_name").default("").describe("Claim that must be present to sign in. Not readable back."))
            .attr(Attribute::string("required_claim_value").default("").describe("Value `required_claim_name` must have. Not readable back."))
            .attr(Attribute::string("group_claim_name").default("").describe("Claim holding the user's groups (Authentik: `groups`). Not readable back."))
            .attr(Attribute::string("admin_group").default("").describe("Members of this group become Gitea site administrators (needs `group_claim_name`). Not readable back."))
            .attr(Attribute::string("restricted_group").default("").describe("Members of this group become restricted users (needs `group_claim_name`). Not readable back."))
            .attr(Attribute::string("group_team_map").default("").describe("JSON mapping of groups to organization teams, e.g. `{\"contractors\": {\"platform\": [\"contractors\"]}}`. Not readable back."))
            .attr(Attribute::bool("group_team_map_removal").default(false).describe("Remove team memberships the groups no longer grant. Not readable back."))
            .attr(Attribute::bool("enabled").computed().describe("Whether Gitea has the source enabled (read back; a disabled source is replaced)."));
        Schema::new(0, b)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let provider = config.get("provider");
        let url = config.get("auto_discover_url");
        let oidc = provider.is_null() || provider.as_str() == Some("openidConnect");
        if oidc && !url.is_unknown() {
            let path = AttrPath::root("auto_discover_url");
            match url.as_str().filter(|s| !s.is_empty()) {
                None => diags.push_attr_error(
                    path,
                    "Missing discovery URL",
                    "provider `openidConnect` needs `auto_discover_url` (…/.well-known/openid-configuration)",
                ),
                Some(_) => {
                    crate::protocol::schema::Validator::validate(&HttpUrl, &path, url, diags)
                }
            }
        }
        let map = config.get("group_team_map");
        if let Some(s) = map.as_str().filter(|s| !s.is_empty()) {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(s) {
                diags.push_attr_error(
                    AttrPath::root("group_team_map"),
                    "Invalid group_team_map",
                    format!("not JSON: {e}"),
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
            ctx.set_unknown("enabled");
            return Ok(());
        }
        if ctx.prior.get("enabled").as_bool() == Some(false) {
            ctx.planned.set("enabled", Value::Unknown);
            ctx.require_replace("enabled");
        }
        let had_scopes = !ctx.prior.get("scopes").elements().is_empty();
        if had_scopes && ctx.planned.get("scopes").elements().is_empty() {
            ctx.require_replace("scopes");
        }
        Ok(())
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let cli = Cli::from(plan);
        let name = plan.get("name").as_str().unwrap_or_default().to_string();
        // A source already under this name is someone else's: never adopted.
        if let Some(r) = list(&cli, data).await?.into_iter().find(|r| r.name == name) {
            return Err(Diagnostics::attr_error(
                AttrPath::root("name"),
                "Gitea login source already exists",
                format!(
                    "container {} already has a source named {name:?} (id {}); {}",
                    cli.container,
                    r.id,
                    import_hint(&cli, &name)
                ),
            )
            .into());
        }
        let mut args: Vec<String> = ["admin", "auth", "add-oauth"].map(String::from).into();
        args.extend(flags(plan));
        let secret = plan.get("client_secret").as_str().unwrap_or_default();
        let added = cli.run(data, &args, Some(("secret", secret))).await;
        // Whatever the outcome, the list says whether the source now exists (it was absent).
        let found = list(&cli, data)
            .await
            .map(|rows| rows.into_iter().find(|r| r.name == name));
        match (added, found) {
            (_, Ok(Some(row))) => Ok(state_from(plan, &row)),
            (Err(e), _) => Err(e.into()),
            (Ok(_), Err(e)) => Err(e.into()),
            (Ok(_), Ok(None)) => Err(Diagnostics::error(
                "Gitea login source not created",
                format!(
                    "`gitea admin auth add-oauth` succeeded but `gitea admin auth list` in {} shows no source named {name:?}",
                    cli.container
                ),
            )
            .into()),
        }
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let cli = Cli::from(state);
        let Some(id) = state.get("id").as_i64() else {
            return Ok(None);
        };
        if !cli.container_running(data).await? {
            return Ok(Some(state.clone()));
        }
        Ok(list(&cli, data)
            .await?
            .into_iter()
            .find(|r| r.id == id && r.kind == "OAuth2")
            .map(|r| state_from(state, &r)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let cli = Cli::from(plan);
        let id = prior.get("id").as_i64().unwrap_or_default();
        let mut args: Vec<String> = ["admin", "auth", "update-oauth"].map(String::from).into();
        args.push(format!("--id={id}"));
        args.extend(flags(plan));
        let secret = plan.get("client_secret").as_str().unwrap_or_default();
        cli.run(data, &args, Some(("secret", secret))).await?;
        let mut planned = plan.clone();
        planned.set("id", Value::int(id));
        match self.read(data, &planned).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err(Diagnostics::error(
                "Gitea login source vanished",
                format!(
                    "source {id} is gone from {} after its update",
                    cli.container
                ),
            )
            .into()),
            Err(e) => Err(ApplyError::with_state(e, planned)),
        }
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let cli = Cli::from(state);
        let Some(id) = state.get("id").as_i64() else {
            return Ok(());
        };
        if !list(&cli, data).await?.iter().any(|r| r.id == id) {
            return Ok(());
        }
        let args = [
            "admin".to_string(),
            "auth".into(),
            "delete".into(),
            format!("--id={id}"),
        ];
        cli.run(data, &args, None).await?;
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let (container, name) = split_import_id(id, "name")?;
        let mut base = self.schema().block.null_object();
        base.set("container", Value::string(container));
        base.set("exec_user", Value::string("git"));
        let cli = Cli::from(&base);
        let row = list(&cli, data)
            .await?
            .into_iter()
            .find(|r| r.name == name && r.kind == "OAuth2")
            .ok_or_else(|| {
                Diagnostics::error(
                    "Gitea login source not found",
                    format!(
                        "`gitea admin auth list` in {} shows no OAuth2 source named {name:?}",
                        cli.container
                    ),
                )
            })?;
        Ok(state_from(&base, &row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_list_and_builds_flags() {
        let out = "ID\tName\t\tType\tEnabled\n3\tAuthentik SSO\tOAuth2\ttrue\n4\tldap\t\tLDAP (via BindDN)\tfalse\n";
        assert_eq!(
            rows(out),
            [
                Row {
                    id: 3,
                    name: "Authentik SSO".into(),
                    kind: "OAuth2".into(),
                    enabled: true
                },
                Row {
                    id: 4,
                    name: "ldap".into(),
                    kind: "LDAP (via BindDN)".into(),
                    enabled: false
                }
            ]
        );
        let mut plan = LoginSourceResource.schema().block.null_object();
        plan.set("name", Value::string("authentik"));
        plan.set("client_id", Value::string("cid"));
        plan.set("client_secret", Value::string("hidden"));
        plan.set("skip_local_2fa", Value::Bool(true));
        plan.set("scopes", Value::string_list(["email", "groups"]));
        let f = flags(&plan);
        assert!(f.contains(&"--name=authentik".to_string()));
        assert!(f.contains(&"--key=cid".to_string()));
        assert!(f.contains(&"--skip-local-2fa=true".to_string()));
        assert!(f.contains(&"--group-team-map-removal=false".to_string()));
        assert!(f.ends_with(&["--scopes=email".to_string(), "--scopes=groups".to_string()]));
        assert!(!f.iter().any(|a| a.contains("hidden")));
    }
}
