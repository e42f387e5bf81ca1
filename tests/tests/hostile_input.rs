//! Hostile and broken input, table-driven, over TCP and WebSocket.
//!
//! Every case states what the server must do with it and, when the server closes, the rule
//! that closes it: the reason the server logs for the session must be that rule's. Cases the
//! server must close by a rule run against a server whose timeouts are a minute long, and must
//! close within [`PROMPT`]: a server that ignored the input and let a timeout close the
//! connection fails them. Only the cases *about* the handshake timeout run against a server
//! whose handshake timeout is short.
//!
//! All cases run at once; after each, a well-behaved client on another connection must still
//! be served, and at the end the servers are still up and have cleaned up every session.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use nano_client::Client;
use nano_core::prelude::*;
use nano_core::protocol::{EncodedPacket, HandshakeResponse, Message, Packet, PacketType, Route};
use nano_core::{RateLimit, SlowConsumerPolicy};
use nano_tests::peer::{Event, Peer, Transport};
use nano_tests::session_ends::SessionEnds;
use nano_tests::wait::{wait_for, wait_until};
use nano_ws::WsConfig;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// How soon a case closed by a rule must be closed: far below [`STRICT_TIMEOUTS`].
const PROMPT: Duration = Duration::from_secs(5);
/// The handshake timeout and heartbeat of the server most cases run against.
const STRICT_TIMEOUTS: Duration = Duration::from_secs(60);
/// The handshake timeout of the server the timeout cases run against.
const SHORT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a timeout case may take to be closed (the timeout, plus a loaded machine).
const TIMEOUT_OBSERVE: Duration = Duration::from_secs(10);
/// How long the server may take to log why a closed session ended.
const LOG_WAIT: Duration = Duration::from_secs(5);

/// Tags of the `spam` calls whose pushing is over.
static SPAMMED: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Target;

#[component(name = "target")]
impl Target {
    #[handler]
    fn echo(&self, _session: &Session, body: Value) -> Value {
        body
    }

    #[handler]
    fn note(&self, _session: &Session, _body: Value) {}

    /// Pushes 2,000 pushes of 1 KiB to the caller at once (stopping at the first the session
    /// refuses), then records `tag`: the caller can tell that the server is done.
    #[handler]
    fn spam(&self, session: &Session, tag: String) {
        let blob = "x".repeat(1024);
        for _ in 0..2_000 {
            if session.push("onSpam", &blob).is_err() {
                break;
            }
        }
        SPAMMED.lock().unwrap().push(tag);
    }
}

/// One server, on TCP and WebSocket.
struct Server {
    app: App,
    tcp: SocketAddr,
    ws: SocketAddr,
}

impl Server {
    async fn start(handshake_timeout: Duration, heartbeat: Duration) -> Server {
        let app = App::builder()
            .register(Target)
            .handshake_timeout(handshake_timeout)
            .heartbeat_interval(heartbeat)
            .send_queue_capacity(64)
            .slow_consumer(SlowConsumerPolicy::Kick)
            .rate_limit(Some(RateLimit {
                per_second: 200,
                burst: 400,
            }))
            .build()
            .unwrap();
        let tcp = app.listen_tcp("127.0.0.1:0").await.unwrap();
        let ws_config = WsConfig::new().max_message_size(128 * 1024);
        let ws = nano_ws::listen(&app, "127.0.0.1:0", ws_config)
            .await
            .unwrap();
        Server { app, tcp, ws }
    }

    fn addr(&self, transport: Transport) -> SocketAddr {
        match transport {
            Transport::Tcp => self.tcp,
            Transport::Ws => self.ws,
        }
    }
}

/// The two servers, and why their sessions ended.
struct Servers {
    /// Timeouts a minute long: whatever closes a connection here is a rule, not a timeout.
    strict: Server,
    /// A short handshake timeout, for the cases about it.
    short_timeout: Server,
    ends: SessionEnds,
}

