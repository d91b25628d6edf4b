//! Plumbing shared by the loglake binaries (as ripgrep's `grep-cli`): the lake flags, opening
//! the store (with an I/O runtime only for S3), logging, and date/hour arguments.
#![allow(clippy::doc_markdown, reason = "the LakeArgs doc comments are --help text")]

use anyhow::{Context, Result};
use clap::Args;
use loglake_catalog::Date;
use loglake_storage::{Location, S3Options, Store};

/// Where the lake is and how to reach it.
#[derive(Debug, Clone, Args)]
pub struct LakeArgs {
    /// The lake: s3://bucket/prefix, file:///abs/path, or a local directory
    #[arg(long, env = "LOGLAKE_LAKE")]
    pub lake: String,
    /// S3-compatible endpoint (e.g. http://127.0.0.1:9000); AWS when absent
    #[arg(long, env = "LOGLAKE_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// AWS region [default: from AWS_REGION, the profile, or the instance]
    #[arg(long, env = "AWS_REGION")]
    pub s3_region: Option<String>,
    /// Path-style S3 addressing [default: on with --s3-endpoint, off for AWS]
    #[arg(long)]
    pub s3_path_style: Option<bool>,
}

/// Which days a job covers: `--date D` (repeatable) and/or `--from D1 --to D2`.
#[derive(Debug, Clone, Args)]
pub struct DateArgs {
    /// A date to process (repeatable)
    #[arg(long)]
    pub date: Vec<Date>,
    /// First date of a range (with --to)
    #[arg(long, requires = "to")]
    pub from: Option<Date>,
    /// Last date of a range, inclusive
    #[arg(long, requires = "from")]
    pub to: Option<Date>,
}

impl DateArgs {
    /// The dates asked for, sorted, without duplicates.
    #[must_use]
    pub fn dates(&self) -> Vec<Date> {
        let mut dates = self.date.clone();
        if let (Some(from), Some(to)) = (self.from, self.to) {
            dates.extend(date_range(from, to));
        }
        dates.sort_unstable();
        dates.dedup();
        dates
    }
}

/// Writes a JSON run report (pretty) to `path`.
///
/// # Errors
/// The file cannot be written (naming it).
pub fn write_report(path: &std::path::Path, report: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(report).context("report")?;
    std::fs::write(path, text).with_context(|| format!("cannot write the report to {}", path.display()))
}

/// An open store and the runtime that serves it (S3 only); keep both alive together.
#[derive(Debug)]
pub struct OpenLake {
    /// The store.
    pub store: Store,
    _runtime: Option<tokio::runtime::Runtime>,
}

impl LakeArgs {
    /// Opens and checks the store (bucket exists / directory can be created).
    ///
    /// # Errors
    /// An invalid location, a runtime that cannot start, or a failed check (naming the lake).
    pub fn open(&self) -> Result<OpenLake> {
        let location = Location::parse(&self.lake)?;
        let runtime = match location {
            Location::S3 { .. } => Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("loglake-io")
                    .enable_all()
                    .build()
                    .context("cannot start the I/O runtime")?,
            ),
            _ => None,
        };
        let mut opts = S3Options::default();
        opts.endpoint.clone_from(&self.s3_endpoint);
        opts.region.clone_from(&self.s3_region);
        opts.path_style = self.s3_path_style;
        let store = Store::open(&location, &opts, runtime.as_ref().map(|r| r.handle().clone()))?;
        store.check()?;
        Ok(OpenLake { store, _runtime: runtime })
    }
}

/// Ends a binary: the run's exit code, or the error chain on one line (`NAME: error: ...`) and
/// exit status 2 — the same contract for every loglake binary.
#[must_use]
#[allow(clippy::print_stderr, reason = "the one place a binary reports a fatal error")]
pub fn finish(name: &str, result: Result<std::process::ExitCode>) -> std::process::ExitCode {
    result.unwrap_or_else(|e| {
        eprintln!("{name}: error: {e:#}");
        std::process::ExitCode::from(2)
    })
}

/// `tracing` to standard error, filtered by `RUST_LOG` (default `warn`).
///
/// `RUST_LOG` is a list of `target=level` directives or a bare level (`info`,
/// `warn,loglake_pipeline=debug`): `tracing_subscriber`'s `Targets`, not its `EnvFilter`.
/// `EnvFilter` pulls in `regex-automata`'s full-DFA builder, and Cargo's feature unification
/// then made every uap-core user-agent regex build a full DFA at start: a quarter of the
/// regex compile that each `etl-daily` run pays (callgrind: 1.10 G → 0.82 G instructions).
/// A value that does not parse falls back to `warn` with a note on standard error.
#[allow(clippy::print_stderr, reason = "logging is not set up yet when RUST_LOG is bad")]
pub fn init_logging() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let warn = || Targets::new().with_default(LevelFilter::WARN);
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => v.parse().unwrap_or_else(|e| {
            eprintln!("RUST_LOG={v:?} ignored ({e}): logging warnings and errors");
            warn()
        }),
        _ => warn(),
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // colours only on a terminal: journald, cron mail and CI logs get plain text
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(LevelFilter::TRACE)
        .finish()
        .with(filter)
        .init();
}

/// Sizes the global rayon pool the libraries compute on (0: one thread per core).
///
/// # Errors
/// The pool was already built.
pub fn init_threads(threads: usize) -> Result<()> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("loglake-cpu-{i}"))
        .build_global()
        .context("cannot size the worker pool")
}

/// Parses `YYYY-MM-DDTHH` into a date and hour.
///
/// # Errors
/// A message saying what is expected.
pub fn parse_hour(s: &str) -> Result<(Date, u8), String> {
    let bad = || format!("`{s}`: expected YYYY-MM-DDTHH (UTC), e.g. 2020-05-31T05");
    let (d, h) = s.split_once('T').ok_or_else(bad)?;
    let date: Date = d.parse().map_err(|_| bad())?;
    let hour: u8 = h.parse().ok().filter(|h| *h < 24 && s.len() == 13).ok_or_else(bad)?;
    Ok((date, hour))
}

/// Every date from `from` to `to`, inclusive.
#[must_use]
pub fn date_range(from: Date, to: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let (mut y, mut m, mut d) = from.ymd();
    while let Some(date) = Date::new(y, m, d) {
        if date > to {
            break;
        }
        out.push(date);
        // next day: try d+1, then the 1st of the next month, then of the next year
        if Date::new(y, m, d + 1).is_some() {
            d += 1;
        } else if m < 12 {
            (m, d) = (m + 1, 1);
        } else {
            (y, m, d) = (y + 1, 1, 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_and_ranges() {
        assert_eq!(parse_hour("2020-05-31T05").unwrap().1, 5);
        for bad in ["2020-05-31T24", "2020-05-31", "2020-05-31T5", "2020-02-30T01"] {
            assert!(parse_hour(bad).is_err(), "{bad}");
        }
        let r = date_range("2020-02-28".parse().unwrap(), "2020-03-01".parse().unwrap());
        assert_eq!(
            r.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["2020-02-28", "2020-02-29", "2020-03-01"]
        );
        let r = date_range("2020-12-31".parse().unwrap(), "2021-01-01".parse().unwrap());
        assert_eq!(r.len(), 2);
        assert!(date_range("2020-01-02".parse().unwrap(), "2020-01-01".parse().unwrap()).is_empty());
    }
}
