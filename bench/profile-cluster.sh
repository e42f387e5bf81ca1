#!/usr/bin/env bash
# Profiles the cluster path (client -> gate -> NATS -> backend) under the request scenario, the
# way its costs were found: every process on this machine, as bench/cluster.sh runs them.
#
#   bench/profile-cluster.sh              # 100 connections
#   CONNS=1000 bench/profile-cluster.sh
#
# Writes, under bench/results/profile-cluster-<time>/:
#   - cpu.txt: CPU time per request of each process (gate, backend, NATS) next to a standalone
#     server's, from /proc (two rounds each);
#   - syscalls.txt: system calls per request of each process (perf stat tracepoints);
#   - callgrind-<gate|backend>.txt: user-space instructions per function (inclusive) under
#     valgrind's callgrind, and the instructions per request (the figure that repeats from run
#     to run; time does not on a shared machine).
# Needs nats-server, perf (Debian's linux-perf) and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=${CONNS:-100}
out=bench/results/profile-cluster-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
cargo build --release --quiet -p nano-bench --bin nano-bench
cargo build --release --quiet -p nano-examples --example cluster --example pingpong
bench=target/release/nano-bench
examples=target/release/examples
dir=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT

# shellcheck source=bench/cluster-lib.sh
source bench/cluster-lib.sh

start_cluster "$examples/cluster"
RUST_LOG=warn "$examples/pingpong" --tcp 127.0.0.1:3458 --ws 127.0.0.1:3459 >/dev/null 2>&1 &
pingpong=$!
pids+=("$pingpong")
sleep 1
{
  echo "CPU time per request, $CONNS connections (100% of a core = 1 s per s)"
  for round in 1 2; do
    echo "round $round standalone: $(cpu_per_request 3458 pingpong.ping "server=$pingpong")"
    echo "round $round cluster:    $(cpu_per_request 3456 echo.ping "gate=$gate" "backend=$backend" "nats=$nats")"
  done
} | tee "$out/cpu.txt"
kill "$pingpong"

events=$(printf 'syscalls:sys_enter_%s,' read write writev sendto recvfrom futex epoll_wait epoll_pwait)
"$bench" request --tcp 127.0.0.1:3456 --route echo.ping --conns "$CONNS" --duration 6 --json >"$dir/load.json" &
waiting=($!)
sleep 1
for name in gate backend nats; do
  perf stat -e "${events%,}" -p "${!name}" -o "$dir/syscalls-$name.txt" -- sleep 4 &
  waiting+=($!)
done
wait "${waiting[@]}"
requests=$(awk -v r="$(rate_of "$(cat "$dir/load.json")")" 'BEGIN { print r * 4 }')
for name in gate backend nats; do
  echo "$name (system calls per request)"
  awk -v n="$requests" '/syscalls:/ { gsub(",", "", $1); sub("syscalls:sys_enter_", "", $2);
    if ($1 > 0) printf "  %-12s %.2f\n", $2, $1 / n }' "$dir/syscalls-$name.txt"
done | tee "$out/syscalls.txt"
stop_cluster

SETTLE=5 start_cluster "$examples/cluster" valgrind --tool=callgrind --collect-atstart=no '--toggle-collect=*Context::run_task*'
row=$("$bench" request --tcp 127.0.0.1:3456 --route echo.ping --conns "$CONNS" --duration 8 --warmup 0s --json)
stop_cluster
for name in gate backend; do
  file=$(ls "$out/$name.out"* | head -1)
  total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
  {
    echo "$name: $total instructions for $(ops_of "$row") requests: $((total / $(ops_of "$row"))) per request"
    callgrind_annotate --inclusive=yes "$file" 2>/dev/null >"$dir/annotated.txt"
    head -150 "$dir/annotated.txt"
  } >"$out/callgrind-$name.txt"
  head -1 "$out/callgrind-$name.txt"
  rm -f "$out/$name.out"*
done
echo "wrote $out" >&2
