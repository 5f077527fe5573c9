//! API simulators ("sandbox") for the services webide manages: one module per
//! service, each on its own port: LiteLLM, Authentik, Gitea, Coder.

pub mod authentik;
pub mod coder;
pub mod contract;
pub mod faults;
pub mod gitea;
pub mod http;
pub mod litellm;
pub mod persist;
mod server;
pub mod store;
pub mod time;
pub mod tls;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Default LiteLLM master key.
pub const DEFAULT_LITELLM_MASTER_KEY: &str = "sk-webide-master";
/// Default Authentik API token (an `akadmin` token of intent `api`).
pub const DEFAULT_AUTHENTIK_TOKEN: &str = "webide-authentik-admin-token";
/// Default Gitea site admin (the seeds' `gitea` / `admin123`) and its access token.
pub const DEFAULT_GITEA_ADMIN: (&str, &str) = ("gitea", "admin123");
pub const DEFAULT_GITEA_TOKEN: &str = "0b5e1c0d2a4f4e6b8c9d7a1f3e5b7c9d1a3f5e7b";
/// Default Coder owner (email, password) and its session token.
pub const DEFAULT_CODER_ADMIN: (&str, &str) = ("admin@webide.local", "webide-admin-1");
pub const DEFAULT_CODER_TOKEN: &str = "WebideAdm1-webideSandboxSessionTok1";

/// Listening ports, one per simulator (0 = any free port).
#[derive(Clone, Copy, Debug, Default)]
pub struct Ports {
    pub litellm: u16,
    pub authentik: u16,
    pub gitea: u16,
    pub coder: u16,
}

impl Ports {
    /// The ports the real services use in the seeds.
    pub const SEEDS: Ports = Ports {
        litellm: 4000,
        authentik: 9000,
        gitea: 3000,
        coder: 7080,
    };
}

/// What to simulate and how.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Admin key of the LiteLLM simulator (must start with `sk-`).
    pub litellm_master_key: String,
    /// API token of Authentik's `akadmin`.
    pub authentik_token: String,
    /// Gitea site admin username and password (basic auth), and its token.
    pub gitea_admin_username: String,
    pub gitea_admin_password: String,
    pub gitea_admin_token: String,
    /// Coder's first user (owner): email, password, and its session token.
    pub coder_admin_email: String,
    pub coder_admin_password: String,
    pub coder_session_token: String,
    /// Coder holds a Premium licence: without one (the default, like a fresh Coder) every
    /// group endpoint answers 403 "Template RBAC is a Premium feature". CLI `--coder-premium`,
    /// env `WEBIDE_SANDBOX_CODER_PREMIUM=1`.
    pub coder_premium: bool,
    /// Coder starts without users, like a fresh install: `GET /users/first` answers 404 until
    /// someone calls `POST /users/first`, and only session tokens from `POST /users/login`
    /// authenticate (the fixed `coder_session_token` and admin do not exist). CLI
    /// `--coder-fresh`, env `WEBIDE_SANDBOX_CODER_FRESH=1`.
    pub coder_fresh: bool,
    /// Where state is loaded from and saved to (`litellm.json`, ...); `None` keeps it in memory.
    pub state_dir: Option<PathBuf>,
    /// Injected faults, per service.
    pub faults: faults::FaultSpec,
    /// Serve HTTPS with a fresh self-signed certificate for `localhost` and
    /// 127.0.0.1 (its PEM is [`RunningSandbox::ca_pem`]).
    pub tls: bool,
    /// Serve only the Coder simulator over HTTPS (the seeds' Coder on :7443; the others stay
    /// plain HTTP), with the certificate of `tls`.
    pub coder_tls: bool,
    /// Check every request and answer against the upstream API documents (see [`contract`];
    /// on by default). Without the documents the checks are skipped with a message, and
    /// [`start`] fails under `CI`. CLI `--no-contract-checks`; env
    /// `WEBIDE_SANDBOX_CONTRACT_CHECKS=0` sets the default to off.
    pub contract_checks: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            litellm_master_key: DEFAULT_LITELLM_MASTER_KEY.into(),
            authentik_token: DEFAULT_AUTHENTIK_TOKEN.into(),
            gitea_admin_username: DEFAULT_GITEA_ADMIN.0.into(),
            gitea_admin_password: DEFAULT_GITEA_ADMIN.1.into(),
            gitea_admin_token: DEFAULT_GITEA_TOKEN.into(),
            coder_admin_email: DEFAULT_CODER_ADMIN.0.into(),
            coder_admin_password: DEFAULT_CODER_ADMIN.1.into(),
            coder_session_token: DEFAULT_CODER_TOKEN.into(),
            coder_premium: false,
            coder_fresh: false,
            state_dir: None,
            faults: Default::default(),
            tls: false,
            coder_tls: false,
            // WEBIDE_SANDBOX_CONTRACT_CHECKS=0 turns them off (to measure their cost).
            contract_checks: std::env::var("WEBIDE_SANDBOX_CONTRACT_CHECKS")
                .map_or(true, |v| !matches!(v.trim(), "0" | "false")),
        }
    }
}

