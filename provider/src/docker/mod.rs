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
use webide_tfplugin::service::{ClientOf, Slot};

/// Label on everything webide creates.
pub const MANAGED_LABEL: &str = "webide.managed";
/// Label naming the resource type that created the object.
pub const RESOURCE_LABEL: &str = "webide.resource";
/// Label on a container listing (comma-separated) the env keys that came from `sensitive_env`:
/// keys only, never values, so an import can put them back where they came from.
pub const SENSITIVE_KEYS_LABEL: &str = "webide.sensitive_env_keys";

/// Label naming the environment keys set from the write-only `sensitive_env_wo` (names only):
/// read-back and import leave those keys out, so their values never reach state.
pub const WRITE_ONLY_KEYS_LABEL: &str = "webide.write_only_env_keys";

/// Engine address schemes bollard can connect to (with the features this crate enables).
const HOST_SCHEMES: &[&str] = &["unix://", "tcp://", "http://", "https://"];

/// Checks a Docker Engine address: a scheme the client speaks, and something after it.
pub fn check_host(s: &str) -> Result<(), String> {
    let Some(rest) = HOST_SCHEMES.iter().find_map(|p| s.strip_prefix(p)) else {
        return Err(format!(
            "{s:?} is not a Docker Engine address: use unix:///path/to/docker.sock, tcp://host:port or https://host:port"
        ));
    };
    if rest.is_empty() || rest.chars().any(char::is_whitespace) {
        return Err(format!("{s:?} names no socket path or host"));
    }
    Ok(())
}

/// Validator for `docker.host`.
struct DockerHost;

impl crate::protocol::schema::Validator for DockerHost {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if let Err(e) = check_host(s) {
            diags.push_attr_error(path.clone(), format!("Invalid value for {path}"), e);
        }
    }
    fn description(&self) -> String {
        "a `unix://`, `tcp://`, `http://` or `https://` address".into()
    }
}

/// The `docker` block of the provider configuration.
pub fn block() -> Block {
    Block::new("Connection to the Docker Engine.")
        .attr(Attribute::string("host").optional().validate(DockerHost).describe(
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
pub fn configure(config: &Value, stop: &StopToken, diags: &mut Diagnostics) -> Slot<Client> {
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
    // The attribute is checked at validate; DOCKER_HOST only now.
    if let Err(e) = check_host(&host) {
        diags.push_attr_error(
            AttrPath::root("docker").attr("host"),
            "Invalid Docker Engine address",
            e,
        );
    }
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
            .filter(|(k, _)| {
                ![
                    MANAGED_LABEL,
                    RESOURCE_LABEL,
                    SENSITIVE_KEYS_LABEL,
                    WRITE_ONLY_KEYS_LABEL,
                ]
                .contains(&k.as_str())
            })
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
        // The engine's own message (e.g. a build step's error), not bollard's generic label.
        bollard::errors::Error::DockerStreamError { error }
        | bollard::errors::Error::DockerContainerWaitError { error, .. } => error.clone(),
        other => other.to_string(),
    };
    Diagnostics::error(format!("Docker: could not {what}"), msg)
}

/// The resources of this service.
pub fn resources<D: ClientOf<Client> + 'static>() -> Vec<Arc<dyn Resource<D>>> {
    vec![
        Arc::new(network::NetworkResource),
        Arc::new(volume::VolumeResource),
        Arc::new(image::ImageResource),
        Arc::new(service::ServiceResource),
        Arc::new(exec_step::ExecStepResource),
    ]
}

/// The data sources of this service.
pub fn data_sources<D: ClientOf<Client> + 'static>() -> Vec<Arc<dyn DataSource<D>>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_addresses() {
        for ok in [
            "unix:///var/run/docker.sock",
            "tcp://127.0.0.1:2375",
            "https://docker.example:2376",
        ] {
            assert!(check_host(ok).is_ok(), "{ok}");
        }
        for bad in ["gopher://x", "unix://", "/var/run/docker.sock", "tcp://a b"] {
            assert!(check_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stream_errors_show_the_engine_message() {
        let d = engine_error(
            "build x",
            bollard::errors::Error::DockerStreamError {
                error: "COPY failed: stat missing.txt: file does not exist".into(),
            },
        );
        assert!(d.0[0].detail.contains("missing.txt"), "{:?}", d.0[0]);
    }
}
