//! The `protobuf` example against a client built on protobufjs and pinus-protocol
//! (`interop/protobuf-client.js`, pinned npm packages, no nano-rs code): request, push,
//! notify + broadcast, error bodies with the error flag, a truncated payload, an empty answer,
//! over TCP, with the types read from the example's own `chat.proto`.

use nano_tests::{examples, node};
use serde_json::{Value, json};

#[test]
fn a_protobufjs_client_joins_chats_and_gets_error_bodies() {
    let server = examples::start("protobuf", &["--tcp", "127.0.0.1:0"]);
    let (host, port) = server.addr("tcp").rsplit_once(':').expect("host:port");
    let output = node::run_script("protobuf-client.js", &[host, port], b"");
    let seen: Value = serde_json::from_str(output.trim()).expect("one JSON line");

    assert_eq!(seen["serializer"], "protobuf");
    let ann = &seen["annJoin"];
    assert_eq!(ann["error"], false);
    assert_eq!(ann["welcome"]["online"], 1);
    assert_eq!(ann["joined"]["members"].as_array().unwrap().len(), 1);
    assert_eq!(ann["joined"]["members"][0]["name"], "ann");
    let bo = &seen["boJoin"];
    assert_eq!(bo["welcome"]["online"], 2);
    let names: Vec<&str> = bo["joined"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| member["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"ann") && names.contains(&"bo"), "{names:?}");

    for chat in seen["chats"].as_array().unwrap() {
        assert_eq!(chat["text"], "hello from protobufjs");
        assert_eq!(chat["from"]["name"], "bo");
        assert_eq!(chat["from"]["id"], bo["joined"]["memberId"]);
        let sent_at: i64 = chat["sentAtMs"].as_str().unwrap().parse().unwrap();
        assert!(sent_at > 1_700_000_000_000, "{sent_at}");
    }
    assert_eq!(seen["chats"].as_array().unwrap().len(), 2);

    assert_eq!(
        seen["emptyName"],
        json!({ "error": true, "body": { "code": 400, "msg": "a name is required" } })
    );
    assert_eq!(seen["truncated"]["error"], true);
    assert_eq!(seen["truncated"]["body"]["code"], 400);
    let msg = seen["truncated"]["body"]["msg"].as_str().unwrap();
    assert!(msg.contains("invalid payload for `room.join`"), "{msg}");
    assert_eq!(seen["leave"], json!({ "error": false, "bodyLength": 0 }));
}
