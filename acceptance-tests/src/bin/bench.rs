//! `scripts/bench`: the webide provider beside HashiCorp's Go null provider, in the same run.
//!
//! For each Terraform CLI found (the shared venv's 1.0.3 and the `terraform` on `PATH`, or
//! every `--tf PATH` given) and each N in `--resources` (default 500): N `webide_litellm_key`
//! against the embedded LiteLLM sandbox and N `null_resource`, `--runs` times (default 3),
//! the two providers interleaved so machine load affects both alike. Prints medians of: plan
//! with no state, apply, plan after apply (a refresh of every object, no changes), destroy,
//! the LiteLLM API requests the refresh made (counted in the sandbox), the peak RSS of the
//! provider processes (VmHWM, sampled from /proc), and per phase the CPU seconds of the provider
//! processes and of the bench process (the in-process sandbox); ratios webide / null. Also the
//! median process start to handshake line of each provider.
//!
//! Options: `--resources N[,N...]`, `--runs N`, `--handshakes N` (default 20),
//! `--parallelism N` (default 10), `--tf PATH` (repeatable), `--webide-bin PATH` (e.g. a
//! wrapper that runs the provider under valgrind; every Terraform command is run with
//! `BENCH_PHASE=plan|apply|refresh|destroy` in its environment), `--only webide|null`,
//! `--json` (one JSON object on stdout instead of the tables).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use webide_acceptance_tests::cli::{which, CliSource, TerraformCli};
use webide_acceptance_tests::{
    null_provider_binary, provider_binary, venv_terraform, Harness, NullProvider, TfWorkdir,
};
use webide_sandbox::{Ports, RunningSandbox, SandboxConfig};

const MAGIC: (&str, &str) = (
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
);

struct Args {
    resources: Vec<usize>,
    runs: usize,
    handshakes: usize,
    parallelism: usize,
    tf: Vec<PathBuf>,
    webide_bin: Option<PathBuf>,
    only: Option<String>,
    json: bool,
}

const USAGE: &str =
    "usage: bench [--resources N[,N...]] [--runs N] [--handshakes N] [--parallelism N] \
                     [--tf PATH]... [--webide-bin PATH] [--only webide|null] [--json]";

fn args() -> Result<Args> {
    let mut a = Args {
        resources: vec![500],
        runs: 3,
        handshakes: 20,
        parallelism: 10,
        tf: Vec::new(),
        webide_bin: None,
        only: None,
        json: false,
    };
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("resources") => {
                a.resources = parser
                    .value()?
                    .string()?
                    .split(',')
                    .map(|n| n.trim().parse().context("--resources N[,N...]"))
                    .collect::<Result<_>>()?
            }
            Long("runs") => a.runs = parser.value()?.parse()?,
            Long("handshakes") => a.handshakes = parser.value()?.parse()?,
            Long("parallelism") => a.parallelism = parser.value()?.parse()?,
            Long("tf") => a.tf.push(parser.value()?.into()),
            Long("webide-bin") => a.webide_bin = Some(parser.value()?.into()),
            Long("only") => a.only = Some(parser.value()?.string()?),
            Long("json") => a.json = true,
            Short('h') | Long("help") => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("{}\n{USAGE}", other.unexpected()),
        }
    }
    if a.runs == 0 || a.resources.is_empty() {
        bail!("--runs and --resources must be at least 1");
    }
    Ok(a)
}

/// Milliseconds from spawning `bin` to its handshake line on stdout.
fn handshake_ms(bin: &Path, protocol: &str) -> Result<f64> {
    // go-plugin puts its unix socket in TMPDIR and a killed plugin leaves it behind.
    let tmp = tempfile::tempdir()?;
    let start = Instant::now();
    let mut child = Command::new(bin)
        .env("TMPDIR", tmp.path())
        .env(MAGIC.0, MAGIC.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", protocol)
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let _ = child.kill();
    let _ = child.wait();
    if line.split('|').count() < 5 {
        bail!("{}: no handshake line, got {line:?}", bin.display());
    }
    Ok(ms)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// What the sampler saw of one provider process.
#[derive(Debug, Clone, Default)]
struct ProcSample {
    name: String,
    peak_rss_kib: u64,
    /// utime + stime in clock ticks, at the last sample.
    cpu_ticks: u64,
}

/// Samples every running `terraform-provider-*` process every 10 ms until stopped: peak RSS
/// (VmHWM) and CPU time (the last sample before a process exits; up to 10 ms of it is lost).
struct ProcSampler {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<BTreeMap<u32, ProcSample>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProcSampler {
    fn start() -> ProcSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(BTreeMap::new()));
        let (s, p) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || loop {
            let done = s.load(Ordering::Relaxed);
            for (pid, now) in provider_procs() {
                let mut map = p.lock().unwrap();
                let e: &mut ProcSample = map.entry(pid).or_default();
                e.name = now.name;
                e.peak_rss_kib = e.peak_rss_kib.max(now.peak_rss_kib);
                e.cpu_ticks = e.cpu_ticks.max(now.cpu_ticks);
            }
            if done {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        });
        ProcSampler {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    /// (peak RSS KiB of any process, CPU seconds of all processes) whose name starts with
    /// `prefix`.
    fn finish(mut self, prefix: &str) -> (u64, f64) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let seen = self.seen.lock().unwrap();
        let mine = seen.values().filter(|p| p.name.starts_with(prefix));
        let (mut rss, mut ticks) = (0, 0);
        for p in mine {
            rss = rss.max(p.peak_rss_kib);
            ticks += p.cpu_ticks;
        }
        (rss, ticks as f64 / clock_ticks_per_sec())
    }
}

fn clock_ticks_per_sec() -> f64 {
    // USER_HZ, the unit of /proc/<pid>/stat times: 100 on every Linux architecture.
    100.0
}

/// CPU seconds this process (the bench, i.e. the in-process sandbox) has used.
fn own_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| cpu_ticks_of_stat(&s))
        .map_or(0.0, |t| t as f64 / clock_ticks_per_sec())
}

