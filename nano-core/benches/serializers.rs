//! JSON vs MessagePack vs protobuf on one realistic message: the state snapshot an action game
//! pushes to its players (16 players with position, health, state and items, and a few events).
//!
//! `cargo bench -p nano-core --bench serializers` — prints each encoding's size, then criterion
//! reports snapshots encoded and decoded per second ("elements/s") for each format. The results
//! and when to pick each format are in docs/CLIENTS.md.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nano_core::{DecodePayload, EncodePayload, Proto, Serializer};
use serde::{Deserialize, Serialize};
use std::hint::black_box;

/// One player in the snapshot: a serde type and a prost message at once, so every format
/// encodes the same value.
#[derive(Clone, PartialEq, Serialize, Deserialize, prost::Message)]
struct PlayerState {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(float, tag = "3")]
    x: f32,
    #[prost(float, tag = "4")]
    y: f32,
    #[prost(uint32, tag = "5")]
    hp: u32,
    #[prost(int32, tag = "6")]
    state: i32,
    #[prost(uint32, repeated, tag = "7")]
    items: Vec<u32>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize, prost::Message)]
struct Snapshot {
    #[prost(uint32, tag = "1")]
    tick: u32,
    #[prost(message, repeated, tag = "2")]
    players: Vec<PlayerState>,
    #[prost(string, repeated, tag = "3")]
    events: Vec<String>,
}

fn snapshot() -> Snapshot {
    let players = (0..16u16)
        .map(|n| PlayerState {
            id: 10_000 + u64::from(n),
            name: format!("player-{n:02}"),
            x: 120.5 + f32::from(n) * 3.25,
            y: -48.75 + f32::from(n),
            hp: 100 - u32::from(n) * 3,
            state: i32::from(n % 4),
            items: (0..u32::from(n % 5)).map(|item| 3_000 + item).collect(),
        })
        .collect();
    Snapshot {
        tick: 90_210,
        players,
        events: vec!["player-03 scored".into(), "round 2 of 5".into()],
    }
}

fn formats() -> [(&'static str, Serializer); 3] {
    [
        ("json", Serializer::Json),
        ("msgpack", Serializer::MessagePack),
        ("protobuf", Serializer::Protobuf),
    ]
}

/// The snapshot in `serializer`'s format: serde for JSON and MessagePack (the message inside
/// the `Proto`), prost for protobuf.
fn encode(serializer: &Serializer, value: &Proto<Snapshot>) -> Bytes {
    let encoded = match serializer {
        Serializer::Protobuf => value.encode_payload(serializer),
        _ => value.0.encode_payload(serializer),
    };
    encoded.expect("the snapshot encodes")
}

fn decode(serializer: &Serializer, bytes: &[u8]) -> Snapshot {
    let decoded = match serializer {
        Serializer::Protobuf => Proto::<Snapshot>::decode_payload(serializer, bytes).map(|p| p.0),
        _ => Snapshot::decode_payload(serializer, bytes),
    };
    decoded.expect("the snapshot decodes")
}

fn bench(c: &mut Criterion) {
    let value = Proto(snapshot());
    for (name, serializer) in formats() {
        let bytes = encode(&serializer, &value);
        assert_eq!(decode(&serializer, &bytes), value.0, "{name} round trip");
        eprintln!("snapshot size, {name}: {} bytes", bytes.len());
    }
    let mut group = c.benchmark_group("snapshot");
    group.throughput(Throughput::Elements(1));
    for (name, serializer) in formats() {
        let bytes = encode(&serializer, &value);
        group.bench_function(format!("encode/{name}"), |b| {
            b.iter(|| black_box(encode(&serializer, black_box(&value))));
        });
        group.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| black_box(decode(&serializer, black_box(&bytes))));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
