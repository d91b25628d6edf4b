# loglake everyday recipes. `just` lists them. Each one is a plain command you can also run by hand.

_default:
    @just --list

# build everything (debug)
build:
    cargo build --workspace

# the whole test suite (what README and CI run)
test:
    bash scripts/test.sh

# fmt check + clippy with warnings as errors
lint:
    cargo fmt --all -- --check
    cargo lint

# format the code
fmt:
    cargo fmt --all

# criterion benches (parser vs a regex baseline, storage, aggregation); results in target/criterion
bench:
    cargo benchmark --bench parse
    cargo benchmark --bench storage
    cargo benchmark --bench aggregate

# generate one day of logs into demo-lake/ and print the parse summary
demo:
    bash scripts/demo.sh

# API docs, warnings as errors
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# a bounded fuzz run of each target (needs `cargo install cargo-fuzz` and a nightly toolchain);
# a crash leaves its input in fuzz/artifacts/TARGET/: commit it as a test case
fuzz seconds="60":
    cd fuzz && cargo +nightly fuzz run roundtrip -- -max_total_time={{seconds}}
    cd fuzz && cargo +nightly fuzz run parse_line -- -max_total_time={{seconds}}
    cd fuzz && cargo +nightly fuzz run log_format -- -max_total_time={{seconds}}
    cd fuzz && cargo +nightly fuzz run delta_log -- -max_total_time={{seconds}}

# the Airflow DAGs run by `airflow dags test` with the real binaries (installs Airflow)
airflow-test:
    bash deploy/airflow/test-dag.sh

# the etl-daily race against DuckDB, PySpark and the decompression floors (../shared/bench/anchors)
bench-anchors:
    cargo build --profile dist -p etl-daily
    cd ../shared/bench/anchors && ROUNDS=3 ONLY=zcat,libdeflate-par2,duckdb,project PROJECT_CMD='bash {{justfile_directory()}}/scripts/anchor-project.sh "$1" "$2"' ./run.sh /tmp/anchor-data

# everything CI runs
ready:
    bash .ci/run
