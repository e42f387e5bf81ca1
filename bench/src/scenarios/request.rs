//! `request` and `notify`: closed loops, one message in flight per connection.

use std::time::{Duration, Instant};

use nano_core::protocol::Message;
use serde_json::Value;

use super::{open_all, payload};
use crate::Options;
use crate::conn::Error;
use crate::stats::{Latencies, Window, report};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Request,
    Notify,
}

/// N connections, each: request, wait for its response, repeat.
pub(crate) async fn request(options: &Options) -> Result<Value, Error> {
    closed_loop(options, Shape::Request).await
}

/// N connections, each: notify, wait for the push it triggers, repeat.
pub(crate) async fn notify(options: &Options) -> Result<Value, Error> {
    closed_loop(options, Shape::Notify).await
}

async fn closed_loop(options: &Options, shape: Shape) -> Result<Value, Error> {
    let conns = open_all(options).await?;
    let count = conns.len();
    let body = payload(options.payload_bytes);
    let default_route = if shape == Shape::Request {
        "pingpong.ping"
    } else {
        "pingpong.notify"
    };
    let route_name = options
        .route
        .clone()
        .unwrap_or_else(|| default_route.to_owned());
    let push_route = options.push_route.clone();
    // Pacing: each connection sends at rate / conns.
    #[allow(clippy::cast_precision_loss)]
    let gap = options
        .rate
        .map(|rate| Duration::from_secs_f64(count as f64 / rate.max(1e-9)));

    let begin = Instant::now() + options.warmup;
    let end = begin + options.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for (index, mut conn) in conns.into_iter().enumerate() {
        let route = conn.route(&route_name);
        let push = push_route.clone();
        let body = body.clone();
        tasks.spawn(async move {
            let mut latencies = Latencies::default();
            let (mut ops, mut errors) = (0u64, 0u64);
            // Spread paced connections over the gap.
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            let mut next_send =
                gap.map(|gap| Instant::now() + gap.mul_f64((index % 1000) as f64 / 1000.0));
            loop {
                if let (Some(at), Some(gap)) = (next_send.as_mut(), gap) {
                    tokio::time::sleep_until((*at).into()).await;
                    *at += gap;
                }
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let outcome: Result<(), Error> = async {
                    match shape {
                        Shape::Request => {
                            let id = conn.request(&route, &body).await?;
                            loop {
                                if let Message::Response { id: got, .. } = conn.recv().await?
                                    && got == id
                                {
                                    return Ok(());
                                }
                            }
                        }
                        Shape::Notify => {
                            conn.notify(&route, &body).await?;
                            loop {
                                if let Message::Push { route, .. } = conn.recv().await? {
                                    let name = route.name().map(|n| n.as_str().to_owned());
                                    if name.as_deref() == Some(push.as_str())
                                        || route.is_compressed()
                                    {
                                        return Ok(());
                                    }
                                }
                            }
                        }
                    }
                }
                .await;
                match outcome {
                    Ok(()) if sent >= begin => {
                        ops += 1;
                        latencies.record(sent.elapsed());
                    }
                    Ok(()) => {}
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                }
            }
            (ops, errors, latencies)
        });
    }

    tokio::time::sleep_until(begin.into()).await;
    let window = Window::start();
    let (mut ops, mut errors, mut latencies) = (0, 0, Latencies::default());
    while let Some(done) = tasks.join_next().await {
        let (task_ops, task_errors, task_latencies) = done?;
        ops += task_ops;
        errors += task_errors;
        latencies.merge(task_latencies);
    }
    let elapsed = options.duration.max(Duration::from_millis(1));
    let scenario = if shape == Shape::Request {
        "request"
    } else {
        "notify"
    };
    Ok(report(
        scenario,
        options.target.transport(),
        count,
        elapsed,
        ops,
        &mut latencies,
        errors,
        window.cpu_percent(),
    ))
}
