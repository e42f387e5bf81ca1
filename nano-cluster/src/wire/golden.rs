//! The exact bytes of every message nodes send each other, as nodes of this version produce
//! them: nodes of different versions share a cluster during a rolling upgrade, so any change
//! here is a change of the wire format.

use bytes::Bytes;
use nano_core::HandlerError;
use nano_core::remote::Reply;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::*;
use crate::ClusterMember;
use crate::cluster::reply_to_answer;

/// `[header length: u32 big-endian][header][payload]`.
fn framed(header: &str, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(header.len()).unwrap();
    let mut frame = len.to_be_bytes().to_vec();
    frame.extend_from_slice(header.as_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Checks that `header` and `payload` encode to `expected`, and that those bytes decode to a
/// header that encodes to them again.
fn assert_frame<H: Serialize + DeserializeOwned>(header: &H, payload: &[u8], expected: &[u8]) {
    let bytes = encode(header, payload);
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(expected)
    );
    assert_eq!(&bytes[..], expected);
    let (decoded, rest) = decode::<H>(&bytes).expect("a golden frame decodes");
    assert_eq!(&rest[..], payload);
    assert_eq!(&encode(&decoded, &rest)[..], expected);
}

/// Checks the JSON of an unframed message, and that it decodes to the same JSON.
fn assert_json<T: Serialize + DeserializeOwned>(value: &T, expected: &str) {
    let json = serde_json::to_string(value).unwrap();
    assert_eq!(json, expected);
    let decoded: T = serde_json::from_str(expected).unwrap();
    assert_eq!(serde_json::to_string(&decoded).unwrap(), expected);
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("an object"),
    }
}

#[test]
fn the_length_prefix_is_a_big_endian_u32() {
    let event = Event::new(7, EventKind::Close, String::new());
    assert_eq!(
        &encode(&event, b"")[..],
        b"\x00\x00\x00\x26{\"session\":7,\"kind\":\"close\",\"name\":\"\"}"
    );
}

#[test]
fn calls() {
    let rpc = Call {
        route: "room.join".to_owned(),
        mid: 1,
        session: None,
    };
    assert_frame(
        &rpc,
        b"{\"n\":1}",
        &framed(
            r#"{"route":"room.join","mid":1,"session":null}"#,
            b"{\"n\":1}",
        ),
    );
    let forwarded = Call {
        route: "room.say".to_owned(),
        mid: 0,
        session: Some(SessionInfo {
            gate: "gate-1".to_owned(),
            id: 4_294_967_297,
            uid: Some(42),
            synced: object(json!({ "name": "ann", "level": 3 })),
        }),
    };
    assert_frame(
        &forwarded,
        b"hi",
        &framed(
            r#"{"route":"room.say","mid":0,"session":{"gate":"gate-1","id":4294967297,"uid":42,"synced":{"level":3,"name":"ann"}}}"#,
            b"hi",
        ),
    );
    let anonymous = Call {
        session: Some(SessionInfo {
            gate: "gate-1".to_owned(),
            id: 9,
            uid: None,
            synced: Map::new(),
        }),
        ..rpc
    };
    assert_frame(
        &anonymous,
        b"",
        &framed(
            r#"{"route":"room.join","mid":1,"session":{"gate":"gate-1","id":9,"uid":null,"synced":{}}}"#,
            b"",
        ),
    );
}

