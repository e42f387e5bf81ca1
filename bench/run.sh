#!/usr/bin/env bash
# Side-by-side benchmarks in one go: nano-rs (the pingpong example, TCP and WebSocket), Go nano
# (../shared/peers/gonano: lonng/nano built from source), pinus (../shared/peers/pinus, a real
# Pomelo server) and raw-echo (framing only, no framework, over TCP and over tokio-tungstenite:
# what this machine allows). Writes
# BENCHMARKS.md and keeps the raw JSON lines in bench/results/.
#
#   bench/run.sh                 # CONNS=1000 DURATION=10 ROUNDS=3 by default
#   CONNS=1000 DURATION=20 SESSIONS=19000 bench/run.sh
#   ROUNDS=1 DURATION=5 bench/run.sh     # a quick look: every cell once
#
# The raw server and nano-rs run ROUNDS times in each request and notify cell, side by side;
# BENCHMARKS.md's summary gives the median of the rounds' ratios.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=${CONNS:-1000}
DURATION=${DURATION:-10}
SESSIONS=${SESSIONS:-19000}
PAYLOAD=${PAYLOAD:-64}
PINUS_START=${PINUS_START:-../shared/peers/pinus/start.sh}
PINUS_STOP=${PINUS_STOP:-../shared/peers/pinus/stop.sh}
GONANO_START=${GONANO_START:-../shared/peers/gonano/start.sh}
GONANO_STOP=${GONANO_STOP:-../shared/peers/gonano/stop.sh}
GONANO_PORT=${GONANO_PORT:-3275}
STORM=${STORM:-3000}
ROUNDS=${ROUNDS:-3}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=bench/results/$stamp
mkdir -p "$results"
runs=$results/runs.jsonl

log() { printf '\n== %s\n' "$*" >&2; }

ulimit -n "$(ulimit -Hn)"
log "building (release)"
cargo build --release --quiet -p nano-bench --bin nano-bench --bin raw-echo
cargo build --release --quiet --example pingpong
bench=target/release/nano-bench

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -x "$PINUS_STOP" ] && "$PINUS_STOP" >/dev/null 2>&1 || true
  [ -f "$GONANO_STOP" ] && bash "$GONANO_STOP" >/dev/null 2>&1 || true
}
trap cleanup EXIT

wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}

log "starting servers"
target/release/raw-echo --tcp 127.0.0.1:3290 --ws 127.0.0.1:3291 >"$results/raw-echo.log" 2>&1 &
raw_pid=$!; pids+=("$raw_pid")
RUST_LOG=warn target/release/examples/pingpong --tcp 127.0.0.1:3260 --ws 127.0.0.1:3261 >"$results/pingpong.log" 2>&1 &
nano_pid=$!; pids+=("$nano_pid")
pinus=no
if [ -x "$PINUS_START" ] && "$PINUS_START" >"$results/pinus.log" 2>&1; then
  pinus=yes
  pinus_pid=$(pgrep -f "app.js env=development" | head -1 || true)
  connector_pid=$(pgrep -f "serverType=connector" | head -1 || true)
else
  echo "pinus did not start (see $results/pinus.log); its rows are skipped" >&2
fi
gonano=no
if [ -f "$GONANO_START" ] && GONANO_PORT=$GONANO_PORT bash "$GONANO_START" >"$results/gonano.log" 2>&1; then
  gonano=yes
  gonano_pid=$(pgrep -f "nano-echo $GONANO_PORT" | head -1 || true)
else
  echo "Go nano did not start (see $results/gonano.log); its rows are skipped" >&2
fi
# Pinned runs get their own instances: one worker thread each, on core 0 (the client runs on
# core 1), so that no two threads of a server fight over one core.
TOKIO_WORKER_THREADS=1 taskset -c 0 target/release/raw-echo --tcp 127.0.0.1:3292 --ws 127.0.0.1:3293 >"$results/raw-echo-pinned.log" 2>&1 &
pids+=("$!")
TOKIO_WORKER_THREADS=1 RUST_LOG=warn taskset -c 0 target/release/examples/pingpong --tcp 127.0.0.1:3266 --ws 127.0.0.1:3267 \
  >"$results/pingpong-pinned.log" 2>&1 &
