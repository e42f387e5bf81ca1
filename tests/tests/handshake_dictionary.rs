//! The route dictionary in the handshake, for every client family (docs/CLIENTS.md): the reply
//! compared field by field with pomelo 2.x's own handshake command, the cached-dictionary
//! handshake, a stable `dictVersion`, bad `dictVersion`s, and a client written independently of
//! nano-rs's (tests/interop/dict-client.js) resolving compressed pushes through `codeToRoute`.

use std::time::Duration;

use bytes::Bytes;
use nano_core::prelude::*;
use nano_core::protocol::{Packet, RouteDict};
use nano_tests::{node, raw::RawConn};
use serde_json::{Value, json};

struct Room;

#[component(name = "room")]
impl Room {
    #[handler]
    fn join(&self, session: &Session, body: Value) -> Value {
        session
            .push("onJoined", &json!({ "name": body["name"] }))
            .unwrap();
        json!({ "ok": true })
    }

    #[handler]
    fn say(&self, session: &Session, body: Value) {
        session
            .push("onMessage", &json!({ "text": body["text"] }))
            .unwrap();
    }
}

fn app_builder() -> nano_core::AppBuilder {
    App::builder()
        .register(Room)
        .push_routes(["onJoined", "onMessage"])
        .heartbeat_interval(Duration::from_secs(30))
}

/// The `sys` of the server's reply to a handshake with `body`.
async fn handshake_sys(addr: std::net::SocketAddr, body: &str) -> Value {
    let mut conn = RawConn::tcp(addr).await;
    conn.send(Packet::handshake(Bytes::copy_from_slice(body.as_bytes())))
        .await;
    let reply = conn.recv().await.expect("a handshake reply");
    let reply: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(reply["code"], 200, "{reply}");
    reply["sys"].clone()
}

