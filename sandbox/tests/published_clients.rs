//! Published-client cross-check: the Authentik simulator's answers parsed by the official
//! `authentik-client` 2026.2.2 (PyPI; pydantic models that refuse a missing required field or
//! a wrong type), via `clients/authentik_client_check.py` against the `webide-sandbox` binary.
//!
//! The client is installed with pip into `<workspace>/.tools/clients-venv` (or under
//! `$WEBIDE_TOOLS_DIR`) on first use (about a minute). Under `CI` a failed install is a test
//! failure; elsewhere the test says it skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

const CLIENT: &str = "authentik-client==2026.2.2";

fn tools_dir() -> PathBuf {
    match std::env::var_os("WEBIDE_TOOLS_DIR").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools"),
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// A python that imports `authentik_client` at the pinned version, installed if needed.
fn python_with_client() -> Result<PathBuf, String> {
    let venv = tools_dir().join("clients-venv");
    let python = venv.join("bin/python");
    let has_it = |p: &Path| {
        Command::new(p)
            .args([
                "-c",
                "import authentik_client as a, sys; sys.exit(a.__version__ != '2026.2.2')",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has_it(&python) {
        return Ok(python);
    }
    let base = std::env::var("WEBIDE_PYTHON").unwrap_or_else(|_| "python3".into());
    if !python.exists() {
        run(Command::new(&base).arg("-m").arg("venv").arg(&venv))?;
    }
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        CLIENT,
    ]))?;
    if has_it(&python) {
        Ok(python)
    } else {
        Err(format!("{CLIENT} installed but not importable"))
    }
}

#[test]
fn authentik_answers_parse_with_the_published_client() {
    let specs = webide_sandbox::contract::Contract::specs_dir();
    let ci = std::env::var_os("CI").is_some();
    if !specs.is_dir() {
        assert!(!ci, "{} absent under CI", specs.display());
        eprintln!("SKIPPED: {} absent", specs.display());
        return;
    }
    let python = match python_with_client() {
        Ok(p) => p,
        Err(e) if !ci => {
            eprintln!("SKIPPED: cannot install {CLIENT}: {e}");
            return;
        }
        Err(e) => panic!("installing {CLIENT}: {e}"),
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/authentik_client_check.py");
    let out = Command::new(python)
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_webide-sandbox"))
        .env("WEBIDE_SPECS_DIR", &specs)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the published client refused an answer, or the sandbox recorded violations:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("exchanges parsed and checked"), "{stdout}");
    eprintln!("{stdout}");
}
