//! Shared inputs for the criterion benches: seeded generated logs, never committed.

use fakelog::{Config, Generator, LineFormat, Step};
use loglake_parser::Timestamp;

/// `lines` generated lines (with `\n`) of one format, seed 42, one day from 2020-05-31.
#[must_use]
pub fn generated(format: LineFormat, lines: u64) -> Vec<u8> {
    let start = Timestamp::from_utc(2020, 5, 31, 0, 0, 0).unwrap_or(Timestamp::from_unix_micros(0, 0));
    let cfg = Config {
        seed: 42,
        start,
        format,
        step: Step::Span { hours: 24.0, lines },
        tz_offset_minutes: 120,
        bad_ratio: 0.0,
    };
    let mut g = Generator::new(&cfg);
    let mut buf = Vec::with_capacity(lines as usize * 260);
    for _ in 0..lines {
        g.next_line(&mut buf);
    }
    buf
}
