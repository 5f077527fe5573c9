//! `scripts/main-job`: the whole platform (`examples/full-environment`) applied with the real
//! Terraform CLI against the embedded sandbox (Authentik, Gitea, Coder and LiteLLM simulators)
//! and the local Docker Engine; then an empty re-plan, a scripted drift made the way people do
//! it by hand (API calls, `docker stop`), a `plan -refresh-only` with the drift report, an apply
//! that heals it, and destroy — with progress shown. Artifacts (plan JSON, drift report in
//! Markdown and HTML, logs) go to `target/main-job/`.
//!
//! Options: `--keep` (leave everything applied and the sandbox running until Ctrl-C),
//! `--no-destroy`, `--out DIR`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value};
use webide_acceptance_tests::{resource_addresses, workspace_root, Harness};
use webide_sandbox::{Ports, RunningSandbox, SandboxConfig};

mod support;
use support::{check_role_matrix, docker_available, images, Drift};

struct Opts {
    keep: bool,
    destroy: bool,
    out: PathBuf,
}

fn opts() -> Result<Opts> {
    let mut o = Opts {
        keep: false,
        destroy: true,
        out: workspace_root().join("target").join("main-job"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--keep" => {
                o.keep = true;
                o.destroy = false;
            }
            "--no-destroy" => o.destroy = false,
            "--out" => o.out = PathBuf::from(it.next().context("--out DIR")?),
            "-h" | "--help" => {
                println!("usage: main-job [--keep] [--no-destroy] [--out DIR]");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}"),
        }
    }
    Ok(o)
}

/// Progress lines: `[3/10 +12.3s] title`.
struct Progress {
    started: Instant,
    step: usize,
    total: usize,
}

