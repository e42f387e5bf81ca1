//! Protobuf golden vectors against protobufjs (pinned in `interop/package.json`), an
//! implementation independent of prost: for every case, protobufjs decodes prost's bytes into
//! the expected object, encodes that object into the same bytes, and prost decodes protobufjs'
//! bytes into the expected value. The cases cover nested messages, repeated fields (packed and
//! not), every 64-bit encoding at its limits, maps, oneofs, enums, and unknown fields in both
//! directions (a later version of a message read by the earlier one, and the reverse).

use nano_core::{DecodePayload, EncodePayload, Proto, Serializer};
use nano_tests::node;
use prost::Message;
use serde_json::{Value, json};

mod golden {
    #![allow(missing_docs, unreachable_pub, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/golden.rs"));
}

use golden::{Numbers, Phase, Player, Snapshot, SnapshotV2, Vec3};

/// Checks protobufjs' bytes for a case with prost.
type Check = Box<dyn Fn(&[u8])>;

/// One value, as prost builds it and as protobufjs' JSON form describes it.
struct Case {
    /// The message type's name in `golden.proto` that protobufjs reads the bytes as.
    type_name: &'static str,
    bytes: Vec<u8>,
    /// The object protobufjs encodes (and, unless `decoded` says otherwise, decodes to).
    object: Value,
    /// What protobufjs decodes prost's bytes to, when it differs from `object`.
    decoded: Option<Value>,
    /// Checks protobufjs' encoding of `object` with prost.
    check: Check,
}

fn case<M: Message + Default + PartialEq + std::fmt::Debug + Clone + 'static>(
    type_name: &'static str,
    value: M,
    object: Value,
) -> Case {
    let bytes = value.encode_to_vec();
    Case {
        type_name,
        bytes: bytes.clone(),
        object,
        decoded: None,
        check: Box::new(move |theirs: &[u8]| {
            assert_eq!(
                hex::encode(theirs),
                hex::encode(&bytes),
                "bytes of {type_name}"
            );
            assert_eq!(
                M::decode(theirs).unwrap(),
                value,
                "{type_name} decoded by prost"
            );
        }),
    }
}

fn player() -> Player {
    Player {
        id: u64::MAX,
        name: "Ann ✓".into(),
        position: Some(Vec3 {
            x: 1.5,
            y: -2.25,
            z: 1024.0,
        }),
        tags: vec!["red".into(), String::new(), "captain".into()],
    }
}

fn player_object() -> Value {
    json!({
        "id": "18446744073709551615",
        "name": "Ann ✓",
        "position": { "x": 1.5, "y": -2.25, "z": 1024 },
        "tags": ["red", "", "captain"],
    })
}

fn numbers() -> Numbers {
    Numbers {
        i64: i64::MIN,
        u64: u64::MAX,
        s64: i64::MIN,
        f64: u64::MAX,
        sf64: i64::MIN,
        i32: -1,
        s32: i32::MIN,
        d: 0.1,
        flag: true,
        raw: vec![0, 255, 1],
        packed: vec![-1, 0, 1, i64::MAX],
        unpacked: vec![0, 1, u64::MAX],
    }
}

fn numbers_object() -> Value {
    json!({
        "i64": "-9223372036854775808",
        "u64": "18446744073709551615",
        "s64": "-9223372036854775808",
        "f64": "18446744073709551615",
        "sf64": "-9223372036854775808",
        "i32": -1,
        "s32": -2147483648,
        "d": 0.1,
        "flag": true,
        "raw": "AP8B",
        "packed": ["-1", "0", "1", "9223372036854775807"],
        "unpacked": ["0", "1", "18446744073709551615"],
    })
}

fn snapshot() -> Snapshot {
    Snapshot {
        tick: 4_000_000_000,
        players: vec![
            player(),
            Player {
                id: 2,
                name: "bo".into(),
                ..Player::default()
            },
        ],
        numbers: Some(numbers()),
        scores: [("ann".to_owned(), -3)].into_iter().collect(),
        event: Some(golden::snapshot::Event::Chat("gg".into())),
        phase: Phase::Playing as i32,
    }
}

fn snapshot_object() -> Value {
    json!({
        "tick": 4_000_000_000u32,
        "players": [player_object(), { "id": "2", "name": "bo" }],
        "numbers": numbers_object(),
        "scores": { "ann": -3 },
        "chat": "gg",
        "phase": "PHASE_PLAYING",
    })
}

