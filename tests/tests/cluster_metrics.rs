//! A cluster node's Prometheus metrics, on one real NATS server: a gate counts the calls it
//! forwards by node and outcome (an answer, a timeout) with the latency of the answered ones,
//! and both nodes export what `Cluster::stats` counts (nodes seen, stand-ins, calls waiting)
//! as gauges in the app's own scrape.

use std::sync::Arc;
use std::time::Duration;

use nano_client::{Client, ClientError};
use nano_cluster::{Cluster, ClusterConfig};
use nano_core::{App, AppBuilder, Session};
use tokio::sync::Semaphore;

use nano_tests::nats::Nats;
use nano_tests::wait::wait_until;

/// How long a condition of these tests may take to come true.
const WITHIN: Duration = Duration::from_secs(20);

/// A backend component: `fast` answers at once, `hang` waits until the test lets it go.
struct Work {
    go: Arc<Semaphore>,
}

#[nano_core::component(name = "work")]
impl Work {
    #[nano_core::handler]
    fn fast(&self, _session: &Session) -> u32 {
        7
    }

    #[nano_core::handler]
    async fn hang(&self, _session: &Session) -> u32 {
        let _permit = self.go.acquire().await.expect("the semaphore stays open");
        8
    }
}

/// A started node `name` whose calls wait at most `timeout`, running `builder`'s app.
async fn node(nats: &Nats, name: &str, timeout: Duration, builder: AppBuilder) -> (Cluster, App) {
    let config = ClusterConfig::new(nats.url(), name)
        .prefix("metrics")
        .request_timeout(timeout);
    let cluster = Cluster::connect(config).await.unwrap();
    let app = cluster.attach(builder).build().unwrap();
    cluster.start(&app).await.unwrap();
    (cluster, app)
}

/// The value of the sample named exactly `sample` (name and labels) in `text`.
fn sample(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_counts_forwarded_calls_by_node_and_outcome() {
    let nats = Nats::start();
    let go = Arc::new(Semaphore::new(0));
    let work = Work { go: go.clone() };
    let long = Duration::from_secs(60);
    let (backend, backend_app) = node(&nats, "work-1", long, App::builder().register(work)).await;
    let timeout = Duration::from_secs(1);
    let (gate, gate_app) = node(&nats, "gate-1", timeout, App::builder()).await;
    assert!(gate.wait_for_route("work.hang", WITHIN).await);
    let tcp = gate_app.listen_tcp("127.0.0.1:0").await.unwrap();
    let client = Client::connect(&tcp.to_string()).await.unwrap();

    assert_eq!(client.request::<_, u32>("work.fast", &()).await.unwrap(), 7);
    assert_eq!(client.request::<_, u32>("work.fast", &()).await.unwrap(), 7);
    let late = client.request::<_, u32>("work.hang", &()).await;
    assert!(
        matches!(late, Err(ClientError::Server { code: 503, .. })),
        "{late:?}"
    );

    let text = gate_app.encode_metrics();
    let calls = |outcome: &str| {
        let name = format!(r#"nano_cluster_calls_total{{node="work-1",outcome="{outcome}"}}"#);
        sample(&text, &name)
    };
    assert_eq!(calls("ok"), Some(2.0), "{text}");
    assert_eq!(calls("timeout"), Some(1.0), "{text}");
    let answered = r#"nano_cluster_call_duration_seconds_count{node="work-1"}"#;
    assert_eq!(sample(&text, answered), Some(2.0), "{text}");
    assert_eq!(sample(&text, "nano_cluster_peers"), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "nano_cluster_pending_calls"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "nano_cluster_bound_sessions"),
        Some(1.0),
        "{text}"
    );
    // The app's own metrics are in the same scrape.
    assert!(text.contains("nano_sessions_open 1"), "{text}");

    // The backend holds a stand-in for the client while it is connected, and none after.
    let stand_ins = || sample(&backend_app.encode_metrics(), "nano_cluster_stand_ins");
    assert_eq!(stand_ins(), Some(1.0));
    client.close().await;
    assert!(wait_until(WITHIN, async || stand_ins() == Some(0.0)).await);

    go.add_permits(1_000);
    for (cluster, app) in [(gate, gate_app), (backend, backend_app)] {
        app.shutdown().await;
        cluster.shutdown().await;
    }
}
