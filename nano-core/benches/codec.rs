//! Codec throughput: encoding and decoding Data packets with a 64-byte JSON payload.
//!
//! `cargo bench -p nano-core --bench codec` — criterion reports messages per second
//! ("elements/s"); each iteration handles a batch of 1,000 messages.

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nano_core::protocol::{Message, PacketCodec, Route, RouteDict, encode_data_packet};
use std::hint::black_box;
use tokio_util::codec::Decoder;

const BATCH: usize = 1_000;

/// A 64-byte JSON object, like a small game message.
fn payload() -> Bytes {
    let json = br#"{"name":"player-0042","content":"hello, room seven!","seq":1234}"#;
    assert_eq!(json.len(), 64);
    Bytes::from_static(json)
}

fn messages() -> [(&'static str, Message); 3] {
    [
        (
            "request",
            Message::Request {
                id: 300,
                route: Route::from("room.message"),
                payload: payload(),
            },
        ),
        (
            "response",
            Message::Response {
                id: 300,
                payload: payload(),
                error: false,
            },
        ),
        (
            "push",
            Message::Push {
                route: Route::from("onMessage"),
                payload: payload(),
            },
        ),
    ]
}

fn encode(c: &mut Criterion) {
    let dict = RouteDict::from_routes(["room.message", "onMessage"]).unwrap();
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (name, message) in messages() {
        for (suffix, dict) in [("", None), ("_dict", Some(&dict))] {
            let mut buf = BytesMut::with_capacity(BATCH * 128);
            group.bench_function(format!("{name}{suffix}"), |b| {
                b.iter(|| {
                    buf.clear();
                    for _ in 0..BATCH {
                        encode_data_packet(black_box(&message), dict, &mut buf).unwrap();
                    }
                    black_box(buf.len())
                });
            });
        }
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    let dict = RouteDict::from_routes(["room.message", "onMessage"]).unwrap();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (name, message) in messages() {
        for (suffix, dict) in [("", None), ("_dict", Some(&dict))] {
            let mut wire = BytesMut::new();
            for _ in 0..BATCH {
                encode_data_packet(&message, dict, &mut wire).unwrap();
            }
            let wire = wire.freeze();
            let mut codec = PacketCodec::default();
            group.bench_function(format!("{name}{suffix}"), |b| {
                b.iter(|| {
                    let mut buf = BytesMut::from(&wire[..]);
                    let mut count = 0;
                    while let Some(packet) = codec.decode(&mut buf).unwrap() {
                        let message = match dict {
                            Some(dict) => Message::decode_with(packet.body, dict).unwrap(),
                            None => Message::decode(packet.body).unwrap(),
                        };
                        count += message.payload().len();
                    }
                    black_box(count)
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);
