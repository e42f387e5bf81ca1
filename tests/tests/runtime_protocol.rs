//! The protocol state machine of docs/PROTOCOL.md section 4 as a raw client sees it: handshake
//! reply, validator, order of packets, heartbeats, timeouts, and route compression.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use nano_core::prelude::*;
use nano_core::protocol::{Message, Packet, PacketType, Route};
use nano_tests::raw::RawConn;
use serde_json::{Value, json};
use tokio::time::Instant;

struct Room;

#[component(name = "room")]
impl Room {
    #[handler]
    fn join(&self, session: &Session, body: Value) -> Value {
        session
            .push("onMessage", &json!({ "from": "room" }))
            .unwrap();
        json!({ "uid": session.uid(), "echo": body })
    }

    #[handler]
    fn message(&self, _session: &Session, _body: Value) {}
}

fn app_builder() -> nano_core::AppBuilder {
    App::builder()
        .register(Room)
        .push_routes(["onMessage", "onNewUser"])
}

#[tokio::test]
async fn the_handshake_reply_carries_heartbeat_dict_servertime_and_serializer() {
    let app = app_builder()
        .heartbeat_interval(Duration::from_secs(25))
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let mut conn = RawConn::tcp(addr).await;
    let reply = conn.handshake().await;
    let sys = reply.sys.expect("sys");
    assert_eq!(sys.heartbeat, Some(Duration::from_secs(25)));
    assert_eq!(sys.serializer.as_deref(), Some("json"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let servertime = sys.servertime.expect("servertime");
    assert!(
        servertime.abs_diff(now) <= 5,
        "servertime {servertime} vs now {now}"
    );
    let dict = sys.dict.expect("dict");
    let routes: Vec<(String, u16)> = dict
        .iter()
        .map(|(route, code)| (route.to_string(), code))
        .collect();
    assert_eq!(
        routes,
        [
            ("room.join".into(), 1),
            ("room.message".into(), 2),
            ("onMessage".into(), 3),
            ("onNewUser".into(), 4)
        ]
    );
    app.shutdown().await;
}

#[tokio::test]
async fn no_dict_key_when_the_dictionary_is_disabled() {
    let app = app_builder().use_dictionary(false).build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let mut conn = RawConn::tcp(addr).await;
    conn.send(Packet::handshake(Bytes::new())).await;
    let reply = conn.recv().await.unwrap();
    let reply: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(reply["code"], 200);
    assert!(reply["sys"].get("dict").is_none(), "{reply}");
    app.shutdown().await;
}

#[tokio::test]
async fn compressed_routes_are_accepted_and_pushes_go_out_compressed() {
    let app = app_builder().build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let mut conn = RawConn::tcp(addr).await;
    conn.handshake().await;
    // Request `room.join` by its code (1).
    conn.send_message(&Message::Request {
        id: 7,
        route: Route::Code(1),
        payload: Bytes::from_static(b"{}"),
    })
    .await;
    let push = conn.recv().await.unwrap();
    let raw = Message::decode(push.body).unwrap();
    assert_eq!(
        raw.route(),
        Some(&Route::Code(3)),
        "onMessage travels as its code"
    );
    let Message::Response { id, .. } = conn.recv_message().await else {
        panic!("response")
    };
    assert_eq!(id, 7);
    app.shutdown().await;
}

#[tokio::test]
async fn the_validator_sees_user_data_and_can_bind_or_refuse() {
    let app = app_builder()
        .handshake_validator(|handshake, session| async move {
            match handshake.user["token"].as_str() {
                Some("good") => {
                    session.bind(42).unwrap();
                    Ok(())
                }
                Some("old") => Err(HandshakeRejection::old_client()),
                _ => Err(HandshakeRejection::refused().with_user(json!({ "reason": "bad token" }))),
            }
        })
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();

    let mut good = RawConn::tcp(addr).await;
    let reply = good
        .handshake_with(r#"{"sys":{"type":"js-websocket"},"user":{"token":"good"}}"#)
        .await;
    assert_eq!(reply.code, 200);
    good.send(Packet::handshake_ack()).await;
    good.request(1, "room.join", r#"{"a":1}"#).await;
    assert!(matches!(good.recv_message().await, Message::Push { .. }));
    let Message::Response { payload, .. } = good.recv_message().await else {
        panic!()
    };
    let body: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(body, json!({ "uid": 42, "echo": { "a": 1 } }));

    for (token, code) in [("old", 501), ("nope", 500)] {
        let mut refused = RawConn::tcp(addr).await;
        let body = format!(r#"{{"user":{{"token":"{token}"}}}}"#);
        let reply = refused.handshake_with(&body).await;
        assert_eq!(reply.code, code);
        assert!(reply.sys.is_none());
        assert_eq!(refused.recv().await, None, "closed after the refusal");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn out_of_order_packets_close_the_connection() {
    let app = app_builder().build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let data = Message::Request {
        id: 1,
        route: Route::from("room.join"),
        payload: Bytes::from_static(b"{}"),
    };

    // Data before the handshake.
    let mut conn = RawConn::tcp(addr).await;
    conn.send_message(&data).await;
    assert_eq!(conn.recv().await, None);

    // Data after the handshake but before the ack.
    let mut conn = RawConn::tcp(addr).await;
    assert_eq!(conn.handshake_with("{}").await.code, 200);
    conn.send_message(&data).await;
    assert_eq!(conn.recv().await, None);

    // An ack without a handshake.
    let mut conn = RawConn::tcp(addr).await;
    conn.send(Packet::handshake_ack()).await;
    assert_eq!(conn.recv().await, None);

    // A second handshake.
    let mut conn = RawConn::tcp(addr).await;
    conn.handshake().await;
    conn.send(Packet::handshake(Bytes::from_static(b"{}")))
        .await;
    assert_eq!(conn.recv().await, None);

    // An unknown packet type.
    let mut conn = RawConn::tcp(addr).await;
    conn.handshake().await;
    conn.send_bytes(&[0x09, 0, 0, 0]).await;
    assert_eq!(conn.recv().await, None);

    // A push sent by a client.
    let mut conn = RawConn::tcp(addr).await;
    conn.handshake().await;
    conn.send_message(&Message::Push {
        route: Route::from("room.join"),
        payload: Bytes::new(),
    })
    .await;
    assert_eq!(conn.recv().await, None);

    // Meanwhile a well-behaved client is served.
    let mut good = RawConn::tcp(addr).await;
    good.handshake().await;
    good.request(5, "room.join", "{}").await;
    assert!(matches!(good.recv_message().await, Message::Push { .. }));
    assert!(matches!(
        good.recv_message().await,
        Message::Response { id: 5, .. }
    ));
    assert!(app.metrics().errors >= 6, "{:?}", app.metrics());
    app.shutdown().await;
}

#[tokio::test]
async fn a_request_with_a_bad_payload_or_route_gets_an_error_and_the_connection_stays() {
    let app = app_builder().build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let mut conn = RawConn::tcp(addr).await;
    conn.handshake().await;
    conn.request(1, "room.nope", "{}").await;
    let Message::Response {
        id: 1,
        payload,
        error: false,
    } = conn.recv_message().await
    else {
        panic!()
    };
    assert_eq!(
        serde_json::from_slice::<Value>(&payload).unwrap(),
        json!({ "code": 404, "msg": "unknown route `room.nope`" })
    );
    conn.request(2, "room.join", "{not json").await;
    let Message::Response { id: 2, payload, .. } = conn.recv_message().await else {
        panic!()
    };
    let body: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(body["code"], 400);
    assert!(
        body["msg"].as_str().unwrap().contains("room.join"),
        "{body}"
    );
    // Still serving.
    conn.request(3, "room.join", "{}").await;
    assert!(matches!(conn.recv_message().await, Message::Push { .. }));
    assert!(matches!(
        conn.recv_message().await,
        Message::Response { id: 3, .. }
    ));
    app.shutdown().await;
}

// ---- timing, with tokio's paused clock over in-memory pipes ----

fn paused_app(heartbeat: Duration, handshake_timeout: Duration) -> App {
    app_builder()
        .heartbeat_interval(heartbeat)
        .handshake_timeout(handshake_timeout)
        .build()
        .unwrap()
}

fn pipe(app: &App) -> RawConn<tokio::io::DuplexStream> {
    let (client, server) = tokio::io::duplex(64 * 1024);
    app.serve_stream(server, None);
    RawConn::new(client)
}

#[tokio::test(start_paused = true)]
async fn the_server_sends_a_heartbeat_every_interval() {
    let app = paused_app(Duration::from_secs(10), Duration::from_secs(5));
    let mut conn = pipe(&app);
    conn.handshake().await;
    let start = Instant::now();
    for n in 1..=3u32 {
        let packet = conn.recv().await.unwrap();
        assert_eq!(packet.kind, PacketType::Heartbeat);
        assert_eq!(start.elapsed(), Duration::from_secs(10) * n);
        conn.send(Packet::heartbeat()).await; // stay alive
    }
    app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_client_silent_for_more_than_two_intervals_is_closed_at_the_next_heartbeat() {
    let app = paused_app(Duration::from_secs(10), Duration::from_secs(5));
    let mut conn = pipe(&app);
    conn.handshake().await;
    let start = Instant::now();
    let seen = conn.until_closed().await;
    // Silent for exactly two intervals at the tick of 20 s: kept; for three at 30 s: closed.
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    assert_eq!(
        seen.iter()
            .filter(|p| p.kind == PacketType::Heartbeat)
            .count(),
        2
    );
    app.shutdown().await;
}

/// A pomelo client's heartbeats (`pomelo-client-websocket`'s `heartbeat` handler): it answers
/// a server heartbeat one interval later and ignores the server heartbeats that arrive while
/// it waits. When its timer lines up with the server's it beats every two intervals, late by
/// its timer's and the network's delay, which varies.
#[tokio::test(start_paused = true)]
async fn a_pomelo_style_client_beating_every_two_intervals_stays_connected() {
    let interval = Duration::from_secs(10);
    let app = paused_app(interval, Duration::from_secs(5));
    let mut conn = pipe(&app);
    conn.handshake().await;
    let delays = [1, 5].map(Duration::from_millis);
    let mut answer_at: Option<Instant> = None;
    for beat in 0..12 {
        loop {
            let answer = async {
                match answer_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                packet = conn.recv() => {
                    let packet = packet.expect("the server closed a client that beats");
                    if packet.kind == PacketType::Heartbeat && answer_at.is_none() {
                        answer_at = Some(Instant::now() + interval + delays[beat % 2]);
                    }
                }
                () = answer => break,
            }
        }
        conn.send(Packet::heartbeat()).await;
        answer_at = None;
    }
    conn.request(1, "room.join", "{}").await;
    assert!(matches!(conn.recv_message().await, Message::Push { .. }));
    app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn client_heartbeats_keep_a_session_alive() {
    let app = paused_app(Duration::from_secs(10), Duration::from_secs(5));
    let mut conn = pipe(&app);
    conn.handshake().await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(15)).await;
        conn.send(Packet::heartbeat()).await;
    }
    conn.request(1, "room.join", "{}").await;
    assert!(matches!(conn.recv_message().await, Message::Push { .. }));
    app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_never_handshakes_is_closed_at_the_handshake_timeout() {
    let app = paused_app(Duration::from_secs(30), Duration::from_secs(5));
    let start = Instant::now();
    let mut silent = pipe(&app);
    assert_eq!(silent.recv().await, None);
    assert_eq!(start.elapsed(), Duration::from_secs(5));

    // Handshake sent, ack never: same.
    let start = Instant::now();
    let mut no_ack = pipe(&app);
    assert_eq!(no_ack.handshake_with("{}").await.code, 200);
    assert_eq!(no_ack.recv().await, None);
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn bytes_trickled_one_per_second_do_not_hold_a_connection_open() {
    let app = paused_app(Duration::from_secs(30), Duration::from_secs(5));
    let mut conn = pipe(&app);
    let start = Instant::now();
    let handshake = b"\x01\x00\x00\x40{\"sys\":{\"type\":\"js-websocket\"}, \"user\": {\"pad\": \"xxxxxxxxxxx\"}}";
    let mut sent = 0;
    for byte in handshake {
        if !conn.try_send_bytes(&[*byte]).await {
            break;
        }
        sent += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        sent < handshake.len(),
        "the server kept reading a trickle for {sent} s"
    );
    assert_eq!(conn.recv().await, None);
    assert!(
        start.elapsed() <= Duration::from_secs(7),
        "{:?}",
        start.elapsed()
    );
    app.shutdown().await;
}
