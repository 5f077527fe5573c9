//! Accept loop serving an axum router over HTTP/1.1, one task per connection,
//! so a request handler can close its own connection without answering.

use std::sync::Arc;

use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Request extension: closes the connection carrying the request.
#[derive(Clone)]
pub struct ConnKill(Arc<Notify>);

impl ConnKill {
    /// Closes the connection once the handler yields.
    pub fn kill(&self) {
        self.0.notify_one();
    }
}

/// Serves `app` on `listener` until the task is aborted; aborting it also
/// closes every open connection.
/// With `tls`, every connection is a TLS connection first.
pub async fn serve(listener: TcpListener, app: Router, tls: Option<TlsAcceptor>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let app = app.clone();
                    match tls.clone() {
                        None => {
                            conns.spawn(serve_conn(stream, app));
                        }
                        Some(acceptor) => {
                            conns.spawn(async move {
                                match acceptor.accept(stream).await {
                                    Ok(tls_stream) => serve_conn(tls_stream, app).await,
                                    Err(e) => tracing::debug!("TLS handshake refused: {e}"),
                                }
                            });
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn serve_conn<S>(stream: S, app: Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let kill = ConnKill(Arc::new(Notify::new()));
    let service = TowerToHyperService::new(app.layer(Extension(kill.clone())));
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        res = conn => if let Err(e) = res { tracing::trace!("connection: {e}") },
        _ = kill.0.notified() => tracing::debug!("connection dropped by fault injection"),
    }
}
