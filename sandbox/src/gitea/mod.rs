//! gitea API simulator. (Scaffold: only the health route so far.)

use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};

use crate::store::JsonStore;
use crate::SandboxConfig;

/// Service name (fault specs, logs, CLI output).
pub const SERVICE: &str = "gitea";

/// Name of the state file in the state directory.
pub const STATE_FILE: &str = "gitea.json";

/// Everything the simulator stores.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct State {}

/// Cloneable handle on the simulator's state.
pub type Store = JsonStore<State>;

/// Unauthenticated health routes (only subject to latency and down time faults).
pub fn is_health(path: &str) -> bool {
    path == "/healthz"
}

/// The simulator's routes over `store`.
pub fn router(_config: &SandboxConfig, _store: Store) -> Router {
    Router::new().route("/healthz", get(|| async { "OK" }))
}
