#!/usr/bin/env bash
# A regression guard for changes to the cluster path: requests through a cluster (client ->
# gate -> NATS -> backend) with the cluster example built from commit REV and from the working
# tree, alternating ROUNDS times at each connection count; prints each round's throughput and
# the CPU each process spent per request, and the ratio of the median throughputs (working
# tree / REV).
#
#   bench/cluster-compare.sh REV               # ROUNDS=3 DURATION=4 CONNS="100 1000"
#   BASE_BIN=path/to/cluster bench/cluster-compare.sh REV   # a build of REV made before
#
# REV is built in a temporary git worktree with its own target directory (target/compare/).
# The rounds and ratios are also written to bench/results/cluster-compare-<time>/rounds.txt.
# Needs nats-server.
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/cluster-compare.sh REV}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
CONNS_LIST=${CONNS:-100 1000}
command -v nats-server >/dev/null || { echo "nats-server is missing (apt-get install nats-server)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"

commit=$(git rev-parse --verify "$REV^{commit}")
results=bench/results/cluster-compare-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results"
echo "REV $REV ($commit) against the working tree on $(git rev-parse --short HEAD)" >"$results/rounds.txt"
dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

# shellcheck source=bench/build-rev.sh
source bench/build-rev.sh
base_bin=${BASE_BIN:-$(build_rev "$commit" cluster)}
cargo build --release --quiet -p nano-bench --bin nano-bench
cargo build --release --quiet -p nano-examples --example cluster
bench=target/release/nano-bench
head_bin=target/release/examples/cluster
# shellcheck source=bench/cluster-lib.sh
source bench/cluster-lib.sh

for CONNS in $CONNS_LIST; do
  base_rates=() head_rates=()
  for round in $(seq 1 "$ROUNDS"); do
    for side in base head; do
      binary=$base_bin
      [ "$side" = head ] && binary=$head_bin
      start_cluster "$binary"
      line=$(cpu_per_request 3456 echo.ping "gate=$gate" "backend=$backend" "nats=$nats")
      stop_cluster
      echo "$CONNS conns, round $round, $side: $line" | tee -a "$results/rounds.txt"
      rate=$(awk '{ print $2 }' <<<"$line")
      if [ "$side" = base ]; then base_rates+=("$rate"); else head_rates+=("$rate"); fi
    done
  done
  median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  awk -v c="$CONNS" -v b="$(median "${base_rates[@]}")" -v h="$(median "${head_rates[@]}")" \
    'BEGIN { printf "%s conns: median %d (REV) -> %d requests/s (working tree): %.2fx\n", c, b, h, h / b }' \
    | tee -a "$results/rounds.txt"
done