/// The running simulators. Dropping it stops them too.
pub struct RunningSandbox {
    /// Base URL of the LiteLLM simulator, e.g. `http://127.0.0.1:4000`.
    pub litellm_url: String,
    /// Base URL of the Authentik simulator (API under `/api/v3`).
    pub authentik_url: String,
    /// Base URL of the Gitea simulator (API under `/api/v1`).
    pub gitea_url: String,
    /// Base URL of the Coder simulator (API under `/api/v2`).
    pub coder_url: String,
    /// The configuration it runs with (credentials).
    pub config: SandboxConfig,
    /// With `tls` or `coder_tls`: the PEM of the self-signed certificate (trust it as a CA).
    pub ca_pem: Option<String>,
    /// With `tls` or `coder_tls`: replaces the certificate the simulators serve.
    pub tls_identity: Option<tls::Identity>,
    litellm_store: litellm::Store,
    authentik_store: authentik::Store,
    gitea_store: gitea::Store,
    coder_store: coder::Store,
    requests: BTreeMap<&'static str, Arc<AtomicU64>>,
    contract: Option<contract::Log>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningSandbox {
    /// Contract violations recorded so far, every service (empty when the checks are off).
    pub fn contract_violations(&self) -> Vec<contract::Violation> {
        self.contract
            .as_ref()
            .map(contract::Log::violations)
            .unwrap_or_default()
    }

    /// Removes and returns the violations recorded so far: a test that sends a wrong request
    /// on purpose takes (and asserts) the one it caused.
    pub fn take_contract_violations(&self) -> Vec<contract::Violation> {
        self.contract
            .as_ref()
            .map(contract::Log::take)
            .unwrap_or_default()
    }

    /// `(checked exchanges, excused violations)`; `None` when the checks are off.
    pub fn contract_counts(&self) -> Option<(u64, u64)> {
        self.contract.as_ref().map(contract::Log::counts)
    }

    /// Time the checks took so far, and the one-off time of loading the documents.
    pub fn contract_cost(&self) -> Option<(std::time::Duration, std::time::Duration)> {
        let load = contract::Contract::shared().ok().flatten()?.load_time;
        self.contract.as_ref().map(|l| (l.spent(), load))
    }

    /// HTTP requests `service` (e.g. `"litellm"`) has answered so far (benchmarks count the
    /// API calls of a refresh with it).
    pub fn requests(&self, service: &str) -> u64 {
        self.requests
            .get(service)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Stops every simulator and closes their ports and connections.
    pub async fn shutdown(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
            let _ = task.await;
        }
    }

    /// Handle on the LiteLLM simulator's state.
    pub fn litellm_store(&self) -> litellm::Store {
        self.litellm_store.clone()
    }

    /// Handle on the Authentik simulator's state.
    pub fn authentik_store(&self) -> authentik::Store {
        self.authentik_store.clone()
    }

    /// Handle on the Gitea simulator's state.
    pub fn gitea_store(&self) -> gitea::Store {
        self.gitea_store.clone()
    }

    /// Handle on the Coder simulator's state.
    pub fn coder_store(&self) -> coder::Store {
        self.coder_store.clone()
    }

    /// `(service, url)` for every simulator.
    pub fn urls(&self) -> [(&'static str, &str); 4] {
        [
            (litellm::SERVICE, self.litellm_url.as_str()),
            (authentik::SERVICE, self.authentik_url.as_str()),
            (gitea::SERVICE, self.gitea_url.as_str()),
            (coder::SERVICE, self.coder_url.as_str()),
        ]
    }
}

impl Drop for RunningSandbox {
    /// Stops the simulators, and prints the contract violations nobody has read (a test that
    /// failed before its `assert_contract`): the test fails anyway, and its output then shows
    /// them next to its own error. Printing rather than panicking keeps the test's error (a
    /// panic here would replace a returned `Err`, or abort during an unwinding one).
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
        let Some(log) = &self.contract else { return };
        let unread = log.unread();
        if unread.is_empty() {
            return;
        }
        let list: Vec<String> = unread.iter().map(|v| format!("  {v}")).collect();
        eprintln!(
            "webide-sandbox: {} contract violation(s) never read (the test ended before its contract check):\n{}",
            unread.len(),
            list.join("\n")
        );
    }
}

/// Binds `host:port` and serves `app` (with the service's injected faults).
struct Listen<'a> {
    config: &'a SandboxConfig,
    host: &'a str,
    started: Instant,
    tls: Option<tokio_rustls::TlsAcceptor>,
    tasks: Vec<JoinHandle<()>>,
    requests: BTreeMap<&'static str, Arc<AtomicU64>>,
    contract: Option<(Arc<contract::Contract>, contract::Log)>,
    litellm_store: litellm::Store,
}