#[test]
fn answers_of_each_kind() {
    let (answer, payload) = reply_to_answer(Reply::Payload(Bytes::from_static(b"{\"ok\":1}")));
    assert_frame(
        &answer,
        &payload,
        &framed(
            r#"{"kind":"payload","code":0,"msg":"","uid":null}"#,
            b"{\"ok\":1}",
        ),
    );
    let (answer, payload) = reply_to_answer(Reply::Error(HandlerError::new(503, "node busy")));
    assert_frame(
        &answer,
        &payload,
        &framed(
            r#"{"kind":"error","code":503,"msg":"node busy","uid":null}"#,
            b"",
        ),
    );
    let (answer, payload) = reply_to_answer(Reply::None);
    assert_frame(
        &answer,
        &payload,
        &framed(r#"{"kind":"none","code":0,"msg":"","uid":null}"#, b""),
    );
}

#[test]
fn answers_with_a_uid_and_synced_changes() {
    let before = object(json!({ "room": "lobby", "name": "ann", "level": 3 }));
    let after = object(json!({ "room": "arena", "name": "ann", "score": 10 }));
    let (mut answer, payload) = reply_to_answer(Reply::Payload(Bytes::from_static(b"1")));
    answer.uid = Some(42);
    answer.synced_changes(&before, after);
    assert_frame(
        &answer,
        &payload,
        &framed(
            r#"{"kind":"payload","code":0,"msg":"","uid":42,"synced_set":{"room":"arena","score":10},"synced_removed":["level"]}"#,
            b"1",
        ),
    );
    // Only removals, on an error answer.
    let (mut answer, payload) = reply_to_answer(Reply::Error(HandlerError::new(400, "no")));
    answer.synced_changes(&before, object(json!({ "room": "lobby", "name": "ann" })));
    assert_frame(
        &answer,
        &payload,
        &framed(
            r#"{"kind":"error","code":400,"msg":"no","uid":null,"synced_removed":["level"]}"#,
            b"",
        ),
    );
}

#[test]
fn events_of_each_kind() {
    let packet = b"\x04\x00\x00\x05\x06\x02hi";
    assert_frame(
        &Event::new(7, EventKind::Packet, String::new()),
        packet,
        &framed(r#"{"session":7,"kind":"packet","name":""}"#, packet),
    );
    assert_frame(
        &Event::new(7, EventKind::Kick, "bye"),
        b"",
        &framed(r#"{"session":7,"kind":"kick","name":"bye"}"#, b""),
    );
    assert_frame(
        &Event::new(7, EventKind::Close, String::new()),
        b"",
        &framed(r#"{"session":7,"kind":"close","name":""}"#, b""),
    );
    assert_frame(
        &Event::new(7, EventKind::Join, "lobby"),
        b"",
        &framed(r#"{"session":7,"kind":"join","name":"lobby"}"#, b""),
    );
    assert_frame(
        &Event::new(7, EventKind::Leave, "lobby"),
        b"",
        &framed(r#"{"session":7,"kind":"leave","name":"lobby"}"#, b""),
    );
    let release = Event {
        key: "room-a.7b.9".to_owned(),
        ..Event::new(7, EventKind::Release, "lobby")
    };
    assert_frame(
        &release,
        b"",
        &framed(
            r#"{"session":7,"kind":"release","name":"lobby","key":"room-a.7b.9"}"#,
            b"",
        ),
    );
}

#[test]
fn announcements_full_and_heartbeat() {
    let full = Announce {
        node: "room-a".to_owned(),
        instance: 123,
        routes: Some(vec!["room.join".to_owned(), "room.say".to_owned()]),
    };
    assert_json(
        &full,
        r#"{"node":"room-a","instance":123,"routes":["room.join","room.say"]}"#,
    );
    let heartbeat = Announce {
        routes: None,
        ..full
    };
    assert_json(&heartbeat, r#"{"node":"room-a","instance":123}"#);
    // The largest heartbeat of `room-a` (see the architecture notes).
    let largest = Announce {
        instance: u64::MAX,
        ..heartbeat
    };
    assert_eq!(serde_json::to_vec(&largest).unwrap().len(), 49);
}

#[test]
fn departures() {
    let closed = Closed {
        gate: "gate-1".to_owned(),
        session: 4_294_967_297,
    };
    assert_json(&closed, r#"{"gate":"gate-1","session":4294967297}"#);
}

#[test]
fn group_pushes_plain_and_held() {
    let plain = GroupPush {
        route: "onMessage".to_owned(),
        held: None,
    };
    assert_frame(
        &plain,
        b"{\"a\":1}",
        &framed(r#"{"route":"onMessage"}"#, b"{\"a\":1}"),
    );
    let held = GroupPush {
        route: "onMessage".to_owned(),
        held: Some(Held {
            gate: "gate-1".to_owned(),
            key: "room-a.7b.9".to_owned(),
        }),
    };
    assert_frame(
        &held,
        b"{\"a\":1}",
        &framed(
            r#"{"route":"onMessage","held":{"gate":"gate-1","key":"room-a.7b.9"}}"#,
            b"{\"a\":1}",
        ),
    );
}

#[test]
fn group_members() {
    let members = vec![ClusterMember {
        node: "gate-1".to_owned(),
        session: 7,
        uid: Some(42),
        synced: object(json!({ "name": "ann" })),
    }];
    assert_json(
        &members,
        r#"[{"node":"gate-1","session":7,"uid":42,"synced":{"name":"ann"}}]"#,
    );
}
