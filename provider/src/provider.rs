//! The `webide` provider: one optional configuration block per service, each
//! value also taken from the environment, and the list of resources.

use std::sync::Arc;

use async_trait::async_trait;

use crate::framework::validators::HttpUrl;
use crate::framework::{DataSource, EphemeralResource, Provider, Resource, StopToken};
use crate::http::TlsOptions;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block, Nesting, Schema};
use crate::protocol::value::Value;
use crate::{authentik, coder, docker, gitea, litellm};

/// A service client as configuration left it.
pub enum Slot<T> {
    Ready(T),
    /// Configuration has values only known after apply (e.g. a URL from
    /// another resource); planning goes on, API calls wait for a later run.
    Pending,
    /// Not configured; the text says how to configure it.
    Missing(String),
}

impl<T> Slot<T> {
    /// The client, or a diagnostic saying why there is none.
    pub fn get(&self) -> Result<&T, Diagnostics> {
        match self {
            Slot::Ready(t) => Ok(t),
            Slot::Pending => Err(Diagnostics::error(
                "Provider configuration not known yet",
                "this service's url or credentials depend on values known only after apply; apply those first",
            )),
            Slot::Missing(how) => Err(Diagnostics::error("Service not configured", how.clone())),
        }
    }
}

/// Everything resources need: one client per service.
pub struct Clients {
    pub litellm: Slot<litellm::Client>,
    pub authentik: Slot<authentik::Client>,
    pub gitea: Slot<gitea::Client>,
    pub coder: Slot<coder::Client>,
    pub docker: Slot<docker::Client>,
    /// Terraform's stop signal, for resources that build their own client (bootstrap steps
    /// that run before a service has credentials).
    pub stop: StopToken,
}

/// One service's connection settings, from its block or the environment.
pub struct ServiceConfig {
    pub url: String,
    pub secret: String,
    pub tls: TlsOptions,
}

/// Describes how a service block maps to env vars.
pub struct ServiceSpec {
    pub block: &'static str,
    pub url_env: &'static [&'static str],
    pub secret_attr: &'static str,
    pub secret_env: &'static [&'static str],
    /// Another name for the secret attribute (set one of the two), with its description.
    pub secret_alias: Option<(&'static str, &'static str)>,
}

pub const LITELLM: ServiceSpec = ServiceSpec {
    block: "litellm",
    url_env: &["LITELLM_PROXY_URL", "LITELLM_API_BASE"],
    secret_attr: "master_key",
    secret_env: &["LITELLM_MASTER_KEY", "LITELLM_API_KEY"],
    secret_alias: Some((
        "api_key",
        "A virtual key instead of the master key: what it may do is what LiteLLM lets that key do. A provisioning key limited to `/key/generate`, `/key/info`, `/key/update`, `/key/delete` and `/key/list` of one team is enough for `webide_litellm_key` resources of that team (the contractor-workspace template uses one). Set this or `master_key`.",
    )),
};

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

/// Resolves `spec` and builds its client with `build`; a client that cannot
/// be built is an error on the block.
pub fn connect<T>(
    spec: &ServiceSpec,
    config: &Value,
    diags: &mut Diagnostics,
    build: impl FnOnce(&ServiceConfig) -> anyhow::Result<T>,
) -> Slot<T> {
    match spec.resolve(config, diags) {
        Slot::Ready(c) => match build(&c) {
            Ok(client) => Slot::Ready(client),
            Err(e) => {
                diags.push_attr_error(
                    AttrPath::root(spec.block),
                    format!("Invalid {} configuration", spec.block),
                    format!("{e:#}"),
                );
                Slot::Missing(format!("{e:#}"))
            }
        },
        Slot::Pending => Slot::Pending,
        Slot::Missing(m) => Slot::Missing(m),
    }
}

impl ServiceSpec {
    /// The block: `url`, the secret, `ca_file`, `ca_pem`, `insecure`.
    pub fn block(&self, secret_description: &str) -> Block {
        let mut block = Block::new(&format!("Connection to {}.", self.block));
        if let Some((name, description)) = self.secret_alias {
            block = block.attr(
                Attribute::string(name)
                    .optional()
                    .sensitive()
                    .describe(description),
            );
        }
        block
            .attr(
                Attribute::string("url")
                    .optional()
                    .describe(&format!("Base URL. Env: `{}`.", self.url_env.join("`, `")))
                    .validate(HttpUrl),
            )
            .attr(
                Attribute::string(self.secret_attr)
                    .optional()
                    .sensitive()
                    .describe(&format!("{secret_description} Env: `{}`.", self.secret_env.join("`, `"))),
            )
            .attr(Attribute::string("ca_file").optional().describe(
                "PEM file of extra CA certificates to trust (e.g. for a self-signed certificate). Env: `WEBIDE_CA_FILE`.",
            ))
            .attr(crate::http::ca_pem_attribute(true))
            .attr(
                Attribute::bool("insecure")
                    .optional()
                    .describe("Skip TLS certificate verification. Only for throw-away test setups."),
            )
    }

