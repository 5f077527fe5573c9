//! `webide_compose_service`: one container of a compose-like service. Any configuration change
//! replaces the container (the seeds' "use `up -d`, not `restart`" lesson, automatic);
//! `wait_healthy` makes dependents see a ready service, so startup order follows references.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bollard::container::{
    Config, CreateContainerOptions, LogsOptions, RemoveContainerOptions, StartContainerOptions,
};
use bollard::models::{
    EndpointSettings, HealthConfig, HostConfig, Mount, MountTypeEnum, PortBinding, RestartPolicy,
    RestartPolicyNameEnum,
};
use bollard::network::ConnectNetworkOptions;
use futures_util::StreamExt;

use super::{engine_error, is_not_found, labels, Client};
use crate::framework::validators::{parse_duration, Duration as DurationV, NonEmpty, OneOf, Range};
use crate::framework::{ApplyError, ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Nesting, Schema};
use crate::protocol::value::Value;
use webide_tfplugin::service::ClientOf;

pub struct ServiceResource;

fn secs(v: &Value, default: &str) -> i64 {
    parse_duration(v.as_str().unwrap_or(default)).unwrap_or(0) as i64
}

fn strings(v: &Value) -> Option<Vec<String>> {
    (!v.is_null()).then(|| v.string_elements())
}

fn container_config(plan: &Value, rtype: &str) -> Config<String> {
    let mut env: Vec<String> = plan
        .get("env")
        .string_entries()
        .into_iter()
        .chain(plan.get("sensitive_env").string_entries())
        .chain(plan.get("sensitive_env_wo").string_entries())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    env.sort();
    let mut exposed = HashMap::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in plan.get("port").elements() {
        let key = format!(
            "{}/{}",
            p.get("internal").as_i64().unwrap_or_default(),
            p.get("protocol").as_str().unwrap_or("tcp")
        );
        exposed.insert(key.clone(), HashMap::new());
        if let Some(ext) = p.get("external").as_i64() {
            bindings
                .entry(key)
                .or_insert_with(|| Some(vec![]))
                .as_mut()
                .unwrap()
                .push(PortBinding {
                    host_ip: Some(p.get("host_ip").as_str().unwrap_or("0.0.0.0").to_string()),
                    host_port: Some(ext.to_string()),
                });
        }
    }
    let mounts: Vec<Mount> = plan
        .get("mount")
        .elements()
        .iter()
        .map(|m| Mount {
            source: m.get("source").as_str().map(str::to_string),
            target: m.get("target").as_str().map(str::to_string),
            typ: Some(if m.get("type").as_str() == Some("bind") {
                MountTypeEnum::BIND
            } else {
                MountTypeEnum::VOLUME
            }),
            read_only: m.get("read_only").as_bool(),
            ..Default::default()
        })
        .collect();
    let healthcheck = plan.get("healthcheck").elements().first().map(|h| {
        let ns = |attr: &str, d: &str| secs(h.get(attr), d) * 1_000_000_000;
        let mut test = vec!["CMD".to_string()];
        test.extend(h.get("test").string_elements());
        HealthConfig {
            test: Some(test),
            interval: Some(ns("interval", "2s")),
            timeout: Some(ns("timeout", "2s")),
            retries: Some(h.get("retries").as_i64().unwrap_or(10)),
            start_period: Some(ns("start_period", "0s")),
            ..Default::default()
        }
    });
    let networks = plan.get("network").elements();
    let first = networks.first();
    let restart = match plan.get("restart").as_str().unwrap_or("unless-stopped") {
        "always" => RestartPolicyNameEnum::ALWAYS,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        "no" => RestartPolicyNameEnum::NO,
        _ => RestartPolicyNameEnum::UNLESS_STOPPED,
    };
    Config {
        image: plan.get("image").as_str().map(str::to_string),
        cmd: strings(plan.get("command")),
        entrypoint: strings(plan.get("entrypoint")),
        env: Some(env),
        labels: Some({
            let mut l = labels(plan.get("labels"), rtype);
            let keys: Vec<String> = plan
                .get("sensitive_env")
                .string_entries()
                .into_keys()
                .collect();
            l.insert(super::SENSITIVE_KEYS_LABEL.into(), keys.join(","));
            let wo: Vec<String> = plan
                .get("sensitive_env_wo")
                .string_entries()
                .into_keys()
                .collect();
            if !wo.is_empty() {
                l.insert(super::WRITE_ONLY_KEYS_LABEL.into(), wo.join(","));
            }
            l
        }),
        user: plan.get("user").as_str().map(str::to_string),
        working_dir: plan.get("working_dir").as_str().map(str::to_string),
        exposed_ports: Some(exposed),
        healthcheck,
        host_config: Some(HostConfig {
            port_bindings: Some(bindings),
            mounts: Some(mounts),
            extra_hosts: strings(plan.get("extra_hosts")),
            group_add: strings(plan.get("group_add")),
            restart_policy: Some(RestartPolicy {
                name: Some(restart),
                maximum_retry_count: None,
            }),
            network_mode: first
                .and_then(|n| n.get("name").as_str())
                .map(str::to_string),
            ..Default::default()
        }),
        networking_config: first.map(|n| bollard::container::NetworkingConfig {
            endpoints_config: [(
                n.get("name").as_str().unwrap_or_default().to_string(),
                EndpointSettings {
                    aliases: strings(n.get("aliases")),
                    ..Default::default()
                },
            )]
            .into(),
        }),
        ..Default::default()
    }
}

/// The last lines of the container's output.
async fn logs_tail(d: &bollard::Docker, id: &str) -> String {
    let mut s = d.logs::<String>(
        id,
        Some(LogsOptions {
            stdout: true,
            stderr: true,
            tail: "30".into(),
            ..Default::default()
        }),
    );
    let mut out = String::new();
    while let Some(Ok(chunk)) = s.next().await {
        out.push_str(&chunk.to_string());
    }
    out
}

/// What the image contributes to a container's configuration, so it is not taken for the
/// user's own settings (`docker inspect` shows the merged result).
#[derive(Default)]
struct ImageDefaults {
    env: Vec<String>,
    cmd: Option<Vec<String>>,
    entrypoint: Option<Vec<String>>,
}

