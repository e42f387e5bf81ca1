//! Closing a connection whose client has stopped reading, so that its socket is full: the last
//! writes (what is queued, the Kick) get `final_write_timeout`, then the connection is closed,
//! whether the app kicked the session, closed it, or is shutting down.
//!
//! Over in-memory pipes of 8 KiB with tokio's paused clock: time moves only when every task
//! waits, so "still open at 0.9 s, closed by 1.1 s" is exact, whatever the machine's load.

use std::time::Duration;

use nano_core::prelude::*;
use nano_core::protocol::PacketType;
use nano_tests::raw::RawConn;
use nano_tests::wait::wait_until;
use serde::Deserialize;
use tokio::io::DuplexStream;
use tokio::time::Instant;

/// What the pipe between a client and the server holds each way.
const PIPE: usize = 8 * 1024;
/// Pushes of 4 KiB a flood sends: far more than the pipe, the server's write buffer and the
/// send queue hold together.
const FLOOD: usize = 400;
/// A little less and a little more than a deadline, to check it is the deadline.
const MARGIN: Duration = Duration::from_millis(100);

/// How the session ends once its flood is queued.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Then {
    Kick,
    Close,
    Stay,
}

struct Feed;

#[component(name = "feed")]
impl Feed {
    /// Pushes [`FLOOD`] pushes of 4 KiB to the caller, then kicks it, closes it, or not.
    #[handler]
    fn flood(&self, session: &Session, then: Then) {
        let blob = "x".repeat(4096);
        for _ in 0..FLOOD {
            let _ = session.push("onBlob", &blob);
        }
        match then {
            Then::Kick => session.kick("flooded"),
            Then::Close => session.close(),
            Then::Stay => {}
        }
    }
}

fn app(final_write: Option<Duration>) -> App {
    let builder = App::builder().register(Feed).send_queue_capacity(32);
    let builder = match final_write {
        Some(timeout) => builder.final_write_timeout(timeout),
        None => builder,
    };
    builder.build().unwrap()
}

/// A client on a pipe to `app` that has done its handshake, asked for a flood and then reads
/// nothing; returns once the server has filled the pipe (its send queue overflowed).
async fn flooded_client(app: &App, then: &str) -> RawConn<DuplexStream> {
    let (client, server) = tokio::io::duplex(PIPE);
    app.serve_stream(server, None);
    let mut conn = RawConn::new(client);
    conn.handshake().await;
    conn.request(1, "feed.flood", &format!("\"{then}\"")).await;
    assert!(
        wait_until(Duration::from_secs(1), async || app
            .metrics()
            .pushes_dropped
            > 0)
        .await,
        "the server never filled the pipe: {:?}",
        app.metrics()
    );
    conn
}

/// Checks that `closed` becomes true `deadline` after `start`, and not before.
async fn closes_at(start: Instant, deadline: Duration, mut closed: impl AsyncFnMut() -> bool) {
    let before = deadline - MARGIN - start.elapsed();
    assert!(
        !wait_until(before, async || closed().await).await,
        "closed before the deadline, at {:?}",
        start.elapsed()
    );
    assert!(
        wait_until(2 * MARGIN, async || closed().await).await,
        "still open at {:?}, past the {deadline:?} deadline",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_kicked_session_whose_socket_is_full_is_closed_after_the_final_write_timeout() {
    let app = app(None);
    let start = Instant::now();
    let mut conn = flooded_client(&app, "kick").await;
    assert_eq!(app.config().final_write_timeout, Duration::from_secs(1));
    closes_at(start, Duration::from_secs(1), async || {
        app.metrics().sessions_open == 0
    })
    .await;
    assert_eq!(app.metrics().kicks, 1);

    // Reading at last, the client finds what fitted in the pipe, then the end: the Kick that did
    // not fit was abandoned with the rest.
    let packets = conn.until_closed().await;
    assert!(!packets.is_empty());
    assert!(
        packets.iter().all(|packet| packet.kind == PacketType::Data),
        "{:?}",
        packets.iter().map(|packet| packet.kind).collect::<Vec<_>>()
    );
    app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_session_closed_by_the_app_with_its_socket_full_is_closed_at_the_configured_timeout() {
    let app = app(Some(Duration::from_secs(3)));
    let start = Instant::now();
    let mut conn = flooded_client(&app, "close").await;
    closes_at(start, Duration::from_secs(3), async || {
        app.metrics().sessions_open == 0
    })
    .await;
    assert_eq!(app.metrics().kicks, 0, "a close is not a kick");
    conn.until_closed().await;
    app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_does_not_wait_for_a_client_whose_socket_is_full_beyond_the_final_write_timeout() {
    let app = app(None);
    let _conn = flooded_client(&app, "stay").await;
    let start = Instant::now();
    let shutdown = tokio::spawn({
        let app = app.clone();
        async move { app.shutdown().await }
    });
    // The session is kicked at once ("server shutting down"); its last writes get 1 s, far less
    // than the 10 s shutdown timeout.
    closes_at(start, Duration::from_secs(1), async || {
        shutdown.is_finished()
    })
    .await;
    assert_eq!(app.metrics().sessions_open, 0);
    assert_eq!(app.metrics().kicks, 1);
}
