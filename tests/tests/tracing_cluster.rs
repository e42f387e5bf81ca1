//! Spans across a cluster, in-process over a real NATS server: a backend's handler logs inside
//! its message span and its stand-in session's span (the client's session id and uid); and
//! with OpenTelemetry, a client's request forwarded from a gate to a backend yields the gate's
//! message span and the backend's in one trace, the backend's a child of the gate's (the W3C
//! trace context travels in the call's NATS headers), and so does an RPC a gate's handler
//! makes. Spans are collected by an in-memory exporter, no collector.

use std::time::Duration;

use nano_client::Client;
use nano_cluster::{Cluster, ClusterConfig};
use nano_core::AppBuilder;
use nano_core::otel::OtlpExporter;
use nano_core::otel::opentelemetry::Value;
use nano_core::prelude::*;
use nano_tests::nats::Nats;
use nano_tests::spans::Captured;
use nano_tests::wait::wait_until;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing::Level;
use tracing_subscriber::layer::SubscriberExt;

/// How long a condition of these tests may take to come true.
const WITHIN: Duration = Duration::from_secs(20);

/// The backend's component.
struct Echo;

#[component(name = "echo")]
impl Echo {
    /// Answers its payload, after an await.
    #[handler]
    async fn say(&self, _session: &Session, text: String) -> String {
        tokio::task::yield_now().await;
        text
    }

    /// Logs after an await; answers the session's id.
    #[handler]
    async fn who(&self, session: &Session) -> u64 {
        tokio::task::yield_now().await;
        tracing::info!("on the backend");
        session.id()
    }
}

/// The gate's component.
struct Login;

#[component(name = "login")]
impl Login {
    /// Binds the session to `uid`; answers the session's id.
    #[handler]
    fn login(&self, session: &Session, uid: i64) -> Result<u64, HandlerError> {
        session.bind(uid)?;
        Ok(session.id())
    }
}

/// A gate's component calling the backend by RPC.
struct Relay {
    cluster: Cluster,
}

#[component(name = "relay")]
impl Relay {
    /// Answers what `echo.say` answers for `text`.
    #[handler]
    async fn ask(&self, session: &Session, text: String) -> Result<String, HandlerError> {
        let answer = self.cluster.rpc_with(session, "echo.say", &text).await;
        answer.map_err(|err| HandlerError::internal(err.to_string()))
    }
}

/// Spans go to `exporter` on this thread until the guard drops.
fn export_to(exporter: &InMemorySpanExporter) -> tracing::subscriber::DefaultGuard {
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let otel = OtlpExporter::from_provider(provider);
    tracing::subscriber::set_default(tracing_subscriber::registry().with(otel.layer()))
}

/// A started node `name` (subjects under `prefix`) running `builder`'s app.
async fn node(nats: &Nats, prefix: &str, name: &str, builder: AppBuilder) -> (Cluster, App) {
    let config = ClusterConfig::new(nats.url(), name).prefix(prefix);
    let cluster = Cluster::connect(config).await.unwrap();
    let app = cluster.attach(builder).build().unwrap();
    cluster.start(&app).await.unwrap();
    (cluster, app)
}

/// The string attribute `key` of `span`.
fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    let found = span.attributes.iter().find(|kv| kv.key.as_str() == key);
    found.map(|kv| &kv.value)
}

/// The exported `message` span of `route` whose `forwarded` attribute is `forwarded`.
fn message(exporter: &InMemorySpanExporter, route: &str, forwarded: bool) -> Option<SpanData> {
    let spans = exporter.get_finished_spans().unwrap();
    spans.into_iter().find(|span| {
        span.name == "message"
            && attribute(span, "route").map(Value::as_str).as_deref() == Some(route)
            && attribute(span, "forwarded") == Some(&Value::Bool(forwarded))
    })
}

