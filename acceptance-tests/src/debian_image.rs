//! The real PostgreSQL and Redis of the tests: one image made from Debian bookworm's own
//! packages (`postgresql-15`, `redis-server`), since no registry image can be pulled here but
//! Debian's mirror is reachable. `debootstrap --variant=minbase` lays out the root filesystem,
//! `docker import` turns it into an image whose entrypoint is ours
//! (`fixtures/debian-data/entrypoint.sh`: `postgres` or `redis` as its first argument).
//!
//! The image is tagged `webide-debian-data:<hash>`, the hash covering the suite, mirror,
//! package list and entrypoint script, so a run reuses the image an earlier run built and any
//! change to those builds a new one. Builds are serialised across processes by a `flock` on
//! `target/debian-data.lock`, and each step runs under a time limit
//! (`WEBIDE_DEBIAN_BUILD_TIMEOUT_SECS`, default 1200) with its output in the error.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::process::run_sync;
use crate::workspace_root;

/// Debian suite of the image (the CI machines' own release).
pub const SUITE: &str = "bookworm";
/// Packages on top of `minbase`.
pub const PACKAGES: &[&str] = &["postgresql-15", "redis-server"];
/// Repository name of the image (the tag is the content hash).
pub const REPOSITORY: &str = "webide-debian-data";

const ENTRYPOINT: &str = include_str!("../fixtures/debian-data/entrypoint.sh");

fn mirror() -> String {
    std::env::var("WEBIDE_DEBIAN_MIRROR")
        .ok()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| "http://deb.debian.org/debian".into())
}

fn timeout() -> Duration {
    let secs = std::env::var("WEBIDE_DEBIAN_BUILD_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1200);
    Duration::from_secs(secs)
}

/// `webide-debian-data:<first 16 hex digits of the content hash>`.
pub fn image_tag() -> String {
    let mut h = Sha256::new();
    for part in [SUITE, &mirror(), &PACKAGES.join(","), ENTRYPOINT] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{REPOSITORY}:{hex}")
}

fn image_exists(tag: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", tag])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn build(tag: &str) -> Result<()> {
    let target = workspace_root().join("target");
    std::fs::create_dir_all(&target)?;
    let lock_path = target.join("debian-data.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    crate::cli::flock_exclusive(&lock, &lock_path)?;
    if image_exists(tag) {
        return Ok(()); // another process built it while we waited
    }
    let debootstrap = crate::cli::which("debootstrap")
        .or_else(|| {
            let p = PathBuf::from("/usr/sbin/debootstrap");
            p.is_file().then_some(p)
        })
        .ok_or_else(|| {
            anyhow!(
                "building {tag} needs debootstrap (Debian: `apt-get install -y debootstrap`, as root)"
            )
        })?;
    eprintln!(
        "[webide-acc] building {tag} from Debian {SUITE} ({}) with debootstrap; takes a few minutes once",
        PACKAGES.join(", ")
    );
    let work = tempfile::Builder::new()
        .prefix("debian-data-")
        .tempdir_in(&target)?;
    let rootfs = work.path().join("rootfs");
    let mut cmd = Command::new(&debootstrap);
    cmd.arg("--variant=minbase")
        .arg(format!("--include={}", PACKAGES.join(",")))
        .arg(SUITE)
        .arg(&rootfs)
        .arg(mirror());
    run_sync(cmd, timeout())?
        .check()
        .with_context(|| format!("debootstrap of {tag} failed (mirror {})", mirror()))?;
    // Debian's postinst made a `15/main` cluster; ours lives in $PGDATA. Drop caches and lists.
    for dir in [
        "var/lib/postgresql/15",
        "etc/postgresql/15",
        "var/cache/apt/archives",
        "var/lib/apt/lists",
    ] {
        let p = rootfs.join(dir);
        if p.exists() {
            std::fs::remove_dir_all(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    let ep = rootfs.join("usr/local/bin/webide-entrypoint");
    std::fs::write(&ep, ENTRYPOINT)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ep, std::fs::Permissions::from_mode(0o755))?;
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(
            "set -o pipefail; tar --numeric-owner -C \"$1\" -c . | docker import \
             --change 'ENTRYPOINT [\"/usr/local/bin/webide-entrypoint\"]' \
             --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
             --change 'ENV LANG=C.UTF-8' \
             --change 'LABEL webide.image=debian-data' \
             - \"$2\"",
        )
        .arg("bash")
        .arg(&rootfs)
        .arg(tag);
    run_sync(cmd, timeout())?
        .check()
        .with_context(|| format!("docker import of {tag} failed"))?;
    if !image_exists(tag) {
        bail!("docker import reported success but {tag} is not there");
    }
    eprintln!("[webide-acc] built {tag}");
    Ok(())
}

/// The PostgreSQL + Redis image, built on first use (once per process; reused across runs).
pub fn debian_data_image() -> Result<String> {
    static TAG: OnceLock<Result<String, String>> = OnceLock::new();
    TAG.get_or_init(|| {
        let tag = image_tag();
        if image_exists(&tag) {
            return Ok(tag);
        }
        build(&tag)
            .map(|()| tag.clone())
            .map_err(|e| format!("{e:#}"))
    })
    .clone()
    .map_err(|e| anyhow!(e))
}
