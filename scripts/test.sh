#!/usr/bin/env bash
# Runs every test of nano-rs from a fresh clone: installs what the tests need, then checks
# formatting, lints, tests (unit, integration, interop, doc tests) and docs.
#
#   ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# One build from scratch: incremental caches only cost disk here (set CARGO_INCREMENTAL=1 to
# keep them between local runs).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

log() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  log "installing Debian packages: $*"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
}

# Rust components for the format and lint checks.
if command -v rustup >/dev/null 2>&1; then
  for component in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
  done
fi

# Node.js runs the third-party JavaScript codecs and clients of the interop tests.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi

# Headless Chromium runs the chat, tic-tac-toe and admin pages in the browser tests; NATS
# carries the cluster tests; Python runs the Python client of docs/CLIENTS.md.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

log "npm ci (tests/interop: pinned third-party pomelo/pinus packages)"
(cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)

# Every crate of the lock file, for every platform: the README test resolves the optional
# crates offline (`cargo metadata`), which needs the manifests of platform-specific ones too.
log "cargo fetch"
cargo fetch --locked

log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

log "cargo test"
cargo test --workspace --locked

log "JavaScript client unit tests (node --test; npm ci: its pinned MessagePack codec)"
(cd clients/js && npm ci --no-audit --no-fund --loglevel=error && node --test test/)

# The binaries `cargo test --workspace` built: `cargo run --example` would build the examples
# package again with its own feature set (a second copy of most of the tree on disk).
log "examples, each in smoke mode (start, one real client exchange, exit 0)"
for example in chat pingpong timers embed protobuf tictactoe; do
  "target/debug/examples/$example" --smoke
done

log "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked

log "disk used by target/: $(du -sh target | cut -f1)"
log "all tests passed"
