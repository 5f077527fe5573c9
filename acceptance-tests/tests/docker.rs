//! Compose services on the real Docker Engine with the real Terraform CLI: an image built
//! from a context (FROM scratch + a static binary), a network, a volume, a "db" with a health
//! check and an "api" that waits for it; re-plan empty; env edit -> replace; `docker stop` /
//! `docker rm` by hand -> plan shows it, apply heals; volume data survives a replacement; a
//! taken port -> clear error, no orphan; a container detached from (or joined to) a network by
//! hand -> drift, healed; import by name (secrets stay in `sensitive_env`, never printed, a
//! configuration claims them without replacement); no `sensitive_env` value in a
//! TF_LOG=trace log; destroy leaves nothing labelled.

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use webide_acceptance_tests::fixture::{docker_engine, fixture_context};
use webide_acceptance_tests::Harness;

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn docker(args: &[&str]) -> Result<String> {
    let out = Command::new("docker").args(args).output()?;
    ensure!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// GET / on 127.0.0.1:port (the fixture answers `ok NAME STARTS`).
fn fetch(port: u16) -> Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse()?,
        Duration::from_secs(3),
    )?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut body = String::new();
    s.read_to_string(&mut body)?;
    Ok(body
        .rsplit("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string())
}

/// The `sensitive_env` value of the db: must never reach a log or the plan output.
fn secret(prefix: &str) -> String {
    format!("pw-{prefix}-s3cr3t-{}", std::process::id() * 7919)
}

fn config(prefix: &str, ctx: &str, db_port: u16, api_port: u16) -> String {
    let secret = secret(prefix);
    format!(
        r#"
terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}

variable "api_mode" {{
  type    = string
  default = "blue"
}}

variable "db_generation" {{
  type    = string
  default = "1"
}}

resource "webide_compose_image" "svc" {{
  name    = "{prefix}-svc:latest"
  context = "{ctx}"
}}

resource "webide_compose_network" "net" {{
  name   = "{prefix}-net"
  labels = {{ stack = "{prefix}" }}
}}

resource "webide_compose_volume" "data" {{
  name = "{prefix}-data"
}}

resource "webide_compose_service" "db" {{
  name    = "{prefix}-db"
  image   = webide_compose_image.svc.image_id
  command = ["serve", "5432", "/data"]
  env     = {{ SERVICE_NAME = "db", GENERATION = var.db_generation }}
  sensitive_env = {{ DB_PASSWORD = "{secret}" }}
  network {{
    name    = webide_compose_network.net.name
    aliases = ["db"]
  }}
  mount {{
    source = webide_compose_volume.data.name
    target = "/data"
  }}
  port {{
    internal = 5432
    external = {db_port}
    host_ip  = "127.0.0.1"
  }}
  healthcheck {{
    test     = ["/fixture-svc", "check", "127.0.0.1:5432"]
    interval = "1s"
  }}
  extra_hosts = ["host.docker.internal:host-gateway"]
}}

resource "webide_compose_service" "api" {{
  name    = "{prefix}-api"
  image   = webide_compose_image.svc.image_id
  command = ["wait", "${{webide_compose_service.db.ip_addresses[webide_compose_network.net.name]}}:5432", "30", "serve", "8080"]
  env     = {{ SERVICE_NAME = "api", MODE = var.api_mode }}
  network {{
    name = webide_compose_network.net.name
  }}
  port {{
    internal = 8080
    external = {api_port}
    host_ip  = "127.0.0.1"
  }}
  healthcheck {{
    test = ["/fixture-svc", "check", "127.0.0.1:8080"]
  }}
}}
"#
    )
}

fn cleanup(prefix: &str) {
    for args in [
        vec![
            "rm",
            "-f",
            &format!("{prefix}-db"),
            &format!("{prefix}-api"),
            &format!("{prefix}-dup"),
            &format!("{prefix}-foreign"),
        ],
        vec!["network", "rm", &format!("{prefix}-net")],
        vec!["volume", "rm", &format!("{prefix}-data")],
        vec!["rmi", &format!("{prefix}-svc:latest")],
    ] {
        let _ = Command::new("docker").args(&args).output();
    }
}

