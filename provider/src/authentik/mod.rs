//! Authentik (API v3): API client and resources. (Scaffold: connection only so far.)

use std::sync::Arc;

use crate::framework::{DataSource, Resource, StopToken};
use crate::http::ApiClient;
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::Block;
use crate::protocol::value::Value;
use crate::provider::{connect, Clients, ServiceConfig, ServiceSpec, Slot};

/// The provider block and its environment variables.
pub const SPEC: ServiceSpec = ServiceSpec {
    block: "authentik",
    url_env: &["AUTHENTIK_URL"],
    secret_attr: "token",
    secret_env: &["AUTHENTIK_TOKEN"],
};

/// The `authentik` block of the provider configuration.
pub fn block() -> Block {
    SPEC.block("API token (Directory > Tokens, intent API).")
}

/// Builds the client from the block and the environment.
pub fn configure(config: &Value, stop: &StopToken, diags: &mut Diagnostics) -> Slot<Client> {
    connect(&SPEC, config, diags, |c| Client::new(c, stop.clone()))
}

/// The API client.
#[derive(Clone, Debug)]
pub struct Client {
    api: ApiClient,
}

impl Client {
    pub fn new(c: &ServiceConfig, stop: StopToken) -> anyhow::Result<Client> {
        let api = ApiClient::new(
            "authentik",
            &c.url,
            &[("Authorization", format!("Bearer {}", c.secret))],
            &c.tls,
            stop,
        )?;
        Ok(Client { api })
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }
}

/// The resources of this service.
pub fn resources() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![]
}

/// The data sources of this service.
pub fn data_sources() -> Vec<Arc<dyn DataSource<Clients>>> {
    vec![]
}
