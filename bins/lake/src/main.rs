//! `lake`: the loglake admin CLI.
#![allow(clippy::doc_markdown, reason = "doc comments here are --help text, shown without markdown")]
#![allow(clippy::print_stdout, reason = "a CLI prints its results")]
#![allow(clippy::print_stderr, reason = "a CLI reports errors to its terminal")]

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser as ClapParser, Subcommand};
use loglake_catalog::Date;
use loglake_parser::{lines, LogFormat, ParseStats, Parser, ParserConfig};
use loglake_pipeline::{upload_raw, UploadAction};
use loglake_storage::{DecodedReader, Location, S3Options, Store};

/// loglake admin CLI.
#[derive(Debug, ClapParser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the lake is and how to reach it.
#[derive(Debug, Args)]
struct LakeArgs {
    /// The lake: s3://bucket/prefix, file:///abs/path, or a local directory
    #[arg(long, env = "LOGLAKE_LAKE")]
    lake: String,
    /// S3-compatible endpoint (e.g. http://127.0.0.1:9000); AWS when absent
    #[arg(long, env = "LOGLAKE_S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    /// AWS region [default: from AWS_REGION, the profile, or the instance]
    #[arg(long, env = "AWS_REGION")]
    s3_region: Option<String>,
    /// Path-style S3 addressing [default: on with --s3-endpoint, off for AWS]
    #[arg(long)]
    s3_path_style: Option<bool>,
}

impl LakeArgs {
    /// Opens the store; S3 gets a runtime that lives as long as the returned guard.
    fn open(&self) -> Result<(Store, Option<tokio::runtime::Runtime>)> {
        let location = Location::parse(&self.lake)?;
        let runtime = match location {
            Location::S3 { .. } => Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
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
        Ok((store, runtime))
    }
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

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Upload { lake, files, date } => {
            let (store, _runtime) = lake.open()?;
            let show_progress = std::io::stderr().is_terminal();
            let results = upload_raw(&store, &files, date, |i, n, r| {
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lake: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
