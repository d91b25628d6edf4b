#!/usr/bin/env bash
# The whole test suite, on a fresh machine that has the Rust toolchain and python3.
#
# Installs the pinned Python test packages into .venv (moto's S3 server), starts one S3 server
# on a free port of 127.0.0.1 for all test binaries, runs every test of the workspace and the
# doctests, then compile-checks the fuzz targets. The server is stopped on exit. Installs
# Debian's chromium (apt) when missing, for the test that renders `lake report` pages.
set -euo pipefail
cd "$(dirname "$0")/.."

corpus="../shared/corpus/expected.tsv"
if [ ! -f "$corpus" ]; then
  echo "error: the shared test corpus is missing ($corpus); it lives beside the checkout as shared/" >&2
  exit 1
fi

bash scripts/test-env.sh

# headless Chromium renders `lake report` pages in bins/lake/tests/report.rs (Debian's package)
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "== installing chromium (apt) for the report rendering test"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo -n"
  mkdir -p target
  { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium; } >target/apt.log 2>&1 \
    || echo "warning: could not install chromium (see target/apt.log); the report test will skip its render"
fi
if command -v chromium >/dev/null 2>&1; then
  export LOGLAKE_REQUIRE_CHROMIUM=1
fi

# never let the AWS SDK probe an EC2 metadata endpoint from a test machine
export AWS_EC2_METADATA_DISABLED=true

mkdir -p target
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/moto_server -H 127.0.0.1 -p "$port" > target/moto-server.log 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do
  if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
export LOGLAKE_S3_ENDPOINT="http://127.0.0.1:$port"
echo "== S3 server (moto) on $LOGLAKE_S3_ENDPOINT"

echo "== cargo test --workspace"
cargo test --workspace --locked

echo "== fuzz targets compile (cargo-fuzz runs them with nightly; see justfile: fuzz)"
cargo check --manifest-path fuzz/Cargo.toml --locked
