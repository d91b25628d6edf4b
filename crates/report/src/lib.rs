//! What an analyst sees of one UTC day of the lake, read from the aggregate tables only (never
//! the curated rows): [`DayReport::load`], then [`DayReport::to_text`] (`lake show`) or
//! [`DayReport::to_html`] (`lake report`: one static HTML file with inline SVG charts, no
//! scripts, fonts or anything else fetched — what people otherwise open GoAccess for).

mod html;

use loglake_catalog::{
    CatalogError, ColumnValues, Date, PartitionKey, Partitioning, ScanOptions, Table, TableDef,
    DAILY_REFERRERS, DAILY_STATUS, DAILY_TOP_PATHS, DAILY_TRAFFIC, DAILY_USER_AGENTS, HOURLY_TRAFFIC,
};
use loglake_storage::Store;

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Reading an aggregate table failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// The day's totals (`agg/daily_traffic`).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Totals {
    /// Requests.
    pub requests: i64,
    /// Response bytes.
    pub bytes: i64,
    /// Distinct client IPs over the day.
    pub distinct_clients: i64,
    /// 4xx + 5xx share of requests.
    pub error_rate: Option<f64>,
    /// Median response bytes.
    pub bytes_p50: Option<f64>,
    /// 95th percentile of response bytes.
    pub bytes_p95: Option<f64>,
}

/// One hour (`agg/hourly_traffic`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hour {
    /// UTC hour, 0-23.
    pub hour: u8,
    /// Requests.
    pub requests: i64,
    /// Requests by status class 2xx, 3xx, 4xx, 5xx.
    pub status: [i64; 4],
    /// Distinct client IPs.
    pub distinct_clients: i64,
    /// Requests from bots.
    pub bot_requests: i64,
}

/// One row of a top list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ranked {
    /// What is counted (path, status, browser, referrer host); `-` for NULL.
    pub name: String,
    /// Requests.
    pub requests: i64,
    /// 4xx responses (paths only, else 0).
    pub status_4xx: i64,
    /// 5xx responses (paths only, else 0).
    pub status_5xx: i64,
    /// Distinct client IPs (0 for statuses).
    pub distinct_clients: i64,
}

/// One UTC day as the aggregate tables hold it.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct DayReport {
    /// The day.
    pub date: Option<Date>,
    /// `None` when the daily tables have no row for the day.
    pub totals: Option<Totals>,
    /// The hours `agg/hourly_traffic` holds, in order (empty before `etl-hourly` ran).
    pub hours: Vec<Hour>,
    /// Status codes by requests, most first.
    pub statuses: Vec<Ranked>,
    /// Top paths by requests.
    pub paths: Vec<Ranked>,
    /// Browser families (bots marked) by requests.
    pub browsers: Vec<Ranked>,
    /// Referrer hosts by requests (no referrer left out).
    pub referrers: Vec<Ranked>,
}

/// Every row of a table's partition(s) for `date`: the requested columns as [`Cell`]s, plus
/// the hour of hourly partitions.
fn read(
    store: &Store,
    def: &'static TableDef,
    date: Date,
    columns: &[&str],
) -> Result<Vec<(u8, Vec<Cell>)>, ReportError> {
    let table = Table::new(store, def);
    let snap = table.snapshot()?;
    let parts: Vec<PartitionKey> = match def.partitioning {
        Partitioning::Day => vec![PartitionKey::day(date)],
        _ => (0..24).filter_map(|h| PartitionKey::hour(date, h)).collect(),
    };
    let opts = ScanOptions::columns(columns.iter().copied()).in_partitions(parts);
    let mut rows = Vec::new();
    table.scan(&snap, &opts, |g| {
        for i in 0..g.rows {
            rows.push((g.partition.hour.unwrap_or(0), g.columns.iter().map(|c| Cell::of(c, i)).collect()));
        }
        Ok(())
    })?;
    Ok(rows)
}

/// One value read back.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Null,
}

impl Cell {
    fn of(c: &ColumnValues, i: usize) -> Cell {
        c.int(i)
            .map(Cell::Int)
            .or_else(|| c.float(i).map(Cell::Float))
            .or_else(|| c.str(i).map(|s| Cell::Text(s.to_owned())))
            .or_else(|| c.bool(i).map(Cell::Bool))
            .unwrap_or(Cell::Null)
    }
    fn int(&self) -> i64 {
        match self {
            Cell::Int(i) => *i,
            _ => 0,
        }
    }
    fn float(&self) -> Option<f64> {
        match self {
            Cell::Float(f) => Some(*f),
            _ => None,
        }
    }
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            _ => "-".to_owned(),
        }
    }
}

fn ranked(name: String, requests: i64, clients: i64) -> Ranked {
    Ranked { name, requests, distinct_clients: clients, ..Ranked::default() }
}

