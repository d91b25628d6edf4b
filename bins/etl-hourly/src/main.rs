//! `etl-hourly`: recompute the hourly aggregate table for some hours.
#![allow(clippy::doc_markdown, reason = "doc comments here are --help text, shown without markdown")]
#![allow(clippy::print_stdout, reason = "a CLI prints its report")]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Parser;
use loglake_catalog::Date;
use loglake_cli::{init_logging, init_threads, parse_hour, write_report, DateArgs, LakeArgs};

/// Recompute agg/hourly_traffic from curated/access_logs.
///
/// Each hour asked for is recomputed from scratch and replaced in one commit; running it twice
/// changes nothing; an hour without requests gets a row of zeros. With --with-daily the daily
/// tables of those dates are recomputed too.
///
/// Examples:
///   etl-hourly --lake s3://bucket/lake --hour 2020-05-31T05
///   etl-hourly --lake demo-lake --date 2020-05-31 --with-daily
///   etl-hourly --lake demo-lake --from 2020-05-01 --to 2020-05-31     (a backfill)
#[derive(Debug, Parser)]
#[command(version, about, long_about, verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    lake: LakeArgs,
    /// An hour to recompute, YYYY-MM-DDTHH (UTC); repeatable
    #[arg(long, value_parser = parse_hour)]
    hour: Vec<(Date, u8)>,
    /// Dates whose 24 hours to recompute
    #[command(flatten)]
    days: DateArgs,
    /// Also recompute the daily tables of those dates
    #[arg(long)]
    with_daily: bool,
    /// Rows of agg/daily_top_paths per day
    #[arg(long, default_value_t = 1000)]
    top_paths: usize,
    /// Worker threads (0: one per core)
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Write the JSON run report here
    #[arg(long)]
    report: Option<PathBuf>,
}

fn run(args: Args) -> Result<()> {
    init_threads(args.threads)?;
    let mut hours = args.hour.clone();
    hours.extend(args.days.dates().iter().flat_map(|d| (0..24).map(move |h| (*d, h))));
    hours.sort_unstable();
    hours.dedup();
    if hours.is_empty() {
        bail!("nothing to do: give --hour, --date, or --from/--to");
    }
    let lake = args.lake.open()?;
    let report = loglake_pipeline::run_hourly(&lake.store, &hours, args.with_daily, args.top_paths)?;
    if let Some(path) = &args.report {
        write_report(path, &report.to_json())?;
    }
    println!("{}", report.summary());
    Ok(())
}

fn main() -> ExitCode {
    init_logging();
    loglake_cli::finish("etl-hourly", run(Args::parse()).map(|()| ExitCode::SUCCESS))
}
