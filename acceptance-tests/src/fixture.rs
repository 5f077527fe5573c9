//! The stand-in service image for Docker tests and the main job: no image can be pulled on
//! these machines, so images are `FROM scratch` + the static `fixture-svc` binary, built here
//! with `-C target-feature=+crt-static` (into `target/fixture`, its own target dir).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Context, Result};

use crate::workspace_root;

const DOCKERFILE: &str =
    "FROM scratch\nCOPY fixture-svc /fixture-svc\nENTRYPOINT [\"/fixture-svc\"]\n";

fn host_target() -> Result<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("running rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or_else(|| anyhow!("rustc -vV printed no host"))
}

fn build() -> Result<PathBuf> {
    let ws = workspace_root();
    let target_dir = ws.join("target").join("fixture");
    let triple = host_target()?;
    let status = Command::new(env!("CARGO"))
        .current_dir(&ws)
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "fixture-svc",
            "--target",
            &triple,
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .status()
        .context("building fixture-svc")?;
    if !status.success() {
        bail!("building the static fixture-svc failed ({status})");
    }
    let bin = target_dir.join(&triple).join("release").join("fixture-svc");
    let ctx = target_dir.join("context");
    std::fs::create_dir_all(&ctx)?;
    std::fs::write(ctx.join("Dockerfile"), DOCKERFILE)?;
    let dest = ctx.join("fixture-svc");
    let new = std::fs::read(&bin).with_context(|| format!("reading {}", bin.display()))?;
    if std::fs::read(&dest).ok().as_deref() != Some(&new[..]) {
        std::fs::write(&dest, &new)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(ctx)
}

/// A Docker build context (Dockerfile + static binary) for the stand-in image; built once.
pub fn fixture_context() -> Result<PathBuf> {
    static CTX: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    CTX.get_or_init(|| build().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

/// Whether the Docker Engine answers; under CI (`$CI`) its absence is an error.
pub fn docker_engine() -> Result<Option<String>> {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            Ok(Some(String::from_utf8_lossy(&o.stdout).trim().to_string()))
        }
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
                Err(e) => e.to_string(),
            };
            if std::env::var_os("CI").is_some() {
                bail!("the Docker Engine is required under CI: {why}");
            }
            eprintln!("SKIPPED: no Docker Engine ({why})");
            Ok(None)
        }
    }
}
