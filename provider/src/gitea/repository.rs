//! `webide_gitea_repository`: a repository owned by a user or an organization.

use crate::http::{CreateTarget, Ownership};
use async_trait::async_trait;
use serde_json::{json, Value as Json};

use super::{api_error, GiteaRepoName};
use crate::framework::validators::NonEmpty;
use crate::framework::{ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct RepositoryResource;

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("repository", action, &["name"], e)
}

fn state_from_api(base: &Value, r: &Json) -> Value {
    let mut s = base.clone();
    s.set("id", Value::opt_int(r.get("id").and_then(Json::as_i64)));
    if let Some(o) = r.pointer("/owner/login").and_then(Json::as_str) {
        s.set("owner", Value::string(o));
    }
    for f in [
        "name",
        "description",
        "default_branch",
        "website",
        "full_name",
        "html_url",
        "clone_url",
        "ssh_url",
    ] {
        if let Some(v) = r.get(f).and_then(Json::as_str) {
            s.set(f, Value::string(v));
        }
    }
    for f in ["private", "archived"] {
        if let Some(v) = r.get(f).and_then(Json::as_bool) {
            s.set(f, Value::Bool(v));
        }
    }
    s
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
            .attr(Attribute::string("description").default("").describe("Description."))
            .attr(Attribute::bool("private").default(true).describe("Private repositories are visible only to those granted access."))
            .attr(Attribute::string("default_branch").default("main").validate(NonEmpty).describe("Default branch."))
            .attr(Attribute::string("website").default("").describe("Website URL."))
            .attr(Attribute::bool("archived").default(false).describe("Archived (read-only)."))
            .attr(Attribute::string("full_name").computed().describe("`owner/name`."))
            .attr(Attribute::string("html_url").computed().describe("Web URL."))
            .attr(Attribute::string("clone_url").computed().describe("HTTP(S) clone URL (for workspaces)."))
            .attr(Attribute::string("ssh_url").computed().describe("SSH clone URL."));
        Schema::new(0, block)
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let owner = plan.get("owner").as_str().unwrap_or_default().to_string();
        let name = plan.get("name").as_str().unwrap_or_default().to_string();
        let body = json!({
            "name": name,
            "description": plan.get("description").as_str().unwrap_or(""),
            "private": plan.get("private").as_bool().unwrap_or(true),
            "default_branch": plan.get("default_branch").as_str().unwrap_or("main"),
        });
        // Adopted after an unknown outcome only when created since this create started.
        let r = crate::http::create_once(
            CreateTarget::new(
                "gitea",
                "webide_gitea_repository",
                format!("name \"{owner}/{name}\""),
            ),
            || c.create_repo(&owner, &body),
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
        let state = state_from_api(plan, &r);
        let needs_edit = plan.get("website").as_str().is_some_and(|w| !w.is_empty())
            || plan.get("archived").as_bool() == Some(true);
        if needs_edit {
            let body = json!({"website": plan.get("website").as_str(), "archived": plan.get("archived").as_bool()});
            let r = c.edit_repo(&owner, &name, &body).await.map_err(|e| {
                crate::framework::ApplyError::with_state(err("configure", e), state.clone())
            })?;
            return Ok(state_from_api(plan, &r));
        }
        Ok(state)
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.gitea.get()?;
        let (Some(owner), Some(name)) = (state.get("owner").as_str(), state.get("name").as_str())
        else {
            return Ok(None);
        };
        Ok(c.repo(owner, name)
            .await
            .map_err(|e| err("read", e))?
            .map(|r| state_from_api(state, &r)))
    }

    async fn update(&self, data: &Clients, prior: &Value, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let owner = prior.get("owner").as_str().unwrap_or_default();
        let name = prior.get("name").as_str().unwrap_or_default();
        let body = json!({
            "name": plan.get("name").as_str(),
            "description": plan.get("description").as_str().unwrap_or(""),
            "private": plan.get("private").as_bool(),
            "default_branch": plan.get("default_branch").as_str(),
            "website": plan.get("website").as_str().unwrap_or(""),
            "archived": plan.get("archived").as_bool(),
        });
        let r = c
            .edit_repo(owner, name, &body)
            .await
            .map_err(|e| err("update", e))?;
        Ok(state_from_api(plan, &r))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.gitea.get()?;
        if let (Some(owner), Some(name)) = (state.get("owner").as_str(), state.get("name").as_str())
        {
            c.delete_repo(owner, name)
                .await
                .map_err(|e| err("delete", e))?;
        }
        Ok(())
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
        Ok(state_from_api(&self.schema().block.null_object(), &r))
    }
}
