//! Session resume in cluster mode, in-process on one NATS server: a client of a gate with resume
//! on, bound to a backend, is cut off and comes back through the same gate, or through another
//! one (relayed to the first over NATS). Its stand-in on the backend lives on (same session,
//! synced values), what the backend pushed while the client was away is replayed in order, and
//! the backend learns of a departure only when the session ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nano_client::{ClientBuilder, ClientError, ConnectionEvent, Reconnect};
use nano_cluster::{Cluster, ClusterConfig};
use nano_core::prelude::*;
use nano_core::{App, AppBuilder, ResumeConfig};
use nano_tests::nats::Nats;
use nano_tests::proxy::CutProxy;
use nano_tests::wait::wait_until;
use serde_json::{Value, json};

const WITHIN: Duration = Duration::from_secs(20);

/// A backend component: binds a synced value, answers who the caller is, pushes later.
struct Ledger;

#[component(name = "ledger")]
impl Ledger {
    #[handler]
    fn open(&self, session: &Session, level: u32) -> Result<u64, HandlerError> {
        session
            .set_synced("level", &level)
            .map_err(|err| HandlerError::internal(err.to_string()))?;
        Ok(session.id())
    }

    #[handler]
    fn whoami(&self, session: &Session) -> Value {
        json!({ "session": session.id(), "level": session.get_synced::<u32>("level") })
    }

    /// Pushes `onEntry` 1, 2, 3 after `ms` milliseconds.
    #[handler]
    fn later(&self, session: &Session, ms: u64) {
        let session = session.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            for n in 1..=3u32 {
                let _ = session.push("onEntry", &n);
            }
        });
    }
}

async fn node(nats: &Nats, prefix: &str, name: &str, builder: AppBuilder) -> (Cluster, App) {
    let cluster = Cluster::connect(ClusterConfig::new(nats.url(), name).prefix(prefix))
        .await
        .unwrap();
    let app = cluster.attach(builder).build().unwrap();
    cluster.start(&app).await.unwrap();
    (cluster, app)
}

/// A backend serving [`Ledger`] under `prefix`, counting the departures it hears of.
async fn ledger(nats: &Nats, prefix: &str) -> (Cluster, App, Arc<AtomicUsize>) {
    let departures = Arc::new(AtomicUsize::new(0));
    let counted = departures.clone();
    let builder = App::builder().register(Ledger).on_session_closed(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    let (cluster, app) = node(nats, prefix, "ledger-1", builder).await;
    (cluster, app, departures)
}

/// A gate with resume on under `prefix`, behind a proxy that cuts.
async fn gate(nats: &Nats, prefix: &str, name: &str) -> (Cluster, App, CutProxy) {
    let builder = App::builder().resume(ResumeConfig::default().grace(Duration::from_secs(2)));
    let (cluster, app) = node(nats, prefix, name, builder).await;
    assert!(cluster.wait_for_route("ledger.open", WITHIN).await);
    let proxy = CutProxy::start(app.listen_tcp("127.0.0.1:0").await.unwrap()).await;
    (cluster, app, proxy)
}

/// A client dialing `addrs` in turn (the last one once the others are used), reconnecting
/// after 100 ms; it opens its ledger at `level` and asks for three pushes 300 ms later, and
/// the first proxy cuts it off meanwhile.
async fn cut_off_client(addrs: Vec<std::net::SocketAddr>, first: &CutProxy, level: u32) -> Cut {
    let mut dials = 0;
    let dial = move || {
        let addr = addrs[dials.min(addrs.len() - 1)];
        dials += 1;
        async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            Ok::<_, ClientError>(nano_core::transport::framed(stream, 65_536))
        }
    };
    let policy = Reconnect::new()
        .base_delay(Duration::from_millis(100))
        .jitter(0.0);
    let client = ClientBuilder::new()
        .reconnect(policy)
        .connect_with(dial)
        .await
        .unwrap();
    let events = client.events();
    let entries = client.subscribe("onEntry");
    let id: u64 = client.request("ledger.open", &level).await.unwrap();
    assert_eq!(client.session_id(), Some(id));
    client.notify("ledger.later", &300).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    first.cut_all();
    Cut {
        client,
        events,
        entries,
        id,
    }
}

/// A client that was cut off, what it listens to, and its session.
struct Cut {
    client: nano_client::Client,
    events: nano_client::Events,
    entries: nano_client::Pushes,
    id: u64,
}

impl Cut {
    /// Whether the next reconnect resumed.
    async fn resumed(&mut self) -> bool {
        let resumed = async {
            loop {
                if let Some(ConnectionEvent::Reconnected { resumed, .. }) = self.events.recv().await
                {
                    return resumed;
                }
            }
        };
        tokio::time::timeout(WITHIN, resumed).await.unwrap()
    }

    /// Waits for the pushes `want`, in order.
    async fn entries(&mut self, want: impl IntoIterator<Item = u32>) {
        for want in want {
            let entry = tokio::time::timeout(WITHIN, self.entries.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(entry.decode::<u32>().unwrap(), want);
        }
    }

    /// The same session, its synced value kept, the gap's pushes replayed, later ones
    /// delivered.
    async fn check_resumed(&mut self, level: u32, departures: &AtomicUsize) {
        assert!(self.resumed().await, "resumed");
        assert_eq!(self.client.session_id(), Some(self.id));
        self.entries(1..=3).await;
        let me: Value = self.client.request("ledger.whoami", &()).await.unwrap();
        assert_eq!(me, json!({ "session": self.id, "level": level }));
        assert_eq!(
            departures.load(Ordering::SeqCst),
            0,
            "the stand-in lived on"
        );
        self.client.notify("ledger.later", &0).await.unwrap();
        self.entries(1..=3).await;
    }
}

#[tokio::test]
async fn a_client_back_through_another_gate_is_relayed_to_its_session() {
    let nats = Nats::start();
    let prefix = "resume2";
    let (_backend, _backend_app, departures) = ledger(&nats, prefix).await;
    let (_gate_1, _app_1, first) = gate(&nats, prefix, "gate-1").await;
    let (_gate_2, app_2, second) = gate(&nats, prefix, "gate-2").await;
    let mut cut = cut_off_client(vec![first.addr(), second.addr()], &first, 4).await;
    cut.check_resumed(4, &departures).await;
    assert!(
        app_2.session(cut.id).is_none(),
        "the session stays on gate-1"
    );
}

#[tokio::test]
async fn a_client_back_through_its_gate_keeps_its_backend_session_and_the_pushes_of_the_gap() {
    let nats = Nats::start();
    let prefix = "resume";
    let (_backend, _backend_app, departures) = ledger(&nats, prefix).await;
    let (_gate, _app, proxy) = gate(&nats, prefix, "gate-1").await;
    let mut cut = cut_off_client(vec![proxy.addr()], &proxy, 9).await;
    cut.check_resumed(9, &departures).await;

    // A client that closes looks like one that dropped: the backend hears of the departure
    // when the grace window ends.
    cut.client.close().await;
    assert!(wait_until(WITHIN, async || departures.load(Ordering::SeqCst) == 1).await);
}