struct Cleanup(String);
impl Drop for Cleanup {
    fn drop(&mut self) {
        cleanup(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_stack_on_the_real_engine() -> Result<()> {
    if docker_engine()?.is_none() {
        return Ok(());
    }
    let ctx = fixture_context()?;
    let h = Harness::new()?;
    let prefix = format!("wacc{}", std::process::id());
    let _guard = Cleanup(prefix.clone());
    let (db_port, api_port) = (free_port()?, free_port()?);
    let mut wd = h.workdir_with_main(&config(
        &prefix,
        &ctx.display().to_string(),
        db_port,
        api_port,
    ))?;
    wd.set_timeout(Duration::from_secs(300));

    wd.init().await?;
    // Secret scan: the whole first apply and re-plan at TF_LOG=trace / TF_LOG_PROVIDER=trace
    // (create requests and `docker inspect` answers carry the env); checked at the end so
    // the rest of the test still runs when it fails.
    let log = wd.enable_log("trace");
    wd.set_env("TF_LOG_PROVIDER", "trace");
    wd.apply().await?;
    wd.plan()
        .await?
        .assert_empty()
        .context("re-plan after apply")?;
    let trace = wd.read_log()?;
    wd.disable_log();
    wd.remove_env("TF_LOG_PROVIDER");
    let _ = std::fs::remove_file(&log);
    let secret = secret(&prefix);
    ensure!(
        trace.len() > 10_000 && trace.contains("webide_compose_service"),
        "trace log written ({} bytes)",
        trace.len()
    );
    let leaked: Vec<&str> = trace.lines().filter(|l| l.contains(&secret)).collect();
    ensure!(
        docker(&[
            "inspect",
            "-f",
            "{{range .Config.Env}}{{println .}}{{end}}",
            &format!("{prefix}-db")
        ])?
        .contains(&secret),
        "the db got its sensitive_env"
    );
    ensure!(fetch(api_port)?.starts_with("ok api"), "api answers");
    ensure!(fetch(db_port)? == "ok db 1", "db answers, first start");
    let health = docker(&[
        "inspect",
        "-f",
        "{{.State.Health.Status}}",
        &format!("{prefix}-db"),
    ])?;
    ensure!(health == "healthy", "db healthy: {health}");
    let labels = docker(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"webide.managed\"}}",
        &format!("{prefix}-api"),
    ])?;
    ensure!(labels == "true");

    // Env change: the container is replaced (not restarted with stale env).
    let old_id = docker(&["inspect", "-f", "{{.Id}}", &format!("{prefix}-api")])?;
    wd.set_env("TF_VAR_api_mode", "green");
    let a = wd.resource_changes().await?;
    ensure!(
        a.get("webide_compose_service.api").map(|v| v.join(",")) == Some("delete,create".into()),
        "{a:?}"
    );
    wd.apply().await?;
    let new_id = docker(&["inspect", "-f", "{{.Id}}", &format!("{prefix}-api")])?;
    ensure!(old_id != new_id, "replaced");
    let env = docker(&[
        "inspect",
        "-f",
        "{{range .Config.Env}}{{println .}}{{end}}",
        &format!("{prefix}-api"),
    ])?;
    ensure!(env.contains("MODE=green"), "{env}");

    // Stopped by hand: plan shows it, apply starts it again in place.
    docker(&["stop", "-t", "1", &format!("{prefix}-db")])?;
    let plan = wd.plan().await?;
    plan.assert_changes()?;
    ensure!(plan.stdout.contains("running"), "{}", plan.stdout);
    wd.apply().await?;
    ensure!(
        docker(&[
            "inspect",
            "-f",
            "{{.State.Running}}",
            &format!("{prefix}-db")
        ])? == "true"
    );

    // Removed by hand: re-created.
    docker(&["rm", "-f", &format!("{prefix}-api")])?;
    let a = wd.resource_changes().await?;
    ensure!(
        a.get("webide_compose_service.api") == Some(&vec!["create".to_string()]),
        "{a:?}"
    );
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;

    // Replacing the db keeps the volume's data (the start counter goes on).
    wd.set_env("TF_VAR_db_generation", "2");
    wd.apply().await?;
    let body = fetch(db_port)?;
    ensure!(
        body.starts_with("ok db ") && body != "ok db 1",
        "data survived the replacement: {body}"
    );

    // A taken port: clear error naming the block, no orphan container.
    wd.write(
        "dup.tf",
        &format!(
            "resource \"webide_compose_service\" \"dup\" {{\n  name = \"{prefix}-dup\"\n  image = webide_compose_image.svc.image_id\n  command = [\"serve\", \"9\"]\n  port {{\n    internal = 9\n    external = {db_port}\n    host_ip = \"127.0.0.1\"\n  }}\n}}\n"
        ),
    )?;
    let out = wd.apply_expect_failure().await?;
    ensure!(out.stderr.contains("port"), "{}", out.stderr);
    let orphans = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("name={prefix}-dup"),
        "--format",
        "{{.Names}}",
    ])?;
    ensure!(orphans.is_empty(), "no orphan: {orphans}");
    wd.remove("dup.tf")?;
    // Port out of range: refused at validate time.
    wd.write("bad.tf", "resource \"webide_compose_service\" \"bad\" {\n  name = \"x\"\n  image = \"x\"\n  port {\n    internal = 70000\n  }\n}\n")?;
    let out = wd.run_expect_failure(&["validate", "-no-color"]).await?;
    ensure!(out.stderr.contains("internal"), "{}", out.stderr);
    wd.remove("bad.tf")?;

