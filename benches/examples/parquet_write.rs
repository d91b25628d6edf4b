//! Writes generated access-log rows as one `curated/access_logs` Parquet file and reports the
//! time: `parquet_write OUT.parquet ROWS`. Used by `scripts/bench-parquet.sh`, which compares
//! the file with pyarrow writing the same rows.
#![allow(clippy::print_stdout, reason = "a bench tool prints its measurements")]

use std::time::Instant;

use fakelog::LineFormat;
use loglake_benches::generated;
use loglake_catalog::{write_parquet, BatchBuilder, Value, WriteOptions, ACCESS_LOGS};
use loglake_parser::{lines, Parser, Preset};

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "/tmp/loglake-bench.parquet".into());
    let rows: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let text = generated(LineFormat::Elf, rows);
    let parser = Parser::preset(Preset::Combined);
    let col = |name: &str| ACCESS_LOGS.column_index(name).expect("column");
    let t0 = Instant::now();
    let mut b = BatchBuilder::new(&ACCESS_LOGS);
    let (ts, off, client, ip, method, path, query, proto, status, class, bytes, referrer, ua, src, line_no) = (
        col("ts"),
        col("tz_offset_minutes"),
        col("client"),
        col("client_ip"),
        col("method"),
        col("path"),
        col("query"),
        col("protocol"),
        col("status"),
        col("status_class"),
        col("bytes"),
        col("referrer"),
        col("user_agent"),
        col("source_object"),
        col("source_line"),
    );
    let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"];
    for l in lines(&text) {
        let Ok(r) = parser.parse_line(l.bytes()) else { continue };
        let ip_text = r.client_ip().map(|i| i.to_string());
        let (p, q, rf, agent) = (r.path(), r.query(), r.referer(), r.user_agent());
        let mut row = vec![Value::Null; ACCESS_LOGS.columns.len()];
        let t = r.time().expect("time");
        row[ts] = Value::Int(t.unix_micros());
        row[off] = Value::Int(i64::from(t.offset_minutes()));
        row[client] =
            r.remote_host_bytes().and_then(|b| std::str::from_utf8(b).ok()).map_or(Value::Null, Value::Str);
        row[ip] = ip_text.as_deref().map_or(Value::Null, Value::Str);
        row[method] = r.method().map_or(Value::Null, Value::Str);
        row[path] = p.as_deref().map_or(Value::Null, Value::Str);
        row[query] = q.as_deref().map_or(Value::Null, Value::Str);
        row[proto] = r.protocol().map_or(Value::Null, Value::Str);
        row[status] = r.status().map_or(Value::Null, |s| Value::Int(i64::from(s)));
        row[class] = r
            .status()
            .and_then(|s| classes.get(usize::from(s / 100).saturating_sub(1)))
            .map_or(Value::Null, |c| Value::Str(c));
        row[bytes] = r.response_bytes().map_or(Value::Null, |b| Value::Int(b as i64));
        row[referrer] = rf.as_deref().map_or(Value::Null, Value::Str);
        row[ua] = agent.as_deref().map_or(Value::Null, Value::Str);
        row[src] = Value::Str("raw/access_logs/dt=2020-05-31/bench.log.gz");
        row[line_no] = Value::Int(l.number() as i64);
        b.push(&row).expect("row");
    }
    let built = t0.elapsed();
    let n = b.len();
    let batch = b.finish().expect("batch");
    let t1 = Instant::now();
    let size = write_parquet(&batch, std::path::Path::new(&out), &WriteOptions::default()).expect("write");
    let wrote = t1.elapsed();
    println!(
        "loglake rows={n} input_mb={:.1} build_s={:.3} write_s={:.3} rows_per_s={:.0} input_mb_per_s={:.1} file_bytes={size}",
        text.len() as f64 / 1e6,
        built.as_secs_f64(),
        wrote.as_secs_f64(),
        n as f64 / wrote.as_secs_f64(),
        text.len() as f64 / 1e6 / wrote.as_secs_f64(),
    );
}
