//! `TfWorkdir`: a temporary Terraform working directory and the commands run in it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::process::{run_async, CmdOutput};

/// Default time limit for one Terraform command (`$WEBIDE_ACC_TIMEOUT_SECS` overrides it).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Environment variables inherited from the caller that would change how Terraform behaves;
/// they are removed (set them on the workdir explicitly if a test needs them).
const SCRUBBED_ENV: &[&str] = &[
    "TF_LOG",
    "TF_LOG_PATH",
    "TF_LOG_CORE",
    "TF_LOG_PROVIDER",
    "TF_DATA_DIR",
    "TF_WORKSPACE",
    "TF_PLUGIN_CACHE_DIR",
    "TF_REATTACH_PROVIDERS",
    "TF_CLI_ARGS",
    "TF_IGNORE",
    "TF_APPEND_USER_AGENT",
];

/// The default timeout, or `$WEBIDE_ACC_TIMEOUT_SECS`.
pub fn default_timeout() -> Duration {
    std::env::var("WEBIDE_ACC_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// Result of `terraform plan -detailed-exitcode`: exit code 0 (no changes) or 2 (changes).
/// Exit code 1 (an error) is returned as `Err` by [`TfWorkdir::plan`] instead.
#[derive(Debug, Clone)]
pub struct PlanOutcome {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl PlanOutcome {
    /// True when the plan has changes (exit code 2).
    pub fn has_changes(&self) -> bool {
        self.exit_code == 2
    }

    /// Ok when the plan is empty; else an error with the whole plan output.
    pub fn assert_empty(&self) -> Result<()> {
        if self.has_changes() {
            bail!(
                "expected an empty plan, but terraform plans changes:\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.stdout,
                self.stderr
            );
        }
        Ok(())
    }

    /// Ok when the plan has changes; else an error with the whole plan output.
    pub fn assert_changes(&self) -> Result<()> {
        if !self.has_changes() {
            bail!(
                "expected a plan with changes, but it is empty:\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.stdout,
                self.stderr
            );
        }
        Ok(())
    }
}

/// A temporary Terraform working directory bound to one CLI and one CLI configuration.
///
/// Every command runs with `TF_CLI_CONFIG_FILE`, `CHECKPOINT_DISABLE=1`, `TF_IN_AUTOMATION=1`,
/// `TF_INPUT=0`, the caller's environment minus the `TF_*` variables that change Terraform's
/// behaviour (`TF_LOG`, `TF_DATA_DIR`, `TF_VAR_*`, `TF_CLI_ARGS*`, ...), plus the variables given
/// with [`TfWorkdir::set_env`]. Commands are async and never block the tokio runtime.
///
/// The directory is deleted on drop, unless `$WEBIDE_ACC_KEEP=1` (then its path is printed).
pub struct TfWorkdir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    cli: PathBuf,
    env: BTreeMap<String, String>,
    timeout: Duration,
    log_path: Option<PathBuf>,
    _keepalive: Option<Arc<dyn Send + Sync>>,
}

impl std::fmt::Debug for TfWorkdir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TfWorkdir")
            .field("path", &self.path)
            .field("cli", &self.cli)
            .field("env", &self.env)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl TfWorkdir {
    /// A new empty temporary directory using the CLI at `cli` and the CLI configuration
    /// `cli_config` (usually [`crate::Harness::workdir`] does this).
    pub fn new(cli: &Path, cli_config: &Path) -> Result<TfWorkdir> {
        let dir = tempfile::Builder::new()
            .prefix("webide-acc-")
            .tempdir()
            .context("creating a temporary working directory")?;
        let path = dir.path().to_path_buf();
        let mut env = BTreeMap::new();
        env.insert(
            "TF_CLI_CONFIG_FILE".to_string(),
            cli_config.to_string_lossy().into_owned(),
        );
        env.insert("CHECKPOINT_DISABLE".into(), "1".into());
        env.insert("TF_IN_AUTOMATION".into(), "1".into());
        env.insert("TF_INPUT".into(), "0".into());
        Ok(TfWorkdir {
            dir: Some(dir),
            path,
            cli: cli.to_path_buf(),
            env,
            timeout: default_timeout(),
            log_path: None,
            _keepalive: None,
        })
    }

    /// Keeps `value` alive as long as this workdir (the harness's mirror, a sandbox, ...).
    pub fn keep_alive(&mut self, value: Arc<dyn Send + Sync>) {
        self._keepalive = Some(value);
    }

    /// The directory.
    /// Runs later commands in `sub` (a directory below the current one), e.g. an example
    /// that references sibling modules copied next to it.
    pub fn chdir(&mut self, sub: &str) -> Result<&mut Self> {
        let p = self.path.join(sub);
        if !p.is_dir() {
            bail!("{} is not a directory", p.display());
        }
        self.path = p;
        Ok(self)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `content` to `name` (relative to the workdir; parent directories are created).
    pub fn write(&self, name: &str, content: &str) -> Result<PathBuf> {
        let p = self.path.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&p, content).with_context(|| format!("writing {}", p.display()))?;
        Ok(p)
    }

    /// Reads `name` (relative to the workdir).
    pub fn read(&self, name: &str) -> Result<String> {
        let p = self.path.join(name);
        fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
    }

    /// Removes `name` (relative to the workdir).
    pub fn remove(&self, name: &str) -> Result<()> {
        let p = self.path.join(name);
        fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))
    }

    /// Sets an environment variable for every later command (e.g. `LITELLM_PROXY_URL`).
    pub fn set_env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Points the `webide` provider at every simulator of `sb` (URLs and admin credentials of
    /// LiteLLM, Authentik, Gitea and Coder, through the provider's environment variables).
    pub fn set_sandbox_env(&mut self, sb: &webide_sandbox::RunningSandbox) -> &mut Self {
        self.set_env("LITELLM_PROXY_URL", &sb.litellm_url)
            .set_env("LITELLM_MASTER_KEY", &sb.config.litellm_master_key)
            .set_env("AUTHENTIK_URL", &sb.authentik_url)
            .set_env("AUTHENTIK_TOKEN", &sb.config.authentik_token)
            .set_env("GITEA_BASE_URL", &sb.gitea_url)
            .set_env("GITEA_TOKEN", &sb.config.gitea_admin_token)
            .set_env("CODER_URL", &sb.coder_url)
            .set_env("CODER_SESSION_TOKEN", &sb.config.coder_session_token)
    }

    /// Removes a variable set with [`TfWorkdir::set_env`].
    pub fn remove_env(&mut self, key: &str) -> &mut Self {
        self.env.remove(key);
        self
    }

    /// The variables given to every command (on top of the scrubbed inherited environment).
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// Time limit for each later command.
    pub fn set_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// Turns on Terraform's log at `level` (e.g. `trace`) into `<workdir>/terraform.log` and
    /// returns that path. Terraform appends to it across commands.
    pub fn enable_log(&mut self, level: &str) -> PathBuf {
        let p = self.path.join("terraform.log");
        self.set_log(level, &p);
        p
    }

    /// Turns on Terraform's log at `level` into `path`.
    pub fn set_log(&mut self, level: &str, path: &Path) -> &mut Self {
        self.env.insert("TF_LOG".into(), level.into());
        self.env
            .insert("TF_LOG_PATH".into(), path.to_string_lossy().into_owned());
        self.log_path = Some(path.to_path_buf());
        self
    }

    /// Turns the log off again.
    pub fn disable_log(&mut self) -> &mut Self {
        self.env.remove("TF_LOG");
        self.env.remove("TF_LOG_PATH");
        self.log_path = None;
        self
    }

    /// The whole log written so far (empty when none was written).
    pub fn read_log(&self) -> Result<String> {
        match &self.log_path {
            None => bail!("logging is not enabled: call enable_log first"),
            Some(p) => match fs::read(p) {
                Ok(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
                Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
            },
        }
    }

    /// The `terraform <args>` command with this workdir's directory and environment, for a
    /// caller that manages the process itself (e.g. to signal it).
    pub fn command_for(&self, args: &[&str]) -> tokio::process::Command {
        self.command(args)
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.cli);
        cmd.args(args).current_dir(&self.path);
        let inherited: Vec<OsString> = std::env::vars_os()
            .map(|(k, _)| k)
            .filter(|k| {
                let k = k.to_string_lossy();
                SCRUBBED_ENV.contains(&k.as_ref())
                    || k.starts_with("TF_VAR_")
                    || k.starts_with("TF_CLI_ARGS")
                    || k.starts_with("TF_CLI_CONFIG_FILE")
            })
            .collect();
        for k in inherited {
            cmd.env_remove(k);
        }
        cmd.envs(&self.env);
        cmd
    }

    /// Runs `terraform <args>` and returns its output whatever its exit code; fails only when
    /// it cannot be started or runs past the time limit (the error carries the partial output).
    pub async fn run_unchecked(&self, args: &[&str]) -> Result<CmdOutput> {
        let out = run_async(self.command(args), self.timeout).await?;
        if out.timed_out {
            bail!("{}", out.describe_failure());
        }
        Ok(out)
    }

    /// Runs `terraform <args>`; any non-zero exit is an error carrying the command line and
    /// the full stdout and stderr.
    pub async fn run(&self, args: &[&str]) -> Result<CmdOutput> {
        self.run_unchecked(args).await?.check()
    }

    /// Runs `terraform <args>` expecting it to fail; returns the output of the failure (so a
    /// test can look for the diagnostic), or an error if it succeeded.
    pub async fn run_expect_failure(&self, args: &[&str]) -> Result<CmdOutput> {
        let out = self.run_unchecked(args).await?;
        if out.success() {
            bail!(
                "{out} succeeded but was expected to fail\n--- stdout ---\n{}\n--- stderr ---\n{}",
                out.stdout,
                out.stderr
            );
        }
        Ok(out)
    }

    /// `terraform init -no-color -input=false`.
    pub async fn init(&self) -> Result<CmdOutput> {
        self.run(&["init", "-no-color", "-input=false"]).await
    }

    /// `terraform apply -auto-approve -no-color`.
    pub async fn apply(&self) -> Result<CmdOutput> {
        self.apply_with(&[]).await
    }

    /// `terraform apply -auto-approve -no-color <extra>` (e.g. `-var`, `-refresh-only`).
    pub async fn apply_with(&self, extra: &[&str]) -> Result<CmdOutput> {
        let mut args = vec!["apply", "-auto-approve", "-no-color", "-input=false"];
        args.extend_from_slice(extra);
        self.run(&args).await
    }

    /// `terraform apply` expected to fail: returns its output (look for the diagnostic there).
    pub async fn apply_expect_failure(&self) -> Result<CmdOutput> {
        self.run_expect_failure(&["apply", "-auto-approve", "-no-color", "-input=false"])
            .await
    }

    /// `terraform plan -detailed-exitcode -no-color`.
    pub async fn plan(&self) -> Result<PlanOutcome> {
        self.plan_with(&[]).await
    }

    /// `terraform plan -detailed-exitcode -no-color <extra>`. Exit code 1 is an error.
    pub async fn plan_with(&self, extra: &[&str]) -> Result<PlanOutcome> {
        let mut args = vec!["plan", "-detailed-exitcode", "-no-color", "-input=false"];
        args.extend_from_slice(extra);
        let out = self.run_unchecked(&args).await?;
        match out.exit_code {
            Some(code @ (0 | 2)) => Ok(PlanOutcome {
                exit_code: code,
                stdout: out.stdout,
                stderr: out.stderr,
            }),
            _ => bail!("{}", out.describe_failure()),
        }
    }

    /// `terraform plan` expected to fail (exit code 1): returns its output.
    pub async fn plan_expect_failure(&self) -> Result<CmdOutput> {
        self.run_expect_failure(&["plan", "-no-color", "-input=false"])
            .await
    }

    /// `terraform plan -out` then `terraform show -json` of that plan, parsed.
    pub async fn plan_json(&self) -> Result<Value> {
        self.plan_json_with(&[]).await
    }

    /// Like [`TfWorkdir::plan_json`] with extra plan arguments.
    pub async fn plan_json_with(&self, extra: &[&str]) -> Result<Value> {
        let plan_file = self.path.join(".webide-acc.tfplan");
        let out_arg = format!("-out={}", plan_file.display());
        let mut args = vec!["plan", "-no-color", "-input=false", out_arg.as_str()];
        args.extend_from_slice(extra);
        self.run(&args).await?;
        let plan_str = plan_file.to_string_lossy().into_owned();
        let shown = self.run(&["show", "-json", "-no-color", &plan_str]).await?;
        parse_json(&shown)
    }

    /// The resources a plan would change: address -> actions, leaving out no-ops and data
    /// reads (outputs are not resources: Terraform 1.0 re-plans outputs after `state rm`).
    pub async fn resource_changes(&self) -> Result<BTreeMap<String, Vec<String>>> {
        Ok(planned_actions(&self.plan_json().await?)
            .into_iter()
            .filter(|(_, a)| a.iter().any(|x| x != "no-op" && x != "read"))
            .collect())
    }

    /// Errors unless the plan changes no resource.
    pub async fn assert_no_resource_changes(&self) -> Result<()> {
        let changes = self.resource_changes().await?;
        if !changes.is_empty() {
            bail!("resources change: {changes:?}");
        }
        Ok(())
    }

    /// `terraform show -json` of the state, parsed.
    pub async fn show_state_json(&self) -> Result<Value> {
        let out = self.run(&["show", "-json", "-no-color"]).await?;
        parse_json(&out)
    }

    /// The `values` of the resource at `address` in the current state (searched through child
    /// modules too), or an error listing the addresses that are there.
    pub async fn state_resource(&self, address: &str) -> Result<Value> {
        let state = self.show_state_json().await?;
        match find_resource(&state, address) {
            Some(r) => Ok(r.get("values").cloned().unwrap_or(Value::Null)),
            None => bail!(
                "no resource {address} in the state; it has: {:?}",
                resource_addresses(&state)
            ),
        }
    }

    /// `terraform import -no-color <address> <id>`.
    pub async fn import(&self, address: &str, id: &str) -> Result<CmdOutput> {
        self.run(&["import", "-no-color", "-input=false", address, id])
            .await
    }

    /// `terraform destroy -auto-approve -no-color`.
    pub async fn destroy(&self) -> Result<CmdOutput> {
        self.run(&["destroy", "-auto-approve", "-no-color", "-input=false"])
            .await
    }

    /// `terraform output -json`, parsed: `{"name": {"sensitive": .., "type": .., "value": ..}}`.
    pub async fn output_json(&self) -> Result<Value> {
        let out = self.run(&["output", "-json", "-no-color"]).await?;
        parse_json(&out)
    }

    /// The value of output `name` (from `terraform output -json`).
    pub async fn output(&self, name: &str) -> Result<Value> {
        let all = self.output_json().await?;
        all.get(name)
            .and_then(|o| o.get("value"))
            .cloned()
            .with_context(|| format!("no output {name:?}; outputs are: {all}"))
    }
}

impl Drop for TfWorkdir {
    fn drop(&mut self) {
        if std::env::var("WEBIDE_ACC_KEEP")
            .map(|v| v == "1")
            .unwrap_or(false)
        {
            if let Some(dir) = self.dir.take() {
                let kept = dir.keep();
                eprintln!("[webide-acc] kept workdir {}", kept.display());
            }
        }
    }
}

fn parse_json(out: &CmdOutput) -> Result<Value> {
    serde_json::from_str(out.stdout.trim())
        .with_context(|| format!("{out} did not print JSON:\n{}\n{}", out.stdout, out.stderr))
}

/// All module objects of a `show -json` document (`values.root_module` and its children, or
/// `planned_values.root_module` ... for a plan).
fn modules(doc: &Value) -> Vec<&Value> {
    let root = doc
        .pointer("/values/root_module")
        .or_else(|| doc.pointer("/planned_values/root_module"));
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = root.into_iter().collect();
    while let Some(m) = stack.pop() {
        out.push(m);
        if let Some(children) = m.get("child_modules").and_then(Value::as_array) {
            stack.extend(children.iter());
        }
    }
    out
}

/// The resource object (with `address`, `type`, `values`, ...) at `address` in a state
/// (`show -json`) or plan (`planned_values`) document.
pub fn find_resource<'a>(doc: &'a Value, address: &str) -> Option<&'a Value> {
    modules(doc)
        .into_iter()
        .filter_map(|m| m.get("resources").and_then(Value::as_array))
        .flatten()
        .find(|r| r.get("address").and_then(Value::as_str) == Some(address))
}

