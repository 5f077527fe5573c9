//! `scripts/bench-docker`: create + start + healthy for N services (default 10), through the
//! provider (`terraform apply` of `webide_compose_service`) and through the `docker run` CLI,
//! in the same run, on the same stand-in image. Prints both wall times and their ratio.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use webide_acceptance_tests::fixture::fixture_context;
use webide_acceptance_tests::Harness;

fn docker(args: &[&str]) -> Result<String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .context("running docker")?;
    ensure!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn wait_healthy(names: &[String], timeout: Duration) -> Result<()> {
    let started = Instant::now();
    loop {
        let mut args = vec!["inspect", "-f", "{{.State.Health.Status}}"];
        args.extend(names.iter().map(String::as_str));
        if docker(&args)?.lines().all(|l| l == "healthy") {
            return Ok(());
        }
        if started.elapsed() > timeout {
            bail!("not healthy after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `--services N` (default 10).
fn services_arg() -> Result<usize> {
    use lexopt::prelude::*;
    let mut n = 10;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("services") => n = parser.value()?.parse()?,
            Short('h') | Long("help") => {
                println!("usage: bench-docker [--services N]");
                std::process::exit(0);
            }
            other => anyhow::bail!("{}\nusage: bench-docker [--services N]", other.unexpected()),
        }
    }
    Ok(n)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let n = services_arg()?;
    let ctx = fixture_context()?;
    let image = "webide-bench-svc:latest";
    docker(&["build", "-q", "-t", image, &ctx.display().to_string()])?;
    let prefix = format!("wbench{}", std::process::id());

    // The provider: one apply creating N services, each waited on until healthy.
    let h = Harness::new()?;
    let mut tf = String::from("terraform {\n  required_providers {\n    webide = { source = \"webide/webide\" }\n  }\n}\n");
    tf.push_str(&format!(
        "resource \"webide_compose_service\" \"s\" {{\n  count   = {n}\n  name    = \"{prefix}-tf-${{count.index}}\"\n  image   = \"{image}\"\n  command = [\"serve\", \"8080\"]\n  healthcheck {{\n    test     = [\"/fixture-svc\", \"check\", \"127.0.0.1:8080\"]\n    interval = \"1s\"\n  }}\n}}\n"
    ));
    let wd = h.workdir_with_main(&tf)?;
    wd.init().await?;
    let t = Instant::now();
    wd.apply_with(&["-parallelism=10"]).await?;
    let provider_s = t.elapsed().as_secs_f64();
    wd.destroy().await?;

    // The CLI: docker run -d for each, then wait until all are healthy. `--health-cmd` runs
    // through /bin/sh, which a FROM-scratch image lacks: the check (exec form) is baked into a
    // derived image instead, with the same 1 s interval.
    let derived = tempfile::tempdir()?;
    std::fs::write(
        derived.path().join("Dockerfile"),
        format!("FROM {image}\nHEALTHCHECK --interval=1s CMD [\"/fixture-svc\", \"check\", \"127.0.0.1:8080\"]\n"),
    )?;
    let cli_image = "webide-bench-svc-hc:latest";
    docker(&[
        "build",
        "-q",
        "-t",
        cli_image,
        &derived.path().display().to_string(),
    ])?;
    let names: Vec<String> = (0..n).map(|i| format!("{prefix}-cli-{i}")).collect();
    let t = Instant::now();
    for name in &names {
        docker(&[
            "run",
            "-d",
            "--name",
            name,
            "--label",
            "webide.managed=true",
            cli_image,
            "serve",
            "8080",
        ])?;
    }
    let healthy = wait_healthy(&names, Duration::from_secs(120));
    let cli_s = t.elapsed().as_secs_f64();
    let mut rm = vec!["rm", "-f"];
    rm.extend(names.iter().map(String::as_str));
    let _ = docker(&rm);
    let _ = docker(&["rmi", cli_image, image]);
    healthy?;

    println!(
        "create + start + healthy for {n} services (same image, 1 s health interval), {}",
        h.cli().version_line
    );
    println!(
        "{:<38} {:>8.2} s",
        "webide provider (terraform apply)", provider_s
    );
    println!(
        "{:<38} {:>8.2} s",
        "docker run CLI + wait for healthy", cli_s
    );
    println!(
        "{:<38} {:>8.2}x",
        "ratio provider / CLI",
        provider_s / cli_s
    );
    println!("(terraform's own start, plan and state writes are inside the provider figure)");
    Ok(())
}
