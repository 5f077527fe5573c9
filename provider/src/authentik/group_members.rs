//! Data source `webide_authentik_group_members`: who is in a group now, read at every plan —
//! including people who were never declared in HCL (added in Authentik's UI, or enrolled).

use async_trait::async_trait;
use serde_json::Value as Json;

use super::GROUPS;
use crate::framework::validators::NonEmpty;
use crate::framework::DataSource;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct GroupMembersDataSource;

#[async_trait]
impl DataSource<Clients> for GroupMembersDataSource {
    fn type_name(&self) -> &'static str {
        "webide_authentik_group_members"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("The direct members of an Authentik group, read from Authentik at every plan (`GET /core/groups/?name=...&include_users=true`): the same membership the `groups` claim carries (`request.user.ak_groups`). Inactive users are left out (Authentik refuses their sign-in). Feeds `webide_coder_oidc_role_sync`.")
            .attr(Attribute::string("name").required().validate(NonEmpty).describe("Group name."))
            .attr(Attribute::string("id").computed().describe("Group UUID."))
            .attr(Attribute::string_set("usernames").computed().describe("Usernames of the active direct members."))
            .attr(Attribute::string_set("emails").computed().describe("E-mail addresses of the active direct members (members without one are left out)."));
        Schema::new(0, block)
    }

    async fn read(&self, data: &Clients, config: &Value) -> Result<Value, Diagnostics> {
        let c = data.authentik.get()?;
        let name = config.get("name").as_str().unwrap_or_default();
        let rows = c
            .list(
                GROUPS,
                &[("name", name.to_string()), ("include_users", "true".into())],
            )
            .await
            .map_err(|e| Diagnostics::error("Could not read the Authentik group", e.to_string()))?;
        let g = rows
            .into_iter()
            .find(|g| g["name"].as_str() == Some(name))
            .ok_or_else(|| {
                Diagnostics::attr_error(
                    AttrPath::root("name"),
                    "Authentik group not found",
                    format!("no group named {name:?}"),
                )
            })?;
        let members: Vec<&Json> = g["users_obj"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|u| u["is_active"] != false)
            .collect();
        let pick = |field: &str| {
            let mut v: Vec<String> = members
                .iter()
                .filter_map(|u| u[field].as_str().filter(|s| !s.is_empty()))
                .map(str::to_string)
                .collect();
            v.sort();
            Value::string_set(v)
        };
        let mut s = config.clone();
        s.set("id", Value::opt_string(g["pk"].as_str()));
        s.set("usernames", pick("username"));
        s.set("emails", pick("email"));
        Ok(s)
    }
}