#[tokio::test]
async fn a_forwarded_request_is_one_trace_from_the_gate_to_the_backend() {
    let exporter = InMemorySpanExporter::default();
    let _guard = export_to(&exporter);

    let nats = Nats::start();
    let (backend, backend_app) =
        node(&nats, "otel", "backend-1", App::builder().register(Echo)).await;
    let (gate, gate_app) = node(&nats, "otel", "gate-1", App::builder()).await;
    assert!(gate.wait_for_route("echo.say", WITHIN).await);
    let addr = gate_app.listen_tcp("127.0.0.1:0").await.unwrap();
    let client = Client::connect(&addr.to_string()).await.unwrap();
    let answer: String = client.request("echo.say", &"hello").await.unwrap();
    assert_eq!(answer, "hello");

    let both = async || {
        message(&exporter, "echo.say", true).is_some()
            && message(&exporter, "echo.say", false).is_some()
    };
    assert!(
        wait_until(WITHIN, both).await,
        "{:#?}",
        exporter.get_finished_spans()
    );
    let on_gate = message(&exporter, "echo.say", true).unwrap();
    let on_backend = message(&exporter, "echo.say", false).unwrap();
    assert_eq!(
        on_backend.span_context.trace_id(),
        on_gate.span_context.trace_id()
    );
    assert_eq!(on_backend.parent_span_id, on_gate.span_context.span_id());
    assert_eq!(attribute(&on_backend, "code"), Some(&Value::I64(200)));

    for (cluster, app) in [(gate, gate_app), (backend, backend_app)] {
        app.shutdown().await;
        cluster.shutdown().await;
    }
}

#[tokio::test]
async fn a_backend_handler_logs_inside_its_message_span_and_its_stand_in_session_span() {
    let (captured, _guard) = Captured::install(Level::INFO);
    let nats = Nats::start();
    let (backend, backend_app) =
        node(&nats, "spans", "backend-1", App::builder().register(Echo)).await;
    let (gate, gate_app) = node(&nats, "spans", "gate-1", App::builder().register(Login)).await;
    assert!(gate.wait_for_route("echo.who", WITHIN).await);
    let addr = gate_app.listen_tcp("127.0.0.1:0").await.unwrap();
    let client = Client::connect(&addr.to_string()).await.unwrap();
    let id: u64 = client.request("login.login", &7).await.unwrap();
    let seen: u64 = client.request("echo.who", &()).await.unwrap();
    assert_eq!(seen, id);

    let events = captured.events("on the backend");
    assert_eq!(events.len(), 1, "{events:?}");
    let fields = &events[0].fields;
    let field = |name: &str| fields.get(name).map(String::as_str);
    assert_eq!(field("message.route"), Some("echo.who"));
    assert_eq!(field("message.mid"), Some("2"));
    assert_eq!(field("session.id"), Some(id.to_string().as_str()));
    assert_eq!(field("session.uid"), Some("7"));
    assert_eq!(field("session.transport"), Some("remote"));

    for (cluster, app) in [(gate, gate_app), (backend, backend_app)] {
        app.shutdown().await;
        cluster.shutdown().await;
    }
}

#[tokio::test]
async fn an_rpc_from_a_handler_is_in_the_trace_of_the_handler_s_message() {
    let exporter = InMemorySpanExporter::default();
    let _guard = export_to(&exporter);
    let nats = Nats::start();
    let backend_builder = App::builder().register(Echo);
    let (backend, backend_app) = node(&nats, "rpc", "backend-1", backend_builder).await;
    let config = ClusterConfig::new(nats.url(), "gate-1").prefix("rpc");
    let gate = Cluster::connect(config).await.unwrap();
    let relay = Relay {
        cluster: gate.clone(),
    };
    let gate_app = gate.attach(App::builder().register(relay)).build().unwrap();
    gate.start(&gate_app).await.unwrap();
    assert!(gate.wait_for_route("echo.say", WITHIN).await);
    let addr = gate_app.listen_tcp("127.0.0.1:0").await.unwrap();
    let client = Client::connect(&addr.to_string()).await.unwrap();
    let answer: String = client.request("relay.ask", &"hi").await.unwrap();
    assert_eq!(answer, "hi");

    let both = async || {
        message(&exporter, "relay.ask", false).is_some()
            && message(&exporter, "echo.say", false).is_some()
    };
    assert!(
        wait_until(WITHIN, both).await,
        "{:#?}",
        exporter.get_finished_spans()
    );
    let caller = message(&exporter, "relay.ask", false).unwrap();
    let called = message(&exporter, "echo.say", false).unwrap();
    assert_eq!(
        called.span_context.trace_id(),
        caller.span_context.trace_id()
    );
    assert_eq!(called.parent_span_id, caller.span_context.span_id());

    for (cluster, app) in [(gate, gate_app), (backend, backend_app)] {
        app.shutdown().await;
        cluster.shutdown().await;
    }
}
