//! The line generator.

use std::sync::Arc;

use loglake_parser::Timestamp;

use crate::pools::{self, Pools, RESOURCES, STATIC};
use crate::rng::Rng;

/// The two line shapes of Fake-Apache-Log-Generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFormat {
    /// Common Log Format: `%h %l %u %t "%r" %>s %b`.
    Clf,
    /// "Extended" (Apache combined): CLF plus `"%{Referer}i" "%{User-agent}i"`.
    Elf,
}

impl LineFormat {
    /// The Apache `LogFormat` preset name that parses this shape.
    #[must_use]
    pub const fn preset_name(self) -> &'static str {
        match self {
            LineFormat::Clf => "common",
            LineFormat::Elf => "combined",
        }
    }
}

/// How time advances between lines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// The original's `randint(30, 300)` seconds.
    Random,
    /// A fixed number of seconds (the original's `--sleep`).
    Fixed(f64),
    /// Random 30–300 steps scaled so that `lines` lines span `hours` hours.
    Span {
        /// Hours the lines should cover.
        hours: f64,
        /// Lines that will be generated.
        lines: u64,
    },
}

/// Kinds of malformed line injected with `bad_ratio`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BadKind {
    /// A good line cut short.
    Truncated,
    /// Random bytes: invalid UTF-8 and NULs.
    Binary,
    /// An empty line.
    Empty,
    /// A date that does not exist (31 Feb).
    BadDate,
    /// A zone offset of +2400.
    BadOffset,
    /// A status that is not three digits.
    BadStatus,
    /// The identd field is missing.
    MissingField,
}

impl BadKind {
    /// Every kind, in injection order.
    pub const ALL: [BadKind; 7] = [
        BadKind::Truncated,
        BadKind::Binary,
        BadKind::Empty,
        BadKind::BadDate,
        BadKind::BadOffset,
        BadKind::BadStatus,
        BadKind::MissingField,
    ];

    /// A short name for reports.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            BadKind::Truncated => "truncated",
            BadKind::Binary => "binary",
            BadKind::Empty => "empty",
            BadKind::BadDate => "bad_date",
            BadKind::BadOffset => "bad_offset",
            BadKind::BadStatus => "bad_status",
            BadKind::MissingField => "missing_field",
        }
    }
}

/// What a generated line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// A well-formed line.
    Good,
    /// A deliberately malformed line.
    Bad(BadKind),
}

/// Generator settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Seed: equal seeds and settings give byte-identical output.
    pub seed: u64,
    /// The time before the first line (the first line is one step later, as in the original).
    pub start: Timestamp,
    /// Line shape.
    pub format: LineFormat,
    /// Time steps.
    pub step: Step,
    /// Zone offset the lines are written in, minutes east of UTC.
    pub tz_offset_minutes: i16,
    /// Share of malformed lines, 0.0–1.0.
    pub bad_ratio: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 0,
            start: Timestamp::from_unix_micros(0, 0),
            format: LineFormat::Elf,
            step: Step::Random,
            tz_offset_minutes: 0,
            bad_ratio: 0.0,
        }
    }
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const VERBS: [&str; 4] = ["GET", "POST", "DELETE", "PUT"];
const VERB_CUM: [f64; 4] = [0.6, 0.7, 0.8, 1.0];
const STATUS: [&str; 4] = ["200", "404", "500", "301"];
const STATUS_CUM: [f64; 4] = [0.9, 0.94, 0.96, 1.0];
/// firefox, chrome, safari, ie, opera
const BROWSER_CUM: [f64; 5] = [0.5, 0.8, 0.9, 0.95, 1.0];

/// Generates access-log lines one at a time.
///
/// ```
/// use fakelog::{Config, Generator, LineKind};
///
/// let mut g = Generator::new(&Config { seed: 42, ..Config::default() });
/// let mut buf = Vec::new();
/// assert_eq!(g.next_line(&mut buf), LineKind::Good);
/// assert!(buf.ends_with(b"\"\n"));
/// ```
#[derive(Debug, Clone)]
pub struct Generator {
    cfg: Config,
    rng: Rng,
    pools: Arc<Pools>,
    time_us: i64,
    step_scale: f64,
    day: i64,
    date: [u8; 11],
    tz: [u8; 5],
    scratch: Vec<u8>,
}

impl Generator {
    /// A generator (builds its value pools from the seed).
    #[must_use]
    pub fn new(cfg: &Config) -> Self {
        Self::with_pools(cfg, Arc::new(Pools::new(cfg.seed)))
    }

