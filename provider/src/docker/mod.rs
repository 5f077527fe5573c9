//! Docker Engine: compose-like services, networks, volumes and images.
//! (Scaffold: the block only so far.)

use std::sync::Arc;

use crate::framework::{DataSource, Resource, StopToken};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Attribute, Block};
use crate::protocol::value::Value;
use crate::provider::{Clients, Slot};

/// The `docker` block of the provider configuration.
pub fn block() -> Block {
    Block::new("Connection to the Docker Engine.")
        .attr(Attribute::string("host").optional().describe(
            "Engine address: `unix:///var/run/docker.sock`, `tcp://host:2376`. Env: `DOCKER_HOST`.",
        ))
        .attr(Attribute::string("cert_path").optional().describe(
            "Directory with `ca.pem`, `cert.pem`, `key.pem` for a TLS engine. Env: `DOCKER_CERT_PATH`.",
        ))
}

/// The Engine client.
#[derive(Clone, Debug)]
pub struct Client {}

/// Builds the client from the block and the environment.
pub fn configure(_config: &Value, _stop: &StopToken, _diags: &mut Diagnostics) -> Slot<Client> {
    Slot::Missing("the docker block is not implemented yet".into())
}

/// The resources of this service.
pub fn resources() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![]
}

/// The data sources of this service.
pub fn data_sources() -> Vec<Arc<dyn DataSource<Clients>>> {
    vec![]
}