/// What the server must do.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Close the connection within [`PROMPT`], for the rule whose logged reason starts with
    /// this text (after at most a refused handshake reply).
    Closed(&'static str),
    /// Like [`Expect::Closed`], where the rule differs by transport (a WebSocket message over
    /// the WebSocket size limit is refused before its packet is read).
    ClosedOver { tcp: &'static str, ws: &'static str },
    /// Close the connection when the handshake timeout expires (short-timeout server).
    HandshakeTimeout,
    /// Refuse the handshake with this code, then close within [`PROMPT`] for this reason.
    HandshakeRefused(u16, &'static str),
    /// Close the WebSocket within [`PROMPT`] with this close code, for this reason.
    WsClose(CloseCode, &'static str),
    /// Answer request 1 with an error body of this code and keep serving.
    ErrorResponse(i32),
    /// Say nothing and keep serving.
    Ignored,
    /// Kick within [`PROMPT`] with this reason in the Kick packet.
    Kicked(&'static str),
}

type Steps = for<'a> fn(&'a mut Peer) -> BoxFuture<'a, ()>;

struct Case {
    name: &'static str,
    only: Option<Transport>,
    steps: Steps,
    expect: Expect,
}

/// One table row: `case!(name, [only,] expect, |peer| steps)`.
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

fn request(id: u64, route: &'static str, payload: &'static [u8]) -> Message {
    Message::Request {
        id,
        route: Route::from(route),
        payload: Bytes::from_static(payload),
    }
}

fn cases() -> Vec<Case> {
    [
        framing_cases(),
        handshake_cases(),
        order_cases(),
        message_cases(),
        served_cases(),
        behaviour_cases(),
        websocket_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Packet framing: the 4-byte header and what follows it.
fn framing_cases() -> Vec<Case> {
    use Expect::*;
    vec![
        case!(
            "unknown packet type",
            Closed("protocol error: unknown packet type 0x07"),
            |p| p.send(&[0x07, 0, 0, 0]).await
        ),
        case!(
            "packet type 0",
            Closed("protocol error: unknown packet type 0x00"),
            |p| p.send(&[0x00, 0, 0, 1, 0]).await
        ),
        case!(
            "length header over the limit, no body",
            Closed("protocol error: packet body of 1048576 bytes exceeds the limit"),
            |p| p.send(&[0x01, 0x10, 0x00, 0x00]).await
        ),
        case!("truncated packet then silence", HandshakeTimeout, |p| p
            .send(&[0x01, 0, 0, 50, b'{'])
            .await),
        case!("half a header then silence", HandshakeTimeout, |p| p
            .send(&[0x01, 0])
            .await),
    ]
}

/// The handshake: its body, its size, its pace.
fn handshake_cases() -> Vec<Case> {
    use Expect::*;
    vec![
        case!("connect and say nothing", HandshakeTimeout, |_silent| {}),
        case!(
            "handshake body that is not JSON",
            HandshakeRefused(500, "protocol error: invalid handshake JSON"),
            |p| p.send_packet(Packet::handshake(&b"hello?"[..])).await
        ),
        case!(
            "handshake JSON of the wrong shape",
            HandshakeRefused(500, "protocol error: invalid handshake JSON"),
            |p| {
                let body = br#"{"sys":"not an object"}"#;
                p.send_packet(Packet::handshake(&body[..])).await;
            }
        ),
        case!(
            "1 MB handshake",
            ClosedOver {
                tcp: "protocol error: packet body of 1048587 bytes exceeds the limit of 65536",
                ws: "protocol error: i/o error: Message too long: 1048591 > 131072",
            },
            |p| {
                let mut body = br#"{"user":""#.to_vec();
                body.extend(std::iter::repeat_n(b'a', 1 << 20));
                body.extend_from_slice(b"\"}");
                let packet = EncodedPacket::from_packet(&Packet::handshake(body)).unwrap();
                p.send(packet.as_bytes()).await;
            }
        ),
        case!("bytes trickled one at a time", HandshakeTimeout, |p| {
            trickle_handshake(p).await;
        }),
    ]
}

/// One byte of a handshake every 300 ms, so the handshake would take far longer than the
/// handshake timeout: the pace is the point. Between two bytes the peer watches for the
/// server's close, and stops once it comes.
async fn trickle_handshake(peer: &mut Peer) {
    let hello = Packet::handshake(&br#"{"sys":{"type":"slow"}}"#[..]);
    let hello = EncodedPacket::from_packet(&hello).unwrap();
    for byte in hello.as_bytes().iter() {
        peer.send(&[*byte]).await;
        match peer.next(Duration::from_millis(300)).await {
            Event::Silent => {}
            Event::Closed(_) => break,
            Event::Packet(packet) => panic!("a half-sent handshake got {packet:?}"),
        }
    }
}

/// Packets out of the handshake -> ack -> data order, and kinds only a server may send.
fn order_cases() -> Vec<Case> {
    use Expect::*;
    let early_data = "protocol violation: data before the handshake completed";
    vec![
        case!("data before the handshake", Closed(early_data), |p| p
            .send_message(&request(1, "target.echo", b"{}"))
            .await),
        case!("data before the ack", Closed(early_data), |p| {
            p.handshake(PROMPT).await;
            p.send_message(&request(1, "target.echo", b"{}")).await;
        }),
        case!(
            "ack before the handshake",
            Closed("protocol violation: handshake ack out of order"),
            |p| p.send_packet(Packet::handshake_ack()).await
        ),
        case!(
            "a second handshake",
            Closed("protocol violation: second handshake"),
            |p| {
                p.handshake_and_ack(PROMPT).await;
                p.send_packet(Packet::handshake(&b"{}"[..])).await;
            }
        ),
        case!(
            "a response sent by a client",
            Closed("protocol violation: response or push sent by a client"),
            |p| {
                p.handshake_and_ack(PROMPT).await;
                let response = Message::Response {
                    id: 1,
                    payload: Bytes::new(),
                    error: false,
                };
                p.send_message(&response).await;
            }
        ),
        case!(
            "a push sent by a client",
            Closed("protocol violation: response or push sent by a client"),
            |p| {
                p.handshake_and_ack(PROMPT).await;
                let push = Message::Push {
                    route: Route::from("onX"),
                    payload: Bytes::new(),
                };
                p.send_message(&push).await;
            }
        ),
        case!(
            "a kick sent by a client",
            Closed("protocol violation: kick sent by a client"),
            |p| {
                p.handshake_and_ack(PROMPT).await;
                p.send_packet(Packet::kick(&br#"{"reason":"ha"}"#[..]))
                    .await;
            }
        ),
    ]
}

/// A Data packet's body after a good handshake: every way it can fail to be a message.
fn message_cases() -> Vec<Case> {
    use Expect::*;
    /// Handshakes, then sends one Data packet with this body.
    macro_rules! data_case {
        ($name:literal, $reason:literal, $body:literal) => {
            case!($name, Closed($reason), |p| {
                p.handshake_and_ack(PROMPT).await;
                p.send_packet(Packet::data(&$body[..])).await
            })
        };
    }
    vec![
        case!(
            "unknown dictionary code",
            Closed("protocol error: unknown route dictionary code 999"),
            |p| {
                p.handshake_and_ack(PROMPT).await;
                let message = Message::Request {
                    id: 1,
                    route: Route::Code(999),
                    payload: Bytes::new(),
                };
                p.send_message(&message).await;
            }
        ),
        data_case!(
            "route length past the end",
            "protocol error: route of 32 bytes runs past the end",
            b"\x00\x01\x20room"
        ),
        data_case!(
            "truncated compressed route",
            "protocol error: message truncated inside the 2-byte compressed route",
            b"\x01\x01\x00"
        ),
        data_case!(
            "invalid UTF-8 route",
            "protocol error: route is not valid UTF-8",
            b"\x02\x02\xc3\x28{}"
        ),
        data_case!(
            "varint overflow",
            "protocol error: message id varint overflows u64",
            b"\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
        ),
        data_case!(
            "message type above 3",
            "protocol error: invalid message type 7",
            b"\x0e\x01\x00"
        ),
        data_case!(
            "reserved flag bits",
            "protocol error: unsupported flag bits set in message flag 0x80",
            b"\x80\x01\x00"
        ),
        data_case!("empty data packet", "protocol error: empty message", b""),
    ]
}

/// Input the server answers or ignores, and goes on serving.
fn served_cases() -> Vec<Case> {
    use Expect::*;
    vec![
        case!("request to an unknown route", ErrorResponse(404), |p| {
            p.handshake_and_ack(PROMPT).await;
            p.send_message(&request(1, "target.nope", b"{}")).await;
        }),
        case!("undecodable payload", ErrorResponse(400), |p| {
            p.handshake_and_ack(PROMPT).await;
            p.send_message(&request(1, "target.echo", b"{not json"))
                .await;
        }),
        case!("a body of exactly the limit", ErrorResponse(400), |p| {
            p.handshake_and_ack(PROMPT).await;
            let mut payload = vec![b' '; 65_536 - 14]; // flag, id, route length, "target.echo"
            payload[0] = b'[';
            let message = Message::Request {
                id: 1,
                route: Route::from("target.echo"),
                payload: payload.into(),
            };
            p.send_message(&message).await;
        }),
        case!("request id 0 is treated as a notify", Ignored, |p| {
            p.handshake_and_ack(PROMPT).await;
            p.send_message(&request(0, "target.echo", b"{}")).await;
        }),
        case!("notify to an unknown route", Ignored, |p| {
            p.handshake_and_ack(PROMPT).await;
            let notify = Message::Notify {
                route: Route::from("no.where"),
                payload: Bytes::new(),
            };
            p.send_message(&notify).await;
        }),
        case!("empty handshake body is fine", Ignored, |p| {
            p.send_packet(Packet::handshake(Bytes::new())).await;
            assert!(matches!(p.next(PROMPT).await, Event::Packet(_)));
            p.send_packet(Packet::handshake_ack()).await;
        }),
    ]
}

/// Well-formed input at a pace the server must not take: floods and a peer that never reads.
fn behaviour_cases() -> Vec<Case> {
    use Expect::*;
    vec![
        case!(
            "a message flood from one session",
            Kicked("rate limit exceeded"),
            |p| {
                p.handshake_and_ack(PROMPT).await;
                let notify = Message::Notify {
                    route: Route::from("target.note"),
                    payload: Bytes::from_static(b"{}"),
                };
                let notify = EncodedPacket::from_message(&notify, None).unwrap();
                let burst = notify.as_bytes().repeat(1_000);
                p.send(&burst).await;
            }
        ),
        case!("a client that never reads", Kicked("slow consumer"), |p| {
            never_read_while_spammed(p).await;
        }),
    ]
}

/// Asks for 2 MB of pushes and reads nothing until the server has pushed them all (or the
/// session refused one): a peer that read meanwhile could keep up and never be kicked.
async fn never_read_while_spammed(peer: &mut Peer) {
    peer.handshake_and_ack(PROMPT).await;
    let tag = peer.local_addr().to_string();
    let notify = Message::Notify {
        route: Route::from("target.spam"),
        payload: serde_json::to_vec(&tag).unwrap().into(),
    };
    peer.send_message(&notify).await;
    let spammed = || SPAMMED.lock().unwrap().contains(&tag);
    assert!(
        wait_for(PROMPT, spammed).await,
        "the server did not finish spamming {tag}"
    );
}

/// What only a WebSocket peer can send.
fn websocket_cases() -> Vec<Case> {
    use Expect::*;
    let ws = Some(Transport::Ws);
    vec![
        case!(
            "a text frame",
            ws,
            WsClose(
                CloseCode::Protocol,
                "protocol error: text WebSocket message"
            ),
            |p| p.send_text("{\"sys\":{}}").await
        ),
        case!(
            "a message over the size limit",
            ws,
            WsClose(
                CloseCode::Size,
                "protocol error: i/o error: Message too long"
            ),
            |p| p.send(&vec![0u8; 200 * 1024]).await
        ),
    ]
}

/// One case over one transport, and what its peer saw.
struct Run<'a> {
    case: &'a Case,
    transport: Transport,
    label: String,
    peer: Peer,
    /// The peer's address, by which the server logs the session.
    client: SocketAddr,
}

impl Run<'_> {
    /// The reason the server logged for the session; fails the case if it is not `expected`.
    async fn assert_reason(&self, ends: &SessionEnds, expected: &str) {
        let label = &self.label;
        let reason = ends.of(self.client, LOG_WAIT).await;
        let reason = reason.unwrap_or_else(|| panic!("{label}: no session end logged"));
        assert!(
            reason.starts_with(expected),
            "{label}: closed for `{reason}`, expected `{expected}...`"
        );
    }

    /// Observes until the close; fails the case if it does not come within `within`.
    async fn closed_within(&mut self, within: Duration) -> (Vec<Packet>, Option<CloseCode>) {
        let (packets, end) = self.peer.observe(within).await;
        match end {
            Event::Closed(code) => (packets, code),
            other => panic!("{}: not closed within {within:?} ({other:?})", self.label),
        }
    }
}

/// Checks what a peer saw against what the case expects.
async fn check(run: &mut Run<'_>, ends: &SessionEnds) {
    match run.case.expect {
        Expect::Closed(reason) => closed_by(run, ends, reason).await,
        Expect::ClosedOver { tcp, ws } => {
            let reason = if run.transport == Transport::Tcp {
                tcp
            } else {
                ws
            };
            closed_by(run, ends, reason).await;
        }
        Expect::HandshakeTimeout => {
            let (packets, _) = run.closed_within(TIMEOUT_OBSERVE).await;
            only_refusals_before_the_close(&run.label, &packets);
            run.assert_reason(ends, "handshake timeout").await;
        }
        Expect::HandshakeRefused(code, reason) => {
            let (packets, _) = run.closed_within(PROMPT).await;
            let label = &run.label;
            let reply = packets.first();
            let reply = reply.unwrap_or_else(|| panic!("{label}: no handshake reply"));
            let reply = HandshakeResponse::from_json(&reply.body).unwrap();
            assert_eq!(reply.code, code, "{label}");
            run.assert_reason(ends, reason).await;
        }
        Expect::WsClose(code, reason) => {
            let (_, got) = run.closed_within(PROMPT).await;
            assert_eq!(got, Some(code), "{}", run.label);
            run.assert_reason(ends, reason).await;
        }
        Expect::ErrorResponse(code) => {
            error_response(run, code).await;
            still_serving(&run.label, &mut run.peer).await;
        }
        Expect::Ignored => still_serving(&run.label, &mut run.peer).await,
        Expect::Kicked(reason) => {
            let (packets, _) = run.closed_within(PROMPT).await;
            kicked_with(&run.label, &packets, reason);
            run.assert_reason(ends, &format!("kicked: {reason}")).await;
        }
    }
}

/// The connection is closed within [`PROMPT`] for `reason`.
async fn closed_by(run: &mut Run<'_>, ends: &SessionEnds, reason: &str) {
    let (packets, _) = run.closed_within(PROMPT).await;
    only_refusals_before_the_close(&run.label, &packets);
    run.assert_reason(ends, reason).await;
}

/// Before a close, a peer may see a refused handshake reply (or a heartbeat), nothing else.
fn only_refusals_before_the_close(label: &str, packets: &[Packet]) {
    for packet in packets {
        assert!(
            matches!(packet.kind, PacketType::Handshake | PacketType::Heartbeat),
            "{label}: {packet:?}"
        );
        if packet.kind == PacketType::Handshake {
            let reply = HandshakeResponse::from_json(&packet.body).unwrap();
            assert_ne!(reply.code, 200, "{label}");
        }
    }
}

/// The last Kick among `packets` carries `reason`.
fn kicked_with(label: &str, packets: &[Packet], reason: &str) {
    let kick = packets.iter().rev().find(|p| p.kind == PacketType::Kick);
    let kick = kick.unwrap_or_else(|| panic!("{label}: no kick among {} packets", packets.len()));
    let expected = format!(r#"{{"reason":"{reason}"}}"#);
    assert_eq!(kick.body, Bytes::from(expected), "{label}");
}

/// Request 1 is answered with an error body of `code`.
async fn error_response(run: &mut Run<'_>, code: i32) {
    let label = &run.label;
    let packet = loop {
        match run.peer.next(PROMPT).await {
            Event::Packet(packet) if packet.kind == PacketType::Data => break packet,
            Event::Packet(_) => {}
            other => panic!("{label}: no response ({other:?})"),
        }
    };
    let Message::Response { id: 1, payload, .. } = Message::decode(packet.body).unwrap() else {
        panic!("{label}: not a response to request 1");
    };
    let body: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(body["code"], code, "{label}: {body}");
}

/// The same connection still answers a valid request.
async fn still_serving(label: &str, peer: &mut Peer) {
    peer.send_message(&request(77, "target.echo", br#"{"still":"here"}"#))
        .await;
    loop {
        match peer.next(PROMPT).await {
            Event::Packet(packet) if packet.kind == PacketType::Data => {
                let Message::Response { id, payload, .. } = Message::decode(packet.body).unwrap()
                else {
                    continue;
                };
                let expected = (77, &br#"{"still":"here"}"#[..]);
                assert_eq!((id, &payload[..]), expected, "{label}");
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

/// Runs one case over one transport against the server it belongs to.
async fn run_case(servers: &Servers, case: &Case, transport: Transport) {
    let server = match case.expect {
        Expect::HandshakeTimeout => &servers.short_timeout,
        _ => &servers.strict,
    };
    let mut peer = Peer::connect(transport, server.addr(transport)).await;
    let client = peer.local_addr();
    let label = format!("{} over {transport:?}", case.name);
    (case.steps)(&mut peer).await;
    let mut run = Run {
        case,
        transport,
        label,
        peer,
        client,
    };
    check(&mut run, &servers.ends).await;
    good_client_served(server, transport, &run.label).await;
}

/// The table as a `'static` slice, for the spawned runs.
fn cases_ref() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(cases)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_case_gets_its_outcome_and_nobody_else_is_disturbed() {
    let ends = SessionEnds::install();
    let servers = Arc::new(Servers {
        strict: Server::start(STRICT_TIMEOUTS, STRICT_TIMEOUTS).await,
        short_timeout: Server::start(SHORT_HANDSHAKE_TIMEOUT, STRICT_TIMEOUTS).await,
        ends,
    });
    let mut runs = tokio::task::JoinSet::new();
    for case in cases_ref() {
        for transport in [Transport::Tcp, Transport::Ws] {
            if case.only.is_some_and(|only| only != transport) {
                continue;
            }
            let servers = servers.clone();
            runs.spawn(async move { run_case(&servers, case, transport).await });
        }
    }
    assert!(runs.len() >= 60, "{} case runs", runs.len());
    // Every failing case is reported, not only the first.
    let mut failures = Vec::new();
    while let Some(run) = runs.join_next().await {
        if let Err(failure) = run {
            failures.push(panic_text(failure));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for server in [&servers.strict, &servers.short_timeout] {
        all_sessions_cleaned_up(&server.app).await;
    }
    let metrics = servers.strict.app.metrics();
    assert_eq!(
        metrics.kicks, 4,
        "two floods and two slow readers: {metrics:?}"
    );
    servers.strict.app.shutdown().await;
    servers.short_timeout.app.shutdown().await;
}

/// What a failed case run panicked with.
fn panic_text(failure: tokio::task::JoinError) -> String {
    let Ok(panic) = failure.try_into_panic() else {
        return "a case run was cancelled".to_owned();
    };
    match panic.downcast::<String>() {
        Ok(text) => *text,
        Err(panic) => panic.downcast_ref::<&str>().unwrap_or(&"?").to_string(),
    }
}

/// Everyone has gone; the server cleaned up every session.
async fn all_sessions_cleaned_up(app: &App) {
    let all_closed = async || app.metrics().sessions_open == 0;
    assert!(
        wait_until(Duration::from_secs(5), all_closed).await,
        "sessions left open: {:?}",
        app.metrics()
    );
}

/// Holds `count` raw TCP connections that never say a word.
async fn hold_tcp(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    held
}

/// A WebSocket upgrade to a full server is answered 503, before any upgrade.
async fn websocket_refused(addr: SocketAddr) {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let attempt = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await;
    match attempt {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 503, "{response:?}"),
        Err(other) => panic!("a WebSocket upgrade to a full server failed otherwise: {other}"),
        Ok(_) => panic!("a WebSocket was upgraded by a full server"),
    }
}

#[tokio::test]
async fn a_connection_flood_beyond_max_connections_is_refused_and_existing_sessions_are_fine() {
    let app = App::builder()
        .register(Target)
        .max_connections(20)
        .handshake_timeout(STRICT_TIMEOUTS) // the silent flood holds its slots
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
    // 200 silent TCP connections: 10 get the free slots, the other 190 are refused.
    let flood = hold_tcp(tcp, 200).await;
    let metrics = || app.metrics();
    let refused = |n| {
        wait_for(Duration::from_secs(10), move || {
            metrics().connections_refused == n
        })
    };
    assert!(refused(190).await, "{:?}", app.metrics());
    // With every slot taken, every WebSocket upgrade is refused with 503.
    for _ in 0..50 {
        websocket_refused(ws).await;
    }
    assert!(refused(240).await, "{:?}", app.metrics());
    for client in &existing {
        let answer: Value = client.request("target.echo", &json!(1)).await.unwrap();
        assert_eq!(answer, json!(1));
    }
    // Once the flood leaves, its slots are free again.
    drop(flood);
    let freed = async || app.metrics().sessions_open == 10;
    assert!(
        wait_until(Duration::from_secs(10), freed).await,
        "{:?}",
        app.metrics()
    );
    let newcomer = Client::connect(&format!("ws://{ws}/")).await.unwrap();
    let answer: Value = newcomer.request("target.echo", &json!(2)).await.unwrap();
    assert_eq!(answer, json!(2));
    app.shutdown().await;
}
