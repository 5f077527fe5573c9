//! `webide_gitea_team`: a team of an organization with its members and repositories — how a
//! restricted user gets exactly the repositories it needs.

use std::collections::BTreeSet;

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::api::{CreateTeamOption, EditTeamOption, Team};
use crate::framework::model::{answer, body, from_value, to_value};

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

const DESCRIPTION: &str = "";
const PERMISSION: &str = "read";
const INCLUDES_ALL_REPOSITORIES: bool = false;
const CAN_CREATE_ORG_REPO: bool = false;

/// Plan and state of `webide_gitea_team` (sets as lists in the order Gitea gives them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TeamModel {
    id: Option<i64>,
    org: String,
    name: String,
    description: String,
    permission: String,
    units: Vec<String>,
    includes_all_repositories: bool,
    can_create_org_repo: bool,
    members: Vec<String>,
    repositories: Vec<String>,
}

impl TeamModel {
    /// What an import starts from, before the team is read.
    fn imported(org: &str, name: &str) -> TeamModel {
        TeamModel {
            id: None,
            org: org.into(),
            name: name.into(),
            description: DESCRIPTION.into(),
            permission: PERMISSION.into(),
            units: DEFAULT_UNITS.iter().map(|u| u.to_string()).collect(),
            includes_all_repositories: INCLUDES_ALL_REPOSITORIES,
            can_create_org_repo: CAN_CREATE_ORG_REPO,
            members: Vec::new(),
            repositories: Vec::new(),
        }
    }
}

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("team", action, &["name", "permission"], e)
}

fn team(j: &Json) -> Result<Team, Diagnostics> {
    answer("Gitea team", j)
}

