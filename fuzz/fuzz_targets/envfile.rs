#![no_main]
//! The env-file parser must never panic, and everything it accepts must be
//! a valid key with a value on a line that exists; nor may any parser of a
//! key's text (maintenance windows, durations, sizes, times, status sets).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = selfheal::config::envfile::parse(data);
    let lines = data.split(|&b| b == b'\n').count();
    for e in parsed.entries {
        assert!(!e.key.is_empty() && e.line >= 1 && e.line <= lines);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = selfheal::key::shellwords::split(text);
        // Every other parser that slices a key's text.
        let _ = selfheal::key::window::parse_all(text);
        let _ = selfheal::fmt::parse_duration(text);
        let _ = selfheal::fmt::parse_size(text);
        let _ = selfheal::fmt::parse_rfc3339(text);
        let _ = text.parse::<selfheal::key::values::StatusSet>();
    }
});
