//! Dispatch and serializer throughput: the generated dispatch code of a sync and an async
//! handler (decode a 64-byte JSON payload, call, encode the answer), and JSON vs MessagePack.
//!
//! `cargo bench -p nano-core --bench dispatch` — criterion reports calls per second.

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nano_core::prelude::*;
use nano_core::{Serializer, testing};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
struct Move {
    player: u32,
    x: f32,
    y: f32,
    facing: String,
    seq: u64,
}

fn sample() -> Move {
    Move {
        player: 42,
        x: 12.5,
        y: -3.25,
        facing: "north-east".into(),
        seq: 123_456,
    }
}

struct World;

#[component(name = "world")]
impl World {
    #[handler]
    fn step(&self, _session: &Session, step: Move) -> Move {
        step
    }

    #[handler]
    async fn step_async(&self, _session: &Session, step: Move) -> Move {
        step
    }

    #[handler]
    fn raw(&self, _session: &Session, body: Bytes) -> Bytes {
        body
    }
}

fn dispatch(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let world = Arc::new(World);
    let session = testing::session();
    let payload = Serializer::Json.serialize(&sample()).unwrap();
    let mut group = c.benchmark_group("dispatch");
    group.throughput(Throughput::Elements(1));
    for route in ["world.step", "world.step_async", "world.raw"] {
        group.bench_function(route, |b| {
            b.iter(|| {
                runtime.block_on(testing::call(
                    &world,
                    route,
                    &session,
                    1,
                    black_box(payload.clone()),
                ))
            });
        });
    }
    group.finish();
}

fn serializers(c: &mut Criterion) {
    let value = sample();
    let mut group = c.benchmark_group("serializer");
    group.throughput(Throughput::Elements(1));
    for serializer in [Serializer::Json, Serializer::MessagePack] {
        let name = serializer.name().to_owned();
        let bytes = serializer.serialize(&value).unwrap();
        group.bench_function(format!("{name}/serialize"), |b| {
            b.iter(|| serializer.serialize(black_box(&value)).unwrap());
        });
        group.bench_function(format!("{name}/deserialize"), |b| {
            b.iter(|| serializer.deserialize::<Move>(black_box(&bytes)).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, dispatch, serializers);
criterion_main!(benches);
