//! `storm`: every client connects and handshakes at the same moment, as after a server
//! restart or a network blip, and the run reports how long until all are in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Barrier;

use super::Options;
use crate::conn::{Conn, Error};
use crate::stats::{Latencies, Window, report};
use crate::values;

/// `storm`'s own options.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Storm {
    /// How long one client may take to connect and complete its handshake before it counts
    /// as failed
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = values::duration)]
    connect_timeout: Duration,
}

/// What one client of the storm ended with: its time to a completed handshake, or a failure.
type Outcome = Result<(Conn, Duration), String>;

/// Starts `conns` clients together (a barrier releases them at once, no limit on handshakes
/// in flight), waits for every one to be in or to fail, and reports the time to all connected,
/// the handshake rate over that time, each client's connect + handshake latency and the
/// failures (with the first error). The sessions are then held for `--duration` and closed.
pub(crate) async fn storm(options: &Options, storm: &Storm) -> Result<Value, Error> {
    let count = options.conns;
    let barrier = Arc::new(Barrier::new(count + 1));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let (barrier, target, hello) = (
            barrier.clone(),
            options.target(),
            options.handshake_json.clone(),
        );
        let timeout = storm.connect_timeout;
        tasks.spawn(async move {
            barrier.wait().await;
            let started = Instant::now();
            match tokio::time::timeout(timeout, Conn::connect(&target, &hello)).await {
                Ok(Ok(conn)) => Ok((conn, started.elapsed())),
                Ok(Err(err)) => Err(err.to_string()),
                Err(_) => Err(format!("not connected within {timeout:?}")),
            }
        });
    }
    barrier.wait().await;
    let window = Window::start();
    let outcomes = collect(&mut tasks).await?;
    let all_in = window.elapsed();
    let cpu = window.cpu_percent();
    Ok(summarize(outcomes, options, all_in, cpu).await)
}

/// Every client's outcome, as they finish.
async fn collect(tasks: &mut tokio::task::JoinSet<Outcome>) -> Result<Vec<Outcome>, Error> {
    let mut outcomes = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        outcomes.push(joined?);
    }
    Ok(outcomes)
}

/// The JSON summary of a storm that took `all_in`; holds the sessions for the run's duration
/// first, so that a server dropping them shortly after accepting them is seen as well.
async fn summarize(outcomes: Vec<Outcome>, options: &Options, all_in: Duration, cpu: f64) -> Value {
    let latencies = Latencies::default();
    let mut recorder = latencies.recorder();
    let mut conns = Vec::new();
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok((conn, took)) => {
                recorder.record(took);
                conns.push(conn);
            }
            Err(err) => failures.push(err),
        }
    }
    drop(recorder);
    let connected = conns.len();
    tokio::time::sleep(options.duration).await;
    drop(conns);
    let mut summary = report(
        "storm",
        options.target().transport(),
        options.conns,
        all_in,
        connected as u64,
        &latencies,
        failures.len() as u64,
        cpu,
    );
    summary["all_connected_s"] = ((all_in.as_secs_f64() * 1000.0).round() / 1000.0).into();
    summary["handshakes_per_s"] = summary["ops_per_s"].clone();
    if let Some(first) = failures.first() {
        summary["first_error"] = first.clone().into();
    }
    summary
}
