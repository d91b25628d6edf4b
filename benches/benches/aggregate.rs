//! Aggregation throughput (rows/s), 1 and 2 threads: from in-memory rows (the mergeable states
//! alone) and from the Parquet files of a one-day curated table (`compute_hours`, what
//! `etl-hourly` runs). DuckDB on the same files: `scripts/bench-aggregate.sh`.
#![allow(missing_docs, reason = "criterion_group! generates an undocumented function")]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fakelog::LineFormat;
use loglake_aggregate::{compute_hours, PeriodState, RowFacts};
use loglake_catalog::Date;
use loglake_parser::{lines, Parser, Preset};
use rayon::prelude::*;

const ROWS: u64 = 200_000;

/// One row's aggregate inputs, owned.
struct Row {
    ip: Option<String>,
    ua: Option<String>,
    status: Option<i64>,
    bytes: Option<i64>,
    method: Option<String>,
    path: Option<String>,
    browser: String,
    os: String,
    device: String,
    bot: bool,
    referrer_host: Option<String>,
}

impl Row {
    fn facts(&self) -> RowFacts<'_> {
        let mut f = RowFacts::default();
        f.client_ip = self.ip.as_deref().map(str::as_bytes);
        f.user_agent = self.ua.as_deref();
        f.status = self.status;
        f.bytes = self.bytes;
        f.method = self.method.as_deref();
        f.is_bot = Some(self.bot);
        f.path = self.path.as_deref().map(str::as_bytes);
        f.ua_browser = Some(&self.browser);
        f.ua_os = Some(&self.os);
        f.ua_device = Some(&self.device);
        f.referrer_host = self.referrer_host.as_deref();
        f
    }
}

fn rows() -> Vec<Row> {
    let text = loglake_benches::generated(LineFormat::Elf, ROWS);
    let parser = Parser::preset(Preset::Combined);
    let mut agents = loglake_pipeline::AgentCache::default();
    lines(&text)
        .filter_map(|l| {
            let r = parser.parse_line(l.bytes()).ok()?;
            let ua = r.user_agent().map(|u| u.into_owned());
            let a = agents.classify(ua.as_deref().unwrap_or("-")).clone();
            Some(Row {
                ip: r.client_ip().map(|i| i.to_string()),
                status: r.status().map(i64::from),
                bytes: r.response_bytes().and_then(|b| i64::try_from(b).ok()),
                method: r.method().map(str::to_owned),
                path: r.path().map(|p| p.into_owned()),
                referrer_host: r.referer().and_then(|x| loglake_pipeline::referrer_host(&x)),
                ua,
                browser: a.browser,
                os: a.os,
                device: a.device,
                bot: a.is_bot,
            })
        })
        .collect()
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool")
}

fn in_memory(c: &mut Criterion) {
    let rows = rows();
    let mut g = c.benchmark_group("aggregate/in_memory");
    g.throughput(Throughput::Elements(rows.len() as u64));
    g.sample_size(10);
    for threads in [1, 2] {
        let pool = pool(threads);
        g.bench_with_input(BenchmarkId::new("daily_state", threads), &rows, |b, rows| {
            b.iter(|| {
                pool.install(|| {
                    rows.par_chunks(8192)
                        .fold(PeriodState::default, |mut s, chunk| {
                            for r in chunk {
                                s.add(&r.facts());
                            }
                            s
                        })
                        .reduce(PeriodState::default, |mut a, b| {
                            a.merge(&b);
                            a
                        })
                        .traffic
                        .requests
                })
            });
        });
    }
    g.finish();
}

fn from_parquet(c: &mut Criterion) {
    let lake = loglake_testkit::TempDir::new();
    let _files = loglake_benches::build_curated(&lake.0, ROWS);
    let store = loglake_storage::Store::local(&lake.0);
    let day: Date = "2020-05-31".parse().expect("date");
    let hours: Vec<(Date, u8)> = (0..24).map(|h| (day, h)).collect();
    let mut g = c.benchmark_group("aggregate/parquet");
    g.throughput(Throughput::Elements(ROWS));
    g.sample_size(10);
    for threads in [1, 2] {
        let pool = pool(threads);
        for (name, detail) in [("hourly", false), ("daily_detail", true)] {
            g.bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter(|| pool.install(|| compute_hours(&store, &hours, detail).expect("scan").len()));
            });
        }
    }
    g.finish();
}

criterion_group!(benches, in_memory, from_parquet);
criterion_main!(benches);