    pub(crate) fn with_pools(cfg: &Config, pools: Arc<Pools>) -> Self {
        let step_scale = match cfg.step {
            // the mean random step is 165 s
            Step::Span { hours, lines } => hours * 3600.0 / (lines.max(1) as f64 * 165.0),
            _ => 1.0,
        };
        let off = cfg.tz_offset_minutes;
        let sign = if off < 0 { b'-' } else { b'+' };
        let (h, m) = (off.unsigned_abs() / 60, off.unsigned_abs() % 60);
        let tz = [
            sign,
            b'0' + (h / 10) as u8,
            b'0' + (h % 10) as u8,
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
        ];
        Generator {
            cfg: cfg.clone(),
            rng: Rng::new(cfg.seed),
            pools,
            time_us: cfg.start.unix_micros(),
            step_scale,
            day: i64::MIN,
            date: [0; 11],
            tz,
            scratch: Vec::with_capacity(512),
        }
    }

    /// The time of the last generated line (or the start).
    #[must_use]
    pub fn time(&self) -> Timestamp {
        Timestamp::from_unix_micros(self.time_us, self.cfg.tz_offset_minutes)
    }

    /// The time the next line will carry, without consuming randomness (for file names).
    #[must_use]
    pub fn peek_next_time(&self) -> Timestamp {
        let mut probe = self.clone();
        probe.advance();
        probe.time()
    }

    fn advance(&mut self) {
        let micros = match self.cfg.step {
            Step::Fixed(secs) => (secs * 1e6) as i64,
            Step::Random => self.rng.range(30, 300) as i64 * 1_000_000,
            Step::Span { .. } => (self.rng.range(30, 300) as f64 * self.step_scale * 1e6) as i64,
        };
        self.time_us += micros;
    }

    /// Appends one line (with its `\n`) to `out` and says what it is.
    pub fn next_line(&mut self, out: &mut Vec<u8>) -> LineKind {
        self.advance();
        if self.cfg.bad_ratio > 0.0 && self.rng.chance(self.cfg.bad_ratio) {
            let kind = *self.rng.pick(&BadKind::ALL);
            self.bad_line(kind, out);
            return LineKind::Bad(kind);
        }
        self.good_line(out);
        LineKind::Good
    }

    fn good_line(&mut self, out: &mut Vec<u8>) {
        let mut line = std::mem::take(&mut self.scratch);
        line.clear();
        self.render(&mut line, None);
        out.extend_from_slice(&line);
        self.scratch = line;
    }

    fn bad_line(&mut self, kind: BadKind, out: &mut Vec<u8>) {
        let mut line = std::mem::take(&mut self.scratch);
        line.clear();
        match kind {
            BadKind::Truncated => {
                self.render(&mut line, None);
                // drop the `\n` and at least the closing quote
                let cut = 1 + self.rng.below(line.len() - 2);
                line.truncate(cut);
                line.push(b'\n');
            }
            BadKind::Binary => {
                let n = 1 + self.rng.below(120);
                line.push(0);
                for _ in 0..n {
                    let b = self.rng.next_u64() as u8;
                    line.push(if b == b'\n' || b == b'\r' { 0xff } else { b });
                }
                line.push(b'\n');
            }
            BadKind::Empty => line.push(b'\n'),
            BadKind::BadDate | BadKind::BadOffset | BadKind::BadStatus | BadKind::MissingField => {
                self.render(&mut line, Some(kind));
            }
        }
        out.extend_from_slice(&line);
        self.scratch = line;
    }

