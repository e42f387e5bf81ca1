//! A node's calls to other nodes, in-process on one NATS server: a call past the request
//! timeout fails with `ClusterError::Timeout` (RPC) or error 503 (a client's forwarded
//! request) and leaves the session bound to its node; `Cluster::shutdown` fails the calls
//! still waiting; a gate never forwards or calls for a closed session; calls made at once,
//! published in batches, each get their own answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use nano_client::{Client, ClientError, CloseReason};
use nano_cluster::{Cluster, ClusterConfig, ClusterError};
use nano_core::{App, AppBuilder, Pipeline, Session, testing};
use serde_json::Value;
use tokio::sync::Semaphore;

use nano_tests::nats::Nats;
use nano_tests::wait::wait_until;

/// How long a condition of these tests may take to come true.
const WITHIN: Duration = Duration::from_secs(20);

/// The request timeout of the calling nodes in the timeout test.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// A backend handler that holds its calls until the test lets them go, then answers with its
/// node's name.
struct Slow {
    node: String,
    go: Arc<Semaphore>,
    entered: Arc<AtomicUsize>,
}

#[nano_core::component(name = "slow")]
impl Slow {
    #[nano_core::handler]
    async fn call(&self, _session: &Session) -> String {
        self.entered.fetch_add(1, Ordering::SeqCst);
        let _permit = self.go.acquire().await.expect("the semaphore stays open");
        self.node.clone()
    }
}

/// A started node `name` (subjects under `prefix`, calls waiting at most `timeout`) running
/// `builder`'s app.
async fn node(
    nats: &Nats,
    prefix: &str,
    name: &str,
    timeout: Duration,
    builder: AppBuilder,
) -> (Cluster, App) {
    let config = ClusterConfig::new(nats.url(), name)
        .prefix(prefix)
        .request_timeout(timeout);
    let cluster = Cluster::connect(config).await.unwrap();
    let app = cluster.attach(builder).build().unwrap();
    cluster.start(&app).await.unwrap();
    (cluster, app)
}

/// A started node serving [`Slow`], and its count of calls entered.
struct SlowBackend {
    cluster: Cluster,
    app: App,
    entered: Arc<AtomicUsize>,
}

impl SlowBackend {
    async fn stop(&self) {
        self.app.shutdown().await;
        self.cluster.shutdown().await;
    }
}

/// Node `name` serving [`Slow`] behind `go`.
async fn slow_backend(nats: &Nats, prefix: &str, name: &str, go: &Arc<Semaphore>) -> SlowBackend {
    let entered = Arc::new(AtomicUsize::new(0));
    let slow = Slow {
        node: name.to_owned(),
        go: go.clone(),
        entered: entered.clone(),
    };
    let builder = App::builder().register(slow);
    let (cluster, app) = node(nats, prefix, name, Duration::from_secs(60), builder).await;
    SlowBackend {
        cluster,
        app,
        entered,
    }
}

/// Makes `cluster` choose among the candidates in turn, a new one at each choice: a session
/// that keeps its node was not asked about again.
fn choose_in_turn(cluster: &Cluster) -> Arc<AtomicUsize> {
    let choices = Arc::new(AtomicUsize::new(0));
    let counted = choices.clone();
    cluster.route_with(move |_session, _route, candidates| {
        let turn = counted.fetch_add(1, Ordering::SeqCst);
        candidates.get(turn % candidates.len().max(1)).cloned()
    });
    choices
}

/// Two slow backends and a started node calling them, which sees both.
struct TimeoutSetup {
    caller: Cluster,
    caller_app: App,
    /// How many times the caller's route function chose a node.
    choices: Arc<AtomicUsize>,
    go: Arc<Semaphore>,
    /// slow-1 and slow-2.
    backends: [SlowBackend; 2],
    _nats: Nats,
}

async fn timeout_setup(prefix: &str) -> TimeoutSetup {
    let nats = Nats::start();
    let go = Arc::new(Semaphore::new(0));
    let slow_1 = slow_backend(&nats, prefix, "slow-1", &go).await;
    let slow_2 = slow_backend(&nats, prefix, "slow-2", &go).await;
    let (caller, caller_app) = node(&nats, prefix, "gate-1", REQUEST_TIMEOUT, App::builder()).await;
    let choices = choose_in_turn(&caller);
    let both = wait_until(WITHIN, async || {
        caller
            .nodes()
            .values()
            .filter(|&&routes| routes > 0)
            .count()
            == 2
    })
    .await;
    assert!(both, "the caller did not see the routes of both backends");
    TimeoutSetup {
        caller,
        caller_app,
        choices,
        go,
        backends: [slow_1, slow_2],
        _nats: nats,
    }
}

impl TimeoutSetup {
    /// Lets every call go, and stops every node.
    async fn stop(self) {
        self.go.add_permits(1_000);
        self.caller_app.shutdown().await;
        self.caller.shutdown().await;
        for backend in &self.backends {
            backend.stop().await;
        }
    }

