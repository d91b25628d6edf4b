//! Counting what a parser made of a batch of lines: the summary behind `lake parse`.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{ErrorKind, ParseError};
use crate::record::LogRecord;
use crate::time::Timestamp;

/// Counts of accepted and rejected lines, rejects by reason (with the first line number of
/// each), and a few facts about the accepted ones. Mergeable across threads and files.
///
/// ```
/// use loglake_parser::{lines, ParseStats, Parser, Preset};
///
/// let parser = Parser::preset(Preset::Common);
/// let mut stats = ParseStats::default();
/// for line in lines(b"1.2.3.4 - - [31/May/2020:05:00:00 +0000] \"GET / HTTP/1.1\" 200 5\nnope\n") {
///     stats.add(line.number(), &parser.parse_line(line.bytes()));
/// }
/// assert_eq!((stats.lines(), stats.accepted(), stats.rejected()), (2, 1, 1));
/// assert_eq!(stats.rejects_by_reason()[0], ("truncated", 1, 2));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseStats {
    lines: u64,
    accepted: u64,
    by_format: Vec<u64>,
    rejects: BTreeMap<ErrorKind, (u64, u64)>,
    invalid_requests: u64,
    status_classes: [u64; 6],
    bytes: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl ParseStats {
    /// Counts one parse result; `line_number` is kept for the first reject of each reason.
    pub fn add(&mut self, line_number: u64, result: &Result<LogRecord<'_>, ParseError>) {
        self.lines += 1;
        match result {
            Ok(r) => {
                self.accepted += 1;
                let f = r.format_index();
                if self.by_format.len() <= f {
                    self.by_format.resize(f + 1, 0);
                }
                self.by_format[f] += 1;
                self.invalid_requests += u64::from(!r.is_valid_request());
                let class = r.status().map_or(0, |s| usize::from(s / 100)).min(5);
                self.status_classes[class] += 1;
                self.bytes += r.response_bytes().unwrap_or(0);
                if let Some(t) = r.time() {
                    self.first = Some(self.first.map_or(t, |f| f.min(t)));
                    self.last = Some(self.last.map_or(t, |l| l.max(t)));
                }
            }
            Err(e) => {
                let entry = self.rejects.entry(e.kind()).or_insert((0, line_number));
                entry.0 += 1;
                entry.1 = entry.1.min(line_number);
            }
        }
    }

    /// Adds another batch's counts (associative and commutative).
    pub fn merge(&mut self, other: &ParseStats) {
        self.lines += other.lines;
        self.accepted += other.accepted;
        if self.by_format.len() < other.by_format.len() {
            self.by_format.resize(other.by_format.len(), 0);
        }
        for (a, b) in self.by_format.iter_mut().zip(&other.by_format) {
            *a += b;
        }
        for (k, (n, first)) in &other.rejects {
            let e = self.rejects.entry(*k).or_insert((0, *first));
            e.0 += n;
            e.1 = e.1.min(*first);
        }
        self.invalid_requests += other.invalid_requests;
        for (a, b) in self.status_classes.iter_mut().zip(other.status_classes) {
            *a += b;
        }
        self.bytes += other.bytes;
        self.first = self.first.into_iter().chain(other.first).min();
        self.last = self.last.into_iter().chain(other.last).max();
    }

    /// Lines seen.
    #[must_use]
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Lines that parsed.
    #[must_use]
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// Lines that did not parse.
    #[must_use]
    pub fn rejected(&self) -> u64 {
        self.lines - self.accepted
    }

    /// Accepted lines per format index (main format first).
    #[must_use]
    pub fn accepted_by_format(&self) -> &[u64] {
        &self.by_format
    }

    /// (reason code, count, first line number), most frequent first.
    #[must_use]
    pub fn rejects_by_reason(&self) -> Vec<(&'static str, u64, u64)> {
        let mut v: Vec<_> = self.rejects.iter().map(|(k, (n, first))| (k.code(), *n, *first)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    /// Accepted lines whose request line is not a valid request (`-`, TLS bytes, junk).
    #[must_use]
    pub fn invalid_requests(&self) -> u64 {
        self.invalid_requests
    }

    /// Accepted lines by status class: index 0 for no status, 1 for 1xx ... 5 for 5xx and up.
    #[must_use]
    pub fn status_classes(&self) -> [u64; 6] {
        self.status_classes
    }

    /// Sum of response bytes of accepted lines (`-` counts as nothing).
    #[must_use]
    pub fn response_bytes(&self) -> u64 {
        self.bytes
    }

    /// Earliest and latest time of accepted lines.
    #[must_use]
    pub fn time_range(&self) -> Option<(Timestamp, Timestamp)> {
        self.first.zip(self.last)
    }
}

impl fmt::Display for ParseStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |n: u64| if self.lines == 0 { 0.0 } else { n as f64 * 100.0 / self.lines as f64 };
        writeln!(f, "lines      {:>12}", self.lines)?;
        writeln!(f, "accepted   {:>12}  ({:.2}%)", self.accepted, pct(self.accepted))?;
        if self.by_format.len() > 1 {
            for (i, n) in self.by_format.iter().enumerate() {
                writeln!(f, "  format {i:<3}{n:>12}")?;
            }
        }
        writeln!(f, "rejected   {:>12}  ({:.2}%)", self.rejected(), pct(self.rejected()))?;
        for (code, n, first) in self.rejects_by_reason() {
            writeln!(f, "  {code:<20}{n:>10}  first at line {first}")?;
        }
        if let Some((a, b)) = self.time_range() {
            writeln!(f, "time       {a} .. {b}")?;
        }
        let [none, c1, c2, c3, c4, c5] = self.status_classes;
        writeln!(f, "status     1xx {c1}  2xx {c2}  3xx {c3}  4xx {c4}  5xx {c5}  none {none}")?;
        writeln!(f, "invalid request lines {}", self.invalid_requests)?;
        write!(f, "response bytes {}", self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{lines, Parser, Preset};

    #[test]
    fn merge_equals_one_pass() {
        let data = b"1.2.3.4 - - [31/May/2020:05:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n\nx\n\
                     1.2.3.4 - - [31/May/2020:04:00:00 +0000] \"-\" 408 -\n";
        let parser = Parser::preset(Preset::Common);
        let mut whole = ParseStats::default();
        let mut halves = [ParseStats::default(), ParseStats::default()];
        for line in lines(data) {
            let r = parser.parse_line(line.bytes());
            whole.add(line.number(), &r);
            halves[usize::from(line.number() > 2)].add(line.number(), &r);
        }
        let mut merged = halves[1].clone();
        merged.merge(&halves[0]);
        assert_eq!(merged, whole);
        assert_eq!(whole.invalid_requests(), 1);
        assert_eq!(whole.status_classes()[4], 1);
        assert_eq!(whole.time_range().unwrap().0.utc_hour(), 4);
        assert!(whole.to_string().contains("empty_line"));
    }
}
