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

/// TLS settings of one service block.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// PEM file with extra trusted CA certificates (e.g. a self-signed :7443 cert).
    pub ca_file: Option<String>,
    /// Skip certificate verification entirely (explicit opt-in).
    pub insecure: bool,
}

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
                    let body: Json =
                        serde_json::from_str(&text).unwrap_or(Json::String(text.clone()));
                    let err = ApiError::Status {
                        service: self.service,
                        method: method.clone(),
                        path: path.to_string(),
                        status: status.as_u16(),
                        message: error_message(&body),
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

/// A create that is never retried blindly: when its answer is lost (a transport error), the
/// object is looked up by its natural key and adopted if it exists; only when it certainly
/// does not is the create sent again (up to `attempts` times, with backoff).
pub async fn create_once<T, C, CF, L, LF>(
    mut create: C,
    mut lookup: L,
    attempts: u32,
) -> Result<T, ApiError>
where
    C: FnMut() -> CF,
    CF: std::future::Future<Output = Result<T, ApiError>>,
    L: FnMut() -> LF,
    LF: std::future::Future<Output = Result<Option<T>, ApiError>>,
{
    let policy = RetryPolicy::default();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match create().await {
            Ok(v) => return Ok(v),
            Err(e @ ApiError::Transport { .. }) => {
                if let Some(found) = lookup().await? {
                    tracing::info!(
                        attempt,
                        "create answer lost; adopted the object found by its key"
                    );
                    return Ok(found);
                }
                if attempt >= attempts {
                    return Err(e);
                }
                tracing::info!(
                    attempt,
                    "create answer lost and nothing was created; sending it again"
                );
                tokio::time::sleep(backoff(attempt, &policy)).await;
            }
            Err(e) => return Err(e),
        }
    }
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

/// rustls client config: system roots + the CA file, or no verification when insecure.
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
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(c);
        }
        if let Some(path) = &opts.ca_file {
            let pem = std::fs::read(path).with_context(|| format!("reading ca_file {path}"))?;
            let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
                .collect::<Result<_, _>>()
                .with_context(|| format!("parsing ca_file {path}"))?;
            if certs.is_empty() {
                return Err(anyhow!("ca_file {path} holds no PEM certificate"));
            }
            for c in certs {
                roots
                    .add(c)
                    .with_context(|| format!("adding a certificate of {path}"))?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
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
