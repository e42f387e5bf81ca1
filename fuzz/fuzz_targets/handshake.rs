//! The JSON bodies a client controls or a server sends: handshake request and reply, kick, and
//! the route dictionary. Invariants: no panic; whatever parses serializes back to JSON that
//! parses to the same value, field for field (a reply's `sys` included; its heartbeat, sent as
//! f64 seconds, to within the rounding of that conversion); a dictionary maps each route to
//! its code and back, and survives its own serialization.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use nano_core::protocol::{HandshakeRequest, HandshakeResponse, Kick, RouteDict, ServerSys};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = HandshakeRequest::from_json(data) {
        let again = HandshakeRequest::from_json(&request.to_json()).expect("re-parse request");
        assert_eq!(again, request);
    }
    if let Ok(reply) = HandshakeResponse::from_json(data) {
        let again = HandshakeResponse::from_json(&reply.to_json()).expect("re-parse reply");
        assert_same_reply(&again, &reply);
    }
    if let Ok(kick) = Kick::from_json(data) {
        assert_eq!(
            Kick::from_json(&kick.to_json()).expect("re-parse kick"),
            kick
        );
    }
    if let Ok(dict) = serde_json::from_slice::<RouteDict>(data) {
        check_dict(&dict);
    }
});

/// `again` (`reply` serialized and parsed) is `reply`, its heartbeat within rounding.
fn assert_same_reply(again: &HandshakeResponse, reply: &HandshakeResponse) {
    assert_eq!(again.code, reply.code);
    assert_eq!(again.user, reply.user);
    assert_eq!(
        again.sys.is_some(),
        reply.sys.is_some(),
        "sys lost or invented"
    );
    let (Some(again), Some(sys)) = (&again.sys, &reply.sys) else {
        return;
    };
    assert_eq!(without_heartbeat(again), without_heartbeat(sys));
    match (again.heartbeat, sys.heartbeat) {
        (None, None) => {}
        (Some(again), Some(heartbeat)) => assert_close(again, heartbeat),
        (again, heartbeat) => panic!("heartbeat {heartbeat:?} came back as {again:?}"),
    }
}

fn without_heartbeat(sys: &ServerSys) -> ServerSys {
    ServerSys {
        heartbeat: None,
        ..sys.clone()
    }
}

/// A heartbeat survives its trip through f64 seconds to within a few ulps (and the nanosecond
/// `Duration` rounds to).
fn assert_close(again: Duration, heartbeat: Duration) {
    let (a, b) = (again.as_secs_f64(), heartbeat.as_secs_f64());
    let tolerance = b * 4.0 * f64::EPSILON + 2e-9;
    assert!(
        (a - b).abs() <= tolerance,
        "heartbeat {heartbeat:?} came back as {again:?}"
    );
}

/// Each route maps to its code and back, and the dictionary's JSON parses to the same
/// dictionary.
fn check_dict(dict: &RouteDict) {
    for (route, code) in dict.iter() {
        assert_eq!(dict.code(route.as_str()), Some(code));
        assert_eq!(dict.name(code), Some(route));
    }
    let json = serde_json::to_vec(dict).expect("a dictionary serializes");
    let again: RouteDict = serde_json::from_slice(&json).expect("re-parse dictionary");
    assert_eq!(&again, dict);
}
