//! `webide_compose_network`: a Docker network (the seeds' `coder-network`).

use async_trait::async_trait;
use bollard::network::CreateNetworkOptions;

use super::{engine_error, is_not_found, labels, replace_on_change, user_labels};
use crate::framework::validators::NonEmpty;
use crate::framework::{ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use webide_tfplugin::service::ClientOf;

use super::Client;

pub struct NetworkResource;

const CONFIG: &[&str] = &["name", "driver", "internal", "labels"];

fn state_from(base: &Value, n: &bollard::models::Network) -> Value {
    let mut s = base.clone();
    s.set("id", Value::opt_string(n.id.clone()));
    s.set("name", Value::opt_string(n.name.clone()));
    s.set("driver", Value::opt_string(n.driver.clone()));
    s.set("internal", Value::Bool(n.internal.unwrap_or(false)));
    s.set("labels", user_labels(n.labels.as_ref()));
    s
}

#[async_trait]
impl<D: ClientOf<Client>> Resource<D> for NetworkResource {
    fn type_name(&self) -> &'static str {
        "webide_compose_network"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("A Docker network. Containers on it reach each other by name (and alias). Any change replaces it.")
                .attr(Attribute::string("id").computed().use_state_for_unknown().describe("Network id."))
                .attr(Attribute::string("name").required().validate(NonEmpty).describe("Network name. Import id."))
                .attr(Attribute::string("driver").default("bridge").describe("Network driver."))
                .attr(Attribute::bool("internal").default(false).describe("No route to the outside."))
                .attr(Attribute::string_map("labels").default(Value::Map(Default::default())).describe("Labels (webide adds `webide.managed=true`).")),
        )
    }

    async fn modify_plan(
        &self,
        _d: Option<&D>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        replace_on_change(ctx, CONFIG);
        Ok(())
    }

    async fn create(&self, data: &D, plan: &Value) -> ApplyResult {
        let d = data.client()?.engine().await?;
        let name = plan.get("name").as_str().unwrap_or_default().to_string();
        d.create_network(CreateNetworkOptions {
            name: name.clone(),
            driver: plan.get("driver").as_str().unwrap_or("bridge").to_string(),
            internal: plan.get("internal").as_bool().unwrap_or(false),
            labels: labels(plan.get("labels"), Resource::<D>::type_name(self)),
            check_duplicate: true,
            ..Default::default()
        })
        .await
        .map_err(|e| engine_error(&format!("create network {name}"), e))?;
        let n = d
            .inspect_network::<String>(&name, None)
            .await
            .map_err(|e| engine_error("inspect the new network", e))?;
        Ok(state_from(plan, &n))
    }

    async fn read(&self, data: &D, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let d = data.client()?.engine().await?;
        let key = state
            .get("id")
            .as_str()
            .or(state.get("name").as_str())
            .unwrap_or_default();
        match d.inspect_network::<String>(key, None).await {
            Ok(n) => Ok(Some(state_from(state, &n))),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(engine_error("inspect network", e)),
        }
    }

    async fn update(&self, data: &D, _prior: &Value, plan: &Value) -> ApplyResult {
        // Every configurable attribute forces replacement; nothing to do in place.
        self.read(data, plan)
            .await?
            .ok_or_else(|| Diagnostics::error("Network vanished", "re-run apply").into())
    }

    async fn delete(&self, data: &D, state: &Value) -> Result<(), Diagnostics> {
        let d = data.client()?.engine().await?;
        let key = state
            .get("id")
            .as_str()
            .or(state.get("name").as_str())
            .unwrap_or_default();
        match d.remove_network(key).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(engine_error("remove network", e)),
        }
    }

    async fn import(&self, data: &D, id: &str) -> Result<Value, Diagnostics> {
        let mut base = Resource::<D>::schema(self).block.null_object();
        base.set("name", Value::string(id.trim()));
        self.read(data, &base)
            .await?
            .ok_or_else(|| Diagnostics::error("Network not found", format!("no network {id:?}")))
    }
}