/// utime + stime from a `/proc/<pid>/stat` line.
fn cpu_ticks_of_stat(stat: &str) -> Option<u64> {
    // Fields after the `(comm)`, which may hold spaces: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn provider_procs() -> Vec<(u32, ProcSample)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let p = entry.path();
        let Ok(exe) = std::fs::read_link(p.join("exe")) else {
            continue;
        };
        let name = exe
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.starts_with("terraform-provider-") {
            continue;
        }
        let peak_rss_kib = std::fs::read_to_string(p.join("status"))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0);
        let cpu_ticks = std::fs::read_to_string(p.join("stat"))
            .ok()
            .and_then(|s| cpu_ticks_of_stat(&s))
            .unwrap_or(0);
        out.push((
            pid,
            ProcSample {
                name,
                peak_rss_kib,
                cpu_ticks,
            },
        ));
    }
    out
}

fn header(webide: bool) -> &'static str {
    if webide {
        "terraform {\n  required_providers {\n    webide = { source = \"webide/webide\" }\n  }\n}\n"
    } else {
        "terraform {\n  required_providers {\n    null = {\n      source  = \"hashicorp/null\"\n      version = \"2.1.2\"\n    }\n  }\n}\n"
    }
}

#[derive(Debug, Default, Clone)]
struct Run {
    plan_s: f64,
    apply_s: f64,
    refresh_s: f64,
    destroy_s: f64,
    refresh_requests: u64,
    peak_rss_kib: u64,
    /// Provider CPU seconds (all its processes) per phase: plan, apply, refresh, destroy.
    provider_cpu_s: [f64; 4],
    /// CPU seconds of the bench process per phase: the in-process sandbox (the simulated API
    /// server) plus the sampler thread (its share is what the null runs show).
    server_cpu_s: [f64; 4],
}

impl Run {
    fn median_of(runs: &[Run]) -> Run {
        let m = |f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
        Run {
            plan_s: m(|r| r.plan_s),
            apply_s: m(|r| r.apply_s),
            refresh_s: m(|r| r.refresh_s),
            destroy_s: m(|r| r.destroy_s),
            refresh_requests: m(|r| r.refresh_requests as f64) as u64,
            peak_rss_kib: m(|r| r.peak_rss_kib as f64) as u64,
            provider_cpu_s: std::array::from_fn(|i| {
                median(runs.iter().map(|r| r.provider_cpu_s[i]).collect())
            }),
            server_cpu_s: std::array::from_fn(|i| {
                median(runs.iter().map(|r| r.server_cpu_s[i]).collect())
            }),
        }
    }

    fn to_json(&self) -> Value {
        json!({"plan_s": self.plan_s, "apply_s": self.apply_s, "refresh_s": self.refresh_s,
               "destroy_s": self.destroy_s, "refresh_requests": self.refresh_requests,
               "peak_rss_kib": self.peak_rss_kib, "provider_cpu_s": self.provider_cpu_s,
               "server_cpu_s": self.server_cpu_s})
    }
}

