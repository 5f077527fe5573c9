//! Ephemeral resources (Terraform >= 1.10, `ephemeral "TYPE" "NAME" {}`): a value made
//! for one run (a short-lived credential) that Terraform never writes to state or plan.
//!
//! Terraform opens an instance in every run that needs its value (plan and apply alike),
//! may renew it at `renew_at`, and closes it when the run no longer needs it. What close and
//! renew need (an id, a token hash) travels in `private`, which Terraform only holds in
//! memory; close and renew get nothing else.

use std::time::SystemTime;

use async_trait::async_trait;

use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::Schema;
use crate::protocol::value::Value;

/// What an open made.
#[derive(Debug)]
pub struct Opened {
    /// The object of the schema's type; attributes the configuration sets are taken from the
    /// configuration whatever this holds (Terraform requires them equal).
    pub result: Value,
    /// Handed to renew and close. Empty means there is nothing to close.
    pub private: Vec<u8>,
    /// When Terraform should call renew, if the value is still in use then.
    pub renew_at: Option<SystemTime>,
}

/// What a renew answers: the next renewal, if any, and the private data from then on.
#[derive(Debug, Default)]
pub struct Renewed {
    pub private: Option<Vec<u8>>,
    pub renew_at: Option<SystemTime>,
}

/// An open that cannot happen in this run.
#[derive(Debug)]
pub enum OpenError {
    /// Values it needs (the provider's service configuration) are known only after apply:
    /// the result is unknown in this plan (or deferred, when Terraform allows deferral).
    NotYetKnown,
    Failed(Diagnostics),
}

impl From<Diagnostics> for OpenError {
    fn from(d: Diagnostics) -> OpenError {
        OpenError::Failed(d)
    }
}

/// One ephemeral resource type.
#[async_trait]
pub trait EphemeralResource<D: Send + Sync>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Cross-attribute checks beyond the per-attribute validators (config may hold unknowns).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Makes the value from a wholly known configuration.
    async fn open(&self, data: &D, config: &Value) -> Result<Opened, OpenError>;
    /// Extends what open made; only called when open (or the last renew) set `renew_at`.
    async fn renew(&self, _data: &D, _private: &[u8]) -> Result<Renewed, Diagnostics> {
        Ok(Renewed::default())
    }
    /// Releases what open made (`private` is never empty here). Something already gone is
    /// not an error.
    async fn close(&self, _data: &D, _private: &[u8]) -> Result<(), Diagnostics> {
        Ok(())
    }
}
