#!/usr/bin/env bash
# What session resume costs sessions that never drop: request throughput of the pingpong
# example with resume on (--resume) and off (the default), alternating ROUNDS times at 100 and
# 1,000 connections, in one run; prints each round and the on/off ratio of the medians
# (BENCHMARKS.md, "Session resume").
#
#   bench/resume-ab.sh                  # ROUNDS=3 DURATION=5
set -euo pipefail
A_NAME="resume on" A_FLAGS="--resume" B_NAME="resume off" B_FLAGS="" \
  exec "$(dirname "$0")/pingpong-ab.sh"
