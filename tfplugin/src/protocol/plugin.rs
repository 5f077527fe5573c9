//! go-plugin start-up: magic cookie, protocol negotiation, the handshake line,
//! AutoMTLS, and the side services (controller, stdio, health).

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{bail, Context as _};
use base64::Engine;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use super::pb;
use super::server::ProviderService;
use super::tls;
use crate::framework::Provider;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const CORE_PROTOCOL_VERSION: u32 = 1;
const APP_PROTOCOL_VERSION: u32 = 6;
/// Terraform's own receive limit.
const MAX_MESSAGE: usize = 256 << 20;

/// Why the binary refuses to start as a plugin.
pub fn check_launch() -> Result<(), String> {
    if std::env::var(MAGIC_COOKIE_KEY).ok().as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(
            "This binary is a plugin. These are not meant to be executed directly.\n\
             Please execute the program that consumes these plugins, which will\n\
             load any plugins automatically (terraform or tofu)."
                .to_string(),
        );
    }
    let versions = std::env::var("PLUGIN_PROTOCOL_VERSIONS").unwrap_or_default();
    // Older clients do not send the list; they speak the version they were built for.
    if !versions.is_empty()
        && !versions
            .split(',')
            .any(|v| v.trim().parse::<u32>().ok() == Some(APP_PROTOCOL_VERSION))
    {
        return Err(format!(
            "terraform-provider-webide speaks plugin protocol {APP_PROTOCOL_VERSION}, the client offers [{versions}]; \
             use Terraform >= 1.0 or OpenTofu"
        ));
    }
    Ok(())
}

/// Binds 127.0.0.1 within `PLUGIN_MIN_PORT`..=`PLUGIN_MAX_PORT` when given.
async fn bind() -> anyhow::Result<TcpListener> {
    let min: Option<u16> = std::env::var("PLUGIN_MIN_PORT")
        .ok()
        .and_then(|v| v.parse().ok());
    let max: Option<u16> = std::env::var("PLUGIN_MAX_PORT")
        .ok()
        .and_then(|v| v.parse().ok());
    match (min, max) {
        (Some(lo), Some(hi)) if lo <= hi && lo > 0 => {
            for port in lo..=hi {
                if let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await {
                    return Ok(l);
                }
            }
            bail!("no free port between PLUGIN_MIN_PORT={lo} and PLUGIN_MAX_PORT={hi}")
        }
        _ => Ok(TcpListener::bind("127.0.0.1:0").await?),
    }
}

/// The line go-plugin reads from stdout.
pub fn handshake_line(addr: SocketAddr, server_cert: Option<&[u8]>) -> String {
    let cert = server_cert
        .map(|c| base64::engine::general_purpose::STANDARD_NO_PAD.encode(c))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}")
}

/// A TLS connection tonic can serve.
struct TlsConn(tokio_rustls::server::TlsStream<TcpStream>);

impl Connected for TlsConn {
    type ConnectInfo = ();
    fn connect_info(&self) {}
}

impl AsyncRead for TlsConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// `plugin.GRPCController`: Shutdown ends the process.
struct Controller(Arc<Notify>);

#[tonic::async_trait]
impl pb::plugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _: Request<pb::plugin::Empty>,
    ) -> Result<Response<pb::plugin::Empty>, Status> {
        tracing::debug!("GRPCController.Shutdown");
        self.0.notify_one();
        Ok(Response::new(pb::plugin::Empty {}))
    }
}

/// `plugin.GRPCStdio`: we never write to stdout after the handshake, so the
/// stream stays open and empty.
struct Stdio;

