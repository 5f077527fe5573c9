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

use super::{engine_error, is_not_found, labels, replace_on_change, Client};
use crate::framework::validators::{parse_duration, Duration as DurationV, NonEmpty, OneOf, Range};
use crate::framework::{ApplyError, ApplyResult, PlanContext, Resource};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Nesting, Schema};
use crate::protocol::value::Value;
use crate::provider::Clients;

pub struct ServiceResource;

/// Attributes whose change replaces the container.
const CONFIG: &[&str] = &[
    "name",
    "image",
    "command",
    "entrypoint",
    "env",
    "sensitive_env",
    "labels",
    "user",
    "working_dir",
    "restart",
    "extra_hosts",
    "network",
    "port",
    "mount",
    "healthcheck",
];

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
        labels: Some(labels(plan.get("labels"), rtype)),
        user: plan.get("user").as_str().map(str::to_string),
        working_dir: plan.get("working_dir").as_str().map(str::to_string),
        exposed_ports: Some(exposed),
        healthcheck,
        host_config: Some(HostConfig {
            port_bindings: Some(bindings),
            mounts: Some(mounts),
            extra_hosts: strings(plan.get("extra_hosts")),
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

/// Computed attributes and drift from `docker inspect`.
fn state_from(base: &Value, c: &bollard::models::ContainerInspectResponse) -> Value {
    let mut s = base.clone();
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
    // Environment drift: values of the configured keys as the container has them.
    let actual: HashMap<String, String> = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.env.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    for attr in ["env", "sensitive_env"] {
        let cur = base.get(attr);
        if cur.is_null() {
            continue;
        }
        let entries: Vec<(String, String)> = cur
            .string_entries()
            .into_iter()
            .filter_map(|(k, _)| actual.get(&k).map(|v| (k, v.clone())))
            .collect();
        s.set(attr, Value::string_map(entries));
    }
    if let Some(img) = c.config.as_ref().and_then(|cfg| cfg.image.clone()) {
        if base.get("image").as_str() != Some(img.as_str()) && !img.starts_with("sha256:") {
            s.set("image", Value::string(img));
        }
    }
    s
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
                .required()
                .validate(Range {
                    min: 1.0,
                    max: Some(65535.0),
                })
                .describe("Container port."),
        )
        .attr(
            Attribute::number("external")
                .optional()
                .validate(Range {
                    min: 1.0,
                    max: Some(65535.0),
                })
                .describe("Host port (null: not published)."),
        )
        .attr(
            Attribute::string("protocol")
                .optional()
                .validate(OneOf(&["tcp", "udp"]))
                .describe("`tcp` (default) or `udp`."),
        )
        .attr(
            Attribute::string("host_ip")
                .optional()
                .describe("Host address to bind (default `0.0.0.0`)."),
        )
}

#[async_trait]
impl Resource<Clients> for ServiceResource {
    fn type_name(&self) -> &'static str {
        "webide_compose_service"
    }

    fn schema(&self) -> Schema {
        let empty_map = || Value::Map(Default::default());
        let block = Block::new("One container of a compose-like service. Any configuration change replaces the container (so env changes always apply); with a health check and `wait_healthy`, apply returns only once it is healthy, so services that reference it start after it. `plan` shows a container stopped, removed, or with its environment or image changed by hand.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().describe("Container id."))
            .attr(Attribute::string("name").required().validate(NonEmpty).describe("Container name. Import id."))
            .attr(Attribute::string("image").required().validate(NonEmpty).describe("Image reference or id (e.g. `webide_compose_image.x.image_id`)."))
            .attr(Attribute::string_list("command").optional().describe("Command (arguments to the entrypoint)."))
            .attr(Attribute::string_list("entrypoint").optional().describe("Entrypoint."))
            .attr(Attribute::string_map("env").default(empty_map()).describe("Environment."))
            .attr(Attribute::string_map("sensitive_env").optional().sensitive().describe("Environment with secret values (hidden in plans)."))
            .attr(Attribute::string_map("labels").default(empty_map()).describe("Labels (webide adds `webide.managed=true`)."))
            .attr(Attribute::string("user").optional().describe("User (and group) to run as."))
            .attr(Attribute::string("working_dir").optional().describe("Working directory."))
            .attr(Attribute::string("restart").default("unless-stopped").validate(OneOf(&["no", "always", "unless-stopped", "on-failure"])).describe("Restart policy."))
            .attr(Attribute::string_list("extra_hosts").default(Value::List(vec![])).describe("Extra /etc/hosts entries, e.g. `host.docker.internal:host-gateway` (the seeds' Linux fix)."))
            .attr(Attribute::bool("running").default(true).describe("Keep the container running; a container stopped by hand shows in plan and is started again in place."))
            .attr(Attribute::bool("wait_healthy").default(true).describe("With a health check: apply waits until the container is healthy."))
            .attr(Attribute::string("healthy_timeout").default("120s").validate(DurationV).describe("How long to wait for healthy; the error carries the last log lines."))
            .attr(Attribute::string("image_id").computed().describe("Id of the image the container runs."))
            .attr(Attribute::string_map("ip_addresses").computed().describe("IP address per network."))
            .attr(Attribute::string("health_status").computed().describe("`healthy`, `unhealthy`, `starting` or `none`."))
            .block("network", Nesting::List, Block::new("A network to join.")
                .attr(Attribute::string("name").required().describe("Network name (`webide_compose_network.x.name`)."))
                .attr(Attribute::string_list("aliases").optional().describe("DNS aliases on that network.")), 0)
            .block("port", Nesting::List, port_block(), 0)
            .block("mount", Nesting::List, Block::new("A volume or bind mount.")
                .attr(Attribute::string("source").required().describe("Volume name or host path."))
                .attr(Attribute::string("target").required().describe("Path in the container."))
                .attr(Attribute::string("type").optional().validate(OneOf(&["volume", "bind"])).describe("`volume` (default) or `bind`."))
                .attr(Attribute::bool("read_only").optional().describe("Mount read-only.")), 0)
            .block("healthcheck", Nesting::List, Block::new("Health check.")
                .attr(Attribute::string_list("test").required().describe("Command run in the container (exec form, without `CMD`)."))
                .attr(Attribute::string("interval").optional().validate(DurationV).describe("Default `2s`."))
                .attr(Attribute::string("timeout").optional().validate(DurationV).describe("Default `2s`."))
                .attr(Attribute::number("retries").optional().validate(Range { min: 1.0, max: None }).describe("Default 10."))
                .attr(Attribute::string("start_period").optional().validate(DurationV).describe("Default `0s`.")), 1);
        Schema::new(0, block)
    }

    async fn modify_plan(
        &self,
        _d: Option<&Clients>,
        ctx: &mut PlanContext<'_>,
    ) -> Result<(), Diagnostics> {
        replace_on_change(ctx, CONFIG);
        if ctx.is_create() || !ctx.requires_replace.is_empty() {
            for a in ["id", "image_id", "ip_addresses", "health_status"] {
                ctx.set_unknown(a);
            }
        } else if ctx.changed("running") {
            ctx.set_unknown("health_status");
        }
        Ok(())
    }

    async fn create(&self, data: &Clients, plan: &Value) -> ApplyResult {
        let c = data.docker.get()?;
        let d = c.engine().await?;
        let name = plan.get("name").as_str().unwrap_or_default().to_string();
        let created = d
            .create_container(
                Some(CreateContainerOptions {
                    name: name.clone(),
                    platform: None,
                }),
                container_config(plan, self.type_name()),
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
                    let info = d.inspect_container(&id, None).await.ok();
                    let s = info.map(|i| state_from(&state, &i)).unwrap_or(state);
                    return Err(ApplyError::with_state(diags, s));
                }
            }
        }
        let info = d.inspect_container(&id, None).await.map_err(|e| {
            ApplyError::with_state(engine_error("inspect container", e), state.clone())
        })?;
        Ok(state_from(&state, &info))
    }

    async fn read(&self, data: &Clients, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let d = data.docker.get()?.engine().await?;
        let id = state.get("id").as_str().unwrap_or_default().to_string();
        let name = state.get("name").as_str().unwrap_or_default().to_string();
        // By id; a container re-created by hand under the same name is found by name.
        for key in [id, name] {
            if key.is_empty() {
                continue;
            }
            match d.inspect_container(&key, None).await {
                Ok(info) => return Ok(Some(state_from(state, &info))),
                Err(e) if is_not_found(&e) => continue,
                Err(e) => return Err(engine_error("inspect container", e)),
            }
        }
        Ok(None)
    }

    async fn update(&self, data: &Clients, _prior: &Value, plan: &Value) -> ApplyResult {
        // Only `running`, `wait_healthy` and `healthy_timeout` change in place.
        let c = data.docker.get()?;
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
        Ok(state_from(plan, &info))
    }

    async fn delete(&self, data: &Clients, state: &Value) -> Result<(), Diagnostics> {
        let d = data.docker.get()?.engine().await?;
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

    async fn import(&self, data: &Clients, id: &str) -> Result<Value, Diagnostics> {
        let d = data.docker.get()?.engine().await?;
        let info = d
            .inspect_container(id.trim(), None)
            .await
            .map_err(|e| engine_error(&format!("find container {id}"), e))?;
        let cfg = info.config.clone().unwrap_or_default();
        let mut s = self.schema().block.null_object();
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
        // Command, entrypoint and environment minus what the image (or the daemon's default
        // PATH) puts there, so an import matches a configuration that does not repeat them.
        let image_cfg = match &cfg.image {
            Some(img) => d
                .inspect_image(img)
                .await
                .ok()
                .and_then(|i| i.config)
                .unwrap_or_default(),
            None => Default::default(),
        };
        let own = |v: Option<Vec<String>>, from_image: Option<Vec<String>>| match v {
            Some(x) if Some(&x) != from_image.as_ref() => Value::string_list(x),
            _ => Value::Null,
        };
        s.set("command", own(cfg.cmd.clone(), image_cfg.cmd.clone()));
        s.set(
            "entrypoint",
            own(cfg.entrypoint.clone(), image_cfg.entrypoint.clone()),
        );
        let image_env: Vec<String> = image_cfg.env.clone().unwrap_or_default();
        const DEFAULT_PATH: &str =
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        let env: Vec<(String, String)> = cfg
            .env
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|kv| !image_env.contains(kv) && kv != DEFAULT_PATH)
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        s.set("env", Value::string_map(env));
        s.set("labels", super::user_labels(cfg.labels.as_ref()));
        s.set(
            "user",
            Value::opt_string(cfg.user.clone().filter(|u| !u.is_empty())),
        );
        s.set(
            "working_dir",
            Value::opt_string(cfg.working_dir.clone().filter(|u| !u.is_empty())),
        );
        let hc = info.host_config.clone().unwrap_or_default();
        let restart = hc
            .restart_policy
            .and_then(|r| r.name)
            .map(|n| n.to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "no".into());
        s.set("restart", Value::string(restart));
        s.set(
            "extra_hosts",
            Value::string_list(hc.extra_hosts.clone().unwrap_or_default()),
        );
        s.set("wait_healthy", Value::Bool(true));
        s.set("healthy_timeout", Value::string("120s"));
        // Nested blocks, with unset optional values left null as a configuration would.
        let obj = |pairs: Vec<(&str, Value)>| {
            Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        };
        let networks: Vec<Value> = info
            .network_settings
            .as_ref()
            .and_then(|n| n.networks.as_ref())
            .map(|m| {
                m.keys()
                    .map(|k| obj(vec![("name", Value::string(k)), ("aliases", Value::Null)]))
                    .collect()
            })
            .unwrap_or_default();
        s.set("network", Value::List(networks));
        let mut ports = Vec::new();
        for (key, binds) in hc.port_bindings.clone().unwrap_or_default() {
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
        s.set("port", Value::List(ports));
        let mounts: Vec<Value> = hc
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
        s.set("mount", Value::List(mounts));
        let health: Vec<Value> = cfg
            .healthcheck
            .clone()
            .and_then(|h| h.test)
            .filter(|t| t.first().map(String::as_str) == Some("CMD"))
            .map(|t| {
                vec![obj(vec![
                    ("test", Value::string_list(t.into_iter().skip(1))),
                    ("interval", Value::Null),
                    ("timeout", Value::Null),
                    ("retries", Value::Null),
                    ("start_period", Value::Null),
                ])]
            })
            .unwrap_or_default();
        s.set("healthcheck", Value::List(health));
        Ok(state_from(&s, &info))
    }
}
