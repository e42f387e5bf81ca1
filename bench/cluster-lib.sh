# Shared by bench/profile-cluster.sh and bench/cluster-compare.sh (sourced, not run): starting
# and stopping a cluster on this machine (NATS, one backend, one gate) and measuring the CPU
# each process spends per request. Expects `dir` (a scratch directory), `bench` (nano-bench),
# `CONNS`, and a `pids` array that the caller's cleanup kills.

# start_cluster <cluster binary> [wrapper...]: NATS, a backend and a gate on 127.0.0.1:3456
# (each server under the wrapper, if any, given `--callgrind-out-file=$out/<side>.out`); sets
# nats, backend and gate to their pids.
start_cluster() {
  local binary=$1 url
  shift
  rm -f "$dir"/*.ports
  nats-server -a 127.0.0.1 -p -1 --ports_file_dir "$dir" >/dev/null 2>&1 &
  nats=$!
  pids+=("$nats")
  for _ in $(seq 1 100); do ls "$dir"/*.ports >/dev/null 2>&1 && break; sleep 0.1; done
  url=$(sed -E 's/.*"(nats:[^"]+)".*/\1/' "$dir"/*.ports)
  RUST_LOG=warn "$@" ${1:+--callgrind-out-file="$out/backend.out"} "$binary" --role room \
    --node backend-1 --nats "$url" >/dev/null 2>&1 &
  backend=$!
  RUST_LOG=warn "$@" ${1:+--callgrind-out-file="$out/gate.out"} "$binary" --role gate \
    --node gate --nats "$url" --tcp 127.0.0.1:3456 --ws 127.0.0.1:3457 >/dev/null 2>&1 &
  gate=$!
  pids+=("$backend" "$gate")
  for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/3456) 2>/dev/null && break; sleep 0.1; done
  sleep "${SETTLE:-2}" # the gate learns the backend's routes
}

stop_cluster() {
  kill -TERM "$gate" "$backend" 2>/dev/null || true
  sleep 2
  kill "$nats" 2>/dev/null || true
  sleep 0.5
}

# CPU time (user + system, in clock ticks) a process has used so far.
ticks() { local stat; read -r -a stat <"/proc/$1/stat"; echo $((stat[13] + stat[14])); }
ops_of() { sed -E 's/.*"ops":([0-9]+).*/\1/' <<<"$1"; }
rate_of() { sed -E 's/.*"ops_per_s":([0-9.]+).*/\1/' <<<"$1"; }

# cpu_per_request <port> <route> name=pid...: ops/s and each process's CPU µs per request, and
# their total, over a 5 s request scenario (DURATION overrides).
cpu_per_request() {
  local port=$1 route=$2 i row line used total=0
  shift 2
  local procs=("$@") before=()
  for i in "${!procs[@]}"; do before[i]=$(ticks "${procs[i]#*=}"); done
  row=$("$bench" request --tcp 127.0.0.1:"$port" --route "$route" --conns "$CONNS" \
    --duration "${DURATION:-5}" --json)
  line="ops/s $(rate_of "$row")"
  for i in "${!procs[@]}"; do
    used=$(( $(ticks "${procs[i]#*=}") - before[i] ))
    total=$((total + used))
    line+=" ${procs[i]%%=*} $(per_request "$used" "$row") µs"
  done
  [ "${#procs[@]}" -gt 1 ] && line+=" total $(per_request "$total" "$row") µs"
  echo "$line"
}

# per_request <ticks> <row>: the ticks as µs per request of the row.
per_request() {
  awk -v t="$1" -v o="$(ops_of "$2")" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz * 1e6 / o }'
}
