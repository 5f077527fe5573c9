//! `webide_gitea_repository_collaborator`: one user's grant on one repository.
//!
//! Gitea 1.25 reports a collaborator's *effective* permission only
//! (`GET /repos/{owner}/{repo}/collaborators/{user}/permission`, `GetUserRepoPermission`: the
//! highest of the grant, team access and site admin); `GET .../collaborators/{user}` says
//! whether the grant exists. The grant is read back as: gone when the user is no longer a
//! collaborator; lowered when the effective permission is below the grant in state (nothing
//! else can lower it); unchanged when the effective permission is at or above it, since a team
//! or site-admin status may give more without touching the grant. So a grant lowered or
//! removed by hand shows in plan; a grant raised by hand shows only when the user has no other
//! path to that level.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::api_error;
use crate::framework::model::{from_value, to_value};
use crate::framework::validators::OneOf;
use crate::framework::{ApplyResult, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct CollaboratorResource;

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("collaborator", action, &["permission", "username"], e)
}

const PERMISSION: &str = "write";

/// Plan and state of `webide_gitea_repository_collaborator`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CollaboratorModel {
    id: Option<String>,
    owner: String,
    repository: String,
    username: String,
    permission: String,
}

impl CollaboratorModel {
    /// The grant with `permission`, its id derived from the three names.
    fn with_permission(&self, permission: &str) -> CollaboratorModel {
        let mut s = self.clone();
        s.id = Some(format!("{}/{}/{}", s.owner, s.repository, s.username));
        s.permission = permission.to_string();
        s
    }
}

fn rank(p: &str) -> u8 {
    match p {
        "read" => 1,
        "write" => 2,
        "admin" | "owner" => 3,
        _ => 0,
    }
}

/// The grant as far as the effective permission `effective` tells it, given the grant in state.
fn grant(known: Option<&str>, effective: &str) -> String {
    let effective = if effective == "owner" {
        "admin"
    } else {
        effective
    };
    match known {
        Some(k) if rank(effective) >= rank(k) && rank(k) > 0 => k.to_string(),
        _ => effective.to_string(),
    }
}

#[async_trait]
impl Resource<Clients> for CollaboratorResource {
    fn type_name(&self) -> &'static str {
        "webide_gitea_repository_collaborator"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("Grants one user access to one repository — the way a restricted user sees a repository.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().describe("`owner/repository/username`. Import id."))
            .attr(Attribute::string("owner").required().requires_replace().describe("Repository owner (user or organization)."))
            .attr(Attribute::string("repository").required().requires_replace().describe("Repository name."))
            .attr(Attribute::string("username").required().requires_replace().describe("The collaborator."))
            .attr(Attribute::string("permission").default(PERMISSION).validate(OneOf(&["read", "write", "admin"])).describe("Access level of the grant; changes update it in place. Drift: a grant removed or lowered by hand shows in plan; more access through a team or site-admin status is not drift (Gitea reports only the effective permission, so a grant raised by hand shows only when nothing else gives that level)."));
        Schema::new(0, block)
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.gitea.get()?;
        let plan: CollaboratorModel = from_value(plan)?;
        c.set_collaborator(
            &plan.owner,
            &plan.repository,
            &plan.username,
            &plan.permission,
        )
        .await
        .map_err(|e| err("add", e))?;
        Ok(to_value(
            &plan.with_permission(&plan.permission),
            &self.schema(),
        ))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.gitea.get()?;
        let s: CollaboratorModel = from_value(state)?;
        if c.repo(&s.owner, &s.repository)
            .await
            .map_err(|e| err("read", e))?
            .is_none()
        {
            return Ok(None);
        }
        let p = c
            .collaborator(&s.owner, &s.repository, &s.username)
            .await
            .map_err(|e| err("read", e))?;
        Ok(p.map(|p| {
            to_value(
                &s.with_permission(&grant(Some(&s.permission), &p)),
                &self.schema(),
            )
        }))
    }

    async fn update(&self, data: &Clients, _prior: &Value, plan: &Value) -> ApplyResult {
        self.create(data, plan).await
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let c = data.gitea.get()?;
        let s: CollaboratorModel = from_value(state)?;
        if c.repo(&s.owner, &s.repository)
            .await
            .map_err(|e| err("delete", e))?
            .is_none()
        {
            return Ok(());
        }
        c.remove_collaborator(&s.owner, &s.repository, &s.username)
            .await
            .map_err(|e| err("remove", e))
    }

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let c = data.gitea.get()?;
        let bits: Vec<&str> = id.trim().split('/').collect();
        let [o, r, u] = bits.as_slice() else {
            return Err(Diagnostics::error(
                "Invalid import id",
                format!("expected `owner/repository/username`, got {id:?}"),
            ));
        };
        let p = c
            .collaborator(o, r, u)
            .await
            .map_err(|e| err("import", e))?
            .ok_or_else(|| {
                Diagnostics::error(
                    "Gitea collaborator not found",
                    format!("{u} is not a collaborator of {o}/{r}"),
                )
            })?;
        let s = CollaboratorModel {
            id: None,
            owner: o.to_string(),
            repository: r.to_string(),
            username: u.to_string(),
            permission: PERMISSION.into(),
        };
        Ok(to_value(&s.with_permission(&p), &self.schema()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;

    #[test]
    fn model_matches_schema() {
        assert_model::<CollaboratorModel>(&CollaboratorResource.schema());
        let m = CollaboratorModel {
            id: None,
            owner: "platform".into(),
            repository: "infra".into(),
            username: "alice".into(),
            permission: PERMISSION.into(),
        };
        let v = to_value(&m.with_permission("read"), &CollaboratorResource.schema());
        assert_eq!(v.get("id").as_str(), Some("platform/infra/alice"));
        assert_eq!(v.get("permission").as_str(), Some("read"));
    }

    #[test]
    fn team_or_admin_access_is_not_drift() {
        assert_eq!(grant(Some("read"), "write"), "read");
        assert_eq!(grant(Some("read"), "owner"), "read");
        assert_eq!(grant(Some("write"), "write"), "write");
        // Lowered by hand: drift.
        assert_eq!(grant(Some("admin"), "read"), "read");
        // Import (nothing known): the effective permission.
        assert_eq!(grant(None, "owner"), "admin");
    }
}
