//! Timestamps: the `%t` fast path, the strftime subset of `%{...}t`, and civil-date math.

use std::cell::Cell;
use std::fmt;

use crate::error::ErrorKind;

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// A point in time from a log line: UTC microseconds since the Unix epoch plus the zone offset
/// the line was written in.
///
/// ```
/// use loglake_parser::Timestamp;
///
/// let t = Timestamp::from_unix_micros(1_590_901_921_000_000, 120);
/// assert_eq!(t.utc_date(), (2020, 5, 31));
/// assert_eq!(t.utc_hour(), 5);
/// assert_eq!(t.to_string(), "2020-05-31T05:12:01Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    unix_micros: i64,
    offset_minutes: i16,
}

impl Timestamp {
    /// A timestamp from UTC epoch microseconds and the original zone offset in minutes.
    #[must_use]
    pub const fn from_unix_micros(unix_micros: i64, offset_minutes: i16) -> Self {
        Timestamp { unix_micros, offset_minutes }
    }

    /// A validated UTC date and time (`None` for 30 Feb, hour 24, ...), offset 0.
    ///
    /// ```
    /// use loglake_parser::Timestamp;
    ///
    /// assert_eq!(Timestamp::from_utc(2020, 5, 31, 5, 12, 1).unwrap().to_string(), "2020-05-31T05:12:01Z");
    /// assert_eq!(Timestamp::from_utc(2019, 2, 29, 0, 0, 0), None);
    /// ```
    #[must_use]
    pub const fn from_utc(year: i32, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        if month == 0 || month > 12 || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let secs = days_from_civil(year, month, day) * SECS_PER_DAY
            + hour as i64 * 3600
            + minute as i64 * 60
            + second as i64;
        Some(Timestamp::from_unix_micros(secs * MICROS_PER_SEC, 0))
    }

    /// Microseconds since 1970-01-01T00:00:00Z (negative before it).
    #[must_use]
    pub const fn unix_micros(self) -> i64 {
        self.unix_micros
    }

    /// The zone offset the line was written in, in minutes east of UTC (`+0530` is 330).
    /// Zero when the format carried no zone.
    #[must_use]
    pub const fn offset_minutes(self) -> i16 {
        self.offset_minutes
    }

    /// Days since 1970-01-01 of the UTC date.
    #[must_use]
    pub const fn utc_days(self) -> i64 {
        self.unix_micros.div_euclid(SECS_PER_DAY * MICROS_PER_SEC)
    }

    /// The UTC calendar date as (year, month 1-12, day 1-31).
    #[must_use]
    pub const fn utc_date(self) -> (i32, u8, u8) {
        civil_from_days(self.utc_days())
    }

    /// The UTC hour, 0-23.
    #[must_use]
    pub const fn utc_hour(self) -> u8 {
        let secs = self.unix_micros.div_euclid(MICROS_PER_SEC);
        // rem_euclid keeps it in 0..86400, so the hour fits in u8
        (secs.rem_euclid(SECS_PER_DAY) / 3600) as u8
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, with microseconds only when they are not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d) = self.utc_date();
        let secs = self.unix_micros.div_euclid(MICROS_PER_SEC).rem_euclid(SECS_PER_DAY);
        let us = self.unix_micros.rem_euclid(MICROS_PER_SEC);
        write!(f, "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)?;
        if us != 0 {
            write!(f, ".{us:06}")?;
        }
        f.write_str("Z")
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
#[must_use]
pub(crate) const fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = y as i64 - if m <= 2 { 1 } else { 0 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
#[must_use]
pub(crate) const fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = (yoe + era * 400) as i32 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

pub(crate) const fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) const fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
const MONTHS_FULL: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS_FULL: [&str; 7] =
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Month 1-12 from an English abbreviation, any case.
fn month_from_abbr(b: &[u8]) -> Option<u8> {
    let key =
        [b.first()?.to_ascii_uppercase(), b.get(1)?.to_ascii_lowercase(), b.get(2)?.to_ascii_lowercase()];
    MONTHS.iter().position(|m| **m == key).map(|i| i as u8 + 1)
}

#[inline]
fn digit(b: u8) -> Option<u32> {
    let d = b.wrapping_sub(b'0');
    (d < 10).then_some(u32::from(d))
}

#[inline]
fn two_digits(b: &[u8], i: usize) -> Option<u32> {
    Some(digit(*b.get(i)?)? * 10 + digit(*b.get(i + 1)?)?)
}

/// `+hhmm` / `-hhmm` to minutes east of UTC.
fn parse_offset(b: &[u8]) -> Result<i16, ErrorKind> {
    let sign = match b.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(ErrorKind::InvalidOffset),
    };
    let hh = two_digits(b, 1).ok_or(ErrorKind::InvalidOffset)?;
    let mm = two_digits(b, 3).ok_or(ErrorKind::InvalidOffset)?;
    if hh > 23 || mm > 59 {
        return Err(ErrorKind::InvalidOffset);
    }
    // hh*60+mm <= 1439 fits in i16
    Ok(sign * (hh * 60 + mm) as i16)
}

/// The day number of the last `dd/Mon/yyyy` seen, so consecutive lines skip the calendar math.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DateCache {
    key: [u8; 11],
    days: i64,
}

