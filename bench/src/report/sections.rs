//! The report's tables, one per section of a run (`section` tag, as `bench/run.sh` and
//! `bench/cluster.sh` label their runs).

use std::fmt::{self, Write as _};

use serde_json::Value;

use super::{median, number, rss_per_session, text};

/// One section of the report: the runs tagged `kind`, under `title`, explained by `note`.
pub(super) struct Section {
    /// The `section` tag of its runs.
    kind: &'static str,
    /// Its heading.
    title: &'static str,
    /// What its figures mean (a sentence, without the full stop).
    note: &'static str,
    /// The table its runs go into.
    table: Table,
}

/// The two shapes of table.
enum Table {
    /// Throughput and latency, each run next to a baseline server's run.
    Throughput(Baseline),
    /// Idle sessions: the handshake rate and the server's memory per session.
    Sessions,
    /// Connection storms: the time until every client is in, and the failures.
    Storm,
}

/// What a throughput table compares each run with, and whether it shows the servers' CPU.
struct Baseline {
    /// The `server` tag of the baseline run (same transport and pinning).
    server: &'static str,
    /// The heading of the ratio column.
    column: &'static str,
    /// Whether the runs carry a `server_cpu` field to show in a last column.
    server_cpu: bool,
}

/// The raw reference server, in the same section, transport and pinning.
const VS_RAW: Baseline = Baseline {
    server: "raw",
    column: "vs raw",
    server_cpu: false,
};

/// The sections, in the report's order.
pub(super) const SECTIONS: [Section; 7] = [
    Section {
        kind: "request",
        title: "Request -> response",
        note: "ops = responses; `vs raw` = ops/s divided by the raw reference server's in the same transport and pinning",
        table: Table::Throughput(VS_RAW),
    },
    Section {
        kind: "notify",
        title: "Notify -> push",
        note: "ops = pushes received for the notifies sent",
        table: Table::Throughput(VS_RAW),
    },
    Section {
        kind: "latency",
        title: "Latency at half the maximum request rate",
        note: "paced to half of nano-rs's maximum request rate from the same run; each latency is measured from the request's scheduled send time, so a stall counts for every request it delays (no coordinated omission)",
        table: Table::Throughput(VS_RAW),
    },
    Section {
        kind: "broadcast",
        title: "Broadcast to one group",
        note: "ops = pushes delivered to members (one sender, every member counts)",
        table: Table::Throughput(VS_RAW),
    },
    Section {
        kind: "connections",
        title: "Idle connections",
        note: "sessions held with heartbeats, opened by two client processes in turn; server RSS per session = (RSS with the sessions - RSS before them) / sessions. The first run includes the server warming up (allocator arenas, the runtime); the second is the marginal cost of a session",
        table: Table::Sessions,
    },
    Section {
        kind: "storm",
        title: "Connection storm",
        note: "every client connects and completes its handshake at the same moment (`nano-bench storm`: released by one barrier, no limit on handshakes in flight), as after a server restart; time = until the last one is in; handshakes/s = clients / time; latency = each client's connect + handshake",
        table: Table::Storm,
    },
    Section {
        kind: "cluster",
        title: "Cluster",
        note: "requests through a cluster (client -> gate -> NATS -> backend, `bench/cluster.sh`) next to a standalone server in the same run, every process on the same machine; `vs standalone` = ops/s divided by the standalone server's; server CPU = each server process's CPU time during the run (100% = one core)",
        table: Table::Throughput(Baseline {
            server: "nano-rs-standalone",
            column: "vs standalone",
            server_cpu: true,
        }),
    },
];

/// The heading, note and table of `section`, for the runs tagged with its kind (nothing when
/// there are none).
pub(super) fn write_section(out: &mut String, section: &Section, runs: &[&Value]) -> fmt::Result {
    let rows: Vec<&Value> = runs
        .iter()
        .copied()
        .filter(|row| text(row, "section") == section.kind)
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out, "## {}\n", section.title)?;
    writeln!(out, "{}.\n", section.note)?;
    match &section.table {
        Table::Throughput(baseline) => write_throughput(out, baseline, &rows)?,
        Table::Sessions => write_sessions(out, &rows)?,
        Table::Storm => write_storms(out, &rows)?,
    }
    writeln!(out)
}