/// One plan / apply / refresh / destroy cycle in a fresh working directory.
async fn run_once(
    cli: &TerraformCli,
    h: &Harness,
    tf: &str,
    env: &[(&str, &str)],
    provider_prefix: &str,
    sandbox: Option<&RunningSandbox>,
    parallelism: usize,
) -> Result<Run> {
    let mut wd = TfWorkdir::new(&cli.path, h.cli_config_path())?;
    wd.write("main.tf", tf)?;
    wd.set_timeout(Duration::from_secs(3600));
    for (k, v) in env {
        wd.set_env(*k, *v);
    }
    wd.set_env("BENCH_PHASE", "init");
    wd.init().await?;
    let par = format!("-parallelism={parallelism}");
    let requests = || sandbox.map_or(0, |s| s.requests("litellm"));
    let mut r = Run::default();
    // One phase: a Terraform command, timed, with the provider processes sampled.
    macro_rules! phase {
        ($i:expr, $name:expr, $cmd:expr) => {{
            wd.set_env("BENCH_PHASE", $name);
            let sampler = ProcSampler::start();
            let server0 = own_cpu_s();
            let t = Instant::now();
            $cmd;
            let wall = t.elapsed().as_secs_f64();
            r.server_cpu_s[$i] = own_cpu_s() - server0;
            let (rss, cpu) = sampler.finish(provider_prefix);
            r.peak_rss_kib = r.peak_rss_kib.max(rss);
            r.provider_cpu_s[$i] = cpu;
            wall
        }};
    }
    r.plan_s = phase!(0, "plan", {
        wd.run(&["plan", "-no-color", "-input=false", &par]).await?;
    });
    r.apply_s = phase!(1, "apply", {
        wd.apply_with(&[&par]).await?;
    });
    let before = requests();
    r.refresh_s = phase!(2, "refresh", {
        wd.plan_with(&[&par])
            .await?
            .assert_empty()
            .context("plan after apply")?;
    });
    r.refresh_requests = requests() - before;
    r.destroy_s = phase!(3, "destroy", {
        wd.run(&[
            "destroy",
            "-auto-approve",
            "-no-color",
            "-input=false",
            &par,
        ])
        .await?;
    });
    Ok(r)
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a > 0.0 {
        format!("{:.2}x", a / b)
    } else {
        "n/a".into()
    }
}