    /// Renders a line; `fault` breaks one field of it on purpose.
    fn render(&mut self, out: &mut Vec<u8>, fault: Option<BadKind>) {
        let rng = &mut self.rng;
        let pools = &*self.pools;
        // client: Zipf-like skew towards the first addresses
        let u = rng.unit();
        let client = &pools.clients[((pools.clients.len() as f64) * u * u * u) as usize];
        out.extend_from_slice(client.as_bytes());
        out.push(b' ');
        out.extend_from_slice(if fault == Some(BadKind::MissingField) { b"-" } else { b"- -" });
        out.extend_from_slice(b" [");
        let local_secs = self.time_us.div_euclid(1_000_000) + i64::from(self.cfg.tz_offset_minutes) * 60;
        let day = local_secs.div_euclid(86_400);
        if day != self.day {
            let (y, m, d) = Timestamp::from_unix_micros(day * 86_400_000_000, 0).utc_date();
            let s = format!("{d:02}/{}/{y:04}", MONTHS[usize::from(m) - 1]);
            self.date.copy_from_slice(&s.as_bytes()[..11]);
            self.day = day;
        }
        out.extend_from_slice(if fault == Some(BadKind::BadDate) { b"31/Feb/2020" } else { &self.date });
        let sod = local_secs.rem_euclid(86_400);
        let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
        out.extend_from_slice(&[
            b':',
            b'0' + (h / 10) as u8,
            b'0' + (h % 10) as u8,
            b':',
            b'0' + (mi / 10) as u8,
            b'0' + (mi % 10) as u8,
            b':',
            b'0' + (s / 10) as u8,
            b'0' + (s % 10) as u8,
            b' ',
        ]);
        if fault == Some(BadKind::BadOffset) {
            out.extend_from_slice(b"+2400");
        } else {
            out.extend_from_slice(&self.tz);
        }
        out.extend_from_slice(b"] \"");
        out.extend_from_slice(VERBS[rng.weighted(&VERB_CUM)].as_bytes());
        out.push(b' ');
        if rng.chance(0.15) {
            out.extend_from_slice(rng.pick(&STATIC).as_bytes());
        } else {
            let r = *rng.pick(&RESOURCES);
            out.extend_from_slice(r.as_bytes());
            if r.ends_with('=') {
                push_u64(out, rng.range(1000, 10000));
            } else if rng.chance(0.4) {
                out.extend_from_slice(b"?q=");
                out.extend_from_slice(pools::query_word(rng).as_bytes());
                out.extend_from_slice(b"&page=");
                push_u64(out, rng.range(1, 20));
            }
        }
        out.extend_from_slice(b" HTTP/1.0\" ");
        let st = STATUS[rng.weighted(&STATUS_CUM)];
        out.extend_from_slice(if fault == Some(BadKind::BadStatus) { b"2x0" } else { st.as_bytes() });
        out.push(b' ');
        let bytes = rng.gauss(5000.0, 50.0) as u64;
        if (st == "301" && rng.chance(0.5)) || rng.chance(0.01) {
            out.push(b'-');
        } else {
            push_u64(out, bytes);
        }
        if self.cfg.format == LineFormat::Elf {
            out.extend_from_slice(b" \"");
            pools::referrer(rng, pools, out);
            out.extend_from_slice(b"\" \"");
            let ua: &str = if rng.chance(0.1) {
                pools.bots[rng.below(pools.bots.len())]
            } else {
                let family = rng.weighted(&BROWSER_CUM);
                rng.pick(&pools.browsers[family]).as_str()
            };
            out.extend_from_slice(ua.as_bytes());
            out.push(b'"');
        }
        out.push(b'\n');
    }
}

/// Appends a decimal number.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_u64_digits() {
        let mut v = Vec::new();
        for n in [0, 7, 10, 5043, u64::MAX] {
            v.clear();
            push_u64(&mut v, n);
            assert_eq!(v, n.to_string().as_bytes());
        }
    }

    #[test]
    fn same_seed_same_lines() {
        let cfg = Config { seed: 9, bad_ratio: 0.2, ..Config::default() };
        let (mut a, mut b) = (Generator::new(&cfg), Generator::new(&cfg));
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..500 {
            assert_eq!(a.next_line(&mut x), b.next_line(&mut y));
        }
        assert_eq!(x, y);
        let mut c = Generator::new(&Config { seed: 10, ..cfg });
        let mut z = Vec::new();
        for _ in 0..500 {
            c.next_line(&mut z);
        }
        assert_ne!(x, z);
    }

    #[test]
    fn span_mode_covers_the_requested_hours() {
        let lines = 20_000;
        let cfg = Config { step: Step::Span { hours: 24.0, lines }, ..Config::default() };
        let mut g = Generator::new(&cfg);
        let mut buf = Vec::new();
        for _ in 0..lines {
            g.next_line(&mut buf);
        }
        let hours = g.time().unix_micros() as f64 / 3.6e9;
        assert!((23.0..25.0).contains(&hours), "{hours}");
    }

    #[test]
    fn peek_does_not_consume() {
        let mut g = Generator::new(&Config::default());
        let t = g.peek_next_time();
        g.next_line(&mut Vec::new());
        assert_eq!(g.time(), t);
    }
}
