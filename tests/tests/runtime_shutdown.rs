//! Graceful shutdown: in-flight requests are answered, clients are kicked with a reason, hooks
//! run in order, and stragglers are cut off at the deadline.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nano_client::{Client, ClientBuilder, CloseReason};
use nano_core::prelude::*;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Handlers that count their calls and wait: `work` until the test releases it, `forever`
/// for ever.
#[derive(Default)]
struct Slow {
    entered: Arc<AtomicUsize>,
    all_in: Arc<Notify>,
    expected: usize,
    release: CancellationToken,
}

impl Slow {
    fn enter(&self) {
        if self.entered.fetch_add(1, Ordering::SeqCst) + 1 == self.expected {
            self.all_in.notify_one();
        }
    }
}

#[component(name = "slow")]
impl Slow {
    #[handler]
    async fn work(&self, _session: &Session, n: u64) -> u64 {
        self.enter();
        self.release.cancelled().await;
        n * 2
    }

    #[handler]
    async fn forever(&self, _session: &Session) {
        self.enter();
        std::future::pending::<()>().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_accepted_before_shutdown_gets_its_response() {
    const CLIENTS: usize = 40;
    let all_in = Arc::new(Notify::new());
    let release = CancellationToken::new();
    let app = App::builder()
        .register(Slow {
            all_in: all_in.clone(),
            expected: CLIENTS,
            release: release.clone(),
            ..Slow::default()
        })
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(Client::connect(&addr).await.unwrap());
    }
    let mut requests = Vec::new();
    for (n, client) in clients.iter().enumerate() {
        let client = client.clone();
        requests.push(tokio::spawn(async move {
            client.request::<_, u64>("slow.work", &(n as u64)).await
        }));
    }
    // Every handler is running: shut down now, and let the handlers finish only once the
    // shutdown has started.
    all_in.notified().await;
    let shutdown = tokio::spawn({
        let app = app.clone();
        async move { app.shutdown().await }
    });
    app.accepting_stopped().await;
    release.cancel();
    for (n, request) in requests.into_iter().enumerate() {
        assert_eq!(request.await.unwrap().unwrap(), n as u64 * 2, "request {n}");
    }
    for client in &clients {
        assert_eq!(
            client.closed().await,
            CloseReason::Kicked {
                reason: "server shutting down".into()
            }
        );
    }
    shutdown.await.unwrap();
    // Nobody gets in after shutdown.
    let late = ClientBuilder::new()
        .connect_timeout(Duration::from_millis(500))
        .connect(&addr)
        .await;
    assert!(late.is_err());
    assert_eq!(app.metrics().sessions_open, 0);
}

#[tokio::test]
async fn a_handler_that_never_finishes_is_cut_off_at_the_deadline() {
    let all_in = Arc::new(Notify::new());
    let app = App::builder()
        .register(Slow {
            all_in: all_in.clone(),
            expected: 1,
            ..Slow::default()
        })
        .shutdown_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let client = Client::connect(&addr).await.unwrap();
    let stuck = {
        let client = client.clone();
        tokio::spawn(async move { client.request::<_, ()>("slow.forever", &()).await })
    };
    // The handler is running: shut down now.
    all_in.notified().await;
    // Without the deadline the shutdown would wait for the handler forever; the bound only
    // turns that into a failure instead of a hang.
    let shutdown = tokio::time::timeout(Duration::from_secs(30), app.shutdown()).await;
    assert!(
        shutdown.is_ok(),
        "the shutdown waited for a handler that never ends"
    );
    assert!(stuck.await.unwrap().is_err());
    assert_eq!(client.closed().await, CloseReason::ServerClosed);
}

type Log = Arc<Mutex<Vec<String>>>;

macro_rules! hooked {
    ($name:ident, $route:literal) => {
        struct $name(Log);

        #[component(name = $route)]
        impl $name {
            #[handler]
            fn ping(&self, _session: &Session) {}
        }

        impl Lifecycle for $name {
            fn init(&mut self, _ctx: &Context<Self>) {
                self.0.lock().unwrap().push(format!("init {}", $route));
            }
            fn after_init(&mut self, _ctx: &Context<Self>) {
                self.0
                    .lock()
                    .unwrap()
                    .push(format!("after_init {}", $route));
            }
            fn before_shutdown(&self) {
                self.0
                    .lock()
                    .unwrap()
                    .push(format!("before_shutdown {}", $route));
            }
            fn shutdown(&self) {
                self.0.lock().unwrap().push(format!("shutdown {}", $route));
            }
        }
    };
}

hooked!(First, "first");
hooked!(Second, "second");

struct ActorHooks(Log);

#[component(name = "actor")]
impl ActorHooks {
    #[handler]
    fn ping(&mut self, _session: &Session) {}
}

impl Lifecycle for ActorHooks {
    fn init(&mut self, ctx: &Context<Self>) {
        assert!(ctx.actor().is_some());
        self.0.lock().unwrap().push("init actor".into());
    }
    fn before_shutdown(&self) {
        self.0.lock().unwrap().push("before_shutdown actor".into());
    }
    fn shutdown(&self) {
        self.0.lock().unwrap().push("shutdown actor".into());
    }
}

#[tokio::test]
async fn lifecycle_hooks_run_in_order() {
    let log: Log = Arc::default();
    let app = App::builder()
        .register(First(log.clone()))
        .register(ActorHooks(log.clone()))
        .register(Second(log.clone()))
        .build()
        .unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        [
            "init first",
            "init actor",
            "init second",
            "after_init first",
            "after_init second"
        ]
    );
    log.lock().unwrap().clear();
    app.shutdown().await;
    assert_eq!(
        *log.lock().unwrap(),
        [
            "before_shutdown second",
            "before_shutdown actor",
            "before_shutdown first",
            "shutdown second",
            "shutdown actor",
            "shutdown first"
        ]
    );
}

#[tokio::test]
async fn a_shutdown_handle_and_with_graceful_shutdown() {
    let app = App::builder()
        .register(First(Log::default()))
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let client = Client::connect(&addr).await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn({
        let app = app.clone();
        async move {
            app.with_graceful_shutdown(async { stop_rx.await.unwrap_or(()) })
                .await;
        }
    });
    stop_tx.send(()).unwrap();
    serving.await.unwrap();
    assert_eq!(
        client.closed().await,
        CloseReason::Kicked {
            reason: "server shutting down".into()
        }
    );
    // A second shutdown returns at once.
    app.shutdown_handle().shutdown().await;
    app.closed().await;
}
