//! Hostile and broken input, table-driven, over TCP and WebSocket.
//!
//! Every case states what the server must do with it. All cases run at once against one
//! server; after each, a well-behaved client on another connection must still be served, and
//! at the end the server is still up and has cleaned up every session.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, SinkExt, StreamExt};
use nano_client::Client;
use nano_core::prelude::*;
use nano_core::protocol::{
    EncodedPacket, HandshakeResponse, Message, Packet, PacketCodec, PacketType, Route,
};
use nano_core::{RateLimit, SlowConsumerPolicy};
use nano_tests::wait::wait_until;
use nano_ws::WsConfig;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::codec::Decoder;

/// How long a case may take to show its outcome (the server's timeouts are 1-2 s here).
const OBSERVE: Duration = Duration::from_secs(6);

struct Target;

#[component(name = "target")]
impl Target {
    #[handler]
    fn echo(&self, _session: &Session, body: Value) -> Value {
        body
    }

    #[handler]
    fn note(&self, _session: &Session, _body: Value) {}

    /// Pushes 2,000 pushes of 1 KiB to the caller at once.
    #[handler]
    fn spam(&self, session: &Session) {
        let blob = "x".repeat(1024);
        for _ in 0..2_000 {
            if session.push("onSpam", &blob).is_err() {
                break;
            }
        }
    }
}

struct Server {
    app: App,
    tcp: SocketAddr,
    ws: SocketAddr,
}

async fn server() -> Server {
    let app = App::builder()
        .register(Target)
        .handshake_timeout(Duration::from_secs(1))
        .heartbeat_interval(Duration::from_secs(2))
        .send_queue_capacity(64)
        .slow_consumer(SlowConsumerPolicy::Kick)
        .rate_limit(Some(RateLimit {
            per_second: 200,
            burst: 400,
        }))
        .build()
        .unwrap();
    let tcp = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let ws = nano_ws::listen(
        &app,
        "127.0.0.1:0",
        WsConfig::new().max_message_size(128 * 1024),
    )
    .await
    .unwrap();
    Server { app, tcp, ws }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Tcp,
    Ws,
}

/// A raw peer: bytes in, packets and closes out, over either transport.
enum Peer {
    Tcp { stream: TcpStream, buf: BytesMut },
    Ws(Box<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>>),
}

#[derive(Debug)]
enum Event {
    Packet(Packet),
    Closed(Option<CloseCode>),
    Silent,
}

impl Peer {
    async fn connect(transport: Transport, server: &Server) -> Peer {
        match transport {
            Transport::Tcp => Peer::Tcp {
                stream: TcpStream::connect(server.tcp).await.unwrap(),
                buf: BytesMut::new(),
            },
            Transport::Ws => {
                let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/", server.ws))
                    .await
                    .unwrap();
                Peer::Ws(Box::new(ws))
            }
        }
    }

    /// Sends bytes as they are (one binary message over WebSocket). Ignores write errors: the
    /// server may close first, and the outcome is observed separately.
    async fn send(&mut self, bytes: &[u8]) {
        match self {
            Peer::Tcp { stream, .. } => {
                let _ = stream.write_all(bytes).await;
            }
            Peer::Ws(ws) => {
                let _ = ws
                    .send(WsMessage::Binary(Bytes::copy_from_slice(bytes)))
                    .await;
            }
        }
    }

    async fn send_packet(&mut self, packet: Packet) {
        self.send(EncodedPacket::from_packet(&packet).unwrap().as_bytes())
            .await;
    }

    async fn send_message(&mut self, message: &Message) {
        self.send(
            EncodedPacket::from_message(message, None)
                .unwrap()
                .as_bytes(),
        )
        .await;
    }