    /// Checks that the call timed out on slow-1 only (it chose first, in turn) and that the
    /// session stays bound there; then lets the calls go.
    async fn timed_out_on_slow_1(&self) {
        let entered = [0, 1].map(|i| self.backends[i].entered.load(Ordering::SeqCst));
        assert_eq!(entered, [1, 0], "the call reached slow-1 only");
        let stats = self.caller.stats();
        assert_eq!(
            (stats.pending_calls, stats.bound_sessions),
            (0, 1),
            "the call is forgotten, the session still bound"
        );
        self.go.add_permits(1_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rpc_past_the_request_timeout_fails_and_its_session_stays_bound() {
    let setup = timeout_setup("timeout-rpc").await;
    let session = testing::session();
    let first = setup
        .caller
        .rpc_with::<_, String>(&session, "slow.call", &())
        .await;
    assert!(
        matches!(&first, Err(ClusterError::Timeout(node)) if node == "slow-1"),
        "{first:?}"
    );
    setup.timed_out_on_slow_1().await;
    // The next call goes to the same node, without choosing again.
    let second = setup
        .caller
        .rpc_with::<_, String>(&session, "slow.call", &())
        .await;
    assert_eq!(second.unwrap(), "slow-1", "the session stayed on slow-1");
    assert_eq!(setup.choices.load(Ordering::SeqCst), 1, "chosen once");
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_request_past_the_request_timeout_gets_503_and_its_session_stays_bound() {
    let setup = timeout_setup("timeout-forward").await;
    let tcp = setup.caller_app.listen_tcp("127.0.0.1:0").await.unwrap();
    let client = Client::connect(&tcp.to_string()).await.unwrap();
    let first = client.request::<_, String>("slow.call", &()).await;
    assert!(
        matches!(&first, Err(ClientError::Server { code: 503, .. })),
        "{first:?}"
    );
    setup.timed_out_on_slow_1().await;
    let second: String = client.request("slow.call", &()).await.unwrap();
    assert_eq!(second, "slow-1", "the session stayed on slow-1");
    assert_eq!(setup.choices.load(Ordering::SeqCst), 1, "chosen once");
    client.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_fails_the_calls_still_waiting_with_stopped() {
    let nats = Nats::start();
    let go = Arc::new(Semaphore::new(0));
    let backend = slow_backend(&nats, "stopped", "slow-1", &go).await;
    // The caller would wait a minute for the answer.
    let minute = Duration::from_secs(60);
    let (caller, caller_app) = node(&nats, "stopped", "gate-1", minute, App::builder()).await;
    assert!(caller.wait_for_route("slow.call", WITHIN).await);
    let calling = caller.clone();
    let call = tokio::spawn(async move { calling.rpc::<_, String>("slow.call", &()).await });
    let waiting = wait_until(WITHIN, async || {
        backend.entered.load(Ordering::SeqCst) == 1 && caller.stats().pending_calls == 1
    })
    .await;
    assert!(waiting, "the call did not reach the backend");

    caller_app.shutdown().await;
    caller.shutdown().await;
    let failed = tokio::time::timeout(WITHIN, call).await;
    let result = failed.expect("the waiting call was not failed").unwrap();
    assert!(matches!(result, Err(ClusterError::Stopped)), "{result:?}");
    let stats = caller.stats();
    assert_eq!((stats.pending_calls, stats.tasks), (0, 0));

    go.add_permits(1);
    backend.stop().await;
}

/// A backend handler answering with its caller's session id.
struct Seen;

#[nano_core::component(name = "seen")]
impl Seen {
    #[nano_core::handler]
    fn hello(&self, session: &Session, _said: String) -> u64 {
        session.id()
    }
}

/// A gate handler keeping its caller's session, for the test to use after the client left.
struct Keep {
    kept: Arc<Mutex<Option<Session>>>,
}

#[nano_core::component(name = "keep")]
impl Keep {
    #[nano_core::handler]
    fn me(&self, session: &Session) {
        *self.kept.lock().unwrap() = Some(session.clone());
    }
}

/// An inbound stage kicking the session on a message saying `"leave"`, and passing the
/// message on: it reaches the router of a session already closing.
fn kick_on_leave() -> Pipeline {
    Pipeline::new().push_back(|session, message| {
        if &message.payload()[..] == br#""leave""# {
            session.kick("leaving");
        }
        Ok(())
    })
}

/// What a call on the NATS subject of a node carries: the session id and the payload.
fn call_of(frame: &[u8]) -> (u64, String) {
    let len = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&frame[4..4 + len]).unwrap();
    let payload = String::from_utf8(frame[4 + len..].to_vec()).unwrap();
    (header["session"]["id"].as_u64().unwrap(), payload)
}

/// Records every call published to `subject`, in order.
async fn spy(nats: &Nats, subject: &str) -> Arc<Mutex<Vec<(u64, String)>>> {
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut calls = client.subscribe(subject.to_owned()).await.unwrap();
    client.flush().await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        let _client = client;
        while let Some(message) = calls.next().await {
            record.lock().unwrap().push(call_of(&message.payload));
        }
    });
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_never_forwards_or_calls_for_a_closed_session() {
    let nats = Nats::start();
    let timeout = Duration::from_secs(5);
    let seen_builder = App::builder().register(Seen);
    let (backend, backend_app) = node(&nats, "closed", "seen-1", timeout, seen_builder).await;
    let calls = spy(&nats, "closed.node.seen-1.call").await;
    let kept = Arc::new(Mutex::new(None));
    let gate_builder = App::builder()
        .register(Keep { kept: kept.clone() })
        .inbound(kick_on_leave());
    let (gate, gate_app) = node(&nats, "closed", "gate-1", timeout, gate_builder).await;
    assert!(gate.wait_for_route("seen.hello", WITHIN).await);
    let tcp = gate_app
        .listen_tcp("127.0.0.1:0")
        .await
        .unwrap()
        .to_string();

    let ann = Client::connect(&tcp).await.unwrap();
    ann.request::<_, Value>("keep.me", &()).await.unwrap();
    let ann_id: u64 = ann.request("seen.hello", &"hi").await.unwrap();
    // Kicked by the inbound stage before its message is routed: no answer, no call.
    let left = ann.request::<_, u64>("seen.hello", &"leave").await;
    assert!(matches!(left, Err(ClientError::Closed(_))), "{left:?}");
    let reason = tokio::time::timeout(WITHIN, ann.closed()).await.unwrap();
    assert_eq!(
        reason,
        CloseReason::Kicked {
            reason: "leaving".to_owned()
        }
    );
    let ann_session = kept.lock().unwrap().clone().expect("keep.me kept it");
    assert!(ann_session.is_closed());
    let late = gate
        .rpc_with::<_, u64>(&ann_session, "seen.hello", &"late")
        .await;
    assert!(
        matches!(late, Err(ClusterError::SessionClosed(id)) if id == ann_id),
        "{late:?}"
    );

    // The gate publishes its calls in order: once bob's is seen, any call for ann's closed
    // session would have been seen before it.
    let bob = Client::connect(&tcp).await.unwrap();
    let bob_id: u64 = bob.request("seen.hello", &"barrier").await.unwrap();
    let barrier = wait_until(WITHIN, async || calls.lock().unwrap().len() >= 2).await;
    assert!(barrier, "the spy did not see bob's call");
    let expected = vec![
        (ann_id, r#""hi""#.to_owned()),
        (bob_id, r#""barrier""#.to_owned()),
    ];
    assert_eq!(*calls.lock().unwrap(), expected);

    bob.close().await;
    for (cluster, app) in [(&gate, &gate_app), (&backend, &backend_app)] {
        app.shutdown().await;
        cluster.shutdown().await;
    }
}

/// A backend handler answering with twice its number.
struct Double;

#[nano_core::component(name = "double")]
impl Double {
    #[nano_core::handler]
    fn of(&self, _session: &Session, n: i64) -> i64 {
        2 * n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_made_at_once_are_published_together_and_each_gets_its_own_answer() {
    // Calls are handed to NATS in batches: many made at once (from several tasks, and from
    // one task at once) must each be published once and matched with their own answer.
    let nats = Nats::start();
    let prefix = "batched";
    let builder = App::builder().register(Double);
    let (backend, backend_app) = node(&nats, prefix, "double-1", WITHIN, builder).await;
    let (caller, caller_app) = node(&nats, prefix, "gate-1", WITHIN, App::builder()).await;
    let learned = wait_until(WITHIN, async || {
        caller
            .nodes()
            .get("double-1")
            .is_some_and(|&routes| routes > 0)
    })
    .await;
    assert!(learned, "the caller did not learn the backend's routes");
    let tasks: Vec<_> = (0..8_i64)
        .map(|task| {
            let caller = caller.clone();
            tokio::spawn(async move {
                let calls = (0..100).map(|i| {
                    let n = task * 1_000 + i;
                    let caller = &caller;
                    async move { (n, caller.rpc::<_, i64>("double.of", &n).await) }
                });
                futures_util::future::join_all(calls).await
            })
        })
        .collect();
    let mut answered = 0;
    for task in tasks {
        for (n, doubled) in task.await.unwrap() {
            assert_eq!(doubled.unwrap(), 2 * n, "the answer to call {n}");
            answered += 1;
        }
    }
    assert_eq!(answered, 800);
    assert_eq!(caller.stats().pending_calls, 0, "no call left waiting");
    caller_app.shutdown().await;
    caller.shutdown().await;
    backend_app.shutdown().await;
    backend.shutdown().await;
}
