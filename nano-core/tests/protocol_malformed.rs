//! Malformed input: every way bytes can be wrong reaches its own `ProtocolError` variant, and
//! nothing panics or buffers more than the limit.

use bytes::{Bytes, BytesMut};
use nano_core::protocol::{
    HandshakeRequest, HandshakeResponse, Kick, Message, Packet, PacketCodec, ProtocolError, Route,
    RouteDict, RouteName, encode_data_packet,
};
use tokio_util::codec::Decoder;

fn decode_packet(codec: &mut PacketCodec, wire: &[u8]) -> Result<Option<Packet>, ProtocolError> {
    codec.decode(&mut BytesMut::from(wire))
}

fn decode_message(body: &[u8]) -> Result<Message, ProtocolError> {
    Message::decode(Bytes::copy_from_slice(body))
}

#[test]
fn bad_packet_type() {
    for kind in [0x00, 0x06, 0x7f, 0xff] {
        let err = decode_packet(&mut PacketCodec::default(), &[kind, 0, 0, 0]).unwrap_err();
        assert!(
            matches!(err, ProtocolError::UnknownPacketType(k) if k == kind),
            "{err}"
        );
    }
}

#[test]
fn oversize_length_is_rejected_from_the_header_alone() {
    let mut codec = PacketCodec::default();
    // 65,537 announced, nothing of the body present: rejected at once.
    let mut buf = BytesMut::from(&[0x04, 0x01, 0x00, 0x01][..]);
    let err = codec.decode(&mut buf).unwrap_err();
    assert!(
        matches!(
            err,
            ProtocolError::BodyTooLong {
                len: 65_537,
                max: 65_536
            }
        ),
        "{err}"
    );
    // The decoder did not grow the buffer towards the announced body.
    assert!(buf.capacity() < 1024, "capacity {}", buf.capacity());

    // Exactly the limit is allowed.
    let mut wire = vec![0x04, 0x01, 0x00, 0x00];
    wire.extend(std::iter::repeat_n(0x02, 65_536));
    let packet = decode_packet(&mut codec, &wire)
        .unwrap()
        .expect("whole packet");
    assert_eq!(packet.body.len(), 65_536);

    // A smaller configured limit applies in the same way.
    let mut small = PacketCodec::new(16);
    let err = decode_packet(&mut small, &[0x04, 0x00, 0x00, 0x11]).unwrap_err();
    assert!(
        matches!(err, ProtocolError::BodyTooLong { len: 17, max: 16 }),
        "{err}"
    );
}

#[test]
fn partial_packets_wait_for_more() {
    let mut codec = PacketCodec::default();
    assert_eq!(decode_packet(&mut codec, &[]).unwrap(), None);
    assert_eq!(decode_packet(&mut codec, &[0x04, 0x00]).unwrap(), None);
    assert_eq!(
        decode_packet(&mut codec, &[0x04, 0x00, 0x00, 0x05, 0x00]).unwrap(),
        None
    );
}

#[test]
fn empty_message() {
    assert!(matches!(
        decode_message(&[]),
        Err(ProtocolError::EmptyMessage)
    ));
}

#[test]
fn message_type_above_3() {
    for kind in 4..8u8 {
        let err = decode_message(&[kind << 1, 0x01]).unwrap_err();
        assert!(
            matches!(err, ProtocolError::InvalidMessageType(k) if k == kind),
            "{err}"
        );
    }
}

#[test]
fn unsupported_flag_bits() {
    // Bits 4, 6 and 7 on any type.
    for flag in [0x10, 0x40, 0x80, 0x12, 0xc4] {
        let err = decode_message(&[flag, 0x01, 0x00]).unwrap_err();
        assert!(
            matches!(err, ProtocolError::ReservedFlagBits(f) if f == flag),
            "{err}"
        );
    }
    // Bit 5 (pitaya's error flag) is only meaningful on a Response.
    let err = decode_message(&[0x20, 0x01, 0x00]).unwrap_err();
    assert!(
        matches!(err, ProtocolError::ReservedFlagBits(0x20)),
        "{err}"
    );
    let response = decode_message(&[0x24, 0x01, b'x']).unwrap();
    assert_eq!(
        response,
        Message::Response {
            id: 1,
            payload: Bytes::from_static(b"x"),
            error: true
        }
    );
}

#[test]
fn truncated_message_id() {
    assert!(matches!(
        decode_message(&[0x00]),
        Err(ProtocolError::TruncatedId)
    ));
    assert!(matches!(
        decode_message(&[0x04, 0x80]),
        Err(ProtocolError::TruncatedId)
    ));
    assert!(matches!(
        decode_message(&[0x00, 0xff, 0xff, 0xff]),
        Err(ProtocolError::TruncatedId)
    ));
}

#[test]
fn varint_overflow() {
    let mut body = vec![0x00];
    body.extend([0xff; 11]);
    assert!(matches!(
        decode_message(&body),
        Err(ProtocolError::VarintOverflow)
    ));
    let mut body = vec![0x04];
    body.extend([0xff; 9]);
    body.push(0x7f);
    assert!(matches!(
        decode_message(&body),
        Err(ProtocolError::VarintOverflow)
    ));
}

#[test]
fn missing_route_length() {
    // A request whose body ends right after the id; a notify with only its flag.
    assert!(matches!(
        decode_message(&[0x00, 0x01]),
        Err(ProtocolError::MissingRouteLength)
    ));
    assert!(matches!(
        decode_message(&[0x02]),
        Err(ProtocolError::MissingRouteLength)
    ));
}

