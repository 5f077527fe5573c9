//! `webide_coder_oidc_role_sync`: site roles of Coder's OIDC users from their identity-provider
//! groups, reconciled at plan/apply time — what Coder's own role sync
//! (`CODER_OIDC_USER_ROLE_FIELD`/`_MAPPING`) does at every sign-in, but which Coder v2.15 only
//! applies with the Premium entitlement `user_role_management` (without it coderd logs
//! "attempted to assign OIDC user roles without enterprise entitlement, roles left unchanged").

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value as Json};

use super::{api_error, Client};
use crate::framework::{ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::types::Type;
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct RoleSyncResource;

/// Site roles Coder v2.15 lets an owner assign (`member` is implied).
const ROLES: &[&str] = &["owner", "template-admin", "user-admin", "auditor"];
const ID: &str = "login_type:oidc";

fn err(action: &str, e: crate::http::ApiError) -> Diagnostics {
    api_error("OIDC users' roles", action, &[], e)
}

/// `username → site roles` wanted: the union of `group_roles[g]` over every group `g` whose
/// `group_members[g]` holds the user's e-mail (compared case-insensitively).
type Roles = BTreeMap<String, BTreeSet<String>>;

fn set_map(v: &Value) -> BTreeMap<String, BTreeSet<String>> {
    match v {
        Value::Map(m) | Value::Object(m) => m
            .iter()
            .map(|(k, s)| (k.clone(), s.string_elements().into_iter().collect()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn roles_value(r: &Roles) -> Value {
    Value::Map(
        r.iter()
            .map(|(u, s)| (u.clone(), Value::string_set(s.iter().cloned())))
            .collect(),
    )
}

/// The Coder users this resource manages: login type `oidc`, not excluded, not deleted.
async fn oidc_users(c: &Client, config: &Value) -> Result<Vec<Json>, Diagnostics> {
    const PAGE: usize = 100;
    let exclude: BTreeSet<String> = config
        .get("exclude")
        .string_elements()
        .into_iter()
        .collect();
    let mut out = Vec::new();
    for page in 0..100 {
        let j = c
            .api()
            .get(
                "/api/v2/users",
                &[
                    ("limit", PAGE.to_string()),
                    ("offset", (page * PAGE).to_string()),
                ],
            )
            .await
            .map_err(|e| err("list the users for", e))?;
        let users = j["users"].as_array().cloned().unwrap_or_default();
        let n = users.len();
        out.extend(users.into_iter().filter(|u| {
            u["login_type"] == "oidc"
                && u["status"] != "deleted"
                && !exclude.contains(u["username"].as_str().unwrap_or_default())
        }));
        if n < PAGE {
            break;
        }
    }
    Ok(out)
}

fn site_roles(u: &Json) -> BTreeSet<String> {
    u["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str().or(r.as_str()))
        .filter(|r| *r != "member")
        .map(str::to_string)
        .collect()
}

fn actual(users: &[Json]) -> Roles {
    users
        .iter()
        .map(|u| {
            (
                u["username"].as_str().unwrap_or_default().to_string(),
                site_roles(u),
            )
        })
        .collect()
}

fn wanted(users: &[Json], config: &Value) -> Roles {
    let group_roles = set_map(config.get("group_roles"));
    let members = set_map(config.get("group_members"));
    users
        .iter()
        .map(|u| {
            let email = u["email"].as_str().unwrap_or_default().to_lowercase();
            let roles = members
                .iter()
                .filter(|(_, m)| m.iter().any(|e| e.to_lowercase() == email))
                .filter_map(|(g, _)| group_roles.get(g))
                .flatten()
                .cloned()
                .collect();
            (
                u["username"].as_str().unwrap_or_default().to_string(),
                roles,
            )
        })
        .collect()
}

/// Sets the roles of every user in `want` whose roles differ; returns the roles now held.
async fn reconcile(c: &Client, plan: &Value) -> ApplyResult {
    let users = oidc_users(c, plan).await?;
    let have = actual(&users);
    let want: Roles = if plan.get("roles").is_wholly_known() {
        set_map(plan.get("roles"))
    } else {
        wanted(&users, plan)
    };
    let mut now = Roles::new();
    for (name, roles) in &want {
        let Some(u) = users.iter().find(|u| u["username"] == name.as_str()) else {
            return Err(Diagnostics::attr_error(
                AttrPath::root("roles"),
                "Coder user gone since the plan",
                format!("the OIDC user {name:?} no longer exists in Coder (or became excluded); run the plan again"),
            )
            .into());
        };
        if have.get(name) != Some(roles) {
            let id = u["id"].as_str().unwrap_or_default();
            let got = c
                .send(
                    Method::PUT,
                    &format!("/users/{id}/roles"),
                    &json!({ "roles": roles }),
                    true,
                )
                .await
                .map_err(|e| {
                    let mut d = err(&format!("set the roles of {name:?} as"), e);
                    d.push_error(
                        "Coder's own role sync may be on",
                        "Coder refuses role changes of OIDC users while CODER_OIDC_USER_ROLE_FIELD is set (\"Cannot modify roles for OIDC users when role sync is enabled.\"): with a Premium licence use Coder's role sync instead of this resource.",
                    );
                    d
                })?;
            now.insert(name.clone(), site_roles(&got));
        } else {
            now.insert(name.clone(), roles.clone());
        }
    }
    let mut s = plan.clone();
    s.set("id", Value::string(ID));
    s.set("roles", roles_value(&now));
    Ok(s)
}

#[async_trait]
impl Resource<Clients> for RoleSyncResource {
    fn type_name(&self) -> &'static str {
        "webide_coder_oidc_role_sync"
    }

    fn schema(&self) -> Schema {
        let set_map = Type::map(Type::set(Type::String));
        let block = Block::new("Site roles of the Coder users who sign in through OIDC, from their identity-provider groups: every plan lists Coder's `oidc` users and plans, per user, the union of `group_roles` of the groups in `group_members` that hold the user's e-mail; apply sets them (`PUT /users/{id}/roles`). A role granted or removed by hand shows as drift on `roles`. For Coder without a Premium licence, where `CODER_OIDC_USER_ROLE_FIELD`/`_MAPPING` are not applied (role sync needs the `user_role_management` entitlement): a user who signs in for the first time is a plain member until the next apply. With a licence use Coder's role sync instead: Coder then refuses role changes of OIDC users, so this resource fails. Destroying it leaves the roles as they are.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().describe("Always `login_type:oidc`."))
            .attr(Attribute::new("group_roles", set_map.clone()).required().describe("Identity-provider group → Coder site roles (owner, template-admin, user-admin, auditor), e.g. `{ coder-admins = [\"owner\"] }`: Coder's `CODER_OIDC_USER_ROLE_MAPPING`."))
            .attr(Attribute::new("group_members", set_map.clone()).required().describe("Identity-provider group → e-mail addresses of its members, e.g. from `data.webide_authentik_group_members.<g>.emails` (read at every plan). Groups missing here have no members."))
            .attr(Attribute::string_set("exclude").default(Value::string_set(Vec::<String>::new())).describe("Usernames whose roles are declared elsewhere (`webide_coder_user.roles`): left alone here."))
            .attr(Attribute::new("roles", set_map).computed().describe("Username → site roles (without `member`) of every OIDC user not excluded: what Coder holds after refresh, what this configuration wants in a plan."));
        Schema::new(0, block)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Value::Map(m) = config.get("group_roles") {
            for (g, roles) in m {
                for r in roles.string_elements() {
                    if !ROLES.contains(&r.as_str()) {
                        diags.push_attr_error(
                            AttrPath::root("group_roles").key(g),
                            "Invalid value for group_roles",
                            format!(
                                "{r:?} is not a Coder site role; expected one of: {}",
                                ROLES.join(", ")
                            ),
                        );
                    }
                }
            }
        }
    }

    async fn modify_plan(
        &self,
        data: Option<&Clients>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        if ctx.planned.is_null() {
            return Ok(());
        }
        ctx.planned.set("id", Value::string(ID));
        let known = ["group_roles", "group_members", "exclude"]
            .iter()
            .all(|a| ctx.planned.get(a).is_wholly_known());
        let client = data.and_then(|d| d.coder.get().ok());
        let (true, Some(c)) = (known, client) else {
            ctx.set_unknown("roles");
            return Ok(());
        };
        let users = oidc_users(c, &ctx.planned).await?;
        let want = wanted(&users, &ctx.planned);
        ctx.planned.set("roles", roles_value(&want));
        Ok(())
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        reconcile(data.coder.get()?, plan).await
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = data.coder.get()?;
        let users = oidc_users(c, state).await?;
        let mut s = state.clone();
        s.set("roles", roles_value(&actual(&users)));
        Ok(Some(s))
    }

    async fn update(&self, data: &Clients, _prior: &Value, plan: &Value) -> ApplyResult {
        reconcile(data.coder.get()?, plan).await
    }

    async fn delete(&self, _data: &Clients, _state: &Value) -> Result<(), Diagnostics> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Value {
        let mut c = Value::Object(Default::default());
        c.set(
            "group_roles",
            Value::Map(
                [
                    ("coder-admins".to_string(), Value::string_set(["owner"])),
                    ("coder-auditors".to_string(), Value::string_set(["auditor"])),
                    (
                        "coder-template-admins".to_string(),
                        Value::string_set(["template-admin"]),
                    ),
                ]
                .into(),
            ),
        );
        c.set(
            "group_members",
            Value::Map(
                [
                    (
                        "coder-auditors".to_string(),
                        Value::string_set(["NewHire@example.com", "both@example.com"]),
                    ),
                    (
                        "coder-template-admins".to_string(),
                        Value::string_set(["both@example.com"]),
                    ),
                    // A group without roles grants none.
                    (
                        "coder-members".to_string(),
                        Value::string_set(["x@example.com"]),
                    ),
                ]
                .into(),
            ),
        );
        c
    }

    #[test]
    fn roles_are_the_union_over_the_users_groups_by_email() {
        let users = vec![
            json!({"username": "newhire", "email": "newhire@example.com"}),
            json!({"username": "both", "email": "both@example.com"}),
            json!({"username": "x", "email": "x@example.com"}),
        ];
        let w = wanted(&users, &config());
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(w["newhire"], set(&["auditor"]));
        assert_eq!(w["both"], set(&["auditor", "template-admin"]));
        assert_eq!(w["x"], set(&[]));
    }

    #[test]
    fn actual_roles_leave_out_member() {
        let users =
            vec![json!({"username": "a", "roles": [{"name": "member"}, {"name": "owner"}]})];
        assert_eq!(actual(&users)["a"], ["owner".to_string()].into());
    }

    #[test]
    fn unknown_site_roles_are_refused_at_validate() {
        let mut c = config();
        c.set(
            "group_roles",
            Value::Map([("g".to_string(), Value::string_set(["admin"]))].into()),
        );
        let mut d = Diagnostics::default();
        RoleSyncResource.validate(&c, &mut d);
        assert!(d.has_errors(), "{d:?}");
    }
}
