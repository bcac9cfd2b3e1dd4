#![no_main]
//! The state file parser must never panic, and what it accepts it writes
//! back and reads again unchanged.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((state, _)) = selfheal::state::parse(data) {
        let bytes = serde_json::to_vec(&state).expect("serialize");
        let again = selfheal::state::parse(&bytes).map(|(s, _)| s);
        assert_eq!(again.ok(), Some(state));
    }
});
