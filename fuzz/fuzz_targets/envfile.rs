#![no_main]
//! The env-file parser must never panic, and everything it accepts must be
//! a valid key with a value on a line that exists.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = selfheal::config::envfile::parse(data);
    let lines = data.split(|&b| b == b'\n').count();
    for e in parsed.entries {
        assert!(!e.key.is_empty() && e.line >= 1 && e.line <= lines);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = selfheal::key::shellwords::split(text);
    }
});
