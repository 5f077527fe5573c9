//! Docker Engine (through bollard): compose-like services, networks, volumes, images and
//! steps run inside containers (exec).
//! Every object gets the label `webide.managed=true` plus `webide.resource=<type>`, so what
//! webide made can always be found (and checked for leftovers).

pub mod exec;
pub mod exec_step;
pub mod image;
pub mod network;
pub mod service;
pub mod volume;

use std::collections::HashMap;
use std::sync::Arc;

use bollard::Docker;

use crate::framework::{DataSource, Resource, StopToken};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block};
use crate::protocol::value::Value;
use crate::provider::{Clients, Slot};

/// Label on everything webide creates.
pub const MANAGED_LABEL: &str = "webide.managed";
/// Label naming the resource type that created the object.
pub const RESOURCE_LABEL: &str = "webide.resource";

/// The `docker` block of the provider configuration.
pub fn block() -> Block {
    Block::new("Connection to the Docker Engine.")
        .attr(Attribute::string("host").optional().describe(
            "Engine address: `unix:///var/run/docker.sock` (default), `tcp://host:2375`, or `tcp://host:2376` with `cert_path`. Env: `DOCKER_HOST`.",
        ))
        .attr(Attribute::string("cert_path").optional().describe(
            "Directory with `ca.pem`, `cert.pem`, `key.pem` for a TLS engine. Env: `DOCKER_CERT_PATH`.",
        ))
}

/// The Engine client (connects lazily: planning works without an engine).
#[derive(Clone, Debug)]
pub struct Client {
    host: String,
    cert_path: Option<String>,
    docker: Arc<tokio::sync::OnceCell<Docker>>,
    stop: StopToken,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Builds the client from the block and the environment.
pub fn configure(config: &Value, stop: &StopToken, _diags: &mut Diagnostics) -> Slot<Client> {
    let b = config.get("docker");
    if b.is_unknown() || b.get("host").is_unknown() || b.get("cert_path").is_unknown() {
        return Slot::Pending;
    }
    let host = b
        .get("host")
        .as_str()
        .map(str::to_string)
        .or_else(|| env("DOCKER_HOST"))
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
    let cert_path = b
        .get("cert_path")
        .as_str()
        .map(str::to_string)
        .or_else(|| env("DOCKER_CERT_PATH"));
    Slot::Ready(Client {
        host,
        cert_path,
        docker: Arc::new(tokio::sync::OnceCell::new()),
        stop: stop.clone(),
    })
}

impl Client {
    /// The connected engine (API version negotiated once).
    pub async fn engine(&self) -> Result<&Docker, Diagnostics> {
        self.docker
            .get_or_try_init(|| async {
                let unreachable = |e: String| {
                    Diagnostics::attr_error(
                        AttrPath::root("docker").attr("host"),
                        "Docker Engine unreachable",
                        format!("{}: {e}", self.host),
                    )
                };
                let version = bollard::API_DEFAULT_VERSION;
                let docker = if let Some(path) = self.host.strip_prefix("unix://") {
                    Docker::connect_with_unix(path, 120, version)
                } else if let Some(dir) = &self.cert_path {
                    let p = std::path::Path::new(dir);
                    Docker::connect_with_ssl(
                        &self.host,
                        &p.join("key.pem"),
                        &p.join("cert.pem"),
                        &p.join("ca.pem"),
                        120,
                        version,
                    )
                } else {
                    Docker::connect_with_http(&self.host, 120, version)
                }
                .map_err(|e| unreachable(e.to_string()))?;
                let docker = docker
                    .negotiate_version()
                    .await
                    .map_err(|e| unreachable(e.to_string()))?;
                Ok(docker)
            })
            .await
    }

    pub fn stop(&self) -> &StopToken {
        &self.stop
    }
}

/// Labels for an object made by resource `rtype`: the user's plus ours.
pub(crate) fn labels(user: &Value, rtype: &str) -> HashMap<String, String> {
    let mut l: HashMap<String, String> = user.string_entries().into_iter().collect();
    l.insert(MANAGED_LABEL.into(), "true".into());
    l.insert(RESOURCE_LABEL.into(), rtype.into());
    l
}

/// The user's labels of an object (ours removed).
pub(crate) fn user_labels(l: Option<&HashMap<String, String>>) -> Value {
    Value::string_map(
        l.into_iter()
            .flatten()
            .filter(|(k, _)| k.as_str() != MANAGED_LABEL && k.as_str() != RESOURCE_LABEL)
            .map(|(k, v)| (k.clone(), v.clone())),
    )
}

/// Whether a bollard error is a 404.
pub(crate) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// A diagnostic for a failed Engine call.
pub(crate) fn engine_error(what: &str, e: bollard::errors::Error) -> Diagnostics {
    let msg = match &e {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => {
            format!("{message} (HTTP {status_code})")
        }
        other => other.to_string(),
    };
    Diagnostics::error(format!("Docker: could not {what}"), msg)
}

/// The resources of this service.
pub fn resources() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![
        Arc::new(network::NetworkResource),
        Arc::new(volume::VolumeResource),
        Arc::new(image::ImageResource),
        Arc::new(service::ServiceResource),
        Arc::new(exec_step::ExecStepResource),
    ]
}

/// The data sources of this service.
pub fn data_sources() -> Vec<Arc<dyn DataSource<Clients>>> {
    vec![]
}

/// Marks every changed configurable attribute of a plan as forcing replacement.
pub(crate) fn replace_on_change(ctx: &mut crate::framework::PlanContext<'_>, attrs: &[&str]) {
    if ctx.is_create() {
        return;
    }
    for a in attrs {
        if ctx.changed(a) {
            ctx.require_replace(a);
        }
    }
}
