//! `webide-sandbox`: the API simulators as a program of their own, for people and the main job.
//!
//! Kept out of the plugin binary: an installed provider carries no simulator and no fixed admin
//! credentials. See [`webide_sandbox::run_cli`] for the flags.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match webide_sandbox::run_cli(std::env::args().skip(1).collect()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("webide-sandbox: {e:#}");
            ExitCode::FAILURE
        }
    }
}
