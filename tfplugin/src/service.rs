//! One service's connection block: `url`, a secret, `ca_file`, `ca_pem` and `insecure`,
//! each also taken from the environment, resolved into a client [`Slot`].

use crate::framework::validators::HttpUrl;
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::schema::{Attribute, Block};
use crate::protocol::value::Value;

/// TLS settings of one service block.
#[derive(Clone, Default)]
pub struct TlsOptions {
    /// PEM file with extra trusted CA certificates (e.g. a self-signed :7443 cert).
    pub ca_file: Option<String>,
    /// Extra trusted CA certificates as PEM text (e.g. `webide_tls_certificate.x.cert_pem`).
    pub ca_pem: Option<String>,
    /// Skip certificate verification entirely (explicit opt-in).
    pub insecure: bool,
}

/// The PEM text stays out of debug output (only its length is shown).
impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions")
            .field("ca_file", &self.ca_file)
            .field(
                "ca_pem",
                &self.ca_pem.as_ref().map(|p| format!("<{} bytes>", p.len())),
            )
            .field("insecure", &self.insecure)
            .finish()
    }
}

impl TlsOptions {
    /// The settings of a service block (`ca_file`, `ca_pem`, `insecure`); with `env`, an unset
    /// `ca_file` / `ca_pem` comes from `WEBIDE_CA_FILE` / `WEBIDE_CA_PEM`.
    pub fn from_block(block: &Value, env: bool) -> TlsOptions {
        let val = |attr: &str, var: &str| {
            block
                .get(attr)
                .as_str()
                .map(str::to_string)
                .or_else(|| env.then(|| env_first(&[var])).flatten())
        };
        TlsOptions {
            ca_file: val("ca_file", "WEBIDE_CA_FILE"),
            ca_pem: val("ca_pem", "WEBIDE_CA_PEM"),
            insecure: block.get("insecure").as_bool().unwrap_or(false),
        }
    }
}

/// The `ca_pem` attribute every service block (and `webide_coder_first_user`) has.
pub fn ca_pem_attribute(env: bool) -> Attribute {
    Attribute::string("ca_pem")
        .optional()
        .describe(&format!(
            "PEM text of extra CA certificates to trust, e.g. `webide_tls_certificate.coder.cert_pem` (a self-signed certificate is its own CA); with `ca_file`, both are trusted. Checked at validate.{}",
            if env { " Env: `WEBIDE_CA_PEM`." } else { "" }
        ))
        .validate(PemCertificates)
}

/// Validator: the value is PEM text with at least one certificate usable as a trust anchor.
pub struct PemCertificates;

impl crate::protocol::schema::Validator for PemCertificates {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let Some(pem) = value.as_str() else { return };
        if let Err(e) = ca_certificates(pem.as_bytes(), "ca_pem") {
            diags.push_attr_error(
                path.clone(),
                format!("Invalid value for {path}"),
                format!("{e:#}"),
            );
        }
    }
    fn description(&self) -> String {
        "PEM text with at least one CA certificate".into()
    }
}

/// The certificates of PEM text (`what` names its origin in errors, never its content), each
/// checked to be usable as a trust anchor.
pub fn ca_certificates(
    pem: &[u8],
    what: &str,
) -> anyhow::Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    use anyhow::{anyhow, Context};
    let certs: Vec<rustls::pki_types::CertificateDer<'static>> =
        rustls_pemfile::certs(&mut &pem[..])
            .collect::<Result<_, _>>()
            .with_context(|| format!("{what} is not valid PEM"))?;
    if certs.is_empty() {
        return Err(anyhow!(
            "{what} holds no PEM certificate (expected a -----BEGIN CERTIFICATE----- block)"
        ));
    }
    let mut check = rustls::RootCertStore::empty();
    for (i, c) in certs.iter().enumerate() {
        check.add(c.clone()).map_err(|e| {
            anyhow!(
                "certificate {} of {what} is not a usable CA certificate: {e}",
                i + 1
            )
        })?;
    }
    Ok(certs)
}

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

/// The one client a resource needs, asked of the provider's data: a resource declares
/// `impl<D: ClientOf<MyClient>> Resource<D> for MyResource` and calls `data.client()?`, so it
/// names its own service's client and never the provider's set of all clients (which
/// implements this trait once per client, e.g. with [`Slot::get`]).
pub trait ClientOf<C>: Send + Sync {
    /// The client, or why there is none (service not configured, configuration unknown).
    fn client(&self) -> Result<&C, Diagnostics>;
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
            .attr(ca_pem_attribute(true))
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