impl Listen<'_> {
    /// Binds `host:port` and serves `app` (with the service's injected faults).
    async fn serve(
        &mut self,
        port: u16,
        service: &'static str,
        app: Router,
        is_health: fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        // Inside the fault layer: injected failures are not the simulator's answers.
        let app = match &self.contract {
            Some((c, log)) => match c.checker(service, log.clone()) {
                // LiteLLM's answers are mostly untyped: its stored rows are held to the
                // proxy's Prisma models instead.
                Some(checker) if service == litellm::SERVICE => checker
                    .with_rows(contract::rows::litellm(
                        c.prisma.clone(),
                        self.litellm_store.clone(),
                    ))
                    .layer(app),
                Some(checker) => checker.layer(app),
                None => app,
            },
            None => app,
        };
        let app = faults::apply(
            app,
            self.config.faults.get(service),
            self.started,
            is_health,
        );
        let counter = self.requests.entry(service).or_default().clone();
        // Counts every request, those answered by injected faults too.
        let app = app.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                counter.fetch_add(1, Ordering::Relaxed);
                next.run(req)
            },
        ));
        let host = self.host;
        let listener = TcpListener::bind((host, port))
            .await
            .with_context(|| format!("binding {host}:{port} for {service}"))?;
        let addr = listener.local_addr()?;
        let tls = self
            .tls
            .clone()
            .filter(|_| self.config.tls || service == coder::SERVICE);
        self.tasks
            .push(tokio::spawn(server::serve(listener, app, tls.clone())));
        Ok(match tls {
            // The certificate names localhost; a loopback bind is reachable by that name.
            Some(_) if addr.ip().is_loopback() => format!("https://localhost:{}", addr.port()),
            Some(_) => format!("https://{addr}"),
            None => format!("http://{addr}"),
        })
    }
}

