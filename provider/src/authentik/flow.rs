//! Data source `webide_authentik_flow`: a flow's UUID by slug (flows are referenced by UUID).

use async_trait::async_trait;

use super::FLOWS;
use crate::framework::validators::NonEmpty;
use crate::framework::DataSource;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct FlowDataSource;

#[async_trait]
impl DataSource<Clients> for FlowDataSource {
    fn type_name(&self) -> &'static str {
        "webide_authentik_flow"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("Looks up an Authentik flow by slug, e.g. `default-provider-authorization-implicit-consent` or `default-provider-invalidation-flow`.")
            .attr(Attribute::string("slug").required().validate(NonEmpty).describe("Flow slug."))
            .attr(Attribute::string("id").computed().describe("Flow UUID."))
            .attr(Attribute::string("name").computed().describe("Name."))
            .attr(Attribute::string("title").computed().describe("Title shown to users."))
            .attr(Attribute::string("designation").computed().describe("authentication, authorization, invalidation, ..."));
        Schema::new(0, block)
    }

    async fn read(&self, data: &Clients, config: &Value) -> Result<Value, Diagnostics> {
        let c = data.authentik.get()?;
        let slug = config.get("slug").as_str().unwrap_or_default();
        let f = c
            .get(FLOWS, slug)
            .await
            .map_err(|e| Diagnostics::error("Could not read the Authentik flow", e.to_string()))?
            .ok_or_else(|| {
                Diagnostics::attr_error(
                    AttrPath::root("slug"),
                    "Authentik flow not found",
                    format!("no flow with slug {slug:?}"),
                )
            })?;
        let mut s = config.clone();
        for (attr, api) in [
            ("id", "pk"),
            ("name", "name"),
            ("title", "title"),
            ("designation", "designation"),
        ] {
            s.set(attr, Value::opt_string(f[api].as_str()));
        }
        Ok(s)
    }
}