#[test]
fn route_length_past_the_end() {
    let err = decode_message(&[0x02, 0x09, b'r', b'o']).unwrap_err();
    assert!(
        matches!(
            err,
            ProtocolError::RoutePastEnd {
                len: 9,
                available: 2
            }
        ),
        "{err}"
    );
    let err = decode_message(&[0x06, 0xff]).unwrap_err();
    assert!(
        matches!(
            err,
            ProtocolError::RoutePastEnd {
                len: 255,
                available: 0
            }
        ),
        "{err}"
    );
}

#[test]
fn truncated_compressed_route() {
    assert!(matches!(
        decode_message(&[0x01, 0x01]),
        Err(ProtocolError::TruncatedRouteCode)
    ));
    assert!(matches!(
        decode_message(&[0x01, 0x01, 0x00]),
        Err(ProtocolError::TruncatedRouteCode)
    ));
    assert!(matches!(
        decode_message(&[0x03, 0x00]),
        Err(ProtocolError::TruncatedRouteCode)
    ));
}

#[test]
fn invalid_utf8_route() {
    let err = decode_message(&[0x02, 0x02, 0xc3, 0x28]).unwrap_err();
    assert!(matches!(err, ProtocolError::InvalidRouteUtf8), "{err}");
    assert!(matches!(
        RouteName::from_utf8(Bytes::from_static(&[0xff])),
        Err(ProtocolError::InvalidRouteUtf8)
    ));
}

#[test]
fn unknown_dictionary_code() {
    let dict = RouteDict::from_routes(["room.join"]).unwrap();
    let body = Bytes::from_static(&[0x01, 0x01, 0x00, 0x09]);
    let err = Message::decode_with(body, &dict).unwrap_err();
    assert!(matches!(err, ProtocolError::UnknownRouteCode(9)), "{err}");
    assert!(matches!(
        dict.resolve(&Route::Code(2)),
        Err(ProtocolError::UnknownRouteCode(2))
    ));
}

#[test]
fn encoder_refuses_a_route_over_255_bytes() {
    let long = "r".repeat(256);
    let notify = Message::Notify {
        route: Route::Name(RouteName::from(long)),
        payload: Bytes::new(),
    };
    let mut dst = BytesMut::new();
    let err = encode_data_packet(&notify, None, &mut dst).unwrap_err();
    assert!(matches!(err, ProtocolError::RouteTooLong(256)), "{err}");
    assert!(dst.is_empty(), "nothing written on error");

    // 255 bytes is the longest that fits.
    let longest = "r".repeat(255);
    let notify = Message::Notify {
        route: Route::Name(RouteName::from(longest)),
        payload: Bytes::new(),
    };
    encode_data_packet(&notify, None, &mut dst).unwrap();
    assert_eq!(dst.len(), 4 + 1 + 1 + 255);
}

#[test]
fn encoder_refuses_a_body_over_the_frame_limit() {
    let big = Packet::data(vec![0u8; 0x0100_0000]);
    let mut dst = BytesMut::new();
    let err = big.encode(&mut dst).unwrap_err();
    assert!(
        matches!(
            err,
            ProtocolError::BodyTooLong {
                len: 0x0100_0000,
                ..
            }
        ),
        "{err}"
    );
    assert!(dst.is_empty());
}

#[test]
fn bad_handshake_json() {
    for body in [
        &b"not json"[..],
        b"[1,2,3]",
        br#"{"sys":5}"#,
        br#"{"sys":{"type":7}}"#,
        b"{",
    ] {
        let err = HandshakeRequest::from_json(body).unwrap_err();
        assert!(matches!(err, ProtocolError::InvalidHandshake(_)), "{err}");
    }
    let err = HandshakeResponse::from_json(br#"{"code":"200"}"#).unwrap_err();
    assert!(matches!(err, ProtocolError::InvalidHandshake(_)), "{err}");
    let err = HandshakeResponse::from_json(br#"{"code":200,"sys":{"heartbeat":-1}}"#).unwrap_err();
    assert!(matches!(err, ProtocolError::InvalidHandshake(_)), "{err}");
}

#[test]
fn bad_kick_json() {
    let err = Kick::from_json(b"reason").unwrap_err();
    assert!(matches!(err, ProtocolError::InvalidKick(_)), "{err}");
}

#[test]
fn dictionary_conflicts() {
    use nano_core::protocol::RouteDictError;
    let mut dict = RouteDict::from_routes(["a.b", "c.d"]).unwrap();
    assert_eq!(
        dict.insert("a.b", 9),
        Err(RouteDictError::DuplicateRoute("a.b".into()))
    );
    assert_eq!(
        dict.insert("e.f", 2),
        Err(RouteDictError::DuplicateCode {
            code: 2,
            route: "c.d".into()
        })
    );
    assert_eq!(
        dict.insert("", 3),
        Err(RouteDictError::InvalidRoute(String::new()))
    );
    dict.insert("last", u16::MAX).unwrap();
    assert_eq!(dict.push("more"), Err(RouteDictError::Full));
    assert!(serde_json::from_str::<RouteDict>(r#"{"a":1,"b":1}"#).is_err());
    assert!(serde_json::from_str::<RouteDict>(r#"{"a":70000}"#).is_err());
}

/// Found by the handshake fuzzer: a long float in handshake user data must survive a
/// parse/serialize/parse round trip exactly (serde_json's `float_roundtrip`).
#[test]
fn handshake_floats_round_trip_exactly() {
    let body = include_bytes!("../../fuzz/seeds/handshake/regression-float-roundtrip");
    let parsed = HandshakeRequest::from_json(body).unwrap();
    assert_eq!(
        HandshakeRequest::from_json(&parsed.to_json()).unwrap(),
        parsed
    );
}
