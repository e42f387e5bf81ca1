use serde_json::{Value, json};

use super::render;

/// A run of `scenario` tagged with `section`, `server`, `transport` and `pinning`.
fn run(section: &str, server: &str, transport: &str, pinning: &str, ops_per_s: f64) -> Value {
    json!({
        "scenario": section, "section": section, "server": server, "transport": transport,
        "pinning": pinning, "conns": 10, "ops_per_s": ops_per_s, "p50_us": 100, "p99_us": 1500,
        "p999_us": 3000, "errors": 0, "client_cpu_percent": 50.0,
    })
}

/// A small run with one or more runs in every section, and its header.
fn every_section() -> Vec<Value> {
    let mut cluster = run("cluster", "nano-rs-cluster", "tcp", "unpinned", 300.0);
    cluster["server_cpu"] = "gate 80%".into();
    let mut standalone = run("cluster", "nano-rs-standalone", "tcp", "unpinned", 600.0);
    standalone["server_cpu"] = "server 90%".into();
    let sessions = |note: &str, per_session: u64| {
        json!({
            "scenario": "connections", "section": "connections", "server": "nano-rs",
            "transport": "tcp", "note": note, "conns": 500, "handshakes_per_s": 2000,
            "server_rss_per_session_bytes": per_session, "errors": 1, "client_cpu_percent": 5.0,
        })
    };
    let mut storm = run("storm", "go-nano", "tcp", "unpinned", 15000.0);
    storm["all_connected_s"] = 0.2.into();
    storm["handshakes_per_s"] = 15000.0.into();
    vec![
        run("request", "raw", "tcp", "unpinned", 1000.0),
        run("request", "nano-rs", "tcp", "unpinned", 900.0),
        run("request", "nano-rs", "ws", "unpinned", 450.0),
        run("request", "pinus", "tcp", "unpinned", 300.0),
        run("request", "go-nano", "tcp", "unpinned", 600.0),
        run("notify", "nano-rs", "tcp", "unpinned", 800.0),
        run("latency", "nano-rs", "tcp", "pinned", 400.0),
        run("broadcast", "nano-rs", "tcp", "unpinned", 1_234_567.0),
        sessions("first half", 5000),
        sessions("second half", 3000),
        storm,
        cluster,
        standalone,
        json!({
            "machine": "a test machine", "date": "2026-01-01", "commit": "abc1234",
            "command": "bench/run.sh", "payload_bytes": 64, "results": "bench/results/x",
            "notes": ["first note", "second note"],
        }),
    ]
}

/// The `## ` headings of `report`, in order.
fn headings(report: &str) -> Vec<&str> {
    report
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .collect()
}

#[test]
fn every_section_with_runs_is_written_in_order() {
    let report = render(&every_section()).unwrap();
    assert!(report.starts_with("# nano-rs benchmarks\n\n"), "{report}");
    assert_eq!(
        headings(&report),
        [
            "Summary",
            "Request -> response",
            "Notify -> push",
            "Latency at half the maximum request rate",
            "Broadcast to one group",
            "Idle connections",
            "Connection storm",
            "Cluster",
            "Notes",
        ]
    );
    for line in [
        "- **Machine**: a test machine",
        "- **Commit**: abc1234",
        "- **Client**: nano-bench, closed loop (one message in flight per connection), 64 byte payloads",
        "- first note",
        "- second note",
    ] {
        assert!(
            report.lines().any(|l| l == line),
            "{line} missing:\n{report}"
        );
    }
}

#[test]
fn sections_without_runs_and_a_missing_header_are_left_out() {
    let rows = vec![
        run("request", "raw", "tcp", "unpinned", 1000.0),
        run("request", "nano-rs", "tcp", "unpinned", 900.0),
    ];
    let report = render(&rows).unwrap();
    assert_eq!(headings(&report), ["Summary", "Request -> response"]);
    assert!(report.contains("- **Machine**: \n"), "{report}");
}