/// Parses the inside of `%t`'s brackets: `dd/Mon/yyyy:HH:MM:SS +zzzz`.
///
/// Returns (UTC micros, offset minutes) or the error and its byte offset in `b`.
pub(crate) fn parse_clf_time(b: &[u8], cache: &Cell<DateCache>) -> Result<(i64, i16), (ErrorKind, usize)> {
    if b.len() != 26 {
        return Err((ErrorKind::InvalidTimestamp, b.len().min(26)));
    }
    let shape_ok =
        b[2] == b'/' && b[6] == b'/' && b[11] == b':' && b[14] == b':' && b[17] == b':' && b[20] == b' ';
    if !shape_ok {
        return Err((ErrorKind::InvalidTimestamp, 0));
    }
    let mut key = [0u8; 11];
    key.copy_from_slice(&b[..11]);
    let cached = cache.get();
    let days = if cached.key == key {
        cached.days
    } else {
        let day = two_digits(b, 0).ok_or((ErrorKind::InvalidTimestamp, 0))?;
        let month = month_from_abbr(&b[3..6]).ok_or((ErrorKind::InvalidDate, 3))?;
        let year = two_digits(b, 7)
            .zip(two_digits(b, 9))
            .map(|(hi, lo)| hi * 100 + lo)
            .ok_or((ErrorKind::InvalidTimestamp, 7))?;
        // four digits: 0..=9999 fits in i32
        let year = year as i32;
        if day == 0 || day > u32::from(days_in_month(year, month)) {
            return Err((ErrorKind::InvalidDate, 0));
        }
        let days = days_from_civil(year, month, day as u8);
        cache.set(DateCache { key, days });
        days
    };
    let hh = two_digits(b, 12).ok_or((ErrorKind::InvalidTimestamp, 12))?;
    let mm = two_digits(b, 15).ok_or((ErrorKind::InvalidTimestamp, 15))?;
    let ss = two_digits(b, 18).ok_or((ErrorKind::InvalidTimestamp, 18))?;
    if hh > 23 || mm > 59 || ss > 59 {
        return Err((ErrorKind::InvalidDate, 12));
    }
    let offset = parse_offset(&b[21..]).map_err(|k| (k, 21))?;
    let local_secs = days * SECS_PER_DAY + i64::from(hh * 3600 + mm * 60 + ss);
    let utc_secs = local_secs - i64::from(offset) * 60;
    Ok((utc_secs * MICROS_PER_SEC, offset))
}

// ---------------------------------------------------------------- strftime subset

/// One conversion of a `%{...}t` strftime format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum StrftimeItem {
    Literal(u8),
    Whitespace,
    Day,
    DaySpace,
    MonthAbbr,
    MonthFull,
    MonthNum,
    Year,
    Year2,
    DayOfYear,
    Hour,
    Hour12,
    AmPm,
    Minute,
    Second,
    Zone,
    WeekdayAbbr,
    WeekdayFull,
    EpochSeconds,
}

