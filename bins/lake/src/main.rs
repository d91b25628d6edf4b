//! `lake`: the loglake admin CLI.
#![allow(clippy::doc_markdown, reason = "doc comments here are --help text, shown without markdown")]
#![allow(clippy::print_stdout, reason = "a CLI prints its results")]
#![allow(clippy::print_stderr, reason = "a CLI reports errors to its terminal")]

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser as ClapParser, Subcommand};
use loglake_catalog::{ddl, table_by_name, Date, Engine, Table, TableDef, TABLES};
use loglake_cli::{init_logging, LakeArgs};
use loglake_parser::{lines, LogFormat, ParseStats, Parser, ParserConfig};
use loglake_pipeline::{upload_raw, UploadAction};
use loglake_report::DayReport;
use loglake_storage::DecodedReader;

/// loglake admin CLI.
#[derive(Debug, ClapParser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Upload local raw log files into raw/access_logs/dt=YYYY-MM-DD/ of a lake.
    ///
    /// The date comes from each file name (loggen's ..._YYYYmmdd-HHMMSS.log.gz, or
    /// YYYY-MM-DD) unless --date is given. Objects already there with identical content are
    /// skipped, so reruns are cheap. Directories upload the files directly inside them.
    ///   lake upload --lake s3://my-bucket/lake raw/*.log.gz
    Upload {
        #[command(flatten)]
        lake: LakeArgs,
        /// Files or directories to upload
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Arrival date for every file (YYYY-MM-DD), instead of the date in the names
        #[arg(long)]
        date: Option<Date>,
    },
    /// Show what an analyst sees for a day: hourly traffic, status mix, top paths, top browsers
    /// (read back from the aggregate tables).
    Show {
        #[command(flatten)]
        lake: LakeArgs,
        /// The UTC date
        #[arg(long)]
        date: Date,
        /// Rows of the top lists
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// Write one day as a static HTML page with charts (hourly requests and errors, status mix,
    /// top paths, browsers, referrers), read from the aggregate tables; no scripts or external
    /// resources, so it opens anywhere and can be mailed. Exit 1 when the day has no rows.
    Report {
        #[command(flatten)]
        lake: LakeArgs,
        /// The UTC date
        #[arg(long)]
        date: Date,
        /// Rows of the top lists
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// Output file (default: report-DATE.html)
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the lake's tables: version, files, rows, partitions.
    Tables {
        #[command(flatten)]
        lake: LakeArgs,
    },
    /// List a table's partitions with their files, rows and bytes.
    Partitions {
        #[command(flatten)]
        lake: LakeArgs,
        /// Table: access_logs, rejects (or its path, curated/access_logs)
        table: String,
    },
    /// Show a table's commits: version, time, operation, batch.
    History {
        #[command(flatten)]
        lake: LakeArgs,
        /// Table: access_logs, rejects
        table: String,
    },
    /// Print DDL that registers every table in a query engine.
    ///
    /// Spark SQL (Delta, and plain Parquet + MSCK REPAIR), Athena (Delta, and Parquet with
    /// partition projection), DuckDB (views over read_parquet), Trino (Delta register_table).
    Ddl {
        /// spark, athena, duckdb or trino
        #[arg(long)]
        engine: Engine,
        /// The lake location the DDL points at
        #[arg(long, env = "LOGLAKE_LAKE")]
        lake: String,
    },
    /// Delete data files that no table version references (left by crashed runs).
    Vacuum {
        #[command(flatten)]
        lake: LakeArgs,
        /// Only files older than this many minutes (younger ones may belong to a running job)
        #[arg(long, default_value_t = 60)]
        min_age_minutes: u64,
        /// List what would be deleted, delete nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Parse log files (plain or gzip) and print what the parser accepts and rejects.
    ///
    /// Use it to check a LogFormat against a sample before running the ETL:
    ///   lake parse --format '%h %l %u %t "%r" %>s %b' access.log.gz
    Parse {
        /// Files to read ("-" for standard input); gzip is detected by content
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Preset (common, combined, vhost_common, vhost_combined, combinedio) or a LogFormat string
        #[arg(short, long, default_value = "combined")]
        format: String,
        /// Formats tried, in order, when the main one does not match
        #[arg(long)]
        fallback: Vec<String>,
        /// Accept text after the last field (nginx-style extra fields)
        #[arg(long)]
        allow_trailing: bool,
        /// Print each rejected line with its reason
        #[arg(long)]
        show_rejects: bool,
    },
}

/// A whole local file (or standard input), decoded by content (gzip or plain).
fn read_all(path: &PathBuf) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    let raw: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?)
    };
    let mut out = Vec::new();
    DecodedReader::new(raw, &name)?.read_to_end(&mut out)?;
    Ok(out)
}

fn compile(format: &str) -> Result<LogFormat> {
    LogFormat::named_or_parse(format).with_context(|| format!("bad format `{format}`"))
}