impl Progress {
    fn step(&mut self, title: &str) {
        self.step += 1;
        println!(
            "\n[{}/{} +{:.1}s] {title}",
            self.step,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let e = e?;
        let name = e.file_name();
        let n = name.to_string_lossy();
        if n.starts_with(".terraform") || n.ends_with(".tfstate") || n.ends_with(".tfstate.backup")
        {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type()?.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// An offset for the example's published ports (7080, 3000, 9000, 9001, 9002, 4000, 8025)
/// at which all of them are free, so the job can run beside another copy.
fn free_port_offset() -> u16 {
    const PORTS: [u16; 7] = [7080, 3000, 9000, 9001, 9002, 4000, 8025];
    let free = |p: u16| std::net::TcpListener::bind(("0.0.0.0", p)).is_ok();
    let start = 20000 + (std::process::id() % 40) as u16 * 700;
    (0..40u16)
        .map(|i| 20000 + (start - 20000 + i * 700) % 28000)
        .find(|off| PORTS.iter().all(|p| free(p + off)))
        .unwrap_or(start)
}

/// The variables that point the example at the sandbox and the stand-in images.
fn tfvars(sb: &RunningSandbox, images: &Value, prefix: &str) -> Value {
    let c = &sb.config;
    json!({
        "name_prefix": prefix,
        "litellm_url": sb.litellm_url,
        "litellm_master_key": c.litellm_master_key,
        "authentik_url": sb.authentik_url,
        "authentik_token": c.authentik_token,
        "gitea_url": sb.gitea_url,
        "gitea_token": c.gitea_admin_token,
        "coder_url": sb.coder_url,
        "coder_token": c.coder_session_token,
        "images": images,
        "host_port_offset": free_port_offset(),
        "template_dir": workspace_root().join("templates").join("contractor-workspace").display().to_string(),
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let o = opts()?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut p = Progress {
        started: Instant::now(),
        step: 0,
        total: 12,
    };
    std::fs::create_dir_all(&o.out)?;

    p.step("Terraform CLI and the provider");
    let h = Harness::new()?;
    println!("  {} ({:?})", h.cli().version_line, h.cli().source);

    p.step("embedded sandbox (Authentik, Gitea, Coder, LiteLLM simulators)");
    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    for (svc, url) in sb.urls() {
        println!("  {svc:<10} {url}");
    }

    p.step("Docker Engine, Debian PostgreSQL/Redis image, stand-in image");
    let docker = docker_available();
    let prefix = format!("wmj{}", std::process::id() % 100_000);
    let imgs = match &docker {
        Ok(version) => {
            println!("  engine {version}");
            let imgs = images()?;
            println!("  postgres, redis: {} (real servers)", imgs["postgres"]);
            imgs
        }
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                bail!("the Docker Engine is required: {e}");
            }
            println!("  no Docker Engine ({e}): containers are skipped");
            json!({})
        }
    };

    p.step("working directory from examples/ (full-environment + modules)");
    let mut wd = h.workdir()?;
    copy_dir(&workspace_root().join("examples"), wd.path())?;
    let env_dir = wd.path().join("full-environment");
    ensure!(
        env_dir.join("main.tf").is_file(),
        "examples/full-environment/main.tf missing"
    );
    std::fs::write(
        env_dir.join("terraform.tfvars.json"),
        serde_json::to_string_pretty(&tfvars(&sb, &imgs, &prefix))?,
    )?;
    wd.chdir("full-environment")?;
    let log = o.out.join("terraform.log");
    let _ = std::fs::remove_file(&log);
    wd.set_log("debug", &log);

    p.step("terraform init + apply");
    wd.init().await?;
    let t = Instant::now();
    let out = wd.apply().await?;
    let summary = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Apply complete!"))
        .unwrap_or("(no summary)");
    println!("  {summary} in {:.1}s", t.elapsed().as_secs_f64());
    let state = wd.show_state_json().await?;
    let addrs = resource_addresses(&state);
    println!("  {} resources in state", addrs.len());

    if docker.is_ok() {
        for line in support::check_databases(&prefix)? {
            println!("  {line}");
        }
    }

    p.step("role matrix, checked on each service");
    for line in check_role_matrix(&sb)? {
        println!("  {line}");
    }

    p.step("re-plan: must be empty");
    wd.plan()
        .await?
        .assert_empty()
        .context("the re-plan after apply")?;
    println!("  no changes");

    p.step("scripted drift, made outside Terraform");
    let mut drift = Drift::new(&sb, &state);
    let made = drift.make().await?;
    for m in &made {
        println!("  - {m}");
    }

    p.step("plan -refresh-only + drift report");
    let plan = wd.plan_json_with(&["-refresh-only"]).await?;
    std::fs::write(
        o.out.join("drift-plan.json"),
        serde_json::to_vec_pretty(&plan)?,
    )?;
    let report = webide_provider::drift::report(
        &plan,
        &webide_provider::drift::webide_sensitive_attrs(),
        false,
    )?;
    let md = webide_provider::drift::markdown(&report);
    std::fs::write(o.out.join("drift-report.md"), &md)?;
    std::fs::write(
        o.out.join("drift-report.html"),
        webide_provider::drift::html(&report),
    )?;
    println!("{md}");
    drift.check_report(&report)?;
    println!(
        "  report: {} (and .html)",
        o.out.join("drift-report.md").display()
    );

    p.step("apply heals the drift; re-plan empty");
    wd.apply().await?;
    wd.plan()
        .await?
        .assert_empty()
        .context("the re-plan after healing")?;
    drift.check_healed().await?;
    println!("  healed and verified on the services");

    if o.keep {
        println!("\n--keep: everything stays applied; sandbox URLs above; Ctrl-C to stop.");
        println!("  working directory: {}", wd.path().display());
        std::mem::forget(wd);
        tokio::signal::ctrl_c().await?;
        return Ok(());
    }
    p.step("destroy");
    if o.destroy {
        wd.destroy().await?;
        let left = support::leftovers(&sb, &prefix)?;
        ensure!(left.is_empty(), "objects left after destroy: {left:?}");
        println!("  nothing left on the services or the Docker Engine");
    } else {
        println!("  skipped (--no-destroy); state in {}", wd.path().display());
        std::mem::forget(wd);
    }

    p.step("done");
    println!(
        "  main job finished in {:.1}s; artifacts in {}",
        p.started.elapsed().as_secs_f64(),
        o.out.display()
    );
    webide_acceptance_tests::assert_contract(&sb)?;
    sb.shutdown().await;
    Ok(())
}
