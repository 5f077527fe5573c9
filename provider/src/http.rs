//! The HTTP client every service uses: TLS with a custom CA or an explicit
//! insecure switch, secret auth headers, bounded retries with jittered
//! backoff that honour `Retry-After`, and the stop signal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::Value as Json;

use crate::framework::StopToken;
use crate::protocol::tls::crypto_provider;

pub use webide_tfplugin::service::{
    ca_certificates, ca_pem_attribute, PemCertificates, TlsOptions,
};

/// How long and how often to retry.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub total: Duration,
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        let total = std::env::var("WEBIDE_RETRY_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(60);
        RetryPolicy {
            total: Duration::from_secs(total),
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// A failed call, with enough context for a diagnostic.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{service}: {method} {path} returned HTTP {status}: {message}")]
    Status {
        service: &'static str,
        method: Method,
        path: String,
        status: u16,
        message: String,
        body: Json,
    },
    #[error("{service}: {method} {path} failed: {message}")]
    Transport {
        service: &'static str,
        method: Method,
        path: String,
        message: String,
    },
    /// A create met an object with its natural key that is not provably its own.
    #[error("{message}")]
    Exists {
        service: &'static str,
        type_name: &'static str,
        import_id: String,
        message: String,
    },
    #[error("{service}: {method} {path} cancelled: Terraform asked the provider to stop")]
    Stopped {
        service: &'static str,
        method: Method,
        path: String,
    },
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
    pub fn body(&self) -> Option<&Json> {
        match self {
            ApiError::Status { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// A service's HTTP client bound to its base URL and credentials.
#[derive(Clone)]
pub struct ApiClient {
    service: &'static str,
    base: String,
    http: reqwest::Client,
    retry: RetryPolicy,
    stop: StopToken,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("service", &self.service)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// `auth` headers are marked sensitive so they never appear in debug output.
    pub fn new(
        service: &'static str,
        base_url: &str,
        auth: &[(&str, String)],
        tls: &TlsOptions,
        stop: StopToken,
    ) -> anyhow::Result<ApiClient> {
        crate::http::check_base_url(base_url).with_context(|| format!("{service} url"))?;
        let mut headers = HeaderMap::new();
        for (name, value) in auth {
            let mut v = HeaderValue::from_str(value).map_err(|_| {
                anyhow!("{service}: credential contains characters not allowed in an HTTP header")
            })?;
            v.set_sensitive(true);
            headers.insert(HeaderName::from_bytes(name.as_bytes())?, v);
        }
        let retry = RetryPolicy::default();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(client_tls(tls)?)
            .default_headers(headers)
            .user_agent(concat!(
                "terraform-provider-webide/",
                env!("CARGO_PKG_VERSION")
            ))
            .connect_timeout(Duration::from_secs(10))
            .timeout(retry.request_timeout)
            .build()
            .context("building the HTTP client")?;
        Ok(ApiClient {
            service,
            base: base_url.trim_end_matches('/').to_string(),
            http,
            retry,
            stop,
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> ApiClient {
        self.retry = retry;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends a JSON request. Idempotent calls (GET, PUT, DELETE, or POSTs the
    /// caller marks so) are retried on transport errors and 429/5xx; others
    /// only when the server certainly did not act (connection refused, 429, 503).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
        idempotent: bool,
    ) -> Result<Json, ApiError> {
        self.call_raw(
            method,
            path,
            query,
            body.map(|b| Body::Json(b.clone())),
            idempotent,
        )
        .await
    }

    /// Like [`call`](Self::call) with any body (e.g. a tar upload).
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Body>,
        idempotent: bool,
    ) -> Result<Json, ApiError> {
        let url = format!("{}{}", self.base, path);
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut req = self.http.request(method.clone(), &url).query(query);
            match &body {
                Some(Body::Json(j)) => req = req.json(j),
                Some(Body::Bytes { content_type, data }) => {
                    req = req.header("Content-Type", *content_type).body(data.clone())
                }
                None => {}
            }
            tracing::debug!(service = self.service, method = %method, path, attempt, "request");
            let outcome = tokio::select! {
                r = req.send() => r,
                _ = self.stop.stopped() => return Err(ApiError::Stopped { service: self.service, method, path: path.to_string() }),
            };
            let (retryable, wait_hint, err) = match outcome {
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = resp
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let text = resp.text().await.unwrap_or_default();
                    // 304 Not Modified: an update that changed nothing (Coder's PATCH
                    // /templates/{id}); no body.
                    if status.is_success() || status == StatusCode::NOT_MODIFIED {
                        return Ok(if text.trim().is_empty() {
                            Json::Null
                        } else {
                            serde_json::from_str(&text).unwrap_or(Json::String(text))
                        });
                    }
                    let retryable = match status {
                        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => true,
                        StatusCode::BAD_GATEWAY
                        | StatusCode::GATEWAY_TIMEOUT
                        | StatusCode::INTERNAL_SERVER_ERROR => idempotent,
                        _ => false,
                    };
                    let mut body: Json =
                        serde_json::from_str(&text).unwrap_or(Json::String(text.clone()));
                    let mut message = error_message(&body);
                    if matches!(status.as_u16(), 401 | 403) {
                        // Authentication errors may echo what was sent (LiteLLM: the key's
                        // abbreviation and its SHA-256): never passed on.
                        message = redact_credentials(&message);
                        body = Json::String(message.clone());
                    }
                    let err = ApiError::Status {
                        service: self.service,
                        method: method.clone(),
                        path: path.to_string(),
                        status: status.as_u16(),
                        message,
                        body,
                    };
                    (retryable, retry_after, err)
                }
                Err(e) => {
                    // A certificate that does not verify will not verify on retry.
                    let retryable = (idempotent || e.is_connect()) && !is_certificate_error(&e);
                    let err = ApiError::Transport {
                        service: self.service,
                        method: method.clone(),
                        path: path.to_string(),
                        message: transport_message(&e),
                    };
                    (retryable, None, err)
                }
            };
            let delay = wait_hint
                .unwrap_or_else(|| backoff(attempt, &self.retry))
                .min(Duration::from_secs(30));
            if !retryable || started.elapsed() + delay > self.retry.total {
                if retryable {
                    tracing::warn!(
                        service = self.service,
                        path,
                        attempt,
                        "giving up after retries"
                    );
                }
                return Err(err);
            }
            tracing::info!(service = self.service, path, attempt, delay_ms = delay.as_millis() as u64, error = %err, "retrying");
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.stop.stopped() => return Err(ApiError::Stopped { service: self.service, method, path: path.to_string() }),
            }
        }
    }

    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Json, ApiError> {
        self.call(Method::GET, path, query, None, true).await
    }

    /// Polls `probe` until it succeeds, with backoff, up to `timeout`.
    pub async fn wait_ready(&self, path: &str, timeout: Duration) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let r = self.http.get(format!("{}{}", self.base, path)).send().await;
            match r {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                other => {
                    if started.elapsed() > timeout {
                        let why = match other {
                            Ok(resp) => format!("HTTP {}", resp.status()),
                            Err(e) => transport_message(&e),
                        };
                        return Err(anyhow!(
                            "{} at {} not ready after {}s (last answer: {why})",
                            self.service,
                            self.base,
                            timeout.as_secs()
                        ));
                    }
                }
            }
            tokio::time::sleep(backoff(attempt, &self.retry)).await;
        }
    }
}

/// A request body.
pub enum Body {
    Json(Json),
    Bytes {
        content_type: &'static str,
        data: Vec<u8>,
    },
}

/// What a create makes: named in the diagnostic when an object with the same natural key
/// already exists and is not provably the one this create made.
#[derive(Clone, Debug)]
pub struct CreateTarget {
    pub service: &'static str,
    /// Terraform resource type, e.g. `webide_litellm_team`.
    pub type_name: &'static str,
    /// The natural key, e.g. `team_alias "platform"`.
    pub key: String,
    /// How often the create is sent when it certainly made nothing.
    pub attempts: u32,
    /// Look the key up before the first create: for APIs that do not keep the natural key
    /// unique (a second create would silently make a duplicate).
    pub check_first: bool,
}

impl CreateTarget {
    pub fn new(service: &'static str, type_name: &'static str, key: impl Into<String>) -> Self {
        CreateTarget {
            service,
            type_name,
            key: key.into(),
            attempts: 5,
            check_first: false,
        }
    }
}

/// Whether an object found by its natural key is the one this create made.
#[derive(Clone, Debug, PartialEq)]
pub enum Ownership {
    /// It carries this create's ownership marker (a secret or id the provider generated, a
    /// marker it wrote, or it came into existence during this create with the values it sent).
    Ours,
    /// Someone else's, or left by an earlier run whose answer never reached Terraform: never
    /// taken over silently. `import_id` is what `terraform import` takes for it.
    Foreign { import_id: String },
}

/// When this create started: objects created before it are not ours.
#[derive(Clone, Copy, Debug)]
pub struct CreateWindow {
    started: std::time::SystemTime,
    /// An earlier attempt's outcome was unknown (only then can an object be this create's
    /// without its answer: a first attempt refused as a conflict met an older object).
    lost_answer: bool,
}

impl CreateWindow {
    /// Allowance for second-precision server timestamps and small clock differences between
    /// the provider and the server. A server clock further behind makes an object of ours look
    /// older: the create then fails with the import diagnostic, never adopts a foreign object.
    pub const TOLERANCE: Duration = Duration::from_secs(2);

    pub fn now() -> CreateWindow {
        CreateWindow {
            started: std::time::SystemTime::now(),
            lost_answer: false,
        }
    }

    /// Whether an RFC 3339 creation time (as the server reports it) lies in this window,
    /// after an attempt whose answer was lost.
    pub fn covers(&self, created: Option<&str>) -> bool {
        if !self.lost_answer {
            return false;
        }
        let Some(t) = created.and_then(|c| {
            time::OffsetDateTime::parse(c.trim(), &time::format_description::well_known::Rfc3339)
                .ok()
        }) else {
            return false;
        };
        let since = self
            .started
            .checked_sub(Self::TOLERANCE)
            .unwrap_or(std::time::UNIX_EPOCH);
        std::time::SystemTime::from(t) >= since
    }
}

/// A create that is never retried blindly and never duplicates or orphans an object.
///
/// Its outcome is ambiguous when the answer is lost (transport error, timeout) or is a
/// 5xx/429 (a gateway may answer 502/504 after the server committed). Then the object is
/// looked up by its natural key (`lookup`): adopted when `owned` proves it is this create's,
/// refused with an import diagnostic ([`ApiError::Exists`]) when it is not, and the create is
/// sent again (with backoff) only when nothing was found. A create refused with 400/409/422
/// is checked the same way: when an object with the key exists, it is adopted if ours (an
/// earlier attempt of this create committed) and otherwise named with its import command.
pub async fn create_once<T, C, CF, L, LF, O>(
    target: CreateTarget,
    mut create: C,
    mut lookup: L,
    owned: O,
) -> Result<T, ApiError>
where
    C: FnMut() -> CF,
    CF: std::future::Future<Output = Result<T, ApiError>>,
    L: FnMut() -> LF,
    LF: std::future::Future<Output = Result<Option<T>, ApiError>>,
    O: Fn(&T, &CreateWindow) -> Ownership,
{
    let policy = RetryPolicy::default();
    let mut window = CreateWindow::now();
    let foreign = |import_id: String, cause: String| {
        tracing::warn!(
            service = target.service,
            type_name = target.type_name,
            "an object with this key exists and is not this create's"
        );
        ApiError::Exists {
            service: target.service,
            type_name: target.type_name,
            message: exists_message(&target, &import_id, &cause),
            import_id,
        }
    };
    if target.check_first {
        if let Some(found) = lookup().await? {
            if let Ownership::Foreign { import_id } = owned(&found, &window) {
                return Err(foreign(import_id, "nothing sent yet".into()));
            }
        }
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let e = match create().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let ambiguous = match &e {
            ApiError::Transport { .. } => true,
            ApiError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        };
        let conflict = matches!(e.status(), Some(400 | 409 | 422));
        if !ambiguous && !conflict {
            return Err(e);
        }
        window.lost_answer |= ambiguous;
        match lookup().await? {
            Some(found) => {
                return match owned(&found, &window) {
                    Ownership::Ours => {
                        tracing::info!(
                            service = target.service,
                            type_name = target.type_name,
                            attempt,
                            "create outcome unknown; adopted the object it made"
                        );
                        Ok(found)
                    }
                    Ownership::Foreign { import_id } => Err(foreign(import_id, e.to_string())),
                };
            }
            None if conflict || attempt >= target.attempts => return Err(e),
            None => {
                tracing::info!(
                    service = target.service,
                    type_name = target.type_name,
                    attempt,
                    "create outcome unknown and nothing was created; sending it again"
                );
                tokio::time::sleep(backoff(attempt, &policy)).await;
            }
        }
    }
}

/// The diagnostic for an object that exists and is not ours: what happened and the exact
/// `terraform import` command and `import {}` block (Terraform does not tell a provider the
/// resource's address, so its name is the NAME of the resource the error is reported on).
fn exists_message(t: &CreateTarget, import_id: &str, cause: &str) -> String {
    let ty = t.type_name;
    let field = t.key.split_whitespace().next().unwrap_or("name");
    format!(
        "{service}: a {ty} with {key} already exists and was not made by this create (made by \
         hand, by another configuration, or by an earlier run killed before Terraform saved its \
         state; the create said: {cause}). It is not taken over silently. To manage it with \
         Terraform, import it (NAME is the name of the resource this error is reported on):\n\n\
         \x20 terraform import {ty}.NAME {import_id}\n\n\
         or, on Terraform >= 1.5, add this block and apply again:\n\n\
         \x20 import {{\n\
         \x20   to = {ty}.NAME\n\
         \x20   id = \"{import_id}\"\n\
         \x20 }}\n\n\
         Otherwise delete it on the server or choose another {field}.",
        service = t.service,
        key = t.key,
    )
}

/// Exponential backoff with ±50% jitter.
fn backoff(attempt: u32, p: &RetryPolicy) -> Duration {
    let base = p
        .first_delay
        .saturating_mul(1u32 << attempt.min(16).saturating_sub(1));
    let capped = base.min(p.max_delay);
    let jitter: f64 = 0.5 + rand::random::<f64>();
    capped.mul_f64(jitter)
}

/// The most useful message in an error body of any of our services.
pub fn error_message(body: &Json) -> String {
    let pick = |j: &Json| -> Option<String> {
        match j {
            Json::String(s) if !s.is_empty() => Some(s.clone()),
            Json::Null => None,
            other if !other.is_object() => Some(other.to_string()),
            _ => None,
        }
    };
    for path in [
        &["error", "message"][..],
        &["message"],
        &["detail", "error"],
        &["detail"],
        &["error"],
        &["non_field_errors"],
    ] {
        let mut j = body;
        let mut ok = true;
        for k in path {
            match j.get(k) {
                Some(x) => j = x,
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            if let Some(s) = pick(j) {
                return s;
            }
        }
    }
    match body {
        Json::String(s) => s.chars().take(500).collect(),
        other => other.to_string().chars().take(500).collect(),
    }
}

/// An authentication error's text without the credential it echoes: runs of 32 or more hex
/// digits (hashes of the key sent) and the value after `API Key =` / `Received=`.
pub fn redact_credentials(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(c) = rest.chars().next() {
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex >= 32 {
            out.push_str("[redacted]");
            rest = &rest[hex..];
            continue;
        }
        let echoed = ["API Key = ", "API Key=", "Received="]
            .iter()
            .find(|p| rest.starts_with(**p));
        if let Some(p) = echoed {
            out.push_str(p);
            out.push_str("[redacted]");
            let value = &rest[p.len()..];
            let end = value
                .find(|ch: char| ch == ',' || ch.is_whitespace())
                .unwrap_or(value.len());
            rest = &value[end..];
            continue;
        }
        // Skip a whole word of hex/alphanumerics so a hash is only matched from its start.
        let word = rest
            .char_indices()
            .take_while(|(_, ch)| ch.is_ascii_alphanumeric())
            .last()
            .map_or(c.len_utf8(), |(i, ch)| i + ch.len_utf8());
        out.push_str(&rest[..word]);
        rest = &rest[word..];
    }
    out
}

fn transport_message(e: &reqwest::Error) -> String {
    let mut msg = if e.is_connect() {
        "connection failed".to_string()
    } else if e.is_timeout() {
        "timed out".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    if is_certificate_error(e) {
        msg.push_str(
            " (the server's TLS certificate is not trusted: set `ca_pem` or `ca_file` to the CA that issued it, or its own PEM when self-signed)",
        );
    }
    msg
}

/// Whether a transport error is a TLS certificate verification failure.
/// rustls's error sits inside (possibly nested) `io::Error`s, whose `source()`
/// skips the wrapped error, so those are unwrapped with `get_ref`.
fn is_certificate_error(e: &reqwest::Error) -> bool {
    fn check(e: &(dyn std::error::Error + 'static), depth: usize) -> bool {
        if depth > 16 {
            return false;
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if check(inner, depth + 1) {
                return true;
            }
        }
        e.source().is_some_and(|s| check(s, depth + 1))
    }
    check(e, 0)
}

/// Checks that a service URL is an absolute http(s) URL.
pub fn check_base_url(url: &str) -> anyhow::Result<()> {
    crate::framework::validators::check_http_url(url).map_err(|e| anyhow!(e))
}

/// rustls client config: system roots + the CA file and PEM, or no verification when insecure.
/// The CA file is read here (its errors belong to configuration); the system roots only when
/// a server certificate is first verified (see [`LazyRoots`]).
pub fn client_tls(opts: &TlsOptions) -> anyhow::Result<rustls::ClientConfig> {
    let provider = crypto_provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let mut config = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth()
    } else {
        let mut extra = Vec::new();
        if let Some(path) = &opts.ca_file {
            let pem = std::fs::read(path).with_context(|| format!("reading ca_file {path}"))?;
            extra.extend(ca_certificates(&pem, &format!("ca_file {path}"))?);
        }
        if let Some(pem) = &opts.ca_pem {
            extra.extend(ca_certificates(pem.as_bytes(), "ca_pem")?);
        }
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(LazyRoots {
                extra,
                provider,
                verifier: std::sync::OnceLock::new(),
            }))
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The system's root certificates, read once per process: parsing the ~150 PEM certificates
/// of the system store cost more instructions than a whole refresh of 200 objects, and a
/// provider talking plain HTTP (or only to hosts trusted by `ca_file`) never needs them.
fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// WebPKI verification against the system roots plus `ca_file`, built on first use.
#[derive(Debug)]
struct LazyRoots {
    extra: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    verifier: std::sync::OnceLock<Result<Arc<rustls::client::WebPkiServerVerifier>, String>>,
}

impl LazyRoots {
    fn verifier(&self) -> Result<&Arc<rustls::client::WebPkiServerVerifier>, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                let mut roots = rustls::RootCertStore::empty();
                for c in native_roots().iter().chain(&self.extra) {
                    let _ = roots.add(c.clone());
                }
                rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    self.provider.clone(),
                )
                .build()
                .map_err(|e| e.to_string())
            })
            .as_ref()
            // No root at all: nothing can be trusted, as with an empty root store.
            .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer))
    }
}

