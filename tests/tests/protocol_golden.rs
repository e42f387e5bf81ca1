//! Golden vectors from an independent implementation: pinus-protocol 1.7.4 (the TypeScript
//! Pomelo codec, pinned in `tests/interop/package-lock.json`) encodes a table of packets and
//! messages, and nano-rs must produce the same bytes and decode pinus's bytes to equal values.
//! pinus also decodes nano-rs's bytes, so both directions are checked.

use bytes::{Bytes, BytesMut};
use nano_core::protocol::{
    Message, MessageType, Packet, PacketCodec, PacketType, Route, RouteDict, RouteName,
    encode_data_packet,
};
use nano_tests::node;
use serde_json::{Value, json};
use tokio_util::codec::{Decoder, Encoder};

/// pinus sizes its id buffer with a 32-bit signed shift, so it cannot encode ids of 2^31 or
/// more: it writes a correct varint but cuts the message short (and decodes such ids as
/// garbage). For those ids only the bytes pinus did write are compared.
const PINUS_ID_LIMIT: u64 = 1 << 31;

struct MessageCase {
    message: Message,
    /// The route's code, when the case sends it compressed.
    code: Option<u16>,
}

fn packet_cases() -> Vec<Packet> {
    let sixty_kb: Vec<u8> = (0..60 * 1024).map(|i| (i % 251) as u8).collect();
    vec![
        Packet::handshake(&br#"{"sys":{"type":"js-websocket","version":"0.0.1","rsa":{}},"user":{}}"#[..]),
        Packet::handshake(&br#"{"code":200,"sys":{"heartbeat":30,"dict":{"room.join":1},"servertime":1700000000}}"#[..]),
        Packet::handshake(Bytes::new()),
        Packet::handshake_ack(),
        Packet::heartbeat(),
        Packet::data(&b"\x00\x01\x09room.join{}"[..]),
        Packet::data(sixty_kb),
        Packet::kick(&br#"{"reason":"kicked by the server"}"#[..]),
    ]
}

/// The message ids of the cases: varint boundaries, and ids past [`PINUS_ID_LIMIT`].
const IDS: [u64; 9] = [0, 1, 127, 128, 300, 16_383, 16_384, (1 << 31) - 1, 1 << 32];

/// The routes of the cases: ASCII, several dots, multi-byte UTF-8, and empty.
const ROUTES: [&str; 5] = ["room.join", "a.b.c", "房间.加入", "jeu.émoji🎮", ""];

fn message_cases() -> Vec<MessageCase> {
    let sixty_kb =
        Bytes::from(serde_json::to_vec(&json!({ "blob": "x".repeat(60 * 1024 - 12) })).unwrap());
    let payloads = [
        Bytes::new(),
        Bytes::from_static(br#"{"name":"ann"}"#),
        sixty_kb,
    ];
    let mut cases = Vec::new();
    for (index, payload) in payloads.iter().enumerate() {
        cases.extend(requests_and_responses(payload));
        cases.extend(notifies_and_pushes(index, payload));
    }
    cases
}

/// For each id: a request on each route, by name and compressed, then a response.
fn requests_and_responses(payload: &Bytes) -> Vec<MessageCase> {
    let mut cases = Vec::new();
    for &id in &IDS {
        for route in ROUTES {
            let name = Route::Name(RouteName::from(route.to_owned()));
            cases.push(MessageCase {
                message: Message::Request {
                    id,
                    route: name.clone(),
                    payload: payload.clone(),
                },
                code: None,
            });
            cases.push(MessageCase {
                message: Message::Request {
                    id,
                    route: name,
                    payload: payload.clone(),
                },
                code: Some(1 + (id % 0xffff) as u16),
            });
        }
        cases.push(MessageCase {
            message: Message::Response {
                id,
                payload: payload.clone(),
                error: false,
            },
            code: None,
        });
    }
    cases
}

/// For each route: a notify and a push by name, compressed to a code of their own (from the
/// `index` of the payload), and compressed to the largest code.
fn notifies_and_pushes(index: usize, payload: &Bytes) -> Vec<MessageCase> {
    let mut cases = Vec::new();
    for (route_index, route) in ROUTES.into_iter().enumerate() {
        let name = Route::Name(RouteName::from(route.to_owned()));
        let code = u16::try_from(index * 1000 + route_index).unwrap() + 0x0102;
        for compressed in [None, Some(code), Some(u16::MAX)] {
            cases.push(MessageCase {
                message: Message::Notify {
                    route: name.clone(),
                    payload: payload.clone(),
                },
                code: compressed,
            });
            cases.push(MessageCase {
                message: Message::Push {
                    route: name.clone(),
                    payload: payload.clone(),
                },
                code: compressed,
            });
        }
    }
    cases
}

fn type_number(kind: MessageType) -> u8 {
    kind as u8
}

/// The dictionary under which `case` is encoded: its route with its code, or nothing.
fn dict_for(case: &MessageCase) -> Option<RouteDict> {
    let code = case.code?;
    let mut dict = RouteDict::new();
    let name = case.message.route()?.name()?.clone();
    if name.is_empty() {
        // An empty name cannot be in a dictionary; send the code itself.
        return None;
    }
    dict.insert(name, code).unwrap();
    Some(dict)
}

fn encode_ours(case: &MessageCase) -> Bytes {
    let mut wire = BytesMut::new();
    match (dict_for(case), case.code) {
        (Some(dict), _) => encode_data_packet(&case.message, Some(&dict), &mut wire).unwrap(),
        (None, Some(code)) => {
            let mut message = case.message.clone();
            set_route(&mut message, Route::Code(code));
            encode_data_packet(&message, None, &mut wire).unwrap();
        }
        (None, None) => encode_data_packet(&case.message, None, &mut wire).unwrap(),
    }
    wire.freeze()
}

fn set_route(message: &mut Message, new: Route) {
    if let Message::Request { route, .. }
    | Message::Notify { route, .. }
    | Message::Push { route, .. } = message
    {
        *route = new;
    }
}

fn decode_whole_packet(wire: &[u8]) -> Packet {
    let mut buf = BytesMut::from(wire);
    let packet = PacketCodec::default()
        .decode(&mut buf)
        .unwrap()
        .expect("a whole packet");
    assert!(buf.is_empty(), "trailing bytes after the packet");
    packet
}

/// pinus-golden.js's answers to `input`, one per entry.
fn run_pinus(input: &[Value]) -> Vec<Value> {
    serde_json::from_str(&node::run_script(
        "pinus-golden.js",
        &[],
        &serde_json::to_vec(input).unwrap(),
    ))
    .unwrap()
}

#[test]
fn packets_match_pinus_protocol() {
    let cases = packet_cases();
    let mut input = Vec::new();
    let mut ours = Vec::new();
    for packet in &cases {
        let mut wire = BytesMut::new();
        PacketCodec::default().encode(packet, &mut wire).unwrap();
        input.push(json!({
            "packet": packet.kind as u8,
            "body": hex::encode(&packet.body),
            "ours": hex::encode(&wire),
        }));
        ours.push(wire);
    }
    let output = run_pinus(&input);
    assert_eq!(output.len(), cases.len());

    for ((packet, ours), theirs) in cases.iter().zip(&ours).zip(&output) {
        let their_bytes = hex::decode(theirs["encoded"].as_str().unwrap()).unwrap();
        assert_eq!(
            hex::encode(ours),
            hex::encode(&their_bytes),
            "encoding {:?}",
            packet.kind
        );
        assert_eq!(decode_whole_packet(&their_bytes), *packet);
        assert_eq!(theirs["decoded"]["type"], json!(packet.kind as u8));
        assert_eq!(theirs["decoded"]["body"], json!(hex::encode(&packet.body)));
    }
}

/// What pinus is given for `case`: the fields to encode, and `ours` (our bytes) to decode.
fn pinus_input(case: &MessageCase, ours: &[u8]) -> Value {
    let route = match (case.code, case.message.route()) {
        (Some(code), _) => json!(code),
        (None, Some(route)) => json!(route.to_string()),
        (None, None) => Value::Null,
    };
    json!({
        "message": type_number(case.message.message_type()),
        "id": case.message.id().unwrap_or(0),
        "compressed": case.code.is_some(),
        "route": route,
        "payload": hex::encode(case.message.payload()),
        "ours": hex::encode(ours),
    })
}

/// For an id pinus cannot encode (`id`, see [`PINUS_ID_LIMIT`]): pinus's message is cut
/// short, and the part it wrote agrees with `ours`.
fn assert_their_cut_short_message_agrees(ours: &[u8], their_bytes: &[u8], id: u64, label: &str) {
    let their_body = &their_bytes[4..];
    assert!(
        their_body.len() < ours.len() - 4,
        "pinus now encodes id {id}: update the test"
    );
    assert_eq!(
        hex::encode(their_body),
        hex::encode(&ours[4..4 + their_body.len()]),
        "{label}"
    );
}

/// nano-rs decodes pinus's bytes to the same message.
fn assert_we_decode_theirs(case: &MessageCase, their_bytes: &[u8], label: &str) {
    let packet = decode_whole_packet(their_bytes);
    assert_eq!(packet.kind, PacketType::Data);
    let decoded = match dict_for(case) {
        Some(dict) => Message::decode_with(packet.body, &dict).unwrap(),
        None => Message::decode(packet.body).unwrap(),
    };
    let mut expected = case.message.clone();
    if let (None, Some(code)) = (dict_for(case), case.code) {
        set_route(&mut expected, Route::Code(code));
    }
    assert_eq!(decoded, expected, "decoding {label}");
}

/// pinus decodes nano-rs's bytes to the same fields (`seen`).
fn assert_they_decode_ours(case: &MessageCase, seen: &Value, label: &str) {
    assert_eq!(seen["packet"], json!(4), "{label}");
    assert_eq!(
        seen["type"],
        json!(type_number(case.message.message_type())),
        "{label}"
    );
    assert_eq!(seen["id"], json!(case.message.id().unwrap_or(0)), "{label}");
    assert_eq!(
        seen["payload"],
        json!(hex::encode(case.message.payload())),
        "{label}"
    );
    if let Some(route) = case.message.route() {
        assert_eq!(seen["compressed"], json!(case.code.is_some()), "{label}");
        let expected_route = match case.code {
            Some(code) => json!(code),
            None => json!(route.to_string()),
        };
        assert_eq!(seen["route"], expected_route, "{label}");
    }
}

#[test]
fn messages_match_pinus_protocol() {
    let cases = message_cases();
    let ours: Vec<Bytes> = cases.iter().map(encode_ours).collect();
    let input: Vec<Value> = cases
        .iter()
        .zip(&ours)
        .map(|(case, wire)| pinus_input(case, wire))
        .collect();
    let output = run_pinus(&input);
    assert_eq!(output.len(), cases.len());

    let mut compared = 0;
    for ((case, ours), theirs) in cases.iter().zip(&ours).zip(&output) {
        let label = format!("{:?} (code {:?})", case.message.message_type(), case.code);
        let their_bytes = hex::decode(theirs["encoded"].as_str().unwrap()).unwrap();
        let id = case.message.id().unwrap_or(0);
        if id >= PINUS_ID_LIMIT {
            assert_their_cut_short_message_agrees(ours, &their_bytes, id, &label);
            continue;
        }
        assert_eq!(
            hex::encode(ours),
            hex::encode(&their_bytes),
            "encoding {label} id {id}"
        );
        assert_we_decode_theirs(case, &their_bytes, &label);
        assert_they_decode_ours(case, &theirs["decoded"], &label);
        compared += 1;
    }
    assert!(compared > 300, "only {compared} cases compared in full");
}
