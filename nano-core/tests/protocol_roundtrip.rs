//! Property tests: any message survives encode/decode, and a stream of packets decodes to the
//! same packets however it is split into reads or coalesced.

use bytes::{Bytes, BytesMut};
use nano_core::protocol::{
    Message, Packet, PacketCodec, PacketType, Route, RouteDict, RouteName, encode_data_packet,
};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

fn route_name() -> impl Strategy<Value = RouteName> {
    // Any UTF-8 of at most 255 bytes: mostly route-like, sometimes arbitrary unicode.
    prop_oneof![
        "[a-zA-Z]{1,12}\\.[a-zA-Z]{1,12}(\\.[a-z]{1,8})?",
        "\\PC{0,60}",
    ]
    .prop_filter("fits the 1-byte length", |s: &String| s.len() <= 255)
    .prop_map(RouteName::from)
}

fn route() -> impl Strategy<Value = Route> {
    prop_oneof![
        route_name().prop_map(Route::Name),
        any::<u16>().prop_map(Route::Code)
    ]
}

fn payload() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..300).prop_map(Bytes::from)
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (any::<u64>(), route(), payload()).prop_map(|(id, route, payload)| Message::Request {
            id,
            route,
            payload
        }),
        (route(), payload()).prop_map(|(route, payload)| Message::Notify { route, payload }),
        (any::<u64>(), payload(), any::<bool>())
            .prop_map(|(id, payload, error)| Message::Response { id, payload, error }),
        (route(), payload()).prop_map(|(route, payload)| Message::Push { route, payload }),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    let kind = prop_oneof![
        Just(PacketType::Handshake),
        Just(PacketType::HandshakeAck),
        Just(PacketType::Heartbeat),
        Just(PacketType::Data),
        Just(PacketType::Kick),
    ];
    (kind, payload()).prop_map(|(kind, body)| Packet::new(kind, body))
}