/// De-duplicated, in the order given (a Terraform set as the provider keeps it).
fn distinct(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn set_of(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

fn team_body(plan: &TeamModel) -> CreateTeamOption {
    CreateTeamOption {
        name: plan.name.clone(),
        description: plan.description.clone(),
        permission: plan.permission.clone(),
        units: plan.units.clone(),
        includes_all_repositories: plan.includes_all_repositories,
        can_create_org_repo: plan.can_create_org_repo,
    }
}

fn edit_body(plan: &TeamModel) -> EditTeamOption {
    team_body(plan)
}

/// State from Gitea's `Team` without its members and repositories (see [`read_state`]).
fn state_from_team(base: &TeamModel, t: &Team) -> TeamModel {
    let mut s = base.clone();
    s.id = Some(t.id.unwrap_or_default());
    if let Some(org) = t.organization.as_ref().and_then(|o| o.name.as_ref()) {
        s.org = org.clone();
    }
    for (have, got) in [
        (&mut s.name, &t.name),
        (&mut s.description, &t.description),
        (&mut s.permission, &t.permission),
    ] {
        if let Some(g) = got {
            *have = g.clone();
        }
    }
    if let Some(b) = t.includes_all_repositories {
        s.includes_all_repositories = b;
    }
    if let Some(b) = t.can_create_org_repo {
        s.can_create_org_repo = b;
    }
    if let Some(units) = &t.units {
        s.units = distinct(units.iter().cloned());
    }
    s
}

/// State from the team, its members and repositories.
async fn read_state(
    c: &Client,
    base: &TeamModel,
    t: &Team,
) -> Result<TeamModel, crate::http::ApiError> {
    let mut s = state_from_team(base, t);
    let id = s.id.unwrap_or_default();
    s.members = distinct(c.team_members(id).await?);
    // With includes_all_repositories Gitea lists every repository; the attribute then keeps
    // what was configured.
    if !s.includes_all_repositories {
        s.repositories = distinct(c.team_repos(id).await?);
    }
    Ok(s)
}

/// Adds and removes members and repositories so the team matches `plan`.
async fn sync(
    c: &Client,
    id: i64,
    org: &str,
    prior: &TeamModel,
    plan: &TeamModel,
) -> Result<(), crate::http::ApiError> {
    let (want_m, have_m) = (set_of(&plan.members), set_of(&prior.members));
    for u in have_m.difference(&want_m) {
        c.team_member(id, u, false).await?;
    }
    for u in want_m.difference(&have_m) {
        c.team_member(id, u, true).await?;
    }
    if !plan.includes_all_repositories {
        let (want_r, have_r) = (set_of(&plan.repositories), set_of(&prior.repositories));
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
        .attr(Attribute::string("description").default(DESCRIPTION).describe("Description."))
        .attr(Attribute::string("permission").default(PERMISSION).validate(OneOf(&["read", "write", "admin"])).describe("Permission on the team's repositories."))
        .attr(Attribute::string_set("units").default(Value::string_set(DEFAULT_UNITS.iter().copied())).validate(OneOf(UNITS)).describe("Repository units the team may use."))
        .attr(Attribute::bool("includes_all_repositories").default(INCLUDES_ALL_REPOSITORIES).describe("The team covers every repository of the organization (then `repositories` is not managed)."))
        .attr(Attribute::bool("can_create_org_repo").default(CAN_CREATE_ORG_REPO).describe("Members may create repositories in the organization."))
        .attr(Attribute::string_set("members").default(Value::string_set(Vec::<String>::new())).describe("Usernames of the members."))
        .attr(Attribute::string_set("repositories").default(Value::string_set(Vec::<String>::new())).describe("Names of the organization's repositories the team covers."));
        Schema::new(0, block)
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let schema = self.schema();
        let plan: TeamModel = from_value(plan)?;
        let (org, name) = (plan.org.clone(), plan.name.clone());
        let body = body(&team_body(&plan));
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
        let t = team(&t)?;
        let id = t.id.unwrap_or_default();
        let empty = TeamModel {
            id: Some(id),
            members: Vec::new(),
            repositories: Vec::new(),
            ..plan.clone()
        };
        if let Err(e) = sync(c, id, &org, &empty, &plan).await {
            // The team exists: record what it has so a re-run finishes the job.
            let partial = read_state(c, &empty, &t).await.unwrap_or(empty);
            return Err(ApplyError::with_state(
                err("add members or repositories to", e),
                to_value(&partial, &schema),
            ));
        }
        let t = match c.team(id).await.map_err(|e| err("read back", e))? {
            Some(j) => team(&j)?,
            None => t,
        };
        let s = read_state(c, &plan, &t)
            .await
            .map_err(|e| err("read back", e))?;
        Ok(to_value(&s, &schema))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.gitea.get()?;
        if state.get("id").is_null() {
            return Ok(None);
        }
        let state: TeamModel = from_value(state)?;
        let id = state.id.unwrap_or_default();
        match c.team(id).await.map_err(|e| err("read", e))? {
            Some(t) => {
                let s = read_state(c, &state, &team(&t)?)
                    .await
                    .map_err(|e| err("read", e))?;
                Ok(Some(to_value(&s, &self.schema())))
            }
            None => Ok(None),
        }
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let schema = self.schema();
        let prior: TeamModel = from_value(prior)?;
        let plan: TeamModel = from_value(plan)?;
        let id = prior.id.unwrap_or_default();
        let t = c
            .edit_team(id, &body(&edit_body(&plan)))
            .await
            .map_err(|e| err("update", e))?;
        let t = team(&t)?;
        if let Err(e) = sync(c, id, &prior.org, &prior, &plan).await {
            let partial = read_state(c, &prior, &t)
                .await
                .unwrap_or_else(|_| prior.clone());
            return Err(ApplyError::with_state(
                err("update members or repositories of", e),
                to_value(&partial, &schema),
            ));
        }
        let s = read_state(c, &plan, &t)
            .await
            .map_err(|e| err("read back", e))?;
        Ok(to_value(&s, &schema))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.gitea.get()?;
        if let Some(id) = from_value::<TeamModel>(state)?.id {
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
        let s = read_state(c, &TeamModel::imported(org, name), &team(&t)?)
            .await
            .map_err(|e| err("import", e))?;
        Ok(to_value(&s, &self.schema()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;
    use serde_json::json;

    /// A `Team` shaped per gitea-swagger.json `definitions.Team`.
    fn gitea_team() -> Json {
        json!({
            "id": 12, "name": "devs", "description": "developers",
            "organization": {"id": 3, "name": "platform", "username": "platform", "full_name": "",
                              "visibility": "public", "repo_admin_change_team_access": false},
            "includes_all_repositories": false, "permission": "write",
            "units": ["repo.code", "repo.issues", "repo.code"],
            "units_map": {"repo.code": "write", "repo.issues": "write"},
            "can_create_org_repo": true
        })
    }

    #[test]
    fn model_matches_schema() {
        assert_model::<TeamModel>(&TeamResource.schema());
        let v = to_value(&TeamModel::imported("o", "t"), &TeamResource.schema());
        for a in TeamResource.schema().block.attributes {
            if let Some(d) = &a.default {
                assert!(v.get(&a.name).equals(d), "{}", a.name);
            }
        }
    }

    #[test]
    fn state_from_gitea_team() {
        let s = state_from_team(
            &TeamModel::imported("x", "devs"),
            &team(&gitea_team()).unwrap(),
        );
        assert_eq!(s.id, Some(12));
        assert_eq!(s.org, "platform");
        assert_eq!(s.permission, "write");
        assert_eq!(s.units, ["repo.code", "repo.issues"]);
        assert!(s.can_create_org_repo && !s.includes_all_repositories);
        let v = to_value(&s, &TeamResource.schema());
        assert_eq!(
            v.get("units"),
            &Value::string_set(["repo.code", "repo.issues"])
        );
    }

    #[test]
    fn body_carries_every_option() {
        let plan = TeamModel {
            members: vec!["alice".into()],
            ..TeamModel::imported("platform", "devs")
        };
        assert_eq!(
            body(&team_body(&plan)),
            json!({"name": "devs", "description": "", "permission": "read",
                   "units": DEFAULT_UNITS, "includes_all_repositories": false,
                   "can_create_org_repo": false})
        );
    }
}
