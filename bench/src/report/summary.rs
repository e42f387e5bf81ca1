//! The report's summary: each goal of the benchmarks with the figure this run measured.

use std::fmt::{self, Write as _};

use serde_json::Value;

use super::{number, ratio, rss_per_session, text};

/// The goals of the benchmark, each with the figure this run measured (`n/a` where the run
/// has no such figure).
pub(super) fn write_summary(out: &mut String, runs: &[&Value]) -> fmt::Result {
    writeln!(out, "## Summary\n")?;
    writeln!(out, "| goal | this run |")?;
    writeln!(out, "|---|---|")?;
    for pinning in ["unpinned", "pinned"] {
        write_request_goal(out, runs, pinning)?;
    }
    for pinning in ["unpinned", "pinned"] {
        write_websocket_goal(out, runs, pinning)?;
    }
    write_latency_goal(out, runs)?;
    write_broadcast_goal(out, runs)?;
    write_sessions_goal(out, runs)
}

/// nano-rs's TCP request rate next to the raw server's, Go nano's and pinus's.
fn write_request_goal(out: &mut String, runs: &[&Value], pinning: &str) -> fmt::Result {
    let nano = first(runs, "request", "nano-rs", "tcp", pinning);
    let raw = first(runs, "request", "raw", "tcp", pinning);
    let times = |peer: &str| {
        let peer = first(runs, "request", peer, "tcp", pinning);
        ratio(nano, peer).map_or("n/a".to_owned(), |r| format!("{r:.1}x"))
    };
    writeln!(
        out,
        "| request, {} connections, TCP, {pinning}: at least 95% of raw | {} of raw, {} Go nano, {} pinus |",
        nano.map_or(String::new(), |row| text(row, "conns")),
        percent(ratio(nano, raw)),
        times("go-nano"),
        times("pinus"),
    )
}

/// nano-rs's WebSocket request rate next to the raw WebSocket echo's, and to its own TCP one.
fn write_websocket_goal(out: &mut String, runs: &[&Value], pinning: &str) -> fmt::Result {
    let ws = first(runs, "request", "nano-rs", "ws", pinning);
    let raw = first(runs, "request", "raw", "ws", pinning);
    let tcp = first(runs, "request", "nano-rs", "tcp", pinning);
    writeln!(
        out,
        "| request, WebSocket, {pinning}: at least 95% of the raw WebSocket echo | {} of raw, {} of nano-rs over TCP |",
        percent(ratio(ws, raw)),
        percent(ratio(ws, tcp))
    )
}

/// The median p99 of nano-rs's paced runs, next to the raw server's.
fn write_latency_goal(out: &mut String, runs: &[&Value]) -> fmt::Result {
    let p99 = sorted_p99(runs, "nano-rs");
    let raw_p99 = sorted_p99(runs, "raw");
    writeln!(
        out,
        "| p99 at half the maximum request rate under 2 ms | median of {} runs {} (raw server: {}) |",
        p99.len(),
        median_ms(&p99),
        median_ms(&raw_p99)
    )
}

/// The push rate of nano-rs's TCP broadcast run.
fn write_broadcast_goal(out: &mut String, runs: &[&Value]) -> fmt::Result {
    let broadcast = first(runs, "broadcast", "nano-rs", "tcp", "");
    writeln!(
        out,
        "| broadcast to a {}-member group: at least 1,000,000 pushes/s | {} pushes/s |",
        broadcast.map_or(String::new(), |row| text(row, "conns")),
        broadcast.map_or("n/a".to_owned(), |row| format!(
            "{:.0}",
            number(row, "ops_per_s")
        )),
    )
}

/// The idle sessions of every `connections` run, the marginal memory per session (the
/// second half's) and their errors; the summary's last line, followed by a blank line.
fn write_sessions_goal(out: &mut String, runs: &[&Value]) -> fmt::Result {
    let idle: Vec<&Value> = runs
        .iter()
        .copied()
        .filter(|row| text(row, "section") == "connections")
        .collect();
    let sessions: f64 = idle.iter().map(|row| number(row, "conns")).sum();
    let marginal = idle
        .iter()
        .copied()
        .find(|row| text(row, "note") == "second half");
    writeln!(
        out,
        "| {sessions:.0} idle sessions on one server, at most 2.5 KiB each | {} per session (marginal), {} errors |\n",
        rss_per_session(marginal),
        idle.iter().map(|row| number(row, "errors")).sum::<f64>(),
    )
}

/// The first run of `server` in `section` over `transport` with `pinning` (any pinning when
/// empty).
fn first<'a>(
    runs: &[&'a Value],
    section: &str,
    server: &str,
    transport: &str,
    pinning: &str,
) -> Option<&'a Value> {
    runs.iter().copied().find(|row| {
        text(row, "section") == section
            && text(row, "server") == server
            && text(row, "transport") == transport
            && (pinning.is_empty() || text(row, "pinning") == pinning)
    })
}

/// The p99 latencies (µs) of `server`'s TCP latency runs, in increasing order.
fn sorted_p99(runs: &[&Value], server: &str) -> Vec<f64> {
    let mut p99: Vec<f64> = runs
        .iter()
        .filter(|row| {
            text(row, "section") == "latency"
                && text(row, "server") == server
                && text(row, "transport") == "tcp"
        })
        .map(|row| number(row, "p99_us"))
        .collect();
    p99.sort_by(f64::total_cmp);
    p99
}

/// The middle one of `values` (the upper of the two middle ones for an even count), in
/// milliseconds, or `n/a`.
fn median_ms(values: &[f64]) -> String {
    values
        .get(values.len() / 2)
        .map_or("n/a".to_owned(), |v| format!("{:.2} ms", v / 1000.0))
}

/// A ratio as a whole percentage, or `n/a`.
fn percent(value: Option<f64>) -> String {
    value.map_or("n/a".to_owned(), |v| format!("{:.0}%", v * 100.0))
}
