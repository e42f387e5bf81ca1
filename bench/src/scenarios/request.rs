//! `request` and `notify`: one message in flight per connection, sent as soon as the previous
//! one is answered (closed loop) or on a fixed schedule (`--rate`).

use std::time::{Duration, Instant};

use bytes::Bytes;
use nano_core::protocol::{Message, Route};
use serde_json::Value;

use super::{Load, Options, open_all, payload};
use crate::conn::{Conn, Error};
use crate::stats::{Latencies, Recorder, Window, report};
use crate::values;

/// `request`'s own options.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Request {
    /// Route of the requests
    #[arg(long, default_value = "pingpong.ping")]
    route: String,
    #[command(flatten)]
    pace: Pace,
    #[command(flatten)]
    load: Load,
}

/// `notify`'s own options.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Notify {
    /// Route of the notifies
    #[arg(long, default_value = "pingpong.notify")]
    route: String,
    /// Route of the push each notify triggers (a push with a compressed route counts too)
    #[arg(long, value_name = "ROUTE", default_value = "pong")]
    push_route: String,
    #[command(flatten)]
    pace: Pace,
    #[command(flatten)]
    load: Load,
}

/// How fast the connections send.
#[derive(clap::Args, Clone, Debug)]
struct Pace {
    /// Pace the total rate to this many messages per second, spread evenly over the
    /// connections (latency is then measured from each message's scheduled send time);
    /// without it, each connection sends as soon as its previous message is answered
    #[arg(long, value_name = "PER_SECOND", value_parser = values::positive)]
    rate: Option<f64>,
}

/// What a connection sends and what answers it.
#[derive(Clone)]
enum Shape {
    /// A request, answered by the response with its id.
    Request,
    /// A notify, answered by a push on this route (or on a compressed one).
    Notify { push_route: String },
}

/// N connections, each: request, wait for its response, repeat.
pub(crate) async fn request(options: &Options, request: &Request) -> Result<Value, Error> {
    let run = Run {
        options,
        route: &request.route,
        pace: &request.pace,
        load: &request.load,
    };
    run.go("request", Shape::Request).await
}

/// N connections, each: notify, wait for the push it triggers, repeat.
pub(crate) async fn notify(options: &Options, notify: &Notify) -> Result<Value, Error> {
    let run = Run {
        options,
        route: &notify.route,
        pace: &notify.pace,
        load: &notify.load,
    };
    let shape = Shape::Notify {
        push_route: notify.push_route.clone(),
    };
    run.go("notify", shape).await
}

/// One `request` or `notify` run.
struct Run<'a> {
    options: &'a Options,
    route: &'a str,
    pace: &'a Pace,
    load: &'a Load,
}

impl Run<'_> {
    /// Opens the connections, drives them for the warmup and the duration, and reports.
    async fn go(&self, scenario: &str, shape: Shape) -> Result<Value, Error> {
        let conns = open_all(self.options).await?;
        let count = conns.len();
        // Pacing: each connection sends at rate / conns.
        #[allow(clippy::cast_precision_loss)]
        let gap = self
            .pace
            .rate
            .map(|rate| Duration::from_secs_f64(count as f64 / rate));
        let begin = Instant::now() + self.load.warmup;
        let end = begin + self.options.duration;
        let body = payload(self.load.payload_bytes);
        let latencies = Latencies::default();
        let mut tasks = tokio::task::JoinSet::new();
        for (index, conn) in conns.into_iter().enumerate() {
            let connection = Connection {
                route: conn.route(self.route),
                conn,
                shape: shape.clone(),
                body: body.clone(),
                schedule: gap.map(|gap| Schedule::spread(gap, index, count)),
                latencies: latencies.recorder(),
            };
            tasks.spawn(connection.drive(begin, end));
        }
        tokio::time::sleep_until(begin.into()).await;
        let window = Window::start();
        let (mut ops, mut errors) = (0, 0);
        while let Some(done) = tasks.join_next().await {
            let (task_ops, task_errors) = done?;
            ops += task_ops;
            errors += task_errors;
        }
        Ok(report(
            scenario,
            self.options.target().transport(),
            count,
            self.options.duration.max(Duration::from_millis(1)),
            ops,
            &latencies,
            errors,
            window.cpu_percent(),
        ))
    }
}

/// A paced connection's send times: one slot every `gap`, fixed in advance.
struct Schedule {
    next: Instant,
    gap: Duration,
}

impl Schedule {
    /// The schedule of connection `index` of `count`: the connections' first slots are spread
    /// evenly over one gap, so that together they send at a steady rate.
    fn spread(gap: Duration, index: usize, count: usize) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let offset = gap.mul_f64(index as f64 / count.max(1) as f64);
        Self {
            next: Instant::now() + offset,
            gap,
        }
    }

    /// Waits for the next slot; returns the time the message's latency counts from. That is
    /// the slot itself when it has already passed (the previous answer came late, and the
    /// time since counts), else the moment the timer woke this task: the timer's own
    /// lateness (tokio's is up to a millisecond) is the generator's, not the server's.
    async fn next(&mut self) -> Instant {
        let slot = self.next;
        self.next += self.gap;
        if Instant::now() >= slot {
            return slot;
        }
        tokio::time::sleep_until(slot.into()).await;
        Instant::now()
    }
}

/// One connection of a run, and what it needs to drive its loop.
struct Connection {
    conn: Conn,
    route: Route,
    shape: Shape,
    body: Bytes,
    schedule: Option<Schedule>,
    latencies: Recorder,
}

impl Connection {
    /// Sends, waits for the answer and records, until `end`; counts only what was sent from
    /// `begin` on. Returns the operations and errors counted.
    ///
    /// A closed loop records each message's round trip plainly. A paced one records the time
    /// from the message's slot in the schedule to its answer (see [`Schedule::next`]): when
    /// an answer comes late, the messages due meanwhile go out late, back to back until the
    /// schedule is caught up, and the time they waited counts, which corrects for
    /// coordinated omission (the server slowing the client down and so hiding its own
    /// stalls). `record_correct`, the other correction, adds the samples a closed loop
    /// skipped during a stall; here none are skipped, only delayed, so it would count them
    /// twice.
    async fn drive(mut self, begin: Instant, end: Instant) -> (u64, u64) {
        let (mut ops, mut errors) = (0u64, 0u64);
        loop {
            // When this message's latency counts from.
            let start = match self.schedule.as_mut() {
                Some(schedule) => schedule.next().await,
                None => Instant::now(),
            };
            if Instant::now() >= end {
                break;
            }
            match self.exchange().await {
                Ok(()) if start >= begin => {
                    ops += 1;
                    self.latencies.record(start.elapsed());
                }
                Ok(()) => {}
                Err(_) => {
                    errors += 1;
                    break;
                }
            }
        }
        (ops, errors)
    }

    /// Sends one message and waits for what answers it.
    async fn exchange(&mut self) -> Result<(), Error> {
        match &self.shape {
            Shape::Request => {
                let id = self.conn.request(&self.route, &self.body).await?;
                loop {
                    if let Message::Response { id: got, .. } = self.conn.recv().await?
                        && got == id
                    {
                        return Ok(());
                    }
                }
            }
            Shape::Notify { push_route } => {
                self.conn.notify(&self.route, &self.body).await?;
                loop {
                    if let Message::Push { route, .. } = self.conn.recv().await? {
                        let name = route.name().map(|n| n.as_str());
                        if name == Some(push_route.as_str()) || route.is_compressed() {
                            return Ok(());
                        }
                    }
                }
            }
        }
    }
}