impl ServerCertVerifier for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Verifier for `insecure = true`: any certificate, real handshake signatures.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_messages_of_each_service_shape() {
        assert_eq!(
            error_message(&json!({"error": {"message": "Key not found", "code": "404"}})),
            "Key not found"
        );
        assert_eq!(
            error_message(&json!({"message": "user already exists"})),
            "user already exists"
        );
        assert_eq!(
            error_message(&json!({"detail": {"error": "Team not found"}})),
            "Team not found"
        );
        assert_eq!(
            error_message(&json!({"detail": "Invalid token."})),
            "Invalid token."
        );
        assert!(
            error_message(&json!({"email": ["Enter a valid email address."]}))
                .contains("valid email")
        );
    }

    fn transport() -> ApiError {
        ApiError::Transport {
            service: "t",
            method: Method::POST,
            path: "/x".into(),
            message: "request failed: connection closed".into(),
        }
    }

    fn status(code: u16) -> ApiError {
        ApiError::Status {
            service: "t",
            method: Method::POST,
            path: "/x".into(),
            status: code,
            message: "m".into(),
            body: Json::Null,
        }
    }

    fn target() -> CreateTarget {
        CreateTarget::new("t", "webide_t", "name \"a\"")
    }

    /// Runs create_once with scripted create answers and lookup results.
    async fn run(
        creates: Vec<Result<u32, ApiError>>,
        lookups: Vec<Option<u32>>,
    ) -> (Result<u32, ApiError>, usize, usize) {
        use std::sync::Mutex;
        let creates = Mutex::new(creates.into_iter());
        let lookups = Mutex::new(lookups.into_iter());
        let (nc, nl) = (Mutex::new(0), Mutex::new(0));
        let r = create_once(
            target(),
            || {
                *nc.lock().unwrap() += 1;
                let next = creates.lock().unwrap().next().expect("unexpected create");
                async move { next }
            },
            || {
                *nl.lock().unwrap() += 1;
                let next = lookups.lock().unwrap().next().expect("unexpected lookup");
                async move { Ok(next) }
            },
            // 7 is "ours"; anything else was made by someone else.
            |v: &u32, _: &CreateWindow| {
                if *v == 7 {
                    Ownership::Ours
                } else {
                    Ownership::Foreign {
                        import_id: format!("id-{v}"),
                    }
                }
            },
        )
        .await;
        let (c, l) = (*nc.lock().unwrap(), *nl.lock().unwrap());
        (r, c, l)
    }

    #[tokio::test]
    async fn ambiguous_create_adopts_only_its_own_object() {
        // Lost answer, the server committed: adopted, not sent twice.
        let (r, c, l) = run(vec![Err(transport())], vec![Some(7)]).await;
        assert_eq!((r.unwrap(), c, l), (7, 1, 1));
        // 502/504/500 after a commit are ambiguous too.
        for code in [500, 502, 504, 503, 429] {
            let (r, c, _) = run(vec![Err(status(code))], vec![Some(7)]).await;
            assert_eq!((r.unwrap(), c), (7, 1), "{code}");
        }
        // Lost answer, nothing made: sent again.
        let (r, c, l) = run(vec![Err(transport()), Ok(7)], vec![None]).await;
        assert_eq!((r.unwrap(), c, l), (7, 2, 1));
        // A foreign object under the key is never adopted: import diagnostic.
        let (r, c, _) = run(vec![Err(status(502))], vec![Some(3)]).await;
        assert_eq!(c, 1);
        let msg = r.unwrap_err().to_string();
        assert!(msg.contains("terraform import webide_t.NAME id-3"), "{msg}");
        assert!(
            msg.contains("to = webide_t.NAME") && msg.contains("id = \"id-3\""),
            "{msg}"
        );
        assert!(msg.contains("another name"), "{msg}");
    }

    #[tokio::test]
    async fn conflicting_create_names_the_existing_object() {
        // An earlier attempt of this create committed: adopted.
        let (r, _, _) = run(vec![Err(status(409))], vec![Some(7)]).await;
        assert_eq!(r.unwrap(), 7);
        // Someone else's: import diagnostic.
        let (r, _, _) = run(vec![Err(status(422))], vec![Some(4)]).await;
        assert!(matches!(r, Err(ApiError::Exists { ref import_id, .. }) if import_id == "id-4"));
        // A plain validation error: the server's own message, not sent again.
        let (r, c, l) = run(vec![Err(status(400))], vec![None]).await;
        assert_eq!((r.unwrap_err().status(), c, l), (Some(400), 1, 1));
        // Not ambiguous (401): no lookup.
        let (r, _, l) = run(vec![Err(status(401))], vec![]).await;
        assert_eq!((r.unwrap_err().status(), l), (Some(401), 0));
    }

    #[tokio::test]
    async fn creation_window_adopts_only_after_a_lost_answer() {
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let by_window = |v: &String, w: &CreateWindow| {
            if w.covers(Some(v)) {
                Ownership::Ours
            } else {
                Ownership::Foreign {
                    import_id: "x".into(),
                }
            }
        };
        // First attempt refused as a conflict: the object predates this create.
        let mut creates = vec![Err(status(422))].into_iter();
        let r = create_once(
            target(),
            || std::future::ready(creates.next().unwrap()),
            || std::future::ready(Ok(Some(now.clone()))),
            by_window,
        )
        .await;
        assert!(matches!(r, Err(ApiError::Exists { .. })), "{r:?}");
        // Answer lost, nothing found yet, then a conflict: the lost attempt made it.
        let mut creates = vec![Err(transport()), Err(status(422))].into_iter();
        let mut lookups = vec![None, Some(now.clone())].into_iter();
        let r = create_once(
            target(),
            || std::future::ready(creates.next().unwrap()),
            || std::future::ready(Ok(lookups.next().unwrap())),
            by_window,
        )
        .await;
        assert_eq!(r.unwrap(), now);
    }

    #[test]
    fn create_window_covers_objects_made_since_it_opened() {
        let mut w = CreateWindow::now();
        let just_now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        assert!(
            !w.covers(Some(&just_now)),
            "no answer lost: an older object"
        );
        w.lost_answer = true;
        let now = time::OffsetDateTime::now_utc();
        let fmt = |t: time::OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        assert!(w.covers(Some(&fmt(now))));
        assert!(w.covers(Some(&fmt(now - time::Duration::seconds(1)))));
        assert!(!w.covers(Some(&fmt(now - time::Duration::minutes(5)))));
        assert!(!w.covers(Some("not a time")));
        assert!(!w.covers(None));
    }

    #[test]
    fn authentication_errors_do_not_echo_the_key() {
        let hash = "a".repeat(64);
        let msg = format!(
            "Authentication Error, Invalid proxy server token passed. Received API Key = sk-...wxyz, Key Hash (Token) ={hash}. Unable to find token"
        );
        let r = redact_credentials(&msg);
        assert!(!r.contains(&hash) && !r.contains("wxyz"), "{r}");
        assert!(r.starts_with("Authentication Error, Invalid proxy server token passed."));
        assert!(r.contains("Unable to find token"));
        assert_eq!(redact_credentials("Key is blocked"), "Key is blocked");
        assert_eq!(redact_credentials("Invalid token é."), "Invalid token é.");
    }

    /// Coder answers a PATCH that changes nothing with 304 Not Modified and no body: a success.
    #[tokio::test]
    async fn not_modified_is_success() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = s.read(&mut buf).await;
            s.write_all(b"HTTP/1.1 304 Not Modified\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
        });
        let c = ApiClient::new(
            "coder",
            &format!("http://{addr}"),
            &[],
            &TlsOptions::default(),
            crate::framework::StopToken::never(),
        )
        .unwrap();
        let r = c
            .call(
                Method::PATCH,
                "/api/v2/templates/x",
                &[],
                Some(&json!({})),
                true,
            )
            .await;
        assert!(matches!(r, Ok(Json::Null)), "{r:?}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        assert!(backoff(1, &p) <= Duration::from_millis(150));
        assert!(backoff(30, &p) <= p.max_delay.mul_f64(1.5));
        assert!(backoff(30, &p) >= p.max_delay.mul_f64(0.5));
    }
}
