//! # nano-bench: a load generator for nano/Pomelo protocol servers
//!
//! ```sh
//! cargo run --release -p nano-bench -- <scenario> [options]
//! ```
//!
//! Scenarios:
//! - `request`: N connections, each a closed loop of request -> response;
//! - `notify`: N connections, each a closed loop of notify -> the push it triggers;
//! - `broadcast`: N members of one group; one sender broadcasts, everyone counts deliveries;
//! - `connections`: open N idle sessions (with heartbeats), hold them, report the server's RSS
//!   per session (`--pid`) and the handshake rate;
//! - `soak` (against `soak-server`): N chat clients in `--rooms` rooms sending a message every
//!   `--message-interval` seconds for the duration, sampling the server's RSS (`--pid`); then
//!   they leave and the server must be empty, or with `--shutdown` the server is sent SIGTERM
//!   while every client has a request in flight, and every such request must be answered.
//!
//! Options: `--tcp HOST:PORT` or `--ws URL`; `--route ROUTE`; `--push-route ROUTE` (what
//! `notify` waits for, default `pong`); `--join-route` (broadcast, default `pingpong.join`);
//! `--conns N` (default 100); `--duration SECONDS` (default 10); `--warmup SECONDS` (default
//! 1); `--payload-bytes N` (default 64); `--rate OPS_PER_S` (pace the total rate, for latency at
//! a given load); `--window N` (broadcasts in flight, default 1); `--handshake-json JSON`;
//! `--threads N` (client worker threads, default: all cores); `--pid PID` (server, for RSS);
//! `--json` (print one summary line).
//!
//! `--tag KEY=VALUE` (repeatable) adds fields to the JSON line, for `bench/run.sh`.
//!
//! `nano-bench report <results.jsonl> <BENCHMARKS.md>` turns a run's JSON lines into the
//! tables of `BENCHMARKS.md`.
//!
//! The generator reports its own CPU use (`client_cpu_percent`) so that a run where it was
//! the bottleneck shows as such; pin it and the server to different cores with `taskset`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod conn;
mod report;
mod scenarios;
mod stats;
mod ws;

use std::time::Duration;

use conn::Target;

/// Everything a scenario needs to know.
#[derive(Clone, Debug)]
pub struct Options {
    target: Target,
    route: Option<String>,
    push_route: String,
    join_route: String,
    conns: usize,
    duration: Duration,
    warmup: Duration,
    payload_bytes: usize,
    rate: Option<f64>,
    window: usize,
    handshake_json: String,
    pid: Option<u32>,
}

fn usage() -> ! {
    eprintln!(
        "usage: nano-bench <request|notify|broadcast|connections> (--tcp HOST:PORT | --ws URL) \
         [--route R] [--push-route R] [--join-route R] [--conns N] [--duration S] [--warmup S] \
         [--payload-bytes N] [--rate OPS] [--window N] [--handshake-json JSON] [--threads N] \
         [--pid PID] [--json]"
    );
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(scenario) = args.first().cloned() else {
        usage()
    };
    if scenario == "report" {
        let (Some(input), Some(output)) = (args.get(1), args.get(2)) else {
            usage()
        };
        if let Err(err) = report::write(input, output) {
            eprintln!("nano-bench report: {err}");
            std::process::exit(1);
        }
        return;
    }
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let number = |name: &str, default: f64| -> f64 {
        value(name).map_or(default, |v| v.parse().unwrap_or_else(|_| usage()))
    };
    let target = match (value("--tcp"), value("--ws")) {
        (Some(addr), None) => Target::Tcp(addr),
        (None, Some(url)) => Target::Ws(url),
        _ => usage(),
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let options = Options {
        target,
        route: value("--route"),
        push_route: value("--push-route").unwrap_or_else(|| "pong".to_owned()),
        join_route: value("--join-route").unwrap_or_else(|| "pingpong.join".to_owned()),
        conns: number("--conns", 100.0) as usize,
        duration: Duration::from_secs_f64(number("--duration", 10.0)),
        warmup: Duration::from_secs_f64(number("--warmup", 1.0)),
        payload_bytes: number("--payload-bytes", 64.0) as usize,
        rate: value("--rate").map(|v| v.parse().unwrap_or_else(|_| usage())),
        window: (number("--window", 1.0) as usize).max(1),
        handshake_json: value("--handshake-json").unwrap_or_else(|| {
            r#"{"sys":{"type":"nano-bench","version":"0.1.0"},"user":{}}"#.to_owned()
        }),
        pid: value("--pid").map(|v| v.parse().unwrap_or_else(|_| usage())),
    };
    let json = args.iter().any(|a| a == "--json");
    let threads = value("--threads")
        .map(|v| v.parse::<usize>().unwrap_or_else(|_| usage()))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match scenario.as_str() {
            "request" => scenarios::request(&options).await,
            "notify" => scenarios::notify(&options).await,
            "broadcast" => scenarios::broadcast(&options).await,
            "connections" => scenarios::connections(&options).await,
            "soak" => {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let soak = scenarios::Soak {
                    rooms: (number("--rooms", 100.0) as u32).max(1),
                    message_interval: Duration::from_secs_f64(number("--message-interval", 10.0)),
                    shutdown: args.iter().any(|a| a == "--shutdown"),
                };
                scenarios::soak(&options, soak).await
            }
            _ => usage(),
        }
    });
    let tags: Vec<(String, String)> = args
        .iter()
        .enumerate()
        .filter(|(_, arg)| *arg == "--tag")
        .filter_map(|(index, _)| {
            args.get(index + 1)?
                .split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect();
    let result = result.map(|mut report| {
        for (key, value) in tags {
            report[key] = value.into();
        }
        report
    });
    match result {
        Ok(report) if json => println!("{report}"),
        Ok(report) => println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        Err(err) => {
            eprintln!("nano-bench: {err}");
            std::process::exit(1);
        }
    }
}
