//! nano-client against a minimal in-test server built from the codec alone.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use nano_client::{Client, ClientBuilder, ClientError, CloseReason, Serializer};
use nano_core::protocol::{
    HandshakeResponse, Message, Packet, PacketType, Route, RouteDict, ServerSys,
};
use nano_ws::WsTransport;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use support::{ServerConn, accept_tcp, duplex_pair, ok_reply, tcp_listener};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Join {
    name: String,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Joined {
    code: i32,
    result: String,
}

#[tokio::test]
async fn handshake_sends_user_data_and_learns_the_server_parameters() {
    let (listener, addr) = tcp_listener().await;
    let dict = RouteDict::from_routes(["room.join", "onMessage"]).unwrap();
    let reply_dict = dict.clone();
    let server = tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        let mut reply = ok_reply(Some(Duration::from_secs(7)), Some(reply_dict));
        reply.user = json!({ "motd": "welcome" });
        conn.handshake(reply).await
    });

    let client = ClientBuilder::new()
        .handshake_user(json!({ "token": "t0k3n" }))
        .connect(&addr)
        .await
        .unwrap();
    let seen = server.await.unwrap();
    assert_eq!(seen.user, json!({ "token": "t0k3n" }));
    assert_eq!(seen.sys.client_type.as_deref(), Some("rust-nano-client"));

    assert_eq!(client.heartbeat_interval(), Some(Duration::from_secs(7)));
    assert_eq!(client.dict(), dict);
    assert_eq!(client.handshake().user["motd"], "welcome");
    assert_eq!(client.serializer(), &Serializer::Json);
}

#[tokio::test]
async fn a_rejected_handshake_is_an_error_with_the_code() {
    let (listener, addr) = tcp_listener().await;
    let (done, client_done) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(HandshakeResponse::error(HandshakeResponse::OLD_CLIENT))
            .await;
        // The socket stays open until the client has its answer: the refusal alone must end
        // the connect, not the close.
        client_done.await.ok();
        drop(conn);
    });
    let err = Client::connect(&addr).await.unwrap_err();
    done.send(()).unwrap();
    assert!(
        matches!(err, ClientError::HandshakeRejected { code: 501, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn typed_request_and_response() {
    let (listener, addr) = tcp_listener().await;
    tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, None)).await;
        let Message::Request { id, route, payload } = conn.recv_message(None).await else {
            panic!("expected a request")
        };
        assert_eq!(route, Route::from("room.join"));
        assert_eq!(&payload[..], br#"{"name":"ann"}"#);
        conn.respond(id, br#"{"code":0,"result":"success"}"#).await;
        conn.recv_packet().await; // hold the connection until the client closes
    });

    let client = Client::connect(&addr).await.unwrap();
    let joined: Joined = client
        .request("room.join", &Join { name: "ann".into() })
        .await
        .unwrap();
    assert_eq!(
        joined,
        Joined {
            code: 0,
            result: "success".into()
        }
    );
}

#[tokio::test]
async fn raw_request_bypasses_the_serializer() {
    let (listener, addr) = tcp_listener().await;
    tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, None)).await;
        let Message::Request { id, payload, .. } = conn.recv_message(None).await else {
            panic!()
        };
        assert_eq!(&payload[..], b"\x00\xffnot json");
        conn.respond(id, b"\x01\x02").await;
        conn.recv_packet().await;
    });
    let client = Client::connect(&addr).await.unwrap();
    let answer = client
        .request_raw("bin.echo", &b"\x00\xffnot json"[..])
        .await
        .unwrap();
    assert_eq!(&answer[..], b"\x01\x02");
}

#[tokio::test]
async fn notify_reaches_the_server() {
    let (listener, addr) = tcp_listener().await;
    let server = tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, None)).await;
        conn.recv_message(None).await
    });
    let client = Client::connect(&addr).await.unwrap();
    client
        .notify("room.message", &json!({ "content": "hi" }))
        .await
        .unwrap();
    let message = server.await.unwrap();
    assert_eq!(
        message,
        Message::Notify {
            route: Route::from("room.message"),
            payload: Bytes::from_static(br#"{"content":"hi"}"#)
        }
    );
}

