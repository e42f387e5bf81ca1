#!/usr/bin/env bash
# The soak run of docs/RELIABILITY.md: 10,000 chat clients in 100 rooms, one message every 10 s
# each, 5 s heartbeats, for 10 minutes against one soak-server; then everyone leaves and the
# server must be empty. Then a second, shorter run ends with SIGTERM while every client has a
# request in flight: every such request must be answered.
#
#   bench/soak.sh                       # CONNS=10000 DURATION=600
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-10000}
DURATION=${DURATION:-600}
SHUTDOWN_DURATION=${SHUTDOWN_DURATION:-60}
ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet -p nano-bench --bin nano-bench --bin soak-server
results=bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results"

run_server() {
  RUST_LOG=warn target/release/soak-server --tcp 127.0.0.1:3300 >>"$results/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/3300) 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

run_server
target/release/nano-bench soak --tcp 127.0.0.1:3300 --conns "$CONNS" --rooms 100 --message-interval 10 \
  --duration "$DURATION" --pid "$server" --json | tee "$results/soak.json"
kill "$server"; wait "$server" 2>/dev/null || true

run_server
target/release/nano-bench soak --tcp 127.0.0.1:3300 --conns "$CONNS" --rooms 100 --message-interval 10 \
  --duration "$SHUTDOWN_DURATION" --pid "$server" --shutdown --json | tee "$results/shutdown.json"
wait "$server" 2>/dev/null || true
echo "results in $results" >&2
