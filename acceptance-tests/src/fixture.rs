//! The stand-in service image for Docker tests and the main job: no image can be pulled on
//! these machines, so images are `FROM scratch` + the static `fixture-svc` binary, built here
//! with `-C target-feature=+crt-static` (into `target/fixture`, its own target dir). The same
//! crate builds the stand-in `gitea` command ([`gitea_standin_image`]).

use std::path::{Path, PathBuf};
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
    let ctx = target_dir.join("context");
    std::fs::create_dir_all(&ctx)?;
    std::fs::write(ctx.join("Dockerfile"), DOCKERFILE)?;
    for name in ["fixture-svc", "gitea", "mc"] {
        let bin = target_dir.join(&triple).join("release").join(name);
        copy_if_changed(&bin, &ctx.join(name))?;
    }
    Ok(ctx)
}

fn copy_if_changed(from: &Path, to: &Path) -> Result<()> {
    let new = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    if std::fs::read(to).ok().as_deref() != Some(&new[..]) {
        std::fs::write(to, &new)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// A Docker build context (Dockerfile + static binary) for the stand-in image; built once.
pub fn fixture_context() -> Result<PathBuf> {
    static CTX: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    CTX.get_or_init(|| build().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

/// The stand-in Gitea image: the Debian rootfs image (for `/bin/sh`, which the provider's
/// `sh -c` wrapper needs, and `useradd`) plus `fixture-svc` as entrypoint (it answers on the
/// service port) and the stand-in `gitea` command (`fixtures/fixture-svc/src/bin/gitea.rs`),
/// run as user `git` with `GITEA_CUSTOM=/data/gitea` and an app.ini naming `RUN_USER = git`,
/// like the upstream image. Tagged by content; built once per process.
pub fn gitea_standin_image() -> Result<String> {
    static TAG: OnceLock<Result<String, String>> = OnceLock::new();
    TAG.get_or_init(|| build_gitea().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

fn build_gitea() -> Result<String> {
    build_standin(
        "gitea",
        "COPY gitea /usr/local/bin/gitea\n\
         RUN useradd --system --user-group --home-dir /data/git --shell /bin/sh git \\\n \
         && mkdir -p /data/git /data/gitea/conf \\\n \
         && printf '[DEFAULT]\\nRUN_USER = git\\n' > /data/gitea/conf/app.ini \\\n \
         && chown -R git:git /data\n\
         ENV GITEA_CUSTOM=/data/gitea\n",
        &["gitea"],
    )
}

/// The stand-in MinIO image: the Debian rootfs image plus `fixture-svc` as entrypoint and the
/// stand-in `mc` command (`fixtures/fixture-svc/src/bin/mc.rs`) at `/usr/bin/mc`, where the
/// upstream image has the MinIO client; its state is kept under `/data` (the data volume).
pub fn minio_standin_image() -> Result<String> {
    static TAG: OnceLock<Result<String, String>> = OnceLock::new();
    TAG.get_or_init(|| {
        build_standin(
            "minio",
            "COPY mc /usr/bin/mc\nRUN mkdir -p /data\n",
            &["mc"],
        )
        .map_err(|e| format!("{e:#}"))
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

/// Builds `webide-<name>-standin:<content hash>` from the Debian rootfs image, `fixture-svc`
/// as entrypoint, the stand-in commands `bins` and the Dockerfile lines `extra`.
fn build_standin(name: &str, extra: &str, bins: &[&str]) -> Result<String> {
    use sha2::{Digest, Sha256};
    let base = crate::debian_image::debian_data_image()?;
    let from = fixture_context()?;
    let ctx = workspace_root()
        .join("target")
        .join("fixture")
        .join(format!("{name}-context"));
    std::fs::create_dir_all(&ctx)?;
    let dockerfile = format!(
        "FROM {base}\nCOPY fixture-svc /fixture-svc\n{extra}ENTRYPOINT [\"/fixture-svc\"]\n"
    );
    std::fs::write(ctx.join("Dockerfile"), &dockerfile)?;
    let mut h = Sha256::new();
    h.update(dockerfile.as_bytes());
    for bin in std::iter::once(&"fixture-svc").chain(bins) {
        copy_if_changed(&from.join(bin), &ctx.join(bin))?;
        h.update(std::fs::read(ctx.join(bin))?);
    }
    let hex: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let tag = format!("webide-{name}-standin:{hex}");
    let exists = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", &tag])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        let out = Command::new("docker")
            .args(["build", "-q", "-t", &tag])
            .arg(&ctx)
            .output()
            .context("running docker build")?;
        if !out.status.success() {
            bail!(
                "docker build of {tag} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    Ok(tag)
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
