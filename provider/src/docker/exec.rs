//! Running a command inside a running container (the Engine's exec API, through bollard), for
//! steps a service offers only as a CLI: database init, Gitea's `gitea admin auth ...`.
//!
//! Secrets go in by environment or stdin, never on the command line (which the Engine keeps
//! in the exec's inspect data and `ps` shows). stdout and stderr are captured separately; a
//! non-zero exit becomes a diagnostic carrying the command (its argv only) and its stderr.
//! Every run has a time limit; the Engine cannot kill an exec, so on timeout the diagnostic
//! says the command may still be running in the container.

use std::time::Duration;

use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::Docker;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::engine_error;
use crate::protocol::diagnostics::Diagnostics;

/// At most this much of each output stream is kept (the rest is dropped, and said so).
const MAX_OUTPUT: usize = 1 << 20;
/// At most this much of stderr goes into a diagnostic.
const MAX_STDERR_SHOWN: usize = 4000;

/// One command to run in a container.
#[derive(Clone, Default)]
pub struct ExecSpec {
    /// Container name or id.
    pub container: String,
    /// Program and arguments (no secrets: they are visible to `docker inspect` and `ps`).
    pub cmd: Vec<String>,
    /// `NAME=value` pairs; the place for secrets.
    pub env: Vec<(String, String)>,
    /// Written to the command's stdin, then stdin is closed; also a place for secrets.
    pub stdin: Option<String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub timeout: Duration,
}

impl std::fmt::Debug for ExecSpec {
    // Env values and stdin are never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecSpec")
            .field("container", &self.container)
            .field("cmd", &self.cmd)
            .field("env", &self.env.iter().map(|(k, _)| k).collect::<Vec<_>>())
            .field("stdin", &self.stdin.as_ref().map(|s| s.len()))
            .field("user", &self.user)
            .finish()
    }
}

/// What a finished command printed and how it ended.
#[derive(Clone, Debug, Default)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
}

impl ExecSpec {
    /// The command as shown in messages (argv only).
    pub fn display(&self) -> String {
        self.cmd.join(" ")
    }
}

fn push_capped(buf: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_OUTPUT.saturating_sub(buf.len());
    buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// Runs the command and returns its output whatever the exit code; errors only when the
/// Engine refuses or the time limit passes.
pub async fn run(docker: &Docker, spec: &ExecSpec) -> Result<ExecOutput, Diagnostics> {
    let what = format!("run `{}` in container {}", spec.display(), spec.container);
    let work = async {
        let env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let created = docker
            .create_exec(
                &spec.container,
                CreateExecOptions {
                    attach_stdin: Some(spec.stdin.is_some()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    tty: Some(false),
                    env: Some(env),
                    cmd: Some(spec.cmd.clone()),
                    user: spec.user.clone(),
                    working_dir: spec.working_dir.clone(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| engine_error(&what, e))?;
        let started = docker
            .start_exec(
                &created.id,
                Some(StartExecOptions {
                    detach: false,
                    tty: false,
                    output_capacity: None,
                }),
            )
            .await
            .map_err(|e| engine_error(&what, e))?;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        if let StartExecResults::Attached {
            mut output,
            mut input,
        } = started
        {
            if let Some(data) = &spec.stdin {
                let fed = async {
                    input.write_all(data.as_bytes()).await?;
                    input.flush().await?;
                    input.shutdown().await
                };
                fed.await.map_err(|e| {
                    Diagnostics::error(
                        format!("Docker: could not {what}"),
                        format!("writing stdin: {e}"),
                    )
                })?;
            } else {
                drop(input);
            }
            while let Some(chunk) = output.next().await {
                match chunk.map_err(|e| engine_error(&what, e))? {
                    bollard::container::LogOutput::StdErr { message } => {
                        push_capped(&mut stderr, &message)
                    }
                    bollard::container::LogOutput::StdOut { message }
                    | bollard::container::LogOutput::Console { message } => {
                        push_capped(&mut stdout, &message)
                    }
                    bollard::container::LogOutput::StdIn { .. } => {}
                }
            }
        }
        // The stream ends when the process exits; its exit code may lag a moment behind.
        let mut code = None;
        for _ in 0..50 {
            let info = docker
                .inspect_exec(&created.id)
                .await
                .map_err(|e| engine_error(&what, e))?;
            if info.running != Some(true) {
                code = info.exit_code;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(ExecOutput {
            exit_code: code.unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    };
    match tokio::time::timeout(spec.timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(Diagnostics::error(
            format!("Docker: `{}` timed out", spec.display()),
            format!(
                "no exit within {:?} in container {}; it may still be running there",
                spec.timeout, spec.container
            ),
        )),
    }
}

/// Runs the command and requires exit code 0; otherwise a diagnostic with its stderr (or,
/// when stderr is empty, its stdout).
pub async fn run_checked(docker: &Docker, spec: &ExecSpec) -> Result<ExecOutput, Diagnostics> {
    let out = run(docker, spec).await?;
    if out.exit_code == 0 {
        return Ok(out);
    }
    Err(failure(spec, &out))
}

/// The diagnostic for a command that exited non-zero.
pub fn failure(spec: &ExecSpec, out: &ExecOutput) -> Diagnostics {
    let text = if out.stderr.trim().is_empty() {
        out.stdout.trim()
    } else {
        out.stderr.trim()
    };
    let shown: String = if text.len() > MAX_STDERR_SHOWN {
        let cut = (0..=MAX_STDERR_SHOWN)
            .rev()
            .find(|i| text.is_char_boundary(text.len() - i))
            .unwrap_or(0);
        format!("...{}", &text[text.len() - cut..])
    } else {
        text.to_string()
    };
    Diagnostics::error(
        format!(
            "`{}` failed in container {} (exit code {})",
            spec.display(),
            spec.container,
            out.exit_code
        ),
        if shown.is_empty() {
            "(no output)".to_string()
        } else {
            shown
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_shows_stderr_tail_and_never_env_or_stdin() {
        let spec = ExecSpec {
            container: "c1".into(),
            cmd: vec!["psql".into(), "-U".into(), "webide".into()],
            env: vec![("PGPASSWORD".into(), "hunter2".into())],
            stdin: Some("ALTER ROLE x PASSWORD 'hunter2'".into()),
            ..Default::default()
        };
        let out = ExecOutput {
            exit_code: 3,
            stdout: "ignored".into(),
            stderr: format!("{}ERROR: role does not exist\n", "x".repeat(5000)),
        };
        let d = format!("{:?}", failure(&spec, &out));
        assert!(
            d.contains("`psql -U webide` failed in container c1 (exit code 3)"),
            "{d}"
        );
        assert!(d.contains("ERROR: role does not exist"), "{d}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(!format!("{spec:?}").contains("hunter2"));
        let empty = ExecOutput {
            exit_code: 1,
            stdout: "only stdout".into(),
            stderr: String::new(),
        };
        assert!(format!("{:?}", failure(&spec, &empty)).contains("only stdout"));
    }
}
