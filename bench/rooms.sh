#!/usr/bin/env bash
# Rooms against one shared actor (BENCHMARKS.md, "Rooms"): MATCHES matches of 4 players on
# rooms-server, each player a closed loop of move -> its own move back, with WORK_US of game
# logic per move (0, then a real move's worth), once with every match a room and once with
# every match on one shared actor (nano's single logic task), in the same run; then the memory
# of an empty room. Prints a Markdown table and keeps the JSON lines in bench/results/.
#
#   bench/rooms.sh                      # MATCHES=1000 DURATION=10 WORK="0 50"
set -euo pipefail
cd "$(dirname "$0")/.."
MATCHES=${MATCHES:-1000}
PLAYERS=${PLAYERS:-4}
DURATION=${DURATION:-10}
WORK=${WORK:-0 50}
EMPTY_ROOMS=${EMPTY_ROOMS:-10000}
ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet -p nano-bench --bin nano-bench --bin rooms-server
results=bench/results/rooms-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results"
runs=$results/runs.jsonl
conns=$((MATCHES * PLAYERS))

server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null || true; }
trap cleanup EXIT

for work in $WORK; do
  for mode in shared rooms; do
    route=match.play
    [ "$mode" = shared ] && route=lobby.play
    RUST_LOG=warn target/release/rooms-server --tcp 127.0.0.1:3280 --mode "$mode" --rooms "$MATCHES" \
      --players "$PLAYERS" --work-us "$work" >>"$results/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/3280) 2>/dev/null && break; sleep 0.1; done
    target/release/nano-bench moves --tcp 127.0.0.1:3280 --conns "$conns" --players "$PLAYERS" \
      --route "$route" --duration "$DURATION" --json --tag mode="$mode" --tag work_us="$work" | tee -a "$runs"
    kill "$server"; wait "$server" 2>/dev/null || true
    server=
  done
done
target/release/rooms-server --empty-rooms "$EMPTY_ROOMS" | tee "$results/empty-rooms.json"

python3 - "$runs" "$results/empty-rooms.json" <<'PY'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
empty = json.load(open(sys.argv[2]))
print()
print("| game logic per move | matches | shared actor: moves/s | p99 | rooms: moves/s | p99 | rooms / shared |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for work in sorted({r["work_us"] for r in runs}, key=int):
    by = {r["mode"]: r for r in runs if r["work_us"] == work}
    s, r = by["shared"], by["rooms"]
    print(f"| {work} µs | {r['matches']:,} | {s['ops_per_s']:,.0f} | {s['p99_us']:,} µs | {r['ops_per_s']:,.0f} | {r['p99_us']:,} µs | {r['ops_per_s'] / max(s['ops_per_s'], 1):.2f} |")
print()
print(f"Memory: {empty['empty_rooms']:,} empty rooms, {empty['bytes_per_room']:,.0f} bytes of RSS each.")
PY