proptest! {
    #[test]
    fn message_roundtrip(message in message()) {
        let bytes = message.to_bytes(None).unwrap();
        prop_assert_eq!(bytes.len(), message.encoded_len(None).unwrap());
        prop_assert_eq!(Message::decode(bytes).unwrap(), message);
    }

    #[test]
    fn message_roundtrip_through_a_dictionary(
        message in message(),
        extra in prop::collection::vec(route_name(), 0..8),
    ) {
        // The dictionary holds the message's own route (when it is a name) and some others.
        let mut dict = RouteDict::new();
        if let Some(Route::Name(name)) = message.route()
            && !name.is_empty()
        {
            dict.push(name.clone()).unwrap();
        }
        for name in extra.into_iter().filter(|name| !name.is_empty()) {
            if dict.code(name.as_str()).is_none() {
                dict.push(name).unwrap();
            }
        }
        let mut wire = BytesMut::new();
        encode_data_packet(&message, Some(&dict), &mut wire).unwrap();
        let packet = PacketCodec::default().decode(&mut wire).unwrap().unwrap();
        let decoded = Message::decode(packet.body.clone()).unwrap();
        // Names in the dictionary travel as codes ...
        if let (Some(Route::Name(name)), Some(sent)) = (message.route(), decoded.route()) {
            prop_assert_eq!(sent.is_compressed(), dict.code(name.as_str()).is_some());
        }
        // ... and resolve back to the same message, unless the original was itself a code the
        // dictionary does not know.
        match Message::decode_with(packet.body, &dict) {
            Ok(resolved) => {
                if let Some(Route::Code(code)) = message.route() {
                    let name = dict.name(*code).unwrap().clone();
                    prop_assert_eq!(resolved.route(), Some(&Route::Name(name)));
                } else {
                    prop_assert_eq!(resolved, message);
                }
            }
            Err(err) => {
                let is_unknown_code = matches!(
                    message.route(),
                    Some(Route::Code(code)) if dict.name(*code).is_none()
                );
                prop_assert!(is_unknown_code, "unexpected {}", err);
            }
        }
    }

    #[test]
    fn packet_stream_split_anywhere_decodes_the_same(
        packets in prop::collection::vec(packet(), 1..12),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let mut codec = PacketCodec::default();
        let mut wire = BytesMut::new();
        for packet in &packets {
            codec.encode(packet, &mut wire).unwrap();
        }
        let wire = wire.freeze();

        // Cut the stream at arbitrary points and feed the pieces one read at a time.
        let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(wire.len() + 1)).collect();
        points.push(0);
        points.push(wire.len());
        points.sort_unstable();
        points.dedup();
        let mut buf = BytesMut::new();
        let mut decoded = Vec::new();
        for window in points.windows(2) {
            buf.extend_from_slice(&wire[window[0]..window[1]]);
            while let Some(packet) = codec.decode(&mut buf).unwrap() {
                decoded.push(packet);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(&decoded, &packets);

        // The same pieces through `decode_taking`, which takes a buffer holding one packet.
        let mut buf = BytesMut::new();
        let mut taken = Vec::new();
        for window in points.windows(2) {
            buf.extend_from_slice(&wire[window[0]..window[1]]);
            while let Some(packet) = codec.decode_taking(&mut buf).unwrap() {
                taken.push(packet);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(&taken, &packets);

        // Everything coalesced into one read decodes the same.
        let mut all = BytesMut::from(&wire[..]);
        let mut coalesced = Vec::new();
        while let Some(packet) = codec.decode(&mut all).unwrap() {
            coalesced.push(packet);
        }
        prop_assert_eq!(coalesced, packets);
    }
}

/// Every single split point of one stream, exhaustively (the property above samples them).
#[test]
fn every_split_point_of_a_mixed_stream() {
    let mut codec = PacketCodec::default();
    let packets = vec![
        Packet::handshake(&br#"{"sys":{"type":"rust"}}"#[..]),
        Packet::handshake_ack(),
        Packet::data(
            Message::Request {
                id: 300,
                route: Route::from("room.join"),
                payload: Bytes::from_static(b"{}"),
            }
            .to_bytes(None)
            .unwrap(),
        ),
        Packet::heartbeat(),
        Packet::kick(&br#"{"reason":"x"}"#[..]),
    ];
    let mut wire = BytesMut::new();
    for packet in &packets {
        codec.encode(packet, &mut wire).unwrap();
    }
    for first in 0..=wire.len() {
        for second in first..=wire.len() {
            let mut buf = BytesMut::new();
            let mut decoded = Vec::new();
            for piece in [&wire[..first], &wire[first..second], &wire[second..]] {
                buf.extend_from_slice(piece);
                while let Some(packet) = codec.decode(&mut buf).unwrap() {
                    decoded.push(packet);
                }
            }
            assert_eq!(decoded, packets, "split at {first} and {second}");
        }
    }
}

/// Decoding does not copy: the payload points into the buffer the packet was read into.
#[test]
fn payload_shares_the_read_buffer() {
    let mut wire = BytesMut::new();
    let message = Message::Notify {
        route: Route::from("a.b"),
        payload: Bytes::from(vec![7u8; 1000]),
    };
    encode_data_packet(&message, None, &mut wire).unwrap();
    let start = wire.as_ptr() as usize;
    let end = start + wire.len();
    let packet = PacketCodec::default().decode(&mut wire).unwrap().unwrap();
    let decoded = Message::decode(packet.body).unwrap();
    let payload_at = decoded.payload().as_ptr() as usize;
    let route_at = decoded.route().unwrap().name().unwrap().as_bytes().as_ptr() as usize;
    assert!((start..end).contains(&payload_at), "payload was copied");
    assert!((start..end).contains(&route_at), "route was copied");
}

/// `decode_taking` hands a buffer holding exactly one packet to the packet whole (nothing left
/// behind, no split), and splits a buffer holding more, as `decode` does.
#[test]
fn decode_taking_takes_the_buffer_of_a_lone_packet() {
    let mut codec = PacketCodec::default();
    let mut wire = BytesMut::new();
    codec.encode(&Packet::heartbeat(), &mut wire).unwrap();
    codec.encode(&Packet::kick(&b"{}"[..]), &mut wire).unwrap();
    let second_at = wire.as_ptr() as usize + 4;

    let first = codec.decode_taking(&mut wire).unwrap().unwrap();
    assert_eq!(first, Packet::heartbeat());
    assert!(
        wire.capacity() > 0,
        "a buffer holding more is split, and kept"
    );

    let second = codec.decode_taking(&mut wire).unwrap().unwrap();
    assert_eq!(second, Packet::kick(&b"{}"[..]));
    assert_eq!(
        second.body.as_ptr() as usize,
        second_at + 4,
        "the body was copied"
    );
    assert_eq!(
        wire.capacity(),
        0,
        "the lone packet took the buffer's memory"
    );
    assert_eq!(codec.decode_taking(&mut wire).unwrap(), None);
}
