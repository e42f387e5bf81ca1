//! # nano-bench: a load generator for nano/Pomelo protocol servers
//!
//! ```sh
//! cargo run --release -p nano-bench -- <scenario> [options]
//! cargo run --release -p nano-bench -- --help              # the scenarios
//! cargo run --release -p nano-bench -- request --help      # a scenario's options
//! ```
//!
//! Scenarios (`scenarios/`, one file each):
//! - `request`: N connections, each a closed loop of request -> response;
//! - `notify`: N connections, each a closed loop of notify -> the push it triggers;
//! - `broadcast`: N members of one group; one sender broadcasts, everyone counts deliveries;
//! - `connections`: open N idle sessions (with heartbeats), hold them, report the server's RSS
//!   per session (`--pid`) and the handshake rate;
//! - `moves` (against `rooms-server`): matches of `--players` connections, each player a
//!   closed loop of move -> its own move pushed back to the whole match;
//! - `soak` (against `soak-server`): N chat clients in `--rooms` rooms sending a message every
//!   `--message-interval` for the duration, sampling the server's RSS (`--pid`); then they
//!   leave and the server must be empty, or with `--shutdown` the server is sent SIGTERM
//!   while every client has a request in flight, and every such request must be answered.
//!
//! Every scenario takes `--tcp HOST:PORT` or `--ws URL`, `--conns N` (default 100),
//! `--duration` (default 10s; `3s`, `500ms`, `2m`, `1h`, or a bare number of seconds),
//! `--handshake-json JSON`, `--threads N` (client worker threads, default: all cores),
//! `--json` (print one summary line) and `--tag KEY=VALUE` (repeatable: adds fields to the
//! summary, for `bench/run.sh`). `request` and `notify` can be paced with `--rate OPS_PER_S`
//! (the total rate, for latency at a given load); their latency is then measured from each
//! message's scheduled send time, which corrects for coordinated omission. Latencies go into
//! an HDR histogram (1 µs to 60 s, 3 significant digits).
//!
//! `nano-bench report <results.jsonl> <BENCHMARKS.md>` turns a run's JSON lines into the
//! tables of `BENCHMARKS.md`.
//!
//! The generator reports its own CPU use (`client_cpu_percent`) so that a run where it was
//! the bottleneck shows as such; pin it and the server to different cores with `taskset`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod conn;
mod report;
mod scenarios;
mod stats;
mod values;
mod ws;

use std::process::ExitCode;

use clap::{Args, Parser};
use serde_json::Value;

use cli::{Cli, Command, Run};
use conn::Error;
use scenarios::Options;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Request(run) => execute(run, scenarios::request),
        Command::Notify(run) => execute(run, scenarios::notify),
        Command::Broadcast(run) => execute(run, scenarios::broadcast),
        Command::Connections(run) => execute(run, scenarios::connections),
        Command::Soak(run) => execute(run, scenarios::soak),
        Command::Moves(run) => execute(run, scenarios::moves),
        Command::Storm(run) => execute(run, scenarios::storm),
        Command::Report(report) => match report::write(&report.input, &report.output) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("nano-bench report: {err}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Runs one scenario on a runtime of `--threads` workers and prints its summary.
fn execute<P: Args>(
    run: Run<P>,
    scenario: impl AsyncFnOnce(&Options, &P) -> Result<Value, Error>,
) -> ExitCode {
    let threads = run
        .output
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("nano-bench: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(scenario(&run.options, &run.scenario)) {
        Ok(mut summary) => {
            for (key, value) in run.output.tag {
                summary[key] = value.into();
            }
            if run.output.json {
                println!("{summary}");
            } else {
                println!("{summary:#}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("nano-bench: {err}");
            ExitCode::FAILURE
        }
    }
}