/// protobufjs adds the name of the oneof's set member (`oneofs: true`).
fn with_event(mut object: Value, member: &str) -> Value {
    object["event"] = json!(member);
    object
}

fn cases() -> Vec<Case> {
    let mut cases = vec![
        case(
            "Vec3",
            Vec3 {
                x: 0.5,
                y: 0.0,
                z: -7.0,
            },
            json!({ "x": 0.5, "z": -7 }),
        ),
        case("Player", player(), player_object()),
        case("Numbers", numbers(), numbers_object()),
        case("Snapshot", snapshot(), snapshot_object()),
        case(
            "Snapshot",
            Snapshot {
                event: Some(golden::snapshot::Event::Kill(u64::MAX)),
                phase: Phase::Over as i32,
                ..Snapshot::default()
            },
            json!({ "kill": "18446744073709551615", "phase": "PHASE_OVER" }),
        ),
    ];
    for case in &mut cases {
        if case.object.get("chat").is_some() {
            case.decoded = Some(with_event(case.object.clone(), "chat"));
        } else if case.object.get("kill").is_some() {
            case.decoded = Some(with_event(case.object.clone(), "kill"));
        }
    }
    cases.push(newer_read_by_older());
    cases
}

/// Unknown fields both ways: prost's `Snapshot` bytes read by protobufjs as `SnapshotV2` (the
/// new fields absent), and protobufjs' `SnapshotV2` bytes read by prost as `Snapshot` (the
/// known fields intact, the unknown skipped) and as `SnapshotV2` (all of them).
fn newer_read_by_older() -> Case {
    let mut object = snapshot_object();
    object["region"] = json!("eu-west");
    object["spectators"] = json!([{ "id": "9", "name": "eve" }]);
    object["checksum"] = json!(4_294_967_295u32);
    Case {
        type_name: "SnapshotV2",
        bytes: snapshot().encode_to_vec(),
        object,
        decoded: Some(with_event(snapshot_object(), "chat")),
        check: Box::new(|theirs: &[u8]| {
            assert_eq!(Snapshot::decode(theirs).unwrap(), snapshot());
            let newer = SnapshotV2::decode(theirs).unwrap();
            assert_eq!(newer.region, "eu-west");
            assert_eq!(newer.spectators[0].name, "eve");
            assert_eq!(newer.checksum, u32::MAX);
            assert_eq!(newer.players, snapshot().players);
        }),
    }
}

#[test]
fn prost_and_protobufjs_agree_on_every_case() {
    let cases = cases();
    let input = json!({
        "cases": cases.iter().map(|case| json!({
            "type": case.type_name,
            "hex": hex::encode(&case.bytes),
            "object": case.object,
        })).collect::<Vec<_>>(),
    });
    let output = node::run_script("protobuf-golden.js", &[], input.to_string().as_bytes());
    let report: Value = serde_json::from_str(output.trim()).expect("one JSON line");
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), cases.len());
    for (case, result) in cases.iter().zip(results) {
        let expected = case.decoded.as_ref().unwrap_or(&case.object);
        assert_eq!(
            &result["decoded"], expected,
            "protobufjs decoding prost's {}",
            case.type_name
        );
        let theirs = hex::decode(result["encoded"].as_str().expect("hex")).unwrap();
        (case.check)(&theirs);
    }
}

#[test]
fn proto_payloads_use_prosts_bytes_whatever_the_apps_serializer() {
    for serializer in [
        Serializer::Json,
        Serializer::MessagePack,
        Serializer::Protobuf,
    ] {
        let bytes = Proto(player()).encode_payload(&serializer).unwrap();
        assert_eq!(bytes, player().encode_to_vec());
        let Proto(back) = Proto::<Player>::decode_payload(&serializer, &bytes).unwrap();
        assert_eq!(back, player());
    }
}

#[test]
fn truncated_and_garbage_bytes_are_decode_errors() {
    let bytes = snapshot().encode_to_vec();
    for cut in [1, bytes.len() / 2, bytes.len() - 1] {
        let err = Proto::<Snapshot>::decode_payload(&Serializer::Protobuf, &bytes[..cut]);
        assert!(err.is_err(), "{cut} of {} bytes decoded", bytes.len());
    }
    // A field with wire type 7, which does not exist.
    assert!(Proto::<Snapshot>::decode_payload(&Serializer::Protobuf, &[0x0f]).is_err());
}