/// Starts every simulator on `bind_host`.
pub async fn start(
    config: SandboxConfig,
    bind_host: &str,
    ports: Ports,
) -> anyhow::Result<RunningSandbox> {
    let started = Instant::now();
    if !config.litellm_master_key.starts_with("sk-") {
        bail!("the LiteLLM master key must start with 'sk-'");
    }
    let dir = config.state_dir.as_deref();
    let litellm_store = litellm::Store::open(dir)?;
    let authentik_store = authentik::Store::open(dir, authentik::STATE_FILE)?;
    let gitea_store = gitea::Store::open(dir, gitea::STATE_FILE)?;
    let coder_store = coder::Store::open(dir, coder::STATE_FILE)?;
    let (tls, ca_pem, tls_identity) = if config.tls || config.coder_tls {
        let (acceptor, pem, identity) = tls::self_signed_acceptor()?;
        (Some(acceptor), Some(pem), Some(identity))
    } else {
        (None, None, None)
    };
    let contract = if config.contract_checks {
        contract_documents()
            .await?
            .map(|c| (c, contract::Log::default()))
    } else {
        None
    };
    let log = contract.as_ref().map(|(_, log)| log.clone());
    let c = &config;
    let mut l = Listen {
        config: c,
        host: bind_host,
        started,
        tls,
        tasks: Vec::new(),
        requests: BTreeMap::new(),
        contract,
        litellm_store: litellm_store.clone(),
    };
    let litellm_url = l
        .serve(
            ports.litellm,
            litellm::SERVICE,
            litellm::router(c.litellm_master_key.clone(), litellm_store.clone()),
            litellm::is_health,
        )
        .await?;
    let authentik_url = l
        .serve(
            ports.authentik,
            authentik::SERVICE,
            authentik::router(c, authentik_store.clone()),
            authentik::is_health,
        )
        .await?;
    let gitea_url = l
        .serve(
            ports.gitea,
            gitea::SERVICE,
            gitea::router(c, gitea_store.clone()),
            gitea::is_health,
        )
        .await?;
    let coder_url = l
        .serve(
            ports.coder,
            coder::SERVICE,
            coder::router(c, coder_store.clone()),
            coder::is_health,
        )
        .await?;
    let (tasks, requests) = (l.tasks, l.requests);
    Ok(RunningSandbox {
        litellm_url,
        authentik_url,
        gitea_url,
        coder_url,
        config,
        ca_pem,
        tls_identity,
        litellm_store,
        authentik_store,
        gitea_store,
        coder_store,
        requests,
        contract: log,
        tasks,
    })
}

/// The upstream documents for the contract checks; `None` (with a message, once) when they
/// are absent, an error under `CI`.
async fn contract_documents() -> anyhow::Result<Option<Arc<contract::Contract>>> {
    static SAID: std::sync::Once = std::sync::Once::new();
    let loaded = tokio::task::spawn_blocking(contract::Contract::shared)
        .await?
        .context("loading the API documents for the contract checks")?;
    if loaded.is_none() {
        let dir = contract::Contract::specs_dir();
        if std::env::var_os("CI").is_some() {
            bail!(
                "contract checks: {} is absent under CI; set WEBIDE_SPECS_DIR",
                dir.display()
            );
        }
        SAID.call_once(|| {
            eprintln!(
                "SKIPPED contract checks: {} is absent; set WEBIDE_SPECS_DIR",
                dir.display()
            )
        });
    }
    Ok(loaded)
}

