//! Storage throughput, each against a baseline in the same group:
//! - `gunzip`: our `DecodedReader` (flate2 + zlib-rs) vs `zcat` on the same file;
//! - `read`: a 64 MiB object from the local backend vs S3 over loopback (moto's server).
//!
//! `cargo bench -p loglake-benches --bench storage` (the S3 rows need `bash scripts/test-env.sh`)

#![allow(missing_docs, reason = "criterion_group! generates an undocumented function")]
#![allow(clippy::print_stderr, reason = "a bench tells why it skipped a row")]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fakelog::LineFormat;
use loglake_benches::generated;
use loglake_storage::{DecodedReader, ObjectKey, Store};

fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn bench_gunzip(c: &mut Criterion) {
    let text = generated(LineFormat::Elf, 200_000);
    let gz = gzip(&text, 6);
    let dir = loglake_testkit::TempDir::new();
    let path = dir.0.join("access.log.gz");
    std::fs::write(&path, &gz).expect("write");

    let mut group = c.benchmark_group("gunzip");
    group.sample_size(20).measurement_time(std::time::Duration::from_secs(6));
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("loglake_decoded_reader", |b| {
        b.iter(|| {
            let file = std::fs::File::open(&path).expect("open");
            let mut r = DecodedReader::new(file, "bench").expect("decoder");
            std::io::copy(&mut r, &mut std::io::sink()).expect("decode")
        });
    });
    if Command::new("zcat").arg("--version").stdout(Stdio::null()).status().is_ok() {
        group.bench_function("zcat", |b| {
            b.iter(|| {
                let status = Command::new("zcat").arg(&path).stdout(Stdio::null()).status().expect("zcat");
                assert!(status.success());
            });
        });
    }
    group.finish();
}

fn read_all(store: &Store, key: &ObjectKey) -> u64 {
    let mut r = store.open_raw(key).expect("open");
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        match r.read(&mut buf).expect("read") {
            0 => return n,
            k => n += k as u64,
        }
    }
}

fn moto_available() -> bool {
    std::env::var_os("LOGLAKE_S3_ENDPOINT").is_some()
        || Path::new(&loglake_testkit::workspace_root()).join(".venv/bin/moto_server").exists()
}

fn bench_read(c: &mut Criterion) {
    let size = 64 * 1024 * 1024;
    let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let key = ObjectKey::new("bench/object.bin").expect("key");
    let (local, _dir) = loglake_testkit::local_store();
    local.put_bytes(&key, &data).expect("local put");

    let mut group = c.benchmark_group("read_64MiB");
    group.sample_size(10).measurement_time(std::time::Duration::from_secs(8));
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_function("local", |b| b.iter(|| read_all(&local, &key)));
    if moto_available() {
        let s3 = loglake_testkit::s3_store();
        s3.put_bytes(&key, &data).expect("s3 put");
        group.bench_function("s3_loopback_moto", |b| b.iter(|| read_all(&s3, &key)));
    } else {
        eprintln!("read_64MiB/s3_loopback_moto skipped: run `bash scripts/test-env.sh` first");
    }
    group.finish();
}

criterion_group!(benches, bench_gunzip, bench_read);
criterion_main!(benches);
