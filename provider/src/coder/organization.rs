//! Data source `webide_coder_organization`: an organization by name (default: the default one).

use async_trait::async_trait;

use serde::{Deserialize, Serialize};

use super::api::Organization;
use super::api_error;
use crate::framework::model::{answer, from_value, to_value};
use crate::framework::DataSource;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct OrganizationDataSource;

/// Organization looked up when the configuration names none.
const DEFAULT: &str = "default";

/// Configuration and result of `webide_coder_organization`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OrganizationModel {
    name: Option<String>,
    id: Option<String>,
    display_name: Option<String>,
    is_default: Option<bool>,
}

fn result_from_api(o: &Organization) -> OrganizationModel {
    OrganizationModel {
        name: o.name.clone(),
        id: o.id.clone(),
        display_name: o.display_name.clone(),
        is_default: Some(o.is_default == Some(true)),
    }
}

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
        let config: OrganizationModel = from_value(config)?;
        let key = config.name.as_deref().unwrap_or(DEFAULT);
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
        let o: Organization = answer("Coder organization", &o)?;
        Ok(to_value(&result_from_api(&o), &self.schema()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model;
    use serde_json::json;

    #[test]
    fn result_from_organization() {
        assert_model::<OrganizationModel>(&OrganizationDataSource.schema());
        // A `codersdk.Organization` shaped per coder-swagger.json.
        let o: Organization = answer(
            "o",
            &json!({"id": "0b5c7e1a-0000-4000-8000-000000000001", "name": "coder",
                    "display_name": "Coder", "description": "", "icon": "",
                    "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                    "is_default": true}),
        )
        .unwrap();
        let v = to_value(&result_from_api(&o), &OrganizationDataSource.schema());
        assert_eq!(v.get("name").as_str(), Some("coder"));
        assert_eq!(v.get("is_default"), &Value::Bool(true));
        let o: Organization = answer("o", &json!({"id": "x", "name": "other"})).unwrap();
        assert_eq!(result_from_api(&o).is_default, Some(false));
    }
}
