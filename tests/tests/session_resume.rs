//! Session resume over real sockets (docs/PROTOCOL-EXTENSIONS.md): a dropped client comes back
//! to its session — id, uid, values, groups — with the pushes it missed replayed in order, its
//! lost responses answered again and no request handled twice; every refusal has its code;
//! the app's hooks tell drops, resumes and closes apart.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nano_core::protocol::{HandshakeResponse, Message, Packet, PacketType};
use nano_core::{App, ResumeConfig};
use nano_tests::raw::RawConn;
use nano_tests::resume::{Events, Resumable, Room, events_of, is_closed, response, start};
use nano_tests::wait::wait_until;
use serde_json::{Value, json};

/// Joins the room as `uid` on `conn` with request `id`.
async fn join(conn: &mut RawConn<tokio::net::TcpStream>, id: u64, uid: i64) {
    conn.request(id, "room.join", &uid.to_string()).await;
    response(conn, id).await;
}

/// Broadcasts `texts` from a second client in the room.
async fn say_all(addr: SocketAddr, texts: &[&str]) {
    let mut speaker = RawConn::tcp(addr).await;
    speaker.handshake().await;
    join(&mut speaker, 1, 99).await;
    for (i, text) in texts.iter().enumerate() {
        let id = 2 + i as u64;
        speaker
            .request(id, "room.say", &json!(text).to_string())
            .await;
        loop {
            if let Message::Response { id: got, .. } = speaker.recv_message().await
                && got == id
            {
                break;
            }
        }
    }
}

