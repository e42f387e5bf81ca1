//! The report's summary: each goal of the benchmarks with the figure this run measured.

use std::fmt::{self, Write as _};

use serde_json::Value;

use super::{median, number, ratio, rss_per_session, text};

/// The goals of the benchmark, each with the figure this run measured (`n/a` where the run
/// has no such figure).
pub(super) fn write_summary(out: &mut String, runs: &[&Value]) -> fmt::Result {
    writeln!(out, "## Summary\n")?;
    writeln!(out, "| goal | this run |")?;
    writeln!(out, "|---|---|")?;
    for section in ["request", "notify"] {
        for transport in ["tcp", "ws"] {
            for pinning in ["unpinned", "pinned"] {
                write_throughput_goal(out, runs, section, transport, pinning)?;
            }
        }
    }
    write_latency_goal(out, runs)?;
    write_broadcast_goal(out, runs)?;
    write_sessions_goal(out, runs)
}

/// nano-rs's rate in `section` over `transport` with `pinning` as a share of the raw
/// server's (the median of the rounds' ratios, each round's runs taken side by side), and
/// against Go nano's and pinus's where they ran.
fn write_throughput_goal(
    out: &mut String,
    runs: &[&Value],
    section: &str,
    transport: &str,
    pinning: &str,
) -> fmt::Result {
    let nano = matching(runs, section, "nano-rs", transport, pinning);
    let raw = matching(runs, section, "raw", transport, pinning);
    let mut ratios: Vec<f64> = nano
        .iter()
        .filter_map(|row| ratio(Some(row), raw.iter().copied().find(|r| same_round(r, row))))
        .collect();
    let in_rounds = format_rounds(&ratios);
    ratios.sort_by(f64::total_cmp);
    let share = percent(ratios.get(ratios.len() / 2).copied());
    let nano_rate = median(nano.iter().map(|row| number(row, "ops_per_s")).collect());
    let times = |peer: &str| {
        let peer = matching(runs, section, peer, transport, pinning);
        match (nano_rate, peer.first()) {
            (Some(rate), Some(peer)) => {
                format!(
                    ", {:.1}x {}",
                    rate / number(peer, "ops_per_s").max(1.0),
                    text(peer, "server")
                )
            }
            _ => String::new(),
        }
    };
    let raw_name = if transport == "ws" {
        "raw WebSocket echo"
    } else {
        "raw server"
    };
    writeln!(
        out,
        "| {section}, {} connections, {}, {pinning}: at least 95% of the {raw_name} | {share} of raw{in_rounds}{}{} |",
        nano.first().map_or(String::new(), |row| text(row, "conns")),
        if transport == "ws" {
            "WebSocket"
        } else {
            "TCP"
        },
        times("go-nano"),
        times("pinus"),
    )
}

/// `" (median of N rounds: a%, b%, ...)"` for more than one round, else nothing.
fn format_rounds(ratios: &[f64]) -> String {
    if ratios.len() < 2 {
        return String::new();
    }
    let each: Vec<String> = ratios.iter().map(|r| percent(Some(*r))).collect();
    format!(" (median of {} rounds: {})", ratios.len(), each.join(", "))
}

/// Whether `a` and `b` ran in the same round (both untagged counts as the same).
fn same_round(a: &Value, b: &Value) -> bool {
    text(a, "round") == text(b, "round")
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
    let broadcast = matching(runs, "broadcast", "nano-rs", "tcp", "")
        .first()
        .copied();
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

/// Every run of `server` in `section` over `transport` with `pinning` (any pinning when
/// empty), in the run's order.
fn matching<'a>(
    runs: &[&'a Value],
    section: &str,
    server: &str,
    transport: &str,
    pinning: &str,
) -> Vec<&'a Value> {
    runs.iter()
        .copied()
        .filter(|row| {
            text(row, "section") == section
                && text(row, "server") == server
                && text(row, "transport") == transport
                && (pinning.is_empty() || text(row, "pinning") == pinning)
        })
        .collect()
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

/// The median of `values` in milliseconds, or `n/a`.
fn median_ms(values: &[f64]) -> String {
    median(values.to_vec()).map_or("n/a".to_owned(), |v| format!("{:.2} ms", v / 1000.0))
}

/// A ratio as a whole percentage, or `n/a`.
fn percent(value: Option<f64>) -> String {
    value.map_or("n/a".to_owned(), |v| format!("{:.0}%", v * 100.0))
}
