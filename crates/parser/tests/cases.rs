//! Named cases: one `#[test]` per sample line and what it must parse to (httparse style).

use loglake_parser::{ErrorKind, LogFormat, Parser, ParserConfig, Preset};

fn combined() -> Parser {
    Parser::preset(Preset::Combined)
}

/// `ok!(name, parser, line, |record| { assertions })`
macro_rules! ok {
    ($name:ident, $parser:expr, $line:expr, |$r:ident| $body:block) => {
        #[test]
        fn $name() {
            let parser = $parser;
            let line: &[u8] = $line;
            let $r = match parser.parse_line(line) {
                Ok(r) => r,
                Err(e) => panic!("{}: {e} ({})", String::from_utf8_lossy(line), e.code()),
            };
            $body
        }
    };
}

/// `err!(name, parser, line, kind, column)`
macro_rules! err {
    ($name:ident, $parser:expr, $line:expr, $kind:expr, $column:expr) => {
        #[test]
        fn $name() {
            let parser = $parser;
            let e = parser.parse_line($line).expect_err("line must be rejected");
            assert_eq!((e.kind(), e.column()), ($kind, $column), "{e}");
        }
    };
}

// ---------------------------------------------------------------- presets

ok!(
    common_line,
    Parser::preset(Preset::Common),
    br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
    |r| {
        assert_eq!(r.remote_host().as_deref(), Some("127.0.0.1"));
        assert_eq!(r.ident(), None);
        assert_eq!(r.user().as_deref(), Some("frank"));
        assert_eq!(r.time().unwrap().to_string(), "2000-10-10T20:55:36Z");
        assert_eq!(r.time().unwrap().offset_minutes(), -420);
        assert_eq!(r.method(), Some("GET"));
        assert_eq!(r.path().as_deref(), Some("/apache_pb.gif"));
        assert_eq!(r.query(), None);
        assert_eq!(r.protocol(), Some("HTTP/1.0"));
        assert_eq!(r.status(), Some(200));
        assert_eq!(r.response_bytes(), Some(2326));
        assert_eq!(r.referer(), None);
        assert_eq!(r.user_agent(), None);
    }
);

ok!(combined_line, combined(),
    br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#, |r| {
    assert_eq!(r.referer().as_deref(), Some("http://www.example.com/start.html"));
    assert_eq!(r.user_agent().as_deref(), Some("Mozilla/4.08 [en] (Win98; I ;Nav)"));
    assert_eq!(r.field_count(), 9);
    assert_eq!(r.field(3), Some(&b"[10/Oct/2000:13:55:36 -0700]"[..]));
});

ok!(
    vhost_common_line,
    Parser::preset(Preset::VhostCommon),
    br#"www.example.com 192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 304 -"#,
    |r| {
        assert_eq!(r.vhost().as_deref(), Some("www.example.com"));
        assert_eq!(r.response_bytes(), None);
    }
);

ok!(vhost_combined_line, Parser::preset(Preset::VhostCombined),
    br#"www.crowdsec11.net:80 192.168.1.1 - - [08/Jun/2020:08:04:43 +0000] "GET /test/uppercase/extensions.JPG HTTP/1.1" 301 0 "-" "Mozilla/5.0""#, |r| {
    assert_eq!(r.vhost().as_deref(), Some("www.crowdsec11.net"));
    assert_eq!(r.port(), Some(80));
    assert_eq!(r.bytes_sent(), Some(0));
    assert_eq!(r.response_bytes(), None);
});

ok!(
    combinedio_line,
    Parser::preset(Preset::CombinedIo),
    br#"10.0.0.1 - - [01/Jan/2021:00:00:00 +0000] "POST /api HTTP/1.1" 201 17 "-" "curl/8.4.0" 512 734"#,
    |r| {
        assert_eq!((r.bytes_received(), r.bytes_sent()), (Some(512), Some(734)));
    }
);

// ---------------------------------------------------------------- oddities

