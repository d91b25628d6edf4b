#!/usr/bin/env bash
# A profile-guided (PGO) build of etl-daily, for deployment and benchmarks:
#   bash scripts/build-pgo.sh            -> target/pgo/use/dist/etl-daily
# 1. the `dist` profile built with -Cprofile-generate (target/pgo/gen),
# 2. that binary ingests a generated training day (loggen, seed 7, 1 M lines from 4 servers in
#    4 zones, 0.5% malformed; not the data the benchmarks run on), with zstd and with snappy,
# 3. llvm-profdata merges the profiles, and the `dist` build is redone with -Cprofile-use.
# Two clean `dist` builds: about 23 minutes on 2 cores (`time bash scripts/build-pgo.sh`). The output files are the same as the
# plain `dist` build's (the same code; only the machine code's layout and inlining change).
# llvm-profdata must read the profiles of rustc's LLVM: LLVM_PROFDATA names it, otherwise
# llvm-profdata-19 (Debian's `apt-get install llvm-19`) or llvm-profdata on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/target/pgo
profdata=${LLVM_PROFDATA:-$(command -v llvm-profdata-19 || command -v llvm-profdata || true)}
[ -n "$profdata" ] || { echo "build-pgo.sh: no llvm-profdata (apt-get install llvm-19, or set LLVM_PROFDATA)" >&2; exit 2; }
rm -rf "$root/profiles" "$root/train" "$root/merged.profdata"
mkdir -p "$root/profiles"
echo "== 1/3 instrumented build (target/pgo/gen)"
CARGO_TARGET_DIR=$root/gen RUSTFLAGS="-Cprofile-generate=$root/profiles" \
  cargo build --locked --profile dist -p etl-daily
cargo build --locked --release -q -p loggen
day=2020-06-01
raw=$root/train/raw/access_logs/dt=$day
mkdir -p "$raw"
./target/release/loggen -n 250000 -o GZ --files 4 --tz +0200,-0700,+0000,+0530 --seed 7 \
  --start "$day" --span-hours 24 --bad-ratio 0.005 --out-dir "$raw" >/dev/null
echo "== 2/3 training run"
for codec in zstd snappy; do
  "$root/gen/dist/etl-daily" --lake "$root/train" --date "$day" --threads 2 --compression "$codec" --reprocess
done
"$profdata" merge -o "$root/merged.profdata" "$root/profiles"
echo "== 3/3 build with the profile (target/pgo/use)"
CARGO_TARGET_DIR=$root/use RUSTFLAGS="-Cprofile-use=$root/merged.profdata" \
  cargo build --locked --profile dist -p etl-daily
echo "build-pgo.sh: $root/use/dist/etl-daily"