impl DayReport {
    /// Reads the day from the hourly and daily aggregate tables; `top` bounds each top list.
    ///
    /// # Errors
    /// Reading a table failed (the error names the file).
    pub fn load(store: &Store, date: Date, top: usize) -> Result<DayReport, ReportError> {
        let mut r = DayReport { date: Some(date), ..DayReport::default() };
        let cols = ["requests", "bytes", "distinct_clients", "error_rate", "bytes_p50", "bytes_p95"];
        r.totals = read(store, &DAILY_TRAFFIC, date, &cols)?.first().map(|(_, c)| Totals {
            requests: c[0].int(),
            bytes: c[1].int(),
            distinct_clients: c[2].int(),
            error_rate: c[3].float(),
            bytes_p50: c[4].float(),
            bytes_p95: c[5].float(),
        });
        let cols = [
            "requests",
            "status_2xx",
            "status_3xx",
            "status_4xx",
            "status_5xx",
            "distinct_clients",
            "bot_requests",
        ];
        r.hours = read(store, &HOURLY_TRAFFIC, date, &cols)?
            .into_iter()
            .map(|(hour, c)| Hour {
                hour,
                requests: c[0].int(),
                status: [c[1].int(), c[2].int(), c[3].int(), c[4].int()],
                distinct_clients: c[5].int(),
                bot_requests: c[6].int(),
            })
            .collect();
        r.hours.sort_by_key(|h| h.hour);
        r.statuses = read(store, &DAILY_STATUS, date, &["status", "requests"])?
            .into_iter()
            .map(|(_, c)| ranked(c[0].text(), c[1].int(), 0))
            .collect();
        let cols = ["rank", "path", "requests", "status_4xx", "status_5xx", "distinct_clients"];
        let mut paths = read(store, &DAILY_TOP_PATHS, date, &cols)?;
        paths.sort_by_key(|(_, c)| c[0].int());
        r.paths = paths
            .into_iter()
            .map(|(_, c)| Ranked {
                name: c[1].text(),
                requests: c[2].int(),
                status_4xx: c[3].int(),
                status_5xx: c[4].int(),
                distinct_clients: c[5].int(),
            })
            .collect();
        let mut browsers: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        for (_, c) in read(store, &DAILY_USER_AGENTS, date, &["ua_browser", "is_bot", "requests"])? {
            let bot = c[1] == Cell::Bool(true);
            let name = if bot { format!("{} (bot)", c[0].text()) } else { c[0].text() };
            *browsers.entry(name).or_default() += c[2].int();
        }
        r.browsers = browsers.into_iter().map(|(b, n)| ranked(b, n, 0)).collect();
        r.referrers =
            read(store, &DAILY_REFERRERS, date, &["referrer_host", "requests", "distinct_clients"])?
                .into_iter()
                .filter(|(_, c)| c[0] != Cell::Null)
                .map(|(_, c)| ranked(c[0].text(), c[1].int(), c[2].int()))
                .collect();
        for list in [&mut r.statuses, &mut r.paths, &mut r.browsers, &mut r.referrers] {
            list.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.name.cmp(&b.name)));
            list.truncate(top);
        }
        Ok(r)
    }

    /// The day as terminal text (`lake show`).
    #[must_use]
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let date = self.date.map(|d| d.to_string()).unwrap_or_default();
        let Some(t) = &self.totals else {
            return format!(
                "no daily_traffic row for {date}: run etl-daily for the days whose logs hold {date}\n"
            );
        };
        let mut s = String::new();
        let f = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
        let _ = writeln!(s, "== {date} (UTC)");
        let _ = writeln!(
            s,
            "requests {}  bytes {}  distinct clients {}  error rate {}  bytes p50 {} p95 {}\n",
            t.requests,
            t.bytes,
            t.distinct_clients,
            f(t.error_rate),
            f(t.bytes_p50),
            f(t.bytes_p95)
        );
        if self.hours.is_empty() {
            let _ = writeln!(s, "(no hourly rows: run etl-hourly --date {date})\n");
        } else {
            let _ = writeln!(s, "hour  requests      2xx    3xx    4xx    5xx  clients   bots");
            let max = self.hours.iter().map(|h| h.requests).max().unwrap_or(1).max(1);
            for h in &self.hours {
                let bar = "#".repeat(usize::try_from(h.requests * 30 / max).unwrap_or(0));
                let [s2, s3, s4, s5] = h.status;
                let _ = writeln!(
                    s,
                    "{:>4} {:>9} {s2:>8} {s3:>6} {s4:>6} {s5:>6} {:>8} {:>6}  {bar}",
                    format!("{:02}", h.hour),
                    h.requests,
                    h.distinct_clients,
                    h.bot_requests
                );
            }
            s.push('\n');
        }
        let mix: Vec<String> = self.statuses.iter().map(|r| format!("{} {}", r.name, r.requests)).collect();
        let _ = writeln!(s, "status mix: {}\n", mix.join(", "));
        let _ = writeln!(s, "top paths                                   requests    4xx    5xx  clients");
        for p in &self.paths {
            let _ = writeln!(
                s,
                "{:<42} {:>9} {:>6} {:>6} {:>8}",
                p.name, p.requests, p.status_4xx, p.status_5xx, p.distinct_clients
            );
        }
        let b: Vec<String> = self.browsers.iter().map(|r| format!("{} {}", r.name, r.requests)).collect();
        let _ = writeln!(s, "\ntop browsers: {}", b.join(", "));
        let r: Vec<String> = self.referrers.iter().map(|r| format!("{} {}", r.name, r.requests)).collect();
        let _ = writeln!(s, "top referrers: {}", r.join(", "));
        s
    }

    /// The day as one self-contained HTML page (inline CSS and SVG; nothing is fetched).
    #[must_use]
    pub fn to_html(&self) -> String {
        html::render(self)
    }
}
