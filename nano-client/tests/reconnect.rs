//! Reconnecting with backoff, under tokio's paused clock over in-memory pipes: each dial makes
//! a new pipe whose server side the test scripts; dials can be refused on demand.

mod support;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use nano_client::{
    Client, ClientBuilder, ClientError, CloseReason, ConnectionEvent, Events, Reconnect,
};
use nano_core::protocol::{Message, PacketCodec, Route, RouteName};
use support::{ServerConn, duplex_pair, ok_reply};
use tokio::io::DuplexStream;
use tokio::sync::mpsc;
use tokio_util::codec::Framed;

type Server = ServerConn<Framed<DuplexStream, PacketCodec>>;

/// The server sides of the dials that were let through, and how many dials to refuse next.
struct Dials {
    servers: mpsc::UnboundedReceiver<Server>,
    refuse: Arc<AtomicU32>,
    count: Arc<AtomicU32>,
}

impl Dials {
    async fn next_server(&mut self) -> Server {
        self.servers.recv().await.expect("a dial")
    }
}

/// A client connected through a dialer of in-memory pipes, its first server, and the dials.
async fn connect(policy: Reconnect) -> (Client, Server, Dials) {
    connect_answering(policy, ok_reply(None, None)).await
}

/// As [`connect`], the first server answering the handshake with `reply`.
async fn connect_answering(
    policy: Reconnect,
    reply: nano_core::protocol::HandshakeResponse,
) -> (Client, Server, Dials) {
    let (servers_tx, servers) = mpsc::unbounded_channel();
    let refuse = Arc::new(AtomicU32::new(0));
    let count = Arc::new(AtomicU32::new(0));
    let (refusing, counting) = (refuse.clone(), count.clone());
    let dial = move || {
        counting.fetch_add(1, Ordering::SeqCst);
        let refused = refusing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let (transport, server) = duplex_pair();
        if !refused {
            servers_tx.send(server).unwrap();
        }
        async move {
            match refused {
                true => Err(io::Error::from(io::ErrorKind::ConnectionRefused)),
                false => Ok(transport),
            }
        }
    };
    let mut dials = Dials {
        servers,
        refuse,
        count,
    };
    let builder = ClientBuilder::new().reconnect(policy);
    let (client, server) = tokio::join!(builder.connect_with(dial), async {
        let mut server = within(dials.next_server()).await;
        server.handshake(reply).await;
        server
    });
    (client.expect("first connection"), server, dials)
}

fn policy() -> Reconnect {
    Reconnect::new()
        .base_delay(Duration::from_secs(1))
        .max_delay(Duration::from_secs(4))
        .jitter(0.0)
}

/// `future`, or a panic after an hour of (paused, so instant) time.
async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(3600), future)
        .await
        .expect("nothing happened for an hour")
}

async fn next_event(events: &mut Events) -> ConnectionEvent {
    within(events.recv()).await.expect("an event")
}

/// Skips the attempt-failed events' texts: the kind and attempt are what the tests check.
fn failed(event: &ConnectionEvent) -> Option<u32> {
    match event {
        ConnectionEvent::AttemptFailed { attempt, .. } => Some(*attempt),
        _ => None,
    }
}

#[tokio::test(start_paused = true)]
async fn requests_in_flight_or_made_while_reconnecting_fail_with_disconnected() {
    let (client, mut server, dials) = connect(policy()).await;
    let mut events = client.events();
    let in_flight = tokio::spawn({
        let client = client.clone();
        async move { client.request_raw("room.join", &b"{}"[..]).await }
    });
    let Message::Request { .. } = server.recv_message(None).await else {
        panic!("expected the request")
    };
    dials.refuse.store(u32::MAX, Ordering::SeqCst);
    drop(server);
    // Not sent again: it fails with the connection.
    let err = in_flight.await.unwrap().unwrap_err();
    assert!(
        matches!(err, ClientError::Disconnected(CloseReason::ServerClosed)),
        "{err}"
    );
    assert_eq!(
        next_event(&mut events).await,
        ConnectionEvent::Disconnected {
            reason: CloseReason::ServerClosed
        }
    );
    let err = client
        .request_raw("room.join", &b"{}"[..])
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Disconnected(_)), "{err}");
    let err = client
        .notify_raw("room.chat", &b"{}"[..])
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Disconnected(_)), "{err}");
    assert!(!client.is_connected());
    assert_eq!(client.close_reason(), None, "the client lives on");
}