    /// Resolves the block against the environment.
    pub fn resolve(&self, config: &Value, diags: &mut Diagnostics) -> Slot<ServiceConfig> {
        let b = config.get(self.block);
        let attr = |name: &str| b.get(name).clone();
        let alias = self
            .secret_alias
            .map_or(Value::Null, |(name, _)| attr(name));
        if let (Some((name, _)), false, false) = (
            self.secret_alias,
            alias.is_null(),
            attr(self.secret_attr).is_null(),
        ) {
            diags.push_attr_error(
                AttrPath::root(self.block).attr(name),
                "Conflicting credentials",
                format!("set `{}` or `{name}`, not both", self.secret_attr),
            );
        }
        let secret = if alias.is_null() {
            attr(self.secret_attr)
        } else {
            alias
        };
        let url = attr("url");
        if b.is_unknown()
            || [
                &url,
                &secret,
                &attr("ca_file"),
                &attr("ca_pem"),
                &attr("insecure"),
            ]
            .iter()
            .any(|v| v.is_unknown())
        {
            return Slot::Pending;
        }
        let url = url
            .as_str()
            .map(str::to_string)
            .or_else(|| env_first(self.url_env));
        let secret = secret
            .as_str()
            .map(str::to_string)
            .or_else(|| env_first(self.secret_env));
        let (Some(url), Some(secret)) = (url, secret) else {
            return Slot::Missing(format!(
                "set `{b} {{ url = ..., {s} = ... }}` in the provider block, or the environment variables {u} and {e}",
                b = self.block,
                s = self.secret_attr,
                u = self.url_env[0],
                e = self.secret_env[0],
            ));
        };
        if let Err(e) = crate::framework::validators::check_http_url(&url) {
            diags.push_attr_error(
                AttrPath::root(self.block).attr("url"),
                "Invalid service URL",
                e,
            );
        }
        Slot::Ready(ServiceConfig {
            url,
            secret,
            tls: TlsOptions::from_block(&b, true),
        })
    }
}

/// The provider.
#[derive(Default)]
pub struct WebideProvider;

#[async_trait]
impl Provider for WebideProvider {
    type Data = Clients;

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Declares a Coder WebIDE platform: LiteLLM keys and teams, Authentik users, groups and SSO applications, Gitea users and repositories, Coder templates and users, and the Docker containers they run in. Every service block is optional; each value can also come from the environment.")
                .block("litellm", Nesting::Single, LITELLM.block("Master key (admin credential) of the proxy."), 1)
                .block("authentik", Nesting::Single, authentik::block(), 1)
                .block("gitea", Nesting::Single, gitea::block(), 1)
                .block("coder", Nesting::Single, coder::block(), 1)
                .block("docker", Nesting::Single, docker::block(), 1),
        )
    }

    async fn configure(&self, config: &Value, stop: StopToken) -> Result<Clients, Diagnostics> {
        let mut diags = Diagnostics::new();
        let litellm = connect(&LITELLM, config, &mut diags, |c| {
            litellm::Client::new(c, stop.clone())
        });
        let authentik = authentik::configure(config, &stop, &mut diags);
        let gitea = gitea::configure(config, &stop, &mut diags);
        let coder = coder::configure(config, &stop, &mut diags);
        let docker = docker::configure(config, &stop, &mut diags);
        diags.into_result()?;
        Ok(Clients {
            litellm,
            authentik,
            gitea,
            coder,
            docker,
            stop,
        })
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Clients>>> {
        let mut all: Vec<Arc<dyn Resource<Clients>>> = vec![
            Arc::new(litellm::key::KeyResource),
            Arc::new(litellm::team::TeamResource),
            Arc::new(litellm::model::ModelResource),
        ];
        all.extend(authentik::resources());
        all.extend(gitea::resources());
        all.extend(coder::resources());
        all.extend(docker::resources());
        all.extend(crate::tls::resources());
        all.extend(crate::random::resources());
        all
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Clients>>> {
        let mut all: Vec<Arc<dyn DataSource<Clients>>> =
            vec![Arc::new(litellm::key_data::KeyDataSource)];
        all.extend(authentik::data_sources());
        all.extend(gitea::data_sources());
        all.extend(coder::data_sources());
        all.extend(docker::data_sources());
        all
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource<Clients>>> {
        let mut all: Vec<Arc<dyn EphemeralResource<Clients>>> =
            vec![Arc::new(litellm::ephemeral_key::EphemeralKey)];
        all.extend(gitea::ephemeral_resources());
        all
    }
}
