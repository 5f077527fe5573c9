//! Gitea API v1 request and answer shapes, named and spelled as in Gitea's swagger
//! (`definitions` in /work/shared/specs/gitea-swagger.json). Answers carry only the fields the
//! provider reads, each optional: a batched listing may leave some out (see
//! [`super::Client::user_batched`]).

use serde::{Deserialize, Serialize};

/// `POST /admin/users`.
#[derive(Debug, Clone, Serialize)]
pub struct CreateUserOption {
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub password: String,
    pub login_name: String,
    pub source_id: i64,
    pub must_change_password: bool,
    pub restricted: bool,
    pub visibility: String,
    pub send_notify: bool,
}

/// `PATCH /admin/users/{username}`; `password` only when it is to be set.
#[derive(Debug, Clone, Serialize)]
pub struct EditUserOption {
    pub email: String,
    pub full_name: String,
    pub login_name: String,
    pub source_id: i64,
    pub admin: bool,
    pub restricted: bool,
    pub allow_create_organization: bool,
    pub prohibit_login: bool,
    pub active: bool,
    pub must_change_password: bool,
    pub visibility: String,
    pub max_repo_creation: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A user as Gitea returns it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct User {
    pub id: Option<i64>,
    pub login: Option<String>,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub restricted: Option<bool>,
    pub is_admin: Option<bool>,
    pub prohibit_login: Option<bool>,
    pub active: Option<bool>,
    pub visibility: Option<String>,
    pub source_id: Option<i64>,
    pub login_name: Option<String>,
    pub created: Option<String>,
}

/// `POST /orgs` (`username` is the organization's name).
#[derive(Debug, Clone, Serialize)]
pub struct CreateOrgOption {
    pub username: String,
    #[serde(flatten)]
    pub fields: EditOrgOption,
}

/// `PATCH /orgs/{org}`.
#[derive(Debug, Clone, Serialize)]
pub struct EditOrgOption {
    pub full_name: String,
    pub description: String,
    pub website: String,
    pub location: String,
    pub visibility: String,
    pub repo_admin_change_team_access: bool,
}

/// An organization as Gitea returns it (`username` is the older spelling of `name`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Organization {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub username: Option<String>,
    pub full_name: Option<String>,
    pub description: Option<String>,
    pub website: Option<String>,
    pub location: Option<String>,
    pub visibility: Option<String>,
    pub repo_admin_change_team_access: Option<bool>,
}

/// `POST /orgs/{org}/teams`; `PATCH /teams/{id}` takes the same fields ([`EditTeamOption`]).
#[derive(Debug, Clone, Serialize)]
pub struct CreateTeamOption {
    pub name: String,
    pub description: String,
    pub permission: String,
    pub units: Vec<String>,
    pub includes_all_repositories: bool,
    pub can_create_org_repo: bool,
}

/// `PATCH /teams/{id}`: the fields of [`CreateTeamOption`].
pub type EditTeamOption = CreateTeamOption;

/// A team as Gitea returns it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Team {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub permission: Option<String>,
    pub units: Option<Vec<String>>,
    pub includes_all_repositories: Option<bool>,
    pub can_create_org_repo: Option<bool>,
    pub organization: Option<Organization>,
}

/// `POST /user/repos`, `POST /orgs/{org}/repos`.
#[derive(Debug, Clone, Serialize)]
pub struct CreateRepoOption {
    pub name: String,
    pub description: String,
    pub private: bool,
    pub default_branch: String,
}

/// `PATCH /repos/{owner}/{repo}`; unset fields are left out (unchanged).
#[derive(Debug, Clone, Default, Serialize)]
pub struct EditRepoOption {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
}

/// A repository as Gitea returns it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Repository {
    pub id: Option<i64>,
    pub owner: Option<User>,
    pub name: Option<String>,
    pub full_name: Option<String>,
    pub description: Option<String>,
    pub default_branch: Option<String>,
    pub website: Option<String>,
    pub html_url: Option<String>,
    pub clone_url: Option<String>,
    pub ssh_url: Option<String>,
    pub private: Option<bool>,
    pub archived: Option<bool>,
    pub created_at: Option<String>,
}

/// `POST /users/{username}/tokens`.
#[derive(Debug, Clone, Serialize)]
pub struct CreateAccessTokenOption {
    pub name: String,
    pub scopes: Vec<String>,
}

/// An access token as Gitea returns it; `sha1` (the secret) only in the create answer.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccessToken {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub sha1: Option<String>,
    pub token_last_eight: Option<String>,
}
