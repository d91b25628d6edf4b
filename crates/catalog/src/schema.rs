//! Table definitions: columns, types, partitioning — in our own types, so no other crate
//! sees arrow2.

use serde_json::json;

/// A column's type, restricted to what every engine maps cleanly (signed integers only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    /// Microseconds since the epoch, UTC: Parquet INT64 `TIMESTAMP(MICROS, isAdjustedToUTC=true)`.
    Timestamp,
    /// 16-bit signed integer.
    Int16,
    /// 32-bit signed integer.
    Int32,
    /// 64-bit signed integer.
    Int64,
    /// Boolean.
    Bool,
    /// UTF-8 text.
    Utf8,
    /// UTF-8 text with few distinct values, dictionary-encoded in Parquet.
    DictUtf8,
    /// Raw bytes.
    Binary,
    /// 64-bit float (ratios and percentiles of the aggregate tables).
    Float64,
}

impl ColumnType {
    /// The Spark / Delta type name.
    #[must_use]
    pub const fn spark_name(self) -> &'static str {
        match self {
            ColumnType::Timestamp => "timestamp",
            ColumnType::Int16 => "short",
            ColumnType::Int32 => "integer",
            ColumnType::Int64 => "long",
            ColumnType::Bool => "boolean",
            ColumnType::Utf8 | ColumnType::DictUtf8 => "string",
            ColumnType::Binary => "binary",
            ColumnType::Float64 => "double",
        }
    }
}

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Column {
    /// Name (snake case).
    pub name: &'static str,
    /// Type.
    pub ty: ColumnType,
    /// Whether it may be NULL.
    pub nullable: bool,
    /// What it holds (docs/data-model.md is generated from the same words).
    pub doc: &'static str,
}

const fn col(name: &'static str, ty: ColumnType, nullable: bool, doc: &'static str) -> Column {
    Column { name, ty, nullable, doc }
}

/// How a table's files are partitioned (Hive style, UTC event time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Partitioning {
    /// `dt=YYYY-MM-DD/`.
    Day,
    /// `dt=YYYY-MM-DD/hour=HH/`.
    DayHour,
}

impl Partitioning {
    /// The partition columns, in path order.
    #[must_use]
    pub const fn columns(self) -> &'static [&'static str] {
        match self {
            Partitioning::Day => &["dt"],
            Partitioning::DayHour => &["dt", "hour"],
        }
    }
}

/// A table of the lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableDef {
    /// Path under the lake root, e.g. `curated/access_logs`.
    pub path: &'static str,
    /// Short name for SQL (`access_logs`).
    pub name: &'static str,
    /// What a row is.
    pub doc: &'static str,
    /// Data columns (partition columns live only in paths).
    pub columns: &'static [Column],
    /// Partitioning.
    pub partitioning: Partitioning,
    /// Rows are sorted by this column inside each file, when set.
    pub sort_by: Option<&'static str>,
}

use ColumnType as T;

