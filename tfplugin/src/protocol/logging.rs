//! Logs to stderr as hclog JSON lines, which Terraform turns into structured
//! entries of its own log (TF_LOG / TF_LOG_PROVIDER). Log lines carry names
//! and ids only; values of attributes are never logged.
//!
//! Only our own targets log at the level Terraform asks for. Third-party crates (h2, hyper,
//! tonic, tower, reqwest, rustls, bollard, ...) are held at `warn`: at debug/trace they emit
//! every HTTP/2 frame, and bollard logs container-create bodies and `docker inspect` JSON,
//! environment values included.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The level Terraform asked for (`TF_LOG_PROVIDER`, else `TF_LOG`); warn when unset.
pub fn level_from_env() -> Level {
    let v = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("TF_LOG").ok().filter(|v| !v.is_empty()));
    match v.map(|v| v.to_ascii_lowercase()) {
        None => Level::WARN,
        Some(v) => match v.as_str() {
            "error" => Level::ERROR,
            "warn" => Level::WARN,
            "info" => Level::INFO,
            "debug" => Level::DEBUG,
            "off" => Level::ERROR,
            // trace, json and anything else Terraform treats as trace
            _ => Level::TRACE,
        },
    }
}

/// `level` for this crate and the provider's crates `own` (their `tracing` targets, e.g.
/// `my_provider`), at most `warn` for everyone else.
pub fn filter(level: Level, own: &[&str]) -> Targets {
    let at = LevelFilter::from_level(level);
    let mut t = Targets::new().with_default(at.min(LevelFilter::WARN));
    for target in own.iter().copied().chain([env!("CARGO_CRATE_NAME")]) {
        t = t.with_target(target, at);
    }
    t
}

/// Installs the hclog-JSON stderr logger (records of the `log` crate, which bollard uses,
/// are bridged into it and filtered alike); `own` as in [`filter`].
pub fn init(own: &[&str]) {
    let level = level_from_env();
    let _ = tracing_subscriber::registry()
        .with(HclogLayer.with_filter(filter(level, own)))
        .try_init();
}

struct HclogLayer;

struct Fields {
    message: String,
    extra: serde_json::Map<String, serde_json::Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.extra.insert(field.name().to_string(), value.into());
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.extra.insert(field.name().to_string(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.extra.insert(field.name().to_string(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.extra.insert(field.name().to_string(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        if field.name() == "message" {
            self.message = s;
        } else {
            self.extra.insert(field.name().to_string(), s.into());
        }
    }
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut f = Fields {
            message: String::new(),
            extra: serde_json::Map::new(),
        };
        event.record(&mut f);
        let mut line = f.extra;
        line.insert("@level".into(), level_name(*meta.level()).into());
        line.insert("@message".into(), f.message.into());
        line.insert(
            "@module".into(),
            format!("webide.{}", meta.target().replace("::", ".")).into(),
        );
        line.insert("@timestamp".into(), rfc3339_now().into());
        eprintln!("{}", serde_json::Value::Object(line));
    }
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// UTC time as `2006-01-02T15:04:05.000000Z` (what hclog's parser wants).
pub fn rfc3339_now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs() as i64, d.subsec_micros())
}

/// Formats unix seconds (+ microseconds) as RFC 3339 UTC.
pub fn rfc3339(secs: i64, micros: u32) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(|t| t + time::Duration::microseconds(i64::from(micros)))
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::filter::Targets;

    fn enabled(t: &Targets, target: &str, level: Level) -> bool {
        t.would_enable(target, &level)
    }

    const OWN: &[&str] = &["webide_provider", "terraform_provider_webide"];

    #[test]
    fn third_party_targets_stay_at_warn() {
        let t = super::filter(Level::TRACE, OWN);
        assert!(enabled(&t, "webide_provider::http", Level::TRACE));
        assert!(enabled(&t, "terraform_provider_webide", Level::DEBUG));
        assert!(enabled(
            &t,
            "webide_tfplugin::protocol::server",
            Level::DEBUG
        ));
        for other in [
            "h2::codec",
            "hyper_util::client",
            "tonic::transport",
            "bollard::docker",
            "reqwest::connect",
            "rustls::conn",
        ] {
            assert!(!enabled(&t, other, Level::DEBUG), "{other} at debug");
            assert!(enabled(&t, other, Level::WARN), "{other} at warn");
        }
        let quiet = super::filter(Level::ERROR, OWN);
        assert!(!enabled(&quiet, "h2", Level::WARN));
        assert!(!enabled(&quiet, "webide_provider", Level::WARN));
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            super::rfc3339(1_795_400_000, 5),
            "2026-11-23T02:13:20.000005Z"
        );
        assert_eq!(
            super::rfc3339(951_782_400, 0),
            "2000-02-29T00:00:00.000000Z"
        );
    }
}

#[cfg(test)]
mod library_filter_tests {
    use super::*;

    #[test]
    fn request_body_loggers_stay_at_warn_under_debug() {
        let f = filter(Level::TRACE, &["webide_provider"]);
        assert!(!f.would_enable("bollard::docker", &Level::DEBUG));
        assert!(!f.would_enable("hyper_util::client", &Level::TRACE));
        assert!(f.would_enable("bollard::docker", &Level::WARN));
        assert!(f.would_enable("webide_provider::docker", &Level::TRACE));
        assert!(!filter(Level::ERROR, &[]).would_enable("bollard", &Level::WARN));
    }
}
