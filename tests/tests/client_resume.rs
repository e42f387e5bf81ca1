//! nano-client resuming its session on its own (docs/PROTOCOL-EXTENSIONS.md) after a proxy in
//! the test cuts the connection: the same session, the pushes of the gap once and in order,
//! requests in flight answered once; a refused resume says so; TCP and WebSocket mix.

use std::net::SocketAddr;
use std::time::Duration;

use nano_client::nano_core::transport::{PacketTransport, framed};
use nano_client::{Client, ClientBuilder, ClientError, ConnectionEvent, Events, Reconnect};
use nano_core::ResumeConfig;
use nano_tests::proxy::CutProxy;
use nano_tests::resume::{Events as Hooks, events_of, start};
use nano_tests::wait::wait_until;
use nano_ws::WsConfig;
use serde_json::{Value, json};

/// Reconnects at once (no jitter), a few times.
fn quick() -> Reconnect {
    Reconnect::new()
        .base_delay(Duration::from_millis(20))
        .jitter(0.0)
        .max_attempts(20)
}

async fn client_via(proxy: &CutProxy) -> (Client, Events) {
    let client = ClientBuilder::new()
        .reconnect(quick())
        .connect_tcp(proxy.addr())
        .await
        .expect("connect");
    let events = client.events();
    (client, events)
}

