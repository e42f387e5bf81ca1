//! [`bind_tcp`]: TCP listeners with a chosen listen backlog.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, ToSocketAddrs};

/// Binds a TCP listener on the first address `addr` resolves to that binds, with `SO_REUSEADDR`
/// on Unix (as `TcpListener::bind` does) and a listen backlog of `backlog` connections, or
/// the system's maximum for `None`.
///
/// The backlog is the queue of connections the kernel has completed but the app has not
/// accepted yet. `TcpListener::bind` (tokio and the standard library) asks for 128: when
/// thousands of clients reconnect at once, after a restart or a network blip, that queue
/// overflows and clients wait out SYN retransmits (1 s, 3 s, ...).
///
/// # Errors
///
/// When `addr` does not resolve, or no address binds.
///
/// # Examples
///
/// ```
/// # async fn run() -> std::io::Result<()> {
/// let listener = nano_core::transport::bind_tcp("127.0.0.1:0", None).await?;
/// assert!(listener.local_addr()?.port() > 0);
/// # Ok(()) }
/// ```
pub async fn bind_tcp(addr: impl ToSocketAddrs, backlog: Option<u32>) -> io::Result<TcpListener> {
    let mut last_error = None;
    for addr in tokio::net::lookup_host(addr).await? {
        match bind_one(addr, backlog) {
            Ok(listener) => return Ok(listener),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind to")))
}

fn bind_one(addr: SocketAddr, backlog: Option<u32>) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    // The largest backlog `listen` takes: Linux, the BSDs and macOS cap it at their own limit
    // (`net.core.somaxconn`, `kern.ipc.somaxconn`); on Windows it means "a reasonable maximum".
    socket.listen(backlog.unwrap_or(u32::MAX))
}