fn keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// Each field pomelo sends, sent by nano-rs with the same value (`dictVersion`: both a version
/// string; nano-rs's is its own hash, see `RouteDict::version`); nano-rs adds only `servertime`
/// and `serializer`.
fn assert_same_fields(ours: &Value, pomelo: &Value, version: &str) {
    for (key, theirs) in pomelo.as_object().expect("pomelo's sys") {
        match key.as_str() {
            "dictVersion" => {
                assert!(theirs.is_string(), "{pomelo}");
                assert_eq!(ours[key], version, "ours {ours}");
            }
            _ => assert_eq!(
                &ours[key], theirs,
                "`{key}`: ours {ours}, pomelo's {pomelo}"
            ),
        }
    }
    let mut extra: Vec<&str> = keys(ours);
    extra.retain(|key| pomelo.get(*key).is_none());
    assert_eq!(
        extra,
        ["serializer", "servertime"],
        "ours {ours}, pomelo's {pomelo}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reply_has_the_fields_pomelo_2s_handshake_command_builds() {
    let app = app_builder().build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let version = app.dict_version().expect("a dictionary").to_owned();
    let routes: Vec<String> = app.dict().iter().map(|(r, _)| r.to_string()).collect();
    let codes: Vec<u16> = app.dict().iter().map(|(_, c)| c).collect();
    assert_eq!(
        codes,
        [1, 2, 3, 4],
        "pomelo numbers its dictionary file 1, 2, 3, ..."
    );

    let input = json!({
        "routes": routes,
        "heartbeat": 30,
        "clients": [{ "type": "c" }, { "type": "c", "dictVersion": "<pomelo>" }],
    });
    let output = tokio::task::spawn_blocking(move || {
        node::run_script("pomelo-handshake.js", &[], input.to_string().as_bytes())
    })
    .await
    .unwrap();
    let pomelo: Value = serde_json::from_str(output.trim()).expect(&output);
    let [fresh, cached] = [0, 1].map(|i| pomelo["replies"][i]["sys"].clone());

    let ours = handshake_sys(addr, r#"{"sys":{"type":"c"}}"#).await;
    assert_same_fields(&ours, &fresh, &version);
    let body = json!({ "sys": { "type": "c", "dictVersion": version } }).to_string();
    let ours = handshake_sys(addr, &body).await;
    assert_same_fields(&ours, &cached, &version);
    assert_eq!(
        keys(&ours),
        ["heartbeat", "serializer", "servertime", "useDict"]
    );
    app.shutdown().await;
}

#[tokio::test]
async fn dict_version_is_the_same_for_the_same_routes_in_every_build() {
    let first = app_builder().build().unwrap();
    let again = app_builder().build().unwrap();
    let version = first.dict_version().expect("a dictionary").to_owned();
    assert_eq!(again.dict_version(), Some(version.as_str()));
    assert_eq!(version.len(), 16, "{version}");
    assert!(version.bytes().all(|b| b.is_ascii_hexdigit()), "{version}");
    let addr = again.listen_tcp("127.0.0.1:0").await.unwrap();
    assert_eq!(handshake_sys(addr, "{}").await["dictVersion"], version);

    // The example of docs/CLIENTS.md, its version computed outside nano-rs from the documented
    // definition (FNV-1a 64 of "onMessage=3\nroom.join=1\nroom.say=2\n").
    let documented = RouteDict::from_routes(["room.join", "room.say", "onMessage"]).unwrap();
    assert_eq!(documented.version(), "f7acc0dd1bcb3713");

    let more = app_builder().push_routes(["onLeave"]).build().unwrap();
    assert_ne!(
        more.dict_version(),
        Some(version.as_str()),
        "another dictionary"
    );
    first.shutdown().await;
    again.shutdown().await;
    more.shutdown().await;
}

#[tokio::test]
async fn no_dictionary_field_without_a_dictionary() {
    let app = app_builder().use_dictionary(false).build().unwrap();
    assert_eq!(app.dict_version(), None);
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    for body in ["", r#"{"sys":{"dictVersion":"0123456789abcdef"}}"#] {
        let sys = handshake_sys(addr, body).await;
        assert_eq!(
            keys(&sys),
            ["heartbeat", "serializer", "servertime"],
            "{sys}"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_dict_version_that_is_not_the_current_string_gets_the_whole_dictionary() {
    let app = app_builder().build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let version = app.dict_version().unwrap();
    let stale = json!("0000000000000000");
    for presented in [
        json!(42),
        Value::Null,
        json!({}),
        json!([version]),
        json!(""),
        stale,
    ] {
        let body = json!({ "sys": { "dictVersion": presented } }).to_string();
        let sys = handshake_sys(addr, &body).await;
        assert_eq!(sys["dictVersion"], version, "{body}: {sys}");
        assert_eq!(sys["routeToCode"], sys["dict"], "{body}: {sys}");
        assert_eq!(sys["codeToRoute"]["1"], "room.join", "{body}: {sys}");
        assert_eq!(sys["useDict"], true, "{body}: {sys}");
    }
    // The session goes on as any other.
    let mut conn = RawConn::tcp(addr).await;
    let reply = conn.handshake_with(r#"{"sys":{"dictVersion":7}}"#).await;
    assert_eq!(reply.code, 200);
    conn.send(Packet::handshake_ack()).await;
    conn.request(1, "room.join", r#"{"name":"ann"}"#).await;
    conn.recv_message().await; // the push
    let nano_core::protocol::Message::Response { id, .. } = conn.recv_message().await else {
        panic!("a response");
    };
    assert_eq!(id, 1);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_client_resolves_compressed_routes_through_code_to_route() {
    let app = app_builder().build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let port = addr.port().to_string();
    let output = tokio::task::spawn_blocking(move || {
        node::run_script("dict-client.js", &["127.0.0.1", &port], b"")
    })
    .await
    .unwrap();
    let seen: Value = serde_json::from_str(output.trim()).expect(&output);
    let version = app.dict_version().unwrap();
    assert_eq!(seen["cachedVersion"], version, "{seen}");
    let fresh = &seen["fresh"]["sys"];
    assert_eq!(
        fresh["codeToRoute"],
        json!({ "1": "room.join", "2": "room.say", "3": "onJoined", "4": "onMessage" })
    );
    let cached = &seen["cached"]["sys"];
    assert_eq!(
        keys(cached),
        ["heartbeat", "serializer", "servertime", "useDict"],
        "{seen}"
    );

    for run in ["fresh", "cached"] {
        let messages = seen[run]["messages"].as_array().expect("messages");
        let push = |route: &str, body: Value| json!({ "type": 3, "id": 0, "compressed": true, "route": route, "body": body });
        let response = json!({ "type": 2, "id": 1, "compressed": false, "route": null, "body": { "ok": true } });
        assert_eq!(
            messages,
            &[
                push("onJoined", json!({ "name": "ann" })),
                response,
                push("onMessage", json!({ "text": "hi" }))
            ],
            "{run}: {seen}"
        );
    }
    app.shutdown().await;
}
