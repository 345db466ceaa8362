#!/usr/bin/env bash
# Builds the fuzz targets as `cargo fuzz build -s none --dev` (cargo-fuzz 0.13.2) does, without
# installing cargo-fuzz: the same rustc flags (libFuzzer's coverage instrumentation, stable
# flags only, no sanitizer), the dev profile of fuzz/Cargo.toml (debug assertions and overflow
# checks on), binaries in $CARGO_TARGET_DIR/<host>/debug. What .ci/run builds; a build made
# with cargo-fuzz itself into the same target directory is reused as is (docs/FUZZING.md).
set -euo pipefail
cd "$(dirname "$0")"
host="$(rustc -vV | sed -n 's/^host: //p')"
flags=(
  -Cpasses=sancov-module
  -Cllvm-args=-sanitizer-coverage-level=4
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
  -Cllvm-args=-sanitizer-coverage-pc-table
  -Cllvm-args=-sanitizer-coverage-trace-compares
  --cfg fuzzing
  -Cllvm-args=-simplifycfg-branch-fold-threshold=0
  -Cllvm-args=-sanitizer-coverage-stack-depth
  -Cdebug-assertions
)
RUSTFLAGS="${flags[*]}" exec cargo build --manifest-path Cargo.toml --target "$host" --bins "$@"
