#!/usr/bin/env bash
# A profile-guided (PGO) build of etl-daily, for deployment and benchmarks:
#   bash scripts/build-pgo.sh            -> target/pgo/use/dist/etl-daily
# 1. the `dist` profile built with -Cprofile-generate (target/pgo/gen),
# 2. that binary ingests a generated training day (loggen, seed 7, 1 M lines from 4 servers in
#    4 zones, 0.5% malformed; not the data the benchmarks run on), with zstd and with snappy,
# 3. llvm-profdata merges the profiles, and the `dist` build is redone with -Cprofile-use.
# Two clean `dist` builds: about 23 minutes on 2 cores (`time bash scripts/build-pgo.sh`). The output files are the same as the
# plain `dist` build's (the same code; only the machine code's layout and inlining change).
# llvm-profdata must read the profiles of rustc's own LLVM (`rustc -vV`: LLVM 22 for rustc
# 1.95): LLVM_PROFDATA names it, otherwise llvm-profdata-MAJOR for that major version
# (Debian's `apt-get install llvm-22`), then llvm-profdata on PATH if its major is the same.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/target/pgo
major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
profdata=${LLVM_PROFDATA:-$(command -v "llvm-profdata-$major" || true)}
if [ -z "$profdata" ] && command -v llvm-profdata >/dev/null &&
  llvm-profdata merge --version 2>/dev/null | grep -q "LLVM version $major\."; then
  profdata=$(command -v llvm-profdata)
fi
# an older llvm-profdata rejects the newer raw profiles only after the 8-minute instrumented build
[ -n "$profdata" ] || { echo "build-pgo.sh: no llvm-profdata for rustc's LLVM $major (apt-get install llvm-$major, or set LLVM_PROFDATA)" >&2; exit 2; }
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