/// A table of throughput and latency: a line per run, with its ops/s as a share of the
/// baseline's run of the same round (empty without one) and, if the baseline says so, the
/// servers' CPU.
fn write_throughput(out: &mut String, baseline: &Baseline, rows: &[&Value]) -> fmt::Result {
    let (cpu_title, cpu_rule) = if baseline.server_cpu {
        (" server CPU |", "---|")
    } else {
        ("", "")
    };
    writeln!(
        out,
        "| server | transport | pinning | round | conns | ops/s | {} | p50 µs | p99 µs | p99.9 µs | errors | client CPU |{cpu_title}",
        baseline.column
    )?;
    writeln!(
        out,
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|{cpu_rule}"
    )?;
    for row in rows {
        let share = baseline_ops(baseline, rows, row).map_or(String::new(), |base| {
            format!("{:.0}%", number(row, "ops_per_s") / base.max(1.0) * 100.0)
        });
        let server_cpu = if baseline.server_cpu {
            format!(" {} |", text(row, "server_cpu"))
        } else {
            String::new()
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.0} | {share} | {} | {} | {} | {} | {}% |{server_cpu}",
            text(row, "server"),
            text(row, "transport"),
            text(row, "pinning"),
            round(row),
            text(row, "conns"),
            number(row, "ops_per_s"),
            text(row, "p50_us"),
            text(row, "p99_us"),
            text(row, "p999_us"),
            text(row, "errors"),
            text(row, "client_cpu_percent"),
        )?;
    }
    Ok(())
}

/// The baseline's ops/s to set `row` against: its run of the same round, or, for a run made
/// once (a peer's), the median of the baseline's rounds in the same transport and pinning.
fn baseline_ops(baseline: &Baseline, rows: &[&Value], row: &Value) -> Option<f64> {
    let runs = rows.iter().filter(|other| {
        text(other, "server") == baseline.server
            && text(other, "transport") == text(row, "transport")
            && text(other, "pinning") == text(row, "pinning")
            && (round(row).is_empty() || round(other) == round(row))
    });
    median(runs.map(|other| number(other, "ops_per_s")).collect())
}

/// Which of a cell's repeated runs `row` is (`round` or `attempt` tag; empty when run once):
/// a run is compared with the baseline's run of the same round.
fn round(row: &Value) -> String {
    let round = text(row, "round");
    if round.is_empty() {
        text(row, "attempt")
    } else {
        round
    }
}

/// A table of idle sessions: a line per run, with its handshake rate and the server's memory
/// per session.
fn write_sessions(out: &mut String, rows: &[&Value]) -> fmt::Result {
    writeln!(
        out,
        "| server | transport | run | sessions | handshakes/s | server RSS per session | errors | client CPU |"
    )?;
    writeln!(out, "|---|---|---|---:|---:|---:|---:|---:|")?;
    for row in rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {}% |",
            text(row, "server"),
            text(row, "transport"),
            text(row, "note"),
            text(row, "conns"),
            text(row, "handshakes_per_s"),
            rss_per_session(Some(row)),
            text(row, "errors"),
            text(row, "client_cpu_percent"),
        )?;
    }
    Ok(())
}

/// A table of connection storms: a line per run, with the time to all connected.
fn write_storms(out: &mut String, rows: &[&Value]) -> fmt::Result {
    writeln!(
        out,
        "| server | transport | clients | time to all connected | handshakes/s | p50 µs | p99 µs | failures |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|")?;
    for row in rows {
        writeln!(
            out,
            "| {} | {} | {} | {} s | {:.0} | {} | {} | {} |",
            text(row, "server"),
            text(row, "transport"),
            text(row, "conns"),
            text(row, "all_connected_s"),
            number(row, "handshakes_per_s"),
            text(row, "p50_us"),
            text(row, "p99_us"),
            text(row, "errors"),
        )?;
    }
    Ok(())
}