#[test]
fn each_run_is_compared_with_its_baseline() {
    let report = render(&every_section()).unwrap();
    for line in [
        "| nano-rs | tcp | unpinned |  | 10 | 900 | 90% | 100 | 1500 | 3000 | 0 | 50.0% |",
        // No raw run over WebSocket: no ratio.
        "| nano-rs | ws | unpinned |  | 10 | 450 |  | 100 | 1500 | 3000 | 0 | 50.0% |",
        "| nano-rs-cluster | tcp | unpinned |  | 10 | 300 | 50% | 100 | 1500 | 3000 | 0 | 50.0% | gate 80% |",
        "| nano-rs | tcp | second half | 500 | 2000 | 3000 B | 1 | 5.0% |",
        "| go-nano | tcp | 10 | 0.2 s | 15000 | 100 | 1500 | 0 |",
    ] {
        assert!(
            report.lines().any(|l| l == line),
            "{line} missing:\n{report}"
        );
    }
}

#[test]
fn the_summary_has_this_runs_figures() {
    let report = render(&every_section()).unwrap();
    for line in [
        "| request, 10 connections, TCP, unpinned: at least 95% of the raw server | 90% of raw, 1.5x go-nano, 3.0x pinus |",
        "| request,  connections, TCP, pinned: at least 95% of the raw server | n/a of raw |",
        "| request, 10 connections, WebSocket, unpinned: at least 95% of the raw WebSocket echo | n/a of raw |",
        "| notify, 10 connections, TCP, unpinned: at least 95% of the raw server | n/a of raw |",
        "| p99 at half the maximum request rate under 2 ms | median of 1 runs 1.50 ms (raw server: n/a) |",
        "| broadcast to a 10-member group: at least 1,000,000 pushes/s | 1234567 pushes/s |",
        "| 1000 idle sessions on one server, at most 2.5 KiB each | 3000 B per session (marginal), 2 errors |",
    ] {
        assert!(
            report.lines().any(|l| l == line),
            "{line} missing:\n{report}"
        );
    }
}

#[test]
fn write_reads_json_lines_and_skips_blank_ones() {
    let dir = std::env::temp_dir().join(format!("nano-bench-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("runs.jsonl"), dir.join("BENCHMARKS.md"));
    let rows = every_section();
    let lines: Vec<String> = rows.iter().map(Value::to_string).collect();
    std::fs::write(&input, lines.join("\n\n")).unwrap();
    super::write(&input, &output).unwrap();
    let written = std::fs::read_to_string(&output).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(written, render(&rows).unwrap());
}

#[test]
fn repeated_runs_are_compared_round_by_round_and_summed_up_by_their_median() {
    let in_round = |server: &str, round: &str, ops_per_s: f64| {
        let mut row = run("request", server, "tcp", "pinned", ops_per_s);
        row["round"] = round.into();
        row
    };
    let rows = vec![
        in_round("raw", "1", 1000.0),
        in_round("nano-rs", "1", 900.0),
        in_round("nano-rs", "2", 1200.0),
        in_round("raw", "2", 1250.0),
        in_round("raw", "3", 800.0),
        in_round("nano-rs", "3", 820.0),
        run("request", "go-nano", "tcp", "pinned", 500.0),
    ];
    let report = render(&rows).unwrap();
    for line in [
        "| nano-rs | tcp | pinned | 1 | 10 | 900 | 90% | 100 | 1500 | 3000 | 0 | 50.0% |",
        // A peer run once is set against the median of the raw server's rounds (1000).
        "| go-nano | tcp | pinned |  | 10 | 500 | 50% | 100 | 1500 | 3000 | 0 | 50.0% |",
        "| nano-rs | tcp | pinned | 2 | 10 | 1200 | 96% | 100 | 1500 | 3000 | 0 | 50.0% |",
        "| nano-rs | tcp | pinned | 3 | 10 | 820 | 102% | 100 | 1500 | 3000 | 0 | 50.0% |",
        "| request, 10 connections, TCP, pinned: at least 95% of the raw server | 96% of raw (median of 3 rounds: 90%, 96%, 102%), 1.8x go-nano |",
    ] {
        assert!(
            report.lines().any(|l| l == line),
            "{line} missing:\n{report}"
        );
    }
}