/// `curated/access_logs`: one row per parsed request.
pub const ACCESS_LOGS: TableDef = TableDef {
    path: "curated/access_logs",
    name: "access_logs",
    doc: "One row per parsed request line, partitioned by the UTC date and hour of the request.",
    columns: &[
        col(
            "ts",
            T::Timestamp,
            true,
            "time of the request, UTC (from %t; NULL only for formats without a time)",
        ),
        col(
            "tz_offset_minutes",
            T::Int16,
            true,
            "zone offset the line was written in, minutes east of UTC (+0530 is 330)",
        ),
        col(
            "client",
            T::Utf8,
            true,
            "client address field as written (%a/%h): an IP or a host name; anonymized like client_ip with --anonymize-ip",
        ),
        col(
            "client_ip",
            T::Utf8,
            true,
            "client IP in canonical text (IPv4 or IPv6, zone dropped); NULL for host names; with --anonymize-ip the /24 or /48 network, or a 32-hex keyed hash",
        ),
        col("ident", T::Utf8, true, "identd logname (%l); NULL for '-'"),
        col("user", T::Utf8, true, "authenticated user (%u); NULL for '-'"),
        col("method", T::DictUtf8, true, "request method; NULL when the request line is not a valid request"),
        col(
            "path",
            T::Utf8,
            true,
            "request path without the query string (escapes undone, percent-encoding kept)",
        ),
        col("query", T::Utf8, true, "query string without '?'; NULL when there is no '?'"),
        col("protocol", T::DictUtf8, true, "protocol, e.g. HTTP/1.1"),
        col(
            "request_raw",
            T::Utf8,
            true,
            "the raw request line when it is not a valid request ('-', TLS bytes, junk); else NULL",
        ),
        col("status", T::Int16, true, "final HTTP status; NULL for '-'"),
        col("status_class", T::DictUtf8, true, "'1xx'..'5xx'; NULL without a status"),
        col("bytes", T::Int64, true, "response size without headers; NULL for '-' (never 0 for '-')"),
        col(
            "duration_us",
            T::Int64,
            true,
            "time to serve the request, microseconds (%D/%T); NULL when not logged",
        ),
        col("referrer", T::DictUtf8, true, "Referer header; NULL for '-'"),
        col("referrer_host", T::DictUtf8, true, "host part of the referrer URL; NULL when none"),
        col("user_agent", T::DictUtf8, true, "User-Agent header; NULL for '-'"),
        col("ua_browser", T::DictUtf8, true, "browser family from the user agent"),
        col("ua_os", T::DictUtf8, true, "operating system family from the user agent"),
        col("ua_device", T::DictUtf8, true, "device family from the user agent"),
        col("is_bot", T::Bool, true, "the user agent is a crawler, monitor or tool"),
        col("is_static", T::Bool, true, "the path is a static asset (css, js, images, fonts, ...)"),
        col("vhost", T::DictUtf8, true, "virtual host (%v, %V or the Host header) when logged"),
        col("source_object", T::DictUtf8, false, "raw object the line came from (s3://... or a path)"),
        col("source_line", T::Int64, false, "1-based line number in the decompressed source object"),
    ],
    partitioning: Partitioning::DayHour,
    sort_by: Some("ts"),
};

/// `curated/rejects`: every line that did not parse.
pub const REJECTS: TableDef = TableDef {
    path: "curated/rejects",
    name: "rejects",
    doc: "One row per line that did not parse, partitioned by the arrival date of its raw object.",
    columns: &[
        col("source_object", T::DictUtf8, false, "raw object the line came from"),
        col("source_line", T::Int64, false, "1-based line number in the decompressed source object"),
        col(
            "reason",
            T::DictUtf8,
            false,
            "stable reason code (empty_line, bad_date, truncated, ...; docs/parser.md)",
        ),
        col("byte_column", T::Int32, true, "0-based byte offset in the line where parsing stopped"),
        col("raw_line", T::Binary, false, "the line exactly as read (bytes, never lost to UTF-8 errors)"),
        col("raw_text", T::Utf8, false, "the line as text, invalid UTF-8 replaced by U+FFFD"),
    ],
    partitioning: Partitioning::Day,
    sort_by: None,
};

/// The columns of `agg/hourly_traffic` and `agg/daily_traffic`.
const TRAFFIC: &[Column] = &[
    col("period_start", T::Timestamp, false, "start of the hour (or day), UTC"),
    col("requests", T::Int64, false, "requests"),
    col("bytes", T::Int64, false, "sum of response bytes (requests with bytes '-' add nothing)"),
    col("status_1xx", T::Int64, false, "requests with a 1xx status"),
    col("status_2xx", T::Int64, false, "requests with a 2xx status"),
    col("status_3xx", T::Int64, false, "requests with a 3xx status"),
    col("status_4xx", T::Int64, false, "requests with a 4xx status"),
    col("status_5xx", T::Int64, false, "requests with a 5xx status"),
    col("error_rate", T::Float64, true, "(4xx + 5xx) / requests; NULL without requests"),
    col(
        "distinct_clients",
        T::Int64,
        false,
        "distinct client IPs (exact; over the whole period, not a sum of hours)",
    ),
    col("distinct_visitors", T::Int64, false, "distinct (client IP, user agent) pairs (exact)"),
    col("bot_requests", T::Int64, false, "requests whose user agent is a bot"),
    col("human_requests", T::Int64, false, "requests whose user agent is not a bot (or unknown)"),
    col("get_requests", T::Int64, false, "GET requests"),
    col("post_requests", T::Int64, false, "POST requests"),
    col("put_requests", T::Int64, false, "PUT requests"),
    col("delete_requests", T::Int64, false, "DELETE requests"),
    col("head_requests", T::Int64, false, "HEAD requests"),
    col("other_method_requests", T::Int64, false, "requests with another method"),
    col("invalid_requests", T::Int64, false, "requests whose request line was not a valid request"),
    col(
        "bytes_p50",
        T::Float64,
        true,
        "median response bytes (DDSketch, 1% relative error); NULL without sizes",
    ),
    col("bytes_p95", T::Float64, true, "95th percentile of response bytes (DDSketch, 1% relative error)"),
    col("bytes_p99", T::Float64, true, "99th percentile of response bytes (DDSketch, 1% relative error)"),
    col(
        "duration_p50_us",
        T::Float64,
        true,
        "median time to serve, µs (when the format logs %D/%T; else NULL)",
    ),
    col("duration_p95_us", T::Float64, true, "95th percentile time to serve, µs"),
    col("duration_p99_us", T::Float64, true, "99th percentile time to serve, µs"),
];

