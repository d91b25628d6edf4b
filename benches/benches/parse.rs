//! Parser throughput: presets, a custom `LogFormat`, and the classic regex baseline, in one group.
//!
//! `cargo bench -p loglake-benches --bench parse`

#![allow(missing_docs, reason = "criterion_group! generates an undocumented function")]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fakelog::LineFormat;
use loglake_benches::generated;
use loglake_parser::{lines, LogFormat, Parser, Preset};
use regex::bytes::Regex;

/// The classic combined-log regex (the one every anchor in shared/bench uses).
const COMBINED_RE: &str = r#"^(\S+) (\S+) (\S+) \[(\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "(\S+) ([^\s?]*)(?:\?(\S*))? (\S+)" (\d{3}) (\d+|-) "([^"\\]*(?:\\.[^"\\]*)*)" "([^"\\]*(?:\\.[^"\\]*)*)"$"#;

/// Equivalent to combined, written with other directives: strftime time, `%m %U%q %H`, `%B`.
const CUSTOM: &str =
    r#"%a %l %u [%{%d/%b/%Y:%H:%M:%S %z}t] "%m %U%q %H" %>s %B "%{Referer}i" "%{User-Agent}i""#;

const LINES: u64 = 20_000;

fn parse_all(parser: &Parser, data: &[u8]) -> u64 {
    let mut acc = 0u64;
    for line in lines(data) {
        if let Ok(r) = parser.parse_line(line.bytes()) {
            acc = acc.wrapping_add(r.status().map_or(0, u64::from));
        }
    }
    acc
}

fn bench_parse(c: &mut Criterion) {
    let combined = generated(LineFormat::Elf, LINES);
    let common = generated(LineFormat::Clf, LINES);
    let mut group = c.benchmark_group("parse_line");
    group.sample_size(30).measurement_time(std::time::Duration::from_secs(4));

    let inputs: [(&str, &[u8], Parser); 3] = [
        ("combined", &combined, Parser::preset(Preset::Combined)),
        ("common", &common, Parser::preset(Preset::Common)),
        ("custom", &combined, Parser::new(LogFormat::parse(CUSTOM).expect("custom format"))),
    ];
    for (name, data, parser) in &inputs {
        // every line must parse, or the numbers would flatter us
        assert_eq!(
            lines(data).filter(|l| parser.parse_line(l.bytes()).is_ok()).count() as u64,
            LINES,
            "{name}"
        );
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_with_input(BenchmarkId::new("loglake", name), data, |b, d| {
            b.iter(|| parse_all(parser, black_box(d)));
        });
    }

    let re = Regex::new(COMBINED_RE).expect("regex");
    assert_eq!(lines(&combined).filter(|l| re.is_match(l.bytes())).count() as u64, LINES);
    group.throughput(Throughput::Bytes(combined.len() as u64));
    group.bench_with_input(BenchmarkId::new("regex", "combined"), &combined[..], |b, d| {
        b.iter(|| {
            let mut acc = 0u64;
            let mut locs = re.capture_locations();
            for line in lines(black_box(d)) {
                if re.captures_read(&mut locs, line.bytes()).is_some() {
                    acc = acc.wrapping_add(locs.get(9).map_or(0, |(s, _)| s as u64));
                }
            }
            acc
        });
    });
    group.finish();

    // the same combined input, reported in lines per second
    let mut lines_group = c.benchmark_group("parse_line_lines");
    lines_group.sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    lines_group.throughput(Throughput::Elements(LINES));
    let parser = Parser::preset(Preset::Combined);
    lines_group.bench_function("loglake/combined", |b| b.iter(|| parse_all(&parser, black_box(&combined))));
    lines_group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
