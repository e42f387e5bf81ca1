#!/usr/bin/env bash
# What the session and message spans cost: request throughput of the pingpong example built
# from BEFORE_REV (a commit without them) and from the working tree, each with its log filter
# at off (no event or span enabled: what no subscriber costs), warn (a subscriber that does not
# enable the spans) and info (the spans enabled, formatted by tracing_subscriber::fmt),
# alternating ROUNDS times at 100 and 1,000 connections in one run; prints the medians and
# each variant's ratio to BEFORE_REV's at the same filter, with the server's CPU time per
# request (user + system, from /proc: steadier than throughput on a shared machine)
# (BENCHMARKS.md, "Tracing").
#
#   BEFORE_REV=5c1d3c2 bench/tracing-ab.sh     # ROUNDS=3 DURATION=5
#   BEFORE_BIN=path/to/pingpong bench/tracing-ab.sh   # an earlier build instead of BEFORE_REV
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${BEFORE_REV:-}${BEFORE_BIN:-}" ] || { echo "set BEFORE_REV (a commit without the spans) or BEFORE_BIN" >&2; exit 2; }
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
ulimit -n "$(ulimit -Hn)"
results=bench/results/tracing-ab-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results"
runs=$results/runs.jsonl
bins=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$bins"' EXIT

# The earlier revision, built from its own sources into this target directory (only the
# workspace's crates build again), then the working tree's.
if [ -n "${BEFORE_BIN:-}" ]; then
  cp "$BEFORE_BIN" "$bins/pingpong-before"
else
  before_src=$(mktemp -d)
  git archive "$BEFORE_REV" | tar -x -C "$before_src"
  (cd "$before_src" && CARGO_TARGET_DIR="$OLDPWD/target" cargo build --release --quiet --example pingpong)
  cp target/release/examples/pingpong "$bins/pingpong-before"
  rm -rf "$before_src"
fi
cargo build --release --quiet -p nano-bench --bin nano-bench
cargo build --release --quiet --example pingpong
cp target/release/examples/pingpong "$bins/pingpong-after"

port=3270
declare -A ports
declare -A server
for build in before after; do
  for filter in off warn info; do
    ports[$build-$filter]=$port
    RUST_LOG=$filter "$bins/pingpong-$build" --tcp "127.0.0.1:$port" --ws "127.0.0.1:$((port + 1))" \
      >"$results/$build-$filter.log" 2>&1 &
    pids+=($!)
    server[$build-$filter]=$!
    port=$((port + 2))
  done
done
for variant in "${!ports[@]}"; do
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/${ports[$variant]}") 2>/dev/null && break; sleep 0.1; done
done

# The server's user + system time so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

for conns in 100 1000; do
  for round in $(seq 1 "$ROUNDS"); do
    for filter in off warn info; do
      for build in before after; do
        pid=${server[$build-$filter]}
        start=$(cpu_ticks "$pid")
        line=$(target/release/nano-bench request --tcp "127.0.0.1:${ports[$build-$filter]}" --conns "$conns" \
          --duration "$DURATION" --json --tag build="$build" --tag filter="$filter" --tag round="$round")
        ticks=$(($(cpu_ticks "$pid") - start))
        echo "${line%\}},\"server_cpu_ticks\":$ticks}" | tee -a "$runs"
      done
    done
  done
done

python3 - "$runs" "$hz" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
hz = int(sys.argv[2])
def pick(conns, build, filter):
    return [r for r in runs if r["conns"] == conns and r["build"] == build and r["filter"] == filter]
def rate(conns, build, filter):
    return statistics.median(r["ops_per_s"] for r in pick(conns, build, filter))
def cpu_us(conns, build, filter):
    return statistics.median(r["server_cpu_ticks"] / hz * 1e6 / r["ops"] for r in pick(conns, build, filter))
print()
print("| connections | log filter | before: req/s | after: req/s | after / before | before: server CPU µs/req | after | after / before |")
print("|---:|---|---:|---:|---:|---:|---:|---:|")
for conns in sorted({r["conns"] for r in runs}):
    for filter in ("off", "warn", "info"):
        before, after = rate(conns, "before", filter), rate(conns, "after", filter)
        cb, ca = cpu_us(conns, "before", filter), cpu_us(conns, "after", filter)
        print(f"| {conns:,} | {filter} | {before:,.0f} | {after:,.0f} | {after / before:.3f} | {cb:.2f} | {ca:.2f} | {ca / cb:.3f} |")
PY
