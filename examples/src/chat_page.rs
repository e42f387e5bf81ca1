//! The chat web page (and the browser client it loads), served with the app's WebSocket
//! endpoint: by the `chat` example, and by the gates of the `cluster` example.

use std::net::SocketAddr;

use nano_core::App;
use tokio::task::JoinHandle;

use crate::web_page::{CSS, HTML, JAVASCRIPT, JS_CLIENT, PageFile, serve_page};

/// The chat page's own files; the JS client comes with them.
const FILES: [PageFile; 3] = [
    PageFile {
        path: "/",
        body: include_str!("../chat/web/index.html"),
        content_type: HTML,
    },
    PageFile {
        path: "/style.css",
        body: include_str!("../chat/web/style.css"),
        content_type: CSS,
    },
    PageFile {
        path: "/app.js",
        body: include_str!("../chat/web/app.js"),
        content_type: JAVASCRIPT,
    },
];

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
    let files: Vec<PageFile> = FILES.into_iter().chain(JS_CLIENT).collect();
    serve_page(app, addr, &files).await
}