/// The defaults of the image a container runs (none when the image is gone).
async fn image_defaults(
    d: &bollard::Docker,
    c: &bollard::models::ContainerInspectResponse,
) -> ImageDefaults {
    let Some(img) = c.image.as_deref() else {
        return ImageDefaults::default();
    };
    match d.inspect_image(img).await.ok().and_then(|i| i.config) {
        Some(cfg) => ImageDefaults {
            env: cfg.env.unwrap_or_default(),
            cmd: cfg.cmd,
            entrypoint: cfg.entrypoint,
        },
        None => ImageDefaults::default(),
    }
}

/// The daemon's default `PATH`, added to every container whose image sets none.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The container's settings as `docker inspect` shows them, in the schema's terms.
struct Observed {
    /// Every `KEY=value` of the container.
    env_all: HashMap<String, String>,
    /// The entries the image (or the daemon's default PATH) did not put there.
    env_own: Vec<(String, String)>,
    /// Keys that came from `sensitive_env` (our label), if the container has the label.
    sensitive_keys: Option<Vec<String>>,
    /// Keys that came from the write-only `sensitive_env_wo` (our label): never read back.
    write_only_keys: Vec<String>,
    cmd: Option<Vec<String>>,
    entrypoint: Option<Vec<String>>,
    /// Networks joined, without the default bridge a container without networks gets.
    networks: Vec<String>,
    /// Published ports as `port` blocks (unset values null, as a configuration leaves them).
    ports: Vec<Value>,
    mounts: Vec<Value>,
    extra_hosts: Vec<String>,
    group_add: Vec<String>,
    restart: String,
}

impl Observed {
    fn of(c: &bollard::models::ContainerInspectResponse, image: &ImageDefaults) -> Observed {
        let cfg = c.config.clone().unwrap_or_default();
        let hc = c.host_config.clone().unwrap_or_default();
        let pairs: Vec<String> = cfg.env.clone().unwrap_or_default();
        let split = |kv: &String| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        };
        let env_all = pairs.iter().filter_map(split).collect();
        let env_own = pairs
            .iter()
            .filter(|kv| !image.env.contains(kv) && kv.as_str() != DEFAULT_PATH)
            .filter_map(split)
            .collect();
        let keys = |label: &str| {
            cfg.labels.as_ref().and_then(|l| l.get(label)).map(|v| {
                v.split(',')
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
        };
        let sensitive_keys = keys(super::SENSITIVE_KEYS_LABEL);
        let write_only_keys = keys(super::WRITE_ONLY_KEYS_LABEL).unwrap_or_default();
        let default_mode = matches!(
            hc.network_mode.as_deref(),
            None | Some("default") | Some("bridge")
        );
        let mut networks: Vec<String> = c
            .network_settings
            .as_ref()
            .and_then(|n| n.networks.as_ref())
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        networks.retain(|n| !(default_mode && n == "bridge"));
        networks.sort();
        let mut ports = Vec::new();
        let mut bindings: Vec<_> = hc
            .port_bindings
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        bindings.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, binds) in bindings {
            let (internal, proto) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
            for b in binds.unwrap_or_default() {
                ports.push(obj(vec![
                    (
                        "internal",
                        internal
                            .parse::<i64>()
                            .map(Value::int)
                            .unwrap_or(Value::Null),
                    ),
                    (
                        "external",
                        b.host_port
                            .and_then(|p| p.parse::<i64>().ok())
                            .map(Value::int)
                            .unwrap_or(Value::Null),
                    ),
                    (
                        "protocol",
                        if proto == "tcp" {
                            Value::Null
                        } else {
                            Value::string(proto)
                        },
                    ),
                    (
                        "host_ip",
                        b.host_ip
                            .filter(|h| !h.is_empty() && h != "0.0.0.0")
                            .map(Value::string)
                            .unwrap_or(Value::Null),
                    ),
                ]));
            }
        }
        let mounts = hc
            .mounts
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let bind = m.typ == Some(MountTypeEnum::BIND);
                obj(vec![
                    ("source", Value::opt_string(m.source)),
                    ("target", Value::opt_string(m.target)),
                    (
                        "type",
                        if bind {
                            Value::string("bind")
                        } else {
                            Value::Null
                        },
                    ),
                    (
                        "read_only",
                        if m.read_only == Some(true) {
                            Value::Bool(true)
                        } else {
                            Value::Null
                        },
                    ),
                ])
            })
            .collect();
        let restart = hc
            .restart_policy
            .and_then(|r| r.name)
            .map(|n| n.to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "no".into());
        Observed {
            env_all,
            env_own,
            sensitive_keys,
            write_only_keys,
            cmd: cfg.cmd,
            entrypoint: cfg.entrypoint,
            networks,
            ports,
            mounts,
            extra_hosts: hc.extra_hosts.unwrap_or_default(),
            group_add: hc.group_add.unwrap_or_default(),
            restart,
        }
    }
}

/// A published port as a comparable key (defaults filled in); None for an unpublished one.
fn port_key(p: &Value) -> Option<(i64, String, i64, String)> {
    Some((
        p.get("internal").as_i64()?,
        p.get("protocol").as_str().unwrap_or("tcp").to_string(),
        p.get("external").as_i64()?,
        p.get("host_ip").as_str().unwrap_or("0.0.0.0").to_string(),
    ))
}