#[tokio::test]
async fn pushes_by_route_and_all_pushes() {
    let (listener, addr) = tcp_listener().await;
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, None)).await;
        go_rx.await.unwrap();
        for (route, body) in [("onMessage", "1"), ("onNewUser", "2"), ("onMessage", "3")] {
            let push = Message::Push {
                route: Route::from(route),
                payload: Bytes::from_static(body.as_bytes()),
            };
            conn.send_message(&push, None).await;
        }
        conn.recv_packet().await;
    });

    let client = Client::connect(&addr).await.unwrap();
    let mut messages = client.subscribe("onMessage");
    let mut all = client.pushes();
    go_tx.send(()).unwrap();

    let first = messages.recv().await.unwrap();
    assert_eq!(
        (first.route.as_str(), first.decode::<u32>().unwrap()),
        ("onMessage", 1)
    );
    let second = messages.recv().await.unwrap();
    assert_eq!(
        (second.route.as_str(), second.decode::<u32>().unwrap()),
        ("onMessage", 3)
    );

    let mut routes = Vec::new();
    for _ in 0..3 {
        routes.push(all.recv().await.unwrap().route.to_string());
    }
    assert_eq!(routes, ["onMessage", "onNewUser", "onMessage"]);
}

#[tokio::test]
async fn a_full_subscription_drops_and_counts_instead_of_stalling() {
    let (listener, addr) = tcp_listener().await;
    tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, None)).await;
        // Wait for the client's first request, then push 10 and answer it.
        let Message::Request { id, .. } = conn.recv_message(None).await else {
            panic!()
        };
        for i in 0..10u8 {
            let push = Message::Push {
                route: Route::from("tick"),
                payload: Bytes::from(vec![b'0' + i]),
            };
            conn.send_message(&push, None).await;
        }
        conn.respond(id, b"{}").await;
        conn.recv_packet().await;
    });

    let client = ClientBuilder::new()
        .push_buffer(4)
        .connect(&addr)
        .await
        .unwrap();
    let mut ticks = client.subscribe("tick");
    // The response comes after the pushes, so all 10 have been dispatched once it is back.
    let answer: Value = client.request("sync.wait", &json!({})).await.unwrap();
    assert_eq!(answer, json!({}));
    assert_eq!(ticks.dropped(), 6);
    let kept: Vec<u8> = [
        ticks.recv().await,
        ticks.recv().await,
        ticks.recv().await,
        ticks.recv().await,
    ]
    .into_iter()
    .map(|push| push.unwrap().decode::<u8>().unwrap())
    .collect();
    assert_eq!(kept, [0, 1, 2, 3]);
}

#[tokio::test]
async fn many_concurrent_requests_on_one_connection() {
    const N: u64 = 1_000;
    let (listener, addr) = tcp_listener().await;
    tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, None)).await;
        // Collect every request first, then answer in reverse order: ids must be matched.
        let mut requests = Vec::new();
        for _ in 0..N {
            let Message::Request { id, payload, .. } = conn.recv_message(None).await else {
                panic!()
            };
            requests.push((id, payload));
        }
        for (id, payload) in requests.into_iter().rev() {
            conn.send_message(
                &Message::Response {
                    id,
                    payload,
                    error: false,
                },
                None,
            )
            .await;
        }
        conn.recv_packet().await;
    });

    let client = Client::connect(&addr).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..N {
        let client = client.clone();
        tasks.spawn(async move {
            let echoed: u64 = client.request("echo.echo", &n).await.unwrap();
            assert_eq!(echoed, n);
            n
        });
    }
    let mut seen = HashSet::new();
    while let Some(n) = tasks.join_next().await {
        assert!(seen.insert(n.unwrap()));
    }
    assert_eq!(seen.len() as u64, N);
}

#[tokio::test]
async fn compressed_routes_are_used_both_ways() {
    let (listener, addr) = tcp_listener().await;
    let dict = RouteDict::from_routes(["room.join", "onMessage"]).unwrap();
    let server_dict = dict.clone();
    let (request_in, request_seen) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, Some(server_dict.clone())))
            .await;
        // The request must arrive with its route compressed: read the raw bytes.
        let packet = conn.recv_packet().await;
        assert_eq!(packet.kind, PacketType::Data);
        let raw = Message::decode(packet.body).unwrap();
        let Message::Request { id, route, .. } = &raw else {
            panic!()
        };
        assert_eq!(route, &Route::Code(1));
        request_in.send(()).unwrap();
        // A route outside the dictionary travels by name.
        let Message::Notify { route, .. } = conn.recv_message(None).await else {
            panic!()
        };
        assert_eq!(route, Route::from("room.other"));
        // Push `onMessage` compressed (code 2).
        let push = Message::Push {
            route: Route::from("onMessage"),
            payload: Bytes::from_static(b"{}"),
        };
        conn.send_message(&push, Some(&server_dict)).await;
        conn.respond(*id, b"{}").await;
        conn.recv_packet().await;
    });

    let client = Client::connect(&addr).await.unwrap();
    let mut pushes = client.subscribe("onMessage");
    let pending = {
        let client = client.clone();
        tokio::spawn(async move { client.request::<_, Value>("room.join", &json!({})).await })
    };
    // The notify goes out once the server has the request: the order is the point.
    request_seen.await.unwrap();
    client.notify("room.other", &json!({})).await.unwrap();
    let push = pushes.recv().await.unwrap();
    assert_eq!(push.route.as_str(), "onMessage");
    pending.await.unwrap().unwrap();
    server.abort();
}

