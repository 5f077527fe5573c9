//! `terraform-provider-webide`: the plugin, plus a few tools for people.

use std::process::ExitCode;

use webide_provider::protocol::{logging, plugin};
use webide_provider::provider::WebideProvider;

const USAGE: &str =
    "terraform-provider-webide: Terraform/OpenTofu provider for the Coder WebIDE platform

Started by terraform or tofu as a plugin. Commands for people:
  docs [--check] [--docs DIR] [--examples DIR]
                     write docs/ pages from the schemas (--check: fail if stale)
  drift-report PLAN.json [--format markdown|html] [--output FILE]
                     readable report of the drift in `terraform show -json` of a
                     `plan -refresh-only` (exit 2 when there is drift)
  version            print the version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match args.first().map(String::as_str) {
        Some("docs") => docs_command(&args[1..]),
        Some("drift-report") => match webide_provider::drift::run_cli(&args[1..]) {
            Ok(code) => ExitCode::from(code as u8),
            Err(e) => {
                eprintln!("drift-report: {e:#}");
                ExitCode::FAILURE
            }
        },
        Some("version") | Some("--version") => {
            println!("terraform-provider-webide {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("help") | Some("--help") | Some("-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            if let Err(msg) = plugin::check_launch() {
                eprintln!("{msg}");
                return ExitCode::FAILURE;
            }
            logging::init(&["webide_provider", "terraform_provider_webide"]);
            // Ctrl-C reaches the whole process group; Terraform itself sends
            // StopProvider and then shuts us down, so the signal is ignored here.
            runtime.spawn(async {
                loop {
                    if tokio::signal::ctrl_c().await.is_err() {
                        break;
                    }
                }
            });
            match runtime.block_on(plugin::serve(WebideProvider::default())) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "plugin server failed");
                    eprintln!("terraform-provider-webide: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `docs [--check] [--docs DIR] [--examples DIR]`
fn docs_command(args: &[String]) -> ExitCode {
    use lexopt::prelude::*;
    let mut check = false;
    let mut docs = std::path::PathBuf::from("docs");
    let mut examples = std::path::PathBuf::from("examples");
    let mut parser = lexopt::Parser::from_args(args);
    let parsed: Result<(), lexopt::Error> = (|| {
        while let Some(arg) = parser.next()? {
            match arg {
                Long("check") => check = true,
                Long("docs") => docs = parser.value()?.into(),
                Long("examples") => examples = parser.value()?.into(),
                other => return Err(other.unexpected()),
            }
        }
        Ok(())
    })();
    if let Err(e) = parsed {
        eprintln!("docs: {e}\n\n{USAGE}");
        return ExitCode::from(2);
    }
    let pages = webide_provider::docs::render(WebideProvider::default(), &examples);
    match webide_provider::docs::write_or_check(&pages, &docs, check) {
        Ok(stale) if check && !stale.is_empty() => {
            eprintln!(
                "docs are stale, run `terraform-provider-webide docs`: {}",
                stale.join(", ")
            );
            ExitCode::FAILURE
        }
        Ok(stale) => {
            if !check {
                println!("{} page(s) written, {} changed", pages.len(), stale.len());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("docs: {e}");
            ExitCode::FAILURE
        }
    }
}
