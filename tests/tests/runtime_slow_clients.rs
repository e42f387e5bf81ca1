//! Clients that do not read: their pushes are dropped (or they are kicked), server memory
//! stays bounded, and everyone else is served as usual.

use std::time::Duration;

use nano_client::{Client, ClientBuilder, CloseReason};
use nano_core::SlowConsumerPolicy;
use nano_core::prelude::*;
use nano_tests::raw::RawConn;
use nano_tests::wait::wait_until;
use serde_json::Value;

#[derive(Default)]
struct Feed {
    members: Group,
}

#[component(name = "feed")]
impl Feed {
    #[handler]
    fn join(&self, session: &Session) -> Result<(), HandlerError> {
        self.members.add(session)?;
        Ok(())
    }

    /// Pushes 4 KiB blobs to every member until one push is refused (at most `limit`
    /// rounds), and returns how many rounds went out before. However much the loopback
    /// buffers of this machine hold, a member that never reads fills them and its queue.
    /// (It pushes from a task of its own, so that the caller's connection goes on writing.)
    #[handler]
    async fn fill(&self, _session: &Session, limit: usize) -> Result<usize, HandlerError> {
        let members = self.members.clone();
        let fill = tokio::spawn(async move {
            let blob = "x".repeat(4096);
            for round in 0..limit {
                if members.broadcast("onBlob", &blob)?.failed > 0 {
                    return Ok(round);
                }
                if round % 8 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            Err(HandlerError::internal("no push was refused"))
        });
        fill.await
            .map_err(|err| HandlerError::internal(err.to_string()))?
    }

    /// Broadcasts `count` 4 KiB blobs, from a task of its own like `fill`, and reports the
    /// deliveries.
    #[handler]
    async fn flood(&self, _session: &Session, count: usize) -> Result<Value, HandlerError> {
        let members = self.members.clone();
        let flood = tokio::spawn(async move {
            let blob = "x".repeat(4096);
            let (mut delivered, mut failed) = (0, 0);
            for n in 0..count {
                let report = members.broadcast("onBlob", &blob)?;
                delivered += report.delivered;
                failed += report.failed;
                if n % 8 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            Ok(serde_json::json!({ "delivered": delivered, "failed": failed }))
        });
        flood
            .await
            .map_err(|err| HandlerError::internal(err.to_string()))?
    }

    #[handler]
    fn ping(&self, _session: &Session) -> &'static str {
        "pong"
    }

    /// Pushes to the caller, then answers: with a send queue of one, the response leaves the
    /// queue full when the handler returns.
    #[handler]
    fn push_then_answer(&self, session: &Session) -> Result<&'static str, HandlerError> {
        session.push("onPushed", "first")?;
        Ok("answered")
    }
}

/// Far more than any loopback buffers hold (64 MB of blobs).
const FILL_LIMIT: usize = 16_384;

async fn app(policy: SlowConsumerPolicy) -> (App, String) {
    let app = App::builder()
        .register(Feed::default())
        .send_queue_capacity(32)
        .slow_consumer(policy)
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    (app, addr)
}

/// A client that joins and then never reads again.
async fn sleeper(addr: &str) -> RawConn<tokio::net::TcpStream> {
    let mut conn = RawConn::tcp(addr).await;
    conn.handshake().await;
    conn.request(1, "feed.join", "null").await;
    conn.recv_message().await;
    conn
}

#[tokio::test]
async fn pushes_to_a_client_that_never_reads_are_dropped_and_counted() {
    let (app, addr) = app(SlowConsumerPolicy::Drop).await;
    let _sleeper = sleeper(&addr).await;
    let reader = ClientBuilder::new()
        .push_buffer(4096)
        .connect(&addr)
        .await
        .unwrap();
    // Fill the sleeper's socket buffers and queue (the reader has not joined yet).
    let rounds: usize = reader.request("feed.fill", &FILL_LIMIT).await.unwrap();
    assert_eq!(
        app.metrics().pushes_dropped,
        1,
        "{rounds} rounds before the first drop"
    );

    // From now on every push to the sleeper is dropped and counted, and the reader gets all
    // of its own.
    let joined: Value = reader.request("feed.join", &()).await.unwrap();
    assert_eq!(joined, serde_json::json!({}));
    let mut blobs = reader.subscribe("onBlob");
    let report: Value = reader.request("feed.flood", &2_000).await.unwrap();
    assert_eq!(
        report,
        serde_json::json!({ "delivered": 2_000, "failed": 2_000 })
    );
    assert_eq!(app.metrics().pushes_dropped, 1 + 2_000);
    for n in 0..2_000 {
        let blob = tokio::time::timeout(Duration::from_secs(10), blobs.recv()).await;
        assert!(
            matches!(blob, Ok(Some(_))),
            "the reader lost blob {n}: {blob:?}"
        );
    }
    assert_eq!(blobs.dropped(), 0, "the reader keeps up and loses nothing");
    // And it is served as usual.
    let pong: String = reader.request("feed.ping", &()).await.unwrap();
    assert_eq!(pong, "pong");
    app.shutdown().await;
}

#[tokio::test]
async fn with_the_kick_policy_a_slow_consumer_is_kicked() {
    let (app, addr) = app(SlowConsumerPolicy::Kick).await;
    let mut sleeper = sleeper(&addr).await;
    let reader = Client::connect(&addr).await.unwrap();
    let joined: Value = reader.request("feed.join", &()).await.unwrap();
    assert_eq!(joined, serde_json::json!({}));
    // The first refused push is the sleeper's: its queue is full, and it is kicked.
    let rounds: usize = reader.request("feed.fill", &FILL_LIMIT).await.unwrap();
    assert!(
        wait_until(Duration::from_secs(10), async || app.metrics().kicks == 1).await,
        "the sleeper was not kicked after {rounds} rounds: {:?}",
        app.metrics()
    );
    // The server gives the sleeper a moment to take the Kick before closing: reading at last,
    // it finds some pushes and then the Kick.
    let packets = sleeper.until_closed().await;
    let kick = packets.last().expect("packets");
    assert_eq!(kick.kind, nano_core::protocol::PacketType::Kick);
    assert_eq!(&kick.body[..], br#"{"reason":"slow consumer"}"#);
    assert_eq!(app.metrics().kicks, 1);
    // The reader is untouched.
    assert_eq!(reader.close_reason(), None::<CloseReason>);
    let pong: String = reader.request("feed.ping", &()).await.unwrap();
    assert_eq!(pong, "pong");
    app.shutdown().await;
}

/// A connection that stopped reading because its queue was full reads again once its writes
/// drained the queue, without waiting for a timer (heartbeats are off here, so nothing else
/// would wake it).
#[tokio::test]
async fn reading_resumes_as_soon_as_a_full_queue_is_written() {
    let app = App::builder()
        .register(Feed::default())
        .send_queue_capacity(1)
        .heartbeat_interval(Duration::ZERO)
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let mut conn = RawConn::tcp(&addr).await;
    conn.handshake().await;
    for id in 1..=3 {
        conn.request(id, "feed.push_then_answer", "null").await;
        let (push, response) = tokio::time::timeout(Duration::from_secs(5), async {
            (conn.recv_message().await, conn.recv_message().await)
        })
        .await
        .expect("the request after a full queue was never read");
        assert!(
            matches!(push, nano_core::protocol::Message::Push { .. }),
            "{push:?}"
        );
        assert!(
            matches!(response, nano_core::protocol::Message::Response { id: got, .. } if got == id),
            "{response:?}"
        );
    }
    app.shutdown().await;
}
