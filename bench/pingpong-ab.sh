#!/usr/bin/env bash
# Request throughput of the pingpong example started two ways, alternating ROUNDS times at
# 100 and 1,000 connections in one run; prints each round and the A/B ratio of the medians.
# The two ways are named and given their flags by A_NAME, A_FLAGS, B_NAME, B_FLAGS; the
# wrappers bench/metrics-ab.sh and bench/resume-ab.sh set them.
#
#   A_NAME=on A_FLAGS= B_NAME=off B_FLAGS=--no-metrics bench/pingpong-ab.sh   # ROUNDS=3 DURATION=5
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
: "${A_NAME:?}" "${B_NAME:?}"
ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet -p nano-bench --bin nano-bench
cargo build --release --quiet --example pingpong
results=bench/results/ab-${A_NAME// /-}-vs-${B_NAME// /-}-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results"
runs=$results/runs.jsonl

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
# shellcheck disable=SC2086 # the flags are words
RUST_LOG=warn target/release/examples/pingpong --tcp 127.0.0.1:3260 --ws 127.0.0.1:3261 ${A_FLAGS:-} >"$results/a.log" 2>&1 &
pids+=($!)
# shellcheck disable=SC2086
RUST_LOG=warn target/release/examples/pingpong --tcp 127.0.0.1:3262 --ws 127.0.0.1:3263 ${B_FLAGS:-} >"$results/b.log" 2>&1 &
pids+=($!)
for port in 3260 3262; do
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done

for conns in 100 1000; do
  for round in $(seq 1 "$ROUNDS"); do
    for side in a b; do
      port=3260; [ "$side" = b ] && port=3262
      target/release/nano-bench request --tcp "127.0.0.1:$port" --conns "$conns" --duration "$DURATION" \
        --json --tag side="$side" --tag round="$round" | tee -a "$runs"
    done
  done
done

python3 - "$runs" "$A_NAME" "$B_NAME" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
a_name, b_name = sys.argv[2], sys.argv[3]
print()
print(f"| connections | {a_name} (req/s, median) | {b_name} | {a_name} / {b_name} |")
print("|---:|---:|---:|---:|")
for conns in sorted({r["conns"] for r in runs}):
    rate = {s: statistics.median(r["ops_per_s"] for r in runs if r["conns"] == conns and r["side"] == s) for s in ("a", "b")}
    print(f"| {conns:,} | {rate['a']:,.0f} | {rate['b']:,.0f} | {rate['a'] / rate['b']:.3f} |")
PY
