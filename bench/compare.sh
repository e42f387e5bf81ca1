#!/usr/bin/env bash
# A regression guard for hot-path changes: request throughput of the pingpong example built
# from commit REV and from the working tree, side by side in one run, alternating ROUNDS
# times at each connection count; prints every round and the ratio of the medians
# (working tree / REV). Run it before merging a change to the request path.
#
#   bench/compare.sh REV                       # ROUNDS=3 DURATION=5 CONNS="100 1000"
#   ROUNDS=5 DURATION=10 bench/compare.sh main
#
# REV is built in a temporary git worktree with its own target directory
# (target/compare/), so the working tree's build is left alone; BASE_BIN=path uses a pingpong
# already built from REV instead.
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/compare.sh REV}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-100 1000}
EXTRA=${EXTRA:-}   # more pingpong flags for both servers, e.g. "--no-metrics"
ulimit -n "$(ulimit -Hn)"

commit=$(git rev-parse --verify "$REV^{commit}")
results=bench/results/compare-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results"
runs=$results/runs.jsonl
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
}
trap cleanup EXIT

# shellcheck source=bench/build-rev.sh
source bench/build-rev.sh
base_bin=${BASE_BIN:-$(build_rev "$commit" pingpong)}
cargo build --release --quiet -p nano-bench --bin nano-bench
cargo build --release --quiet --example pingpong
head_bin=target/release/examples/pingpong

# shellcheck disable=SC2086 # EXTRA is a list of flags
RUST_LOG=warn "$base_bin" --tcp 127.0.0.1:3280 --ws 127.0.0.1:3281 $EXTRA >"$results/base.log" 2>&1 &
pids+=($!)
# shellcheck disable=SC2086
RUST_LOG=warn "$head_bin" --tcp 127.0.0.1:3282 --ws 127.0.0.1:3283 $EXTRA >"$results/head.log" 2>&1 &
pids+=($!)
for port in 3280 3282; do
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done

for conns in $CONNS; do
  for round in $(seq 1 "$ROUNDS"); do
    for side in base head; do
      port=3280; [ "$side" = head ] && port=3282
      target/release/nano-bench request --tcp "127.0.0.1:$port" --conns "$conns" \
        --duration "$DURATION" --json --tag side="$side" --tag round="$round" | tee -a "$runs"
    done
  done
done

python3 - "$runs" "$REV" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
rev = sys.argv[2]
print()
print(f"| connections | {rev} (req/s, median) | working tree | working tree / {rev} |")
print("|---:|---:|---:|---:|")
for conns in sorted({r["conns"] for r in runs}):
    rate = {s: statistics.median(r["ops_per_s"] for r in runs if r["conns"] == conns and r["side"] == s) for s in ("base", "head")}
    print(f"| {conns:,} | {rate['base']:,.0f} | {rate['head']:,.0f} | {rate['head'] / rate['base']:.3f} |")
PY
echo "raw runs: $runs" >&2
