//! API simulators ("sandbox") for the services webide manages: one module per
//! service, each on its own port. Today: LiteLLM.

pub mod faults;
pub mod http;
pub mod litellm;
pub mod persist;
mod server;
pub mod time;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Default LiteLLM master key.
pub const DEFAULT_LITELLM_MASTER_KEY: &str = "sk-webide-master";

/// What to simulate and how.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Admin key of the LiteLLM simulator (must start with `sk-`).
    pub litellm_master_key: String,
    /// Where state is loaded from and saved to (`litellm.json`, ...); `None` keeps it in memory.
    pub state_dir: Option<PathBuf>,
    /// Injected faults, per service.
    pub faults: faults::FaultSpec,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            litellm_master_key: DEFAULT_LITELLM_MASTER_KEY.into(),
            state_dir: None,
            faults: Default::default(),
        }
    }
}

/// The running simulators. Dropping it stops them too.
pub struct RunningSandbox {
    /// Base URL of the LiteLLM simulator, e.g. `http://127.0.0.1:4000`.
    pub litellm_url: String,
    litellm_store: litellm::Store,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningSandbox {
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
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

/// Starts the simulators on `bind_host` (port 0 = any free port).
pub async fn start(
    config: SandboxConfig,
    bind_host: &str,
    litellm_port: u16,
) -> anyhow::Result<RunningSandbox> {
    let started = Instant::now();
    if !config.litellm_master_key.starts_with("sk-") {
        bail!("the LiteLLM master key must start with 'sk-'");
    }
    let store = litellm::Store::open(config.state_dir.as_deref())?;
    let app = litellm::router(config.litellm_master_key.clone(), store.clone());
    let app = faults::apply(
        app,
        config.faults.get(litellm::SERVICE),
        started,
        litellm::is_health,
    );
    let listener = TcpListener::bind((bind_host, litellm_port))
        .await
        .with_context(|| format!("binding {bind_host}:{litellm_port} for litellm"))?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(server::serve(listener, app));
    Ok(RunningSandbox {
        litellm_url: format!("http://{addr}"),
        litellm_store: store,
        tasks: vec![task],
    })
}

const CLI_USAGE: &str = "usage: sandbox [--host H] [--litellm-port P] [--state-dir D]
  --host H          address to listen on (default 127.0.0.1)
  --litellm-port P  LiteLLM simulator port (default 4000, 0 = any)
  --state-dir D     load and save state in D (default: in memory)
environment: LITELLM_MASTER_KEY (default sk-webide-master),
             WEBIDE_SANDBOX_FAULTS (e.g. litellm:latency_ms=200,error_rate=0.2)";

/// Runs the sandbox for a person: `[--host H] [--litellm-port P] [--state-dir D]`.
/// Prints one line per service (`litellm http://127.0.0.1:4000 master_key=sk-...`)
/// and runs until Ctrl-C (or SIGTERM).
pub async fn run_cli(args: Vec<String>) -> anyhow::Result<()> {
    let (mut host, mut port, mut config) =
        ("127.0.0.1".to_string(), 4000u16, SandboxConfig::default());
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if matches!(flag.as_str(), "-h" | "--help") {
            println!("{CLI_USAGE}");
            return Ok(());
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .with_context(|| format!("{flag} needs a value\n{CLI_USAGE}"))
        };
        match flag.as_str() {
            "--host" => host = value()?,
            "--litellm-port" => port = value()?.parse().context("--litellm-port")?,
            "--state-dir" => config.state_dir = Some(value()?.into()),
            other => bail!("unknown argument {other:?}\n{CLI_USAGE}"),
        }
    }
    if let Ok(key) = std::env::var("LITELLM_MASTER_KEY") {
        config.litellm_master_key = key;
    }
    config.faults = faults::FaultSpec::from_env()?;
    let master_key = config.litellm_master_key.clone();
    let stop = stop_signal()?;
    let sandbox = start(config, &host, port).await?;
    println!(
        "{} {} master_key={master_key}",
        litellm::SERVICE,
        sandbox.litellm_url
    );
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
