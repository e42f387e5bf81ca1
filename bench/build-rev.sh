# Shared by bench/compare.sh and bench/cluster-compare.sh (sourced, not run).

# build_rev <commit> <example>: builds the example from <commit> in a temporary git worktree,
# with its own target directory (target/compare/) so that the working tree's build is left
# alone; prints the binary's path. The worktree is removed once built.
build_rev() {
  local commit=$1 example=$2 tree built=0
  tree=$(mktemp -d /tmp/nano-compare.XXXXXX)
  echo "== building $commit ($example, release)" >&2
  git worktree add --quiet --detach "$tree" "$commit" >&2
  CARGO_TARGET_DIR="$(pwd)/target/compare" cargo build --release --quiet \
    --manifest-path "$tree/Cargo.toml" -p nano-examples --example "$example" >&2 || built=$?
  git worktree remove --force "$tree" 2>/dev/null || rm -rf "$tree"
  [ "$built" = 0 ] || return "$built"
  echo "target/compare/release/examples/$example"
}