#[tonic::async_trait]
impl pb::plugin::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = ReceiverStream<Result<pb::plugin::StdioData, Status>>;
    async fn stream_stdio(
        &self,
        _: Request<pb::plugin::Empty>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(async move { tx.closed().await });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// Runs `provider` as a Terraform plugin until the host shuts it down.
pub async fn serve<P: Provider>(provider: P) -> anyhow::Result<()> {
    let listener = bind().await.context("binding the plugin port")?;
    let addr = listener.local_addr()?;
    let shutdown = Arc::new(Notify::new());

    let (mut health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let provider_service = Arc::new(ProviderService::new(provider));
    let service = pb::provider_server::ProviderServer::from_arc(provider_service.clone())
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    let router = tonic::transport::Server::builder()
        .add_service(service)
        .add_service(health_service)
        .add_service(
            pb::plugin::grpc_controller_server::GrpcControllerServer::new(Controller(
                shutdown.clone(),
            )),
        )
        .add_service(pb::plugin::grpc_stdio_server::GrpcStdioServer::new(Stdio));
    let signal = {
        let s = shutdown.clone();
        async move { s.notified().await }
    };

    match std::env::var("PLUGIN_CLIENT_CERT")
        .ok()
        .filter(|c| !c.trim().is_empty())
    {
        Some(client_pem) => {
            let client_cert =
                tls::parse_pem_cert(&client_pem).context("reading PLUGIN_CLIENT_CERT")?;
            let (server_cert, server_key) = tls::self_signed()?;
            let config = tls::server_config(
                server_cert.clone(),
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key)),
                client_cert,
            )?;
            announce(addr, Some(server_cert.as_ref()))?;
            let incoming = tls_incoming(
                listener,
                tokio_rustls::TlsAcceptor::from(Arc::new(config)),
                TLS_HANDSHAKE_TIMEOUT,
            );
            router
                .serve_with_incoming_shutdown(incoming, signal)
                .await?;
        }
        None => {
            tracing::warn!("PLUGIN_CLIENT_CERT not set: serving without TLS");
            announce(addr, None)?;
            let incoming = tcp_incoming(listener);
            router
                .serve_with_incoming_shutdown(incoming, signal)
                .await?;
        }
    }
    tracing::debug!("plugin server stopped");
    // go-plugin kills the process 2 s after Shutdown.
    if tokio::time::timeout(
        LEFTOVER_CLOSE_TIMEOUT,
        provider_service.close_leftover_ephemerals(),
    )
    .await
    .is_err()
    {
        tracing::warn!("gave up closing leftover ephemeral resources");
    }
    Ok(())
}

fn announce(addr: SocketAddr, cert: Option<&[u8]>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", handshake_line(addr, cert))?;
    out.flush()?;
    Ok(())
}

/// How long closing ephemeral resources Terraform left open may take at shutdown.
const LEFTOVER_CLOSE_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long a client may take to complete the TLS handshake before its connection is closed.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// First pause after a failed accept (EMFILE, ENFILE, ENOBUFS...); doubles up to the maximum.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Waits for the next connection from `accept`. A failed accept (typically the open-file
/// limit) is logged and retried after a pause that doubles from [`ACCEPT_BACKOFF_MIN`] to
/// [`ACCEPT_BACKOFF_MAX`], so the loop never spins; the pause resets after a success.
async fn accept_with_backoff<T, F, Fut>(accept: &mut F, backoff: &mut Duration) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::io::Result<T>>,
{
    loop {
        match accept().await {
            Ok(conn) => {
                *backoff = Duration::ZERO;
                return conn;
            }
            Err(e) => {
                *backoff = (*backoff * 2).clamp(ACCEPT_BACKOFF_MIN, ACCEPT_BACKOFF_MAX);
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "accept failed");
                tokio::time::sleep(*backoff).await;
            }
        }
    }
}

/// Accepts from `listener` (with backoff on errors) and sets `TCP_NODELAY` on every socket:
/// gRPC writes small frames, and Nagle's algorithm meeting the client's delayed ACK costs
/// ~40 ms per round trip (tonic's own `tcp_nodelay` does not apply to a custom incoming).
async fn accept_nodelay(listener: &TcpListener, backoff: &mut Duration) -> (TcpStream, SocketAddr) {
    let mut accept = || listener.accept();
    let (tcp, peer) = accept_with_backoff(&mut accept, backoff).await;
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(%peer, error = %e, "could not set TCP_NODELAY");
    }
    (tcp, peer)
}