#[tokio::test]
async fn error_bodies_and_error_flags_are_errors() {
    let (listener, addr) = tcp_listener().await;
    tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, None)).await;
        let Message::Request { id, .. } = conn.recv_message(None).await else {
            panic!()
        };
        conn.respond(id, br#"{"code":404,"msg":"unknown route `nope.nope`"}"#)
            .await;
        let Message::Request { id, .. } = conn.recv_message(None).await else {
            panic!()
        };
        let flagged = Message::Response {
            id,
            payload: Bytes::from_static(b"boom"),
            error: true,
        };
        conn.send_message(&flagged, None).await;
        let Message::Request { id, .. } = conn.recv_message(None).await else {
            panic!()
        };
        // `code: 0` with a message is a success in nano's convention.
        conn.respond(id, br#"{"code":0,"msg":"fine"}"#).await;
        conn.recv_packet().await;
    });
    let client = Client::connect(&addr).await.unwrap();

    let err = client
        .request::<_, Value>("nope.nope", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Server { code: 404, message } if message.contains("nope.nope")),
        "{err}"
    );
    let err = client
        .request_raw("flag.flag", Bytes::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Server { code: 500, message } if message == "boom"),
        "{err}"
    );
    let fine: Value = client.request("ok.ok", &json!({})).await.unwrap();
    assert_eq!(fine["msg"], "fine");
}

#[tokio::test]
async fn a_kick_ends_the_connection_with_its_reason() {
    let (listener, addr) = tcp_listener().await;
    let (done, client_done) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, None)).await;
        conn.recv_message(None).await; // a request that is never answered
        conn.kick("duplicate login").await;
        // Open until the client has seen the kick: the Kick alone must end the connection.
        client_done.await.ok();
        drop(conn);
    });
    let client = Client::connect(&addr).await.unwrap();
    let err = client
        .request_raw("slow.slow", Bytes::new())
        .await
        .unwrap_err();
    let kicked = CloseReason::Kicked {
        reason: "duplicate login".into(),
    };
    assert!(
        matches!(&err, ClientError::Closed(reason) if *reason == kicked),
        "{err}"
    );
    assert_eq!(client.closed().await, kicked);
    done.send(()).unwrap();
    assert_eq!(client.close_reason(), Some(kicked.clone()));
    // Later operations fail with the same reason.
    let err = client.notify("x.y", &json!({})).await.unwrap_err();
    assert!(matches!(err, ClientError::Closed(_)), "{err}");
}

#[tokio::test]
async fn server_closing_is_reported() {
    let (listener, addr) = tcp_listener().await;
    tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, None)).await;
    });
    let client = Client::connect(&addr).await.unwrap();
    assert_eq!(client.closed().await, CloseReason::ServerClosed);
}

#[tokio::test]
async fn close_ends_the_connection_for_the_server_too() {
    let (listener, addr) = tcp_listener().await;
    let server = tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, None)).await;
        conn.try_recv_packet().await
    });
    let client = Client::connect(&addr).await.unwrap();
    client.close().await;
    assert_eq!(client.close_reason(), Some(CloseReason::ClosedByClient));
    assert_eq!(server.await.unwrap(), None);
}

#[tokio::test]
async fn dropping_every_handle_closes_the_connection() {
    let (listener, addr) = tcp_listener().await;
    let server = tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        conn.handshake(ok_reply(None, None)).await;
        conn.try_recv_packet().await
    });
    let client = Client::connect(&addr).await.unwrap();
    drop(client);
    assert_eq!(server.await.unwrap(), None);
}

