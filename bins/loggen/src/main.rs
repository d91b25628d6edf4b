//! `loggen`: fake Apache access logs, flag-compatible with Fake-Apache-Log-Generator.
#![allow(clippy::doc_markdown, reason = "doc comments here are --help text, shown without markdown")]
#![allow(clippy::print_stderr, reason = "a CLI reports to its terminal")]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use fakelog::{write_files, write_lines, Config, Generator, LineFormat, Output, Report, Step};
use loglake_parser::Timestamp;

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "UPPER")]
enum OutputArg {
    /// a .log file
    Log,
    /// a .log.gz file
    Gz,
    /// standard output
    Console,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "UPPER")]
enum FormatArg {
    /// Common Log Format
    Clf,
    /// Extended (Apache combined) format
    Elf,
}

/// Generate fake Apache access logs.
///
/// Same flags, line shapes, distributions and file names as Fake-Apache-Log-Generator, plus a
/// seed for byte-identical output, realistic clients and agents, malformed lines on demand
/// and multi-member gzip.
///
/// Example: one day of 1M lines from 4 servers in different zones, 0.5% malformed:
///   loggen -n 250000 -o GZ --files 4 --tz +0200,-0700,+0000,+0530 --seed 42
///          --start 2020-05-31 --span-hours 24 --bad-ratio 0.005 --out-dir raw/
#[derive(Debug, Parser)]
#[command(version, about, long_about, verbatim_doc_comment)]
struct Args {
    /// Lines per file (0: forever, for CONSOLE or LOG with --sleep)
    #[arg(short = 'n', long = "num", default_value_t = 1)]
    num: u64,
    /// Where lines go
    #[arg(short = 'o', long = "output", value_enum, default_value = "CONSOLE", ignore_case = true)]
    output: OutputArg,
    /// Line format
    #[arg(short = 'l', long = "log-format", value_enum, default_value = "ELF", ignore_case = true)]
    log_format: FormatArg,
    /// File name prefix: PREFIX_access_log_YYYYmmdd-HHMMSS.log[.gz]
    #[arg(short = 'p', long = "prefix")]
    prefix: Option<String>,
    /// Seconds between lines: fixes the time step and really sleeps (as the original)
    #[arg(short = 's', long = "sleep", default_value_t = 0.0)]
    sleep: f64,
    /// Seed: equal seeds and flags give byte-identical output [default: from the clock]
    #[arg(long)]
    seed: Option<u64>,
    /// Start time, UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS [default: now]
    #[arg(long, value_parser = parse_start)]
    start: Option<Timestamp>,
    /// Scale the 30-300 s steps so each file spans this many hours
    #[arg(long)]
    span_hours: Option<f64>,
    /// Zone offsets of the lines, one per file, cycled (e.g. +0200,-0700)
    #[arg(long, value_delimiter = ',', default_value = "+0000", value_parser = parse_tz, allow_hyphen_values = true)]
    tz: Vec<i16>,
    /// Number of files (servers), written in parallel; file i uses seed+i
    #[arg(long, default_value_t = 1)]
    files: u32,
    /// Directory for LOG and GZ files
    #[arg(long, default_value = ".")]
    out_dir: PathBuf,
    /// Share of malformed lines (truncated, binary, empty, bad date/offset/status, missing field)
    #[arg(long, default_value_t = 0.0)]
    bad_ratio: f64,
    /// Gzip members per GZ file (concatenated members, as rotated logs often are)
    #[arg(long, default_value_t = 1)]
    gzip_members: u32,
    /// Gzip level 0-9
    #[arg(long, default_value_t = 6)]
    gzip_level: u32,
}

fn parse_start(s: &str) -> Result<Timestamp, String> {
    let bad = || format!("`{s}`: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)");
    let s = s.trim_end_matches('Z');
    let (date, time) = s.split_once(['T', ' ']).unwrap_or((s, "00:00:00"));
    let d: Vec<&str> = date.split('-').collect();
    let t: Vec<&str> = time.split(':').collect();
    if d.len() != 3 || !(2..=3).contains(&t.len()) {
        return Err(bad());
    }
    let num = |x: &str| x.parse::<u32>().map_err(|_| bad());
    let year = i32::try_from(num(d[0])?).map_err(|_| bad())?;
    let small = |x: &str| num(x).and_then(|v| u8::try_from(v).map_err(|_| bad()));
    let sec = if t.len() == 3 { small(t[2])? } else { 0 };
    Timestamp::from_utc(year, small(d[1])?, small(d[2])?, small(t[0])?, small(t[1])?, sec).ok_or_else(bad)
}