/// Compiles a strftime format; on error returns (char offset of the `%`, conversion char).
pub(crate) fn compile_strftime(f: &str) -> Result<Vec<StrftimeItem>, (usize, char)> {
    use StrftimeItem as S;
    let mut out = Vec::new();
    let mut chars = f.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '%' {
            let mut buf = [0u8; 4];
            out.extend(c.encode_utf8(&mut buf).bytes().map(S::Literal));
            continue;
        }
        let Some((_, conv)) = chars.next() else {
            return Err((f[..i].chars().count(), '%'));
        };
        match conv {
            'd' => out.push(S::Day),
            'e' => out.push(S::DaySpace),
            'b' | 'h' => out.push(S::MonthAbbr),
            'B' => out.push(S::MonthFull),
            'm' => out.push(S::MonthNum),
            'Y' => out.push(S::Year),
            'y' => out.push(S::Year2),
            'j' => out.push(S::DayOfYear),
            'H' => out.push(S::Hour),
            'I' => out.push(S::Hour12),
            'p' => out.push(S::AmPm),
            'M' => out.push(S::Minute),
            'S' => out.push(S::Second),
            'z' => out.push(S::Zone),
            'a' => out.push(S::WeekdayAbbr),
            'A' => out.push(S::WeekdayFull),
            's' => out.push(S::EpochSeconds),
            'n' | 't' => out.push(S::Whitespace),
            '%' => out.push(S::Literal(b'%')),
            'T' => out.extend([S::Hour, S::Literal(b':'), S::Minute, S::Literal(b':'), S::Second]),
            'R' => out.extend([S::Hour, S::Literal(b':'), S::Minute]),
            'D' => out.extend([S::MonthNum, S::Literal(b'/'), S::Day, S::Literal(b'/'), S::Year2]),
            'F' => out.extend([S::Year, S::Literal(b'-'), S::MonthNum, S::Literal(b'-'), S::Day]),
            other => return Err((f[..i].chars().count(), other)),
        }
    }
    Ok(out)
}

/// Time fields gathered from one line's time directives, turned into a timestamp at the end.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TimeParts {
    year: Option<i32>,
    month: Option<u8>,
    day: Option<u8>,
    yday: Option<u16>,
    hour: Option<u8>,
    hour12: Option<u8>,
    pm: Option<bool>,
    minute: Option<u8>,
    second: Option<u8>,
    offset: Option<i16>,
    epoch_us: Option<i64>,
    frac_us: Option<u32>,
}

impl TimeParts {
    pub(crate) fn set_epoch(&mut self, micros: i64, offset: Option<i16>) {
        self.epoch_us = Some(micros);
        if offset.is_some() {
            self.offset = offset;
        }
    }

    pub(crate) fn set_fraction(&mut self, micros: u32) {
        self.frac_us = Some(micros);
    }

