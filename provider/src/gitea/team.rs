//! `webide_gitea_team`: a team of an organization with its members and repositories — how a
//! restricted user gets exactly the repositories it needs.

use std::collections::BTreeSet;

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use serde_json::{json, Value as Json};

use super::{api_error, Client};
use crate::framework::validators::OneOf;
use crate::framework::{ApplyError, ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct TeamResource;

const UNITS: &[&str] = &[
    "repo.code",
    "repo.issues",
    "repo.ext_issues",
    "repo.wiki",
    "repo.ext_wiki",
    "repo.pulls",
    "repo.releases",
    "repo.projects",
    "repo.actions",
];
const DEFAULT_UNITS: &[&str] = &[
    "repo.code",
    "repo.issues",
    "repo.pulls",
    "repo.releases",
    "repo.wiki",
];

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("team", action, &["name", "permission"], e)
}

fn set_of(v: &Value) -> BTreeSet<String> {
    v.string_elements().into_iter().collect()
}

fn team_body(plan: &Value) -> Json {
    json!({
        "name": plan.get("name").as_str(),
        "description": plan.get("description").as_str().unwrap_or(""),
        "permission": plan.get("permission").as_str().unwrap_or("read"),
        "units": plan.get("units").string_elements(),
        "includes_all_repositories": plan.get("includes_all_repositories").as_bool().unwrap_or(false),
        "can_create_org_repo": plan.get("can_create_org_repo").as_bool().unwrap_or(false),
    })
}

/// State from the team, its members and repositories.
async fn read_state(c: &Client, base: &Value, t: &Json) -> Result<Value, crate::http::ApiError> {
    let mut s = base.clone();
    let id = t.get("id").and_then(Json::as_i64).unwrap_or_default();
    s.set("id", Value::int(id));
    if let Some(org) = t.pointer("/organization/name").and_then(Json::as_str) {
        s.set("org", Value::string(org));
    }
    for f in ["name", "description", "permission"] {
        if let Some(v) = t.get(f).and_then(Json::as_str) {
            s.set(f, Value::string(v));
        }
    }
    for f in ["includes_all_repositories", "can_create_org_repo"] {
        if let Some(v) = t.get(f).and_then(Json::as_bool) {
            s.set(f, Value::Bool(v));
        }
    }
    if let Some(units) = t.get("units").and_then(Json::as_array) {
        s.set(
            "units",
            Value::string_set(units.iter().filter_map(|u| u.as_str().map(str::to_string))),
        );
    }
    s.set("members", Value::string_set(c.team_members(id).await?));
    // With includes_all_repositories Gitea lists every repository; the attribute then keeps
    // what was configured.
    if !s
        .get("includes_all_repositories")
        .as_bool()
        .unwrap_or(false)
    {
        s.set("repositories", Value::string_set(c.team_repos(id).await?));
    }
    Ok(s)
}

/// Adds and removes members and repositories so the team matches `plan`.
async fn sync(
    c: &Client,
    id: i64,
    org: &str,
    prior: &Value,
    plan: &Value,
) -> Result<(), crate::http::ApiError> {
    let (want_m, have_m) = (set_of(plan.get("members")), set_of(prior.get("members")));
    for u in have_m.difference(&want_m) {
        c.team_member(id, u, false).await?;
    }
    for u in want_m.difference(&have_m) {
        c.team_member(id, u, true).await?;
    }
    if !plan
        .get("includes_all_repositories")
        .as_bool()
        .unwrap_or(false)
    {
        let (want_r, have_r) = (
            set_of(plan.get("repositories")),
            set_of(prior.get("repositories")),
        );
        for r in have_r.difference(&want_r) {
            c.team_repo(id, org, r, false).await?;
        }
        for r in want_r.difference(&have_r) {
            c.team_repo(id, org, r, true).await?;
        }
    }
    Ok(())
}