fn parse(files: &[PathBuf], parser: &Parser, show_rejects: bool) -> Result<ParseStats> {
    let mut total = ParseStats::default();
    for path in files {
        let data = read_all(path)?;
        let mut stats = ParseStats::default();
        for line in lines(&data) {
            let result = parser.parse_line(line.bytes());
            if let (Err(e), true) = (&result, show_rejects) {
                println!(
                    "{}:{}: {} at byte {}: {}",
                    path.display(),
                    line.number(),
                    e.code(),
                    e.column(),
                    String::from_utf8_lossy(line.bytes()).escape_debug()
                );
            }
            stats.add(line.number(), &result);
        }
        if files.len() > 1 {
            println!("== {}\n{stats}\n", path.display());
        }
        total.merge(&stats);
    }
    Ok(total)
}

fn table_arg(name: &str) -> Result<&'static TableDef> {
    table_by_name(name).with_context(|| {
        let names: Vec<_> = TABLES.iter().map(|t| t.name).collect();
        format!("no table `{name}` (tables: {})", names.join(", "))
    })
}

fn millis_to_text(ms: i64) -> String {
    loglake_parser::Timestamp::from_unix_micros(ms.saturating_mul(1000), 0).to_string()
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Show { lake, date, top } => {
            let lake = lake.open()?;
            print!("{}", DayReport::load(&lake.store, date, top)?.to_text());
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { lake, date, top, out } => {
            let lake = lake.open()?;
            let out = out.unwrap_or_else(|| PathBuf::from(format!("report-{date}.html")));
            let report = DayReport::load(&lake.store, date, top)?;
            std::fs::write(&out, report.to_html()).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {} ({} hours, {} paths)", out.display(), report.hours.len(), report.paths.len());
            Ok(if report.totals.is_some() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Tables { lake } => {
            let lake = lake.open()?;
            let store = &lake.store;
            println!("{:<22} {:>8} {:>7} {:>12} {:>11}", "table", "version", "files", "rows", "partitions");
            for def in TABLES {
                let snap = Table::new(store, def).snapshot()?;
                if snap.version < 0 {
                    println!("{:<22} {:>8}", def.path, "-");
                    continue;
                }
                let parts = Table::partitions(&snap).len();
                println!(
                    "{:<22} {:>8} {:>7} {:>12} {:>11}",
                    def.path,
                    snap.version,
                    snap.files.len(),
                    snap.num_records(),
                    parts
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Partitions { lake, table } => {
            let def = table_arg(&table)?;
            let lake = lake.open()?;
            let store = &lake.store;
            let snap = Table::new(store, def).snapshot()?;
            println!("{:<28} {:>6} {:>12} {:>14}", "partition", "files", "rows", "bytes");
            for (part, s) in Table::partitions(&snap) {
                println!("{part:<28} {:>6} {:>12} {:>14}", s.files, s.rows, s.bytes);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::History { lake, table } => {
            let def = table_arg(&table)?;
            let lake = lake.open()?;
            let store = &lake.store;
            for (version, info) in Table::new(store, def).history()? {
                let when = info["timestamp"].as_i64().map(millis_to_text).unwrap_or_default();
                let op = info["operation"].as_str().unwrap_or("?");
                let batch = info["loglake"]["batch"].as_str().unwrap_or("");
                println!("{version:>6}  {when}  {op:<13} {batch}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ddl { engine, lake } => {
            print!("{}", ddl(engine, &lake, TABLES));
            Ok(ExitCode::SUCCESS)
        }
        Command::Vacuum { lake, min_age_minutes, dry_run } => {
            let lake = lake.open()?;
            let store = &lake.store;
            let mut total = 0;
            for def in TABLES {
                let orphans =
                    Table::new(store, def).orphans(std::time::Duration::from_secs(min_age_minutes * 60))?;
                for key in &orphans {
                    println!("{}{}", if dry_run { "would delete " } else { "delete " }, store.describe(key));
                }
                if !dry_run {
                    store.delete_many(&orphans)?;
                }
                total += orphans.len();
            }
            println!(
                "{total} orphan file(s){}",
                if dry_run { " (dry run: nothing deleted)" } else { " deleted" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Upload { lake, files, date } => {
            let lake = lake.open()?;
            let store = &lake.store;
            let show_progress = std::io::stderr().is_terminal();
            let results = upload_raw(store, &files, date, |i, n, r| {
                let what = match r.action {
                    UploadAction::Uploaded(bytes) => format!("uploaded {bytes} bytes"),
                    UploadAction::SkippedIdentical => "skipped (identical object exists)".to_owned(),
                    _ => "done".to_owned(),
                };
                if show_progress {
                    eprint!("\r[{}/{n}] ", i + 1);
                }
                println!("{} -> {}: {what}", r.file.display(), r.object);
            })?;
            if show_progress {
                eprintln!();
            }
            let uploaded = results.iter().filter(|r| matches!(r.action, UploadAction::Uploaded(_))).count();
            println!("{uploaded} uploaded, {} skipped, to {}", results.len() - uploaded, store.location());
            Ok(ExitCode::SUCCESS)
        }
        Command::Parse { files, format, fallback, allow_trailing, show_rejects } => {
            let mut config = ParserConfig::new(compile(&format)?).allow_trailing_fields(allow_trailing);
            for f in &fallback {
                config = config.fallback(compile(f)?);
            }
            let total = parse(&files, &config.build(), show_rejects)?;
            if files.len() > 1 {
                println!("== total");
            }
            println!("{total}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    init_logging();
    loglake_cli::finish("lake", run(Cli::parse()))
}
