//! `webide_compose_exec` on the real Docker Engine with a real PostgreSQL (the Debian-built
//! image): a failing SQL step fails the apply with psql's own error and no secret in the
//! output; the fixed step converges on re-run, re-plan is empty, the role logs in with the
//! password given by env; a trigger change runs it again (idempotent).

use std::process::Command;

use anyhow::{ensure, Result};
use webide_acceptance_tests::debian_image::debian_data_image;
use webide_acceptance_tests::fixture::docker_engine;
use webide_acceptance_tests::Harness;

fn config(image: &str, name: &str, sql: &str, round: u32) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}
resource "webide_compose_service" "pg" {{
  name          = "{name}"
  image         = "{image}"
  command       = ["postgres"]
  env           = {{ POSTGRES_USER = "webide" }}
  sensitive_env = {{ POSTGRES_PASSWORD = "pg-super-pw-1" }}
  healthcheck {{
    test     = ["pg_isready", "-U", "webide"]
    interval = "1s"
  }}
}}
resource "webide_compose_exec" "db" {{
  container = webide_compose_service.pg.name
  command   = ["psql", "-v", "ON_ERROR_STOP=1", "-U", "webide", "-d", "webide", "-f", "-"]
  env       = {{ APP_PW = "app-secret-pw-7" }}
  stdin     = <<-SQL
    \getenv pw APP_PW
    {sql}
    SELECT 'CREATE ROLE app LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') \gexec
    ALTER ROLE app WITH LOGIN PASSWORD :'pw';
  SQL
  triggers = {{ round = "{round}" }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_step_on_real_postgres() -> Result<()> {
    if docker_engine()?.is_none() {
        return Ok(());
    }
    let image = debian_data_image()?;
    let name = format!("webide-exec-pg-{}", std::process::id());
    let h = Harness::new()?;
    let wd = h.workdir()?;
    wd.write(
        "main.tf",
        &config(&image, &name, "SELECT * FROM no_such_table;", 1),
    )?;
    wd.init().await?;
    let out = wd.apply_expect_failure().await?;
    let all = out.combined();
    ensure!(all.contains("failed in container"), "{all}");
    ensure!(all.contains("no_such_table"), "psql's error shown: {all}");
    ensure!(
        !all.contains("app-secret-pw-7") && !all.contains("pg-super-pw-1"),
        "{all}"
    );

    wd.write("main.tf", &config(&image, &name, "SELECT 1;", 1))?;
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;
    let login = Command::new("docker")
        .args(["exec", "-e", "PGPASSWORD=app-secret-pw-7", &name])
        .args([
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "app",
            "-d",
            "webide",
            "-tAc",
            "select current_user",
        ])
        .output()?;
    ensure!(
        String::from_utf8_lossy(&login.stdout).trim() == "app",
        "login as app: {}",
        String::from_utf8_lossy(&login.stderr)
    );
    // A trigger change runs the step again; it is idempotent.
    wd.write("main.tf", &config(&image, &name, "SELECT 1;", 2))?;
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;
    wd.destroy().await?;
    let left = Command::new("docker").args(["inspect", &name]).output()?;
    ensure!(
        !left.status.success(),
        "container {name} left after destroy"
    );
    Ok(())
}
