#!/usr/bin/env bash
# Profiles a server under the request scenario, next to the raw framed echo, the way the hot
# path's changes were found: one server thread pinned to core 0, the load generator on core 1.
#
#   bench/profile.sh                 # pingpong and raw-echo, 100 connections
#   CONNS=1000 bench/profile.sh
#   BIN=path/to/pingpong bench/profile.sh   # another build of the example
#   TRANSPORT=ws bench/profile.sh           # over WebSocket (raw-echo's tokio-tungstenite echo)
#
# For each server it writes, under bench/results/profile-<time>/:
#   - perf-<server>.txt: `perf record` (4 s, call graphs) flat by symbol, kernel and user;
#   - callgrind-<server>.txt: user-space instructions per function under valgrind's callgrind,
#     and the instructions per request (the figure that repeats from run to run; time does not
#     on a shared machine).
# Needs perf (Debian's linux-perf) and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=${CONNS:-100}
TRANSPORT=${TRANSPORT:-tcp}
BIN=${BIN:-target/release/examples/pingpong}
out=bench/results/profile-$TRANSPORT-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
cargo build --release --quiet -p nano-bench --bin nano-bench --bin raw-echo
[ "$BIN" = target/release/examples/pingpong ] && cargo build --release --quiet --example pingpong
bench=target/release/nano-bench

start_server() { # start_server <port> <wrapper...> -- <bin>: prints the pid
  local port=$1; shift
  TOKIO_WORKER_THREADS=1 RUST_LOG=warn "$@" --tcp 127.0.0.1:"$port" --ws 127.0.0.1:$((port + 1)) \
    >/dev/null 2>&1 &
  echo $!
}

load() { # load <port> <duration> <warmup>: the request scenario on core 1
  local address=(--tcp 127.0.0.1:"$1")
  if [ "$TRANSPORT" = ws ]; then address=(--ws ws://127.0.0.1:$(($1 + 1))/); fi
  taskset -c 1 "$bench" request "${address[@]}" --conns "$CONNS" --duration "$2" \
    --warmup "$3" --threads 1 --json
}

profile_perf() { # profile_perf <name> <bin>
  local pid
  pid=$(start_server 3460 taskset -c 0 "$2")
  sleep 1
  load 3460 7 1s >"$out/perf-$1.json" &
  sleep 2
  perf record -F 1999 -g -p "$pid" -o "$out/perf-$1.data" -- sleep 4 >/dev/null 2>&1
  wait %1 || true
  kill "$pid"
  perf report -i "$out/perf-$1.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
    | grep -E '^ +[0-9]' | sed -n '1,80p' >"$out/perf-$1.txt"
  rm -f "$out/perf-$1.data"
}

profile_callgrind() { # profile_callgrind <name> <bin>
  local pid ops ir
  pid=$(start_server 3470 valgrind --tool=callgrind --callgrind-out-file="$out/callgrind-$1.out" \
    --collect-atstart=no '--toggle-collect=*Context::run_task*' "$2")
  sleep 4
  load 3470 8 0s >"$out/callgrind-$1.json"
  sleep 1
  kill -TERM "$pid"
  # Not this shell's child (started in a command substitution): wait until valgrind has
  # written its profile and gone.
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  ops=$(sed -E 's/.*"ops":([0-9]+).*/\1/' "$out/callgrind-$1.json")
  ir=$(grep -E '^summary:' "$out/callgrind-$1.out" | awk '{print $2}')
  {
    echo "requests: $ops, instructions: $ir, per request: $((ir / ops))"
    callgrind_annotate --inclusive=no "$out/callgrind-$1.out" 2>/dev/null | sed -n '20,80p' \
      | sed -E 's#/root/.cargo/registry/src/[^/]+/##; s#/rustc/[0-9a-f]+/library/##'
  } >"$out/callgrind-$1.txt"
  rm -f "$out/callgrind-$1.out"
  echo "$1: $((ir / ops)) user-space instructions per request"
}

for server in raw-echo:target/release/raw-echo nano-rs:"$BIN"; do
  name=${server%%:*} bin=${server#*:}
  profile_perf "$name" "$bin"
  profile_callgrind "$name" "$bin"
done
echo "profiles in $out"
