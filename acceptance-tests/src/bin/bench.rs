//! `scripts/bench`: the webide provider beside HashiCorp's Go null provider, in the same run.
//!
//! Prints, for each provider: process start to handshake line (median of N runs), `terraform
//! plan` and `apply` wall time for N resources (200 `webide_litellm_key` against the embedded
//! LiteLLM sandbox; 200 `null_resource`), their ratio, and the peak RSS of the provider
//! processes (VmHWM, sampled from /proc while Terraform runs).
//!
//! Options: `--resources N` (default 200), `--handshakes N` (default 20), `--json` (one JSON
//! object on stdout instead of the table).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::json;
use webide_acceptance_tests::{null_provider_binary, provider_binary, Harness, NullProvider};
use webide_sandbox::{Ports, SandboxConfig};

const MAGIC: (&str, &str) = (
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
);

struct Args {
    resources: usize,
    handshakes: usize,
    json: bool,
}

fn args() -> Result<Args> {
    let mut a = Args {
        resources: 200,
        handshakes: 20,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--resources" => a.resources = it.next().context("--resources N")?.parse()?,
            "--handshakes" => a.handshakes = it.next().context("--handshakes N")?.parse()?,
            "--json" => a.json = true,
            "-h" | "--help" => {
                println!("usage: bench [--resources N] [--handshakes N] [--json]");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}"),
        }
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

/// Samples the peak RSS (VmHWM, KiB) of every running `terraform-provider-*` process, per
/// executable name, until stopped.
struct RssSampler {
    stop: Arc<AtomicBool>,
    peaks: Arc<Mutex<BTreeMap<String, u64>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start() -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peaks = Arc::new(Mutex::new(BTreeMap::new()));
        let (s, p) = (stop.clone(), peaks.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                for (name, kib) in provider_rss() {
                    let mut map = p.lock().unwrap();
                    let e = map.entry(name).or_insert(0);
                    *e = (*e).max(kib);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        RssSampler {
            stop,
            peaks,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> BTreeMap<String, u64> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peaks.lock().unwrap().clone()
    }
}

fn provider_rss() -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
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
        let Ok(status) = std::fs::read_to_string(p.join("status")) else {
            continue;
        };
        if let Some(kib) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        {
            out.push((name, kib));
        }
    }
    out
}

#[derive(Debug, Default, Clone)]
struct Figures {
    handshake_ms: f64,
    plan_s: f64,
    apply_s: f64,
    destroy_s: f64,
    peak_rss_kib: u64,
}

fn header(webide: bool) -> &'static str {
    if webide {
        "terraform {\n  required_providers {\n    webide = { source = \"webide/webide\" }\n  }\n}\n"
    } else {
        "terraform {\n  required_providers {\n    null = {\n      source  = \"hashicorp/null\"\n      version = \"2.1.2\"\n    }\n  }\n}\n"
    }
}

