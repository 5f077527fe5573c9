//! The Debian-built PostgreSQL + Redis image (`debian_image`): built (or reused), then real
//! servers answer — `pg_isready`, a password login over TCP (scram-sha-256), `redis-cli ping`.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use webide_acceptance_tests::debian_image::debian_data_image;
use webide_acceptance_tests::fixture::docker_engine;

/// Removes the container when the test ends, whatever happened.
struct Container(String);
impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v", &self.0])
            .output();
    }
}

fn docker(args: &[&str]) -> Result<std::process::Output> {
    Command::new("docker")
        .args(args)
        .output()
        .context("running docker")
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> Result<bool>) -> Result<()> {
    let t = Instant::now();
    while !f()? {
        ensure!(t.elapsed() < limit, "{what}: not ready after {limit:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
    Ok(())
}

#[test]
fn debian_postgres_and_redis_answer() -> Result<()> {
    if docker_engine()?.is_none() {
        return Ok(());
    }
    let image = debian_data_image()?;
    let id = std::process::id();

    let pg = Container(format!("webide-test-pg-{id}"));
    let out = docker(&[
        "run",
        "-d",
        "--name",
        &pg.0,
        "-e",
        "POSTGRES_USER=webide",
        "-e",
        "POSTGRES_PASSWORD=s3cret-pw",
        &image,
        "postgres",
    ])?;
    ensure!(
        out.status.success(),
        "docker run postgres: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for("pg_isready", Duration::from_secs(60), || {
        Ok(docker(&["exec", &pg.0, "pg_isready", "-U", "webide"])?
            .status
            .success())
    })?;
    // A password login over TCP (scram-sha-256), the way the services connect.
    let ok = docker(&[
        "exec",
        "-e",
        "PGPASSWORD=s3cret-pw",
        &pg.0,
        "psql",
        "-h",
        "127.0.0.1",
        "-U",
        "webide",
        "-d",
        "webide",
        "-tAc",
        "select current_user",
    ])?;
    ensure!(
        String::from_utf8_lossy(&ok.stdout).trim() == "webide",
        "password login: {}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = docker(&[
        "exec",
        "-e",
        "PGPASSWORD=wrong",
        &pg.0,
        "psql",
        "-h",
        "127.0.0.1",
        "-U",
        "webide",
        "-d",
        "webide",
        "-tAc",
        "select 1",
    ])?;
    ensure!(!bad.status.success(), "a wrong password must be refused");

    let redis = Container(format!("webide-test-redis-{id}"));
    let out = docker(&["run", "-d", "--name", &redis.0, &image, "redis"])?;
    ensure!(
        out.status.success(),
        "docker run redis: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for("redis-cli ping", Duration::from_secs(30), || {
        let o = docker(&["exec", &redis.0, "redis-cli", "ping"])?;
        Ok(String::from_utf8_lossy(&o.stdout).trim() == "PONG")
    })?;
    Ok(())
}