/// Plain TCP connections (no AutoMTLS), with `TCP_NODELAY` and accept backoff.
fn tcp_incoming(listener: TcpListener) -> ReceiverStream<Result<TcpStream, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        let mut backoff = Duration::ZERO;
        loop {
            let (tcp, _) = accept_nodelay(&listener, &mut backoff).await;
            if tx.send(Ok(tcp)).await.is_err() {
                break;
            }
        }
    });
    ReceiverStream::new(rx)
}

/// Accepts TCP connections and completes TLS handshakes off the accept loop;
/// connections without the expected client certificate, or whose handshake does not
/// finish within `handshake_timeout`, are closed.
fn tls_incoming(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    handshake_timeout: Duration,
) -> ReceiverStream<Result<TlsConn, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        let mut backoff = Duration::ZERO;
        loop {
            let (tcp, peer) = accept_nodelay(&listener, &mut backoff).await;
            if tx.is_closed() {
                break;
            }
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(TlsConn(tls))).await;
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(%peer, error = %e, "refused a connection (TLS handshake failed)")
                    }
                    Err(_) => tracing::warn!(
                        %peer,
                        timeout_ms = handshake_timeout.as_millis() as u64,
                        "closed a connection whose TLS handshake did not complete in time"
                    ),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use tokio::io::AsyncReadExt;
    use tokio_stream::StreamExt;

    use super::*;

    #[tokio::test]
    async fn accept_errors_back_off_then_recover() {
        let calls = AtomicUsize::new(0);
        let mut accept = || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 6 {
                    Err(std::io::Error::from_raw_os_error(24)) // EMFILE
                } else {
                    Ok(n)
                }
            }
        };
        let mut backoff = Duration::ZERO;
        let started = Instant::now();
        let got = accept_with_backoff(&mut accept, &mut backoff).await;
        assert_eq!(got, 6);
        assert_eq!(backoff, Duration::ZERO, "a success resets the pause");
        // 5 + 10 + 20 + 40 + 80 + 160 ms of pauses.
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "six failed accepts took only {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_failing_accept_does_not_spin() {
        let calls = AtomicUsize::new(0);
        let mut accept = || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(std::io::Error::from_raw_os_error(24)) }
        };
        let mut backoff = Duration::ZERO;
        let _ = tokio::time::timeout(
            Duration::from_millis(600),
            accept_with_backoff(&mut accept, &mut backoff),
        )
        .await;
        let n = calls.load(Ordering::SeqCst);
        assert!((2..=10).contains(&n), "{n} accept calls in 600 ms");
        assert!(backoff >= Duration::from_millis(160), "{backoff:?}");
    }

    #[tokio::test]
    async fn accepted_sockets_have_tcp_nodelay() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut incoming = tcp_incoming(listener);
        let _client = TcpStream::connect(addr).await.unwrap();
        let server = tokio::time::timeout(Duration::from_secs(5), incoming.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(server.nodelay().unwrap());
    }

    #[tokio::test]
    async fn a_connection_without_tls_handshake_is_closed_after_the_timeout() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let (server_cert, server_key) = tls::self_signed().unwrap();
        let (client_cert, _) = tls::self_signed().unwrap();
        let config = tls::server_config(
            server_cert,
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key)),
            client_cert,
        )
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _incoming = tls_incoming(
            listener,
            tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            Duration::from_millis(300),
        );
        let mut idle = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buf))
            .await
            .expect("a handshake-less connection must be closed by the server");
        // EOF, or a reset: either way the server let go of it.
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        assert!(started.elapsed() >= Duration::from_millis(250));
    }
}