/// `agg/hourly_traffic`: one row per UTC hour.
pub const HOURLY_TRAFFIC: TableDef = TableDef {
    path: "agg/hourly_traffic",
    name: "hourly_traffic",
    doc: "One row per UTC hour: traffic, status mix, distinct clients, percentiles. An hour without requests has a row of zeros.",
    columns: TRAFFIC,
    partitioning: Partitioning::DayHour,
    sort_by: None,
};

/// `agg/daily_traffic`: one row per UTC day.
pub const DAILY_TRAFFIC: TableDef = TableDef {
    path: "agg/daily_traffic",
    name: "daily_traffic",
    doc: "One row per UTC day, the same measures as hourly_traffic; distinct counts are over the day.",
    columns: TRAFFIC,
    partitioning: Partitioning::Day,
    sort_by: None,
};

/// `agg/daily_top_paths`: the most requested paths of a day.
pub const DAILY_TOP_PATHS: TableDef = TableDef {
    path: "agg/daily_top_paths",
    name: "daily_top_paths",
    doc: "The top N paths of a UTC day by requests (default 1000), with their errors and clients.",
    columns: &[
        col("rank", T::Int32, false, "1 = most requested (ties by path)"),
        col("path", T::Utf8, true, "request path; NULL for invalid request lines"),
        col("requests", T::Int64, false, "requests"),
        col("bytes", T::Int64, false, "sum of response bytes"),
        col("status_4xx", T::Int64, false, "requests with a 4xx status"),
        col("status_5xx", T::Int64, false, "requests with a 5xx status"),
        col("distinct_clients", T::Int64, false, "distinct client IPs"),
    ],
    partitioning: Partitioning::Day,
    sort_by: None,
};

/// `agg/daily_status`: requests per status code.
pub const DAILY_STATUS: TableDef = TableDef {
    path: "agg/daily_status",
    name: "daily_status",
    doc: "Requests and bytes per HTTP status of a UTC day.",
    columns: &[
        col("status", T::Int16, true, "HTTP status; NULL for '-'"),
        col("requests", T::Int64, false, "requests"),
        col("bytes", T::Int64, false, "sum of response bytes"),
    ],
    partitioning: Partitioning::Day,
    sort_by: None,
};

/// `agg/daily_user_agents`: requests per browser / OS / device / bot.
pub const DAILY_USER_AGENTS: TableDef = TableDef {
    path: "agg/daily_user_agents",
    name: "daily_user_agents",
    doc: "Requests and distinct clients per browser, OS, device family and bot flag of a UTC day.",
    columns: &[
        col("ua_browser", T::DictUtf8, true, "browser family"),
        col("ua_os", T::DictUtf8, true, "operating system family"),
        col("ua_device", T::DictUtf8, true, "device family"),
        col("is_bot", T::Bool, true, "bot user agent"),
        col("requests", T::Int64, false, "requests"),
        col("distinct_clients", T::Int64, false, "distinct client IPs"),
    ],
    partitioning: Partitioning::Day,
    sort_by: None,
};

/// `agg/daily_referrers`: requests per referring host.
pub const DAILY_REFERRERS: TableDef = TableDef {
    path: "agg/daily_referrers",
    name: "daily_referrers",
    doc: "Requests and distinct clients per referrer host of a UTC day (NULL: no referrer).",
    columns: &[
        col("referrer_host", T::Utf8, true, "host of the Referer URL; NULL when none"),
        col("requests", T::Int64, false, "requests"),
        col("distinct_clients", T::Int64, false, "distinct client IPs"),
    ],
    partitioning: Partitioning::Day,
    sort_by: None,
};

/// Every table the catalog knows.
pub const TABLES: &[TableDef] = &[
    ACCESS_LOGS,
    REJECTS,
    HOURLY_TRAFFIC,
    DAILY_TRAFFIC,
    DAILY_TOP_PATHS,
    DAILY_STATUS,
    DAILY_USER_AGENTS,
    DAILY_REFERRERS,
];

