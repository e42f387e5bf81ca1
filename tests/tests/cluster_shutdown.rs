//! A node's shutdown: calls from other nodes in flight finish (or are cancelled and answered
//! once the request timeout is over), stand-ins end, and no task of the node outlives
//! `Cluster::shutdown`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nano_cluster::async_nats;
use nano_cluster::{Cluster, ClusterConfig, ClusterError};
use nano_core::protocol::{Message, Route};
use nano_core::{App, Session, testing};
use tokio::sync::Semaphore;

use nano_tests::nats::Nats;
use nano_tests::wait::wait_until;

/// How long a condition of these tests may take to come true.
const WITHIN: Duration = Duration::from_secs(10);

/// How long the nodes wait before dropping a silent peer: far longer than [`WITHIN`], so that
/// a node the others forget within [`WITHIN`] has left, not gone silent.
const DEAD_AFTER: Duration = Duration::from_secs(60);

/// A backend whose handler pushes to its caller, then holds the call until the test lets it
/// go; counts the stand-ins that ended.
struct Work {
    go: Arc<Semaphore>,
    closed: Arc<AtomicUsize>,
}

#[nano_core::component(name = "work")]
impl Work {
    #[nano_core::handler]
    async fn hold(&self, session: &Session, n: u64) -> u64 {
        let closed = self.closed.clone();
        session.on_close(move |_| {
            closed.fetch_add(1, Ordering::SeqCst);
        });
        session
            .push("onStarted", &n)
            .expect("the caller's session takes the push");
        let _permit = self.go.acquire().await;
        n
    }
}

struct Nodes {
    backend: Cluster,
    backend_app: App,
    caller: Cluster,
    caller_app: App,
    go: Arc<Semaphore>,
    closed: Arc<AtomicUsize>,
}

/// A backend serving `work.hold` (waiting at most `grace` for its calls when it stops) and
/// a node calling it, both started.
async fn nodes(nats: &Nats, prefix: &str, grace: Duration) -> Nodes {
    let (go, closed) = (Arc::new(Semaphore::new(0)), Arc::new(AtomicUsize::new(0)));
    let config = |node: &str| {
        ClusterConfig::new(nats.url(), node)
            .prefix(prefix)
            .dead_after(DEAD_AFTER)
    };
    // A relay queue of one: the push and the answer still go out in order.
    let backend = Cluster::connect(config("work-1").request_timeout(grace).relay_queue(1))
        .await
        .unwrap();
    let work = Work {
        go: go.clone(),
        closed: closed.clone(),
    };
    let backend_app = backend
        .attach(App::builder().register(work))
        .build()
        .unwrap();
    backend.start(&backend_app).await.unwrap();
    let caller = Cluster::connect(config("caller-1").request_timeout(Duration::from_secs(60)))
        .await
        .unwrap();
    let caller_app = caller.attach(App::builder()).build().unwrap();
    caller.start(&caller_app).await.unwrap();
    assert!(
        caller
            .wait_for_route("work.hold", Duration::from_secs(10))
            .await
    );
    Nodes {
        backend,
        backend_app,
        caller,
        caller_app,
        go,
        closed,
    }
}

type Call = tokio::task::JoinHandle<Result<u64, ClusterError>>;

/// Calls `work.hold` for `session` (a client of the caller) and waits until the handler holds
/// the call; returns the call and what the client got meanwhile.
async fn hold_a_call(nodes: &Nodes, session: &Session) -> (Call, Vec<Message>) {
    let (caller, on_behalf) = (nodes.caller.clone(), session.clone());
    let call =
        tokio::spawn(async move { caller.rpc_with::<_, u64>(&on_behalf, "work.hold", &7).await });
    let mut got = Vec::new();
    let pushed = wait_until(WITHIN, async || {
        got.extend(testing::sent(session));
        !got.is_empty()
    })
    .await;
    assert!(pushed, "the handler pushed");
    (call, got)
}

/// Whether `messages` is the one push `work.hold` sends.
fn is_started_push(messages: &[Message]) -> bool {
    matches!(
        messages,
        [Message::Push { route: Route::Name(route), payload }]
            if route.as_str() == "onStarted" && &payload[..] == b"7"
    )
}

