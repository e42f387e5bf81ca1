//! Dispatch over real TCP: many sessions at once, per-session order, pipelining, panics,
//! actors, invoke, pipelines, serializers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use nano_client::{Client, ClientBuilder, ClientError};
use nano_core::prelude::*;
use nano_core::protocol::{Message, Route};
use nano_core::{Pipeline, Serializer};
use nano_tests::raw::RawConn;
use nano_tests::wait::wait_until;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Default)]
struct Echo;

#[component(name = "echo")]
impl Echo {
    #[handler]
    fn echo(&self, _session: &Session, body: Value) -> Value {
        body
    }

    #[handler]
    fn boom(&self, _session: &Session) -> u32 {
        panic!("boom")
    }

    #[handler]
    async fn async_boom(&self, _session: &Session) -> u32 {
        tokio::task::yield_now().await;
        panic!("async boom")
    }

    #[handler]
    fn whoami(&self, session: &Session) -> Value {
        json!({ "id": session.id(), "tag": session.get::<String>("tag") })
    }
}

async fn echo_app() -> (App, String) {
    let app = App::builder().register(Echo).build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    (app, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_sessions_each_doing_requests() {
    // 1,000 client sockets and the server's 1,000, with the other tests of this file alongside.
    nano_tests::limits::raise_open_files(2_500);
    let (app, addr) = echo_app().await;
    let mut tasks = tokio::task::JoinSet::new();
    for client_id in 0..1_000u64 {
        let addr = addr.clone();
        tasks.spawn(async move {
            let client = Client::connect(&addr).await.unwrap();
            for n in 0..5u64 {
                let answer: Value = client
                    .request("echo.echo", &json!({ "c": client_id, "n": n }))
                    .await
                    .unwrap();
                assert_eq!(answer, json!({ "c": client_id, "n": n }));
            }
            client.close().await;
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap();
    }
    assert_eq!(app.metrics().messages_in, 5_000);
    app.shutdown().await;
}

/// Per session: the sequence numbers in the order a handler saw them.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<HashMap<u64, Vec<u64>>>>);

struct Ordered {
    record: Recorder,
}

#[component(name = "ordered")]
impl Ordered {
    /// Yields a varying number of times, so that a runtime that ran one session's messages
    /// concurrently would reorder them.
    #[handler]
    async fn seq(&self, session: &Session, n: u64) -> u64 {
        for _ in 0..(n % 4) {
            tokio::task::yield_now().await;
        }
        self.record
            .0
            .lock()
            .unwrap()
            .entry(session.id())
            .or_default()
            .push(n);
        n
    }

    #[handler]
    async fn note(&self, session: &Session, n: u64) {
        tokio::task::yield_now().await;
        self.record
            .0
            .lock()
            .unwrap()
            .entry(session.id())
            .or_default()
            .push(n);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_of_one_session_are_handled_in_order_under_load() {
    let record = Recorder::default();
    let app = App::builder()
        .register(Ordered {
            record: record.clone(),
        })
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let addr = addr.clone();
        tasks.spawn(async move {
            let client = Client::connect(&addr).await.unwrap();
            // Fire notifies and requests without waiting for each other.
            let mut pending = Vec::new();
            for n in 0..200u64 {
                if n % 2 == 0 {
                    client.notify("ordered.note", &n).await.unwrap();
                } else {
                    let client = client.clone();
                    pending.push(tokio::spawn(async move {
                        client.request::<_, u64>("ordered.seq", &n).await
                    }));
                }
            }
            for request in pending {
                request.await.unwrap().unwrap();
            }
            client.close().await;
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap();
    }
    {
        let record = record.0.lock().unwrap();
        assert_eq!(record.len(), 50);
        for seen in record.values() {
            assert_eq!(seen.len(), 200);
            // Notifies were sent in order from one task (requests from spawned tasks may leave
            // the client in any order): they must be handled in that order.
            let notes: Vec<u64> = seen.iter().copied().filter(|n| n % 2 == 0).collect();
            assert_eq!(notes, (0..200).filter(|n| n % 2 == 0).collect::<Vec<_>>());
        }
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_thousand_pipelined_requests_are_all_answered_in_order() {
    let record = Recorder::default();
    let app = App::builder()
        .register(Ordered {
            record: record.clone(),
        })
        .send_queue_capacity(16) // far fewer than the requests in flight
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let mut conn = RawConn::tcp(addr).await;
    conn.handshake().await;
    for id in 1..=1_000u64 {
        conn.request(id, "ordered.seq", &id.to_string()).await;
    }
    for id in 1..=1_000u64 {
        let Message::Response {
            id: got, payload, ..
        } = conn.recv_message().await
        else {
            panic!()
        };
        assert_eq!(got, id);
        assert_eq!(payload, Bytes::from(id.to_string()));
    }
    {
        let record = record.0.lock().unwrap();
        let seen = record.values().next().unwrap();
        assert_eq!(*seen, (1..=1_000).collect::<Vec<_>>());
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_panicking_handler_gets_a_500_and_the_server_lives_on() {
    let (app, addr) = echo_app().await;
    let client = Client::connect(&addr).await.unwrap();
    for route in ["echo.boom", "echo.async_boom"] {
        let err = client
            .request::<_, Value>(route, &json!({}))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ClientError::Server { code: 500, message } if message.contains(route)),
            "{err}"
        );
    }
    // The same connection, and a new one, are still served.
    let answer: Value = client.request("echo.echo", &json!(1)).await.unwrap();
    assert_eq!(answer, json!(1));
    let other = Client::connect(&addr).await.unwrap();
    let answer: Value = other.request("echo.echo", &json!(2)).await.unwrap();
    assert_eq!(answer, json!(2));
    app.shutdown().await;
}

#[derive(Default)]
struct Bank {
    balance: i64,
    log: Vec<i64>,
}

#[component(name = "bank")]
impl Bank {
    /// Not atomic at all without the actor: read, yield, write.
    #[handler]
    async fn deposit(&mut self, _session: &Session, amount: i64) -> i64 {
        let before = self.balance;
        tokio::task::yield_now().await;
        self.balance = before + amount;
        self.log.push(amount);
        self.balance
    }

    #[handler]
    fn balance(&self, _session: &Session) -> i64 {
        self.balance
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actor_components_run_one_handler_at_a_time() {
    let app = App::builder().register(Bank::default()).build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let addr = addr.clone();
        tasks.spawn(async move {
            let client = Client::connect(&addr).await.unwrap();
            for _ in 0..50 {
                client.request::<_, i64>("bank.deposit", &1).await.unwrap();
            }
        });
    }
    // Invoke from a spawned task, meanwhile.
    let bank = app.actor::<Bank>().expect("Bank is an actor");
    let invoker = tokio::spawn(async move {
        for _ in 0..100 {
            bank.invoke(|bank| bank.balance += 10).await.unwrap();
        }
    });
    while let Some(result) = tasks.join_next().await {
        result.unwrap();
    }
    invoker.await.unwrap();
    // Every deposit was logged once, and `call` returns what the closure computed.
    let bank = app.actor::<Bank>().unwrap();
    let log = bank.call(|bank| bank.log.clone()).await.unwrap();
    assert_eq!(log, vec![1; 20 * 50]);
    let client = Client::connect(&addr).await.unwrap();
    let balance: i64 = client.request("bank.balance", &()).await.unwrap();
    assert_eq!(balance, 20 * 50 + 100 * 10);
    assert!(app.actor::<Ordered>().is_none());
    app.shutdown().await;
}

/// The inbound stages, in the order they run: `echo.legacy` rewritten to `echo.echo` (pushed
/// to the front, last), every message counted in `calls`, and `echo.whoami` refused with 401
/// before a login.
fn inbound_pipeline(calls: Arc<AtomicU64>) -> Pipeline {
    Pipeline::new()
        .push_back(move |_session, _message| {
            calls.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })
        .push_back(|session, message| {
            let route = message.route().map(ToString::to_string).unwrap_or_default();
            if route == "echo.whoami" && session.uid().is_none() {
                return Err(HandlerError::new(401, "log in first"));
            }
            Ok(())
        })
        .push_front(|_session, message| {
            // Runs first: upgrade old clients' route.
            if let Some(Route::Name(name)) = message.route()
                && name.as_str() == "echo.legacy"
                && let Message::Request { route, .. } | Message::Notify { route, .. } = message
            {
                *route = Route::from("echo.echo");
            }
            Ok(())
        })
}

/// The outbound stage: a response of `"secret"` goes out as `"[redacted]"`.
fn redacting_pipeline() -> Pipeline {
    Pipeline::new().push_back(|_session, message| {
        if let Message::Response { payload, .. } = message
            && payload.as_ref() == b"\"secret\""
        {
            *payload = Bytes::from_static(b"\"[redacted]\"");
        }
        Ok(())
    })
}

#[tokio::test]
async fn pipelines_can_reject_and_rewrite() {
    let calls = Arc::new(AtomicU64::new(0));
    let app = App::builder()
        .register(Echo)
        .inbound(inbound_pipeline(calls.clone()))
        .outbound(redacting_pipeline())
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let client = Client::connect(&addr).await.unwrap();

    let err = client
        .request::<_, Value>("echo.whoami", &())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Server { code: 401, .. }),
        "{err}"
    );
    let answer: Value = client.request("echo.legacy", &json!("old")).await.unwrap();
    assert_eq!(answer, json!("old"));
    let answer: Value = client.request("echo.echo", &json!("secret")).await.unwrap();
    assert_eq!(answer, json!("[redacted]"));
    assert_eq!(calls.load(Ordering::Relaxed), 3);
    app.shutdown().await;
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Point {
    x: i32,
    y: i32,
}

struct Geo;

#[component(name = "geo")]
impl Geo {
    #[handler]
    fn mirror(&self, session: &Session, p: Point) -> Point {
        session.push("onMirror", &Point { x: p.y, y: p.x }).unwrap();
        Point { x: -p.x, y: -p.y }
    }
}

#[tokio::test]
async fn message_pack_end_to_end() {
    let app = App::builder()
        .register(Geo)
        .serializer(Serializer::MessagePack)
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let client = Client::connect(&addr).await.unwrap();
    assert_eq!(client.serializer(), &Serializer::MessagePack);
    let mut mirrored = client.subscribe("onMirror");
    let answer: Point = client
        .request("geo.mirror", &Point { x: 1, y: 2 })
        .await
        .unwrap();
    assert_eq!(answer, Point { x: -1, y: -2 });
    assert_eq!(
        mirrored.recv().await.unwrap().decode::<Point>().unwrap(),
        Point { x: 2, y: 1 }
    );
    app.shutdown().await;
}

#[tokio::test]
async fn two_apps_in_one_process_do_not_share_state() {
    let first = App::builder().register(Echo).build().unwrap();
    let second = App::builder().register(Geo).build().unwrap();
    let a = first.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let b = second.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let on_a = Client::connect(&a).await.unwrap();
    let on_b = Client::connect(&b).await.unwrap();
    let answer: Value = on_a.request("echo.echo", &1).await.unwrap();
    assert_eq!(answer, json!(1));
    let err = on_b.request::<_, Value>("echo.echo", &1).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Server { code: 404, .. }),
        "{err}"
    );
    // Session ids are per app: both first sessions are number 1.
    let who: Value = on_a.request("echo.whoami", &()).await.unwrap();
    assert_eq!(who["id"], 1);
    assert_eq!(first.metrics().sessions_total, 1);
    assert_eq!(second.metrics().sessions_total, 1);
    first.shutdown().await;
    // The second app still serves after the first shut down.
    let answer: Point = on_b
        .request("geo.mirror", &Point { x: 3, y: 4 })
        .await
        .unwrap();
    assert_eq!(answer, Point { x: -3, y: -4 });
    second.shutdown().await;
}

#[tokio::test]
async fn serve_stream_takes_a_connection_the_embedder_accepted() {
    let app = App::builder().register(Echo).build().unwrap();
    let (client_side, server_side) = tokio::io::duplex(4096);
    app.serve_stream(server_side, None);
    let client = ClientBuilder::new()
        .connect_transport(nano_core::transport::framed(client_side, 65_536))
        .await
        .unwrap();
    let answer: Value = client
        .request("echo.echo", &json!({"via": "duplex"}))
        .await
        .unwrap();
    assert_eq!(answer, json!({"via": "duplex"}));
    app.shutdown().await;
}

#[tokio::test]
async fn connections_beyond_max_connections_are_refused() {
    let app = App::builder()
        .register(Echo)
        .max_connections(3)
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(Client::connect(&addr).await.unwrap());
    }
    let refused = ClientBuilder::new()
        .connect_timeout(Duration::from_secs(2))
        .connect(&addr)
        .await;
    assert!(refused.is_err(), "a fourth connection was served");
    assert_eq!(app.metrics().connections_refused, 1);
    // The held sessions are fine.
    for client in &held {
        let answer: Value = client.request("echo.echo", &1).await.unwrap();
        assert_eq!(answer, json!(1));
    }
    // A slot frees up when one leaves.
    held.pop().unwrap().close().await;
    assert!(
        wait_until(Duration::from_secs(5), async || {
            app.metrics().sessions_open == 2
        })
        .await,
        "the server did not notice the leave: {:?}",
        app.metrics()
    );
    let again = Client::connect(&addr).await.unwrap();
    let answer: Value = again.request("echo.echo", &1).await.unwrap();
    assert_eq!(answer, json!(1));
    app.shutdown().await;
}

/// A custom payload format: JSON behind a one-byte version tag.
struct Tagged;

impl nano_core::PayloadFormat for Tagged {
    fn name(&self) -> &str {
        "tagged-json"
    }

    fn encode(&self, value: &Value) -> Result<Bytes, nano_core::BoxError> {
        let mut out = vec![b'T'];
        serde_json::to_writer(&mut out, value)?;
        Ok(out.into())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Value, nano_core::BoxError> {
        match bytes.split_first() {
            Some((b'T', json)) => Ok(serde_json::from_slice(json)?),
            _ => Err("untagged payload".into()),
        }
    }
}

#[tokio::test]
async fn a_custom_serializer_end_to_end() {
    let format = Serializer::custom(Tagged);
    let app = App::builder()
        .register(Geo)
        .serializer(format.clone())
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let client = ClientBuilder::new()
        .serializer(format)
        .connect(&addr)
        .await
        .unwrap();
    assert_eq!(
        client
            .handshake()
            .sys
            .as_ref()
            .unwrap()
            .serializer
            .as_deref(),
        Some("tagged-json")
    );
    let answer: Point = client
        .request("geo.mirror", &Point { x: 5, y: 6 })
        .await
        .unwrap();
    assert_eq!(answer, Point { x: -5, y: -6 });
    // Plain JSON is refused by the format: a 400, not a crash.
    let raw = client
        .request_raw("geo.mirror", &br#"{"x":1,"y":2}"#[..])
        .await
        .unwrap_err();
    assert!(
        matches!(raw, ClientError::Server { code: 400, .. }),
        "{raw}"
    );
    app.shutdown().await;
}
