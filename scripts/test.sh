#!/usr/bin/env bash
# The whole test suite, on a fresh machine that has the Rust toolchain and python3.
#
# It installs and starts whatever the tests need (today: nothing beyond cargo; the S3 and
# engine read-back suites add a Python venv and a local S3 server here), then runs every test
# of the workspace, the doctests, and a compile check of the fuzz targets.
set -euo pipefail
cd "$(dirname "$0")/.."

corpus="../shared/corpus/expected.tsv"
if [ ! -f "$corpus" ]; then
  echo "error: the shared test corpus is missing ($corpus); it lives beside the checkout as shared/" >&2
  exit 1
fi

echo "== cargo test --workspace"
cargo test --workspace --locked

echo "== fuzz targets compile (cargo-fuzz runs them with nightly; see justfile: fuzz)"
cargo check --manifest-path fuzz/Cargo.toml --locked