#[tokio::test(start_paused = true)]
async fn a_lost_connection_comes_back_with_backoff_and_subscriptions_carry_on() {
    let (client, server, mut dials) = connect(policy().max_attempts(5)).await;
    let mut events = client.events();
    let mut chat = client.subscribe("onChat");
    dials.refuse.store(2, Ordering::SeqCst);
    drop(server);
    assert!(matches!(
        next_event(&mut events).await,
        ConnectionEvent::Disconnected { .. }
    ));
    for (attempt, delay) in [(1, 1), (2, 2)] {
        let expected = ConnectionEvent::Reconnecting {
            attempt,
            delay: Duration::from_secs(delay),
        };
        assert_eq!(next_event(&mut events).await, expected);
        assert_eq!(failed(&next_event(&mut events).await), Some(attempt));
    }
    let expected = ConnectionEvent::Reconnecting {
        attempt: 3,
        delay: Duration::from_secs(4),
    };
    assert_eq!(next_event(&mut events).await, expected);
    let mut server = within(dials.next_server()).await;
    server.handshake(ok_reply(None, None)).await;
    assert_eq!(
        next_event(&mut events).await,
        ConnectionEvent::Reconnected {
            attempt: 3,
            resumed: false
        }
    );
    assert!(client.is_connected());
    assert_eq!(dials.count.load(Ordering::SeqCst), 4, "1 + 3 dials");

    // The old subscription gets the new connection's pushes; requests work again.
    let push = Message::Push {
        route: Route::Name(RouteName::from("onChat")),
        payload: Bytes::from_static(b"{\"text\":\"back\"}"),
    };
    server.send_message(&push, None).await;
    let pushed = within(chat.recv()).await.expect("a push");
    assert_eq!(pushed.payload, &b"{\"text\":\"back\"}"[..]);
    let request = tokio::spawn({
        let client = client.clone();
        async move { client.request_raw("room.join", &b"{}"[..]).await }
    });
    let Message::Request { id, .. } = server.recv_message(None).await else {
        panic!("expected the request")
    };
    server.respond(id, b"{\"ok\":true}").await;
    assert_eq!(request.await.unwrap().unwrap(), &b"{\"ok\":true}"[..]);
}

