//! `webide_gitea_repository`: a repository owned by a user or an organization.

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::api::{CreateRepoOption, EditRepoOption, Repository};
use crate::framework::model::{answer, body, from_value, to_value};

use super::{api_error, GiteaRepoName};
use crate::framework::validators::NonEmpty;
use crate::framework::{ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct RepositoryResource;

const DESCRIPTION: &str = "";
const PRIVATE: bool = true;
const DEFAULT_BRANCH: &str = "main";
const WEBSITE: &str = "";
const ARCHIVED: bool = false;

/// Plan and state of `webide_gitea_repository`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RepositoryModel {
    id: Option<i64>,
    owner: String,
    name: String,
    description: String,
    private: bool,
    default_branch: String,
    website: String,
    archived: bool,
    full_name: Option<String>,
    html_url: Option<String>,
    clone_url: Option<String>,
    ssh_url: Option<String>,
}

impl RepositoryModel {
    /// What an import starts from, before the repository is read.
    fn imported(owner: &str, name: &str) -> RepositoryModel {
        RepositoryModel {
            id: None,
            owner: owner.into(),
            name: name.into(),
            description: DESCRIPTION.into(),
            private: PRIVATE,
            default_branch: DEFAULT_BRANCH.into(),
            website: WEBSITE.into(),
            archived: ARCHIVED,
            full_name: None,
            html_url: None,
            clone_url: None,
            ssh_url: None,
        }
    }
}

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("repository", action, &["name"], e)
}

fn repository(j: &Json) -> Result<Repository, Diagnostics> {
    answer("Gitea repository", j)
}

fn state_from_api(base: &RepositoryModel, r: &Repository) -> RepositoryModel {
    let mut s = base.clone();
    s.id = r.id;
    if let Some(o) = r.owner.as_ref().and_then(|o| o.login.as_ref()) {
        s.owner = o.clone();
    }
    for (have, got) in [
        (&mut s.name, &r.name),
        (&mut s.description, &r.description),
        (&mut s.default_branch, &r.default_branch),
        (&mut s.website, &r.website),
    ] {
        if let Some(g) = got {
            *have = g.clone();
        }
    }
    for (have, got) in [
        (&mut s.full_name, &r.full_name),
        (&mut s.html_url, &r.html_url),
        (&mut s.clone_url, &r.clone_url),
        (&mut s.ssh_url, &r.ssh_url),
    ] {
        if got.is_some() {
            have.clone_from(got);
        }
    }
    if let Some(b) = r.private {
        s.private = b;
    }
    if let Some(b) = r.archived {
        s.archived = b;
    }
    s
}

fn create_body(plan: &RepositoryModel) -> CreateRepoOption {
    CreateRepoOption {
        name: plan.name.clone(),
        description: plan.description.clone(),
        private: plan.private,
        default_branch: plan.default_branch.clone(),
    }
}

/// What the create call does not take, set by an edit right after; `None` when nothing is.
fn after_create_body(plan: &RepositoryModel) -> Option<EditRepoOption> {
    (!plan.website.is_empty() || plan.archived).then(|| EditRepoOption {
        website: Some(plan.website.clone()),
        archived: Some(plan.archived),
        ..EditRepoOption::default()
    })
}

fn edit_body(plan: &RepositoryModel) -> EditRepoOption {
    EditRepoOption {
        name: Some(plan.name.clone()),
        description: Some(plan.description.clone()),
        private: Some(plan.private),
        default_branch: Some(plan.default_branch.clone()),
        website: Some(plan.website.clone()),
        archived: Some(plan.archived),
    }
}

