//! nano-ws: the runtime over WebSocket, WebSocket framing, bad HTTP and WebSocket input, a
//! third-party JavaScript client, TLS, and mounting into axum.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use nano_client::{Client, CloseReason};
use nano_core::TransportKind;
use nano_core::prelude::*;
use nano_core::protocol::{
    EncodedPacket, HandshakeResponse, Message, Packet, PacketCodec, PacketType, Route,
};
use nano_tests::node;
use nano_ws::WsConfig;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::codec::Decoder;

#[derive(Deserialize)]
struct Join {
    name: String,
}

#[derive(Serialize, Deserialize)]
struct Chat {
    name: String,
    content: String,
}

#[derive(Default)]
struct Room {
    members: Group,
}

#[component(name = "room")]
impl Room {
    #[handler]
    fn join(&self, session: &Session, join: Join) -> Result<Value, HandlerError> {
        self.members.add(session)?;
        session.set("name", join.name);
        let members: Vec<String> = self
            .members
            .members()
            .iter()
            .filter_map(|member| member.get::<String>("name"))
            .collect();
        session.push("onMembers", &json!({ "members": members }))?;
        Ok(json!({ "code": 0, "result": "success" }))
    }

    #[handler]
    fn message(&self, _session: &Session, chat: Chat) -> Result<(), HandlerError> {
        self.members.broadcast("onMessage", &chat)?;
        Ok(())
    }

    #[handler]
    fn transport(&self, session: &Session) -> String {
        format!("{:?}", session.transport())
    }

    #[handler]
    fn kick(&self, session: &Session) {
        session.kick("kicked over ws");
    }
}

async fn app_with_ws(config: WsConfig) -> (App, SocketAddr, SocketAddr) {
    let app = App::builder()
        .register(Room::default())
        .push_routes(["onMessage", "onMembers"])
        .build()
        .unwrap();
    let tcp = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let ws = nano_ws::listen(&app, "127.0.0.1:0", config).await.unwrap();
    (app, tcp, ws)
}

/// The transport of `client`'s session, as the server names it.
async fn transport_of(client: &Client) -> String {
    client
        .request::<_, String>("room.transport", &())
        .await
        .unwrap()
}

#[tokio::test]
async fn one_app_serves_tcp_and_websocket_clients_in_the_same_rooms() {
    let (app, tcp, ws) = app_with_ws(WsConfig::new().path("/nano")).await;
    let over_ws = Client::connect(&format!("ws://{ws}/nano")).await.unwrap();
    let over_tcp = Client::connect(&tcp.to_string()).await.unwrap();
    assert_eq!(transport_of(&over_ws).await, "WebSocket");
    assert_eq!(transport_of(&over_tcp).await, "Tcp");
    assert_eq!(format!("{:?}", TransportKind::WebSocket), "WebSocket");

    both_join_one_room_and_chat_across_transports(&over_ws, &over_tcp).await;
    errors_and_kicks_behave_as_over_tcp(&over_ws, ws).await;
    // Shutdown too.
    app.shutdown().await;
    assert_eq!(
        over_ws.closed().await,
        CloseReason::Kicked {
            reason: "server shutting down".into()
        }
    );
}

/// Both clients join the room: the WebSocket one gets the member list, then the TCP one's
/// message.
async fn both_join_one_room_and_chat_across_transports(over_ws: &Client, over_tcp: &Client) {
    let mut ws_messages = over_ws.subscribe("onMessage");
    let mut ws_members = over_ws.subscribe("onMembers");
    let joined = json!({ "code": 0, "result": "success" });
    for (client, name) in [(over_ws, "ws"), (over_tcp, "tcp")] {
        let answer: Value = client
            .request("room.join", &json!({ "name": name }))
            .await
            .unwrap();
        assert_eq!(answer, joined, "{name}");
    }
    let members: Value = ws_members.recv().await.unwrap().decode().unwrap();
    assert_eq!(members, json!({ "members": ["ws"] }));
    over_tcp
        .notify(
            "room.message",
            &json!({ "name": "tcp", "content": "across transports" }),
        )
        .await
        .unwrap();
    let chat: Value = ws_messages.recv().await.unwrap().decode().unwrap();
    assert_eq!(chat["content"], "across transports");
}

