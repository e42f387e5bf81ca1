//! Prometheus metrics over real sockets: what a few clients do shows up in the text the
//! standalone metrics listener serves (requests, errors by code, latency histograms, sessions
//! by transport and close reason, kicks by reason, pushes, bytes), other paths and methods
//! are refused, and an app with metrics off serves an empty text.

use std::time::Duration;

use nano_client::{Client, ClientError};
use nano_core::prelude::*;
use nano_tests::wait::wait_until;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Shop;

#[component(name = "shop")]
impl Shop {
    #[handler]
    fn buy(&self, session: &Session, gold: u32) -> Result<u32, HandlerError> {
        if gold < 10 {
            return Err(HandlerError::new(4001, "not enough gold"));
        }
        session.push("onBought", &json!({ "left": gold - 10 }))?;
        Ok(gold - 10)
    }

    #[handler]
    fn browse(&self, _session: &Session, _shelf: Value) {}

    #[handler]
    fn leave(&self, session: &Session) {
        session.kick("come back tomorrow");
    }
}

/// Status line and body of `method path` on the metrics listener.
async fn http(addr: std::net::SocketAddr, method: &str, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The value of the sample named exactly `sample` (name and labels) in `text`.
fn sample(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
}

#[tokio::test]
async fn what_clients_do_is_in_the_scraped_metrics() {
    let app = App::builder().register(Shop).build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let metrics = nano_ws::listen_metrics(&app, "127.0.0.1:0").await.unwrap();
    let buyer = Client::connect(&addr.to_string()).await.unwrap();
    for gold in [50, 20, 10] {
        let _: u32 = buyer.request("shop.buy", &gold).await.unwrap();
    }
    let refused = buyer.request::<_, u32>("shop.buy", &3).await;
    assert!(
        matches!(refused, Err(ClientError::Server { code: 4001, .. })),
        "{refused:?}"
    );
    buyer
        .notify("shop.browse", &json!({ "shelf": 2 }))
        .await
        .unwrap();
    let leaver = Client::connect(&addr.to_string()).await.unwrap();
    leaver.notify("shop.leave", &()).await.unwrap();

    let text = |_: ()| async { http(metrics, "GET", "/metrics").await.1 };
    let kicked = r#"nano_kicks_total{reason="app"}"#;
    assert!(
        wait_until(Duration::from_secs(10), async || sample(
            &text(()).await,
            kicked
        ) == Some(1.0))
        .await,
        "{}",
        text(()).await
    );
    let text = text(()).await;
    let expect = |name: &str, value: f64| {
        assert_eq!(sample(&text, name), Some(value), "{name} in\n{text}");
    };
    expect(
        r#"nano_requests_total{route="shop.buy",kind="request"}"#,
        4.0,
    );
    expect(
        r#"nano_requests_total{route="shop.browse",kind="notify"}"#,
        1.0,
    );
    expect(
        r#"nano_request_errors_total{route="shop.buy",code="4001"}"#,
        1.0,
    );
    expect(
        r#"nano_request_duration_seconds_count{route="shop.buy",kind="request"}"#,
        4.0,
    );
    expect(
        r#"nano_handler_duration_seconds_count{route="shop.buy",kind="request"}"#,
        4.0,
    );
    expect(
        r#"nano_handler_duration_seconds_count{route="shop.browse",kind="notify"}"#,
        1.0,
    );
    expect(r#"nano_sessions_opened_total{transport="tcp"}"#, 2.0);
    expect(r#"nano_sessions_closed_total{reason="kicked"}"#, 1.0);
    expect("nano_sessions_open", 1.0);
    expect("nano_pushes_sent_total", 3.0);
    assert!(
        sample(&text, "nano_received_bytes_total").unwrap() > 100.0,
        "{text}"
    );
    assert!(
        sample(&text, "nano_sent_bytes_total").unwrap() > 100.0,
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");

    assert!(http(metrics, "GET", "/other").await.0.contains("404"));
    assert!(http(metrics, "POST", "/metrics").await.0.contains("405"));
    buyer.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn an_app_with_metrics_off_serves_an_empty_text() {
    let app = App::builder()
        .register(Shop)
        .prometheus(false)
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let client = Client::connect(&addr.to_string()).await.unwrap();
    let _: u32 = client.request("shop.buy", &50).await.unwrap();
    assert_eq!(app.encode_metrics(), "");
    assert_eq!(app.metrics().messages_in, 1, "the counters are kept");
    client.close().await;
    app.shutdown().await;
}

/// Two teams: `join` puts the caller in the team named by its payload.
struct Teams {
    red: Group,
    blue: Group,
}

#[component(name = "teams")]
impl Teams {
    #[handler]
    fn join(&self, session: &Session, team: String) -> Result<u32, HandlerError> {
        let group = if team == "red" { &self.red } else { &self.blue };
        group.add(session)?;
        Ok(0)
    }
}

/// An actor component, whose mailbox the test fills.
#[derive(Default)]
struct Tally {
    count: u32,
}

#[component(name = "tally")]
impl Tally {
    #[handler]
    fn add(&mut self, _session: &Session) -> u32 {
        self.count += 1;
        self.count
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_their_members_and_actor_mailboxes_are_in_the_scraped_metrics() {
    let app = App::builder()
        .register(Teams {
            red: Group::new("red"),
            blue: Group::new("blue"),
        })
        .register(Tally::default())
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let metrics = nano_ws::listen_metrics(&app, "127.0.0.1:0").await.unwrap();
    let mut clients = Vec::new();
    for teams in [&["red"][..], &["red"], &["red", "blue"]] {
        let client = Client::connect(&addr.to_string()).await.unwrap();
        for team in teams {
            let _: u32 = client.request("teams.join", team).await.unwrap();
        }
        clients.push(client);
    }
    // Hold the actor in a closure, and queue three more behind it.
    let tally = app.actor::<Tally>().expect("tally is an actor");
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (started, running) = tokio::sync::oneshot::channel();
    tally
        .try_invoke(move |_| {
            let _ = started.send(());
            let _ = held.recv();
        })
        .unwrap();
    running.await.unwrap();
    for _ in 0..3 {
        tally.try_invoke(|tally| tally.count += 1).unwrap();
    }

    let (_, text) = http(metrics, "GET", "/metrics").await;
    assert_eq!(sample(&text, "nano_groups"), Some(2.0), "{text}");
    assert_eq!(sample(&text, "nano_group_members"), Some(4.0), "{text}");
    let depth = r#"nano_actor_mailbox_depth{actor="tally"}"#;
    assert_eq!(sample(&text, depth), Some(3.0), "{text}");
    let scheduler = r#"nano_actor_mailbox_depth{actor="scheduler"}"#;
    assert_eq!(sample(&text, scheduler), Some(0.0), "{text}");

    release.send(()).unwrap();
    clients.pop().unwrap().close().await;
    let settled = wait_until(Duration::from_secs(10), async || {
        let (_, text) = http(metrics, "GET", "/metrics").await;
        sample(&text, depth) == Some(0.0)
            && sample(&text, "nano_groups") == Some(1.0)
            && sample(&text, "nano_group_members") == Some(2.0)
    })
    .await;
    assert!(settled, "{}", http(metrics, "GET", "/metrics").await.1);
    app.shutdown().await;
}
