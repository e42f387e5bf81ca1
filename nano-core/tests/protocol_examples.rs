//! The worked byte examples of `docs/PROTOCOL.md` (sections 2, 4 and 5), in both directions:
//! encoding the value gives the bytes, and decoding the bytes gives the value.

use bytes::{Bytes, BytesMut};
use nano_core::protocol::{
    HandshakeRequest, HandshakeResponse, Kick, Message, Packet, PacketCodec, PacketType, Route,
    RouteDict, ServerSys, encode_data_packet,
};
use std::time::Duration;
use tokio_util::codec::{Decoder, Encoder};

fn hex(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).expect("valid hex in the test table")
}

/// Encodes `message` as a whole Data packet and decodes the bytes back.
fn check_both_ways(message: &Message, dict: Option<&RouteDict>, wire: &str) {
    let wire = hex(wire);
    let mut encoded = BytesMut::new();
    encode_data_packet(message, dict, &mut encoded).unwrap();
    assert_eq!(&encoded[..], &wire[..], "encoding {message:?}");

    let mut buf = BytesMut::from(&wire[..]);
    let packet = PacketCodec::default()
        .decode(&mut buf)
        .unwrap()
        .expect("a whole packet");
    assert!(buf.is_empty());
    assert_eq!(packet.kind, PacketType::Data);
    let decoded = match dict {
        Some(dict) => Message::decode_with(packet.body, dict).unwrap(),
        None => Message::decode(packet.body).unwrap(),
    };
    assert_eq!(&decoded, message, "decoding {wire:02x?}");
}

fn payload(text: &'static str) -> Bytes {
    Bytes::from_static(text.as_bytes())
}

#[test]
fn request_room_join() {
    let request = Message::Request {
        id: 1,
        route: Route::from("room.join"),
        payload: payload("{}"),
    };
    check_both_ways(
        &request,
        None,
        "04 00 00 0e  00  01  09 72 6f 6f 6d 2e 6a 6f 69 6e  7b 7d",
    );
}

#[test]
fn response_to_id_1() {
    let response = Message::Response {
        id: 1,
        payload: payload(r#"{"code":0}"#),
        error: false,
    };
    check_both_ways(
        &response,
        None,
        "04 00 00 0c  04  01  7b 22 63 6f 64 65 22 3a 30 7d",
    );
}

#[test]
fn push_on_message() {
    let push = Message::Push {
        route: Route::from("onMessage"),
        payload: payload("{}"),
    };
    check_both_ways(
        &push,
        None,
        "04 00 00 0d  06  09 6f 6e 4d 65 73 73 61 67 65  7b 7d",
    );
}

#[test]
fn notify_room_message() {
    let notify = Message::Notify {
        route: Route::from("room.message"),
        payload: payload("{}"),
    };
    check_both_ways(
        &notify,
        None,
        "04 00 00 10  02  0c 72 6f 6f 6d 2e 6d 65 73 73 61 67 65  7b 7d",
    );
}

#[test]
fn request_id_300_with_compressed_route() {
    let wire = "04 00 00 07  01  ac 02  01 02  7b 7d";
    // As sent: the code itself.
    let by_code = Message::Request {
        id: 300,
        route: Route::Code(0x0102),
        payload: payload("{}"),
    };
    check_both_ways(&by_code, None, wire);

    // Through a dictionary: the name is written as its code and the code read back as the name.
    let mut dict = RouteDict::new();
    dict.insert("room.join", 0x0102).unwrap();
    let by_name = Message::Request {
        id: 300,
        route: Route::from("room.join"),
        payload: payload("{}"),
    };
    check_both_ways(&by_name, Some(&dict), wire);
}

#[test]
fn control_packets() {
    let mut codec = PacketCodec::default();
    for (packet, wire) in [
        (Packet::handshake_ack(), "02 00 00 00"),
        (Packet::heartbeat(), "03 00 00 00"),
        (Packet::handshake(Bytes::new()), "01 00 00 00"),
    ] {
        let mut encoded = BytesMut::new();
        codec.encode(&packet, &mut encoded).unwrap();
        assert_eq!(&encoded[..], &hex(wire)[..]);
        let mut buf = BytesMut::from(&hex(wire)[..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(packet));
    }
}

#[test]
fn handshake_bodies() {
    // Section 4: the JS client's handshake.
    let body =
        br#"{"sys":{"type":"js-websocket","version":"0.0.1","rsa":{}},"user":{"name":"ann"}}"#;
    let request = HandshakeRequest::from_json(body).unwrap();
    assert_eq!(request.sys.client_type.as_deref(), Some("js-websocket"));
    assert_eq!(request.sys.version.as_deref(), Some("0.0.1"));
    assert_eq!(request.user["name"], "ann");
    assert_eq!(
        HandshakeRequest::from_json(&request.to_json()).unwrap(),
        request
    );

    // Section 4: the server's reply, byte for byte.
    let reply = HandshakeResponse::ok(ServerSys {
        dict: Some(RouteDict::from_routes(["room.join"]).unwrap()),
        heartbeat: Some(Duration::from_secs(30)),
        servertime: Some(1_700_000_000),
        ..ServerSys::default()
    });
    let wire =
        br#"{"code":200,"sys":{"heartbeat":30,"dict":{"room.join":1},"servertime":1700000000}}"#;
    assert_eq!(&reply.to_json()[..], &wire[..]);
    assert_eq!(HandshakeResponse::from_json(wire).unwrap(), reply);

    // A fractional interval stays a JSON number of seconds.
    let fractional = HandshakeResponse::ok(ServerSys {
        heartbeat: Some(Duration::from_millis(500)),
        ..ServerSys::default()
    });
    assert_eq!(
        &fractional.to_json()[..],
        br#"{"code":200,"sys":{"heartbeat":0.5}}"#
    );
    assert_eq!(
        HandshakeResponse::from_json(&fractional.to_json()).unwrap(),
        fractional
    );
}

#[test]
fn kick_body() {
    let kick = Kick::new("bye");
    let mut encoded = BytesMut::new();
    PacketCodec::default()
        .encode(Packet::kick(kick.to_json()), &mut encoded)
        .unwrap();
    assert_eq!(&encoded[..], b"\x05\x00\x00\x10{\"reason\":\"bye\"}");
    assert_eq!(Kick::from_json(&encoded[4..]).unwrap(), kick);
}
