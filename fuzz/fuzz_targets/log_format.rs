//! Arbitrary format strings: compile or fail with an error inside the string; what compiles
//! parses arbitrary lines without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loglake_parser::{LogFormat, Parser};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let Ok(format) = std::str::from_utf8(&data[..split]) else { return };
    match LogFormat::parse(format) {
        Ok(f) => {
            let parser = Parser::new(f);
            let _ = parser.parse_line(data.get(split + 1..).unwrap_or_default());
        }
        Err(e) => assert!(e.position() <= format.chars().count()),
    }
});
