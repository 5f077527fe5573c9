//! Data source `webide_coder_organization`: an organization by name (default: the default one).

use async_trait::async_trait;

use super::api_error;
use crate::framework::DataSource;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct OrganizationDataSource;

#[async_trait]
impl DataSource<Clients> for OrganizationDataSource {
    fn type_name(&self) -> &'static str {
        "webide_coder_organization"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new(
                "A Coder organization, by name or id; without `name`, the default organization.",
            )
            .attr(
                Attribute::string("name")
                    .optional()
                    .computed()
                    .describe("Organization name or id."),
            )
            .attr(
                Attribute::string("id")
                    .computed()
                    .describe("Organization id."),
            )
            .attr(
                Attribute::string("display_name")
                    .computed()
                    .describe("Display name."),
            )
            .attr(
                Attribute::bool("is_default")
                    .computed()
                    .describe("Whether it is the default organization."),
            ),
        )
    }

    async fn read(&self, data: &Clients, config: &Value) -> Result<Value, Diagnostics> {
        let c = data.coder.get()?;
        let key = config.get("name").as_str().unwrap_or("default");
        let o = c
            .organization(key)
            .await
            .map_err(|e| api_error("organization", "read", &[], e))?
            .ok_or_else(|| {
                Diagnostics::attr_error(
                    AttrPath::root("name"),
                    "Coder organization not found",
                    key.to_string(),
                )
            })?;
        let mut s = config.clone();
        s.set("name", Value::opt_string(o["name"].as_str()));
        s.set("id", Value::opt_string(o["id"].as_str()));
        s.set(
            "display_name",
            Value::opt_string(o["display_name"].as_str()),
        );
        s.set("is_default", Value::Bool(o["is_default"] == true));
        Ok(s)
    }
}
