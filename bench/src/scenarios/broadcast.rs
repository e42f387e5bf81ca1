//! `broadcast`: N members of one group; one of them broadcasts, every member counts what it
//! receives and how long it took.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use nano_core::protocol::{Message, Route};
use serde_json::Value;

use super::{Load, Options, open_all};
use crate::conn::{Conn, Error};
use crate::stats::{Latencies, Recorder, Window, report};
use crate::values;

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

/// `broadcast`'s own options.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Broadcast {
    /// Route the sender notifies; the server broadcasts each body to the group
    #[arg(long, default_value = "pingpong.broadcast")]
    route: String,
    /// Route every connection requests first, to join the group
    #[arg(long, value_name = "ROUTE", default_value = "pingpong.join")]
    join_route: String,
    /// Broadcasts in flight: the sender sends again when its own copy comes back
    #[arg(long, value_name = "N", default_value = "1", value_parser = values::at_least_one())]
    window: usize,
    #[command(flatten)]
    load: Load,
}

/// How long members keep reading after the end, for deliveries still on the way.
const LINGER: Duration = Duration::from_millis(200);

/// One sender (the first connection) broadcasts with `window` broadcasts in flight; every
/// member, the sender included, counts deliveries and records each one's age (from the
/// sender's stamp to its arrival). The sender is closed-loop (it waits for its own copies),
/// so the ages are recorded plainly.
pub(crate) async fn broadcast(options: &Options, broadcast: &Broadcast) -> Result<Value, Error> {
    epoch();
    let mut conns = open_all(options).await?;
    let count = conns.len();
    for conn in &mut conns {
        let join = conn.route(&broadcast.join_route);
        let id = conn.request(&join, &Bytes::from_static(b"null")).await?;
        while !matches!(conn.recv().await?, Message::Response { id: got, .. } if got == id) {}
    }
    let begin = Instant::now() + broadcast.load.warmup;
    let span = Span {
        begin,
        end: begin + options.duration,
    };
    let latencies = Latencies::default();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, conn) in conns.into_iter().enumerate() {
        let member = Member {
            route: conn.route(&broadcast.route),
            conn,
            sender: (index == 0).then_some(Sender {
                window: broadcast.window,
                payload_bytes: broadcast.load.payload_bytes,
            }),
            latencies: latencies.recorder(),
        };
        tasks.spawn(member.listen(span));
    }
    tokio::time::sleep_until(begin.into()).await;
    let measure = Window::start();
    let (mut delivered, mut errors) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        let (task_delivered, task_errors) = done?;
        delivered += task_delivered;
        errors += task_errors;
    }
    Ok(report(
        "broadcast",
        options.target().transport(),
        count,
        options.duration,
        delivered,
        &latencies,
        errors,
        measure.cpu_percent(),
    ))
}

/// The measured part of the run: deliveries from `begin` to `end` count.
#[derive(Clone, Copy)]
struct Span {
    begin: Instant,
    end: Instant,
}

/// What the sending member sends.
struct Sender {
    window: usize,
    payload_bytes: usize,
}

/// One member of the group.
struct Member {
    conn: Conn,
    route: Route,
    /// Set on the one member that broadcasts.
    sender: Option<Sender>,
    latencies: Recorder,
}

impl Member {
    /// Reads deliveries (and, as the sender, keeps the window full) until `LINGER` after the
    /// end. Returns the deliveries and errors counted.
    async fn listen(mut self, span: Span) -> (u64, u64) {
        let (mut delivered, mut errors) = (0u64, 0u64);
        let mut in_flight = 0;
        loop {
            let now = Instant::now();
            if now >= span.end + LINGER {
                break;
            }
            if let Some(sender) = &self.sender
                && now < span.end
            {
                while in_flight < sender.window {
                    let body = stamped(sender.payload_bytes);
                    if self.conn.notify(&self.route, &body).await.is_err() {
                        errors += 1;
                        break;
                    }
                    in_flight += 1;
                }
            }
            match tokio::time::timeout(LINGER, self.conn.recv()).await {
                Ok(Ok(Message::Push { payload, .. })) => {
                    let received = Instant::now();
                    if self.sender.is_some() {
                        in_flight = in_flight.saturating_sub(1);
                    }
                    if received >= span.begin && received < span.end {
                        delivered += 1;
                        if let Some(age) = age(&payload) {
                            self.latencies.record(age);
                        }
                    }
                }
                Ok(Ok(_)) => {}
                Ok(Err(_)) => {
                    errors += 1;
                    break;
                }
                Err(_) if Instant::now() >= span.end => break,
                Err(_) => {}
            }
        }
        (delivered, errors)
    }
}
