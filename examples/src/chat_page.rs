//! The chat web page (and the browser client it loads), served with the app's WebSocket
//! endpoint: by the `chat` example, and by the gates of the `cluster` example.

use std::net::SocketAddr;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use nano_core::App;
use nano_ws::WsConfig;
use tokio::task::JoinHandle;

/// One file of the page, compiled into the binary: no build step, any working directory.
fn page(file: &str) -> impl IntoResponse + use<> {
    let (body, kind) = match file {
        "index.html" => (
            include_str!("../chat/web/index.html"),
            "text/html; charset=utf-8",
        ),
        "style.css" => (
            include_str!("../chat/web/style.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_str!("../chat/web/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "nano-client.js" => (
            include_str!("../../clients/js/nano-client.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => (
            include_str!("../../clients/js/protocol.js"),
            "text/javascript; charset=utf-8",
        ),
    };
    ([(header::CONTENT_TYPE, kind)], body)
}

/// Serves the page at `/` and `app`'s WebSocket endpoint at `/nano` on `addr`, until the app
/// stops accepting connections. Returns the bound address and the server's task.
///
/// # Errors
///
/// When `addr` cannot be bound.
pub async fn serve_chat_page(
    app: &App,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let router = axum::Router::new()
        .route("/", get(|| async { page("index.html") }))
        .route("/style.css", get(|| async { page("style.css") }))
        .route("/app.js", get(|| async { page("app.js") }))
        .route("/nano-client.js", get(|| async { page("nano-client.js") }))
        .route("/protocol.js", get(|| async { page("protocol.js") }))
        .route("/nano", nano_ws::axum::route(app.clone(), WsConfig::new()));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = app.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { app.accepting_stopped().await })
        .await
    });
    Ok((bound, server))
}
