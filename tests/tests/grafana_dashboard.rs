//! The committed Grafana dashboard (docs/grafana/nano-rs.json) queries only metrics an app
//! exports: after a little traffic of every kind the panels show (sessions, an error, a kick,
//! a refused handshake, a group, a call forwarded by a cluster gate), every `nano_*` name in
//! its queries is a family of the scrapes, so a renamed metric breaks this test instead of
//! leaving an empty panel.

use std::collections::BTreeSet;
use std::time::Duration;

use nano_client::Client;
use nano_core::prelude::*;
use nano_core::protocol::HandshakeRequest;
use nano_tests::wait::wait_until;
use serde_json::{Value, json};

struct Lobby {
    room: Group,
}

#[component(name = "lobby")]
impl Lobby {
    #[handler]
    fn join(&self, session: &Session) -> Result<(), HandlerError> {
        self.room.add(session)?;
        Ok(())
    }

    #[handler]
    fn fail(&self, _session: &Session) -> Result<(), HandlerError> {
        Err(HandlerError::new(4000, "no"))
    }

    #[handler]
    fn leave(&self, session: &Session) {
        session.kick("bye");
    }
}

/// An app that refuses handshakes with `{"deny": true}`, with a client of each kind: one in a
/// group that got an error, one kicked, one refused.
async fn app_with_traffic() -> (App, Client) {
    let app = App::builder()
        .register(Lobby {
            room: Group::new("room"),
        })
        .handshake_validator(|handshake: HandshakeRequest, _session| async move {
            match handshake.user.get("deny") {
                Some(_) => Err(HandshakeRejection::refused()),
                None => Ok(()),
            }
        })
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let member = Client::connect(&addr).await.unwrap();
    member.request::<_, Value>("lobby.join", &()).await.unwrap();
    assert!(member.request::<_, Value>("lobby.fail", &()).await.is_err());
    let leaver = Client::connect(&addr).await.unwrap();
    leaver.notify("lobby.leave", &()).await.unwrap();
    let denied = Client::builder()
        .handshake_user(json!({ "deny": true }))
        .connect(&addr)
        .await;
    assert!(denied.is_err(), "the handshake is refused");
    (app, member)
}

/// The scrape of a cluster gate (on a real NATS server) that forwarded a request to a
/// backend serving [`Lobby`].
async fn cluster_gate_scrape() -> String {
    let nats = nano_tests::nats::Nats::start();
    let node = async |name: &str, builder: nano_core::AppBuilder| {
        let config = nano_cluster::ClusterConfig::new(nats.url(), name).prefix("dashboard");
        let cluster = nano_cluster::Cluster::connect(config).await.unwrap();
        let app = cluster.attach(builder).build().unwrap();
        cluster.start(&app).await.unwrap();
        (cluster, app)
    };
    let lobby = Lobby {
        room: Group::new("room"),
    };
    let backend = node("lobby-1", App::builder().register(lobby)).await;
    let gate = node("gate-1", App::builder()).await;
    assert!(
        gate.0
            .wait_for_route("lobby.join", Duration::from_secs(20))
            .await
    );
    let addr = gate.1.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let client = Client::connect(&addr).await.unwrap();
    client.request::<_, Value>("lobby.join", &()).await.unwrap();
    let text = gate.1.encode_metrics();
    client.close().await;
    for (cluster, app) in [gate, backend] {
        app.shutdown().await;
        cluster.shutdown().await;
    }
    text
}

/// Every query (`expr`) of the dashboard's panels.
fn queries(dashboard: &Value) -> Vec<String> {
    let panels = dashboard["panels"].as_array().expect("panels");
    panels
        .iter()
        .flat_map(|panel| panel["targets"].as_array().cloned().unwrap_or_default())
        .map(|target| target["expr"].as_str().expect("expr").to_owned())
        .collect()
}

/// The metric names (`nano_...`) a query reads.
fn metric_names(query: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = query;
    while let Some(start) = rest.find("nano_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// The family a sample name belongs to: a counter's `_total`, a histogram's `_bucket`,
/// `_sum` and `_count` are suffixes of the family named in `# TYPE`.
fn family_of(name: &str) -> &str {
    ["_total", "_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_dashboard_queries_is_exported() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/grafana/nano-rs.json");
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("dashboard file"))
            .expect("the dashboard is JSON");
    let (app, _member) = app_with_traffic().await;
    let kicked = async || app.encode_metrics().contains("nano_kicks_total");
    assert!(wait_until(Duration::from_secs(10), kicked).await);
    let text = app.encode_metrics() + &cluster_gate_scrape().await;
    let families: BTreeSet<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|line| line.split_whitespace().next())
        .collect();

    let queries = queries(&dashboard);
    assert!(queries.len() >= 10, "{} queries", queries.len());
    let mut missing = BTreeSet::new();
    for query in &queries {
        let names = metric_names(query);
        assert!(!names.is_empty(), "a query reads no nano metric: {query}");
        for name in names {
            if !families.contains(family_of(&name)) {
                missing.insert(name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics no app exports: {missing:?}\nexported: {families:?}"
    );
}
