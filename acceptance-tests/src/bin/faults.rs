//! `scripts/faults`: figures for the provider under injected faults (not a timed test).
//!
//! 1. Faulty services: every simulator answers a share of requests with 503/429 (Retry-After),
//!    drops a share of connections, lets a share of writes commit and then loses their answer
//!    (closed connection or 502/504) and adds latency. An apply of N resources across the
//!    services converges; per service, the objects on the sandbox are those in state: no
//!    orphan (on the server, not in state), no duplicate (one key twice), none missing; a
//!    second plan is empty.
//! 2. Interrupted apply: SIGINT to `terraform apply` midway (Terraform sends StopProvider);
//!    a re-run converges to the same counts and an empty plan.
//!
//! Options: `--resources N` (default 50), `--error-rate R` (0.2), `--drop-rate R` (0.05),
//! `--commit-drop-rate R` (0.05), `--commit-error-rate R` (0.05), `--latency-ms MS` (200).

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use webide_acceptance_tests::{Harness, TfWorkdir};
use webide_sandbox::faults::{FaultSpec, Faults};
use webide_sandbox::{Ports, RunningSandbox, SandboxConfig};

struct Args {
    resources: usize,
    error_rate: f64,
    drop_rate: f64,
    commit_drop_rate: f64,
    commit_error_rate: f64,
    latency_ms: u64,
}

const USAGE: &str = "usage: faults [--resources N] [--error-rate R] [--drop-rate R] \
                     [--commit-drop-rate R] [--commit-error-rate R] [--latency-ms MS]";

fn args() -> Result<Args> {
    let mut a = Args {
        resources: 50,
        error_rate: 0.2,
        drop_rate: 0.05,
        commit_drop_rate: 0.05,
        commit_error_rate: 0.05,
        latency_ms: 200,
    };
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("resources") => a.resources = parser.value()?.parse()?,
            Long("error-rate") => a.error_rate = parser.value()?.parse()?,
            Long("drop-rate") => a.drop_rate = parser.value()?.parse()?,
            Long("latency-ms") => a.latency_ms = parser.value()?.parse()?,
            Long("commit-drop-rate") => a.commit_drop_rate = parser.value()?.parse()?,
            Long("commit-error-rate") => a.commit_error_rate = parser.value()?.parse()?,
            Short('h') | Long("help") => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("{}\n{USAGE}", other.unexpected()),
        }
    }
    Ok(a)
}

/// A configuration of `n` objects spread over the four APIs, and how many objects of each
/// kind it declares.
fn config(n: usize) -> (String, Vec<(&'static str, usize)>) {
    let per = (n / 5).max(1);
    let teams = (per / 4).max(1);
    let keys = n.saturating_sub(3 * per + teams).max(1);
    let tf = format!(
        r#"terraform {{
  required_providers {{
    webide = {{ source = "webide/webide" }}
  }}
}}

resource "webide_litellm_team" "t" {{
  count      = {teams}
  team_alias = "fault-team-${{count.index}}"
  max_budget = 100
}}

resource "webide_litellm_key" "k" {{
  count      = {keys}
  key_alias  = "fault-key-${{count.index}}"
  team_id    = webide_litellm_team.t[count.index % {teams}].id
  max_budget = 10
  metadata   = {{ enforcement_level = "strict" }}
}}

resource "webide_gitea_user" "u" {{
  count      = {per}
  username   = "fault-user-${{count.index}}"
  email      = "fault-user-${{count.index}}@example.com"
  password   = "password123"
  restricted = true
}}

resource "webide_authentik_group" "g" {{
  count = {per}
  name  = "fault-group-${{count.index}}"
}}

resource "webide_coder_user" "c" {{
  count      = {per}
  username   = "fault-coder-${{count.index}}"
  email      = "fault-coder-${{count.index}}@example.com"
  login_type = "oidc"
  roles      = ["auditor"]
}}
"#
    );
    (
        tf,
        vec![
            ("litellm keys", keys),
            ("litellm teams", teams),
            ("gitea users", per),
            ("authentik groups", per),
            ("coder users", per),
        ],
    )
}

/// The kinds counted: label, resource type, the attribute holding the natural key.
const KINDS: [(&str, &str, &str); 5] = [
    ("litellm keys", "webide_litellm_key", "key_alias"),
    ("litellm teams", "webide_litellm_team", "team_alias"),
    ("gitea users", "webide_gitea_user", "username"),
    ("authentik groups", "webide_authentik_group", "name"),
    ("coder users", "webide_coder_user", "username"),
];