const CLI_USAGE: &str = "usage: webide-sandbox [--host H] [--PORT-FLAG P]... [--any-ports] [--state-dir D]
  --host H             address to listen on (default 127.0.0.1)
  --litellm-port P     LiteLLM simulator port (default 4000)
  --authentik-port P   Authentik simulator port (default 9000)
  --gitea-port P       Gitea simulator port (default 3000)
  --coder-port P       Coder simulator port (default 7080)
  --any-ports          every port not given explicitly is 0 (any free port)
  --state-dir D        load and save state in D (default: in memory)
  --coder-premium      Coder with a Premium licence (groups); default: unlicensed
  --coder-fresh        Coder without users (create the first one: POST /api/v2/users/first)
  --no-contract-checks do not check exchanges against the upstream API documents
  --tls                serve HTTPS with a self-signed certificate; its PEM is written
                       to sandbox-ca.pem in the state dir (or the current directory)
  --coder-tls          the same for the Coder simulator only (the seeds' :7443)
environment: LITELLM_MASTER_KEY (default sk-webide-master),
             WEBIDE_SANDBOX_CODER_PREMIUM=1 (same as --coder-premium),
             WEBIDE_SANDBOX_CODER_FRESH=1 (same as --coder-fresh),
             WEBIDE_SANDBOX_FAULTS (e.g. litellm:latency_ms=200,error_rate=0.2;gitea:down_for_secs=5)";

/// Runs the sandbox for a person. Prints one line per service
/// (`litellm http://127.0.0.1:4000 master_key=sk-...`) and runs until Ctrl-C
/// (or SIGTERM).
pub async fn run_cli(args: Vec<String>) -> anyhow::Result<()> {
    let mut host = "127.0.0.1".to_string();
    let mut config = SandboxConfig::default();
    let mut given: [Option<u16>; 4] = [None; 4];
    let mut any = false;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| anyhow!("{e}\n{CLI_USAGE}"))? {
        use lexopt::prelude::*;
        // Flags are matched by name once the borrowed argument is released, so a flag's value
        // can be read from the same parser.
        let flag = match arg {
            Short('h') | Long("help") => {
                println!("{CLI_USAGE}");
                return Ok(());
            }
            Long(name) => name.to_string(),
            other => bail!("{}\n{CLI_USAGE}", other.unexpected()),
        };
        let mut value = || -> anyhow::Result<String> {
            parser
                .value()
                .map_err(|e| anyhow!("--{flag}: {e}\n{CLI_USAGE}"))?
                .into_string()
                .map_err(|v| anyhow!("--{flag}: not UTF-8: {v:?}"))
        };
        let port_slot = match flag.as_str() {
            "litellm-port" => Some(0),
            "authentik-port" => Some(1),
            "gitea-port" => Some(2),
            "coder-port" => Some(3),
            _ => None,
        };
        if let Some(i) = port_slot {
            let v = value()?;
            given[i] = Some(v.parse().with_context(|| format!("--{flag} {v:?}"))?);
            continue;
        }
        match flag.as_str() {
            "host" => host = value()?,
            "any-ports" => any = true,
            "tls" => config.tls = true,
            "coder-tls" => config.coder_tls = true,
            "no-contract-checks" => config.contract_checks = false,
            "coder-premium" => config.coder_premium = true,
            "coder-fresh" => config.coder_fresh = true,
            "state-dir" => config.state_dir = Some(value()?.into()),
            _ => bail!("unknown argument --{flag}\n{CLI_USAGE}"),
        }
    }
    let d = if any { Ports::default() } else { Ports::SEEDS };
    let ports = Ports {
        litellm: given[0].unwrap_or(d.litellm),
        authentik: given[1].unwrap_or(d.authentik),
        gitea: given[2].unwrap_or(d.gitea),
        coder: given[3].unwrap_or(d.coder),
    };
    if let Ok(key) = std::env::var("LITELLM_MASTER_KEY") {
        config.litellm_master_key = key;
    }
    config.faults = faults::FaultSpec::from_env()?;
    if std::env::var("WEBIDE_SANDBOX_CODER_PREMIUM").is_ok_and(|v| matches!(v.trim(), "1" | "true"))
    {
        config.coder_premium = true;
    }
    if std::env::var("WEBIDE_SANDBOX_CODER_FRESH").is_ok_and(|v| matches!(v.trim(), "1" | "true")) {
        config.coder_fresh = true;
    }
    let stop = stop_signal()?;
    let sandbox = start(config, &host, ports).await?;
    let c = &sandbox.config;
    if let Some(pem) = &sandbox.ca_pem {
        let dir = c.state_dir.clone().unwrap_or_else(|| PathBuf::from("."));
        let path = dir.join("sandbox-ca.pem");
        std::fs::create_dir_all(&dir).ok();
        std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?;
        println!("ca_file {}", path.display());
    }
    println!(
        "{} {} master_key={}",
        litellm::SERVICE,
        sandbox.litellm_url,
        c.litellm_master_key
    );
    println!(
        "{} {} token={}",
        authentik::SERVICE,
        sandbox.authentik_url,
        c.authentik_token
    );
    println!(
        "{} {} token={} username={} password={}",
        gitea::SERVICE,
        sandbox.gitea_url,
        c.gitea_admin_token,
        c.gitea_admin_username,
        c.gitea_admin_password
    );
    let licence = if c.coder_premium { "premium" } else { "none" };
    if c.coder_fresh {
        println!(
            "{} {} no users yet (POST /api/v2/users/first) licence={licence}",
            coder::SERVICE,
            sandbox.coder_url,
        );
    } else {
        println!(
            "{} {} session_token={} email={} password={} licence={licence}",
            coder::SERVICE,
            sandbox.coder_url,
            c.coder_session_token,
            c.coder_admin_email,
            c.coder_admin_password,
        );
    }
    stop.await;
    sandbox.shutdown().await;
    Ok(())
}

type Stop = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Resolves on Ctrl-C (and SIGTERM on Unix). The handlers are installed at
/// once, so a signal sent right after the URLs are printed is not missed.
fn stop_signal() -> anyhow::Result<Stop> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut int = signal(SignalKind::interrupt()).context("SIGINT handler")?;
        let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
        Ok(Box::pin(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }))
    }
    #[cfg(not(unix))]
    Ok(Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    }))
}