pids+=("$!")
wait_port 3290; wait_port 3291; wait_port 3260; wait_port 3261; wait_port 3292; wait_port 3293; wait_port 3266; wait_port 3267

pin() { # pin <cpus> <pid>...: move running processes (all threads) to <cpus>
  local cpus=$1; shift
  for pid in "$@"; do [ -n "$pid" ] && taskset -a -cp "$cpus" "$pid" >/dev/null 2>&1 || true; done
}

run() { # run <section> <server> <pinning> <client cpus> <args...>
  local section=$1 server=$2 pinning=$3 cpus=$4; shift 4
  local prefix=()
  [ "$cpus" != all ] && prefix=(taskset -c "$cpus")
  log "$section: $server ($pinning) $*"
  "${prefix[@]}" "$bench" "$@" --payload-bytes "$PAYLOAD" --json \
    --tag "section=$section" --tag "server=$server" --tag "pinning=$pinning" | tee -a "$runs"
}

pinus_hello='{"sys":{"type":"nano-bench","version":"0.1.0","protoVersion":0,"rsa":{}},"user":{}}'
pinus_pids=("${pinus_pid:-}" "${connector_pid:-}" "${gonano_pid:-}")

# rounds <section> <pinning> <client cpus> <raw address> <nano-rs address> <args...>: the raw
# server and nano-rs side by side, ROUNDS times, the order swapped every round: one run of a
# cell on a shared machine swings by tens of percent, the ratio within a round much less.
rounds() {
  local section=$1 pinning=$2 cpus=$3 raw_address=$4 nano_address=$5; shift 5
  local round server address order
  for round in $(seq 1 "$ROUNDS"); do
    order=(raw nano-rs)
    [ $((round % 2)) = 0 ] && order=(nano-rs raw)
    for server in "${order[@]}"; do
      address=$raw_address
      [ "$server" = nano-rs ] && address=$nano_address
      # shellcheck disable=SC2086 # the address is an option and its value
      run "$section" "$server" "$pinning" "$cpus" "$section" $address "$@" --tag "round=$round"
    done
  done
}

for pinning in unpinned pinned; do
  if [ $pinning = pinned ]; then
    pin 0 "${pinus_pids[@]}"; client_cpus=1; threads=1; raw=3292; raw_ws=3293; tcp=3266; ws=3267
  else
    pin 0-"$(($(nproc) - 1))" "${pinus_pids[@]}"; client_cpus=all; threads=$(nproc); raw=3290; raw_ws=3291; tcp=3260; ws=3261
  fi
  common=(--conns "$CONNS" --duration "$DURATION" --threads "$threads")
  for section in request notify; do
    rounds $section $pinning $client_cpus "--tcp 127.0.0.1:$raw" "--tcp 127.0.0.1:$tcp" "${common[@]}"
    rounds $section $pinning $client_cpus "--ws ws://127.0.0.1:$raw_ws/" "--ws ws://127.0.0.1:$ws/" "${common[@]}"
  done
  if [ $gonano = yes ]; then
    run request go-nano $pinning $client_cpus request --tcp 127.0.0.1:$GONANO_PORT --route pingpong.Ping "${common[@]}"
    run notify go-nano $pinning $client_cpus notify --tcp 127.0.0.1:$GONANO_PORT --route pingpong.Notify --push-route pong "${common[@]}"
  fi
  if [ $pinus = yes ]; then
    run request pinus $pinning $client_cpus request --tcp 127.0.0.1:3010 --route connector.entryHandler.entry \
      --handshake-json "$pinus_hello" "${common[@]}"
    run request pinus $pinning $client_cpus request --ws ws://127.0.0.1:3010/ --route connector.entryHandler.entry \
      --handshake-json "$pinus_hello" "${common[@]}"
    run notify pinus $pinning $client_cpus notify --tcp 127.0.0.1:3010 --route connector.entryHandler.notifyMe \
      --push-route onPong --handshake-json "$pinus_hello" "${common[@]}"
  fi
done
pin 0-"$(($(nproc) - 1))" "${pinus_pids[@]}"
common=(--conns "$CONNS" --duration "$DURATION")

