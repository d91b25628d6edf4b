//! `lake`: the loglake admin CLI.
#![allow(clippy::doc_markdown, reason = "doc comments here are --help text, shown without markdown")]
#![allow(clippy::print_stdout, reason = "a CLI prints its results")]
#![allow(clippy::print_stderr, reason = "a CLI reports errors to its terminal")]

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser as ClapParser, Subcommand};
use loglake_parser::{lines, LogFormat, ParseStats, Parser, ParserConfig};

/// loglake admin CLI.
#[derive(Debug, ClapParser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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

fn read_all(path: &PathBuf) -> Result<Vec<u8>> {
    let raw = if path.as_os_str() == "-" {
        let mut v = Vec::new();
        std::io::stdin().read_to_end(&mut v).context("cannot read standard input")?;
        v
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .with_context(|| format!("{}: corrupt gzip", path.display()))?;
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
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lake: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
