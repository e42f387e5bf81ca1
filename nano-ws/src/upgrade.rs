//! The HTTP side of a WebSocket endpoint: checking an upgrade request, answering it, and
//! handing the upgraded connection to the app.

use std::net::SocketAddr;

use http::header::{
    CONNECTION, HeaderValue, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use nano_core::{App, TransportKind};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

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
/// WebSocket headers), 403 (Origin refused) or 503 (shutting down), without upgrading.
///
/// Works with any server built on hyper 1 (the request must carry hyper's upgrade extension):
/// the standalone listener of this crate, axum, or your own.
pub fn upgrade<B>(
    app: &App,
    config: &WsConfig,
    mut request: Request<B>,
    remote: Option<SocketAddr>,
) -> Response<String> {
    if let Some(path) = &config.path
        && request.uri().path() != path
    {
        return plain(StatusCode::NOT_FOUND, "no WebSocket endpoint here");
    }
    if request.method() != Method::GET {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "WebSocket upgrades use GET");
    }
    let headers = request.headers();
    let wants_upgrade = header_has_token(headers.get(CONNECTION), "upgrade")
        && header_has_token(headers.get(UPGRADE), "websocket");
    if !wants_upgrade {
        let mut response = plain(
            StatusCode::UPGRADE_REQUIRED,
            "this endpoint speaks WebSocket",
        );
        response
            .headers_mut()
            .insert(UPGRADE, HeaderValue::from_static("websocket"));
        return response;
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        let mut response = plain(StatusCode::BAD_REQUEST, "unsupported WebSocket version");
        response
            .headers_mut()
            .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return response;
    }
    let Some(key) = headers.get(SEC_WEBSOCKET_KEY) else {
        return plain(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key");
    };
    let origin = headers.get(ORIGIN).and_then(|origin| origin.to_str().ok());
    if !config.origin_allowed(origin) {
        tracing::info!(?remote, ?origin, "WebSocket upgrade refused: origin");
        return plain(StatusCode::FORBIDDEN, "origin not allowed");
    }
    if app.is_shutting_down() {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }

    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut request);
    let app = app.clone();
    let ws_config = config.websocket_config();
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let io = TokioIo::new(upgraded);
                let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(ws_config)).await;
                serve_websocket(&app, ws, remote);
            }
            Err(err) => tracing::debug!(error = %err, "WebSocket upgrade failed"),
        }
    });

    let mut response = Response::new(String::new());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    }
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
