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
/// ```no_run
/// use std::net::SocketAddr;
/// use axum::{Router, routing::get};
/// use nano_ws::WsConfig;
///
/// # async fn run(app: nano_core::App) -> std::io::Result<()> {
/// let router = Router::new()
///     .route("/health", get(|| async { "ok" }))
///     .route("/nano", nano_ws::axum::route(app.clone(), WsConfig::new()));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3250").await?;
/// axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
///     .with_graceful_shutdown(async move { app.shutdown().await })
///     .await
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

/// Answers one request on a nano-rs WebSocket route (for handlers written by hand).
pub fn handle(app: &App, config: &WsConfig, request: Request) -> Response {
    let remote = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    crate::upgrade(app, config, request, remote).map(Body::from)
}
