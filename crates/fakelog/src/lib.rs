//! Deterministic fake Apache access logs: the library behind the `loggen` binary.
//!
//! Compatible with Fake-Apache-Log-Generator (same line shapes `CLF`/`ELF`, verbs
//! 60/10/10/20 GET/POST/DELETE/PUT, statuses 90/4/2/4 for 200/404/500/301, bytes
//! ~ gauss(5000, 50), 30–300 s steps, `PREFIX_access_log_YYYYmmdd-HHMMSS.log[.gz]` names), plus:
//! a seed for byte-identical output, tens of thousands of clients (IPv4 and IPv6, skewed like
//! real traffic), real browser and bot user agents, query strings, referrers, static assets,
//! injected malformed lines of known kinds, and multi-member gzip.
//!
//! ```
//! use fakelog::{BadKind, Config, Generator, LineKind};
//!
//! let mut g = Generator::new(&Config { seed: 1, bad_ratio: 0.5, ..Config::default() });
//! let mut buf = Vec::new();
//! let bad = (0..100).filter(|_| g.next_line(&mut buf) != LineKind::Good).count();
//! assert!(bad > 20 && bad < 80);
//! ```

mod files;
mod generate;
mod pools;
mod rng;

pub use files::{file_name, write_file, write_files, write_lines, Error, Output, Report};
pub use generate::{BadKind, Config, Generator, LineFormat, LineKind, Step};
pub use rng::Rng;
