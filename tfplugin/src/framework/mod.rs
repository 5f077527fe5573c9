//! A small resource framework on top of the protocol: one trait per kind of
//! object (provider, resource, data source), with the plan rules Terraform
//! enforces implemented once in [`plan`].

pub mod ephemeral;
pub mod equality;
pub mod mapping;
pub mod model;
pub mod plan;
pub mod stop;
pub mod validators;
pub mod write_only;

use std::sync::Arc;

use async_trait::async_trait;

use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::Schema;
use crate::protocol::value::Value;

pub use ephemeral::EphemeralResource;
pub use plan::PlanContext;
pub use stop::{StopSource, StopToken};

/// An apply that failed, possibly after the remote object was created or
/// changed: `partial` is then saved as state so a re-run converges instead of
/// orphaning the object.
#[derive(Debug)]
pub struct ApplyError {
    pub diags: Diagnostics,
    pub partial: Option<Value>,
}

impl ApplyError {
    /// Fails but records `state` (the object exists remotely).
    pub fn with_state(diags: impl Into<Diagnostics>, state: Value) -> ApplyError {
        ApplyError {
            diags: diags.into(),
            partial: Some(state),
        }
    }
}

impl From<Diagnostics> for ApplyError {
    fn from(diags: Diagnostics) -> ApplyError {
        ApplyError {
            diags,
            partial: None,
        }
    }
}

impl From<anyhow::Error> for ApplyError {
    fn from(e: anyhow::Error) -> ApplyError {
        ApplyError::from(Diagnostics::from(e))
    }
}

pub type ApplyResult = Result<Value, ApplyError>;

/// A provider: its configuration schema, how it connects, and what it manages.
/// `Data` is what `configure` builds (API clients) and every operation gets.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    type Data: Send + Sync + 'static;

    fn schema(&self) -> Schema;
    /// Checks a configuration that may still contain unknown values.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Builds the clients; unknown values must not fail (plan goes on).
    async fn configure(&self, config: &Value, stop: StopToken) -> Result<Self::Data, Diagnostics>;
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Data>>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Data>>>;
    /// Ephemeral resources (Terraform >= 1.10); none by default.
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource<Self::Data>>> {
        Vec::new()
    }
}

/// One managed resource type.
#[async_trait]
pub trait Resource<D: Send + Sync>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// Cross-attribute checks beyond the per-attribute validators.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Adjusts a plan after the generic rules ran (e.g. marks values that a
    /// change will recompute as unknown).
    async fn modify_plan(
        &self,
        _data: Option<&D>,
        _ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }

    async fn create(&self, data: &D, plan: &Value) -> ApplyResult;
    /// [`create`](Self::create) given the planned private state (set by `modify_plan`), which
    /// the apply stores with the new state.
    async fn create_private(&self, data: &D, plan: &Value, _private: &[u8]) -> ApplyResult {
        self.create(data, plan).await
    }
    /// [`update`](Self::update) given the planned private state.
    async fn update_private(
        &self,
        data: &D,
        prior: &Value,
        plan: &Value,
        _private: &[u8],
    ) -> ApplyResult {
        self.update(data, prior, plan).await
    }
    /// `Ok(None)`: the object is gone (Terraform plans to create it again).
    async fn read(&self, data: &D, state: &Value) -> Result<Option<Value>, Diagnostics>;
    async fn update(&self, data: &D, prior: &Value, plan: &Value) -> ApplyResult;
    async fn delete(&self, data: &D, state: &Value) -> Result<(), Diagnostics>;

    /// Builds a minimal state from an import id; Terraform reads it next.
    async fn import(&self, _data: &D, _id: &str) -> Result<Value, Diagnostics> {
        Err(Diagnostics::error(
            "Import not supported",
            format!("{} cannot be imported", self.type_name()),
        ))
    }

    /// Upgrades stored state JSON written under an older schema version.
    fn upgrade(
        &self,
        _from_version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        Ok(state)
    }
}

/// One data source type.
#[async_trait]
pub trait DataSource<D: Send + Sync>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn read(&self, data: &D, config: &Value) -> Result<Value, Diagnostics>;
}
