//! go-plugin start-up: magic cookie, protocol negotiation, the handshake line,
//! AutoMTLS, and the side services (controller, stdio, health).

use std::io::Write;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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

    let service = pb::provider_server::ProviderServer::new(ProviderService::new(provider))
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
            let incoming =
                tls_incoming(listener, tokio_rustls::TlsAcceptor::from(Arc::new(config)));
            router
                .serve_with_incoming_shutdown(incoming, signal)
                .await?;
        }
        None => {
            tracing::warn!("PLUGIN_CLIENT_CERT not set: serving without TLS");
            announce(addr, None)?;
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
            router
                .serve_with_incoming_shutdown(incoming, signal)
                .await?;
        }
    }
    tracing::debug!("plugin server stopped");
    Ok(())
}

fn announce(addr: SocketAddr, cert: Option<&[u8]>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", handshake_line(addr, cert))?;
    out.flush()?;
    Ok(())
}

/// Accepts TCP connections and completes TLS handshakes off the accept loop;
/// connections without the expected client certificate are dropped.
fn tls_incoming(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
) -> ReceiverStream<Result<TlsConn, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match acceptor.accept(tcp).await {
                    Ok(tls) => {
                        let _ = tx.send(Ok(TlsConn(tls))).await;
                    }
                    Err(e) => {
                        tracing::warn!(%peer, error = %e, "refused a connection (TLS handshake failed)")
                    }
                }
            });
        }
    });
    ReceiverStream::new(rx)
}
