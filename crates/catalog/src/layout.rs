//! Table paths and Hive-style partition keys.

use std::fmt;
use std::str::FromStr;

use loglake_storage::{ObjectKey, StorageError};

use crate::error::CatalogError;

/// Where raw access logs land, as uploaded, by arrival date.
pub const RAW_ACCESS_LOGS: &str = "raw/access_logs";

/// A UTC calendar date: the `dt=` partition value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

const fn days_in_month(year: u16, month: u8) -> u8 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Date {
    /// A validated date (`None` for 30 Feb and the like).
    #[must_use]
    pub const fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        if year < 1 || year > 9999 || month == 0 || month > 12 || day == 0 || day > days_in_month(year, month)
        {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Year, month (1-12), day (1-31).
    #[must_use]
    pub const fn ymd(self) -> (u16, u8, u8) {
        (self.year, self.month, self.day)
    }

    /// The date in a log file name: Fake-Apache-Log-Generator's `..._YYYYmmdd-HHMMSS...`, or
    /// `YYYY-MM-DD`, or `YYYYmmdd` on its own (the first one found, left to right).
    #[must_use]
    pub fn from_file_name(name: &str) -> Option<Self> {
        let b = name.as_bytes();
        let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        let num = |s: &[u8]| s.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        let boundary = |i: usize| i == 0 || !b[i - 1].is_ascii_digit();
        for i in 0..b.len() {
            if !boundary(i) {
                continue;
            }
            // YYYY-MM-DD
            if let Some(w) = b.get(i..i + 10) {
                if digits(&w[..4]) && w[4] == b'-' && digits(&w[5..7]) && w[7] == b'-' && digits(&w[8..10]) {
                    if let Some(d) = Self::from_parts(num(&w[..4]), num(&w[5..7]), num(&w[8..10])) {
                        return Some(d);
                    }
                }
            }
            // YYYYmmdd not followed by another digit
            if let Some(w) = b.get(i..i + 8) {
                let ends = b.get(i + 8).is_none_or(|c| !c.is_ascii_digit());
                if digits(w) && ends {
                    if let Some(d) = Self::from_parts(num(&w[..4]), num(&w[4..6]), num(&w[6..8])) {
                        return Some(d);
                    }
                }
            }
        }
        None
    }

    fn from_parts(y: u32, m: u32, d: u32) -> Option<Self> {
        Self::new(u16::try_from(y).ok()?, u8::try_from(m).ok()?, u8::try_from(d).ok()?)
    }
}

impl FromStr for Date {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || CatalogError::InvalidDate(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let n = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok()).ok_or_else(bad);
        Self::from_parts(n(0..4)?, n(5..7)?, n(8..10)?).ok_or_else(bad)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// `raw/access_logs/dt=YYYY-MM-DD/`: the prefix of one arrival day.
#[must_use]
pub fn raw_partition_prefix(date: Date) -> String {
    format!("{RAW_ACCESS_LOGS}/dt={date}/")
}

/// The key of a raw file uploaded for an arrival day.
///
/// # Errors
/// [`CatalogError::Storage`] when the file name cannot be a key segment (`..`, a `/`, ...).
pub fn raw_object_key(date: Date, file_name: &str) -> Result<ObjectKey, CatalogError> {
    if file_name.contains('/') {
        return Err(CatalogError::Storage(StorageError::InvalidKey {
            key: file_name.to_owned(),
            reason: "a file name may not contain '/'",
        }));
    }
    Ok(ObjectKey::new(format!("{RAW_ACCESS_LOGS}/dt={date}/{file_name}"))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_validate() {
        let d: Date = "2020-02-29".parse().unwrap();
        assert_eq!(d.to_string().parse::<Date>().unwrap(), d);
        for bad in ["2019-02-29", "2020-13-01", "2020-1-01", "20200101", "2020-00-10", "x"] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_in_file_names() {
        let got = |n: &str| Date::from_file_name(n).map(|d| d.to_string());
        assert_eq!(got("access_log_20200531-125656.log").as_deref(), Some("2020-05-31"));
        assert_eq!(got("web1_access_log_20200531-125656.log.gz").as_deref(), Some("2020-05-31"));
        assert_eq!(got("access-2021-01-02.log").as_deref(), Some("2021-01-02"));
        assert_eq!(got("access.log.20221130.gz").as_deref(), Some("2022-11-30"));
        assert_eq!(got("access.log"), None);
        assert_eq!(got("x_20201340-000000.log"), None, "not a real date");
        assert_eq!(got("id123456789.log"), None, "nine digits are not a date");
    }

    #[test]
    fn raw_keys() {
        let d: Date = "2020-05-31".parse().unwrap();
        assert_eq!(raw_partition_prefix(d), "raw/access_logs/dt=2020-05-31/");
        assert!(raw_object_key(d, "../x").is_err());
        assert!(raw_object_key(d, "a/b").is_err());
    }
}
