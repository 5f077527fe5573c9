//! Running child processes with a time limit.
//!
//! Every child is started in its own process group, so that on a timeout (or when the future
//! running it is dropped, e.g. by a failing test) the whole group is killed: Terraform together
//! with the provider plugins it started.

use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// What a finished (or killed) command printed, and how it ended.
#[derive(Debug, Clone)]
pub struct CmdOutput {
    /// The command line, program first, as shown in messages.
    pub command: String,
    /// The directory it ran in, if one was set.
    pub cwd: Option<PathBuf>,
    /// Exit code; `None` when killed by a signal (or on timeout).
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
    /// True when the command was killed because it ran past its time limit.
    pub timed_out: bool,
}

impl CmdOutput {
    /// True when the command exited with code 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }

    /// stdout followed by stderr.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Ok(self) when the command exited 0, else an error carrying the full output.
    pub fn check(self) -> Result<Self> {
        if self.success() {
            Ok(self)
        } else {
            bail!("{}", self.describe_failure())
        }
    }

    /// A multi-line description: the command, where, how it ended, then all of its output.
    pub fn describe_failure(&self) -> String {
        let how = if self.timed_out {
            format!(
                "timed out after {:.0?} and was killed (with its process group)",
                self.duration
            )
        } else {
            match self.exit_code {
                Some(c) => format!("exited with code {c} after {:.1?}", self.duration),
                None => format!("was killed by a signal after {:.1?}", self.duration),
            }
        };
        format!(
            "{self}\n{how}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- end ---",
            self.stdout, self.stderr
        )
    }
}

impl fmt::Display for CmdOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.command)?;
        if let Some(cwd) = &self.cwd {
            write!(f, " (in {})", cwd.display())?;
        }
        Ok(())
    }
}

/// Quotes a command line for messages (not for a shell to run, though it mostly is).
pub(crate) fn display_command(program: &std::ffi::OsStr, args: &[std::ffi::OsString]) -> String {
    let mut s = quote(&program.to_string_lossy());
    for a in args {
        s.push(' ');
        s.push_str(&quote(&a.to_string_lossy()));
    }
    s
}

fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn describe_std(cmd: &std::process::Command) -> (String, Option<PathBuf>) {
    let args: Vec<_> = cmd.get_args().map(|a| a.to_os_string()).collect();
    (
        display_command(cmd.get_program(), &args),
        cmd.get_current_dir().map(|p| p.to_path_buf()),
    )
}

/// Sends SIGKILL to a whole process group.
fn kill_group(pgid: u32) {
    if pgid > 1 {
        // SAFETY: plain syscall; the group id is that of a child we started and have not reaped.
        unsafe {
            libc::kill(-(pgid as libc::pid_t), libc::SIGKILL);
        }
    }
}

/// Kills the process group on drop unless disarmed (the child was reaped normally).
struct GroupGuard {
    pgid: Option<u32>,
}

impl GroupGuard {
    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            kill_group(pgid);
        }
    }
}

fn lossy(buf: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buf.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// Runs a command synchronously, capturing its output, killing its process group after
/// `timeout`. Never fails because of the exit code: call [`CmdOutput::check`] for that.
///
/// One runner serves both worlds: this is [`run_async`] on a private current-thread runtime,
/// driven from its own thread so that it may be called from inside a tokio test as well.
pub fn run_sync(cmd: std::process::Command, timeout: Duration) -> Result<CmdOutput> {
    std::thread::scope(|s| {
        s.spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting a runtime for a child process")?
                .block_on(run_async(tokio::process::Command::from(cmd), timeout))
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Runs a command inside a tokio runtime, capturing its output, killing its process group
/// after `timeout` (it does not block the runtime, so servers running in the same runtime,
/// such as the sandbox, keep answering). Never fails because of the exit code.
pub async fn run_async(mut cmd: tokio::process::Command, timeout: Duration) -> Result<CmdOutput> {
    use tokio::io::AsyncReadExt;
    let (command, cwd) = describe_std(cmd.as_std());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start `{command}`"))?;
    let mut guard = GroupGuard { pgid: child.id() };
    let out_buf = Arc::new(Mutex::new(Vec::new()));
    let err_buf = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    if let Some(mut r) = child.stdout.take() {
        let buf = out_buf.clone();
        readers.push(tokio::spawn(async move {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = r.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                buf.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&chunk[..n]);
            }
        }));
    }
    if let Some(mut r) = child.stderr.take() {
        let buf = err_buf.clone();
        readers.push(tokio::spawn(async move {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = r.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                buf.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&chunk[..n]);
            }
        }));
    }

    let (status, timed_out) = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => (status.context("waiting for child")?, false),
        Err(_) => {
            if let Some(pid) = child.id() {
                kill_group(pid);
            }
            let _ = child.start_kill();
            (
                child.wait().await.context("waiting for killed child")?,
                true,
            )
        }
    };
    guard.disarm();
    for r in readers {
        let abort = r.abort_handle();
        if tokio::time::timeout(Duration::from_secs(10), r)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
    Ok(CmdOutput {
        command,
        cwd,
        exit_code: if timed_out { None } else { status.code() },
        stdout: lossy(&out_buf),
        stderr: lossy(&err_buf),
        duration: start.elapsed(),
        timed_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_captures_and_reports() {
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let out = run_sync(cmd, Duration::from_secs(10)).unwrap();
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        let err = out.check().unwrap_err().to_string();
        assert!(
            err.contains("`sh -c 'echo out; echo err >&2; exit 3'`"),
            "{err}"
        );
        assert!(err.contains("exited with code 3"), "{err}");
        assert!(err.contains("out\n") && err.contains("err\n"), "{err}");
    }

    #[test]
    fn sync_timeout_kills_the_group() {
        let mut cmd = std::process::Command::new("sh");
        // The grandchild `sleep` holds the pipes: only a group kill lets this return quickly.
        cmd.args(["-c", "echo started; sleep 30 & sleep 30; echo never"]);
        let t = Instant::now();
        let out = run_sync(cmd, Duration::from_millis(300)).unwrap();
        assert!(out.timed_out);
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(out.stdout, "started\n");
        let err = out.check().unwrap_err().to_string();
        assert!(err.contains("timed out"), "{err}");
    }

    #[tokio::test]
    async fn async_timeout_kills_the_group() {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.args(["-c", "echo started; sleep 30 & sleep 30; echo never"]);
        let t = Instant::now();
        let out = run_async(cmd, Duration::from_millis(300)).await.unwrap();
        assert!(out.timed_out);
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(out.stdout, "started\n");
    }

    #[tokio::test]
    async fn async_success() {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.args(["-c", "printf 'a b'"]);
        let out = run_async(cmd, Duration::from_secs(10))
            .await
            .unwrap()
            .check()
            .unwrap();
        assert_eq!(out.stdout, "a b");
    }
}
