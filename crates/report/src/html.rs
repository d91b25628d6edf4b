//! The static HTML page: inline CSS, inline SVG, no scripts, no external resources.

use std::fmt::Write;

use crate::{DayReport, Ranked};

const BLUE: &str = "#4878d0";
const RED: &str = "#d65f5f";

/// Text made safe for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters of `s`, with an ellipsis when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// Requests per hour (blue) with the 4xx + 5xx of each hour over them (red).
fn hourly_chart(r: &DayReport) -> String {
    let (w, h, left, bottom, top) = (960.0_f64, 280.0_f64, 60.0_f64, 30.0_f64, 20.0_f64);
    let max = r.hours.iter().map(|h| h.requests).max().unwrap_or(0).max(1) as f64;
    let slot = (w - left - 10.0) / 24.0;
    let plot = h - bottom - top;
    let mut s = format!(
        r#"<svg class="chart" id="hourly" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="requests per hour">"#
    );
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{top}" x2="{left}" y2="{y}" stroke="#888"/><line x1="{left}" y1="{y}" x2="{x2}" y2="{y}" stroke="#888"/>"##,
        y = h - bottom,
        x2 = w - 10.0
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="axis" text-anchor="end">{}</text>"#,
        left - 6.0,
        top + 4.0,
        thousands(max as i64)
    );
    let _ =
        write!(s, r#"<text x="{}" y="{}" class="axis" text-anchor="end">0</text>"#, left - 6.0, h - bottom);
    for hour in &r.hours {
        let x = left + slot * f64::from(hour.hour) + 2.0;
        let bh = plot * hour.requests as f64 / max;
        let errors = hour.status[2] + hour.status[3];
        let eh = plot * errors as f64 / max;
        let _ = write!(
            s,
            r#"<rect class="bar-hour" x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{BLUE}"><title>{:02}:00 UTC: {} requests</title></rect>"#,
            h - bottom - bh,
            slot - 4.0,
            hour.hour,
            hour.requests
        );
        let _ = write!(
            s,
            r#"<rect class="bar-error" x="{x:.1}" y="{:.1}" width="{:.1}" height="{eh:.1}" fill="{RED}"><title>{:02}:00 UTC: {errors} errors (4xx + 5xx)</title></rect>"#,
            h - bottom - eh,
            slot - 4.0,
            hour.hour
        );
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" class="axis" text-anchor="middle">{:02}</text>"#,
            x + (slot - 4.0) / 2.0,
            h - bottom + 16.0,
            hour.hour
        );
    }
    s.push_str("</svg>");
    s
}

