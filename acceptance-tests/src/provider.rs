//! Locating the webide provider binary and laying out a filesystem mirror that Terraform
//! installs providers from, without touching the network.
//!
//! Layout (the "unpacked" one, which Terraform 1.0 reads):
//! `<mirror>/<host>/<namespace>/<type>/<version>/<os>_<arch>/terraform-provider-<type>_v<version>`.
//! Binaries are hard-linked into the mirror (copied when that fails), never symlinked, so a
//! rebuild of `target/debug` during a run cannot change a provider under a running test.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail, Context, Result};

use crate::process::run_sync;

/// Provider type (`webide_*` resources).
pub const PROVIDER_TYPE: &str = "webide";
/// Registry namespace of the provider.
pub const PROVIDER_NAMESPACE: &str = "webide";
/// Provider version put in the mirror: the workspace version.
pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Cargo package and binary name of the provider.
pub const PROVIDER_PACKAGE: &str = "terraform-provider-webide";
/// Registry hosts the mirror serves: Terraform's default and OpenTofu's default.
pub const REGISTRY_HOSTS: [&str; 2] = ["registry.terraform.io", "registry.opentofu.org"];

/// `<os>_<arch>` as Terraform names it, e.g. `linux_amd64`.
pub fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    };
    format!("{}_{}", std::env::consts::OS, arch)
}

/// The provider executable for this process (found or built once, then cached):
/// `$WEBIDE_PROVIDER_BIN`; else `<workspace>/target/debug/terraform-provider-webide` when it is
/// newer than every provider/sandbox source file; else `cargo build -p terraform-provider-webide`
/// into `<workspace>/target/acc-build` (a separate target dir, so the lock held by a running
/// `cargo test` does not block it).
pub fn provider_binary() -> Result<&'static Path> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| locate_provider().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map(|p| p.as_path())
        .map_err(|e| anyhow!("no provider binary: {e}"))
}

fn locate_provider() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("WEBIDE_PROVIDER_BIN").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(bin);
        if !p.is_file() {
            bail!("$WEBIDE_PROVIDER_BIN={} is not a file", p.display());
        }
        return fs::canonicalize(&p).map_err(Into::into);
    }
    let ws = crate::workspace_root();
    let default = ws.join("target").join("debug").join(PROVIDER_PACKAGE);
    if let Ok(built) = fs::metadata(&default).and_then(|m| m.modified()) {
        match newest_source(&ws, &default) {
            Some((newest, path)) if newest > built => eprintln!(
                "[webide-acc] {} is older than {}; building a fresh one",
                default.display(),
                path.display()
            ),
            _ => return Ok(default),
        }
    }
    build_provider(&ws)
}

fn build_provider(ws: &Path) -> Result<PathBuf> {
    let target_dir = ws.join("target").join("acc-build");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!(
        "[webide-acc] cargo build -p {PROVIDER_PACKAGE} (CARGO_TARGET_DIR={})",
        target_dir.display()
    );
    let mut cmd = Command::new(cargo);
    cmd.current_dir(ws)
        .args(["build", "-p", PROVIDER_PACKAGE])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("CARGO_TERM_COLOR", "never");
    run_sync(cmd, Duration::from_secs(45 * 60))?
        .check()
        .context("building the provider failed")?;
    let bin = target_dir.join("debug").join(PROVIDER_PACKAGE);
    if !bin.is_file() {
        bail!("cargo build succeeded but {} is missing", bin.display());
    }
    Ok(bin)
}