#[tokio::test]
async fn message_pack_when_the_server_announces_it() {
    let (listener, addr) = tcp_listener().await;
    tokio::spawn(async move {
        let mut conn = accept_tcp(&listener).await;
        let mut reply = ok_reply(None, None);
        reply.sys.as_mut().unwrap().serializer = Some("msgpack".into());
        conn.handshake(reply).await;
        let Message::Request { id, payload, .. } = conn.recv_message(None).await else {
            panic!()
        };
        let join: Join = rmp_serde::from_slice(&payload).unwrap();
        let answer = rmp_serde::to_vec_named(&Joined {
            code: 0,
            result: join.name,
        })
        .unwrap();
        conn.send_message(
            &Message::Response {
                id,
                payload: answer.into(),
                error: false,
            },
            None,
        )
        .await;
        conn.recv_packet().await;
    });
    let client = Client::connect(&addr).await.unwrap();
    assert_eq!(client.serializer(), &Serializer::MessagePack);
    let joined: Joined = client
        .request("room.join", &Join { name: "bob".into() })
        .await
        .unwrap();
    assert_eq!(joined.result, "bob");
}

#[tokio::test]
async fn connecting_to_a_closed_port_fails_fast() {
    let (listener, addr) = tcp_listener().await;
    drop(listener);
    let err = Client::connect(&addr).await.unwrap_err();
    assert!(matches!(err, ClientError::Io(_)), "{err}");
    let err = Client::connect("http://example.invalid/")
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::InvalidTarget(_)), "{err}");
}

// ---- with tokio's paused clock, over in-memory pipes ----

#[tokio::test(start_paused = true)]
async fn heartbeats_go_out_at_the_interval_and_answer_the_servers() {
    let (transport, mut conn) = duplex_pair();
    let server = tokio::spawn(async move {
        conn.handshake(ok_reply(Some(Duration::from_secs(10)), None))
            .await;
        let start = tokio::time::Instant::now();
        // The client's own beat, one interval after the handshake.
        let beat = conn.recv_packet().await;
        assert_eq!(beat.kind, PacketType::Heartbeat);
        assert_eq!(start.elapsed(), Duration::from_secs(10));
        // A server beat is answered at once.
        tokio::time::sleep(Duration::from_secs(3)).await;
        conn.send_packet(Packet::heartbeat()).await;
        let answered_at = tokio::time::Instant::now();
        let answer = conn.recv_packet().await;
        assert_eq!(answer.kind, PacketType::Heartbeat);
        assert_eq!(answered_at.elapsed(), Duration::ZERO);
        conn
    });
    let client = ClientBuilder::new()
        .connect_transport(transport)
        .await
        .unwrap();
    let _conn = server.await.unwrap();
    assert_eq!(client.close_reason(), None);
}

#[tokio::test(start_paused = true)]
async fn a_silent_server_is_declared_dead_after_two_intervals() {
    let (transport, mut conn) = duplex_pair();
    let server = tokio::spawn(async move {
        conn.handshake(ok_reply(Some(Duration::from_secs(5)), None))
            .await;
        // Swallow the client's heartbeats, never send anything.
        while conn.try_recv_packet().await.is_some() {}
    });
    let client = ClientBuilder::new()
        .connect_transport(transport)
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    assert_eq!(client.closed().await, CloseReason::HeartbeatTimeout);
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    server.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn server_traffic_keeps_the_connection_alive() {
    let (transport, mut conn) = duplex_pair();
    tokio::spawn(async move {
        conn.handshake(ok_reply(Some(Duration::from_secs(5)), None))
            .await;
        // A push every 4 s: never 10 s of silence.
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_secs(4)).await;
            let push = Message::Push {
                route: Route::from("tick"),
                payload: Bytes::from_static(b"1"),
            };
            conn.send_message(&push, None).await;
        }
        while conn.try_recv_packet().await.is_some() {}
    });
    let client = ClientBuilder::new()
        .connect_transport(transport)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(39)).await;
    assert_eq!(client.close_reason(), None);
    // Then the server falls silent and the client gives up two intervals after the last push.
    assert_eq!(client.closed().await, CloseReason::HeartbeatTimeout);
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_request_times_out_and_the_connection_lives_on() {
    let (transport, mut conn) = duplex_pair();
    tokio::spawn(async move {
        conn.handshake(ok_reply(None, None)).await;
        let Message::Request { .. } = conn.recv_message(None).await else {
            panic!()
        };
        let Message::Request { id, .. } = conn.recv_message(None).await else {
            panic!()
        };
        conn.respond(id, b"2").await;
        while conn.try_recv_packet().await.is_some() {}
    });
    let client = ClientBuilder::new()
        .request_timeout(Duration::from_secs(3))
        .connect_transport(transport)
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    let err = client.request::<_, u32>("slow.slow", &1).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Timeout(d) if d == Duration::from_secs(3)),
        "{err}"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(client.request::<_, u32>("fast.fast", &2).await.unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_the_handshake_times_out() {
    let (transport, _conn) = duplex_pair();
    let start = tokio::time::Instant::now();
    let err = ClientBuilder::new()
        .connect_timeout(Duration::from_secs(4))
        .connect_transport(transport)
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::ConnectTimeout(_)), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(4));
}

