//! `etl-daily`: raw logs of some arrival days into the curated, rejects and daily tables.
#![allow(clippy::doc_markdown, reason = "doc comments here are --help text, shown without markdown")]
#![allow(clippy::print_stdout, reason = "a CLI prints its report")]
#![allow(clippy::print_stderr, reason = "a CLI reports errors to its terminal")]

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Parser;
use loglake_catalog::Codec;
use loglake_cli::{init_logging, init_threads, write_report, DateArgs, LakeArgs};
use loglake_parser::{LogFormat, ParserConfig, Preset};
use loglake_pipeline::{run_daily, DailyOptions, IpAnonymizer, Shard};

/// Ingest raw access logs: raw/access_logs/dt=D/* -> curated/access_logs (by event time),
/// curated/rejects, and the daily aggregate tables of every event date touched.
///
/// Objects already ingested with the same ETag are skipped, so it can run every hour; each
/// table changes in one commit; the report lists the touched hours for etl-hourly.
///
/// Examples:
///   etl-daily --lake s3://bucket/lake --date 2020-05-31
///   etl-daily --lake demo-lake --from 2020-05-01 --to 2020-05-31 --report run.json
///   etl-daily --lake demo-lake --date 2020-05-31 --format '%h %l %u %t "%r" %>s %b'
///   etl-daily --lake s3://bucket/lake --date 2020-05-31 --shard 0/4   (... 3/4, at once)
///   etl-daily --lake s3://bucket/lake --date 2020-05-31 --aggregates-only
#[derive(Debug, Parser)]
#[command(version, about, long_about, verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    lake: LakeArgs,
    /// Arrival dates to ingest
    #[command(flatten)]
    days: DateArgs,
    /// Log format: a preset (combined, common, vhost_combined, ...) or a LogFormat string
    #[arg(long, default_value = "combined")]
    format: String,
    /// Strict: no fallback to common, no trailing fields
    #[arg(long)]
    strict: bool,
    /// Re-ingest objects that were already ingested
    #[arg(long)]
    reprocess: bool,
    /// Rows of agg/daily_top_paths per day
    #[arg(long, default_value_t = 1000)]
    top_paths: usize,
    /// Worker threads (0: one per core)
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Decompressed MiB per segment, the unit of parallel work inside one object; peak memory
    /// is about threads x 6 x this (docs/performance.md)
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    segment_mib: u32,
    /// Ingest only shard i of N (e.g. 2/4): objects are assigned by a stable hash of their key;
    /// N shard processes may run at once (commits are optimistic). Skips the daily tables: run
    /// --aggregates-only once all shards are done
    #[arg(long, value_name = "i/N")]
    shard: Option<Shard>,
    /// Ingest nothing; recompute the daily tables of every event date the already ingested
    /// objects of these arrival dates touched (the final step after --shard runs)
    #[arg(long, conflicts_with_all = ["shard", "reprocess"])]
    aggregates_only: bool,
    /// Anonymize client addresses before anything is written: `truncate` keeps the /24 (IPv4)
    /// or /48 (IPv6) network; `hash` writes a keyed HMAC-SHA256 (needs --anonymize-key-file)
    #[arg(long, value_name = "truncate|hash")]
    anonymize_ip: Option<AnonymizeMode>,
    /// File holding the secret key for --anonymize-ip hash (at least 16 bytes; never logged)
    #[arg(long, value_name = "FILE")]
    anonymize_key_file: Option<PathBuf>,
    /// Page compression of the curated and rejects files: zstd (level 1), zstd:N (1-22),
    /// snappy (Spark's and DuckDB's default: less CPU, larger files) or none
    #[arg(long, default_value = "zstd", value_name = "CODEC")]
    compression: Codec,
    /// Write the JSON run report here
    #[arg(long)]
    report: Option<PathBuf>,
}

/// `--anonymize-ip` modes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AnonymizeMode {
    Truncate,
    Hash,
}

fn anonymizer(mode: Option<AnonymizeMode>, key_file: Option<&PathBuf>) -> Result<Option<IpAnonymizer>> {
    match (mode, key_file) {
        (None, None) => Ok(None),
        (None, Some(_)) => bail!("--anonymize-key-file needs --anonymize-ip hash"),
        (Some(AnonymizeMode::Truncate), _) => Ok(Some(IpAnonymizer::Truncate)),
        (Some(AnonymizeMode::Hash), None) => bail!("--anonymize-ip hash needs --anonymize-key-file FILE"),
        (Some(AnonymizeMode::Hash), Some(path)) => {
            let mut key =
                std::fs::read(path).with_context(|| format!("reading the key file {}", path.display()))?;
            while key.last().is_some_and(u8::is_ascii_whitespace) {
                key.pop();
            }
            if key.len() < 16 {
                bail!("the key in {} is too short: use at least 16 bytes", path.display());
            }
            Ok(Some(IpAnonymizer::Keyed(key)))
        }
    }
}

fn run(args: Args) -> Result<ExitCode> {
    init_threads(args.threads)?;
    let dates = args.days.dates();
    if dates.is_empty() {
        bail!("nothing to do: give --date or --from/--to");
    }
    let format =
        LogFormat::named_or_parse(&args.format).with_context(|| format!("bad --format `{}`", args.format))?;
    let mut parser = ParserConfig::new(format.clone());
    if !args.strict {
        if format != LogFormat::preset(Preset::Common) {
            parser = parser.fallback(LogFormat::preset(Preset::Common));
        }
        parser = parser.allow_trailing_fields(true);
    }
    let lake = args.lake.open()?;
    let mut options = DailyOptions::new(dates, parser);
    options.reprocess = args.reprocess;
    options.top_paths = args.top_paths;
    options.segment_bytes = usize::try_from(args.segment_mib).unwrap_or(32) << 20;
    options.shard = args.shard;
    options.aggregates_only = args.aggregates_only;
    options.compression = args.compression;
    options.anonymize_ip = anonymizer(args.anonymize_ip, args.anonymize_key_file.as_ref())?;
    let terminal = std::io::stderr().is_terminal();
    if terminal {
        options.progress = Some(std::sync::Arc::new(|done, total, lines| {
            eprint!("\r  {done}/{total} objects, {lines} lines");
        }));
    }
    let report = run_daily(&lake.store, &options)?;
    if terminal {
        eprintln!();
    }
    if let Some(path) = &args.report {
        write_report(path, &report.to_json())?;
    }
    println!("{}", report.summary());
    // an object that could not be read to its end is named and makes the run fail (exit 1)
    // after everything readable was committed
    Ok(if report.failed_objects().is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn main() -> ExitCode {
    init_logging();
    loglake_cli::finish("etl-daily", run(Args::parse()))
}
