//! `webide_compose_volume`: a named Docker volume (data that outlives containers).

use async_trait::async_trait;
use bollard::volume::CreateVolumeOptions;

use super::{engine_error, is_not_found, labels, replace_on_change, user_labels};
use crate::framework::validators::NonEmpty;
use crate::framework::{ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::value::Value;
use webide_tfplugin::service::ClientOf;

use super::Client;

pub struct VolumeResource;

const CONFIG: &[&str] = &["name", "driver", "labels"];

fn state_from(base: &Value, v: &bollard::models::Volume) -> Value {
    let mut s = base.clone();
    s.set("name", Value::string(v.name.clone()));
    s.set("driver", Value::string(v.driver.clone()));
    s.set("mountpoint", Value::string(v.mountpoint.clone()));
    s.set("labels", user_labels(Some(&v.labels)));
    s
}

#[async_trait]
impl<D: ClientOf<Client>> Resource<D> for VolumeResource {
    fn type_name(&self) -> &'static str {
        "webide_compose_volume"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("A named Docker volume. Data in it survives replacing the containers that mount it; add `lifecycle { prevent_destroy = true }` to protect it. Any change replaces it.")
                .attr(Attribute::string("name").required().validate(NonEmpty).describe("Volume name. Import id."))
                .attr(Attribute::string("driver").default("local").describe("Volume driver."))
                .attr(Attribute::string_map("labels").default(Value::Map(Default::default())).describe("Labels (webide adds `webide.managed=true`)."))
                .attr(Attribute::string("mountpoint").computed().use_state_for_unknown().describe("Where the data lives on the host.")),
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
        let v = d
            .create_volume(CreateVolumeOptions {
                name: name.clone(),
                driver: plan.get("driver").as_str().unwrap_or("local").to_string(),
                labels: labels(plan.get("labels"), Resource::<D>::type_name(self)),
                ..Default::default()
            })
            .await
            .map_err(|e| engine_error(&format!("create volume {name}"), e))?;
        Ok(state_from(plan, &v))
    }

    async fn read(&self, data: &D, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let d = data.client()?.engine().await?;
        match d
            .inspect_volume(state.get("name").as_str().unwrap_or_default())
            .await
        {
            Ok(v) => Ok(Some(state_from(state, &v))),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(engine_error("inspect volume", e)),
        }
    }

    async fn update(&self, data: &D, _prior: &Value, plan: &Value) -> ApplyResult {
        self.read(data, plan)
            .await?
            .ok_or_else(|| Diagnostics::error("Volume vanished", "re-run apply").into())
    }

    async fn delete(&self, data: &D, state: &Value) -> Result<(), Diagnostics> {
        let d = data.client()?.engine().await?;
        match d
            .remove_volume(state.get("name").as_str().unwrap_or_default(), None)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(engine_error(
                "remove volume (is a container still using it?)",
                e,
            )),
        }
    }

    async fn import(&self, data: &D, id: &str) -> Result<Value, Diagnostics> {
        let mut base = Resource::<D>::schema(self).block.null_object();
        base.set("name", Value::string(id.trim()));
        self.read(data, &base)
            .await?
            .ok_or_else(|| Diagnostics::error("Volume not found", format!("no volume {id:?}")))
    }
}
