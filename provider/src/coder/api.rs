//! Coder API v2 request and answer shapes, named as in Coder's swagger
//! (`definitions` `codersdk.*` of /work/shared/specs/coder-swagger.json). Answers carry only
//! what the provider reads.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// `POST /users`.
#[derive(Debug, Clone, Serialize)]
pub struct CreateUserRequestWithOrgs {
    pub username: String,
    pub email: String,
    pub name: String,
    pub password: String,
    pub login_type: String,
    pub organization_ids: Vec<Json>,
}

/// `PUT /users/{user}/profile`.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateUserProfileRequest {
    pub username: String,
    pub name: String,
}

/// `PUT /users/{user}/roles`.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateRoles {
    pub roles: Vec<String>,
}

/// `PUT /users/{user}/password`.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateUserPasswordRequest {
    pub password: String,
}

/// A user as Coder returns it (`codersdk.User`); `roles` are `codersdk.SlimRole` objects
/// (older answers: plain names).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct User {
    pub id: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub login_type: Option<String>,
    pub roles: Option<Vec<Json>>,
    pub status: Option<String>,
    pub created_at: Option<String>,
}

impl User {
    /// Names of its site roles.
    pub fn role_names(&self) -> impl Iterator<Item = &str> {
        self.roles
            .iter()
            .flatten()
            .filter_map(|r| r.get("name").and_then(Json::as_str).or(r.as_str()))
    }
}

/// `POST /organizations/{organization}/groups`.
#[derive(Debug, Clone, Serialize)]
pub struct CreateGroupRequest {
    pub name: String,
    pub display_name: String,
    pub quota_allowance: i64,
}

/// `PATCH /groups/{group}`.
#[derive(Debug, Clone, Serialize)]
pub struct PatchGroupRequest {
    pub name: String,
    pub display_name: String,
    pub quota_allowance: i64,
    pub add_users: Vec<String>,
    pub remove_users: Vec<String>,
}

/// A group as Coder returns it (`codersdk.Group`); members are `codersdk.ReducedUser`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Group {
    pub id: Option<String>,
    pub organization_id: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub quota_allowance: Option<i64>,
    pub members: Option<Vec<Member>>,
}

/// A member of a [`Group`]: only its id is read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Member {
    pub id: Option<String>,
}

/// An organization as Coder returns it (`codersdk.Organization`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Organization {
    pub id: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub is_default: Option<bool>,
}

/// The template settings `webide_coder_template` manages, part of `CreateTemplateRequest` and
/// `UpdateTemplateMeta`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateSettings {
    pub display_name: String,
    pub description: String,
    pub icon: String,
    pub default_ttl_ms: i64,
    pub activity_bump_ms: i64,
    pub allow_user_cancel_workspace_jobs: bool,
    pub require_active_version: bool,
}

/// `POST /organizations/{organization}/templates`.
#[derive(Debug, Clone, Serialize)]
pub struct CreateTemplateRequest {
    pub name: String,
    pub template_version_id: String,
    #[serde(flatten)]
    pub settings: TemplateSettings,
}

/// `PATCH /templates/{template}`: every setting, the unmanaged ones as the server has them.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateTemplateMeta {
    pub name: String,
    #[serde(flatten)]
    pub settings: TemplateSettings,
    #[serde(flatten)]
    pub unmanaged: serde_json::Map<String, Json>,
}

/// A template as Coder returns it (`codersdk.Template`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Template {
    pub id: Option<String>,
    pub name: Option<String>,
    pub organization_id: Option<String>,
    pub active_version_id: Option<String>,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub default_ttl_ms: Option<i64>,
    pub activity_bump_ms: Option<i64>,
    pub allow_user_cancel_workspace_jobs: Option<bool>,
    pub require_active_version: Option<bool>,
}
