#!/usr/bin/env bash
# What the Prometheus metrics cost: request throughput of the pingpong example with metrics on
# (the default) and off (--no-metrics), alternating ROUNDS times at 100 and 1,000 connections,
# in one run; prints each round and the on/off ratio of the medians (BENCHMARKS.md, "Metrics").
#
#   bench/metrics-ab.sh                 # ROUNDS=3 DURATION=5
set -euo pipefail
A_NAME="metrics on" A_FLAGS="" B_NAME="metrics off" B_FLAGS="--no-metrics" \
  exec "$(dirname "$0")/pingpong-ab.sh"
