//! Arbitrary bytes as a Delta commit file: never a panic; what parses applies to a snapshot,
//! and applying the same commit twice (a replayed log) gives the same snapshot.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loglake_catalog::{decode_commit, Snapshot};

fuzz_target!(|data: &[u8]| {
    if let Ok(actions) = decode_commit(data, "fuzz/00000000000000000000.json") {
        let mut snap = Snapshot::empty();
        snap.apply(0, &actions);
        let once = snap.clone();
        snap.apply(0, &actions);
        assert_eq!(snap.files, once.files);
        let _ = snap.num_records();
        let _ = snap.batch_files("fuzz").count();
    }
});
