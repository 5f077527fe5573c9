//! Fault injection, configured per service: added latency, error answers
//! (503, or 429 with `Retry-After: 1`), dropped connections, an initial
//! outage, and writes that commit and then lose their answer (the handler
//! runs, then the connection is closed or a gateway answers 502/504).
//! Spec syntax (env `WEBIDE_SANDBOX_FAULTS`):
//! `litellm:latency_ms=200,error_rate=0.2;gitea:down_for_secs=5,commit_drop_rate=0.1`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::server::ConnKill;

/// Writes handled and then answered with a lost answer (closed connection or 502/504) since
/// the process started, over every sandbox in it: lets a run report how often it happened.
pub static COMMITTED_THEN_LOST: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Environment variable read by [`FaultSpec::from_env`].
pub const ENV: &str = "WEBIDE_SANDBOX_FAULTS";

/// Faults of one service. The default injects nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Delay added before every request is handled.
    pub latency_ms: u64,
    /// Share (0..=1) of requests answered 503 or 429 (`Retry-After: 1`), half each.
    pub error_rate: f64,
    /// Share (0..=1) of requests whose connection is closed without an answer.
    pub drop_rate: f64,
    /// Every request is answered 503 during this many seconds after start.
    pub down_for_secs: u64,
    /// Share (0..=1) of writes (POST, PUT, PATCH, DELETE) that are handled (and commit) and
    /// whose connection is then closed without an answer.
    pub commit_drop_rate: f64,
    /// Share (0..=1) of writes that are handled (and commit) and then answered 502 or 504
    /// (half each), as a gateway in front of a real service does when the upstream is slow.
    pub commit_error_rate: f64,
}

impl Faults {
    /// True when nothing is injected.
    pub fn is_none(&self) -> bool {
        *self == Faults::default()
    }

    fn set(&mut self, key: &str, value: &str) -> anyhow::Result<()> {
        let rate = |v: &str| -> anyhow::Result<f64> {
            let r: f64 = v.parse()?;
            if !(0.0..=1.0).contains(&r) {
                bail!("must be between 0 and 1");
            }
            Ok(r)
        };
        match key {
            "latency_ms" => self.latency_ms = value.parse()?,
            "error_rate" => self.error_rate = rate(value)?,
            "drop_rate" => self.drop_rate = rate(value)?,
            "down_for_secs" => self.down_for_secs = value.parse()?,
            "commit_drop_rate" => self.commit_drop_rate = rate(value)?,
            "commit_error_rate" => self.commit_error_rate = rate(value)?,
            _ => bail!(
                "unknown fault (latency_ms, error_rate, drop_rate, down_for_secs, \
                 commit_drop_rate, commit_error_rate)"
            ),
        }
        Ok(())
    }
}

/// Faults per service name (`litellm`, later `gitea`, `authentik`, `coder`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultSpec {
    pub services: BTreeMap<String, Faults>,
}

impl FaultSpec {
    /// Parses `service:key=value,key=value;service:...` (whitespace allowed).
    pub fn parse(spec: &str) -> anyhow::Result<Self> {
        let mut out = FaultSpec::default();
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (service, settings) = part
                .split_once(':')
                .with_context(|| format!("fault spec {part:?}: expected service:key=value,..."))?;
            let faults = out.services.entry(service.trim().to_owned()).or_default();
            for kv in settings.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (k, v) = kv
                    .split_once('=')
                    .with_context(|| format!("fault {kv:?}: expected key=value"))?;
                faults
                    .set(k.trim(), v.trim())
                    .with_context(|| format!("fault {kv:?}"))?;
            }
        }
        Ok(out)
    }

    /// Reads [`ENV`]; no faults when it is unset or empty.
    pub fn from_env() -> anyhow::Result<Self> {
        match std::env::var(ENV) {
            Ok(s) => Self::parse(&s).with_context(|| format!("{ENV}={s}")),
            Err(_) => Ok(Self::default()),
        }
    }

    /// Adds or replaces one service's faults.
    pub fn with(mut self, service: &str, faults: Faults) -> Self {
        self.services.insert(service.to_owned(), faults);
        self
    }

    /// The faults of `service`, if any are injected.
    pub fn get(&self, service: &str) -> Option<&Faults> {
        self.services.get(service).filter(|f| !f.is_none())
    }
}