    /// The timestamp, `Ok(None)` when the line had no time at all.
    pub(crate) fn finish(&self) -> Result<Option<Timestamp>, ErrorKind> {
        let offset = self.offset.unwrap_or(0);
        let frac = i64::from(self.frac_us.unwrap_or(0));
        if let Some(e) = self.epoch_us {
            // an epoch in whole seconds plus a fraction directive
            let e = if e % MICROS_PER_SEC == 0 { e + frac } else { e };
            return Ok(Some(Timestamp::from_unix_micros(e, offset)));
        }
        let Some(year) = self.year else {
            let any =
                self.month.is_some() || self.day.is_some() || self.hour.is_some() || self.frac_us.is_some();
            return if any { Err(ErrorKind::InvalidTimestamp) } else { Ok(None) };
        };
        let days = match (self.month, self.day, self.yday) {
            (Some(m), Some(d), _) => {
                if d == 0 || d > days_in_month(year, m) {
                    return Err(ErrorKind::InvalidDate);
                }
                days_from_civil(year, m, d)
            }
            (None, None, Some(yd)) => {
                let max = if is_leap(year) { 366 } else { 365 };
                if yd == 0 || yd > max {
                    return Err(ErrorKind::InvalidDate);
                }
                days_from_civil(year, 1, 1) + i64::from(yd) - 1
            }
            _ => return Err(ErrorKind::InvalidTimestamp),
        };
        let hour = match (self.hour, self.hour12, self.pm) {
            (Some(h), _, _) => h,
            (None, Some(h), pm) => (h % 12) + if pm == Some(true) { 12 } else { 0 },
            (None, None, _) => 0,
        };
        let secs = days * SECS_PER_DAY
            + i64::from(hour) * 3600
            + i64::from(self.minute.unwrap_or(0)) * 60
            + i64::from(self.second.unwrap_or(0))
            - i64::from(offset) * 60;
        Ok(Some(Timestamp::from_unix_micros(secs * MICROS_PER_SEC + frac, offset)))
    }
}

/// Reads up to `max` digits (at least `min`) starting at `b[0]`.
fn number(b: &[u8], min: usize, max: usize) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    let mut i = 0;
    while i < max && i < b.len() {
        let Some(d) = digit(b[i]) else { break };
        n = n * 10 + u64::from(d);
        i += 1;
    }
    (i >= min).then_some((n, i))
}

fn word<'w>(b: &[u8], words: impl IntoIterator<Item = &'w str>) -> Option<(usize, usize)> {
    words.into_iter().enumerate().find_map(|(i, w)| {
        let n = w.len();
        (b.len() >= n && b[..n].eq_ignore_ascii_case(w.as_bytes())).then_some((i, n))
    })
}

