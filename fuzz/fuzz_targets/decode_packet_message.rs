//! Packet + message decoding of arbitrary bytes, as a server reads them from a socket.
//!
//! The first input byte chooses how the rest is cut into reads, so the fuzzer also explores
//! packets split across reads. Invariants: no panic; no decoded body above the limit; a message
//! that decodes (with or without the route dictionary) re-encodes to bytes that decode to the
//! same message.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use nano_core::protocol::{HandshakeRequest, Kick, Message, PacketCodec, PacketType, RouteDict};
use tokio_util::codec::Decoder;

const MAX_BODY: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let dict = RouteDict::from_routes(["room.join", "room.message", "onMessage"]).unwrap();
    let mut codec = PacketCodec::new(MAX_BODY);
    let mut buf = BytesMut::new();
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(packet)) => {
                    assert!(packet.body.len() <= MAX_BODY);
                    match packet.kind {
                        PacketType::Handshake => {
                            let _ = HandshakeRequest::from_json(&packet.body);
                        }
                        PacketType::Kick => {
                            let _ = Kick::from_json(&packet.body);
                        }
                        _ => check_message(packet.body, &dict),
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});

/// A message that decodes, with or without the dictionary, re-encodes (the same way) to bytes
/// that decode to the same message.
fn check_message(body: Bytes, dict: &RouteDict) {
    if let Ok(message) = Message::decode(body.clone()) {
        let encoded = message
            .to_bytes(None)
            .expect("decoded routes fit 255 bytes");
        assert_eq!(Message::decode(encoded).unwrap(), message);
    }
    if let Ok(message) = Message::decode_with(body, dict) {
        let encoded = message
            .to_bytes(Some(dict))
            .expect("decoded routes fit 255 bytes");
        assert_eq!(Message::decode_with(encoded, dict).unwrap(), message);
    }
}