struct Ctx {
    faults: Faults,
    started: Instant,
    is_health: fn(&str) -> bool,
}

/// Wraps `router` with the injector when `faults` injects anything (otherwise
/// returns it unchanged). `is_health` marks paths that are only subject to
/// latency and `down_for_secs`, so readiness probes stay deterministic.
pub fn apply(
    router: Router,
    faults: Option<&Faults>,
    started: Instant,
    is_health: fn(&str) -> bool,
) -> Router {
    match faults {
        Some(f) if !f.is_none() => {
            let ctx = Arc::new(Ctx {
                faults: f.clone(),
                started,
                is_health,
            });
            router.layer(axum::middleware::from_fn_with_state(ctx, inject))
        }
        _ => router,
    }
}

fn fault(status: StatusCode, what: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("sandbox fault injection: {what}\n"),
    )
        .into_response()
}

async fn inject(State(ctx): State<Arc<Ctx>>, req: Request, next: Next) -> Response {
    let f = &ctx.faults;
    if f.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(f.latency_ms)).await;
    }
    if ctx.started.elapsed() < Duration::from_secs(f.down_for_secs) {
        return fault(StatusCode::SERVICE_UNAVAILABLE, "service is down");
    }
    if !(ctx.is_health)(req.uri().path()) {
        let roll: f64 = rand::random();
        if roll < f.drop_rate {
            if let Some(kill) = req.extensions().get::<ConnKill>() {
                kill.kill();
                std::future::pending::<()>().await;
            }
            return fault(StatusCode::SERVICE_UNAVAILABLE, "dropped");
        }
        if roll < f.drop_rate + f.error_rate {
            return if rand::random::<bool>() {
                fault(StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            } else {
                let mut res = fault(StatusCode::TOO_MANY_REQUESTS, "rate limited");
                res.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
                res
            };
        }
    }
    let is_write = !matches!(
        req.method(),
        &Method::GET | &Method::HEAD | &Method::OPTIONS
    );
    if is_write && !(ctx.is_health)(req.uri().path()) {
        let roll: f64 = rand::random();
        if roll < f.commit_drop_rate + f.commit_error_rate {
            let kill = req.extensions().get::<ConnKill>().cloned();
            // The handler runs to completion: the write is committed.
            let _committed = next.run(req).await;
            COMMITTED_THEN_LOST.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if roll < f.commit_drop_rate {
                if let Some(kill) = kill {
                    kill.kill();
                    std::future::pending::<()>().await;
                }
            }
            return if rand::random::<bool>() {
                fault(
                    StatusCode::BAD_GATEWAY,
                    "committed, answer lost (bad gateway)",
                )
            } else {
                fault(
                    StatusCode::GATEWAY_TIMEOUT,
                    "committed, answer lost (gateway timeout)",
                )
            };
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spec() {
        let spec = FaultSpec::parse("litellm:latency_ms=200,error_rate=0.2; gitea:down_for_secs=5")
            .unwrap();
        assert_eq!(
            spec.services["litellm"],
            Faults {
                latency_ms: 200,
                error_rate: 0.2,
                ..Default::default()
            }
        );
        assert_eq!(spec.get("gitea").unwrap().down_for_secs, 5);
        assert!(spec.get("coder").is_none());
        assert!(FaultSpec::parse("").unwrap().services.is_empty());
        assert!(FaultSpec::parse("litellm:error_rate=2").is_err());
        assert!(FaultSpec::parse("litellm:bogus=1").is_err());
        assert!(FaultSpec::parse("litellm").is_err());
        let lost = FaultSpec::parse("gitea:commit_drop_rate=0.1,commit_error_rate=0.05").unwrap();
        assert_eq!(lost.get("gitea").unwrap().commit_drop_rate, 0.1);
        assert_eq!(lost.get("gitea").unwrap().commit_error_rate, 0.05);
        assert!(FaultSpec::parse("gitea:commit_error_rate=-1").is_err());
    }
}
