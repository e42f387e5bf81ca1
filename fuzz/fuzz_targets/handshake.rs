//! The JSON bodies a client controls or a server sends: handshake request and reply, kick, and
//! the route dictionary. Invariants: no panic; whatever parses serializes back to JSON that
//! parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nano_core::protocol::{HandshakeRequest, HandshakeResponse, Kick, RouteDict};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = HandshakeRequest::from_json(data) {
        let again = HandshakeRequest::from_json(&request.to_json()).expect("re-parse request");
        assert_eq!(again, request);
    }
    if let Ok(reply) = HandshakeResponse::from_json(data) {
        let again = HandshakeResponse::from_json(&reply.to_json()).expect("re-parse reply");
        // Fractional heartbeats may round by a nanosecond through f64 seconds.
        assert_eq!(again.code, reply.code);
        assert_eq!(again.user, reply.user);
    }
    if let Ok(kick) = Kick::from_json(data) {
        assert_eq!(Kick::from_json(&kick.to_json()).expect("re-parse kick"), kick);
    }
    if let Ok(dict) = serde_json::from_slice::<RouteDict>(data) {
        for (route, code) in dict.iter() {
            assert_eq!(dict.code(route.as_str()), Some(code));
            assert_eq!(dict.name(code), Some(route));
        }
    }
});
