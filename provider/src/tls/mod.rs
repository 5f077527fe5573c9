//! Objects the provider makes itself, without calling a service: TLS certificates for the
//! platform's HTTPS endpoints.

pub mod certificate;

use std::sync::Arc;

use crate::framework::Resource;

/// The resources of this folder, for any provider data (they need no client).
pub fn resources<D: Send + Sync + 'static>() -> Vec<Arc<dyn Resource<D>>> {
    vec![Arc::new(certificate::CertificateResource)]
}
