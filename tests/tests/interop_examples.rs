//! The `pingpong` and `chat` examples, as shipped, driven by JavaScript nobody here wrote:
//! raw scenarios framed by the npm codec `pinus-protocol`, and the npm client
//! `pomelo-client-websocket` (both pinned in `tests/interop/package-lock.json`).

use nano_tests::{examples, node};
use serde_json::{Value, json};

fn run(mode: &str, addr: &str) -> Value {
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    let output = node::run_script("interop-examples.js", &[mode, host, port], b"");
    serde_json::from_str(output.trim()).unwrap_or_else(|_| panic!("bad output: {output}"))
}

#[test]
fn pinus_protocol_drives_pingpong_over_tcp() {
    let pingpong = examples::start("pingpong", &["--tcp", "127.0.0.1:0", "--ws", "127.0.0.1:0"]);
    let seen = run("pinus-raw", pingpong.addr("tcp"));
    assert_eq!(seen["handshakeCode"], 200, "{seen}");
    assert_eq!(seen["heartbeat"], 30, "{seen}");
    assert_eq!(
        seen["dict"],
        json!({
            "pingpong.ping": 1,
            "pingpong.notify": 2,
            "pingpong.join": 3,
            "pingpong.broadcast": 4,
            "pong": 5
        }),
        "{seen}"
    );
    let messages = seen["messages"].as_array().expect("messages");
    // Responses to both requests, in order, echoing the bodies byte for byte.
    assert_eq!(
        messages[0],
        json!({ "type": 2, "id": 1, "route": null, "compressed": false, "body": { "n": 1 } })
    );
    assert_eq!(
        messages[1],
        json!({ "type": 2, "id": 2, "route": null, "compressed": false, "body": { "n": 2 } })
    );
    // The push comes compressed (pong is in the dictionary) and pinus resolves it.
    assert_eq!(
        messages[2],
        json!({ "type": 3, "id": 0, "route": "pong", "compressed": true, "body": { "n": 3 } })
    );
}

#[test]
fn pomelo_client_websocket_chats_heartbeats_and_gets_kicked() {
    let chat = examples::start(
        "chat",
        &[
            "--http",
            "127.0.0.1:0",
            "--tcp",
            "127.0.0.1:0",
            "--heartbeat",
            "1",
        ],
    );
    let seen = run("pomelo-chat", chat.addr("http"));
    let success = json!({ "code": 0, "result": "success" });
    assert_eq!(seen["annJoin"], success, "{seen}");
    assert_eq!(seen["bobJoin"], success, "{seen}");
    assert_eq!(seen["ann2Join"], success, "{seen}");
    assert_eq!(
        seen["annAfterHeartbeats"],
        json!({ "closed": false, "heartbeatTimeout": false }),
        "{seen}"
    );
    assert_eq!(seen["annKicked"], true, "the first ann got onKick: {seen}");

    let ann = seen["annPushes"].as_array().expect("pushes");
    assert!(
        ann.contains(&json!({ "route": "onMembers", "body": { "members": ["ann"] } })),
        "{seen}"
    );
    assert!(
        ann.contains(&json!({ "route": "onNewUser", "body": { "content": "bob joined the room", "name": "bob" } })),
        "{seen}"
    );
    assert!(
        ann.contains(
            &json!({ "route": "onMessage", "body": { "name": "bob", "content": "hi ann" } })
        ),
        "{seen}"
    );
    let bob = seen["bobPushes"].as_array().expect("pushes");
    assert!(
        bob.contains(&json!({ "route": "onMembers", "body": { "members": ["ann", "bob"] } })),
        "{seen}"
    );
    // The takeover is not reported as ann leaving.
    assert!(!bob.iter().any(|push| push["route"] == "onLeave"), "{seen}");
}