#[tokio::test(start_paused = true)]
async fn the_client_gives_up_after_the_last_attempt() {
    let (client, server, dials) = connect(policy().max_attempts(3)).await;
    let mut events = client.events();
    let mut chat = client.subscribe("onChat");
    dials.refuse.store(u32::MAX, Ordering::SeqCst);
    drop(server);

    let reason = within(client.closed()).await;
    assert!(
        matches!(&reason, CloseReason::Error(text) if text.contains("after 3 attempts")),
        "{reason}"
    );
    let mut seen = Vec::new();
    while let Some(event) = within(events.recv()).await {
        let last = matches!(event, ConnectionEvent::Closed { .. });
        seen.push(event);
        if last {
            break;
        }
    }
    let attempts: Vec<_> = seen.iter().filter_map(failed).collect();
    assert_eq!(attempts, [1, 2, 3], "{seen:?}");
    assert_eq!(
        seen.last(),
        Some(&ConnectionEvent::Closed {
            reason: reason.clone()
        })
    );
    assert_eq!(
        within(chat.recv()).await,
        None,
        "push streams end with the client"
    );
    let err = client
        .request_raw("room.join", &b"{}"[..])
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Closed(_)), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_silent_server_is_left_for_a_new_connection() {
    let heartbeat = ok_reply(Some(Duration::from_secs(1)), None);
    let (client, _silent, mut dials) = connect_answering(policy(), heartbeat).await;
    let mut events = client.events();
    assert_eq!(
        next_event(&mut events).await,
        ConnectionEvent::Disconnected {
            reason: CloseReason::HeartbeatTimeout
        }
    );
    let mut server = within(dials.next_server()).await;
    server.handshake(ok_reply(None, None)).await;
    assert!(matches!(
        next_event(&mut events).await,
        ConnectionEvent::Reconnecting { attempt: 1, .. }
    ));
    assert_eq!(
        next_event(&mut events).await,
        ConnectionEvent::Reconnected {
            attempt: 1,
            resumed: false
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_kick_is_final() {
    let (client, mut server, dials) = connect(policy()).await;
    let mut events = client.events();
    server.kick("banned").await;
    let kicked = CloseReason::Kicked {
        reason: "banned".to_owned(),
    };
    assert_eq!(within(client.closed()).await, kicked);
    assert_eq!(
        next_event(&mut events).await,
        ConnectionEvent::Closed { reason: kicked }
    );
    assert_eq!(dials.count.load(Ordering::SeqCst), 1, "no new dial");
}

#[tokio::test(start_paused = true)]
async fn closing_stops_reconnecting() {
    let (client, server, dials) = connect(policy().base_delay(Duration::from_secs(60))).await;
    let mut events = client.events();
    dials.refuse.store(u32::MAX, Ordering::SeqCst);
    drop(server);
    assert!(matches!(
        next_event(&mut events).await,
        ConnectionEvent::Disconnected { .. }
    ));
    assert!(matches!(
        next_event(&mut events).await,
        ConnectionEvent::Reconnecting { attempt: 1, .. }
    ));
    within(client.close()).await;
    assert_eq!(client.close_reason(), Some(CloseReason::ClosedByClient));
    assert_eq!(
        next_event(&mut events).await,
        ConnectionEvent::Closed {
            reason: CloseReason::ClosedByClient
        }
    );
    assert_eq!(
        dials.count.load(Ordering::SeqCst),
        1,
        "the delay was cut short"
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_with_another_serializer_ends_the_client() {
    let (client, server, mut dials) = connect(policy()).await;
    drop(server);
    let mut server = within(dials.next_server()).await;
    let mut reply = ok_reply(None, None);
    reply.sys.as_mut().unwrap().serializer = Some("msgpack".into());
    let hello = server.recv_packet().await;
    assert_eq!(hello.kind, nano_core::protocol::PacketType::Handshake);
    server
        .send_packet(nano_core::protocol::Packet::handshake(reply.to_json()))
        .await;
    let reason = within(client.closed()).await;
    assert!(
        matches!(&reason, CloseReason::Error(text) if text.contains("`json` to `msgpack`")),
        "{reason}"
    );
    assert_eq!(
        dials.count.load(Ordering::SeqCst),
        2,
        "no attempt after that"
    );
}

// ---- over a real socket ----

#[tokio::test]
async fn a_tcp_client_reconnects_to_the_same_address() {
    let (listener, addr) = support::tcp_listener().await;
    let (listening_tx, listening) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        let mut first = support::accept_tcp(&listener).await;
        first.handshake(ok_reply(None, None)).await;
        // Hang up once the client listens to its events.
        listening.await.unwrap();
        drop(first);
        let mut second = support::accept_tcp(&listener).await;
        second.handshake(ok_reply(None, None)).await;
        let Message::Request { id, .. } = second.recv_message(None).await else {
            panic!("expected the request")
        };
        second.respond(id, b"{\"again\":true}").await;
        second.try_recv_packet().await;
    });
    let client = ClientBuilder::new()
        .reconnect(Reconnect::new().base_delay(Duration::from_millis(10)))
        .connect(&addr)
        .await
        .unwrap();
    let mut events = client.events();
    listening_tx.send(()).unwrap();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), events.recv()).await;
        match event.expect("an event within 30 s").expect("an event") {
            ConnectionEvent::Reconnected { .. } => break,
            ConnectionEvent::Closed { reason } => panic!("closed: {reason}"),
            _ => {}
        }
    }
    let answer = client.request_raw("room.join", &b"{}"[..]).await.unwrap();
    assert_eq!(answer, &b"{\"again\":true}"[..]);
    client.close().await;
    server.await.unwrap();
}
