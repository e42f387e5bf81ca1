//! `broadcast`: N members of one group; one of them broadcasts, every member counts what it
//! receives and how long it took.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use nano_core::protocol::Message;
use serde_json::Value;

use super::open_all;
use crate::Options;
use crate::conn::Error;
use crate::stats::{Latencies, Window, report};

/// The time base shared by all connections of this process, for fan-out latency.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// A payload carrying its send time: 8 bytes of nanoseconds since `epoch()`, then padding.
fn stamped(bytes: usize) -> Bytes {
    let mut body = BytesMut::with_capacity(bytes.max(8));
    #[allow(clippy::cast_possible_truncation)]
    body.put_u64(epoch().elapsed().as_nanos() as u64);
    body.resize(bytes.max(8), b'x');
    body.freeze()
}

fn age(payload: &[u8]) -> Option<Duration> {
    let stamp = u64::from_be_bytes(payload.get(..8)?.try_into().ok()?);
    #[allow(clippy::cast_possible_truncation)]
    let now = epoch().elapsed().as_nanos() as u64;
    Some(Duration::from_nanos(now.saturating_sub(stamp)))
}

/// One sender (the first connection) broadcasts with `window` broadcasts in flight; every
/// member, the sender included, counts deliveries.
pub(crate) async fn broadcast(options: &Options) -> Result<Value, Error> {
    epoch();
    let mut conns = open_all(options).await?;
    let count = conns.len();
    for conn in &mut conns {
        let join = conn.route(&options.join_route);
        let id = conn.request(&join, &Bytes::from_static(b"null")).await?;
        while !matches!(conn.recv().await?, Message::Response { id: got, .. } if got == id) {}
    }
    let route_name = options
        .route
        .clone()
        .unwrap_or_else(|| "pingpong.broadcast".to_owned());
    let begin = Instant::now() + options.warmup;
    let end = begin + options.duration;
    let window = options.window;
    let payload_bytes = options.payload_bytes;

    let mut tasks = tokio::task::JoinSet::new();
    for (index, mut conn) in conns.into_iter().enumerate() {
        let route = conn.route(&route_name);
        tasks.spawn(async move {
            let mut latencies = Latencies::default();
            let (mut delivered, mut errors) = (0u64, 0u64);
            let sender = index == 0;
            let mut in_flight = 0;
            loop {
                let now = Instant::now();
                if now >= end + Duration::from_millis(200) {
                    break;
                }
                if sender && now < end {
                    while in_flight < window {
                        if conn.notify(&route, &stamped(payload_bytes)).await.is_err() {
                            errors += 1;
                            break;
                        }
                        in_flight += 1;
                    }
                }
                let next = tokio::time::timeout(Duration::from_millis(200), conn.recv()).await;
                match next {
                    Ok(Ok(Message::Push { payload, .. })) => {
                        let received = Instant::now();
                        if sender {
                            in_flight = in_flight.saturating_sub(1);
                        }
                        if received >= begin && received < end {
                            delivered += 1;
                            if let Some(age) = age(&payload) {
                                latencies.record(age);
                            }
                        }
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) => {
                        errors += 1;
                        break;
                    }
                    Err(_) if Instant::now() >= end => break,
                    Err(_) => {}
                }
            }
            (delivered, errors, latencies)
        });
    }
    tokio::time::sleep_until(begin.into()).await;
    let measure = Window::start();
    let (mut delivered, mut errors, mut latencies) = (0, 0, Latencies::default());
    while let Some(done) = tasks.join_next().await {
        let (task_delivered, task_errors, task_latencies) = done?;
        delivered += task_delivered;
        errors += task_errors;
        latencies.merge(task_latencies);
    }
    Ok(report(
        "broadcast",
        options.target.transport(),
        count,
        options.duration,
        delivered,
        &mut latencies,
        errors,
        measure.cpu_percent(),
    ))
}