/// The next `Reconnected` event's `resumed`.
async fn reconnected(events: &mut Events) -> bool {
    let wait = async {
        loop {
            match events.recv().await.expect("events") {
                ConnectionEvent::Reconnected { resumed, .. } => return resumed,
                ConnectionEvent::Closed { reason } => panic!("closed: {reason}"),
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("a reconnect")
}

/// Broadcasts `texts` to the room from a client of its own, straight to the server.
async fn say_all(server: SocketAddr, texts: &[&str]) {
    let speaker = Client::connect(&server.to_string()).await.unwrap();
    let _: Value = speaker.request("room.join", &99).await.unwrap();
    for text in texts {
        let _: usize = speaker.request("room.say", text).await.unwrap();
    }
    speaker.close().await;
}

async fn dropped(hooks: &Hooks, id: u64) -> bool {
    wait_until(Duration::from_secs(5), async || {
        events_of(hooks, id).contains(&("dropped", id))
    })
    .await
}

#[tokio::test]
async fn a_cut_connection_resumes_with_the_pushes_of_the_gap_once_and_in_order() {
    let (_app, server, hooks) = start(ResumeConfig::default()).await;
    let proxy = CutProxy::start(server).await;
    let (client, mut events) = client_via(&proxy).await;
    let mut says = client.subscribe("onSay");
    let _: Value = client.request("room.join", &7).await.unwrap();
    let id = client.session_id().expect("the server resumes sessions");
    say_all(server, &["before"]).await;
    assert_eq!(
        says.recv().await.unwrap().decode::<String>().unwrap(),
        "before"
    );

    assert_eq!(proxy.cut_all(), 1);
    assert!(dropped(&hooks, id).await);
    say_all(server, &["gap 1", "gap 2", "gap 3"]).await;
    assert!(reconnected(&mut events).await, "resumed");
    assert_eq!(client.session_id(), Some(id));
    for want in ["gap 1", "gap 2", "gap 3"] {
        assert_eq!(says.recv().await.unwrap().decode::<String>().unwrap(), want);
    }
    let me: Value = client.request("room.whoami", &()).await.unwrap();
    assert_eq!(
        (me["session"].clone(), me["uid"].clone()),
        (json!(id), json!(7))
    );
    say_all(server, &["after"]).await;
    assert_eq!(
        says.recv().await.unwrap().decode::<String>().unwrap(),
        "after"
    );
}

/// Sends a request whose handler takes 200 ms, and cuts the connection 50 ms into it.
async fn cut_during_slow_request(
    client: &Client,
    proxy: &CutProxy,
) -> tokio::task::JoinHandle<Result<u64, ClientError>> {
    let slow = tokio::spawn({
        let client = client.clone();
        async move { client.request::<_, u64>("room.slow_bump", &200).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    proxy.cut_all();
    slow
}

#[tokio::test]
async fn a_request_in_flight_at_the_cut_is_answered_once_after_the_resume() {
    let (_app, server, hooks) = start(ResumeConfig::default()).await;
    let proxy = CutProxy::start(server).await;
    let (client, mut events) = client_via(&proxy).await;
    let id = client.session_id().unwrap();
    let slow = cut_during_slow_request(&client, &proxy).await;
    // The server reads nothing while the handler runs: the resume finds the old connection
    // still open to it, and replaces it.
    assert!(reconnected(&mut events).await);
    assert_eq!(events_of(&hooks, id), [("resumed", id)]);
    assert_eq!(slow.await.unwrap().expect("answered after the resume"), 1);
    let next: u64 = client.request("room.bump", &()).await.unwrap();
    assert_eq!(next, 2, "slow_bump ran once");
}

#[tokio::test]
async fn an_expired_session_reconnects_fresh_and_its_requests_fail() {
    let resume = ResumeConfig::default().grace(Duration::from_millis(50));
    let (_app, server, hooks) = start(resume).await;
    let proxy = CutProxy::start(server).await;
    // The server sees the cut when the handler answers (200 ms), the grace ends 50 ms later,
    // the client comes back after 1.5 s.
    let client = ClientBuilder::new()
        .reconnect(quick().base_delay(Duration::from_millis(1500)))
        .connect_tcp(proxy.addr())
        .await
        .unwrap();
    let mut events = client.events();
    let id = client.session_id().unwrap();
    let slow = cut_during_slow_request(&client, &proxy).await;
    assert!(
        wait_until(Duration::from_secs(5), async || {
            events_of(&hooks, id).contains(&("closed", id))
        })
        .await
    );
    assert!(!reconnected(&mut events).await, "a fresh session");
    assert_ne!(client.session_id(), Some(id));
    match slow.await.unwrap() {
        Err(ClientError::Disconnected(reason)) => {
            assert!(reason.to_string().contains("expired"), "{reason}");
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_with_resume_off_gets_a_fresh_session() {
    let (_app, server, _hooks) = start(ResumeConfig::default()).await;
    let proxy = CutProxy::start(server).await;
    let client = ClientBuilder::new()
        .reconnect(quick())
        .resume(false)
        .connect_tcp(proxy.addr())
        .await
        .unwrap();
    let mut events = client.events();
    let id = client.session_id();
    proxy.cut_all();
    assert!(!reconnected(&mut events).await);
    assert_ne!(client.session_id(), id);
}

/// A dial's outcome: a transport of either kind.
type Dialed =
    std::pin::Pin<Box<dyn Future<Output = Result<Box<dyn PacketTransport>, ClientError>> + Send>>;

/// A dialer that goes through the first proxy on its first dial and the second on the next,
/// then alternates: TCP or WebSocket as each one's flag says.
fn alternating(proxies: [(SocketAddr, bool); 2]) -> impl FnMut() -> Dialed {
    let mut dials = 0usize;
    move || {
        let (addr, ws) = proxies[dials % 2];
        dials += 1;
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            if !ws {
                return Ok(Box::new(framed(stream, 65_536)) as Box<dyn PacketTransport>);
            }
            let url = format!("ws://{addr}/nano");
            let (ws, _) = tokio_tungstenite::client_async(url, stream)
                .await
                .map_err(|err| ClientError::WebSocket(Box::new(err)))?;
            Ok(Box::new(nano_ws::WsTransport::new(ws, 65_536)) as Box<dyn PacketTransport>)
        })
    }
}

#[tokio::test]
async fn a_session_resumes_over_websocket_after_tcp_and_back() {
    let (app, tcp, hooks) = start(ResumeConfig::default()).await;
    let ws = nano_ws::listen(&app, "127.0.0.1:0", WsConfig::new().path("/nano"))
        .await
        .unwrap();
    let (over_tcp, over_ws) = (CutProxy::start(tcp).await, CutProxy::start(ws).await);
    let client = ClientBuilder::new()
        .reconnect(quick())
        .connect_with(alternating([
            (over_tcp.addr(), false),
            (over_ws.addr(), true),
        ]))
        .await
        .unwrap();
    let mut events = client.events();
    let mut says = client.subscribe("onSay");
    let _: Value = client.request("room.join", &3).await.unwrap();
    let id = client.session_id().unwrap();
    for (round, (cut, now)) in [(&over_tcp, "WebSocket"), (&over_ws, "Tcp")]
        .iter()
        .enumerate()
    {
        cut.cut_all();
        assert!(
            wait_until(Duration::from_secs(5), async || {
                events_of(&hooks, id)
                    .iter()
                    .filter(|(what, _)| *what == "dropped")
                    .count()
                    == round + 1
            })
            .await
        );
        say_all(tcp, &[now]).await;
        assert!(reconnected(&mut events).await, "round {round}");
        assert_eq!(says.recv().await.unwrap().decode::<String>().unwrap(), *now);
        let session = app.session(id).expect("the same session");
        assert_eq!(format!("{:?}", session.transport), *now);
    }
}
