//! The main job as a test: `examples/full-environment` applied against the embedded sandbox
//! and the local Docker Engine, re-plan empty, scripted drift found by a refresh-only plan and
//! reported (security-relevant first), healed by apply, destroyed with nothing left behind.
//! The job checks each of those itself and exits non-zero when one fails.

use std::process::Command;

use anyhow::{ensure, Result};

#[test]
fn full_environment_main_job() -> Result<()> {
    let out_dir = tempfile::tempdir()?;
    let provider = webide_acceptance_tests::provider_binary()?;
    let status = Command::new(env!("CARGO_BIN_EXE_main-job"))
        .arg("--out")
        .arg(out_dir.path())
        .env("WEBIDE_PROVIDER_BIN", provider)
        .status()?;
    ensure!(status.success(), "the main job failed: {status}");
    let report = std::fs::read_to_string(out_dir.path().join("drift-report.md"))?;
    ensure!(report.contains("## Security-relevant drift"), "{report}");
    ensure!(
        out_dir.path().join("drift-report.html").is_file(),
        "HTML report written"
    );
    Ok(())
}
