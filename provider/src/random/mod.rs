//! Values the provider generates itself, without calling a service: random passwords and tokens
//! for the platform's bootstrap secrets (Coder's first user, Authentik's `AUTHENTIK_BOOTSTRAP_*`).

pub mod password;

use std::sync::Arc;

use crate::framework::Resource;

/// The resources of this folder, for any provider data (they need no client).
pub fn resources<D: Send + Sync + 'static>() -> Vec<Arc<dyn Resource<D>>> {
    vec![Arc::new(password::PasswordResource)]
}
