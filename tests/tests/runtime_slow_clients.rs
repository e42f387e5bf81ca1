//! Clients that do not read: their pushes are dropped (or they are kicked), server memory
//! stays bounded, and everyone else is served as usual.

use std::time::{Duration, Instant};

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

    /// Floods every member with `count` pushes of 4 KiB, at the pace of a busy game loop
    /// (yielding to the runtime every few pushes so connections get to write).
    #[handler]
    async fn flood(&self, _session: &Session, count: usize) -> Value {
        let members = self.members.clone();
        let flood = tokio::spawn(async move {
            let blob = "x".repeat(4096);
            let (mut delivered, mut failed) = (0, 0);
            for n in 0..count {
                let report = members.broadcast("onBlob", &blob).unwrap();
                delivered += report.delivered;
                failed += report.failed;
                if n % 8 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            serde_json::json!({ "delivered": delivered, "failed": failed })
        });
        flood.await.unwrap()
    }

    #[handler]
    fn ping(&self, _session: &Session) -> &'static str {
        "pong"
    }
}

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
    let _: Value = reader.request("feed.join", &()).await.unwrap();
    let mut blobs = reader.subscribe("onBlob");

    // 2,000 pushes of 4 KiB (8 MB) to the sleeper: far beyond socket buffers plus 32 queued.
    let report: Value = reader.request("feed.flood", &2_000).await.unwrap();
    let failed = report["failed"].as_u64().unwrap();
    // Loopback socket buffers take a few MB before the queue fills; the rest is dropped.
    assert!(failed > 200, "{report}");
    assert_eq!(app.metrics().pushes_dropped, failed);

    // The reader got its share and is served with normal latency.
    let mut received = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(500), blobs.recv()).await {
        received += 1;
    }
    assert_eq!(received, 2_000, "the reader keeps up and loses nothing");
    let started = Instant::now();
    let pong: String = reader.request("feed.ping", &()).await.unwrap();
    assert_eq!(pong, "pong");
    assert!(started.elapsed() < Duration::from_secs(1));
    app.shutdown().await;
}

#[tokio::test]
async fn with_the_kick_policy_a_slow_consumer_is_kicked() {
    let (app, addr) = app(SlowConsumerPolicy::Kick).await;
    let mut sleeper = sleeper(&addr).await;
    let reader = Client::connect(&addr).await.unwrap();
    let _: Value = reader.request("feed.join", &()).await.unwrap();
    let flood = tokio::spawn({
        let reader = reader.clone();
        async move { reader.request::<_, Value>("feed.flood", &2_000).await }
    });
    // The server kicks the sleeper as soon as its queue is full, and gives it a moment to take
    // the Kick before closing: it reads from then on.
    assert!(
        wait_until(Duration::from_secs(10), async || app.metrics().kicks == 1).await,
        "the sleeper was not kicked: {:?}",
        app.metrics()
    );
    // The sleeper, reading at last, finds some pushes and then the Kick.
    let packets = sleeper.until_closed().await;
    let kick = packets.last().expect("packets");
    assert_eq!(kick.kind, nano_core::protocol::PacketType::Kick);
    assert_eq!(&kick.body[..], br#"{"reason":"slow consumer"}"#);
    assert_eq!(app.metrics().kicks, 1);
    flood.await.unwrap().unwrap();
    // The reader is untouched.
    assert_eq!(reader.close_reason(), None::<CloseReason>);
    let pong: String = reader.request("feed.ping", &()).await.unwrap();
    assert_eq!(pong, "pong");
    app.shutdown().await;
}