/// An event frame as nodes send them: `[header length: u32 big-endian][header JSON]`.
fn event(session: u64, kind: &str, name: &str) -> bytes::Bytes {
    let header = serde_json::json!({ "session": session, "kind": kind, "name": name }).to_string();
    let mut frame = u32::try_from(header.len()).unwrap().to_be_bytes().to_vec();
    frame.extend_from_slice(header.as_bytes());
    frame.into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_flight_finish_and_no_task_outlives_shutdown() {
    let nats = Nats::start();
    let nodes = nodes(&nats, "finish", Duration::from_secs(60)).await;
    let session = testing::session();
    let (call, _) = hold_a_call(&nodes, &session).await;
    let stats = nodes.backend.stats();
    assert!(stats.tasks > 0 && stats.stand_ins == 1, "{stats:?}");

    let (backend, backend_app) = (nodes.backend.clone(), nodes.backend_app.clone());
    let stopping = tokio::spawn(async move {
        backend_app.shutdown().await;
        backend.shutdown().await;
        backend.stats()
    });
    let caller = nodes.caller.clone();
    // Its goodbye: the drop for silence would take DEAD_AFTER.
    let left = wait_until(WITHIN, async || caller.nodes().is_empty()).await;
    assert!(left, "the backend did not leave within {WITHIN:?}");
    assert!(!stopping.is_finished(), "the backend waits for its call");
    nodes.go.add_permits(1);

    assert_eq!(call.await.unwrap().unwrap(), 7, "the call finished");
    let stats = stopping.await.unwrap();
    assert_eq!((stats.tasks, stats.stand_ins), (0, 0));
    assert_eq!(nodes.closed.load(Ordering::SeqCst), 1, "the stand-in ended");
    assert!(matches!(
        nodes.backend.start(&nodes.backend_app).await,
        Err(ClusterError::Stopped)
    ));

    nodes.caller_app.shutdown().await;
    nodes.caller.shutdown().await;
    assert_eq!(nodes.caller.stats().tasks, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_still_running_after_the_request_timeout_are_cancelled_and_answered() {
    let nats = Nats::start();
    let nodes = nodes(&nats, "cancel", Duration::from_millis(200)).await;
    let session = testing::session();
    let (call, got) = hold_a_call(&nodes, &session).await;
    assert!(is_started_push(&got), "{got:?}");

    // The handler never gets to go on.
    nodes.backend_app.shutdown().await;
    nodes.backend.shutdown().await;
    let stats = nodes.backend.stats();
    assert_eq!((stats.tasks, stats.stand_ins), (0, 0));
    assert_eq!(nodes.closed.load(Ordering::SeqCst), 1, "the stand-in ended");
    // Answered at once (the caller would wait a minute for a lost answer), through the
    // stand-in's relay before it ended.
    assert!(matches!(
        call.await.unwrap(),
        Err(ClusterError::Remote { code: 503, message }) if message == "node shutting down"
    ));

    nodes.caller_app.shutdown().await;
    nodes.caller.shutdown().await;
    assert_eq!(nodes.caller.stats().tasks, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_kinds_unknown_to_this_version_are_ignored() {
    let nats = Nats::start();
    let nodes = nodes(&nats, "unknown", Duration::from_secs(60)).await;
    let session = testing::session();
    let (call, _) = hold_a_call(&nodes, &session).await;
    let raw = async_nats::connect(nats.url()).await.unwrap();
    let confirm = |frame| {
        let raw = raw.clone();
        async move {
            let reply = raw.request("unknown.node.caller-1.in.event", frame).await;
            String::from_utf8(reply.unwrap().payload.to_vec()).unwrap()
        }
    };

    let ignored = confirm(event(session.id(), "teleport", "mars")).await;
    assert_eq!(ignored, "", "applied as nothing to do");
    assert!(!session.is_closed());
    // The inbox goes on with the next event.
    let refused = confirm(event(session.id(), "leave", "nowhere")).await;
    assert!(!refused.is_empty(), "not a member of `nowhere`");

    nodes.go.add_permits(1);
    assert_eq!(call.await.unwrap().unwrap(), 7);
    for (cluster, app) in [
        (&nodes.backend, &nodes.backend_app),
        (&nodes.caller, &nodes.caller_app),
    ] {
        app.shutdown().await;
        cluster.shutdown().await;
    }
}

/// Starts a node, then makes NATS unreachable with `cut`, and checks that the node still
/// shuts down (its goodbye is given up after the request timeout).
async fn shuts_down_without_nats(prefix: &str, cut: impl FnOnce(Nats) -> Option<Nats>) {
    let nats = Nats::start();
    let config = ClusterConfig::new(nats.url(), "lonely-1")
        .prefix(prefix)
        .request_timeout(Duration::from_millis(500));
    let cluster = Cluster::connect(config).await.unwrap();
    let app = cluster.attach(App::builder()).build().unwrap();
    cluster.start(&app).await.unwrap();
    let _frozen = cut(nats);
    app.shutdown().await;
    let shutdown = tokio::time::timeout(Duration::from_secs(20), cluster.shutdown()).await;
    assert!(shutdown.is_ok(), "Cluster::shutdown waited for NATS");
    assert_eq!(cluster.stats().tasks, 0);
}

#[tokio::test]
async fn a_node_shuts_down_when_nats_is_gone_or_frozen() {
    shuts_down_without_nats("gone", |nats| {
        drop(nats);
        None
    })
    .await;
    shuts_down_without_nats("frozen", |nats| {
        nats.freeze();
        Some(nats)
    })
    .await;
}