/// Errors and kicks reach WebSocket clients (`over_ws`, and one more of `ws`) as they reach
/// TCP ones.
async fn errors_and_kicks_behave_as_over_tcp(over_ws: &Client, ws: SocketAddr) {
    let err = over_ws
        .request::<_, Value>("room.nope", &())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    let kicked = Client::connect(&format!("ws://{ws}/nano")).await.unwrap();
    kicked.notify("room.kick", &()).await.unwrap();
    assert_eq!(
        kicked.closed().await,
        CloseReason::Kicked {
            reason: "kicked over ws".into()
        }
    );
}

type RawWs =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn raw_ws(url: &str) -> RawWs {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade")
        .0
}

fn packet_bytes(packet: Packet) -> Vec<u8> {
    EncodedPacket::from_packet(&packet)
        .unwrap()
        .as_bytes()
        .to_vec()
}

/// Reads binary messages until one packet decodes (each server packet is one message).
async fn next_packet(ws: &mut RawWs) -> Option<Packet> {
    loop {
        match ws.next().await? {
            Ok(WsMessage::Binary(bytes)) => {
                let mut buf = bytes::BytesMut::from(&bytes[..]);
                let packet = PacketCodec::default()
                    .decode(&mut buf)
                    .unwrap()
                    .expect("a whole packet");
                assert!(buf.is_empty(), "exactly one packet per WebSocket message");
                return Some(packet);
            }
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

#[tokio::test]
async fn packets_split_across_and_merged_within_websocket_messages() {
    let (app, _, ws) = app_with_ws(WsConfig::new()).await;
    let mut conn = raw_ws(&format!("ws://{ws}/")).await;

    // The handshake split over three messages.
    let hello = packet_bytes(Packet::handshake(
        &br#"{"sys":{"type":"raw-ws"},"user":{}}"#[..],
    ));
    for piece in [&hello[..2], &hello[2..10], &hello[10..]] {
        conn.send(WsMessage::Binary(Bytes::copy_from_slice(piece)))
            .await
            .unwrap();
    }
    let reply = next_packet(&mut conn).await.unwrap();
    assert_eq!(reply.kind, PacketType::Handshake);
    assert_eq!(HandshakeResponse::from_json(&reply.body).unwrap().code, 200);

    // The ack and two requests in one message, the end of the second in another.
    let mut merged = packet_bytes(Packet::handshake_ack());
    for id in [1, 2] {
        let request = Message::Request {
            id,
            route: Route::from("room.transport"),
            payload: Bytes::from_static(b"null"),
        };
        merged.extend_from_slice(
            EncodedPacket::from_message(&request, None)
                .unwrap()
                .as_bytes(),
        );
    }
    let tail = merged.split_off(merged.len() - 3);
    conn.send(WsMessage::Binary(merged.into())).await.unwrap();
    conn.send(WsMessage::Binary(tail.into())).await.unwrap();
    for expected in [1, 2] {
        let packet = next_packet(&mut conn).await.unwrap();
        let Message::Response { id, payload, .. } = Message::decode(packet.body).unwrap() else {
            panic!()
        };
        assert_eq!((id, &payload[..]), (expected, &br#""WebSocket""#[..]));
    }
    app.shutdown().await;
}

async fn close_code(conn: &mut RawWs) -> Option<CloseCode> {
    loop {
        match conn.next().await {
            Some(Ok(WsMessage::Close(frame))) => return frame.map(|frame| frame.code),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

#[tokio::test]
async fn a_text_message_closes_with_a_protocol_error_and_an_oversized_one_with_1009() {
    let (app, _, ws) = app_with_ws(WsConfig::new().max_message_size(1024)).await;
    let url = format!("ws://{ws}/");

    let mut text = raw_ws(&url).await;
    text.send(WsMessage::text("{\"sys\":{}}")).await.unwrap();
    assert_eq!(close_code(&mut text).await, Some(CloseCode::Protocol));

    let mut big = raw_ws(&url).await;
    big.send(WsMessage::Binary(vec![0u8; 4096].into()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut big).await, Some(CloseCode::Size));

    // A well-behaved client is served meanwhile.
    let client = Client::connect(&url).await.unwrap();
    assert_eq!(transport_of(&client).await, "WebSocket");
    app.shutdown().await;
}

async fn http_get(addr: SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = vec![0; 1024];
    let n = stream.read(&mut response).await.unwrap();
    String::from_utf8_lossy(&response[..n]).into_owned()
}

#[tokio::test]
async fn bad_http_requests_are_refused_without_upgrading() {
    let config = WsConfig::new()
        .path("/nano")
        .allow_origin(|origin| origin != Some("https://evil.example"));
    let (app, _, ws) = app_with_ws(config).await;
    let upgrade = |path: &str, origin: &str| {
        format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{origin}\r\n"
        )
    };
    let forbidden = http_get(ws, &upgrade("/nano", "Origin: https://evil.example\r\n")).await;
    assert!(forbidden.starts_with("HTTP/1.1 403"), "{forbidden}");
    let not_found = http_get(ws, &upgrade("/elsewhere", "")).await;
    assert!(not_found.starts_with("HTTP/1.1 404"), "{not_found}");
    let plain = http_get(ws, "GET /nano HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(plain.starts_with("HTTP/1.1 426"), "{plain}");
    let garbage = http_get(ws, "\x04\x00\x00\x02{}\r\n\r\n").await;
    assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage}");
    let ok = http_get(ws, &upgrade("/nano", "Origin: https://good.example\r\n")).await;
    assert!(ok.starts_with("HTTP/1.1 101"), "{ok}");
    assert!(
        ok.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "the RFC 6455 accept key: {ok}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_pomelo_client_websocket_npm_package_works_unmodified() {
    let (app, _, ws) = app_with_ws(WsConfig::new().path("/nano")).await;
    let port = ws.port().to_string();
    let output = tokio::task::spawn_blocking(move || {
        node::run_script("pomelo-ws-client.js", &["127.0.0.1", &port, "/nano"], b"")
    })
    .await
    .unwrap();
    let seen: Value =
        serde_json::from_str(output.trim()).unwrap_or_else(|_| panic!("bad output: {output}"));
    assert_eq!(seen["connected"], true, "{seen}");
    assert_eq!(
        seen["join"],
        json!({ "code": 0, "result": "success" }),
        "{seen}"
    );
    assert_eq!(
        seen["dict"]["room.join"], 1,
        "the client got the route dictionary: {seen}"
    );
    assert_eq!(
        seen["pushes"],
        json!([
            { "route": "onMembers", "body": { "members": ["js-client"] } },
            { "route": "onMessage", "body": { "name": "js-client", "content": "hello from node" } }
        ]),
        "{seen}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn secure_websocket_with_a_self_signed_certificate() {
    // `Err` only when a provider is already installed (by another test of this binary).
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_der = cert.cert.der().clone();
    let key_der =
        rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let server_tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key_der)
        .unwrap();
    let (app, _, ws) = app_with_ws(WsConfig::new().path("/nano").tls(Arc::new(server_tls))).await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der).unwrap();
    let client_tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let url = format!("wss://localhost:{}/nano", ws.port());
    let (stream, _) = tokio_tungstenite::connect_async_tls_with_config(
        url,
        None,
        true,
        Some(tokio_tungstenite::Connector::Rustls(Arc::new(client_tls))),
    )
    .await
    .expect("TLS upgrade");
    let transport = nano_ws::WsTransport::new(stream, 65_536);
    let client = nano_client::ClientBuilder::new()
        .connect_transport(transport)
        .await
        .unwrap();
    assert_eq!(transport_of(&client).await, "WebSocket");

    // Plain ws:// to a wss:// endpoint fails to upgrade.
    assert!(
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/nano", ws.port()))
            .await
            .is_err()
    );
    app.shutdown().await;
}

#[tokio::test]
async fn mounted_on_one_route_of_an_axum_app() {
    let app = App::builder().register(Room::default()).build().unwrap();
    let router = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route("/nano", nano_ws::axum::route(app.clone(), WsConfig::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn({
        let app = app.clone();
        async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { app.accepting_stopped().await })
            .await
            .unwrap();
        }
    });

    let health = http_get(addr, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("ok"),
        "{health}"
    );
    let client = Client::connect(&format!("ws://{addr}/nano")).await.unwrap();
    assert_eq!(transport_of(&client).await, "WebSocket");
    let plain = http_get(addr, "GET /nano HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(plain.starts_with("HTTP/1.1 426"), "{plain}");

    app.shutdown().await;
    assert!(matches!(client.closed().await, CloseReason::Kicked { .. }));
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap();
}