/// A horizontal bar per row, longest first.
fn bar_chart(id: &str, rows: &[Ranked], extra: impl Fn(&Ranked) -> String) -> String {
    if rows.is_empty() {
        return r#"<p class="empty">no rows</p>"#.to_owned();
    }
    let (w, row_h, label_w) = (960.0_f64, 22.0_f64, 330.0_f64);
    let h = row_h * rows.len() as f64 + 10.0;
    let max = rows.iter().map(|r| r.requests).max().unwrap_or(1).max(1) as f64;
    let bar_w = w - label_w - 300.0;
    let mut s = format!(
        r#"<svg class="chart" id="{id}" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">"#
    );
    for (i, r) in rows.iter().enumerate() {
        let y = row_h * i as f64 + 5.0;
        let bw = (bar_w * r.requests as f64 / max).max(1.0);
        let name = esc(&clip(&r.name, 48));
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="label" text-anchor="end">{name}</text><rect class="bar-row" x="{label_w}" y="{y:.1}" width="{bw:.1}" height="{:.1}" fill="{BLUE}"><title>{}: {} requests</title></rect><text x="{:.1}" y="{:.1}" class="value">{}{}</text>"#,
            label_w - 8.0,
            y + 14.0,
            row_h - 6.0,
            esc(&r.name),
            r.requests,
            label_w + bw + 6.0,
            y + 14.0,
            thousands(r.requests),
            esc(&extra(r))
        );
    }
    s.push_str("</svg>");
    s
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}\
.totals{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}\
.totals div{border:1px solid #ddd;border-radius:6px;padding:8px 14px}\
.totals b{display:block;font-size:20px}\
.axis,.label,.value{font-size:12px;fill:#333}.empty,.note{color:#777}";

/// The page.
pub(crate) fn render(r: &DayReport) -> String {
    let date = r.date.map(|d| d.to_string()).unwrap_or_default();
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>loglake report {date}</title><style>{STYLE}</style></head><body>\n<h1>Access logs, {date} (UTC)</h1>\n"
    );
    let Some(t) = &r.totals else {
        let _ = writeln!(
            s,
            "<p class=\"empty\">No daily_traffic row for {date}: run etl-daily for the days whose logs hold {date}.</p></body></html>"
        );
        return s;
    };
    let opt = |x: Option<f64>, digits: usize| x.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"));
    let _ = writeln!(
        s,
        "<div class=\"totals\"><div id=\"total-requests\">requests<b>{}</b></div><div>bytes<b>{}</b></div><div>distinct clients<b>{}</b></div><div>error rate<b>{}</b></div><div>bytes p50 / p95<b>{} / {}</b></div></div>",
        thousands(t.requests),
        thousands(t.bytes),
        thousands(t.distinct_clients),
        t.error_rate.map_or_else(|| "-".to_owned(), |e| format!("{:.2}%", e * 100.0)),
        opt(t.bytes_p50, 0),
        opt(t.bytes_p95, 0)
    );
    s.push_str("<h2>Requests per hour (blue) and errors, 4xx + 5xx (red)</h2>\n");
    if r.hours.is_empty() {
        let _ = writeln!(s, "<p class=\"empty\">No hourly rows: run etl-hourly --date {date}.</p>");
    } else {
        s.push_str(&hourly_chart(r));
    }
    s.push_str("\n<h2>Status codes</h2>\n");
    s.push_str(&bar_chart("status", &r.statuses, |_| String::new()));
    s.push_str("\n<h2>Top paths</h2>\n");
    s.push_str(&bar_chart("paths", &r.paths, |p| {
        format!("  (4xx {}, 5xx {}, {} clients)", p.status_4xx, p.status_5xx, p.distinct_clients)
    }));
    s.push_str("\n<h2>Top browsers</h2>\n");
    s.push_str(&bar_chart("browsers", &r.browsers, |_| String::new()));
    s.push_str("\n<h2>Top referrers</h2>\n");
    s.push_str(&bar_chart("referrers", &r.referrers, |p| format!("  ({} clients)", p.distinct_clients)));
    s.push_str(
        "\n<p class=\"note\">From the lake's agg/ tables (loglake). UTC throughout.</p>\n</body></html>\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Hour, Totals};

    fn day() -> DayReport {
        DayReport {
            date: "2020-05-31".parse().ok(),
            totals: Some(Totals { requests: 1234567, bytes: 42, distinct_clients: 7, ..Totals::default() }),
            hours: (0..24)
                .map(|h| Hour {
                    hour: h,
                    requests: i64::from(h) * 10,
                    status: [5, 0, 2, 1],
                    ..Hour::default()
                })
                .collect(),
            paths: vec![Ranked {
                name: "/a?<script>alert(1)</script>".into(),
                requests: 9,
                ..Ranked::default()
            }],
            ..DayReport::default()
        }
    }

    #[test]
    fn page_is_self_contained_and_escapes_data() {
        let html = day().to_html();
        assert_eq!(html.matches("class=\"bar-hour\"").count(), 24);
        assert_eq!(html.matches("class=\"bar-error\"").count(), 24);
        assert!(html.contains("1,234,567"));
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));
        for external in ["src=", "href=", "@import", "url("] {
            assert!(!html.contains(external), "{external}");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(-1234), "-1,234");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(esc("a\"b'\u{1}"), "a&quot;b&#39;\u{fffd}");
        let empty = DayReport::default().to_html();
        assert!(empty.contains("No daily_traffic row"));
    }
}