fn parse_tz(s: &str) -> Result<i16, String> {
    let bad = || format!("`{s}`: expected a zone offset like +0200 or -0530");
    let b = s.as_bytes();
    if b.len() != 5 || !matches!(b[0], b'+' | b'-') || !b[1..].iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let h: i16 = s[1..3].parse().map_err(|_| bad())?;
    let m: i16 = s[3..5].parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(if b[0] == b'-' { -(h * 60 + m) } else { h * 60 + m })
}

fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    // whole seconds, like the original's datetime.now() formatted to seconds
    Timestamp::from_unix_micros(micros - micros % 1_000_000, 0)
}

fn run(args: Args) -> Result<()> {
    if !(0.0..=1.0).contains(&args.bad_ratio) {
        bail!("--bad-ratio must be between 0 and 1, got {}", args.bad_ratio);
    }
    if args.sleep < 0.0 {
        bail!("--sleep must not be negative");
    }
    if args.num == 0 && !matches!(args.output, OutputArg::Console) && args.sleep == 0.0 {
        bail!("-n 0 (forever) needs -o CONSOLE or --sleep, or it would fill the disk");
    }
    let seed = args.seed.unwrap_or_else(|| now().unix_micros().unsigned_abs());
    let step = match (args.span_hours, args.sleep) {
        (Some(_), s) if s > 0.0 => bail!("--span-hours and --sleep both set the time step; pick one"),
        (Some(hours), _) => Step::Span { hours, lines: args.num },
        (None, s) if s > 0.0 => Step::Fixed(s),
        _ => Step::Random,
    };
    let format = match args.log_format {
        FormatArg::Clf => LineFormat::Clf,
        FormatArg::Elf => LineFormat::Elf,
    };
    let start = args.start.unwrap_or_else(now);
    let configs: Vec<Config> = (0..args.files.max(1))
        .map(|i| Config {
            seed: seed.wrapping_add(u64::from(i)),
            start,
            format,
            step,
            tz_offset_minutes: args.tz[i as usize % args.tz.len()],
            bad_ratio: args.bad_ratio,
        })
        .collect();
    let began = Instant::now();
    let reports: Vec<Report> = match args.output {
        OutputArg::Console => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let sleep = (args.sleep > 0.0).then(|| Duration::from_secs_f64(args.sleep));
            let mut reports = Vec::new();
            for cfg in &configs {
                let mut gen = Generator::new(cfg);
                match write_lines(&mut gen, args.num, &mut out, sleep) {
                    Ok(r) => reports.push(r),
                    // a closed pipe (`loggen | head`) is a normal way to stop
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                    Err(e) => return Err(e).context("cannot write to standard output"),
                }
            }
            out.flush().ok();
            reports
        }
        OutputArg::Log | OutputArg::Gz => {
            std::fs::create_dir_all(&args.out_dir)
                .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
            let output = match args.output {
                OutputArg::Gz => Output::Gz { members: args.gzip_members.max(1), level: args.gzip_level },
                _ => Output::Log,
            };
            write_files(&configs, &args.out_dir, args.prefix.as_deref(), args.num, output)?
        }
    };
    let secs = began.elapsed().as_secs_f64();
    let lines: u64 = reports.iter().map(|r| r.lines).sum();
    let bytes: u64 = reports.iter().map(|r| r.bytes).sum();
    let bad: u64 = reports.iter().map(Report::bad_total).sum();
    for r in &reports {
        if let (Some(path), Some((first, last))) = (&r.path, r.first_last) {
            eprintln!("{}  {} lines  {} .. {}", path.display(), r.lines, first, last);
        }
    }
    if !matches!(args.output, OutputArg::Console) {
        eprintln!(
            "loggen: {lines} lines ({bad} malformed), {:.1} MB in {secs:.2} s ({:.2} M lines/s), seed {seed}",
            bytes as f64 / 1e6,
            lines as f64 / secs.max(1e-9) / 1e6
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loggen: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