/// Matches `b` against a compiled strftime format; returns the bytes consumed.
pub(crate) fn parse_strftime(
    items: &[StrftimeItem],
    b: &[u8],
    parts: &mut TimeParts,
) -> Result<usize, (ErrorKind, usize)> {
    use StrftimeItem as S;
    let mut p = 0usize;
    let bad = |p| (ErrorKind::InvalidTimestamp, p);
    let range = |p| (ErrorKind::InvalidDate, p);
    for item in items {
        let rest = &b[p.min(b.len())..];
        let small = |min, max, lo, hi| -> Result<(u8, usize), (ErrorKind, usize)> {
            let (n, len) = number(rest, min, max).ok_or(bad(p))?;
            if n < lo || n > hi {
                return Err(range(p));
            }
            // bounded by `hi` <= 255
            Ok((n as u8, len))
        };
        let used = match item {
            S::Literal(c) => {
                if rest.first() != Some(c) {
                    return Err(bad(p));
                }
                1
            }
            S::Whitespace => rest.iter().take_while(|c| c.is_ascii_whitespace()).count(),
            S::Day => small(2, 2, 1, 31).map(|(n, l)| {
                parts.day = Some(n);
                l
            })?,
            S::DaySpace => {
                let skip = usize::from(rest.first() == Some(&b' '));
                let (n, l) = number(&rest[skip..], 1, 2).ok_or(bad(p))?;
                if !(1..=31).contains(&n) {
                    return Err(range(p));
                }
                parts.day = Some(n as u8);
                skip + l
            }
            S::MonthAbbr => {
                let m = rest.get(..3).and_then(month_from_abbr).ok_or(range(p))?;
                parts.month = Some(m);
                3
            }
            S::MonthFull => {
                let (i, l) = word(rest, MONTHS_FULL).ok_or(range(p))?;
                parts.month = Some(i as u8 + 1);
                l
            }
            S::MonthNum => small(2, 2, 1, 12).map(|(n, l)| {
                parts.month = Some(n);
                l
            })?,
            S::Year => {
                let (n, l) = number(rest, 4, 4).ok_or(bad(p))?;
                parts.year = Some(n as i32);
                l
            }
            S::Year2 => {
                let (n, l) = number(rest, 2, 2).ok_or(bad(p))?;
                // POSIX: 69-99 are 1969-1999, 00-68 are 2000-2068
                parts.year = Some(if n >= 69 { 1900 + n as i32 } else { 2000 + n as i32 });
                l
            }
            S::DayOfYear => {
                let (n, l) = number(rest, 3, 3).ok_or(bad(p))?;
                parts.yday = Some(n as u16);
                l
            }
            S::Hour => small(2, 2, 0, 23).map(|(n, l)| {
                parts.hour = Some(n);
                l
            })?,
            S::Hour12 => small(2, 2, 1, 12).map(|(n, l)| {
                parts.hour12 = Some(n);
                l
            })?,
            S::AmPm => {
                let (i, l) = word(rest, ["AM", "PM"]).ok_or(bad(p))?;
                parts.pm = Some(i == 1);
                l
            }
            S::Minute => small(2, 2, 0, 59).map(|(n, l)| {
                parts.minute = Some(n);
                l
            })?,
            S::Second => small(2, 2, 0, 60).map(|(n, l)| {
                parts.second = Some(n.min(59));
                l
            })?,
            S::Zone => {
                let z = rest.get(..5).ok_or(bad(p))?;
                parts.offset = Some(parse_offset(z).map_err(|k| (k, p))?);
                5
            }
            S::WeekdayAbbr => word(rest, WEEKDAYS_FULL.iter().map(|w| &w[..3])).ok_or(bad(p))?.1,
            S::WeekdayFull => word(rest, WEEKDAYS_FULL).ok_or(bad(p))?.1,
            S::EpochSeconds => {
                let (n, l) = number(rest, 1, 12).ok_or(bad(p))?;
                // at most 12 digits fits in i64 micros
                parts.epoch_us = Some(n as i64 * MICROS_PER_SEC);
                l
            }
        };
        p += used;
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clf(s: &str) -> Result<(i64, i16), (ErrorKind, usize)> {
        parse_clf_time(s.as_bytes(), &Cell::new(DateCache::default()))
    }

    #[test]
    fn civil_round_trip_over_centuries() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn clf_time_with_offsets() {
        // 10/Oct/2000:13:55:36 -0700 is 20:55:36Z (the Apache docs' example)
        assert_eq!(clf("10/Oct/2000:13:55:36 -0700"), Ok((971_211_336_000_000, -420)));
        assert_eq!(clf("31/May/2020:07:12:01 +0530").map(|t| t.1), Ok(330));
        assert_eq!(clf("01/Jan/2020:00:00:00 +1400").map(|t| t.1), Ok(840));
        assert_eq!(clf("01/Jan/2020:00:00:00 -0000"), clf("01/Jan/2020:00:00:00 +0000"));
        assert_eq!(clf("31/Dec/1969:23:59:59 +0000"), Ok((-1_000_000, 0)));
    }

    #[test]
    fn clf_time_is_validated() {
        assert_eq!(clf("29/Feb/2019:00:00:00 +0000").unwrap_err().0, ErrorKind::InvalidDate);
        assert!(clf("29/Feb/2020:00:00:00 +0000").is_ok());
        assert!(clf("29/Feb/2000:00:00:00 +0000").is_ok());
        assert_eq!(clf("29/Feb/1900:00:00:00 +0000").unwrap_err().0, ErrorKind::InvalidDate);
        assert_eq!(clf("31/Apr/2020:00:00:00 +0000").unwrap_err().0, ErrorKind::InvalidDate);
        assert_eq!(clf("00/Jan/2020:00:00:00 +0000").unwrap_err().0, ErrorKind::InvalidDate);
        assert_eq!(clf("10/Foo/2020:00:00:00 +0000").unwrap_err().0, ErrorKind::InvalidDate);
        assert_eq!(clf("10/Jan/2020:24:00:00 +0000").unwrap_err().0, ErrorKind::InvalidDate);
        assert_eq!(clf("10/Jan/2020:00:60:00 +0000").unwrap_err().0, ErrorKind::InvalidDate);
        assert_eq!(clf("10/Jan/2020:00:00:00 +2400").unwrap_err().0, ErrorKind::InvalidOffset);
        assert_eq!(clf("10/Jan/2020:00:00:00 +0060").unwrap_err().0, ErrorKind::InvalidOffset);
        assert_eq!(clf("10/Jan/2020:00:00:00 0000").unwrap_err().0, ErrorKind::InvalidTimestamp);
        assert_eq!(clf("10/Jan/2020 00:00:00 +0000").unwrap_err().0, ErrorKind::InvalidTimestamp);
        assert_eq!(clf("1/Jan/2020:00:00:00 +0000").unwrap_err().0, ErrorKind::InvalidTimestamp);
        assert_eq!(clf("aa/Jan/2020:00:00:00 +0000").unwrap_err().0, ErrorKind::InvalidTimestamp);
    }

    #[test]
    fn date_cache_does_not_leak_between_dates() {
        let cache = Cell::new(DateCache::default());
        let a = parse_clf_time(b"10/Oct/2000:13:55:36 -0700", &cache).unwrap();
        let b = parse_clf_time(b"10/Oct/2000:13:55:37 -0700", &cache).unwrap();
        assert_eq!(b.0 - a.0, 1_000_000);
        let c = parse_clf_time(b"11/Oct/2000:13:55:36 -0700", &cache).unwrap();
        assert_eq!(c.0 - a.0, 86_400_000_000);
        assert!(parse_clf_time(b"31/Feb/2000:13:55:36 -0700", &cache).is_err());
    }

    fn strf(fmt: &str, input: &str) -> Result<(Option<Timestamp>, usize), ErrorKind> {
        let items = compile_strftime(fmt).unwrap();
        let mut parts = TimeParts::default();
        let used = parse_strftime(&items, input.as_bytes(), &mut parts).map_err(|e| e.0)?;
        Ok((parts.finish()?, used))
    }

    #[test]
    fn strftime_subset() {
        let (t, used) = strf("%Y-%m-%dT%H:%M:%S%z", "2020-05-31T07:12:01+0200 rest").unwrap();
        assert_eq!(used, 24);
        assert_eq!(t.unwrap().to_string(), "2020-05-31T05:12:01Z");
        let (t, _) = strf("%d/%b/%Y %T", "31/May/2020 05:12:01").unwrap();
        assert_eq!(t.unwrap().to_string(), "2020-05-31T05:12:01Z");
        let (t, _) = strf("%a, %e %B %Y %I:%M %p", "Sun,  7 June 2020 01:30 PM").unwrap();
        assert_eq!(t.unwrap().to_string(), "2020-06-07T13:30:00Z");
        let (t, _) = strf("%F %R", "2020-02-29 23:59").unwrap();
        assert_eq!(t.unwrap().to_string(), "2020-02-29T23:59:00Z");
        let (t, _) = strf("%Y %j", "2020 366").unwrap();
        assert_eq!(t.unwrap().utc_date(), (2020, 12, 31));
        let (t, _) = strf("%s", "1590901921").unwrap();
        assert_eq!(t.unwrap().to_string(), "2020-05-31T05:12:01Z");
        assert_eq!(strf("%F", "2019-02-29").unwrap_err(), ErrorKind::InvalidDate);
        assert_eq!(strf("%F", "2019-13-01").unwrap_err(), ErrorKind::InvalidDate);
        assert_eq!(strf("%F", "2019/01/01").unwrap_err(), ErrorKind::InvalidTimestamp);
        assert_eq!(strf("%H:%M", "10:30").unwrap_err(), ErrorKind::InvalidTimestamp);
        assert_eq!(compile_strftime("%Y %Q"), Err((3, 'Q')));
    }

    #[test]
    fn timestamp_accessors_before_epoch() {
        let t = Timestamp::from_unix_micros(-1, 0);
        assert_eq!(t.utc_date(), (1969, 12, 31));
        assert_eq!(t.utc_hour(), 23);
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.999999Z");
    }
}
