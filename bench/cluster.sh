#!/usr/bin/env bash
# Requests through a cluster (client -> gate -> NATS -> backend) next to the same requests on a
# standalone server, in one run. Appends its rows to a runs.jsonl (default: the newest one in
# bench/results/) and regenerates BENCHMARKS.md.
#
#   bench/cluster.sh [bench/results/<run>/runs.jsonl]
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-1000}
DURATION=${DURATION:-10}
runs=${1:-$(ls -d bench/results/*/runs.jsonl | grep -v soak | sort | tail -1)}
command -v nats-server >/dev/null || { echo "nats-server is missing (apt-get install nats-server)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet -p nano-bench --bin nano-bench
cargo build --release --quiet --example cluster --example pingpong
dir=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT

nats-server -a 127.0.0.1 -p -1 --ports_file_dir "$dir" >"$dir/nats.log" 2>&1 &
nats_pid=$!
pids+=("$nats_pid")
for _ in $(seq 1 100); do ls "$dir"/*.ports >/dev/null 2>&1 && break; sleep 0.1; done
url=$(sed -E 's/.*"(nats:[^"]+)".*/\1/' "$dir"/*.ports)
RUST_LOG=warn target/release/examples/cluster --role room --node backend-1 --nats "$url" >"$dir/backend.log" 2>&1 &
backend_pid=$!
pids+=("$backend_pid")
RUST_LOG=warn target/release/examples/cluster --role gate --node gate --nats "$url" --tcp 127.0.0.1:3356 --ws 127.0.0.1:3357 \
  >"$dir/gate.log" 2>&1 &
gate_pid=$!
pids+=("$gate_pid")
RUST_LOG=warn target/release/examples/pingpong --tcp 127.0.0.1:3358 --ws 127.0.0.1:3359 >"$dir/pingpong.log" 2>&1 &
pingpong_pid=$!
pids+=("$pingpong_pid")
for port in 3356 3358; do
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done
sleep 2 # the gate learns the backend's routes

# CPU time (user + system, in clock ticks) a process has used so far.
ticks() { local stat; read -r -a stat <"/proc/$1/stat"; echo $((stat[13] + stat[14])); }
hz=$(getconf CLK_TCK)

# Runs nano-bench with the remaining arguments while measuring the CPU of the named server
# processes (`name=pid` pairs before `--`); adds it to the JSON row as `server_cpu`.
measured() {
  local procs=() before=() start end row summary="" i
  while [ "$1" != "--" ]; do procs+=("$1"); shift; done
  shift
  for i in "${!procs[@]}"; do before[i]=$(ticks "${procs[i]#*=}"); done
  start=$(date +%s.%N)
  row=$("$@")
  end=$(date +%s.%N)
  for i in "${!procs[@]}"; do
    local used=$(( $(ticks "${procs[i]#*=}") - before[i] ))
    summary+="${summary:+, }${procs[i]%%=*} $(awk -v t="$used" -v hz="$hz" -v s="$start" -v e="$end" \
      'BEGIN { printf "%.0f%%", 100 * t / hz / (e - s) }')"
  done
  echo "${row%\}},\"server_cpu\":\"$summary\"}" | tee -a "$runs"
}

bench=target/release/nano-bench
common=(--conns "$CONNS" --duration "$DURATION" --json --tag section=cluster --tag pinning=unpinned)
measured "server=$pingpong_pid" -- \
  $bench request --tcp 127.0.0.1:3358 --route pingpong.ping "${common[@]}" --tag server=nano-rs-standalone
measured "gate=$gate_pid" "backend=$backend_pid" "NATS=$nats_pid" -- \
  $bench request --tcp 127.0.0.1:3356 --route echo.ping "${common[@]}" --tag "server=nano-rs-cluster (gate -> NATS -> backend)"
measured "server=$pingpong_pid" -- \
  $bench request --ws ws://127.0.0.1:3359/ --route pingpong.ping "${common[@]}" --tag server=nano-rs-standalone
measured "gate=$gate_pid" "backend=$backend_pid" "NATS=$nats_pid" -- \
  $bench request --ws ws://127.0.0.1:3357/nano --route echo.ping "${common[@]}" --tag "server=nano-rs-cluster (gate -> NATS -> backend)"
$bench report "$runs" BENCHMARKS.md
echo "appended to $runs; wrote BENCHMARKS.md" >&2
