//! # nano-examples
//!
//! Runnable examples of nano-rs (`cargo run --example <name>` from the repository root), and the
//! small helpers they share: command-line flags (each example declares the flags it accepts;
//! `--help` lists them, anything else is refused with status 2), logging, serving a web page
//! beside the WebSocket endpoint, and the `--smoke` mode that the test command uses to check
//! every example end to end.

use std::net::SocketAddr;

pub mod admin_flags;
mod chat_page;
mod flags;
pub mod web_page;

pub use chat_page::serve_chat_page;
pub use flags::{Args, Flag, FlagError};
pub use web_page::{PageFile, serve_page};

/// Logs to stderr; `RUST_LOG` overrides the default level (`info`).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Fetches `path` from an HTTP server with a bare HTTP/1.1 request; returns status line and
/// body (for smoke checks, without an HTTP client dependency).
///
/// # Errors
///
/// When the connection fails.
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}