async fn run_terraform(
    h: &Harness,
    tf: &str,
    env: &[(&str, &str)],
    provider_prefix: &str,
) -> Result<Figures> {
    let mut wd = h.workdir_with_main(tf)?;
    wd.set_timeout(Duration::from_secs(1800));
    for (k, v) in env {
        wd.set_env(*k, *v);
    }
    wd.init().await?;
    let parallelism = "-parallelism=10";
    let mut f = Figures::default();
    let sampler = RssSampler::start();
    let t = Instant::now();
    wd.run(&["plan", "-no-color", "-input=false", parallelism])
        .await?;
    f.plan_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    wd.apply_with(&[parallelism]).await?;
    f.apply_s = t.elapsed().as_secs_f64();
    let peaks = sampler.finish();
    f.peak_rss_kib = peaks
        .iter()
        .filter(|(n, _)| n.starts_with(provider_prefix))
        .map(|(_, k)| *k)
        .max()
        .unwrap_or(0);
    wd.plan().await?.assert_empty()?;
    let t = Instant::now();
    wd.run(&[
        "destroy",
        "-auto-approve",
        "-no-color",
        "-input=false",
        parallelism,
    ])
    .await?;
    f.destroy_s = t.elapsed().as_secs_f64();
    Ok(f)
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}x", a / b)
    } else {
        "n/a".into()
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args()?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let webide_bin: PathBuf = provider_binary()?.to_path_buf();
    let null_bin: PathBuf = null_provider_binary()?.to_path_buf();
    let h = Harness::builder()
        .null_provider(NullProvider::Required)
        .build()?;
    eprintln!(
        "bench: terraform {} ; webide {} ; null {}",
        h.cli().version_line,
        webide_bin.display(),
        null_bin.display()
    );

    // Handshake: alternate the two so machine load affects both alike.
    let (mut hw, mut hn) = (Vec::new(), Vec::new());
    for _ in 0..a.handshakes {
        hw.push(handshake_ms(&webide_bin, "6")?);
        hn.push(handshake_ms(&null_bin, "5")?);
    }

    let sb = webide_sandbox::start(SandboxConfig::default(), "127.0.0.1", Ports::default()).await?;
    let n = a.resources;
    let webide_tf = format!(
        "{}provider \"webide\" {{}}\nresource \"webide_litellm_key\" \"k\" {{\n  count     = {n}\n  key_alias = \"bench-${{count.index}}\"\n  max_budget = 10\n  metadata = {{ enforcement_level = \"strict\" }}\n}}\n",
        header(true)
    );
    let null_tf = format!(
        "{}resource \"null_resource\" \"n\" {{\n  count = {n}\n  triggers = {{ index = count.index }}\n}}\n",
        header(false)
    );
    eprintln!("bench: {n} webide_litellm_key ...");
    let mut w = run_terraform(
        &h,
        &webide_tf,
        &[
            ("LITELLM_PROXY_URL", sb.litellm_url.as_str()),
            ("LITELLM_MASTER_KEY", sb.config.litellm_master_key.as_str()),
        ],
        "terraform-provider-webide",
    )
    .await?;
    w.handshake_ms = median(hw);
    eprintln!("bench: {n} null_resource ...");
    let mut g = run_terraform(&h, &null_tf, &[], "terraform-provider-null").await?;
    g.handshake_ms = median(hn);
    sb.shutdown().await;

    if a.json {
        let fig = |f: &Figures| {
            json!({"handshake_ms": f.handshake_ms, "plan_s": f.plan_s, "apply_s": f.apply_s,
                   "destroy_s": f.destroy_s, "peak_rss_kib": f.peak_rss_kib})
        };
        println!(
            "{}",
            json!({"resources": n, "terraform": h.cli().version_line,
                   "webide": fig(&w), "null": fig(&g)})
        );
        return Ok(());
    }
    println!(
        "webide provider vs HashiCorp null provider (Go), {n} resources each, {}",
        h.cli().version_line
    );
    println!(
        "{:<34} {:>14} {:>14} {:>10}",
        "figure", "webide", "null (Go)", "ratio"
    );
    let row = |name: &str, x: f64, y: f64, unit: &str| {
        println!(
            "{:<34} {:>11.1} {unit:<2} {:>11.1} {unit:<2} {:>10}",
            name,
            x,
            y,
            ratio(x, y)
        );
    };
    row(
        "start to handshake (median)",
        w.handshake_ms,
        g.handshake_ms,
        "ms",
    );
    row("terraform plan (wall)", w.plan_s, g.plan_s, "s");
    row("terraform apply (wall)", w.apply_s, g.apply_s, "s");
    row("terraform destroy (wall)", w.destroy_s, g.destroy_s, "s");
    row(
        "provider peak RSS (VmHWM)",
        w.peak_rss_kib as f64 / 1024.0,
        g.peak_rss_kib as f64 / 1024.0,
        "MB",
    );
    println!(
        "(webide keys go through the LiteLLM sandbox over HTTP; null_resource makes no calls)"
    );
    Ok(())
}