#[async_trait]
impl Resource<Clients> for RepositoryResource {
    fn type_name(&self) -> &'static str {
        "webide_gitea_repository"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("A Gitea repository. Restricted users reach it only through `webide_gitea_repository_collaborator` or a team.")
            .attr(Attribute::number("id").computed().use_state_for_unknown().describe("Numeric id."))
            .attr(Attribute::string("owner").required().requires_replace().describe("Owning user or organization. Import id: `owner/name`."))
            .attr(Attribute::string("name").required().validate(GiteaRepoName).describe("Repository name; changing it renames the repository in place."))
            .attr(Attribute::string("description").default(DESCRIPTION).describe("Description."))
            .attr(Attribute::bool("private").default(PRIVATE).describe("Private repositories are visible only to those granted access."))
            .attr(Attribute::string("default_branch").default(DEFAULT_BRANCH).validate(NonEmpty).describe("Default branch."))
            .attr(Attribute::string("website").default(WEBSITE).describe("Website URL."))
            .attr(Attribute::bool("archived").default(ARCHIVED).describe("Archived (read-only)."))
            .attr(Attribute::string("full_name").computed().describe("`owner/name`."))
            .attr(Attribute::string("html_url").computed().describe("Web URL."))
            .attr(Attribute::string("clone_url").computed().describe("HTTP(S) clone URL (for workspaces)."))
            .attr(Attribute::string("ssh_url").computed().describe("SSH clone URL."));
        Schema::new(0, block)
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let schema = self.schema();
        let plan: RepositoryModel = from_value(plan)?;
        let (owner, name) = (plan.owner.clone(), plan.name.clone());
        let request = body(&create_body(&plan));
        // Adopted after an unknown outcome only when created since this create started.
        let r = crate::http::create_once(
            CreateTarget::new(
                "gitea",
                "webide_gitea_repository",
                format!("name \"{owner}/{name}\""),
            ),
            || c.create_repo(&owner, &request),
            || c.repo(&owner, &name),
            |r, window| {
                if window.covers(r.get("created_at").and_then(Json::as_str)) {
                    Ownership::Ours
                } else {
                    Ownership::Foreign {
                        import_id: format!("{owner}/{name}"),
                    }
                }
            },
        )
        .await
        .map_err(|e| err("create", e))?;
        let state = state_from_api(&plan, &repository(&r)?);
        if let Some(edit) = after_create_body(&plan) {
            let r = c
                .edit_repo(&owner, &name, &body(&edit))
                .await
                .map_err(|e| {
                    crate::framework::ApplyError::with_state(
                        err("configure", e),
                        to_value(&state, &schema),
                    )
                })?;
            return Ok(to_value(&state_from_api(&plan, &repository(&r)?), &schema));
        }
        Ok(to_value(&state, &schema))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.gitea.get()?;
        if state.get("owner").is_null() || state.get("name").is_null() {
            return Ok(None);
        }
        let state: RepositoryModel = from_value(state)?;
        let Some(r) = c
            .repo(&state.owner, &state.name)
            .await
            .map_err(|e| err("read", e))?
        else {
            return Ok(None);
        };
        Ok(Some(to_value(
            &state_from_api(&state, &repository(&r)?),
            &self.schema(),
        )))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let prior: RepositoryModel = from_value(prior)?;
        let plan: RepositoryModel = from_value(plan)?;
        let r = c
            .edit_repo(&prior.owner, &prior.name, &body(&edit_body(&plan)))
            .await
            .map_err(|e| err("update", e))?;
        Ok(to_value(
            &state_from_api(&plan, &repository(&r)?),
            &self.schema(),
        ))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.gitea.get()?;
        if state.get("owner").is_null() || state.get("name").is_null() {
            return Ok(());
        }
        let state: RepositoryModel = from_value(state)?;
        c.delete_repo(&state.owner, &state.name)
            .await
            .map_err(|e| err("delete", e))
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.gitea.get()?;
        let (owner, name) = id.trim().split_once('/').ok_or_else(|| {
            Diagnostics::error(
                "Invalid import id",
                format!("expected `owner/name`, got {id:?}"),
            )
        })?;
        let r = c
            .repo(owner, name)
            .await
            .map_err(|e| err("import", e))?
            .ok_or_else(|| {
                Diagnostics::error(
                    "Gitea repository not found",
                    format!("no repository {id:?}"),
                )
            })?;
        Ok(to_value(
            &state_from_api(&RepositoryModel::imported(owner, name), &repository(&r)?),
            &self.schema(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;
    use serde_json::json;

    /// A `Repository` shaped per gitea-swagger.json `definitions.Repository` (abridged).
    fn gitea_repo() -> Json {
        json!({
            "id": 21, "name": "infra", "full_name": "platform/infra",
            "owner": {"id": 3, "login": "platform", "full_name": "", "email": ""},
            "description": "IaC", "private": false, "archived": true, "empty": true,
            "default_branch": "trunk", "website": "https://example.com",
            "html_url": "http://gitea/platform/infra", "clone_url": "http://gitea/platform/infra.git",
            "ssh_url": "git@gitea:platform/infra.git", "created_at": "2026-01-01T00:00:00Z",
            "permissions": {"admin": true, "pull": true, "push": true}
        })
    }

    #[test]
    fn model_matches_schema() {
        assert_model::<RepositoryModel>(&RepositoryResource.schema());
    }

    #[test]
    fn state_from_repository() {
        let s = state_from_api(
            &RepositoryModel::imported("x", "y"),
            &repository(&gitea_repo()).unwrap(),
        );
        assert_eq!(s.id, Some(21));
        assert_eq!((s.owner.as_str(), s.name.as_str()), ("platform", "infra"));
        assert_eq!(s.default_branch, "trunk");
        assert!(!s.private && s.archived);
        assert_eq!(
            s.clone_url.as_deref(),
            Some("http://gitea/platform/infra.git")
        );
        let v = to_value(&s, &RepositoryResource.schema());
        assert_eq!(v.get("full_name").as_str(), Some("platform/infra"));
    }

    #[test]
    fn bodies() {
        let plan = RepositoryModel::imported("platform", "infra");
        assert_eq!(
            body(&create_body(&plan)),
            json!({"name": "infra", "description": "", "private": true, "default_branch": "main"})
        );
        assert!(after_create_body(&plan).is_none());
        let archived = RepositoryModel {
            archived: true,
            ..plan.clone()
        };
        assert_eq!(
            body(&after_create_body(&archived).unwrap()),
            json!({"website": "", "archived": true})
        );
        assert_eq!(
            body(&edit_body(&plan)),
            json!({"name": "infra", "description": "", "private": true, "default_branch": "main",
                   "website": "", "archived": false})
        );
    }
}
