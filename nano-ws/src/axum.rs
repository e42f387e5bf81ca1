//! Mounting nano-rs on one route of an [axum](https://docs.rs/axum) application (feature
//! `axum`; the route is an axum 0.8 `MethodRouter`, so the application uses axum 0.8 too).

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::routing::{MethodRouter, any};
use nano_core::App;

use crate::WsConfig;

/// A route serving nano-rs over WebSocket, to put next to the application's own routes.
///
/// The router chooses the path, so the config's path is ignored. The client's address is
/// known when the app is served with `into_make_service_with_connect_info::<SocketAddr>()`.
///
/// # Examples
///
/// nano-rs drives the shutdown of both: axum stops accepting when nano-rs starts shutting
/// down, and finishes its requests while nano-rs kicks its players and drains.
///
/// ```
/// use std::net::SocketAddr;
/// use axum::{Router, routing::get};
/// use nano_core::App;
/// use nano_ws::WsConfig;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let app = App::builder() /* .register(...) */ .build()?;
/// let router = Router::new()
///     .route("/health", get(|| async { "ok" }))
///     .route("/nano", nano_ws::axum::route(app.clone(), WsConfig::new()));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let server = tokio::spawn({
///     let app = app.clone();
///     async move {
///         axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
///             .with_graceful_shutdown(async move { app.accepting_stopped().await })
///             .await
///     }
/// });
/// # let clients = tokio::spawn({
/// #     let app = app.clone();
/// #     async move {
/// #         let health = request(addr, "/health", "").await?;
/// #         assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok"), "{health}");
/// #         let upgrade = "Connection: Upgrade\r\nUpgrade: websocket\r\n\
/// #             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
/// #         let game = request(addr, "/nano", upgrade).await?;
/// #         assert!(game.starts_with("HTTP/1.1 101"), "{game}");
/// #         app.shutdown_handle().shutdown().await; // as Ctrl-C would
/// #         std::io::Result::Ok(())
/// #     }
/// # });
/// app.run().await?; // until Ctrl-C or SIGTERM, then both shut down
/// server.await??;
/// # clients.await??;
/// # Ok(())
/// # }
/// # /// Sends a GET request with `headers` and returns the start of the answer.
/// # async fn request(addr: SocketAddr, path: &str, headers: &str) -> std::io::Result<String> {
/// #     use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// #     let mut stream = tokio::net::TcpStream::connect(addr).await?;
/// #     let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n");
/// #     stream.write_all(head.as_bytes()).await?;
/// #     let mut answer = vec![0; 1024];
/// #     let n = stream.read(&mut answer).await?;
/// #     Ok(String::from_utf8_lossy(&answer[..n]).into_owned())
/// # }
/// ```
pub fn route<S>(app: App, config: WsConfig) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let config = config.any_path();
    any(move |request: Request| {
        let (app, config) = (app.clone(), config.clone());
        async move { handle(&app, &config, request) }
    })
}

/// A `GET` route answering with `app`'s Prometheus metrics ([`App::encode_metrics`]), to
/// mount as `/metrics` on the application's (internal) router.
pub fn metrics_route<S>(app: App) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    axum::routing::get(move || {
        let app = app.clone();
        async move { crate::metrics_response(&app).map(Body::new) }
    })
}

/// Answers one request on a nano-rs WebSocket route (for handlers written by hand).
pub fn handle(app: &App, config: &WsConfig, request: Request) -> Response {
    let remote = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    crate::upgrade(app, config, request, remote).map(Body::from)
}
