//! The HTTP side of a WebSocket endpoint: checking an upgrade request, answering it, and
//! handing the upgraded connection to the app.

use std::net::SocketAddr;

use http::header::{
    CONNECTION, HeaderValue, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{Method, Request, Response, StatusCode};
use hyper::upgrade::{Parts, Upgraded};
use hyper_util::rt::TokioIo;
use nano_core::{App, TransportKind};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::{WsConfig, WsTransport};

/// Serves one established WebSocket (server side) as a session of `app`.
///
/// The lowest-level entry point: use it when something else did the HTTP upgrade. Packet
/// bodies are limited to the app's `max_body_len`.
///
/// # Examples
///
/// ```no_run
/// # async fn run(app: nano_core::App, stream: tokio::net::TcpStream) -> Result<(), Box<dyn std::error::Error>> {
/// let remote = stream.peer_addr().ok();
/// let ws = tokio_tungstenite::accept_async(stream).await?;
/// nano_ws::serve_websocket(&app, ws, remote);
/// # Ok(()) }
/// ```
pub fn serve_websocket<S>(app: &App, ws: WebSocketStream<S>, remote: Option<SocketAddr>)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let transport = WsTransport::new(ws, app.config().max_body_len);
    app.serve_transport(transport, remote, TransportKind::WebSocket);
}

/// Answers an HTTP request on a WebSocket endpoint: 101 and a new session for a valid upgrade;
/// otherwise 404 (wrong path), 405 (not GET), 426 (not a WebSocket upgrade), 400 (bad
/// WebSocket headers), 403 (Origin refused) or 503 (shutting down, or `max_connections` open:
/// counted in `Metrics::connections_refused`), without upgrading.
///
/// Works with any server built on hyper 1 (the request must carry hyper's upgrade extension):
/// the standalone listener of this crate, axum, or your own.
pub fn upgrade<B>(
    app: &App,
    config: &WsConfig,
    mut request: Request<B>,
    remote: Option<SocketAddr>,
) -> Response<String> {
    let key = match check(app, config, &request, remote) {
        Ok(key) => key,
        Err(refusal) => return refusal.response(),
    };
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut request);
    let (app, ws_config) = (app.clone(), config.websocket_config());
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => serve_upgraded(&app, upgraded, ws_config, remote).await,
            Err(err) => tracing::debug!(error = %err, "WebSocket upgrade failed"),
        }
    });
    switching_protocols(&accept)
}

/// Serves an upgraded connection: over the connection's own stream when hyper served a plain
/// or TLS TCP stream (each read and write then skips hyper's boxed, rewinding layers: some 300
/// instructions per request and response), else over hyper's [`Upgraded`].
async fn serve_upgraded(
    app: &App,
    upgraded: Upgraded,
    config: WebSocketConfig,
    remote: Option<SocketAddr>,
) {
    let upgraded = match upgraded.downcast::<TokioIo<TcpStream>>() {
        Ok(parts) => return serve_stream(app, parts, config, remote).await,
        Err(upgraded) => upgraded,
    };
    #[cfg(feature = "tls")]
    let upgraded = match upgraded.downcast::<TokioIo<tokio_rustls::server::TlsStream<TcpStream>>>()
    {
        Ok(parts) => return serve_stream(app, parts, config, remote).await,
        Err(upgraded) => upgraded,
    };
    let io = TokioIo::new(upgraded);
    let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    serve_websocket(app, ws, remote);
}

/// Serves the stream an upgrade was asked on, starting with what hyper read past the request.
async fn serve_stream<S>(
    app: &App,
    parts: Parts<TokioIo<S>>,
    config: WebSocketConfig,
    remote: Option<SocketAddr>,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (stream, read) = (parts.io.into_inner(), parts.read_buf.to_vec());
    let ws = WebSocketStream::from_partially_read(stream, read, Role::Server, Some(config)).await;
    serve_websocket(app, ws, remote);
}

/// Why an upgrade request is refused.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    WrongPath,
    NotGet,
    NotAnUpgrade,
    BadVersion,
    NoKey,
    Origin,
    ShuttingDown,
    Full,
}

impl Refusal {
    /// The answer to the refused request.
    fn response(self) -> Response<String> {
        match self {
            Refusal::WrongPath => plain(StatusCode::NOT_FOUND, "no WebSocket endpoint here"),
            Refusal::NotGet => plain(StatusCode::METHOD_NOT_ALLOWED, "WebSocket upgrades use GET"),
            Refusal::NotAnUpgrade => with_header(
                plain(
                    StatusCode::UPGRADE_REQUIRED,
                    "this endpoint speaks WebSocket",
                ),
                UPGRADE,
                "websocket",
            ),
            Refusal::BadVersion => with_header(
                plain(StatusCode::BAD_REQUEST, "unsupported WebSocket version"),
                SEC_WEBSOCKET_VERSION,
                "13",
            ),
            Refusal::NoKey => plain(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key"),
            Refusal::Origin => plain(StatusCode::FORBIDDEN, "origin not allowed"),
            Refusal::ShuttingDown => plain(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
            Refusal::Full => plain(StatusCode::SERVICE_UNAVAILABLE, "server full"),
        }
    }
}

/// Checks an upgrade request: its `Sec-WebSocket-Key`, or why it is refused.
fn check<B>(
    app: &App,
    config: &WsConfig,
    request: &Request<B>,
    remote: Option<SocketAddr>,
) -> Result<HeaderValue, Refusal> {
    if config
        .path
        .as_ref()
        .is_some_and(|path| request.uri().path() != path)
    {
        return Err(Refusal::WrongPath);
    }
    if request.method() != Method::GET {
        return Err(Refusal::NotGet);
    }
    let headers = request.headers();
    if !(header_has_token(headers.get(CONNECTION), "upgrade")
        && header_has_token(headers.get(UPGRADE), "websocket"))
    {
        return Err(Refusal::NotAnUpgrade);
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(Refusal::BadVersion);
    }
    let key = headers.get(SEC_WEBSOCKET_KEY).ok_or(Refusal::NoKey)?;
    let origin = headers.get(ORIGIN).and_then(|origin| origin.to_str().ok());
    if !config.origin_allowed(origin) {
        tracing::info!(?remote, ?origin, "WebSocket upgrade refused: origin");
        return Err(Refusal::Origin);
    }
    if app.is_shutting_down() {
        return Err(Refusal::ShuttingDown);
    }
    if app.is_full() {
        app.refuse_connection(remote);
        return Err(Refusal::Full);
    }
    Ok(key.clone())
}

/// The 101 response accepting an upgrade.
fn switching_protocols(accept: &str) -> Response<String> {
    let mut response = Response::new(String::new());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(accept) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

fn with_header(
    mut response: Response<String>,
    name: http::header::HeaderName,
    value: &'static str,
) -> Response<String> {
    response
        .headers_mut()
        .insert(name, HeaderValue::from_static(value));
    response
}

fn plain(status: StatusCode, text: &str) -> Response<String> {
    let mut response = Response::new(format!("{text}\n"));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Whether a comma-separated header contains `token` (case-insensitive).
fn header_has_token(value: Option<&HeaderValue>, token: &str) -> bool {
    value
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|part| part.trim().eq_ignore_ascii_case(token))
        })
}