/// Whether the hooks' calls for the session of `want` come to be `want`.
async fn hooks_saw(events: &Events, want: &[(&'static str, u64)]) -> bool {
    let id = want.first().map_or(0, |(_, id)| *id);
    wait_until(Duration::from_secs(5), async || {
        events_of(events, id) == want
    })
    .await
}

#[tokio::test]
async fn without_resume_replies_carry_nothing_new() {
    let app = App::builder().register(Room::default()).build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let mut conn = RawConn::tcp(addr).await;
    let reply = conn
        .handshake_with(r#"{"sys":{},"user":{"resume":{"token":"1.00000000000000000000000000000001","received":0}}}"#)
        .await;
    assert_eq!(reply.code, 200);
    assert_eq!(reply.user, Value::Null, "no user.resume without resume on");
}

#[tokio::test]
async fn a_dropped_client_gets_its_session_and_the_pushes_it_missed_in_order() {
    let (_app, addr, events) = start(ResumeConfig::default()).await;
    let (mut client, mut conn) = Resumable::connect(addr).await;
    join(&mut conn, 1, 42).await;
    drop(conn);
    let id = client.session;
    assert!(hooks_saw(&events, &[("dropped", id)]).await, "{events:?}");

    say_all(addr, &["one", "two", "three"]).await;
    let (reply, mut conn) = client.resume(addr).await;
    assert!(reply.resumed, "{reply:?}");
    assert_eq!((reply.session, reply.replayed), (id, 3));
    for want in ["one", "two", "three"] {
        assert_eq!(
            client.recv_push(&mut conn).await,
            ("onSay".to_owned(), json!(want))
        );
    }
    conn.request(2, "room.whoami", "{}").await;
    let me = response(&mut conn, 2).await;
    assert_eq!(
        me,
        json!({"session": id, "uid": 42, "level": 7, "groups": 1, "connected": true})
    );
    assert_eq!(events_of(&events, id), [("dropped", id), ("resumed", id)]);
}

#[tokio::test]
async fn pushes_lost_in_flight_are_replayed_from_the_count_the_client_reports() {
    let (_app, addr, _events) = start(ResumeConfig::default()).await;
    let (mut client, mut conn) = Resumable::connect(addr).await;
    join(&mut conn, 1, 42).await;
    say_all(addr, &["a", "b", "c", "d", "e"]).await;
    // The client read two; the other three were "in flight" when the connection died.
    client.recv_push(&mut conn).await;
    client.recv_push(&mut conn).await;
    drop(conn);
    let (reply, mut conn) = client.resume(addr).await;
    assert_eq!(reply.replayed, 3, "{reply:?}");
    for want in ["c", "d", "e"] {
        assert_eq!(client.recv_push(&mut conn).await.1, json!(want));
    }
    // Then it carries on: a new push arrives once, after the replay.
    say_all(addr, &["f"]).await;
    assert_eq!(client.recv_push(&mut conn).await.1, json!("f"));
    assert_eq!(client.received, 6);
}

#[tokio::test]
async fn a_session_that_received_no_push_resumes_too() {
    let (_app, addr, _events) = start(ResumeConfig::default()).await;
    let (mut client, conn) = Resumable::connect(addr).await;
    let id = client.session;
    drop(conn);
    let (reply, mut conn) = client.resume(addr).await;
    assert!(reply.resumed && reply.replayed == 0, "{reply:?}");
    assert_eq!(reply.session, id);
    conn.request(1, "room.bump", "{}").await;
    assert_eq!(response(&mut conn, 1).await, json!(1));
}

#[tokio::test]
async fn five_resumes_in_a_row_each_with_a_new_token() {
    let (_app, addr, events) = start(ResumeConfig::default()).await;
    let (mut client, mut conn) = Resumable::connect(addr).await;
    join(&mut conn, 1, 5).await;
    let id = client.session;
    let mut tokens = vec![client.token.clone()];
    for round in 0..5 {
        drop(conn);
        say_all(addr, &[&format!("m{round}")]).await;
        let (reply, next) = client.resume(addr).await;
        conn = next;
        assert!(
            reply.resumed && reply.session == id,
            "round {round}: {reply:?}"
        );
        assert!(!tokens.contains(&reply.token), "a token came back");
        tokens.push(reply.token);
        assert_eq!(
            client.recv_push(&mut conn).await.1,
            json!(format!("m{round}"))
        );
    }
    let want: Vec<_> = (0..5)
        .flat_map(|_| [("dropped", id), ("resumed", id)])
        .collect();
    assert!(hooks_saw(&events, &want).await, "{events:?}");
}

#[tokio::test]
async fn a_lost_response_is_answered_again_and_its_request_handled_once() {
    let (_app, addr, _events) = start(ResumeConfig::default()).await;
    let (mut client, mut conn) = Resumable::connect(addr).await;
    conn.request(1, "room.bump", "{}").await;
    // The response is written, but the client dies before reading it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(conn);
    let (_, mut conn) = client.resume(addr).await;
    conn.request(1, "room.bump", "{}").await;
    assert_eq!(
        response(&mut conn, 1).await,
        json!(1),
        "the cached response"
    );
    conn.request(2, "room.bump", "{}").await;
    assert_eq!(
        response(&mut conn, 2).await,
        json!(2),
        "bump ran once for id 1"
    );
}

#[tokio::test]
async fn a_request_running_at_the_drop_answers_on_the_new_connection() {
    let (_app, addr, _events) = start(ResumeConfig::default()).await;
    let (mut client, mut conn) = Resumable::connect(addr).await;
    conn.request(1, "room.slow_bump", "300").await;
    drop(conn);
    let (_, mut conn) = client.resume(addr).await;
    conn.request(1, "room.slow_bump", "300").await;
    assert_eq!(response(&mut conn, 1).await, json!(1));
    conn.request(2, "room.bump", "{}").await;
    assert_eq!(response(&mut conn, 2).await, json!(2), "slow_bump ran once");
}

#[tokio::test]
async fn a_request_whose_response_is_gone_gets_410_and_is_not_handled_again() {
    let resume = ResumeConfig::default().response_cache(1);
    let (_app, addr, _events) = start(resume).await;
    let (mut client, mut conn) = Resumable::connect(addr).await;
    for id in 1..=3 {
        conn.request(id, "room.bump", "{}").await;
        response(&mut conn, id).await;
    }
    drop(conn);
    let (_, mut conn) = client.resume(addr).await;
    conn.request(1, "room.bump", "{}").await;
    assert_eq!(response(&mut conn, 1).await["code"], json!(410));
    conn.request(4, "room.bump", "{}").await;
    assert_eq!(response(&mut conn, 4).await, json!(4));
}

#[tokio::test]
async fn a_half_open_connection_is_replaced_by_the_resuming_one() {
    let (_app, addr, events) = start(ResumeConfig::default()).await;
    let (mut client, mut old) = Resumable::connect(addr).await;
    join(&mut old, 1, 8).await;
    let id = client.session;
    // The old connection still looks open to the server (a network switch).
    let (reply, mut new) = client.resume(addr).await;
    assert!(reply.resumed && reply.session == id, "{reply:?}");
    assert!(is_closed(&mut old).await, "the old connection is closed");
    new.request(2, "room.whoami", "{}").await;
    assert_eq!(response(&mut new, 2).await["uid"], json!(8));
    assert_eq!(events_of(&events, id), [("resumed", id)]);
}

/// The code of the refusal in a reply that did not resume.
fn refusal(reply: &HandshakeResponse) -> (u16, String) {
    let resume = nano_core::protocol::ResumeReply::from_user(&reply.user).expect("user.resume");
    assert!(!resume.resumed);
    let refused = resume.refused.expect("a refusal");
    (refused.code, refused.reason)
}

async fn handshake_reply(addr: SocketAddr, hello: &str) -> HandshakeResponse {
    let mut conn = RawConn::tcp(addr).await;
    conn.handshake_with(hello).await
}

#[tokio::test]
async fn unknown_forged_reused_and_malformed_tokens_are_refused_with_their_codes() {
    let (_app, addr, _events) = start(ResumeConfig::default()).await;
    let (mut client, conn) = Resumable::connect(addr).await;
    let id = client.session;
    let spent = client.clone();
    drop(conn);
    let (_, _conn) = client.resume(addr).await;

    let reused = handshake_reply(addr, &spent.hello()).await;
    assert_eq!(refusal(&reused), (4104, "reused".to_owned()));
    let forged = Resumable {
        token: format!("{id}.{:032x}", 12345),
        ..client.clone()
    };
    assert_eq!(
        refusal(&handshake_reply(addr, &forged.hello()).await).0,
        4103
    );
    let unknown = Resumable {
        token: format!("{}.{:032x}", id + 1000, 1),
        ..client.clone()
    };
    assert_eq!(
        refusal(&handshake_reply(addr, &unknown.hello()).await).0,
        4101
    );
    let malformed = Resumable {
        token: "not a token".to_owned(),
        ..client.clone()
    };
    let reply = handshake_reply(addr, &malformed.hello()).await;
    assert_eq!(refusal(&reply).0, 4101);
    // A refused client gets a fresh session, with its own token.
    let fresh = nano_core::protocol::ResumeReply::from_user(&reply.user).unwrap();
    assert_ne!(fresh.session, id);
    assert!(fresh.token.starts_with(&format!("{}.", fresh.session)));
    // A forged attempt did not disturb the session: its client resumes it.
    let mut still = client.clone();
    let mut conn = RawConn::tcp(addr).await;
    assert!(still.resume_on(&mut conn).await.resumed);
}

#[tokio::test]
async fn a_client_reporting_more_pushes_than_were_sent_is_refused() {
    let (_app, addr, _events) = start(ResumeConfig::default()).await;
    let (client, conn) = Resumable::connect(addr).await;
    drop(conn);
    let liar = Resumable {
        received: 3,
        ..client
    };
    assert_eq!(
        refusal(&handshake_reply(addr, &liar.hello()).await),
        (4107, "missed".to_owned())
    );
}

#[tokio::test]
async fn more_pushes_while_away_than_the_buffer_holds_close_the_session() {
    let (app, addr, events) = start(ResumeConfig::default().replay_capacity(2)).await;
    let (client, mut conn) = Resumable::connect(addr).await;
    join(&mut conn, 1, 3).await;
    let id = client.session;
    drop(conn);
    assert!(hooks_saw(&events, &[("dropped", id)]).await);
    say_all(addr, &["1", "2", "3"]).await;
    assert!(
        hooks_saw(&events, &[("dropped", id), ("closed", id)]).await,
        "{events:?}"
    );
    assert_eq!(
        refusal(&handshake_reply(addr, &client.hello()).await).0,
        4105
    );
    assert!(
        app.encode_metrics()
            .contains("nano_resume_overflows_total 1")
    );
}

#[tokio::test]
async fn a_kicked_session_is_not_resumed() {
    let (app, addr, events) = start(ResumeConfig::default()).await;
    let (client, conn) = Resumable::connect(addr).await;
    let id = client.session;
    drop(conn);
    assert!(hooks_saw(&events, &[("dropped", id)]).await);
    app.session(id)
        .expect("the dropped session is live")
        .session
        .kick("banned");
    assert!(hooks_saw(&events, &[("dropped", id), ("closed", id)]).await);
    assert_eq!(
        refusal(&handshake_reply(addr, &client.hello()).await),
        (4106, "ended".to_owned())
    );
}

#[tokio::test]
async fn a_kick_racing_a_resume_ends_the_session_either_way() {
    let (app, addr, events) = start(ResumeConfig::default()).await;
    let (client, conn) = Resumable::connect(addr).await;
    let id = client.session;
    drop(conn);
    assert!(hooks_saw(&events, &[("dropped", id)]).await);
    let session = app.session(id).expect("live").session;
    let mut conn = RawConn::tcp(addr).await;
    let hello = client.hello();
    let (reply, ()) = tokio::join!(conn.handshake_with(&hello), async { session.kick("race") });
    // Resumed and then kicked, or refused as ended: never resumed and left running.
    let resume = nano_core::protocol::ResumeReply::from_user(&reply.user).unwrap();
    if resume.resumed {
        conn.send(Packet::handshake_ack()).await;
        let seen = conn.until_closed().await;
        assert!(seen.iter().any(|p| p.kind == PacketType::Kick));
    } else {
        assert_eq!(resume.refused.unwrap().code, 4106);
    }
    assert!(wait_until(Duration::from_secs(5), async || session.is_closed()).await);
}

#[tokio::test]
async fn a_resume_during_graceful_shutdown_is_refused_cleanly() {
    let (app, addr, events) = start(ResumeConfig::default()).await;
    let (client, conn) = Resumable::connect(addr).await;
    let id = client.session;
    drop(conn);
    assert!(hooks_saw(&events, &[("dropped", id)]).await);
    // Accepted before the shutdown, it asks to resume while the shutdown runs.
    let mut late = RawConn::tcp(addr).await;
    assert!(wait_until(Duration::from_secs(5), async || app.session_count() == 2).await);
    let shutdown = tokio::spawn({
        let app = app.clone();
        async move { app.shutdown().await }
    });
    late.send(Packet::handshake(client.hello().into_bytes()))
        .await;
    // Refused with 503, or kicked as every connection is: never resumed.
    let answer = late.recv().await.expect("an answer");
    match answer.kind {
        PacketType::Handshake => {
            assert_eq!(
                HandshakeResponse::from_json(&answer.body).unwrap().code,
                503
            );
        }
        PacketType::Kick => {}
        other => panic!("unexpected {other:?}"),
    }
    shutdown.await.unwrap();
    assert!(
        hooks_saw(&events, &[("dropped", id), ("closed", id)]).await,
        "closed at shutdown"
    );
}

#[tokio::test(start_paused = true)]
async fn the_session_closes_when_the_grace_window_ends_not_at_the_drop() {
    let grace = Duration::from_secs(60);
    let events = Events::default();
    let (dropped, closed) = (events.clone(), events.clone());
    let app = App::builder()
        .register(Room::default())
        .resume(ResumeConfig::default().grace(grace))
        .on_session_dropped(move |s| dropped.lock().unwrap().push(("dropped", s.id())))
        .on_session_closed(move |s| closed.lock().unwrap().push(("closed", s.id())))
        .build()
        .unwrap();
    let (client_end, server_end) = tokio::io::duplex(64 * 1024);
    app.serve_stream(server_end, None);
    let mut conn = RawConn::new(client_end);
    let reply = conn.handshake().await;
    let mut client = Resumable::default();
    client.take(&reply);
    conn.request(1, "room.join", "4").await;
    response(&mut conn, 1).await;
    let id = client.session;
    let closed_callback = Arc::new(AtomicU64::new(0));
    let flag = closed_callback.clone();
    app.session(id)
        .unwrap()
        .session
        .on_close(move |_| flag.store(1, Ordering::SeqCst));
    drop(conn);

    tokio::time::sleep(grace - Duration::from_secs(1)).await;
    assert_eq!(events.lock().unwrap().as_slice(), [("dropped", id)]);
    assert!(app.encode_metrics().contains("nano_sessions_dropped 1"));
    assert_eq!(
        closed_callback.load(Ordering::SeqCst),
        0,
        "no close callback yet"
    );
    assert_eq!(
        app.session(id).unwrap().groups.len(),
        1,
        "still in its group"
    );
    assert!(!app.session(id).unwrap().connected, "admins see it dropped");

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        events.lock().unwrap().as_slice(),
        [("dropped", id), ("closed", id)]
    );
    assert_eq!(closed_callback.load(Ordering::SeqCst), 1);
    assert!(app.encode_metrics().contains("nano_sessions_dropped 0"));
    let mut late = RawConn::new({
        let (client_end, server_end) = tokio::io::duplex(64 * 1024);
        app.serve_stream(server_end, None);
        client_end
    });
    let reply = late.handshake_with(&client.hello()).await;
    assert_eq!(refusal(&reply), (4102, "expired".to_owned()));
}

#[tokio::test]
async fn metrics_count_resumes_by_outcome_and_pushes_replayed() {
    let (app, addr, _events) = start(ResumeConfig::default()).await;
    let (mut client, mut conn) = Resumable::connect(addr).await;
    join(&mut conn, 1, 1).await;
    drop(conn);
    say_all(addr, &["x", "y"]).await;
    let spent = client.clone();
    let (_, mut conn) = client.resume(addr).await;
    client.recv_push(&mut conn).await;
    client.recv_push(&mut conn).await;
    handshake_reply(addr, &spent.hello()).await;
    let metrics = app.encode_metrics();
    for line in [
        "nano_resumes_total{outcome=\"resumed\"} 1",
        "nano_resumes_total{outcome=\"reused\"} 1",
        "nano_resume_replayed_pushes_total 2",
    ] {
        assert!(metrics.contains(line), "no {line} in\n{metrics}");
    }
}
