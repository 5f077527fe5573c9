//! Proves the harness end to end without the webide provider: the Terraform CLI, the
//! filesystem mirror + CLI configuration, and init/apply/plan/destroy with HashiCorp's null
//! provider, plus the error and timeout reporting of commands.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use webide_acceptance_tests::{
    planned_actions, resource_addresses, terraform_cli, Harness, NullProvider,
};

/// Without the null provider this test can only skip; under CI (`$CI` set) that is a failure.
fn null_mode() -> NullProvider {
    if std::env::var_os("CI").is_some()
        || std::env::var_os("WEBIDE_REQUIRE_NULL_PROVIDER").is_some()
    {
        NullProvider::Required
    } else {
        NullProvider::IfAvailable
    }
}

const NULL_CONFIG: &str = r#"
terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

variable "generation" {
  type    = string
  default = "1"
}

resource "null_resource" "n" {
  count = 3
  triggers = {
    index      = count.index
    generation = count.index == 1 ? var.generation : "1"
  }
}

output "ids" {
  value = null_resource.n[*].id
}
"#;

#[tokio::test]
async fn terraform_cli_runs() -> Result<()> {
    let cli = terraform_cli()?;
    println!(
        "terraform CLI: {} ({:?}) at {}",
        cli.version_line,
        cli.source,
        cli.path.display()
    );
    ensure!(
        !cli.version().is_empty(),
        "no version in {:?}",
        cli.version_line
    );
    Ok(())
}

#[tokio::test]
async fn null_resources_roundtrip_through_the_mirror() -> Result<()> {
    let h = Harness::builder()
        .webide_provider(false)
        .null_provider(null_mode())
        .build()?;
    if !h.has_null_provider() {
        eprintln!(
            "SKIPPED: null provider not obtainable: {}",
            h.null_provider_error().unwrap_or("?")
        );
        return Ok(());
    }
    println!(
        "cli {} ; mirror {}",
        h.cli().version_line,
        h.mirror().root().display()
    );
    let wd = h.workdir_with_main(NULL_CONFIG)?;

    let init = wd.init().await?;
    ensure!(
        init.stdout.contains("hashicorp/null v2.1.2"),
        "init did not install null 2.1.2 from the mirror:\n{}",
        init.stdout
    );

    wd.plan().await?.assert_changes()?;
    wd.apply().await?;
    wd.plan().await?.assert_empty()?;

    let state = wd.show_state_json().await?;
    let mut addrs = resource_addresses(&state);
    addrs.sort();
    ensure!(
        addrs
            == [
                "null_resource.n[0]",
                "null_resource.n[1]",
                "null_resource.n[2]"
            ],
        "state has {addrs:?}"
    );
    let ids = wd.output("ids").await?;
    ensure!(ids.as_array().map(Vec::len) == Some(3), "ids output: {ids}");
    let n1 = wd.state_resource("null_resource.n[1]").await?;
    ensure!(n1["triggers"]["generation"] == "1", "n[1] values: {n1}");

    // A changed trigger replaces exactly one instance.
    let plan = wd.plan_json_with(&["-var", "generation=2"]).await?;
    let actions = planned_actions(&plan);
    ensure!(
        actions.get("null_resource.n[1]").map(Vec::as_slice)
            == Some(&["delete".to_string(), "create".to_string()][..]),
        "actions: {actions:?}"
    );
    ensure!(
        actions.get("null_resource.n[0]").map(Vec::as_slice) == Some(&["no-op".to_string()][..]),
        "actions: {actions:?}"
    );
    wd.plan_with(&["-var", "generation=2"])
        .await?
        .assert_changes()?;

    wd.destroy().await?;
    let state = wd.show_state_json().await?;
    ensure!(
        resource_addresses(&state).is_empty(),
        "state after destroy: {state}"
    );
    Ok(())
}

#[tokio::test]
async fn failures_carry_command_and_output() -> Result<()> {
    let h = Harness::builder().webide_provider(false).build()?;
    let wd = h.workdir_with_main("resource \"broken\" {\n")?;
    let err = wd.init().await.expect_err("init of broken HCL must fail");
    let msg = format!("{err:#}");
    ensure!(
        msg.contains("init -no-color -input=false"),
        "no command line in: {msg}"
    );
    ensure!(
        msg.contains(&wd.path().display().to_string()),
        "no workdir in: {msg}"
    );
    ensure!(msg.contains("exited with code 1"), "no exit code in: {msg}");
    ensure!(
        msg.contains("--- stderr ---") && msg.contains("Error"),
        "no diagnostic in: {msg}"
    );

    // A provider that is not in the mirror is never fetched from the network.
    let wd = h.workdir_with_main(
        "terraform {\n  required_providers {\n    random = { source = \"hashicorp/random\" }\n  }\n}\n",
    )?;
    let out = wd.run_expect_failure(&["init", "-no-color"]).await?;
    ensure!(
        out.stderr.contains("hashicorp/random"),
        "unexpected failure: {}",
        out.describe_failure()
    );
    Ok(())
}

#[tokio::test]
async fn timeout_kills_terraform() -> Result<()> {
    let h = Harness::builder().webide_provider(false).build()?;
    let mut wd = h.workdir_with_main("")?;
    // Even `version` takes longer than a millisecond.
    wd.set_timeout(Duration::from_millis(1));
    let err = wd.run(&["version"]).await.expect_err("must time out");
    let msg = format!("{err:#}");
    ensure!(msg.contains("timed out"), "{msg}");
    wd.set_timeout(Duration::from_secs(60));
    wd.run(&["version"])
        .await
        .context("after resetting the timeout")?;
    Ok(())
}
