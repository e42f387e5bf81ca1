//! A standalone WebSocket listener for an app.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use nano_core::App;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::{WsConfig, upgrade};

/// Binds `addr` (with the app's listen backlog,
/// [`Config::listen_backlog`](nano_core::Config::listen_backlog)) and serves WebSocket clients
/// of `app` on it; returns the bound address.
///
/// The listener stops accepting when the app starts shutting down; its sessions then drain
/// with the app's others.
///
/// # Errors
///
/// When binding fails.
///
/// # Examples
///
/// ```no_run
/// # async fn run(app: nano_core::App) -> std::io::Result<()> {
/// use nano_ws::WsConfig;
///
/// app.listen_tcp("127.0.0.1:3250").await.ok(); // TCP clients
/// nano_ws::listen(&app, "127.0.0.1:3251", WsConfig::new().path("/nano")).await?; // WebSocket
/// # Ok(()) }
/// ```
pub async fn listen(
    app: &App,
    addr: impl ToSocketAddrs,
    config: WsConfig,
) -> io::Result<SocketAddr> {
    let listener = app.bind_listener(addr).await?;
    serve(app, listener, config)
}

/// Serves WebSocket clients of `app` accepted on `listener` (with the app's accept loop:
/// it stops when the app starts shutting down).
///
/// # Errors
///
/// When the listener has no local address.
pub fn serve(app: &App, listener: TcpListener, config: WsConfig) -> io::Result<SocketAddr> {
    let path = config.endpoint_path().map(str::to_owned);
    let handle = app.clone();
    let addr = app.accept_with(listener, move |stream, remote| {
        let (app, config) = (handle.clone(), config.clone());
        tokio::spawn(async move { accept(app, config, stream, remote).await });
    })?;
    tracing::info!(%addr, ?path, "serving WebSocket");
    Ok(addr)
}

async fn accept(app: App, config: WsConfig, stream: tokio::net::TcpStream, remote: SocketAddr) {
    #[cfg(feature = "tls")]
    if let Some(tls) = config.tls.clone() {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let timeout = config.header_read_timeout;
        match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => serve_http(app, config, stream, remote).await,
            Ok(Err(err)) => tracing::debug!(%remote, error = %err, "TLS handshake failed"),
            Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
        }
        return;
    }
    serve_http(app, config, stream, remote).await;
}

/// Serves HTTP/1.1 on one connection until it upgrades or ends.
pub(crate) async fn serve_http<S>(app: App, config: WsConfig, stream: S, remote: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let header_read_timeout = config.header_read_timeout;
    let service = service_fn(move |request| {
        let response = upgrade(&app, &config, request, Some(remote));
        async move { Ok::<_, Infallible>(response.map(|body| Full::new(Bytes::from(body)))) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(err) = connection.await {
        tracing::debug!(%remote, error = %err, "HTTP connection ended with an error");
    }
}
