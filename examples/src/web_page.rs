//! Serving an example's web page: its files, compiled into the binary, beside the app's
//! WebSocket endpoint on one HTTP port.

use std::net::SocketAddr;

use axum::http::header;
use axum::routing::get;
use nano_core::App;
use nano_ws::WsConfig;
use tokio::task::JoinHandle;

/// One file of a page, served at `path` with its content type.
#[derive(Debug, Clone, Copy)]
pub struct PageFile {
    /// Where it is served (`/`, `/app.js`).
    pub path: &'static str,
    /// Its content (`include_str!`: no build step, any working directory).
    pub body: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

/// The `Content-Type` of HTML files.
pub const HTML: &str = "text/html; charset=utf-8";
/// The `Content-Type` of CSS files.
pub const CSS: &str = "text/css; charset=utf-8";
/// The `Content-Type` of JavaScript files.
pub const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// The browser client of nano-rs (`clients/js`), at `/nano-client.js` and `/protocol.js`.
pub const JS_CLIENT: [PageFile; 2] = [
    PageFile {
        path: "/nano-client.js",
        body: include_str!("../../clients/js/nano-client.js"),
        content_type: JAVASCRIPT,
    },
    PageFile {
        path: "/protocol.js",
        body: include_str!("../../clients/js/protocol.js"),
        content_type: JAVASCRIPT,
    },
];

/// Serves `files` and `app`'s WebSocket endpoint at `/nano` on `addr`, until the app stops
/// accepting connections. Returns the bound address and the server's task.
///
/// # Errors
///
/// When `addr` cannot be bound.
pub async fn serve_page(
    app: &App,
    addr: SocketAddr,
    files: &[PageFile],
) -> std::io::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let mut router = axum::Router::new();
    for &file in files {
        router = router.route(
            file.path,
            get(move || async move { ([(header::CONTENT_TYPE, file.content_type)], file.body) }),
        );
    }
    let router = router.route("/nano", nano_ws::axum::route(app.clone(), WsConfig::new()));
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