#[async_trait]
impl Resource<Clients> for TeamResource {
    fn type_name(&self) -> &'static str {
        "webide_gitea_team"
    }

    fn schema(&self) -> Schema {
        let block = Block::new(
            "A team of a Gitea organization: a permission on a set of repositories for a set of members. \
             Restricted members see exactly the team's repositories.",
        )
        .attr(Attribute::number("id").computed().use_state_for_unknown().describe("Numeric team id."))
        .attr(Attribute::string("org").required().requires_replace().describe("Organization name."))
        .attr(Attribute::string("name").required().validate(super::GiteaTeamName).validate(crate::framework::validators::NoControlChars).describe("Team name (unique in the organization). Import id: `org/name`."))
        .attr(Attribute::string("description").default("").describe("Description."))
        .attr(Attribute::string("permission").default("read").validate(OneOf(&["read", "write", "admin"])).describe("Permission on the team's repositories."))
        .attr(Attribute::string_set("units").default(Value::string_set(DEFAULT_UNITS.iter().copied())).validate(OneOf(UNITS)).describe("Repository units the team may use."))
        .attr(Attribute::bool("includes_all_repositories").default(false).describe("The team covers every repository of the organization (then `repositories` is not managed)."))
        .attr(Attribute::bool("can_create_org_repo").default(false).describe("Members may create repositories in the organization."))
        .attr(Attribute::string_set("members").default(Value::string_set(Vec::<String>::new())).describe("Usernames of the members."))
        .attr(Attribute::string_set("repositories").default(Value::string_set(Vec::<String>::new())).describe("Names of the organization's repositories the team covers."));
        Schema::new(0, block)
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let org = plan.get("org").as_str().unwrap_or_default().to_string();
        let name = plan.get("name").as_str().unwrap_or_default().to_string();
        let body = team_body(plan);
        // A team stores no creation time or free-form marker: one found under the name after
        // an unknown outcome is never adopted (the error gives its import command).
        let t = crate::http::create_once(
            CreateTarget::new("gitea", "webide_gitea_team", format!("name {name:?}")),
            || c.create_team(&org, &body),
            || async {
                Ok(c.teams(&org)
                    .await?
                    .into_iter()
                    .find(|t| t.get("name").and_then(Json::as_str) == Some(name.as_str())))
            },
            |_, _| Ownership::Foreign {
                import_id: format!("{org}/{name}"),
            },
        )
        .await
        .map_err(|e| err("create", e))?;
        let id = t.get("id").and_then(Json::as_i64).unwrap_or_default();
        let mut empty = plan.clone();
        empty.set("members", Value::string_set(Vec::<String>::new()));
        empty.set("repositories", Value::string_set(Vec::<String>::new()));
        empty.set("id", Value::int(id));
        if let Err(e) = sync(c, id, &org, &empty, plan).await {
            // The team exists: record what it has so a re-run finishes the job.
            let partial = read_state(c, &empty, &t).await.unwrap_or(empty);
            return Err(ApplyError::with_state(
                err("add members or repositories to", e),
                partial,
            ));
        }
        let t = c
            .team(id)
            .await
            .map_err(|e| err("read back", e))?
            .unwrap_or(t);
        Ok(read_state(c, plan, &t)
            .await
            .map_err(|e| err("read back", e))?)
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.gitea.get()?;
        let Some(id) = state.get("id").as_i64() else {
            return Ok(None);
        };
        match c.team(id).await.map_err(|e| err("read", e))? {
            Some(t) => Ok(Some(
                read_state(c, state, &t).await.map_err(|e| err("read", e))?,
            )),
            None => Ok(None),
        }
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let id = prior.get("id").as_i64().unwrap_or_default();
        let org = prior.get("org").as_str().unwrap_or_default();
        let t = c
            .edit_team(id, &team_body(plan))
            .await
            .map_err(|e| err("update", e))?;
        if let Err(e) = sync(c, id, org, prior, plan).await {
            let partial = read_state(c, prior, &t)
                .await
                .unwrap_or_else(|_| prior.clone());
            return Err(ApplyError::with_state(
                err("update members or repositories of", e),
                partial,
            ));
        }
        Ok(read_state(c, plan, &t)
            .await
            .map_err(|e| err("read back", e))?)
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.gitea.get()?;
        if let Some(id) = state.get("id").as_i64() {
            c.delete_team(id).await.map_err(|e| err("delete", e))?;
        }
        Ok(())
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.gitea.get()?;
        let (org, name) = id.trim().split_once('/').ok_or_else(|| {
            Diagnostics::error(
                "Invalid import id",
                format!("expected `org/team`, got {id:?}"),
            )
        })?;
        let teams = c.teams(org).await.map_err(|e| err("import", e))?;
        let t = teams
            .into_iter()
            .find(|t| {
                t.get("name")
                    .and_then(Json::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| {
                Diagnostics::error(
                    "Gitea team not found",
                    format!("no team {name:?} in {org:?}"),
                )
            })?;
        let mut base = self.schema().block.null_object();
        base.set("org", Value::string(org));
        base.set("repositories", Value::string_set(Vec::<String>::new()));
        Ok(read_state(c, &base, &t)
            .await
            .map_err(|e| err("import", e))?)
    }
}