ok!(escaped_quote_never_ends_a_field, combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET /q?x=\"a b\" HTTP/1.1" 200 1 "-" "Agent \"quoted\" \\""#, |r| {
    assert_eq!(r.query().as_deref(), Some(r#"x="a b""#));
    assert_eq!(r.user_agent().as_deref(), Some(r#"Agent "quoted" \"#));
    assert_eq!(r.user_agent_bytes(), Some(&br#"Agent \"quoted\" \\"#[..]));
});

// A bare quote followed by a space ends the last quoted field (so extra trailing fields are
// seen as such); servers other than Apache may leave quotes unescaped, and such lines are
// rejected in strict mode, not silently merged.
err!(
    unescaped_quote_then_space_ends_the_last_field,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "Mozilla "odd" agent""#,
    ErrorKind::TrailingData,
    82
);

// Inside a middle field, a bare quote ends the field when the closing literal (`" ` for `%r`)
// follows it; there is no backtracking, so this line is a reject (the reference regex rejects
// it too), never a silently shifted record.
err!(
    unescaped_quote_then_space_inside_the_request,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET /"x" HTTP/1.1" 200 1 "-" "ua""#,
    ErrorKind::InvalidStatus,
    51
);

ok!(
    unescaped_quote_not_followed_by_the_separator_is_kept,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET /a"b HTTP/1.1" 200 1 "-" "ua""#,
    |r| {
        assert_eq!(r.path().as_deref(), Some(r#"/a"b"#));
    }
);

ok!(
    tls_handshake_request_is_a_record,
    combined(),
    br#"45.1.2.3 - - [10/Oct/2000:13:55:36 +0000] "\x16\x03\x01\x00\xa5\x01" 400 226 "-" "-""#,
    |r| {
        assert!(!r.is_valid_request());
        assert_eq!((r.method(), r.path(), r.protocol()), (None, None, None));
        assert_eq!(r.request_bytes(), Some(&br"\x16\x03\x01\x00\xa5\x01"[..]));
        assert_eq!(r.request().unwrap().as_bytes()[..3], [0x16, 0x03, 0x01]);
        assert_eq!(r.status(), Some(400));
    }
);

ok!(
    dash_request_is_a_record,
    combined(),
    br#"::1 - - [26/Dec/2016:16:16:28 +0200] "-" 408 - "-" "-""#,
    |r| {
        assert!(!r.is_valid_request());
        assert_eq!(r.request().as_deref(), Some("-"));
        assert_eq!(r.response_bytes(), None);
        assert_eq!(r.client_ip(), Some("::1".parse().unwrap()));
    }
);

ok!(
    empty_request_is_a_record,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "" 400 0 "-" "-""#,
    |r| {
        assert!(!r.is_valid_request());
        assert_eq!(r.request().as_deref(), Some(""));
    }
);

ok!(
    request_without_protocol_is_invalid_but_kept,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET /index.html" 200 5 "-" "-""#,
    |r| {
        assert!(!r.is_valid_request());
        assert_eq!(r.request().as_deref(), Some("GET /index.html"));
    }
);

ok!(
    http2_without_minor_version,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/2" 200 5 "-" "-""#,
    |r| {
        assert_eq!(r.protocol(), Some("HTTP/2"));
    }
);

ok!(
    ipv6_with_zone,
    combined(),
    br#"fe80::1%eth0 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "-""#,
    |r| {
        assert_eq!(r.client_ip(), Some("fe80::1".parse().unwrap()));
        assert_eq!(r.remote_host().as_deref(), Some("fe80::1%eth0"));
    }
);

ok!(
    hostname_client_is_text,
    combined(),
    br#"monitoring-server - - [29/May/2017:19:02:48 +0000] "GET /status HTTP/1.1" 200 612 "-" "-""#,
    |r| {
        assert_eq!(r.client_ip(), None);
        assert_eq!(r.remote_host().as_deref(), Some("monitoring-server"));
    }
);

ok!(
    invalid_utf8_is_kept_as_bytes_and_decoded_lossily,
    combined(),
    b"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] \"GET /caf\xe9 HTTP/1.1\" 200 5 \"-\" \"bot\xff\xfe\"",
    |r| {
        assert_eq!(r.path_bytes(), Some(&b"/caf\xe9"[..]));
        assert_eq!(r.path().as_deref(), Some("/caf\u{fffd}"));
        assert_eq!(r.user_agent().as_deref(), Some("bot\u{fffd}\u{fffd}"));
    }
);

ok!(
    nul_bytes_inside_a_quoted_field,
    combined(),
    b"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] \"GET /a\x00b HTTP/1.1\" 200 5 \"-\" \"x\"",
    |r| {
        assert_eq!(r.path_bytes(), Some(&b"/a\x00b"[..]));
    }
);

ok!(
    crlf_line_ending_is_ignored,
    combined(),
    b"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"x\"\r\n",
    |r| {
        assert_eq!(r.user_agent().as_deref(), Some("x"));
    }
);

ok!(
    status_dash_is_absent,
    combined(),
    br#"172.17.0.1 - - [08/Dec/2021:09:16:05 +0000] "GET / HTTP/1.1" - - "-" "-""#,
    |r| {
        assert_eq!((r.status(), r.response_bytes()), (None, None));
    }
);

ok!(
    time_before_1970_and_far_future,
    Parser::preset(Preset::Common),
    br#"1.2.3.4 - - [01/Jan/1901:00:00:00 -1200] "GET / HTTP/1.1" 200 5"#,
    |r| {
        assert_eq!(r.time().unwrap().to_string(), "1901-01-01T12:00:00Z");
        assert!(r.time().unwrap().unix_micros() < 0);
    }
);

ok!(
    offset_plus_1400,
    Parser::preset(Preset::Common),
    br#"1.2.3.4 - - [01/Jan/2020:10:00:00 +1400] "GET / HTTP/1.1" 200 5"#,
    |r| {
        assert_eq!(r.time().unwrap().to_string(), "2019-12-31T20:00:00Z");
        assert_eq!(r.time().unwrap().offset_minutes(), 840);
    }
);

ok!(
    offset_plus_0530,
    Parser::preset(Preset::Common),
    br#"1.2.3.4 - - [01/Jan/2020:05:30:00 +0530] "GET / HTTP/1.1" 200 5"#,
    |r| {
        assert_eq!(r.time().unwrap().to_string(), "2020-01-01T00:00:00Z");
    }
);

#[test]
fn into_owned_outlives_the_buffer() {
    let parser = combined();
    let owned = {
        let buf = br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET /o HTTP/1.1" 200 5 "-" "x""#.to_vec();
        parser.parse_line(&buf).unwrap().into_owned()
    };
    assert_eq!(owned.path().as_deref(), Some("/o"));
}

#[test]
fn text_fields_borrow_when_unchanged_and_decode_each_field_alone() {
    use std::borrow::Cow;
    let parser = combined();
    // valid UTF-8 throughout: fields without escapes borrow the line, escapes are undone
    let line = "192.0.2.1 - bob [10/Oct/2000:13:55:36 +0000] \"GET /caf\u{e9}?q=\u{fc} HTTP/1.1\" 200 5 \"http://r/\" \"say \\\"hi\\\" \u{2603}\"";
    let r = parser.parse_line(line.as_bytes()).unwrap();
    assert!(matches!(r.path(), Some(Cow::Borrowed("/caf\u{e9}"))), "{:?}", r.path());
    assert!(matches!(r.query(), Some(Cow::Borrowed("q=\u{fc}"))));
    assert!(matches!(r.referer(), Some(Cow::Borrowed("http://r/"))));
    assert!(matches!(r.remote_host(), Some(Cow::Borrowed("192.0.2.1"))));
    assert_eq!((r.method(), r.protocol(), r.user().as_deref()), (Some("GET"), Some("HTTP/1.1"), Some("bob")));
    assert!(matches!(r.user_agent(), Some(Cow::Owned(ref s)) if s == "say \"hi\" \u{2603}"));
    // one invalid byte in the user agent: every other field still decodes exactly, and only
    // the bad field is lossy
    let mut bad = line.replace("\\\"hi\\\" ", "").into_bytes();
    let at = bad.len() - 2;
    bad[at] = 0xff;
    let r = parser.parse_line(&bad).unwrap();
    assert_eq!(r.path().as_deref(), Some("/caf\u{e9}"));
    assert_eq!(r.query().as_deref(), Some("q=\u{fc}"));
    assert_eq!((r.method(), r.protocol()), (Some("GET"), Some("HTTP/1.1")));
    assert_eq!(r.request().as_deref(), Some("GET /caf\u{e9}?q=\u{fc} HTTP/1.1"));
    let ua = r.user_agent().unwrap();
    assert!(ua.starts_with("say ") && ua.contains('\u{fffd}'), "{ua:?}");
    // an owned record gives the same text
    let fresh = parser.parse_line(line.as_bytes()).unwrap();
    let owned = fresh.clone().into_owned();
    assert_eq!((owned.path(), owned.user_agent()), (fresh.path(), fresh.user_agent()));
}

#[test]
fn records_are_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<loglake_parser::LogRecord<'static>>();
}

// ---------------------------------------------------------------- rejects

err!(empty_line, combined(), b"", ErrorKind::EmptyLine, 0);
err!(cr_only_line, combined(), b"\r\n", ErrorKind::EmptyLine, 0);
err!(
    truncated_line,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5"#,
    ErrorKind::Truncated,
    63
);
err!(
    unterminated_user_agent,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0 (compat"#,
    ErrorKind::UnterminatedQuote,
    68
);
err!(
    thirtieth_of_february,
    combined(),
    br#"1.2.3.4 - - [30/Feb/2020:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "-""#,
    ErrorKind::InvalidDate,
    13
);
err!(
    offset_2400,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +2400] "GET / HTTP/1.1" 200 5 "-" "-""#,
    ErrorKind::InvalidOffset,
    34
);
err!(
    status_not_digits,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 2x0 5 "-" "-""#,
    ErrorKind::InvalidStatus,
    58
);
err!(
    status_four_digits,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 2000 5 "-" "-""#,
    ErrorKind::InvalidStatus,
    58
);
err!(
    bytes_with_sign,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 +5 "-" "-""#,
    ErrorKind::InvalidNumber,
    62
);
err!(
    bytes_overflow,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 99999999999999999999999 "-" "-""#,
    ErrorKind::InvalidNumber,
    62
);
err!(
    trailing_field_is_rejected_when_strict,
    combined(),
    br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" "-""#,
    ErrorKind::TrailingData,
    72
);
err!(
    missing_ident_field,
    combined(),
    br#"1.2.3.4 - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "-""#,
    ErrorKind::UnexpectedText,
    32
);
// "\0\x01\xfe\xff" reads as a host and "garbage" as the logname; then the line ends.
err!(binary_junk, combined(), b"\x00\x01\xfe\xff garbage", ErrorKind::Truncated, 12);
err!(
    empty_host,
    combined(),
    br#" - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "-""#,
    ErrorKind::EmptyField,
    0
);

#[test]
fn trailing_fields_allowed_when_asked() {
    let parser = ParserConfig::default().allow_trailing_fields(true).build();
    let r = parser
        .parse_line(br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" "-" 17ms"#)
        .unwrap();
    assert_eq!(r.user_agent().as_deref(), Some("ua"));
    assert_eq!(r.trailing(), Some(&br#""-" 17ms"#[..]));
}

#[test]
fn fallback_reports_the_error_that_got_furthest() {
    let parser = ParserConfig::default().fallback(LogFormat::preset(Preset::VhostCombined)).build();
    // combined fails at the status (column 59); vhost_combined fails early
    let e = parser
        .parse_line(br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 2x0 5 "-" "-""#)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidStatus);
}

// ---------------------------------------------------------------- custom formats

#[test]
fn custom_format_with_timing_headers_and_cookies() {
    let f = LogFormat::parse(
        r#"%a %{Host}i %u [%{%Y-%m-%dT%H:%M:%S}t.%{msec_frac}t %{%z}t] "%r" %>s %B %D %{ms}T "%{X-Forwarded-For}i" %{session}C %{HOME}e"#,
    )
    .unwrap();
    let parser = Parser::new(f.clone());
    let r = parser
        .parse_line(br#"2001:db8::7 shop.example - [2024-03-01T10:00:00.250 +0100] "GET /x?y HTTP/1.1" 200 0 1534 1 "10.0.0.1, 10.0.0.2" abc123 /root"#)
        .unwrap();
    assert_eq!(r.time().unwrap().to_string(), "2024-03-01T09:00:00.250000Z");
    assert_eq!(r.time().unwrap().offset_minutes(), 60);
    assert_eq!(r.vhost().as_deref(), Some("shop.example"));
    assert_eq!(r.response_bytes(), Some(0));
    // %D then %{ms}T: the later directive wins
    assert_eq!(r.duration_micros(), Some(1_000));
    assert_eq!(r.forwarded_for().as_deref(), Some("10.0.0.1, 10.0.0.2"));
    let names: Vec<_> = f.fields().map(|s| s.text.as_str()).collect();
    let cookie = names.iter().position(|n| *n == "%{session}C").unwrap();
    assert_eq!(r.field(cookie), Some(&b"abc123"[..]));
    assert_eq!(r.field(names.len() - 1), Some(&b"/root"[..]));
    assert_eq!(r.field(names.len()), None);
}

#[test]
fn epoch_time_formats() {
    let parser = Parser::new(LogFormat::parse("%{msec}t %h %>s").unwrap());
    let r = parser.parse_line(b"1590901921123 10.0.0.1 204").unwrap();
    assert_eq!(r.time().unwrap().to_string(), "2020-05-31T05:12:01.123000Z");
    let parser = Parser::new(LogFormat::parse("%{sec}t.%{usec_frac}t %h").unwrap());
    let r = parser.parse_line(b"1590901921.000042 10.0.0.1").unwrap();
    assert_eq!(r.time().unwrap().unix_micros(), 1_590_901_921_000_042);
    assert_eq!(parser.parse_line(b"1590901921.42 10.0.0.1").unwrap_err().kind(), ErrorKind::InvalidTimestamp);
}

#[test]
fn request_from_method_path_query_protocol() {
    let parser = Parser::new(LogFormat::parse(r#"%h "%m %U%q %H" %>s %X %k %P %L"#).unwrap());
    let r = parser.parse_line(br#"10.0.0.1 "PUT /items/7?force=1 HTTP/1.1" 204 + 3 4242 XyZ"#).unwrap();
    assert_eq!(r.method(), Some("PUT"));
    assert_eq!(r.path().as_deref(), Some("/items/7"));
    assert_eq!(r.query().as_deref(), Some("force=1"));
    assert_eq!(r.protocol(), Some("HTTP/1.1"));
    assert!(r.is_valid_request());
}

#[test]
fn conditional_fields_log_dash() {
    let parser =
        Parser::new(LogFormat::parse(r#"%h %!200,304{Referer}i %400,501{User-agent}i %>s"#).unwrap());
    let r = parser.parse_line(b"10.0.0.1 - - 200").unwrap();
    assert_eq!((r.referer(), r.user_agent()), (None, None));
}

#[test]
fn pasted_httpd_conf_line_parses_real_lines() {
    let parser = Parser::new(
        LogFormat::parse(
            r#"LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined"#,
        )
        .unwrap(),
    );
    assert!(parser
        .parse_line(br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "x""#)
        .is_ok());
}

#[test]
fn ssl_request_log_format() {
    // mod_ssl's default ssl_request_log format, with the beats fixture line
    let parser = Parser::new(LogFormat::parse(r#"%t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x \"%r\" %b"#).unwrap());
    let r = parser
        .parse_line(br#"[10/Aug/2018:09:45:56 +0200] 172.30.0.119 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 "GET /nagiosxi/ajaxhelper.php?cmd=getxicoreajax&amp;opts=x HTTP/1.1" 5264"#)
        .unwrap();
    assert_eq!(r.field(2), Some(&b"TLSv1.2"[..]));
    assert_eq!(r.response_bytes(), Some(5264));
}

#[test]
fn every_error_kind_has_a_distinct_code() {
    let codes: std::collections::BTreeSet<_> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
    assert_eq!(codes.len(), ErrorKind::ALL.len());
}