/// The addresses of all resources (and data sources) in a state or plan document.
pub fn resource_addresses(doc: &Value) -> Vec<String> {
    modules(doc)
        .into_iter()
        .filter_map(|m| m.get("resources").and_then(Value::as_array))
        .flatten()
        .filter_map(|r| r.get("address").and_then(Value::as_str).map(String::from))
        .collect()
}

/// From a plan JSON document: address -> actions (e.g. `["update"]`, `["delete","create"]`,
/// `["no-op"]`), for every entry of `resource_changes`.
pub fn planned_actions(plan: &Value) -> BTreeMap<String, Vec<String>> {
    plan.get("resource_changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rc| {
            let addr = rc.get("address")?.as_str()?.to_string();
            let actions = rc
                .pointer("/change/actions")?
                .as_array()?
                .iter()
                .filter_map(|a| a.as_str().map(String::from))
                .collect();
            Some((addr, actions))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_helpers() {
        let state = json!({"values": {"root_module": {
            "resources": [{"address": "a.b", "values": {"id": "1"}}],
            "child_modules": [{"resources": [{"address": "module.m.a.c", "values": {"id": "2"}}]}]
        }}});
        assert_eq!(
            find_resource(&state, "module.m.a.c").unwrap()["values"]["id"],
            "2"
        );
        assert!(find_resource(&state, "a.x").is_none());
        let mut addrs = resource_addresses(&state);
        addrs.sort();
        assert_eq!(addrs, vec!["a.b", "module.m.a.c"]);
        let plan = json!({"resource_changes": [
            {"address": "a.b", "change": {"actions": ["delete", "create"]}}
        ]});
        assert_eq!(planned_actions(&plan)["a.b"], vec!["delete", "create"]);
    }

    #[test]
    fn plan_outcome_asserts() {
        let empty = PlanOutcome {
            exit_code: 0,
            stdout: "No changes.".into(),
            stderr: String::new(),
        };
        assert!(empty.assert_empty().is_ok());
        let e = empty.assert_changes().unwrap_err().to_string();
        assert!(e.contains("No changes."), "{e}");
        let changes = PlanOutcome {
            exit_code: 2,
            stdout: "+ create".into(),
            stderr: String::new(),
        };
        assert!(changes.assert_changes().is_ok());
        assert!(changes
            .assert_empty()
            .unwrap_err()
            .to_string()
            .contains("+ create"));
    }
}