#[tokio::test]
async fn sys_fields_the_client_does_not_know_are_kept() {
    let (transport, mut conn) = duplex_pair();
    tokio::spawn(async move {
        let mut sys = ServerSys::default();
        sys.extra.insert("region".into(), json!("eu-west"));
        conn.handshake(HandshakeResponse::ok(sys)).await;
        while conn.try_recv_packet().await.is_some() {}
    });
    let client = ClientBuilder::new()
        .connect_transport(transport)
        .await
        .unwrap();
    assert_eq!(
        client.handshake().sys.as_ref().unwrap().extra["region"],
        json!("eu-west")
    );
    assert_eq!(client.heartbeat_interval(), None);
}

#[tokio::test]
async fn websocket_request_notify_and_push() {
    let (listener, addr) = tcp_listener().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(stream).await.unwrap();
        let mut conn = ServerConn::new(WsTransport::new(ws, 65_536));
        conn.handshake(ok_reply(Some(Duration::from_secs(30)), None))
            .await;
        let Message::Request { id, route, payload } = conn.recv_message(None).await else {
            panic!()
        };
        assert_eq!(route, Route::from("room.join"));
        conn.send_message(
            &Message::Response {
                id,
                payload,
                error: false,
            },
            None,
        )
        .await;
        let Message::Notify { payload, .. } = conn.recv_message(None).await else {
            panic!()
        };
        conn.send_message(
            &Message::Push {
                route: Route::from("onMessage"),
                payload,
            },
            None,
        )
        .await;
        conn.try_recv_packet().await
    });

    let client = Client::connect(&format!("ws://{addr}/nano")).await.unwrap();
    let mut messages = client.subscribe("onMessage");
    let echoed: Join = client
        .request("room.join", &Join { name: "ws".into() })
        .await
        .unwrap();
    assert_eq!(echoed.name, "ws");
    client
        .notify("room.message", &json!({ "content": "over ws" }))
        .await
        .unwrap();
    let push: Value = messages.recv().await.unwrap().decode().unwrap();
    assert_eq!(push["content"], "over ws");
    client.close().await;
    assert_eq!(server.await.unwrap(), None);
}

#[tokio::test]
async fn an_unknown_serializer_is_a_connect_error_and_no_ack_goes_out() {
    let (transport, mut conn) = duplex_pair();
    let server = tokio::spawn(async move {
        let hello = conn.recv_packet().await;
        assert_eq!(hello.kind, PacketType::Handshake);
        let mut reply = ok_reply(None, None);
        reply.sys.as_mut().unwrap().serializer = Some("cbor".into());
        conn.send_packet(Packet::handshake(reply.to_json())).await;
        // The client hangs up without acknowledging the handshake.
        conn.try_recv_packet().await
    });
    let err = ClientBuilder::new()
        .connect_transport(transport)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::UnsupportedSerializer { name } if name == "cbor"),
        "{err}"
    );
    assert!(err.to_string().contains("`cbor`"), "{err}");
    assert_eq!(server.await.unwrap(), None, "no handshake ack");
}

#[tokio::test]
async fn an_accepted_serializer_name_connects() {
    let (transport, mut conn) = duplex_pair();
    tokio::spawn(async move {
        let mut reply = ok_reply(None, None);
        reply.sys.as_mut().unwrap().serializer = Some("company-codec".into());
        conn.handshake(reply).await;
        conn.try_recv_packet().await
    });
    let client = ClientBuilder::new()
        .accept_serializer("company-codec", Serializer::MessagePack)
        .connect_transport(transport)
        .await
        .unwrap();
    assert_eq!(client.serializer(), &Serializer::MessagePack);
}