# Latency at half of nano-rs's maximum request rate, pinned (server on core 0, client on
# core 1), three times each: tail latency on a shared machine is noisy.
max=$(grep '"section":"request"' "$runs" | grep '"server":"nano-rs"' | grep '"transport":"tcp"' \
  | grep '"pinning":"pinned"' | sed -E 's/.*"ops_per_s":([0-9.]+).*/\1/' | head -1)
half=$(awk -v m="$max" 'BEGIN { printf "%d", m / 2 }')
for attempt in 1 2 3; do
  run latency nano-rs pinned 1 request --tcp 127.0.0.1:3266 "${common[@]}" --threads 1 --rate "$half" --tag "attempt=$attempt"
  run latency raw pinned 1 request --tcp 127.0.0.1:3292 "${common[@]}" --threads 1 --rate "$half" --tag "attempt=$attempt"
done

# Connection storms: STORM clients connect and handshake at once, each server three times.
storm() { # storm <server> <port> <attempt>
  log "storm: $1, $STORM clients"
  "$bench" storm --tcp "127.0.0.1:$2" --conns "$STORM" --duration 1 --json --tag section=storm \
    --tag "server=$1" --tag pinning=unpinned --tag "attempt=$3" | tee -a "$runs"
}
for attempt in 1 2 3; do
  storm raw 3290 "$attempt"
  storm nano-rs 3260 "$attempt"
  if [ $gonano = yes ]; then storm go-nano "$GONANO_PORT" "$attempt"; fi
done

run broadcast nano-rs unpinned all broadcast --tcp 127.0.0.1:3260 --conns "$CONNS" --duration "$DURATION" --window 16
run broadcast nano-rs unpinned all broadcast --ws ws://127.0.0.1:3261/ --conns "$CONNS" --duration "$DURATION" --window 16

# Idle sessions: a fresh server, two client processes (each below the per-process file limit).
kill "$nano_pid" 2>/dev/null || true
RUST_LOG=warn target/release/examples/pingpong --tcp 127.0.0.1:3262 --ws 127.0.0.1:3263 >"$results/pingpong-idle.log" 2>&1 &
idle_pid=$!; pids+=("$idle_pid")
wait_port 3262
half_sessions=$((SESSIONS / 2))
hold=$((DURATION * 3 + 30))
log "connections: $SESSIONS idle sessions in two processes"
"$bench" connections --tcp 127.0.0.1:3262 --conns "$half_sessions" --duration "$hold" --pid "$idle_pid" --json \
  --tag section=connections --tag server=nano-rs --tag "note=first half" >"$results/idle-first.json" &
first=$!
for _ in $(seq 1 600); do
  open=$(ls /proc/"$idle_pid"/fd 2>/dev/null | wc -l)
  [ "$open" -ge "$half_sessions" ] && break
  sleep 0.1
done
"$bench" connections --tcp 127.0.0.1:3262 --conns "$((SESSIONS - half_sessions))" --duration "$DURATION" --pid "$idle_pid" \
  --json --tag section=connections --tag server=nano-rs --tag "note=second half" | tee -a "$runs"
wait "$first" || true
cat "$results/idle-first.json" >>"$runs"

machine="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
printf '{"machine":"%s","date":"%s","commit":"%s","command":"CONNS=%s DURATION=%s SESSIONS=%s ROUNDS=%s bench/run.sh","payload_bytes":%s,"results":"%s","notes":["Go nano is lonng/nano master dbf22c7 built from source with Debian'"'"'s Go by ../shared/peers/gonano/start.sh (routes pingpong.Ping and pingpong.Notify; every handler on its one logic goroutine).","pinus is 1.7.4 from npm, started by ../shared/peers/pinus/start.sh (one connector process)."]}\n' \
  "$machine" "$(date -u +%Y-%m-%d)" "$commit" "$CONNS" "$DURATION" "$SESSIONS" "$ROUNDS" "$PAYLOAD" "$results" >>"$runs"

"$bench" report "$runs" BENCHMARKS.md
if command -v nats-server >/dev/null; then
  log "cluster: gate -> backend vs standalone"
  CONNS=$CONNS DURATION=$DURATION bench/cluster.sh "$runs"
fi
log "wrote BENCHMARKS.md ($runs)"
