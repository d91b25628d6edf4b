//! Writing generated lines to files (plain or gzip, one or many members) or to a stream.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use flate2::write::GzEncoder;
use flate2::Compression;
use loglake_parser::Timestamp;

use crate::generate::{BadKind, Config, Generator, LineKind};
use crate::pools::Pools;

/// Where lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A `.log` file.
    Log,
    /// A `.log.gz` file of `members` concatenated gzip members (`members > 1` is what rotated
    /// and AWS-delivered logs look like; single-member decoders lose all but the first).
    Gz {
        /// Gzip members per file (at least 1).
        members: u32,
        /// Compression level 0–9.
        level: u32,
    },
    /// Standard output.
    Console,
}

/// What one file (or stream) received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The file written, `None` for the console.
    pub path: Option<PathBuf>,
    /// Lines written.
    pub lines: u64,
    /// Uncompressed bytes written.
    pub bytes: u64,
    /// Malformed lines by kind.
    pub bad: BTreeMap<BadKind, u64>,
    /// Time of the first and last line.
    pub first_last: Option<(Timestamp, Timestamp)>,
}

impl Report {
    /// Malformed lines in all.
    #[must_use]
    pub fn bad_total(&self) -> u64 {
        self.bad.values().sum()
    }
}

/// A file could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error on a named file (or the console).
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file, or `-` for the console.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// `PREFIX_access_log_YYYYmmdd-HHMMSS.log[.gz]`, from the local time of the first line
/// (Fake-Apache-Log-Generator's naming; without a prefix, `access_log_...`).
#[must_use]
pub fn file_name(prefix: Option<&str>, first_line: Timestamp, gz: bool) -> String {
    let local = Timestamp::from_unix_micros(
        first_line.unix_micros() + i64::from(first_line.offset_minutes()) * 60_000_000,
        0,
    );
    let (y, m, d) = local.utc_date();
    let sod = local.unix_micros().div_euclid(1_000_000).rem_euclid(86_400);
    let stamp = format!("{y:04}{m:02}{d:02}-{:02}{:02}{:02}", sod / 3600, sod / 60 % 60, sod % 60);
    let ext = if gz { ".log.gz" } else { ".log" };
    match prefix {
        Some(p) if !p.is_empty() => format!("{p}_access_log_{stamp}{ext}"),
        _ => format!("access_log_{stamp}{ext}"),
    }
}

/// Writes `lines` lines (`0` = until the writer fails, for the console) to `w`.
///
/// # Errors
/// The writer's I/O error.
pub fn write_lines<W: Write>(
    gen: &mut Generator,
    lines: u64,
    w: &mut W,
    sleep: Option<Duration>,
) -> io::Result<Report> {
    let mut report = Report::default();
    let mut buf = Vec::with_capacity(1 << 20);
    let first = gen.peek_next_time();
    let mut n = 0u64;
    while lines == 0 || n < lines {
        if let LineKind::Bad(kind) = gen.next_line(&mut buf) {
            *report.bad.entry(kind).or_default() += 1;
        }
        n += 1;
        if sleep.is_some() || buf.len() >= (1 << 20) - 4096 {
            w.write_all(&buf)?;
            report.bytes += buf.len() as u64;
            buf.clear();
            if let Some(d) = sleep {
                w.flush()?;
                std::thread::sleep(d);
            }
        }
    }
    w.write_all(&buf)?;
    w.flush()?;
    report.bytes += buf.len() as u64;
    report.lines = n;
    report.first_last = (n > 0).then(|| (first, gen.time()));
    Ok(report)
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.display().to_string(), source }
}

/// Writes one file of `lines` lines into `dir`, named by [`file_name`].
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_file(
    gen: &mut Generator,
    dir: &Path,
    prefix: Option<&str>,
    lines: u64,
    output: Output,
) -> Result<Report, Error> {
    let gz = matches!(output, Output::Gz { .. });
    let path = dir.join(file_name(prefix, gen.peek_next_time(), gz));
    let file = File::create(&path).map_err(io_err(&path))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut report = match output {
        Output::Gz { members, level } => {
            let members = u64::from(members.max(1));
            let mut total = Report::default();
            for k in 0..members {
                let share = lines * (k + 1) / members - lines * k / members;
                let mut enc = GzEncoder::new(&mut w, Compression::new(level.min(9)));
                let r = write_lines(gen, share, &mut enc, None).map_err(io_err(&path))?;
                enc.finish().map_err(io_err(&path))?;
                merge(&mut total, r);
            }
            total
        }
        Output::Log | Output::Console => write_lines(gen, lines, &mut w, None).map_err(io_err(&path))?,
    };
    w.flush().map_err(io_err(&path))?;
    report.path = Some(path);
    Ok(report)
}

fn merge(total: &mut Report, r: Report) {
    total.lines += r.lines;
    total.bytes += r.bytes;
    for (k, v) in r.bad {
        *total.bad.entry(k).or_default() += v;
    }
    total.first_last = match (total.first_last, r.first_last) {
        (Some((a, _)), Some((_, b))) => Some((a, b)),
        (a, b) => a.or(b),
    };
}

/// Writes one file per config, in parallel (the value pools are built once and shared).
///
/// # Errors
/// The first file that failed.
pub fn write_files(
    configs: &[Config],
    dir: &Path,
    prefix: Option<&str>,
    lines: u64,
    output: Output,
) -> Result<Vec<Report>, Error> {
    let pools = Arc::new(Pools::new(configs.first().map_or(0, |c| c.seed)));
    let threads =
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(configs.len().max(1));
    let chunk = configs.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = configs
            .chunks(chunk)
            .map(|part| {
                let pools = Arc::clone(&pools);
                s.spawn(move || {
                    part.iter()
                        .map(|cfg| {
                            let mut gen = Generator::with_pools(cfg, Arc::clone(&pools));
                            write_file(&mut gen, dir, prefix, lines, output)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(configs.len());
        for h in handles {
            match h.join() {
                Ok(results) => {
                    for r in results {
                        out.push(r?);
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_original() {
        let t = Timestamp::from_utc(2020, 5, 31, 10, 56, 56).unwrap();
        let t = Timestamp::from_unix_micros(t.unix_micros(), 120);
        assert_eq!(file_name(Some("web1"), t, true), "web1_access_log_20200531-125656.log.gz");
        assert_eq!(file_name(None, t, false), "access_log_20200531-125656.log");
    }
}