/// A table by SQL name (`access_logs`) or path (`curated/access_logs`).
#[must_use]
pub fn table_by_name(name: &str) -> Option<&'static TableDef> {
    let name = name.trim_matches('/');
    TABLES.iter().find(|t| t.name == name || t.path == name)
}

impl TableDef {
    /// Index of a data column by name.
    #[must_use]
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The Spark schema JSON (data columns then partition columns), as Delta's `schemaString`.
    #[must_use]
    pub fn spark_schema_json(&self) -> String {
        let mut fields: Vec<serde_json::Value> = self
            .columns
            .iter()
            .map(|c| json!({"name": c.name, "type": c.ty.spark_name(), "nullable": c.nullable, "metadata": {}}))
            .collect();
        fields.push(json!({"name": "dt", "type": "date", "nullable": false, "metadata": {}}));
        if self.partitioning == Partitioning::DayHour {
            fields.push(json!({"name": "hour", "type": "integer", "nullable": false, "metadata": {}}));
        }
        json!({"type": "struct", "fields": fields}).to_string()
    }
}

/// The data-model reference (docs/data-model.md), generated from the table definitions so the
/// documentation cannot drift from the code.
#[must_use]
pub fn data_model_markdown() -> String {
    let mut out = String::from(
        "# Data model\n\n<!-- generated from crates/catalog/src/schema.rs by `LOGLAKE_BLESS=1 cargo test -p \
         loglake-catalog --test docs`; do not edit by hand -->\n\n\
         Every table is Parquet files in Hive-style partitions under the lake root, with a Delta Lake \
         log in `_delta_log/`. Partition columns live only in paths (`dt=YYYY-MM-DD`, `hour=HH` \
         zero-padded, UTC event time), never inside files; Delta readers get them as `dt` DATE and \
         `hour` INT. Timestamps are INT64 `TIMESTAMP(MICROS, isAdjustedToUTC=true)`. Integers are \
         signed. NULL means absent (`-` in the log), never 0.\n",
    );
    for t in TABLES {
        let parts = t.partitioning.columns().join("`, `");
        out.push_str(&format!(
            "\n## `{}` (SQL name `{}`)\n\n{}\n\nPartitioned by `{parts}`{}.\n\n| column | type | nullable | meaning |\n|---|---|---|---|\n",
            t.path,
            t.name,
            t.doc,
            t.sort_by.map(|c| format!("; rows sorted by `{c}` inside each file")).unwrap_or_default()
        ));
        for c in t.columns {
            let ty = match c.ty {
                ColumnType::DictUtf8 => "string (dictionary-encoded)".to_owned(),
                other => other.spark_name().to_owned(),
            };
            out.push_str(&format!(
                "| `{}` | {ty} | {} | {} |\n",
                c.name,
                if c.nullable { "yes" } else { "no" },
                c.doc
            ));
        }
        out.push_str("| `dt` | date (partition) | no | UTC date of the partition |\n");
        if t.partitioning == Partitioning::DayHour {
            out.push_str(
                "| `hour` | int (partition) | no | UTC hour of the partition, 0-23 (path `hour=05`) |\n",
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_schema_json_has_every_column_and_partitions() {
        let v: serde_json::Value = serde_json::from_str(&ACCESS_LOGS.spark_schema_json()).unwrap();
        let fields = v["fields"].as_array().unwrap();
        assert_eq!(fields.len(), ACCESS_LOGS.columns.len() + 2);
        assert_eq!(fields[0], json!({"name": "ts", "type": "timestamp", "nullable": true, "metadata": {}}));
        assert_eq!(fields[fields.len() - 1]["name"], "hour");
        assert_eq!(fields[fields.len() - 2]["type"], "date");
        let rejects: serde_json::Value = serde_json::from_str(&REJECTS.spark_schema_json()).unwrap();
        assert_eq!(rejects["fields"].as_array().unwrap().last().unwrap()["name"], "dt");
    }

    #[test]
    fn names_are_unique_and_partition_columns_are_not_data_columns() {
        for t in TABLES {
            let mut names: Vec<_> = t.columns.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), t.columns.len(), "{}", t.path);
            for p in t.partitioning.columns() {
                assert!(t.column_index(p).is_none(), "{} stores partition column {p}", t.path);
            }
        }
    }
}
