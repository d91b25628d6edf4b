//! `lake report`: the HTML page of a day built by the real jobs, checked as text and rendered by
//! headless Chromium (Debian's `chromium`; `scripts/test.sh` installs it, and with
//! `LOGLAKE_REQUIRE_CHROMIUM=1` a missing browser fails the test instead of skipping the render).
#![allow(clippy::print_stderr, reason = "says why the render is skipped")]

use std::process::{Command, Output};

use loglake_testkit::TempDir;

mod common;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
}

#[test]
fn report_page_has_the_charts_and_renders() {
    let dir = TempDir::new();
    let date = common::lake(&dir.0);
    let out = dir.0.join("report.html");
    let run = loglake_testkit::cli_command(env!("CARGO_BIN_EXE_lake"))
        .args(["report", "--lake", &dir.0.display().to_string(), "--date", &date.to_string()])
        .args(["--out", &out.display().to_string()])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run));
    let html = std::fs::read_to_string(&out).unwrap();
    let hours = html.matches("class=\"bar-hour\"").count();
    assert!((1..=24).contains(&hours), "{hours} hourly bars");
    for id in ["hourly", "status", "paths", "browsers", "referrers"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "chart {id} missing");
    }
    assert!(html.matches("class=\"bar-row\"").count() >= 5);
    for external in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(external), "the page must be self-contained: found {external}");
    }

    // the day without rows: a page that says so, and exit 1
    let empty = loglake_testkit::cli_command(env!("CARGO_BIN_EXE_lake"))
        .args(["report", "--lake", &dir.0.display().to_string(), "--date", "1999-01-01"])
        .args(["--out", &dir.0.join("empty.html").display().to_string()])
        .output()
        .unwrap();
    assert_eq!(empty.status.code(), Some(1), "{}", text(&empty));

    let Some(browser) = chromium() else {
        assert!(std::env::var_os("LOGLAKE_REQUIRE_CHROMIUM").is_none(), "chromium is required but missing");
        eprintln!("skipping the render: no chromium on PATH (scripts/test.sh installs it)");
        return;
    };
    let shot = dir.0.join("shot.png");
    let render = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,1400"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", out.display()))
        .output()
        .unwrap();
    assert!(render.status.success() && shot.exists(), "{}", text(&render));
    let decoder = png::Decoder::new(std::fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()].chunks(channels);
    let (mut ink, mut blue, mut red, mut total) = (0u64, 0u64, 0u64, 0u64);
    for p in pixels {
        total += 1;
        let (r, g, b) = (i32::from(p[0]), i32::from(p[1]), i32::from(p[2]));
        ink += u64::from(r + g + b < 3 * 235);
        // the bar colours, #4878d0 and #d65f5f, with some anti-aliasing slack
        blue += u64::from((r - 0x48).abs() < 12 && (g - 0x78).abs() < 12 && (b - 0xd0).abs() < 12);
        red += u64::from((r - 0xd6).abs() < 12 && (g - 0x5f).abs() < 12 && (b - 0x5f).abs() < 12);
    }
    assert!(ink * 100 > total * 3, "the page looks blank: {ink} of {total} pixels drawn");
    assert!(blue > 5_000, "bars not drawn: {blue} blue pixels");
    assert!(red > 100, "error bars not drawn: {red} red pixels");
}