    async fn handshake(&mut self) {
        self.send_packet(Packet::handshake(&br#"{"sys":{"type":"hostile"}}"#[..]))
            .await;
        match self.next(OBSERVE).await {
            Event::Packet(packet) if packet.kind == PacketType::Handshake => {}
            other => panic!("no handshake reply: {other:?}"),
        }
    }

    async fn handshake_and_ack(&mut self) {
        self.handshake().await;
        self.send_packet(Packet::handshake_ack()).await;
    }

    async fn next(&mut self, timeout: Duration) -> Event {
        tokio::time::timeout(timeout, self.next_event())
            .await
            .unwrap_or(Event::Silent)
    }

    async fn next_event(&mut self) -> Event {
        match self {
            Peer::Tcp { stream, buf } => loop {
                if let Ok(Some(packet)) = PacketCodec::new(16 << 20).decode(buf) {
                    return Event::Packet(packet);
                }
                match stream.read_buf(buf).await {
                    Ok(0) | Err(_) => return Event::Closed(None),
                    Ok(_) => {}
                }
            },
            Peer::Ws(ws) => loop {
                match ws.next().await {
                    Some(Ok(WsMessage::Binary(bytes))) => {
                        let mut buf = BytesMut::from(&bytes[..]);
                        let packet = PacketCodec::new(16 << 20)
                            .decode(&mut buf)
                            .unwrap()
                            .unwrap();
                        return Event::Packet(packet);
                    }
                    Some(Ok(WsMessage::Close(frame))) => {
                        return Event::Closed(frame.map(|f| f.code));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return Event::Closed(None),
                }
            },
        }
    }

    /// Reads until the connection closes (or stays silent for `OBSERVE`).
    async fn observe(&mut self) -> (Vec<Packet>, Event) {
        let mut packets = Vec::new();
        loop {
            match self.next(OBSERVE).await {
                Event::Packet(packet) => packets.push(packet),
                end => return (packets, end),
            }
        }
    }
}

/// What the server must do.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Close the connection (after at most a handshake refusal with this code).
    Closed,
    /// Refuse the handshake with this code, then close.
    HandshakeRefused(u16),
    /// Close the WebSocket with this close code.
    WsClose(CloseCode),
    /// Answer request 1 with an error body of this code and keep serving.
    ErrorResponse(i32),
    /// Say nothing and keep serving.
    Ignored,
    /// Kick with this reason.
    Kicked(&'static str),
}

type Steps = for<'a> fn(&'a mut Peer) -> BoxFuture<'a, ()>;

struct Case {
    name: &'static str,
    only: Option<Transport>,
    steps: Steps,
    expect: Expect,
}

fn request(id: u64, route: &'static str, payload: &'static [u8]) -> Message {
    Message::Request {
        id,
        route: Route::from(route),
        payload: Bytes::from_static(payload),
    }
}

fn cases() -> Vec<Case> {
    macro_rules! case {
        ($name:literal, $expect:expr, |$peer:ident| $body:expr) => {
            case!($name, None, $expect, |$peer| $body)
        };
        ($name:literal, $only:expr, $expect:expr, |$peer:ident| $body:expr) => {
            Case {
                name: $name,
                only: $only,
                expect: $expect,
                steps: |$peer| async move { $body }.boxed(),
            }
        };
    }
    vec![
        case!("unknown packet type", Expect::Closed, |p| p
            .send(&[0x07, 0, 0, 0])
            .await),
        case!("packet type 0", Expect::Closed, |p| p
            .send(&[0x00, 0, 0, 1, 0])
            .await),
        case!(
            "length header over the limit, no body",
            Expect::Closed,
            |p| p.send(&[0x01, 0x10, 0x00, 0x00]).await
        ),
        case!("truncated packet then silence", Expect::Closed, |p| p
            .send(&[0x01, 0, 0, 50, b'{'])
            .await),
        case!("half a header then silence", Expect::Closed, |p| p
            .send(&[0x01, 0])
            .await),
        case!("connect and say nothing", Expect::Closed, |p| {
            let _ = p;
        }),
        case!(
            "handshake body that is not JSON",
            Expect::HandshakeRefused(500),
            |p| {
                p.send_packet(Packet::handshake(&b"hello?"[..])).await;
            }
        ),
        case!(
            "handshake JSON of the wrong shape",
            Expect::HandshakeRefused(500),
            |p| {
                p.send_packet(Packet::handshake(&br#"{"sys":"not an object"}"#[..]))
                    .await;
            }
        ),
        case!("1 MB handshake", Expect::Closed, |p| {
            let mut body = br#"{"user":""#.to_vec();
            body.extend(std::iter::repeat_n(b'a', 1 << 20));
            body.extend_from_slice(b"\"}");
            let packet = EncodedPacket::from_packet(&Packet::handshake(body)).unwrap();
            p.send(packet.as_bytes()).await;
        }),
        case!("data before the handshake", Expect::Closed, |p| p
            .send_message(&request(1, "target.echo", b"{}"))
            .await),
        case!("data before the ack", Expect::Closed, |p| {
            p.handshake().await;
            p.send_message(&request(1, "target.echo", b"{}")).await;
        }),
        case!("ack before the handshake", Expect::Closed, |p| p
            .send_packet(Packet::handshake_ack())
            .await),
        case!("a second handshake", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_packet(Packet::handshake(&b"{}"[..])).await;
        }),
        case!("unknown dictionary code", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_message(&Message::Request {
                id: 1,
                route: Route::Code(999),
                payload: Bytes::new(),
            })
            .await;
        }),
        case!("route length past the end", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_packet(Packet::data(&b"\x00\x01\x20room"[..])).await;
        }),
        case!("truncated compressed route", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_packet(Packet::data(&b"\x01\x01\x00"[..])).await;
        }),
        case!("invalid UTF-8 route", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_packet(Packet::data(&b"\x02\x02\xc3\x28{}"[..]))
                .await;
        }),
        case!("varint overflow", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_packet(Packet::data(
                &b"\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"[..],
            ))
            .await;
        }),
        case!("message type above 3", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_packet(Packet::data(&b"\x0e\x01\x00"[..])).await;
        }),
        case!("reserved flag bits", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_packet(Packet::data(&b"\x80\x01\x00"[..])).await;
        }),
        case!("empty data packet", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_packet(Packet::data(Bytes::new())).await;
        }),
        case!("a response sent by a client", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_message(&Message::Response {
                id: 1,
                payload: Bytes::new(),
                error: false,
            })
            .await;
        }),
        case!("a push sent by a client", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_message(&Message::Push {
                route: Route::from("onX"),
                payload: Bytes::new(),
            })
            .await;
        }),
        case!("a kick sent by a client", Expect::Closed, |p| {
            p.handshake_and_ack().await;
            p.send_packet(Packet::kick(&br#"{"reason":"ha"}"#[..]))
                .await;
        }),
        case!(
            "request to an unknown route",
            Expect::ErrorResponse(404),
            |p| {
                p.handshake_and_ack().await;
                p.send_message(&request(1, "target.nope", b"{}")).await;
            }
        ),
        case!("undecodable payload", Expect::ErrorResponse(400), |p| {
            p.handshake_and_ack().await;
            p.send_message(&request(1, "target.echo", b"{not json"))
                .await;
        }),
        case!(
            "a body of exactly the limit",
            Expect::ErrorResponse(400),
            |p| {
                p.handshake_and_ack().await;
                let mut payload = vec![b' '; 65_536 - 14]; // flag, id, route length, "target.echo"
                payload[0] = b'[';
                let message = Message::Request {
                    id: 1,
                    route: Route::from("target.echo"),
                    payload: payload.into(),
                };
                p.send_message(&message).await;
            }
        ),
        case!(
            "request id 0 is treated as a notify",
            Expect::Ignored,
            |p| {
                p.handshake_and_ack().await;
                p.send_message(&request(0, "target.echo", b"{}")).await;
            }
        ),
        case!("notify to an unknown route", Expect::Ignored, |p| {
            p.handshake_and_ack().await;
            p.send_message(&Message::Notify {
                route: Route::from("no.where"),
                payload: Bytes::new(),
            })
            .await;
        }),
        case!("empty handshake body is fine", Expect::Ignored, |p| {
            p.send_packet(Packet::handshake(Bytes::new())).await;
            assert!(matches!(p.next(OBSERVE).await, Event::Packet(_)));
            p.send_packet(Packet::handshake_ack()).await;
        }),
        case!("bytes trickled one at a time", Expect::Closed, |p| {
            let hello =
                EncodedPacket::from_packet(&Packet::handshake(&br#"{"sys":{"type":"slow"}}"#[..]))
                    .unwrap();
            // One byte every 300 ms, so the handshake would take far longer than the 1 s
            // handshake timeout: the pace is the point. Between two bytes the peer watches for
            // the server's close, and stops once it comes.
            for byte in hello.as_bytes().iter() {
                p.send(&[*byte]).await;
                match p.next(Duration::from_millis(300)).await {
                    Event::Silent => {}
                    Event::Closed(_) => break,
                    Event::Packet(packet) => panic!("a half-sent handshake got {packet:?}"),
                }
            }
        }),
        case!(
            "a message flood from one session",
            Expect::Kicked("rate limit exceeded"),
            |p| {
                p.handshake_and_ack().await;
                let notify = EncodedPacket::from_message(
                    &Message::Notify {
                        route: Route::from("target.note"),
                        payload: Bytes::from_static(b"{}"),
                    },
                    None,
                )
                .unwrap();
                let burst: Vec<u8> = std::iter::repeat_n(notify.as_bytes().to_vec(), 1_000)
                    .flatten()
                    .collect();
                p.send(&burst).await;
            }
        ),
        case!(
            "a client that never reads",
            Expect::Kicked("slow consumer"),
            |p| {
                p.handshake_and_ack().await;
                p.send_message(&Message::Notify {
                    route: Route::from("target.spam"),
                    payload: Bytes::new(),
                })
                .await;
                // A real wait, and the point of the case: the peer reads nothing while the
                // server handles the notify and pushes (check() reads only afterwards). No
                // event tells that the server is done without reading, so it gets a generous
                // window, longer than the handling takes on a loaded machine.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        ),
        case!(
            "a text frame",
            Some(Transport::Ws),
            Expect::WsClose(CloseCode::Protocol),
            |p| {
                if let Peer::Ws(ws) = p {
                    let _ = ws.send(WsMessage::text("{\"sys\":{}}")).await;
                }
            }
        ),
        case!(
            "a message over the size limit",
            Some(Transport::Ws),
            Expect::WsClose(CloseCode::Size),
            |p| {
                p.send(&vec![0u8; 200 * 1024]).await;
            }
        ),
    ]
}

/// Checks what a peer saw against what the case expects.
async fn check(case: &Case, transport: Transport, peer: &mut Peer) {
    let label = format!("{} over {transport:?}", case.name);
    match case.expect {
        Expect::Closed => {
            let (packets, end) = peer.observe().await;
            assert!(
                matches!(end, Event::Closed(_)),
                "{label}: not closed ({end:?})"
            );
            for packet in packets {
                // A handshake refusal (or a heartbeat before the close) is all it may see.
                assert!(
                    matches!(packet.kind, PacketType::Handshake | PacketType::Heartbeat),
                    "{label}: {packet:?}"
                );
                if packet.kind == PacketType::Handshake {
                    assert_ne!(
                        HandshakeResponse::from_json(&packet.body).unwrap().code,
                        200,
                        "{label}"
                    );
                }
            }
        }
        Expect::HandshakeRefused(code) => {
            let (packets, end) = peer.observe().await;
            assert!(
                matches!(end, Event::Closed(_)),
                "{label}: not closed ({end:?})"
            );
            let reply = packets
                .first()
                .unwrap_or_else(|| panic!("{label}: no handshake reply"));
            assert_eq!(
                HandshakeResponse::from_json(&reply.body).unwrap().code,
                code,
                "{label}"
            );
        }
        Expect::WsClose(code) => {
            let (_, end) = peer.observe().await;
            assert!(
                matches!(end, Event::Closed(Some(got)) if got == code),
                "{label}: {end:?}"
            );
        }
        Expect::ErrorResponse(code) => {
            let packet = loop {
                match peer.next(OBSERVE).await {
                    Event::Packet(packet) if packet.kind == PacketType::Data => break packet,
                    Event::Packet(_) => {}
                    other => panic!("{label}: no response ({other:?})"),
                }
            };
            let Message::Response { id: 1, payload, .. } = Message::decode(packet.body).unwrap()
            else {
                panic!("{label}: not a response to request 1");
            };
            let body: Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(body["code"], code, "{label}: {body}");
            still_serving(&label, peer).await;
        }
        Expect::Ignored => still_serving(&label, peer).await,
        Expect::Kicked(reason) => {
            let (packets, end) = peer.observe().await;
            assert!(
                matches!(end, Event::Closed(_)),
                "{label}: not closed ({end:?})"
            );
            let kick = packets
                .iter()
                .rev()
                .find(|packet| packet.kind == PacketType::Kick);
            let kick =
                kick.unwrap_or_else(|| panic!("{label}: no kick among {} packets", packets.len()));
            assert_eq!(
                kick.body,
                Bytes::from(format!(r#"{{"reason":"{reason}"}}"#)),
                "{label}"
            );
        }
    }
}

/// The same connection still answers a valid request.
async fn still_serving(label: &str, peer: &mut Peer) {
    peer.send_message(&request(77, "target.echo", br#"{"still":"here"}"#))
        .await;
    loop {
        match peer.next(OBSERVE).await {
            Event::Packet(packet) if packet.kind == PacketType::Data => {
                let Message::Response { id, payload, .. } = Message::decode(packet.body).unwrap()
                else {
                    continue;
                };
                assert_eq!(
                    (id, &payload[..]),
                    (77, &br#"{"still":"here"}"#[..]),
                    "{label}"
                );
                return;
            }
            Event::Packet(_) => {}
            other => panic!("{label}: connection not serving afterwards ({other:?})"),
        }
    }
}

/// A well-behaved client on another connection is served.
async fn good_client_served(server: &Server, transport: Transport, label: &str) {
    let target = match transport {
        Transport::Tcp => server.tcp.to_string(),
        Transport::Ws => format!("ws://{}/", server.ws),
    };
    let exchange = async {
        let client = Client::connect(&target)
            .await
            .expect("good client connects");
        let answer: Value = client
            .request("target.echo", &json!({ "ok": label }))
            .await
            .expect("answered");
        assert_eq!(answer, json!({ "ok": label }));
        client.close().await;
    };
    tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .unwrap_or_else(|_| panic!("after `{label}`: a good client was not served"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_case_gets_its_outcome_and_nobody_else_is_disturbed() {
    let server = server().await;
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let server = std::sync::Arc::new(server);
    let mut runs = tokio::task::JoinSet::new();
    let mut total = 0;
    for (index, _) in cases.iter().enumerate() {
        for transport in [Transport::Tcp, Transport::Ws] {
            if cases[index].only.is_some_and(|only| only != transport) {
                continue;
            }
            total += 1;
            let server = server.clone();
            runs.spawn(async move {
                let case = &cases_ref()[index];
                let mut peer = Peer::connect(transport, &server).await;
                (case.steps)(&mut peer).await;
                check(case, transport, &mut peer).await;
                good_client_served(
                    &server,
                    transport,
                    &format!("{} over {transport:?}", case.name),
                )
                .await;
            });
        }
    }
    while let Some(run) = runs.join_next().await {
        run.unwrap();
    }
    assert!(total >= 60, "{total} case runs");

    // Everyone has gone; the server cleaned up every session.
    assert!(
        wait_until(Duration::from_secs(5), async || {
            server.app.metrics().sessions_open == 0
        })
        .await,
        "sessions left open: {:?}",
        server.app.metrics()
    );
    let metrics = server.app.metrics();
    assert!(metrics.kicks >= 4, "{metrics:?}");
    server.app.shutdown().await;
}

/// The table as a `'static` slice, for the spawned runs.
fn cases_ref() -> &'static [Case] {
    static CASES: std::sync::OnceLock<Vec<Case>> = std::sync::OnceLock::new();
    CASES.get_or_init(cases)
}

#[tokio::test]
async fn a_connection_flood_beyond_max_connections_is_refused_and_existing_sessions_are_fine() {
    let app = App::builder()
        .register(Target)
        .max_connections(20)
        .build()
        .unwrap();
    let tcp = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let ws = nano_ws::listen(&app, "127.0.0.1:0", WsConfig::new())
        .await
        .unwrap();
    let mut existing = Vec::new();
    for n in 0..10 {
        let target = if n % 2 == 0 {
            tcp.to_string()
        } else {
            format!("ws://{ws}/")
        };
        existing.push(Client::connect(&target).await.unwrap());
    }
    // A flood of 200 raw connections, half TCP, half WebSocket: at most 10 more get in.
    let mut flood = Vec::new();
    for n in 0..200 {
        if n % 2 == 0 {
            flood.push(TcpStream::connect(tcp).await.unwrap());
        } else if let Ok(Ok((ws, _))) = tokio::time::timeout(
            Duration::from_secs(2),
            tokio_tungstenite::connect_async(format!("ws://{ws}/")),
        )
        .await
        {
            drop(ws);
        }
    }
    assert!(
        wait_until(Duration::from_secs(5), async || {
            app.metrics().connections_refused >= 90
        })
        .await,
        "{:?}",
        app.metrics()
    );
    for client in &existing {
        let answer: Value = client.request("target.echo", &json!(1)).await.unwrap();
        assert_eq!(answer, json!(1));
    }
    drop(flood);
    app.shutdown().await;
}