/// A mount as a comparable key (defaults filled in).
fn mount_key(m: &Value) -> (String, String, bool, bool) {
    (
        m.get("source").as_str().unwrap_or_default().to_string(),
        m.get("target").as_str().unwrap_or_default().to_string(),
        m.get("type").as_str() == Some("bind"),
        m.get("read_only").as_bool() == Some(true),
    )
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// Computed attributes and drift from `docker inspect`: every managed attribute that a
/// container can differ in is compared with `base` (defaults filled in) and replaced by what
/// the engine reports when they differ, so `plan` shows it and `apply` heals it.
fn state_from(
    base: &Value,
    c: &bollard::models::ContainerInspectResponse,
    image: &ImageDefaults,
) -> Value {
    let mut s = base.clone();
    let seen = Observed::of(c, image);
    s.set("id", Value::opt_string(c.id.clone()));
    s.set("image_id", Value::opt_string(c.image.clone()));
    let state = c.state.as_ref();
    s.set(
        "running",
        Value::Bool(state.and_then(|st| st.running).unwrap_or(false)),
    );
    s.set(
        "health_status",
        Value::string(
            state
                .and_then(|st| st.health.as_ref())
                .and_then(|h| h.status)
                .map(|h| h.to_string())
                .unwrap_or_else(|| "none".into()),
        ),
    );
    let ips: Vec<(String, String)> = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.ip_address.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    s.set("ip_addresses", Value::string_map(ips));
    // Environment: the configured keys' values as the container has them (a removed key
    // drops out); keys added by hand go to `sensitive_env`, so their values never print.
    let configured: Vec<String> = ["env", "sensitive_env"]
        .iter()
        .flat_map(|a| base.get(a).string_entries().into_keys())
        .collect();
    for attr in ["env", "sensitive_env"] {
        let cur = base.get(attr);
        if cur.is_null() {
            continue;
        }
        let entries: Vec<(String, String)> = cur
            .string_entries()
            .into_keys()
            .filter_map(|k| seen.env_all.get(&k).map(|v| (k, v.clone())))
            .collect();
        s.set(attr, Value::string_map(entries));
    }
    // Keys from `sensitive_env_wo` are not compared: their values must not reach state.
    let extra: Vec<(String, String)> = seen
        .env_own
        .iter()
        .filter(|(k, _)| !configured.contains(k) && !seen.write_only_keys.contains(k))
        .cloned()
        .collect();
    if !extra.is_empty() {
        let mut m = s.get("sensitive_env").string_entries();
        m.extend(extra);
        s.set("sensitive_env", Value::string_map(m));
    }
    if let Some(img) = c.config.as_ref().and_then(|cfg| cfg.image.clone()) {
        if base.get("image").as_str() != Some(img.as_str()) && !img.starts_with("sha256:") {
            s.set("image", Value::string(img));
        }
    }
    // Command and entrypoint: what the container runs vs. what the configuration (or, when
    // unset, the image) gives. An entrypoint set without a command clears the image's command.
    let list = |v: &Value| (!v.is_null()).then(|| v.string_elements());
    let want_entry = list(base.get("entrypoint")).or_else(|| image.entrypoint.clone());
    let want_cmd = list(base.get("command")).or_else(|| {
        if base.get("entrypoint").is_null() {
            image.cmd.clone()
        } else {
            None
        }
    });
    let norm = |v: &Option<Vec<String>>| v.clone().filter(|x| !x.is_empty());
    if norm(&seen.cmd) != norm(&want_cmd) {
        s.set(
            "command",
            seen.cmd
                .clone()
                .map(Value::string_list)
                .unwrap_or(Value::Null),
        );
    }
    if norm(&seen.entrypoint) != norm(&want_entry) {
        s.set(
            "entrypoint",
            seen.entrypoint
                .clone()
                .map(Value::string_list)
                .unwrap_or(Value::Null),
        );
    }
    // Networks (a container disconnected by hand, or connected to another one).
    let want_nets: Vec<String> = sorted(
        base.get("network")
            .elements()
            .iter()
            .filter_map(|n| n.get("name").as_str().map(str::to_string))
            .collect(),
    );
    if want_nets != seen.networks {
        let kept: Vec<Value> = base
            .get("network")
            .elements()
            .iter()
            .filter(|n| {
                n.get("name")
                    .as_str()
                    .is_some_and(|x| seen.networks.iter().any(|y| y == x))
            })
            .cloned()
            .collect();
        let mut nets = kept.clone();
        for n in &seen.networks {
            if !kept.iter().any(|k| k.get("name").as_str() == Some(n)) {
                nets.push(obj(vec![
                    ("name", Value::string(n)),
                    ("aliases", Value::Null),
                ]));
            }
        }
        s.set("network", Value::List(nets));
    }
    // Published ports (unpublished `port` blocks only expose a port: not compared).
    let want_ports = sorted(
        base.get("port")
            .elements()
            .iter()
            .filter_map(port_key)
            .collect(),
    );
    let seen_ports = sorted(seen.ports.iter().filter_map(port_key).collect());
    if want_ports != seen_ports {
        let mut ports: Vec<Value> = base
            .get("port")
            .elements()
            .iter()
            .filter(|p| port_key(p).is_none())
            .cloned()
            .collect();
        ports.extend(seen.ports.iter().cloned());
        s.set("port", Value::List(ports));
    }
    let want_mounts = sorted(base.get("mount").elements().iter().map(mount_key).collect());
    if want_mounts != sorted(seen.mounts.iter().map(mount_key).collect()) {
        s.set("mount", Value::List(seen.mounts.clone()));
    }
    if base.get("extra_hosts").string_elements() != seen.extra_hosts {
        s.set("extra_hosts", Value::string_list(seen.extra_hosts.clone()));
    }
    if base.get("group_add").string_elements() != seen.group_add {
        s.set("group_add", Value::string_list(seen.group_add.clone()));
    }
    if base.get("restart").as_str().unwrap_or("unless-stopped") != seen.restart {
        s.set("restart", Value::string(&seen.restart));
    }
    s
}

/// Whether `env` and `sensitive_env` of `a` and `b` hold the same entries, only split
/// differently (after an import, which cannot know which keys were secret).
fn same_env(a: &Value, b: &Value) -> bool {
    let merged = |v: &Value| {
        let mut m = v.get("env").string_entries();
        for (k, x) in v.get("sensitive_env").string_entries() {
            if m.insert(k, x).is_some() {
                return None;
            }
        }
        Some(m)
    };
    let (ma, mb) = (merged(a), merged(b));
    ma.is_some() && ma == mb
}

impl ServiceResource {
    /// Waits until the container's health check reports healthy (or it has none).
    async fn wait_healthy(
        &self,
        c: &Client,
        id: &str,
        timeout: Duration,
    ) -> Result<(), Diagnostics> {
        let d = c.engine().await?;
        let started = Instant::now();
        loop {
            let info = d
                .inspect_container(id, None)
                .await
                .map_err(|e| engine_error("inspect container", e))?;
            let st = info.state.as_ref();
            let health = st
                .and_then(|s| s.health.as_ref())
                .and_then(|h| h.status)
                .map(|h| h.to_string());
            match health.as_deref() {
                Some("healthy") | None => return Ok(()),
                _ => {}
            }
            if st.and_then(|s| s.running) == Some(false) || started.elapsed() > timeout {
                let why = if st.and_then(|s| s.running) == Some(false) {
                    "exited"
                } else {
                    "did not become healthy"
                };
                return Err(Diagnostics::attr_error(
                    AttrPath::root("healthcheck"),
                    format!("Container {why}"),
                    format!(
                        "within {timeout:?}; last output:\n{}",
                        logs_tail(d, id).await
                    ),
                ));
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = c.stop().stopped() => return Err(Diagnostics::error("Interrupted", "stopped while waiting for the container to become healthy")),
            }
        }
    }
}

fn port_block() -> Block {
    Block::new("A published port.")
        .attr(
            Attribute::number("internal")
                .requires_replace()
                .required()
                .validate(Range {
                    min: 1.0,
                    max: Some(65535.0),
                })
                .describe("Container port."),
        )
        .attr(
            Attribute::number("external")
                .requires_replace()
                .optional()
                .validate(Range {
                    min: 1.0,
                    max: Some(65535.0),
                })
                .describe("Host port (null: not published)."),
        )
        .attr(
            Attribute::string("protocol")
                .requires_replace()
                .optional()
                .validate(OneOf(&["tcp", "udp"]))
                .describe("`tcp` (default) or `udp`."),
        )
        .attr(
            Attribute::string("host_ip")
                .requires_replace()
                .optional()
                .describe("Host address to bind (default `0.0.0.0`)."),
        )
}

#[async_trait]
impl<D: ClientOf<Client>> Resource<D> for ServiceResource {
    fn type_name(&self) -> &'static str {
        "webide_compose_service"
    }

    fn schema(&self) -> Schema {
        let empty_map = || Value::Map(Default::default());
        let block = Block::new("One container of a compose-like service. Any configuration change replaces the container (so env changes always apply); with a health check and `wait_healthy`, apply returns only once it is healthy, so services that reference it start after it. `plan` shows a container stopped or removed by hand, and one whose image, command, entrypoint, environment (keys added by hand appear under `sensitive_env`), networks (joined or left with `docker network connect`/`disconnect`), published ports, mounts, `extra_hosts`, `group_add` or restart policy differ. Not detectable (only set at create): `labels`, `user`, `working_dir`, `healthcheck` settings, network `aliases`, and `port` blocks without `external` (exposed, not published). Import id: the container name; env keys of a container webide did not create are imported into `sensitive_env`.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().describe("Container id."))
            .attr(Attribute::string("name").requires_replace().required().validate(NonEmpty).describe("Container name. Import id."))
            .attr(Attribute::string("image").requires_replace().required().validate(NonEmpty).describe("Image reference or id (e.g. `webide_compose_image.x.image_id`)."))
            .attr(Attribute::string_list("command").requires_replace().optional().describe("Command (arguments to the entrypoint)."))
            .attr(Attribute::string_list("entrypoint").requires_replace().optional().describe("Entrypoint."))
            .attr(Attribute::string_map("env").requires_replace().default(empty_map()).describe("Environment."))
            .attr(Attribute::string_map("sensitive_env").requires_replace().optional().sensitive().describe("Environment with secret values: hidden in plans, but kept in state (marked sensitive). On Terraform >= 1.11 use `sensitive_env_wo` instead, which never reaches plan or state; on older Terraform use this."))
            .attr(Attribute::string_map("sensitive_env_wo").optional().sensitive().write_only().describe("Write-only environment with secret values (Terraform >= 1.11): set when the container is created, never stored in plan or state. Preferred over `sensitive_env` on Terraform >= 1.11 (older Terraform refuses it at validate: use `sensitive_env`); a key may not be in both. Its values are not compared, so changing them needs a new `sensitive_env_wo_version`; its keys (names only) are kept in a container label and never read back as drift."))
            .attr(Attribute::number("sensitive_env_wo_version").requires_replace().optional().describe("Any number, kept in state: changing it re-creates the container with the current `sensitive_env_wo` values."))
            .attr(Attribute::string_map("labels").requires_replace().default(empty_map()).describe("Labels (webide adds `webide.managed=true`)."))
            .attr(Attribute::string("user").requires_replace().optional().describe("User (and group) to run as."))
            .attr(Attribute::string("working_dir").requires_replace().optional().describe("Working directory."))
            .attr(Attribute::string("restart").requires_replace().default("unless-stopped").validate(OneOf(&["no", "always", "unless-stopped", "on-failure"])).describe("Restart policy."))
            .attr(Attribute::string_list("extra_hosts").requires_replace().default(Value::List(vec![])).describe("Extra /etc/hosts entries, e.g. `host.docker.internal:host-gateway` (the seeds' Linux fix)."))
            .attr(Attribute::string_list("group_add").requires_replace().default(Value::List(vec![])).describe("Supplementary groups (names or numeric ids) the container's processes get besides the user's own, e.g. the group owning a mounted Docker socket (`stat -c %g /var/run/docker.sock`) so Coder's provisioner can start workspaces. Read back: a difference is drift; a change replaces the container."))
            .attr(Attribute::bool("running").default(true).describe("Keep the container running; a container stopped by hand shows in plan and is started again in place."))
            .attr(Attribute::bool("wait_healthy").default(true).describe("With a health check: apply waits until the container is healthy."))
            .attr(Attribute::string("healthy_timeout").default("120s").validate(DurationV).describe("How long to wait for healthy; the error carries the last log lines."))
            .attr(Attribute::string("image_id").computed().describe("Id of the image the container runs."))
            .attr(Attribute::string_map("ip_addresses").computed().describe("IP address per network."))
            .attr(Attribute::string("health_status").computed().describe("`healthy`, `unhealthy`, `starting` or `none`."))
            .block("network", Nesting::List, Block::new("A network to join.")
                .attr(Attribute::string("name").requires_replace().required().describe("Network name (`webide_compose_network.x.name`)."))
                .attr(Attribute::string_list("aliases").requires_replace().optional().describe("DNS aliases on that network.")), 0)
            .block("port", Nesting::List, port_block(), 0)
            .block("mount", Nesting::List, Block::new("A volume or bind mount.")
                .attr(Attribute::string("source").requires_replace().required().describe("Volume name or host path."))
                .attr(Attribute::string("target").requires_replace().required().describe("Path in the container."))
                .attr(Attribute::string("type").requires_replace().optional().validate(OneOf(&["volume", "bind"])).describe("`volume` (default) or `bind`."))
                .attr(Attribute::bool("read_only").requires_replace().optional().describe("Mount read-only.")), 0)
            .block("healthcheck", Nesting::List, Block::new("Health check.")
                .attr(Attribute::string_list("test").requires_replace().required().describe("Command run in the container (exec form, without `CMD`)."))
                .attr(Attribute::string("interval").requires_replace().optional().validate(DurationV).describe("Default `2s`."))
                .attr(Attribute::string("timeout").requires_replace().optional().validate(DurationV).describe("Default `2s`."))
                .attr(Attribute::number("retries").requires_replace().optional().validate(Range { min: 1.0, max: None }).describe("Default 10."))
                .attr(Attribute::string("start_period").requires_replace().optional().validate(DurationV).describe("Default `0s`.")), 1);
        Schema::new(0, block)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // A key set twice would leave which value the container gets to the order of the list.
        let wo = config.get("sensitive_env_wo");
        if !wo.is_wholly_known() {
            return;
        }
        let env = config.get("env");
        for k in wo.string_entries().into_keys() {
            if env.is_wholly_known() && env.string_entries().contains_key(&k) {
                diags.push_attr_error(
                    AttrPath::root("sensitive_env_wo").key(&k),
                    "Environment key set twice",
                    format!(
                        "{k:?} is in both `env` and `sensitive_env_wo`; keep it in one of them"
                    ),
                );
            }
        }
    }

    async fn modify_plan(
        &self,
        _d: Option<&D>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        // Keys moving between `env` and `sensitive_env` with unchanged values (a configuration
        // claiming what an import could not attribute) change nothing in the container.
        let attribution_only = !ctx.is_create()
            && (ctx.changed("env") || ctx.changed("sensitive_env"))
            && same_env(ctx.prior, &ctx.planned);
        if attribution_only {
            let moved = [AttrPath::root("env"), AttrPath::root("sensitive_env")];
            ctx.requires_replace.retain(|p| !moved.contains(p));
        }
        if ctx.is_create() || !ctx.requires_replace.is_empty() {
            for a in ["id", "image_id", "ip_addresses", "health_status"] {
                ctx.set_unknown(a);
            }
        } else if ctx.changed("running") {
            ctx.set_unknown("health_status");
        }
        Ok(())
    }

    async fn create(&self, data: &D, plan: &Value) -> ApplyResult {
        let c = data.client()?;
        let d = c.engine().await?;
        let name = plan.get("name").as_str().unwrap_or_default().to_string();
        let created = d
            .create_container(
                Some(CreateContainerOptions {
                    name: name.clone(),
                    platform: None,
                }),
                container_config(plan, Resource::<D>::type_name(self)),
            )
            .await
            .map_err(|e| {
                let mut diags = engine_error(&format!("create container {name}"), e);
                if diags.0.iter().any(|x| x.detail.contains("No such image")) {
                    diags = Diagnostics::attr_error(
                        AttrPath::root("image"),
                        "Image not found",
                        diags.0[0].detail.clone(),
                    );
                }
                diags
            })?;
        let id = created.id;
        let mut state = plan.clone();
        state.set("id", Value::string(&id));
        for n in plan.get("network").elements().iter().skip(1) {
            let net = n.get("name").as_str().unwrap_or_default().to_string();
            let res = d
                .connect_network(
                    &net,
                    ConnectNetworkOptions {
                        container: id.clone(),
                        endpoint_config: EndpointSettings {
                            aliases: strings(n.get("aliases")),
                            ..Default::default()
                        },
                    },
                )
                .await;
            if let Err(e) = res {
                let _ = d
                    .remove_container(
                        &id,
                        Some(RemoveContainerOptions {
                            force: true,
                            ..Default::default()
                        }),
                    )
                    .await;
                return Err(engine_error(&format!("connect {name} to {net}"), e).into());
            }
        }
        if plan.get("running").as_bool() != Some(false) {
            if let Err(e) = d
                .start_container(&id, None::<StartContainerOptions<String>>)
                .await
            {
                // Not started (e.g. port already taken): remove it, nothing is left behind.
                let _ = d
                    .remove_container(
                        &id,
                        Some(RemoveContainerOptions {
                            force: true,
                            ..Default::default()
                        }),
                    )
                    .await;
                let mut diags = engine_error(&format!("start container {name}"), e);
                if diags.0.iter().any(|x| {
                    x.detail.contains("port is already allocated")
                        || x.detail.contains("address already in use")
                }) {
                    diags = Diagnostics::attr_error(
                        AttrPath::root("port"),
                        "Port already taken",
                        diags.0[0].detail.clone(),
                    );
                }
                return Err(diags.into());
            }
            let has_health = !plan.get("healthcheck").elements().is_empty();
            if has_health && plan.get("wait_healthy").as_bool() != Some(false) {
                let timeout =
                    Duration::from_secs(secs(plan.get("healthy_timeout"), "120s").max(1) as u64);
                if let Err(diags) = self.wait_healthy(c, &id, timeout).await {
                    // Running but not healthy: keep it in state (tainted by Terraform) so
                    // nothing is orphaned and the next apply replaces it.
                    let s = match d.inspect_container(&id, None).await {
                        Ok(i) => state_from(&state, &i, &image_defaults(d, &i).await),
                        Err(_) => state,
                    };
                    return Err(ApplyError::with_state(diags, s));
                }
            }
        }
        let info = d.inspect_container(&id, None).await.map_err(|e| {
            ApplyError::with_state(engine_error("inspect container", e), state.clone())
        })?;
        Ok(state_from(&state, &info, &image_defaults(d, &info).await))
    }

    async fn read(&self, data: &D, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let d = data.client()?.engine().await?;
        let id = state.get("id").as_str().unwrap_or_default().to_string();
        let name = state.get("name").as_str().unwrap_or_default().to_string();
        // By id; a container re-created by hand under the same name is found by name.
        for key in [id, name] {
            if key.is_empty() {
                continue;
            }
            match d.inspect_container(&key, None).await {
                Ok(info) => {
                    let image = image_defaults(d, &info).await;
                    return Ok(Some(state_from(state, &info, &image)));
                }
                Err(e) if is_not_found(&e) => continue,
                Err(e) => return Err(engine_error("inspect container", e)),
            }
        }
        Ok(None)
    }

    async fn update(&self, data: &D, _prior: &Value, plan: &Value) -> ApplyResult {
        // Only `running`, `wait_healthy` and `healthy_timeout` change in place.
        let c = data.client()?;
        let d = c.engine().await?;
        let id = plan.get("id").as_str().unwrap_or_default().to_string();
        if plan.get("running").as_bool() == Some(true) {
            d.start_container(&id, None::<StartContainerOptions<String>>)
                .await
                .or_else(|e| {
                    if matches!(
                        e,
                        bollard::errors::Error::DockerResponseServerError {
                            status_code: 304,
                            ..
                        }
                    ) {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| engine_error("start container", e))?;
            if !plan.get("healthcheck").elements().is_empty()
                && plan.get("wait_healthy").as_bool() != Some(false)
            {
                let timeout =
                    Duration::from_secs(secs(plan.get("healthy_timeout"), "120s").max(1) as u64);
                self.wait_healthy(c, &id, timeout).await?;
            }
        } else {
            d.stop_container(&id, None)
                .await
                .or_else(|e| {
                    if matches!(
                        e,
                        bollard::errors::Error::DockerResponseServerError {
                            status_code: 304,
                            ..
                        }
                    ) {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| engine_error("stop container", e))?;
        }
        let info = d
            .inspect_container(&id, None)
            .await
            .map_err(|e| engine_error("inspect container", e))?;
        Ok(state_from(plan, &info, &image_defaults(d, &info).await))
    }

    async fn delete(&self, data: &D, state: &Value) -> Result<(), Diagnostics> {
        let d = data.client()?.engine().await?;
        let key = state
            .get("id")
            .as_str()
            .or(state.get("name").as_str())
            .unwrap_or_default();
        match d
            .remove_container(
                key,
                Some(RemoveContainerOptions {
                    force: true,
                    v: false,
                    ..Default::default()
                }),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(engine_error("remove container", e)),
        }
    }

    async fn import(&self, data: &D, id: &str) -> Result<Value, Diagnostics> {
        let d = data.client()?.engine().await?;
        let info = d
            .inspect_container(id.trim(), None)
            .await
            .map_err(|e| engine_error(&format!("find container {id}"), e))?;
        let image = image_defaults(d, &info).await;
        let seen = Observed::of(&info, &image);
        let cfg = info.config.clone().unwrap_or_default();
        let mut s = Resource::<D>::schema(self).block.null_object();
        s.set(
            "name",
            Value::string(
                info.name
                    .clone()
                    .unwrap_or_default()
                    .trim_start_matches('/'),
            ),
        );
        s.set("image", Value::opt_string(cfg.image.clone()));
        // Command, entrypoint and environment minus what the image puts there, so an import
        // matches a configuration that does not repeat them.
        let own = |v: &Option<Vec<String>>, from_image: &Option<Vec<String>>| match v {
            Some(x) if Some(x) != from_image.as_ref() => Value::string_list(x.clone()),
            _ => Value::Null,
        };
        s.set("command", own(&seen.cmd, &image.cmd));
        s.set("entrypoint", own(&seen.entrypoint, &image.entrypoint));
        // Environment: keys our label names as secret go to `sensitive_env`, the rest to `env`.
        // A container without the label (not made by webide) gives no way to tell, so every
        // key goes to `sensitive_env`: its values never print, and a configuration that puts
        // a key in `env` instead updates in place (see `same_env`), not a replacement.
        // Keys set from the write-only `sensitive_env_wo` stay out of state.
        let own_env = seen
            .env_own
            .iter()
            .filter(|(k, _)| !seen.write_only_keys.contains(k))
            .cloned();
        let (secret, plain): (Vec<_>, Vec<_>) = own_env.partition(|(k, _)| {
            seen.sensitive_keys
                .as_ref()
                .is_none_or(|keys| keys.contains(k))
        });
        s.set("env", Value::string_map(plain));
        s.set(
            "sensitive_env",
            if secret.is_empty() {
                Value::Null
            } else {
                Value::string_map(secret)
            },
        );
        s.set("labels", super::user_labels(cfg.labels.as_ref()));
        s.set(
            "user",
            Value::opt_string(cfg.user.clone().filter(|u| !u.is_empty())),
        );
        s.set(
            "working_dir",
            Value::opt_string(cfg.working_dir.clone().filter(|u| !u.is_empty())),
        );
        s.set("restart", Value::string(&seen.restart));
        s.set("extra_hosts", Value::string_list(seen.extra_hosts.clone()));
        s.set("group_add", Value::string_list(seen.group_add.clone()));
        s.set("wait_healthy", Value::Bool(true));
        s.set("healthy_timeout", Value::string("120s"));
        // Nested blocks, with unset optional values left null as a configuration would.
        // Aliases as configured: Docker adds the short id (before 25.0) and the name.
        let cid = info.id.clone().unwrap_or_default();
        let cname = info.name.clone().unwrap_or_default();
        let endpoints = info
            .network_settings
            .as_ref()
            .and_then(|n| n.networks.clone())
            .unwrap_or_default();
        s.set(
            "network",
            Value::List(
                seen.networks
                    .iter()
                    .map(|k| {
                        let aliases: Vec<String> = endpoints
                            .get(k)
                            .and_then(|e| e.aliases.clone())
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|a| {
                                !cid.starts_with(a.as_str()) && a != cname.trim_start_matches('/')
                            })
                            .collect();
                        let aliases = if aliases.is_empty() {
                            Value::Null
                        } else {
                            Value::string_list(aliases)
                        };
                        obj(vec![("name", Value::string(k)), ("aliases", aliases)])
                    })
                    .collect(),
            ),
        );
        s.set("port", Value::List(seen.ports.clone()));
        s.set("mount", Value::List(seen.mounts.clone()));
        // Health check: values equal to the defaults create sends stay null (as a
        // configuration that leaves them unset); others in the largest whole unit.
        let health: Vec<Value> = cfg
            .healthcheck
            .clone()
            .filter(|h| h.test.as_ref().and_then(|t| t.first()).map(String::as_str) == Some("CMD"))
            .map(|h| {
                let dur = |ns: Option<i64>, default_s: i64| match ns.map(|n| n / 1_000_000_000) {
                    Some(s) if s != default_s && s > 0 => Value::string(if s % 60 == 0 {
                        format!("{}m", s / 60)
                    } else {
                        format!("{s}s")
                    }),
                    _ => Value::Null,
                };
                vec![obj(vec![
                    (
                        "test",
                        Value::string_list(h.test.unwrap_or_default().into_iter().skip(1)),
                    ),
                    ("interval", dur(h.interval, 2)),
                    ("timeout", dur(h.timeout, 2)),
                    (
                        "retries",
                        h.retries
                            .filter(|r| *r != 10)
                            .map(Value::int)
                            .unwrap_or(Value::Null),
                    ),
                    ("start_period", dur(h.start_period, 0)),
                ])]
            })
            .unwrap_or_default();
        s.set("healthcheck", Value::List(health));
        Ok(state_from(&s, &info, &image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{
        ContainerConfig, ContainerInspectResponse, EndpointSettings, HostConfig, NetworkSettings,
    };

    /// The attributes and blocks whose change replaces the container.
    fn replacing() -> Vec<String> {
        use crate::protocol::schema::PlanModifier::RequiresReplace;
        let b = Resource::<crate::provider::Clients>::schema(&ServiceResource).block;
        let attrs = b.attributes.iter().filter(|a| a.has(RequiresReplace));
        let blocks = b
            .blocks
            .iter()
            .filter(|nb| nb.block.attributes.iter().any(|a| a.has(RequiresReplace)));
        attrs
            .map(|a| a.name.clone())
            .chain(blocks.map(|nb| nb.name.clone()))
            .collect()
    }

    /// A configuration as planned, with the schema's defaults.
    fn base() -> Value {
        let mut s = Resource::<crate::provider::Clients>::schema(&ServiceResource)
            .block
            .null_object();
        s.set("name", Value::string("api"));
        s.set("image", Value::string("sha256:img"));
        s.set("command", Value::string_list(["serve", "8080"]));
        s.set("env", Value::string_map([("MODE", "blue")]));
        s.set("sensitive_env", Value::string_map([("TOKEN", "t0k")]));
        s.set("labels", Value::string_map(Vec::<(String, String)>::new()));
        s.set("restart", Value::string("unless-stopped"));
        s.set("extra_hosts", Value::string_list(["h:host-gateway"]));
        s.set("group_add", Value::string_list(["999"]));
        s.set(
            "network",
            Value::List(vec![obj(vec![
                ("name", Value::string("net")),
                ("aliases", Value::string_list(["api"])),
            ])]),
        );
        s.set(
            "port",
            Value::List(vec![obj(vec![
                ("internal", Value::int(8080)),
                ("external", Value::int(18080)),
                ("protocol", Value::Null),
                ("host_ip", Value::string("127.0.0.1")),
            ])]),
        );
        s.set(
            "mount",
            Value::List(vec![obj(vec![
                ("source", Value::string("data")),
                ("target", Value::string("/data")),
                ("type", Value::Null),
                ("read_only", Value::Null),
            ])]),
        );
        s
    }

    /// What `docker inspect` shows for a container created from [`base`].
    fn inspect() -> ContainerInspectResponse {
        let plan = base();
        let cfg = container_config(&plan, "webide_compose_service");
        let mut env = cfg.env.clone().unwrap();
        env.push("IMAGE_VAR=1".into());
        ContainerInspectResponse {
            id: Some("abc123".into()),
            image: Some("sha256:img".into()),
            config: Some(ContainerConfig {
                image: Some("sha256:img".into()),
                env: Some(env),
                cmd: cfg.cmd.clone(),
                entrypoint: Some(vec!["/fixture-svc".into()]),
                labels: cfg.labels.clone(),
                ..Default::default()
            }),
            host_config: cfg.host_config.clone(),
            network_settings: Some(NetworkSettings {
                networks: Some(
                    [(
                        "net".to_string(),
                        EndpointSettings {
                            ip_address: Some("172.20.0.2".into()),
                            ..Default::default()
                        },
                    )]
                    .into(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn image() -> ImageDefaults {
        ImageDefaults {
            env: vec!["IMAGE_VAR=1".into()],
            cmd: None,
            entrypoint: Some(vec!["/fixture-svc".into()]),
        }
    }

    /// The configurable attributes that differ between `base()` and the read-back state.
    fn drift(c: &ContainerInspectResponse) -> Vec<String> {
        let b = base();
        let s = state_from(&b, c, &image());
        replacing()
            .into_iter()
            .filter(|a| !s.get(a).equals(b.get(a)))
            .collect()
    }

    #[test]
    fn an_unchanged_container_reads_back_as_configured() {
        assert_eq!(drift(&inspect()), Vec::<&str>::new());
    }

    #[test]
    fn changes_made_by_hand_are_read_back() {
        let mut c = inspect();
        c.network_settings = Some(NetworkSettings::default());
        assert_eq!(drift(&c), vec!["network"], "detached from its network");

        let mut c = inspect();
        c.network_settings
            .as_mut()
            .unwrap()
            .networks
            .as_mut()
            .unwrap()
            .insert("bridge".into(), EndpointSettings::default());
        assert_eq!(drift(&c), vec!["network"], "joined another network");

        let mut c = inspect();
        c.config
            .as_mut()
            .unwrap()
            .env
            .as_mut()
            .unwrap()
            .push("ADDED=x".into());
        assert_eq!(drift(&c), vec!["sensitive_env"], "env key added by hand");
        let s = state_from(&base(), &c, &image());
        assert_eq!(s.get("sensitive_env").string_entries()["ADDED"], "x");
        assert!(!s.get("env").string_entries().contains_key("ADDED"));

        let mut c = inspect();
        c.config.as_mut().unwrap().cmd = Some(vec!["serve".into(), "9".into()]);
        assert_eq!(drift(&c), vec!["command"]);

        let mut c = inspect();
        let hc = c.host_config.as_mut().unwrap();
        hc.port_bindings.as_mut().unwrap().insert(
            "8080/tcp".into(),
            Some(vec![PortBinding {
                host_ip: Some("0.0.0.0".into()),
                host_port: Some("18080".into()),
            }]),
        );
        assert_eq!(drift(&c), vec!["port"], "published on every address");

        let mut c = inspect();
        c.host_config.as_mut().unwrap().mounts = Some(vec![]);
        assert_eq!(drift(&c), vec!["mount"]);

        let mut c = inspect();
        c.host_config.as_mut().unwrap().extra_hosts = None;
        assert_eq!(drift(&c), vec!["extra_hosts"]);

        let mut c = inspect();
        c.host_config.as_mut().unwrap().group_add = Some(vec!["998".into()]);
        assert_eq!(drift(&c), vec!["group_add"]);

        let mut c = inspect();
        c.host_config.as_mut().unwrap().restart_policy = Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::NO),
            maximum_retry_count: None,
        });
        assert_eq!(drift(&c), vec!["restart"]);
    }

    #[test]
    fn the_default_bridge_of_a_container_without_networks_is_not_drift() {
        let mut b = base();
        b.set("network", Value::List(vec![]));
        let mut c = inspect();
        c.host_config = Some(HostConfig {
            network_mode: Some("bridge".into()),
            ..c.host_config.clone().unwrap()
        });
        c.network_settings = Some(NetworkSettings {
            networks: Some([("bridge".to_string(), EndpointSettings::default())].into()),
            ..Default::default()
        });
        let s = state_from(&b, &c, &image());
        assert!(s.get("network").equals(b.get("network")));
    }

    #[test]
    fn moving_keys_between_env_and_sensitive_env_is_not_a_change_of_values() {
        let mut a = base();
        let mut b = base();
        b.set(
            "env",
            Value::string_map([("MODE", "blue"), ("TOKEN", "t0k")]),
        );
        b.set("sensitive_env", Value::Null);
        assert!(same_env(&a, &b));
        b.set(
            "env",
            Value::string_map([("MODE", "green"), ("TOKEN", "t0k")]),
        );
        assert!(!same_env(&a, &b));
        // The same key on both sides is not a plain move.
        a.set(
            "env",
            Value::string_map([("MODE", "blue"), ("TOKEN", "t0k")]),
        );
        assert!(!same_env(&a, &base()));
    }

    #[test]
    fn write_only_env_reaches_the_container_but_never_the_state() {
        let mut plan = base();
        plan.set(
            "sensitive_env_wo",
            Value::string_map([("DB_PASSWORD", "wo-s3cret")]),
        );
        let cfg = container_config(&plan, "webide_compose_service");
        assert!(cfg
            .env
            .as_ref()
            .unwrap()
            .contains(&"DB_PASSWORD=wo-s3cret".to_string()));
        let labels = cfg.labels.clone().unwrap();
        assert_eq!(labels[super::super::WRITE_ONLY_KEYS_LABEL], "DB_PASSWORD");
        assert!(!labels.values().any(|v| v.contains("wo-s3cret")));
        // The container as inspected: the key is neither drift nor read into `sensitive_env`.
        let mut c = inspect();
        let conf = c.config.as_mut().unwrap();
        conf.env = cfg.env.clone().map(|mut e| {
            e.push("IMAGE_VAR=1".into());
            e
        });
        conf.labels = cfg.labels.clone();
        let mut stored = base();
        stored.set("sensitive_env_wo", Value::Null);
        let s = state_from(&stored, &c, &image());
        assert!(s.get("sensitive_env").equals(stored.get("sensitive_env")));
        assert!(s.get("env").equals(stored.get("env")));
        assert!(!format!("{s:?}").contains("wo-s3cret"));
        // The same key without our label (set by hand) is drift, as before.
        c.config.as_mut().unwrap().labels = inspect().config.unwrap().labels;
        let s = state_from(&stored, &c, &image());
        assert_eq!(
            s.get("sensitive_env").string_entries()["DB_PASSWORD"],
            "wo-s3cret"
        );
        // Its version is a configuration attribute: a change re-creates the container.
        assert!(replacing().contains(&"sensitive_env_wo_version".to_string()));
    }

    #[test]
    fn a_key_in_env_and_sensitive_env_wo_is_refused() {
        let mut config = base();
        config.set("sensitive_env_wo", Value::string_map([("MODE", "x")]));
        let mut d = Diagnostics::new();
        Resource::<crate::provider::Clients>::validate(&ServiceResource, &config, &mut d);
        assert_eq!(d.0.len(), 1);
        assert_eq!(
            d.0[0]
                .path
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            "sensitive_env_wo[\"MODE\"]"
        );
    }

    #[test]
    fn the_label_names_the_secret_keys_not_their_values() {
        let cfg = container_config(&base(), "webide_compose_service");
        let labels = cfg.labels.unwrap();
        assert_eq!(labels[super::super::SENSITIVE_KEYS_LABEL], "TOKEN");
        assert!(!labels.values().any(|v| v.contains("t0k")));
    }
}