/// Natural keys of the objects of each kind on the sandbox (seeded admins and groups not
/// counted), in [`KINDS`] order; a key made twice appears twice.
fn on_server(sb: &RunningSandbox) -> Vec<Vec<String>> {
    let lite = sb.litellm_store().snapshot();
    let gitea = sb.gitea_store().snapshot();
    let ak = sb.authentik_store().snapshot();
    let coder = sb.coder_store().snapshot();
    let field = |rows: Vec<&serde_json::Value>, f: &str| -> Vec<String> {
        rows.into_iter()
            .filter_map(|r| r[f].as_str().map(str::to_string))
            .filter(|n| n.starts_with("fault-"))
            .collect()
    };
    vec![
        field(lite.keys.values().collect(), "key_alias"),
        field(lite.teams.values().collect(), "team_alias"),
        gitea
            .users
            .values()
            .map(|u| u.login.clone())
            .filter(|n| n.starts_with("fault-"))
            .collect(),
        field(
            ak.rows(webide_sandbox::authentik::Kind::Groups).collect(),
            "name",
        ),
        field(coder.users.values().collect(), "username"),
    ]
}

fn total(server: &[Vec<String>]) -> usize {
    server.iter().map(Vec::len).sum()
}

/// Natural keys of the objects of each kind in state, in [`KINDS`] order.
async fn in_state(wd: &TfWorkdir) -> Result<Vec<Vec<String>>> {
    let doc = wd.show_state_json().await?;
    let resources: Vec<&serde_json::Value> = doc
        .pointer("/values/root_module/resources")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    Ok(KINDS
        .iter()
        .map(|(_, ty, attr)| {
            resources
                .iter()
                .filter(|r| r["type"] == *ty)
                .filter_map(|r| r["values"][*attr].as_str().map(str::to_string))
                .collect()
        })
        .collect())
}