    // Detached from its network by hand: plan shows it, apply heals it.
    docker(&[
        "network",
        "disconnect",
        &format!("{prefix}-net"),
        &format!("{prefix}-api"),
    ])?;
    let plan = wd.plan().await?;
    plan.assert_changes()?;
    ensure!(plan.stdout.contains("network"), "{}", plan.stdout);
    wd.apply().await?;
    let nets = docker(&[
        "inspect",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        &format!("{prefix}-api"),
    ])?;
    ensure!(
        nets.trim() == format!("{prefix}-net"),
        "back on its network: {nets}"
    );
    wd.plan()
        .await?
        .assert_empty()
        .context("plan after healing the network")?;
    // Connected to another network by hand: drift too.
    docker(&["network", "connect", "bridge", &format!("{prefix}-api")])?;
    let plan = wd.plan().await?;
    plan.assert_changes().context("a network joined by hand")?;
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;

    // Import by container name.
    wd.run(&["state", "rm", "webide_compose_service.api"])
        .await?;
    wd.import("webide_compose_service.api", &format!("{prefix}-api"))
        .await?;
    let a = wd.resource_changes().await?;
    if !a.is_empty() {
        bail!("plan after import: {a:?}\n{}", wd.plan().await?.stdout);
    }
    // A container with sensitive_env: the label tells import which keys were secret, so the
    // plan after import is empty and the secret is not printed.
    wd.run(&["state", "rm", "webide_compose_service.db"])
        .await?;
    wd.import("webide_compose_service.db", &format!("{prefix}-db"))
        .await?;
    let plan = wd.plan().await?;
    ensure!(
        !plan.stdout.contains(&secret),
        "plan after import prints the secret"
    );
    plan.assert_empty().context("plan after importing the db")?;

    // A container webide did not make: import cannot tell which env keys are secret, so all
    // go to sensitive_env; the configuration claims them without printing or replacing.
    docker(&[
        "run",
        "-d",
        "--name",
        &format!("{prefix}-foreign"),
        "-e",
        &format!("API_TOKEN={secret}"),
        "-e",
        "MODE=plain",
        &format!("{prefix}-svc:latest"),
        "serve",
        "9",
    ])?;
    wd.write(
        "foreign.tf",
        &format!(
            "resource \"webide_compose_service\" \"foreign\" {{\n  name = \"{prefix}-foreign\"\n  image = \"{prefix}-svc:latest\"\n  command = [\"serve\", \"9\"]\n  restart = \"no\"\n  env = {{ MODE = \"plain\" }}\n  sensitive_env = {{ API_TOKEN = \"{secret}\" }}\n}}\n"
        ),
    )?;
    wd.import(
        "webide_compose_service.foreign",
        &format!("{prefix}-foreign"),
    )
    .await?;
    let shown = wd.run(&["show", "-no-color"]).await?;
    ensure!(
        !shown.stdout.contains(&secret),
        "state shown after import prints the secret"
    );
    let plan = wd.plan().await?;
    ensure!(
        !plan.stdout.contains(&secret),
        "plan after import prints the secret:\n{}",
        plan.stdout
    );
    let a = wd.resource_changes().await?;
    ensure!(
        a.get("webide_compose_service.foreign") == Some(&vec!["update".to_string()]),
        "claiming env keys updates in place, no replacement: {a:?}\n{}",
        plan.stdout
    );
    let before = docker(&["inspect", "-f", "{{.Id}}", &format!("{prefix}-foreign")])?;
    wd.apply().await?;
    let after = docker(&["inspect", "-f", "{{.Id}}", &format!("{prefix}-foreign")])?;
    ensure!(before == after, "the container was not replaced");
    wd.plan()
        .await?
        .assert_empty()
        .context("plan after claiming the env keys")?;

    // Destroy: nothing with our labels left.
    wd.destroy().await?;
    for kind in [
        vec!["ps", "-a"],
        vec!["network", "ls"],
        vec!["volume", "ls"],
    ] {
        let mut args = kind.clone();
        args.extend([
            "--filter",
            "label=webide.managed=true",
            "--format",
            "{{.Names}}",
        ]);
        if kind[0] != "ps" {
            args.pop();
            args.pop();
            args.extend(["--format", "{{.Name}}"]);
        }
        let left = docker(&args)?;
        if left.lines().any(|l| l.starts_with(&prefix)) {
            bail!("left after destroy ({kind:?}): {left}");
        }
    }
    if !leaked.is_empty() {
        let first: String = leaked[0]
            .replace(&secret, "<SECRET>")
            .chars()
            .take(400)
            .collect();
        bail!(
            "a sensitive_env value appears in the TF_LOG=trace log on {} line(s), e.g.: {first}",
            leaked.len()
        );
    }
    Ok(())
}