/// The newest modification time among the inputs of the provider build: the files cargo's
/// dep-info (`<binary>.d`) lists plus the tfplugin, provider and sandbox manifests; without dep-info,
/// every file under `tfplugin/`, `provider/` and `sandbox/` `src` and `proto`.
///
/// `Cargo.lock` and the workspace manifest are left out on purpose: they change whenever any
/// crate's dependencies do, and when that does not concern the provider, cargo rightly keeps
/// the old binary, which would then look stale forever.
fn newest_source(ws: &Path, binary: &Path) -> Option<(SystemTime, PathBuf)> {
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    let mut consider = |p: &Path| {
        if let Ok(t) = fs::metadata(p).and_then(|m| m.modified()) {
            if !matches!(&newest, Some((n, _)) if *n >= t) {
                newest = Some((t, p.to_path_buf()));
            }
        }
    };
    for krate in ["tfplugin", "provider", "sandbox"] {
        consider(&ws.join(krate).join("Cargo.toml"));
    }
    let dep_info = binary.with_file_name(format!("{PROVIDER_PACKAGE}.d"));
    if let Ok(text) = fs::read_to_string(&dep_info) {
        for p in parse_dep_info(&text) {
            consider(Path::new(&p));
        }
        return newest;
    }
    for krate in ["tfplugin", "provider", "sandbox"] {
        let root = ws.join(krate);
        consider(&root.join("build.rs"));
        let mut stack = vec![root.join("src"), root.join("proto")];
        while let Some(d) = stack.pop() {
            let Ok(entries) = fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_dir() {
                    stack.push(e.path());
                } else {
                    consider(&e.path());
                }
            }
        }
    }
    newest
}

/// The prerequisites of a Makefile-style dep-info file (`target: dep dep\ with\ space ...`).
fn parse_dep_info(text: &str) -> Vec<String> {
    let mut deps = Vec::new();
    for line in text.lines() {
        // The target ends at the first ": " (paths here are absolute unix paths).
        let Some((_, rest)) = line.split_once(": ") else {
            continue;
        };
        let mut cur = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                ' ' | '\t' => {
                    if !cur.is_empty() {
                        deps.push(std::mem::take(&mut cur));
                    }
                }
                _ => cur.push(c),
            }
        }
        if !cur.is_empty() {
            deps.push(cur);
        }
    }
    deps
}

/// One provider to put in a mirror.
#[derive(Debug, Clone)]
pub struct MirrorEntry {
    pub namespace: String,
    pub type_name: String,
    pub version: String,
    /// File name inside the platform directory, e.g. `terraform-provider-webide_v0.1.0`.
    pub file_name: String,
    /// The executable to link or copy there.
    pub binary: PathBuf,
}

impl MirrorEntry {
    /// The webide provider at `binary`.
    pub fn webide(binary: &Path) -> MirrorEntry {
        MirrorEntry {
            namespace: PROVIDER_NAMESPACE.into(),
            type_name: PROVIDER_TYPE.into(),
            version: PROVIDER_VERSION.into(),
            file_name: format!("terraform-provider-{PROVIDER_TYPE}_v{PROVIDER_VERSION}"),
            binary: binary.to_path_buf(),
        }
    }

    /// HashiCorp's null provider 2.1.2 at `binary`.
    pub fn hashicorp_null(binary: &Path) -> MirrorEntry {
        MirrorEntry {
            namespace: "hashicorp".into(),
            type_name: "null".into(),
            version: crate::cli::NULL_PROVIDER_VERSION.into(),
            file_name: crate::cli::NULL_PROVIDER_FILE.into(),
            binary: binary.to_path_buf(),
        }
    }

    /// `namespace/type`, as written in `required_providers`.
    pub fn source(&self) -> String {
        format!("{}/{}", self.namespace, self.type_name)
    }
}

/// A filesystem mirror plus the CLI configuration file that points Terraform at it.
#[derive(Debug)]
pub struct ProviderMirror {
    root: PathBuf,
    cli_config: PathBuf,
    entries: Vec<MirrorEntry>,
}

