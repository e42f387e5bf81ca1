//! A fast, deterministic stand-in for the fuzzer that runs in every test run: a few hundred
//! thousand random and mutated inputs go through the packet and message decoders. None may
//! panic, no decoded body may exceed the limit, and whatever decodes must re-encode to bytes
//! that decode to the same value.

use bytes::{Bytes, BytesMut};
use nano_core::protocol::{
    HandshakeRequest, Message, Packet, PacketCodec, Route, RouteDict, encode_data_packet,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_util::codec::Decoder;

const MAX_BODY: usize = 1024;

/// Valid streams to mutate: one of each message type, control packets, compressed routes.
fn seeds() -> Vec<Vec<u8>> {
    let dict = RouteDict::from_routes(["room.join", "onMessage"]).unwrap();
    let messages = [
        Message::Request {
            id: 1,
            route: Route::from("room.join"),
            payload: Bytes::from_static(b"{}"),
        },
        Message::Request {
            id: 300,
            route: Route::Code(2),
            payload: Bytes::from_static(b"{\"a\":1}"),
        },
        Message::Notify {
            route: Route::from("room.message"),
            payload: Bytes::from_static(b"{}"),
        },
        Message::Response {
            id: 16_384,
            payload: Bytes::from_static(b"{\"code\":0}"),
            error: false,
        },
        Message::Push {
            route: Route::from("onMessage"),
            payload: Bytes::new(),
        },
    ];
    let mut seeds = Vec::new();
    for message in &messages {
        for dict in [None, Some(&dict)] {
            let mut wire = BytesMut::new();
            encode_data_packet(message, dict, &mut wire).unwrap();
            seeds.push(wire.to_vec());
        }
    }
    let mut control = BytesMut::new();
    for packet in [
        Packet::handshake(&br#"{"sys":{"type":"js-websocket"},"user":{}}"#[..]),
        Packet::handshake_ack(),
        Packet::heartbeat(),
        Packet::kick(&br#"{"reason":"x"}"#[..]),
    ] {
        packet.encode(&mut control).unwrap();
    }
    seeds.push(control.to_vec());
    seeds
}

fn mutate(rng: &mut StdRng, input: &mut Vec<u8>) {
    for _ in 0..rng.random_range(1..=4) {
        let len = input.len();
        match rng.random_range(0..6) {
            0 if len > 0 => {
                let at = rng.random_range(0..len);
                input[at] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let at = rng.random_range(0..len);
                input[at] = rng.random();
            }
            2 => {
                let at = rng.random_range(0..=len);
                input.insert(at, rng.random());
            }
            3 if len > 0 => {
                input.remove(rng.random_range(0..len));
            }
            4 => input.truncate(rng.random_range(0..=len)),
            _ => {
                // Splice in an interesting byte: a length or continuation marker.
                let at = rng.random_range(0..=len);
                let byte = [0x00, 0x01, 0x7f, 0x80, 0xff][rng.random_range(0..5)];
                input.insert(at, byte);
            }
        }
    }
}

/// Runs one input through every decoder and checks the invariants.
fn exercise(input: &[u8], dict: &RouteDict) {
    let mut codec = PacketCodec::new(MAX_BODY);
    let mut buf = BytesMut::from(input);
    while let Ok(Some(packet)) = codec.decode(&mut buf) {
        assert!(packet.body.len() <= MAX_BODY);
        if let Ok(request) = HandshakeRequest::from_json(&packet.body) {
            let again = HandshakeRequest::from_json(&request.to_json());
            assert_eq!(again.unwrap(), request, "handshake {:02x?}", packet.body);
        }
        check_message(packet.body, dict);
    }
    // Message decoding of the raw bytes too, not only of well-framed bodies.
    check_message(Bytes::copy_from_slice(input), dict);
}

fn check_message(body: Bytes, dict: &RouteDict) {
    let Ok(message) = Message::decode(body.clone()) else {
        return;
    };
    let encoded = message
        .to_bytes(None)
        .expect("a decoded route is at most 255 bytes");
    assert_eq!(
        Message::decode(encoded).unwrap(),
        message,
        "re-encode of {body:02x?}"
    );
    // With the dictionary, what decodes re-encodes (compressed) to the same message.
    if let Ok(message) = Message::decode_with(body.clone(), dict) {
        let encoded = message.to_bytes(Some(dict)).expect("a decoded route fits");
        let again = Message::decode_with(encoded, dict).unwrap();
        assert_eq!(
            again, message,
            "re-encode with the dictionary of {body:02x?}"
        );
    }
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x6e61_6e6f);
    let dict = RouteDict::from_routes(["room.join", "onMessage"]).unwrap();
    let seeds = seeds();
    let iterations = if cfg!(debug_assertions) {
        300_000
    } else {
        2_000_000
    };
    for round in 0..iterations {
        let input = if round % 4 == 0 {
            // Pure noise, biased to small sizes.
            let len = rng.random_range(0..64);
            (0..len).map(|_| rng.random()).collect::<Vec<u8>>()
        } else {
            let mut input = seeds[round % seeds.len()].clone();
            mutate(&mut rng, &mut input);
            input
        };
        exercise(&input, &dict);
    }
}
