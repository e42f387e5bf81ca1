#!/usr/bin/env bash
# The session-resume chaos test (tests/tests/resume_chaos.rs) at a larger size, in release:
# clients in 10 groups under numbered broadcasts and requests while links are cut at random,
# on tokio's paused clock (virtual seconds). Prints the test's summary line and the wall time
# (RELIABILITY.md, "Session resume under chaos").
#
#   bench/resume-chaos.sh                       # CHAOS_CLIENTS=5000 CHAOS_SECONDS=600
#   CHAOS_SEED=7 bench/resume-chaos.sh          # another draw of the cuts
set -euo pipefail
cd "$(dirname "$0")/.."
export CHAOS_CLIENTS=${CHAOS_CLIENTS:-5000}
export CHAOS_SECONDS=${CHAOS_SECONDS:-600}
export CHAOS_SEED=${CHAOS_SEED:-20261202}
ulimit -n "$(ulimit -Hn)"
cargo test --release --quiet -p nano-tests --test resume_chaos --no-run
start=$(date +%s)
cargo test --release --quiet -p nano-tests --test resume_chaos -- --nocapture 2>&1 |
  grep -E "clients,|test result|panicked|client [0-9]+"
echo "wall time: $(($(date +%s) - start)) s (seed $CHAOS_SEED)"