impl ProviderMirror {
    /// Lays out `entries` under `<dir>/mirror` (for every host in [`REGISTRY_HOSTS`]) and writes
    /// `<dir>/terraform.rc`. The CLI configuration has only a `filesystem_mirror` block (no
    /// `direct`), so Terraform never goes to the network for providers.
    pub fn create(dir: &Path, entries: Vec<MirrorEntry>) -> Result<ProviderMirror> {
        let root = dir.join("mirror");
        let plat = platform();
        for e in &entries {
            for host in REGISTRY_HOSTS {
                let pdir = root
                    .join(host)
                    .join(&e.namespace)
                    .join(&e.type_name)
                    .join(&e.version)
                    .join(&plat);
                fs::create_dir_all(&pdir)
                    .with_context(|| format!("creating {}", pdir.display()))?;
                link_or_copy(&e.binary, &pdir.join(&e.file_name))?;
            }
        }
        let cli_config = dir.join("terraform.rc");
        fs::write(&cli_config, cli_config_text(&root, &entries))
            .with_context(|| format!("writing {}", cli_config.display()))?;
        Ok(ProviderMirror {
            root,
            cli_config,
            entries,
        })
    }

    /// The mirror directory (the `path` of the `filesystem_mirror` block).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The CLI configuration file, for `TF_CLI_CONFIG_FILE`.
    pub fn cli_config_path(&self) -> &Path {
        &self.cli_config
    }

    /// The providers in the mirror.
    pub fn entries(&self) -> &[MirrorEntry] {
        &self.entries
    }

    /// True when the mirror serves `namespace/type` (e.g. `hashicorp/null`).
    pub fn has(&self, source: &str) -> bool {
        self.entries.iter().any(|e| e.source() == source)
    }
}

/// The CLI configuration text for a mirror at `root` serving `entries`.
pub fn cli_config_text(root: &Path, entries: &[MirrorEntry]) -> String {
    let mut include: Vec<String> = Vec::new();
    for e in entries {
        for host in REGISTRY_HOSTS {
            include.push(format!("\"{host}/{}/{}\"", e.namespace, e.type_name));
        }
    }
    if include.is_empty() {
        // An empty include list would mean "everything"; keep the mirror closed instead.
        include.push("\"registry.terraform.io/webide-none/none\"".into());
    }
    format!(
        "# Written by webide-acceptance-tests. Providers come only from the mirror below.\n\
         disable_checkpoint = true\n\
         \n\
         provider_installation {{\n  \
           filesystem_mirror {{\n    \
             path    = \"{}\"\n    \
             include = [{}]\n  \
           }}\n\
         }}\n",
        hcl_escape(&root.to_string_lossy()),
        include.join(", ")
    )
}

fn hcl_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "$${")
        .replace("%{", "%%{")
}

fn link_or_copy(src: &Path, dst: &Path) -> Result<()> {
    if dst.exists() {
        fs::remove_file(dst).with_context(|| format!("removing {}", dst.display()))?;
    }
    if fs::hard_link(src, dst).is_ok() {
        return Ok(());
    }
    fs::copy(src, dst)
        .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dst, fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_config() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        fs::write(&bin, "#!/bin/sh\n").unwrap();
        let m = ProviderMirror::create(tmp.path(), vec![MirrorEntry::webide(&bin)]).unwrap();
        let p = m
            .root()
            .join("registry.terraform.io/webide/webide")
            .join(PROVIDER_VERSION)
            .join(platform())
            .join(format!("terraform-provider-webide_v{PROVIDER_VERSION}"));
        assert!(p.is_file(), "{}", p.display());
        let cfg = fs::read_to_string(m.cli_config_path()).unwrap();
        assert!(cfg.contains("filesystem_mirror"), "{cfg}");
        assert!(
            cfg.contains("\"registry.terraform.io/webide/webide\""),
            "{cfg}"
        );
        assert!(!cfg.contains("direct"), "{cfg}");
        assert!(m.has("webide/webide"));
        assert!(!m.has("hashicorp/null"));
    }

    #[test]
    fn dep_info() {
        let d = "/t/bin: /a/b.rs /a/with\\ space.rs\n\n/a/b.rs:\n";
        assert_eq!(parse_dep_info(d), vec!["/a/b.rs", "/a/with space.rs"]);
    }

    #[test]
    fn escape() {
        assert_eq!(hcl_escape(r#"a"b\c${d}"#), r#"a\"b\\c$${d}"#);
    }
}
