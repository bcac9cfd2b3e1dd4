#![no_main]
//! The metrics reader must never panic and must account for every line.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = selfheal::commands::stats::summarize_from([data], 0, 1_800_000_000);
    assert!(s.malformed <= s.lines);
});