/// Prints, per service, declared / in state / on the server / orphans / duplicates / missing,
/// and fails on any difference.
fn check_counts(
    expected: &[(&'static str, usize)],
    server: &[Vec<String>],
    state: &[Vec<String>],
) -> Result<()> {
    println!(
        "    {:<16} {:>8} {:>8} {:>10} {:>8} {:>10} {:>8}",
        "", "declared", "in state", "on server", "orphans", "duplicates", "missing"
    );
    let mut problems = vec![];
    for (((kind, want), on), st) in expected.iter().zip(server).zip(state) {
        let count = |v: &[String], n: &str| v.iter().filter(|x| *x == n).count();
        let mut names: Vec<&String> = on.iter().chain(st).collect();
        names.sort();
        names.dedup();
        let (mut orphans, mut dups, mut missing) = (0, 0, 0);
        for n in names {
            let (s, o) = (count(st, n), count(on, n));
            dups += o.saturating_sub(1);
            orphans += usize::from(o > 0 && s == 0);
            missing += usize::from(o == 0 && s > 0);
        }
        println!(
            "    {kind:<16} {want:>8} {:>8} {:>10} {orphans:>8} {dups:>10} {missing:>8}",
            st.len(),
            on.len()
        );
        if orphans + dups + missing > 0 || on.len() != *want || st.len() != *want {
            problems.push(format!(
                "{kind}: {want} declared, {} in state, {} on the server ({orphans} orphans, {dups} duplicates, {missing} missing)",
                st.len(),
                on.len()
            ));
        }
    }
    ensure!(problems.is_empty(), "{}", problems.join("; "));
    Ok(())
}

async fn workdir(h: &Harness, sb: &RunningSandbox, tf: &str) -> Result<TfWorkdir> {
    let mut wd = h.workdir_with_main(tf)?;
    wd.set_sandbox_env(sb);
    wd.set_timeout(Duration::from_secs(1200));
    wd.init().await?;
    Ok(wd)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let a = args()?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let h = Harness::new()?;
    let (tf, expected) = config(a.resources);
    let services = ["litellm", "authentik", "gitea", "coder"];

    println!(
        "1. faulty services: {:.0}% 503/429, {:.0}% dropped connections, {:.0}% of writes \
         committed then answer dropped, {:.0}% committed then 502/504, {} ms latency on {}",
        a.error_rate * 100.0,
        a.drop_rate * 100.0,
        a.commit_drop_rate * 100.0,
        a.commit_error_rate * 100.0,
        a.latency_ms,
        services.join(", ")
    );
    let mut spec = FaultSpec::default();
    for s in services {
        spec = spec.with(
            s,
            Faults {
                latency_ms: a.latency_ms,
                error_rate: a.error_rate,
                drop_rate: a.drop_rate,
                commit_drop_rate: a.commit_drop_rate,
                commit_error_rate: a.commit_error_rate,
                ..Default::default()
            },
        );
    }
    let sb = webide_sandbox::start(
        SandboxConfig {
            faults: spec,
            ..Default::default()
        },
        "127.0.0.1",
        Ports::default(),
    )
    .await?;
    let wd = workdir(&h, &sb, &tf).await?;
    let t = Instant::now();
    wd.apply_with(&["-parallelism=10"]).await?;
    println!(
        "    apply of {} resources converged in {:.1}s; {} writes committed and lost their answer",
        a.resources,
        t.elapsed().as_secs_f64(),
        webide_sandbox::faults::COMMITTED_THEN_LOST.load(std::sync::atomic::Ordering::Relaxed)
    );
    check_counts(&expected, &on_server(&sb), &in_state(&wd).await?)?;
    let t = Instant::now();
    wd.plan().await?.assert_empty()?;
    println!(
        "    second plan empty ({:.1}s, still under faults)",
        t.elapsed().as_secs_f64()
    );
    wd.destroy().await?;
    let left = total(&on_server(&sb));
    println!("    destroy under faults: {left} objects left");
    ensure!(left == 0, "{left} objects left after destroy");
    webide_acceptance_tests::assert_contract(&sb)?;
    sb.shutdown().await;

    println!("2. interrupted apply: SIGINT to terraform midway, then a re-run");
    let slow = FaultSpec::default().with(
        "litellm",
        Faults {
            latency_ms: 150,
            ..Default::default()
        },
    );
    let sb = webide_sandbox::start(
        SandboxConfig {
            faults: slow,
            ..Default::default()
        },
        "127.0.0.1",
        Ports::default(),
    )
    .await?;
    let wd = workdir(&h, &sb, &tf).await?;
    let (out, created_at_signal) = interrupted_apply(&wd, &sb).await?;
    println!(
        "    SIGINT after {created_at_signal} objects were created; terraform exited with {:?}",
        out
    );
    let after_stop = total(&on_server(&sb));
    let state_after_stop = total(&in_state(&wd).await?);
    println!("    after the stop: {after_stop} objects on the server, {state_after_stop} in state");
    ensure!(
        after_stop < a.resources,
        "the apply was interrupted before it finished"
    );
    let t = Instant::now();
    wd.apply_with(&["-parallelism=10"]).await?;
    println!("    re-run converged in {:.1}s", t.elapsed().as_secs_f64());
    check_counts(&expected, &on_server(&sb), &in_state(&wd).await?)?;
    wd.plan().await?.assert_empty()?;
    println!("    plan after the re-run: empty");
    wd.destroy().await?;
    webide_acceptance_tests::assert_contract(&sb)?;
    sb.shutdown().await;
    println!("all fault figures OK");
    Ok(())
}

/// Starts `terraform apply`, sends SIGINT once 10 objects exist, waits for exit.
async fn interrupted_apply(wd: &TfWorkdir, sb: &RunningSandbox) -> Result<(Option<i32>, usize)> {
    let mut cmd = wd.command_for(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-parallelism=4",
    ]);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().context("starting terraform apply")?;
    let pid = child.id().context("terraform pid")? as i32;
    let started = Instant::now();
    let at_signal = loop {
        let n = total(&on_server(sb));
        if n >= 10 {
            // SAFETY: plain kill(2) on our own child.
            unsafe { libc::kill(pid, libc::SIGINT) };
            break n;
        }
        if let Some(status) = child.try_wait()? {
            bail!("terraform apply finished ({status}) before it could be interrupted");
        }
        ensure!(
            started.elapsed() < Duration::from_secs(120),
            "apply made no progress in 120s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let status = tokio::time::timeout(Duration::from_secs(120), child.wait())
        .await
        .context("terraform did not stop within 120s of SIGINT")??;
    Ok((status.code(), at_signal))
}
