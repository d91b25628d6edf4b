//! Arbitrary bytes through every preset: never a panic, errors inside the line, and parsing
//! is a pure function of the line (re-parsing the record's own line gives the same record).
#![no_main]

use libfuzzer_sys::fuzz_target;
use loglake_parser::{LogFormat, Parser, ParserConfig, Preset};

fuzz_target!(|data: &[u8]| {
    let parsers = [
        Parser::preset(Preset::Combined),
        ParserConfig::new(LogFormat::preset(Preset::VhostCombined))
            .fallback(LogFormat::preset(Preset::Common))
            .allow_trailing_fields(true)
            .build(),
        Parser::new(LogFormat::parse("%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t %a %U%q %D %{ms}T").unwrap()),
    ];
    for parser in &parsers {
        match parser.parse_line(data) {
            Ok(r) => {
                let again = parser.parse_line(r.line()).expect("a parsed line parses again");
                assert_eq!(again, r);
                let _ = (r.client_ip(), r.path(), r.query(), r.user_agent(), r.request(), r.vhost(), r.port());
                let _ = r.time().map(|t| t.to_string());
                let owned = r.clone().into_owned();
                assert_eq!(owned, r);
            }
            Err(e) => assert!(e.column() <= data.len()),
        }
    }
});
