#!/usr/bin/env bash
# What the Prometheus metrics cost: request throughput of the pingpong example with metrics on
# (the default) and off (--no-metrics), alternating ROUNDS times at 100 and 1,000 connections,
# in one run; prints each round and the on/off ratio of the medians (BENCHMARKS.md, "Metrics").
#
#   bench/metrics-ab.sh                 # ROUNDS=3 DURATION=5
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet -p nano-bench --bin nano-bench
cargo build --release --quiet --example pingpong
results=bench/results/metrics-ab-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results"
runs=$results/runs.jsonl

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
RUST_LOG=warn target/release/examples/pingpong --tcp 127.0.0.1:3260 --ws 127.0.0.1:3261 >"$results/on.log" 2>&1 &
pids+=($!)
RUST_LOG=warn target/release/examples/pingpong --tcp 127.0.0.1:3262 --ws 127.0.0.1:3263 --no-metrics >"$results/off.log" 2>&1 &
pids+=($!)
for port in 3260 3262; do
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done

for conns in 100 1000; do
  for round in $(seq 1 "$ROUNDS"); do
    for metrics in on off; do
      port=3260; [ "$metrics" = off ] && port=3262
      target/release/nano-bench request --tcp "127.0.0.1:$port" --conns "$conns" --duration "$DURATION" \
        --json --tag metrics="$metrics" --tag round="$round" | tee -a "$runs"
    done
  done
done

python3 - "$runs" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print()
print("| connections | metrics on (req/s, median) | metrics off | on / off |")
print("|---:|---:|---:|---:|")
for conns in sorted({r["conns"] for r in runs}):
    rate = {m: statistics.median(r["ops_per_s"] for r in runs if r["conns"] == conns and r["metrics"] == m) for m in ("on", "off")}
    print(f"| {conns:,} | {rate['on']:,.0f} | {rate['off']:,.0f} | {rate['on'] / rate['off']:.3f} |")
PY
