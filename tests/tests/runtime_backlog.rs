//! The listen backlog of the listeners an app binds (`Config::listen_backlog`): when every
//! client reconnects at once, the kernel's queue of completed connections must hold them all
//! until the app accepts them. Here nothing accepts, so every connection that completes its
//! TCP handshake stays in that queue, and a connection that does not fit never completes.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::future::join_all;
use nano_core::App;
use tokio::net::{TcpListener, TcpStream};

/// Clients of the storm: far above the 128 of `TcpListener::bind`, within the 4,096 that
/// Linux allows by default (`net.core.somaxconn`).
const STORM: usize = 1_000;

/// How many of `STORM` simultaneous connects to `addr` complete within `within`.
async fn storm(addr: SocketAddr, within: Duration) -> (usize, Vec<TcpStream>) {
    // A socket per client, for both tests of this file at once.
    nano_tests::limits::raise_open_files(2 * STORM as u64 + 200);
    let connects = (0..STORM).map(|_| tokio::time::timeout(within, TcpStream::connect(addr)));
    let streams: Vec<TcpStream> = join_all(connects)
        .await
        .into_iter()
        .filter_map(|result| result.ok()?.ok())
        .collect();
    (streams.len(), streams)
}

fn addr_of(listener: &TcpListener) -> SocketAddr {
    listener.local_addr().expect("bound")
}

#[tokio::test]
async fn by_default_the_queue_holds_a_reconnect_storm() {
    let app = App::builder().build().unwrap();
    assert_eq!(
        app.config().listen_backlog,
        None,
        "default: the system's maximum"
    );
    let listener = app.bind_listener("127.0.0.1:0").await.unwrap();
    // A connection that did not fit would wait out SYN retransmits forever (nothing accepts):
    // the deadline only bounds how long a failure takes to show.
    let (connected, _streams) = storm(addr_of(&listener), Duration::from_secs(20)).await;
    assert_eq!(connected, STORM);
    app.shutdown().await;
}

#[tokio::test]
async fn a_configured_backlog_is_the_one_listened_with() {
    let app = App::builder().listen_backlog(16).build().unwrap();
    let listener = app.bind_listener("127.0.0.1:0").await.unwrap();
    let (connected, _streams) = storm(addr_of(&listener), Duration::from_secs(2)).await;
    // Linux queues backlog + 1 connections; the rest are dropped at their SYN and never
    // complete while nothing accepts.
    assert!(
        (16..=32).contains(&connected),
        "{connected} connections completed with a backlog of 16"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn bind_tcp_resolves_names_and_reports_bind_errors() {
    let listener = nano_core::transport::bind_tcp("localhost:0", None)
        .await
        .unwrap();
    let taken = addr_of(&listener);
    let err = nano_core::transport::bind_tcp(taken, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}