/// The Terraform CLIs to measure: `--tf` paths, else the venv's 1.0.3 and `terraform` on PATH
/// (one per version).
fn clis(given: &[PathBuf]) -> Result<Vec<TerraformCli>> {
    let mut out: Vec<TerraformCli> = Vec::new();
    let mut add = |c: TerraformCli| {
        if !out.iter().any(|o| o.version_line == c.version_line) {
            out.push(c);
        }
    };
    if !given.is_empty() {
        for p in given {
            add(TerraformCli::probe(p, CliSource::TfBinEnv)?);
        }
        return Ok(out);
    }
    match venv_terraform() {
        Ok(c) => add(c.clone()),
        Err(e) => eprintln!("bench: no venv Terraform ({e:#})"),
    }
    if let Some(p) = which("terraform") {
        match TerraformCli::probe(&p, CliSource::Path("terraform")) {
            Ok(c) => add(c),
            Err(e) => eprintln!("bench: {} does not run ({e:#})", p.display()),
        }
    }
    if out.is_empty() {
        bail!("no Terraform CLI found (give --tf PATH)");
    }
    Ok(out)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, load average {load} at start")
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args()?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let webide_bin: PathBuf = match &a.webide_bin {
        Some(p) => p.clone(),
        None => provider_binary()?.to_path_buf(),
    };
    let null_bin: PathBuf = null_provider_binary()?.to_path_buf();
    let h = Harness::builder()
        .provider_binary(&webide_bin)
        .null_provider(NullProvider::Required)
        .build()?;
    let clis = clis(&a.tf)?;
    let (do_webide, do_null) = match a.only.as_deref() {
        None => (true, true),
        Some("webide") => (true, false),
        Some("null") => (false, true),
        Some(o) => bail!("--only webide|null, not {o:?}"),
    };
    let machine = machine();
    eprintln!(
        "bench: {machine}\nbench: webide {} ; null {} ; terraform {}",
        webide_bin.display(),
        null_bin.display(),
        clis.iter()
            .map(|c| c.version_line.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );

    // Handshake: alternate the two so machine load affects both alike.
    let (mut hw, mut hn) = (Vec::new(), Vec::new());
    if a.webide_bin.is_none() {
        for _ in 0..a.handshakes {
            hw.push(handshake_ms(&webide_bin, "6")?);
            hn.push(handshake_ms(&null_bin, "5")?);
        }
    }
    let handshake = |v: &Vec<f64>| if v.is_empty() { 0.0 } else { median(v.clone()) };
    let (hw, hn) = (handshake(&hw), handshake(&hn));

    // The figures are the provider's: the simulators' contract checks (about 2.7 ms per
    // exchange, sandbox/README.md) are off here and on in every test.
    let config = SandboxConfig {
        contract_checks: false,
        ..SandboxConfig::default()
    };
    let sb = webide_sandbox::start(config, "127.0.0.1", Ports::default()).await?;
    let webide_env = [
        ("LITELLM_PROXY_URL", sb.litellm_url.as_str()),
        ("LITELLM_MASTER_KEY", sb.config.litellm_master_key.as_str()),
    ];
    let mut results = Vec::new();
    for cli in &clis {
        for &n in &a.resources {
            let webide_tf = format!(
                "{}provider \"webide\" {{}}\nresource \"webide_litellm_key\" \"k\" {{\n  count     = {n}\n  key_alias = \"bench-${{count.index}}\"\n  max_budget = 10\n  metadata = {{ enforcement_level = \"strict\" }}\n}}\n",
                header(true)
            );
            let null_tf = format!(
                "{}resource \"null_resource\" \"n\" {{\n  count = {n}\n  triggers = {{ index = count.index }}\n}}\n",
                header(false)
            );
            let (mut w, mut g) = (Vec::new(), Vec::new());
            for i in 1..=a.runs {
                eprintln!("bench: {} N={n} run {i}/{} ...", cli.version_line, a.runs);
                if do_webide {
                    w.push(
                        run_once(
                            cli,
                            &h,
                            &webide_tf,
                            &webide_env,
                            "terraform-provider-webide",
                            Some(&sb),
                            a.parallelism,
                        )
                        .await
                        .with_context(|| format!("webide, N={n}, {}", cli.version_line))?,
                    );
                }
                if do_null {
                    g.push(
                        run_once(
                            cli,
                            &h,
                            &null_tf,
                            &[],
                            "terraform-provider-null",
                            None,
                            a.parallelism,
                        )
                        .await
                        .with_context(|| format!("null, N={n}, {}", cli.version_line))?,
                    );
                }
            }
            let med = |v: &[Run]| {
                if v.is_empty() {
                    Run::default()
                } else {
                    Run::median_of(v)
                }
            };
            results.push((cli.version_line.clone(), n, med(&w), med(&g), w, g));
        }
    }
    sb.shutdown().await;

    if a.json {
        let items: Vec<Value> = results
            .iter()
            .map(|(tf, n, w, g, wr, gr)| {
                json!({"terraform": tf, "resources": n, "runs": a.runs,
                       "webide": w.to_json(), "null": g.to_json(),
                       "webide_runs": wr.iter().map(Run::to_json).collect::<Vec<_>>(),
                       "null_runs": gr.iter().map(Run::to_json).collect::<Vec<_>>()})
            })
            .collect();
        println!(
            "{}",
            json!({"machine": machine, "parallelism": a.parallelism,
                   "handshake_ms": {"webide": hw, "null": hn}, "results": items})
        );
        return Ok(());
    }
    println!("machine: {machine}");
    println!(
        "start to handshake (median of {}): webide {hw:.1} ms, null (Go) {hn:.1} ms, {}",
        a.handshakes,
        ratio(hw, hn)
    );
    for (tf, n, w, g, _, _) in &results {
        println!(
            "\n{tf}, {n} resources each, median of {} interleaved runs, -parallelism={}",
            a.runs, a.parallelism
        );
        println!(
            "{:<38} {:>12} {:>12} {:>8}",
            "figure", "webide", "null (Go)", "ratio"
        );
        let row = |name: &str, x: f64, y: f64, unit: &str| {
            println!(
                "{:<38} {:>9.2} {unit:<2} {:>9.2} {unit:<2} {:>8}",
                name,
                x,
                y,
                ratio(x, y)
            );
        };
        row("plan, no state", w.plan_s, g.plan_s, "s");
        row("apply", w.apply_s, g.apply_s, "s");
        row("plan after apply (refresh)", w.refresh_s, g.refresh_s, "s");
        row("destroy", w.destroy_s, g.destroy_s, "s");
        row(
            "provider peak RSS (VmHWM)",
            w.peak_rss_kib as f64 / 1024.0,
            g.peak_rss_kib as f64 / 1024.0,
            "MB",
        );
        println!(
            "{:<38} {:>12} {:>12}",
            "LiteLLM API requests per refresh", w.refresh_requests, "-"
        );
        for (i, phase) in ["plan", "apply", "refresh", "destroy"].iter().enumerate() {
            row(
                &format!("provider CPU, {phase}"),
                w.provider_cpu_s[i],
                g.provider_cpu_s[i],
                "s",
            );
        }
        for (i, phase) in ["plan", "apply", "refresh", "destroy"].iter().enumerate() {
            row(
                &format!("bench process CPU (sandbox), {phase}"),
                w.server_cpu_s[i],
                g.server_cpu_s[i],
                "s",
            );
        }
    }
    println!(
        "\n(webide keys go through the in-process LiteLLM sandbox over HTTP; null_resource makes no calls)"
    );
    Ok(())
}
