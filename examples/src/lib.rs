//! # nano-examples
//!
//! Runnable examples of nano-rs (`cargo run --example <name>` from the repository root), and the
//! small helpers they share: command-line flags, logging, and the `--smoke` mode that the test
//! command uses to check every example end to end.

use std::net::SocketAddr;

mod chat_page;

pub use chat_page::serve_chat_page;

/// Command-line flags of an example: `--name value` pairs and bare `--flags`.
#[derive(Debug, Clone)]
pub struct Args {
    args: Vec<String>,
}

impl Args {
    /// The process's arguments.
    pub fn from_env() -> Self {
        Self {
            args: std::env::args().skip(1).collect(),
        }
    }

    /// Arguments given explicitly (for tests).
    pub fn from_vec(args: Vec<String>) -> Self {
        Self { args }
    }

    /// Whether the bare flag `--name` is present.
    pub fn flag(&self, name: &str) -> bool {
        self.args.iter().any(|arg| arg == name)
    }

    /// The value after `--name`, or `default`.
    pub fn value(&self, name: &str, default: &str) -> String {
        self.args
            .iter()
            .position(|arg| arg == name)
            .and_then(|index| self.args.get(index + 1))
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    /// An address flag: the value after `--name`, else `default`; in smoke mode the port
    /// becomes 0 (any free port) unless the flag was given.
    pub fn addr(&self, name: &str, default: &str) -> SocketAddr {
        let given = self.args.iter().any(|arg| arg == name);
        let text = self.value(name, default);
        let mut addr: SocketAddr = text
            .parse()
            .unwrap_or_else(|_| panic!("{name}: `{text}` is not an address"));
        if self.smoke() && !given {
            addr.set_port(0);
        }
        addr
    }

    /// `--smoke`: start, serve one real client exchange, exit 0.
    pub fn smoke(&self) -> bool {
        self.flag("--smoke")
    }
}

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
