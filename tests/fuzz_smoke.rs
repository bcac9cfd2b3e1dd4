//! Stable-toolchain stand-in for the cargo-fuzz targets in fuzz/: random and
//! mutated inputs through every parser that slices text — the env file, shell
//! words, durations, sizes, times, maintenance windows, status sets, log
//! lines, the metrics reader, the state file, the rollback diff, the
//! heartbeat URL and a readiness answer — which must never panic. `make fuzz` runs it longer
//! (FUZZ_SECONDS); `make test` runs it briefly.

use std::time::{Duration, Instant};

/// xorshift64*: deterministic per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&[u8]] = &[
    b"KEY=",
    b"export ",
    b"\"",
    b"'",
    b"\\",
    b"#",
    b" ",
    b"\t",
    b"\r\n",
    b"\n",
    b"=",
    b"$(",
    b")",
    b"`",
    b"\xEF\xBB\xBF",
    b"\xff",
    b"\x00",
    b"~/",
    b"SELFHEAL_",
    b"OPENCLAW_GATEWAY_URL",
    b"{\"timestamp\":",
    b"\"metric\":\"recovery\"",
    b",\"result\":\"success\"",
    b",\"duration\":",
    b"1e308",
    b"-1",
    b"}",
    b"{",
    b"[",
    b"null",
    b"9999999999999999999999",
    // What the maintenance windows, times and sizes are made of, and
    // characters of more than one byte where a parser might cut.
    "Mié".as_bytes(),
    "Mo–Fr".as_bytes(),
    "é".as_bytes(),
    "日".as_bytes(),
    b"Sun 03:00-04:00",
    b"daily ",
    b"Mon-Fri",
    b"+",
    b"-",
    b":",
    b",",
    b"24:60",
    b"2026-12-06T10:00:00Z",
    b"+01:00",
    b"1.5G",
    b"5%",
    b"200-299",
];

fn input(rng: &mut Rng) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..rng.below(40) {
        if rng.below(4) == 0 {
            v.push(rng.next() as u8);
        } else {
            v.extend_from_slice(PIECES[rng.below(PIECES.len())]);
        }
    }
    v
}

/// What the state parser accepts, it writes back and reads again unchanged.
fn state_round_trips(data: &[u8]) {
    if let Ok((state, _)) = selfheal::state::parse(data) {
        let bytes = serde_json::to_vec(&state).expect("serialize");
        let again = selfheal::state::parse(&bytes).map(|(s, _)| s);
        assert_eq!(again.as_ref().ok(), Some(&state), "{data:?}");
    }
}

/// State files: valid ones with fields of the wrong type, cut or mutated.
#[test]
fn the_state_parser_never_panics_and_round_trips() {
    const SEED: &str = r#"{"incident":{"started":1,"alerted":["failed","x"],"last_alert":2,
        "reason":"r","status":"000","url":"u"},"outbox":[{"created":1,"channel":"slack",
        "kind":"failed","severity":"error","title":"t","text":"x","attempts":1}],
        "running":{"step":"level 2","pid":1,"since":3,"child":{"pgid":9,"started":"1"}},
        "agent_cooldown_until":4,"counters":{"a:b":1},"brake":{"restarts":[1],"level":1,
        "heals":[2],"last_failure":3,"flapping_since":null},"agent_check":{"at":5,"problem":"p"}}"#;
    let start = Instant::now();
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    let mut runs = 0u64;
    while start.elapsed() < budget() {
        let mut data = SEED.as_bytes().to_vec();
        for _ in 0..1 + rng.below(4) {
            if data.is_empty() {
                break;
            }
            let at = rng.below(data.len());
            match rng.below(4) {
                0 => data.truncate(at),
                1 => data[at] = rng.next() as u8,
                2 => {
                    let piece = PIECES[rng.below(PIECES.len())];
                    data.splice(at..at, piece.iter().copied());
                }
                _ => {
                    let end = (at + rng.below(20)).min(data.len());
                    data.drain(at..end);
                }
            }
        }
        state_round_trips(&data);
        runs += 1;
    }
    assert!(runs > 1000, "only {runs} inputs in the time given");
}

fn budget() -> Duration {
    let secs = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    Duration::from_secs(secs)
}

#[test]
fn maintenance_windows_with_characters_of_more_than_one_byte_are_errors_not_panics() {
    for text in [
        "Mié 02:00-03:00",
        "Mo–Fr 12:00-12:10",
        "日曜 03:00-04:00",
        "Sun 03:00-0é:00",
    ] {
        assert!(selfheal::key::window::parse_all(text).is_err(), "{text}");
    }
}

#[test]
fn parsers_never_panic_on_random_input() {
    let start = Instant::now();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut runs = 0u64;
    while start.elapsed() < budget() {
        let data = input(&mut rng);
        let parsed = selfheal::config::envfile::parse(&data);
        for e in &parsed.entries {
            assert!(!e.key.is_empty(), "{data:?}");
        }
        if let Ok(text) = std::str::from_utf8(&data) {
            if let Ok(words) = selfheal::key::shellwords::split(text) {
                // What it accepts, it can also print back and re-read.
                let again =
                    selfheal::key::shellwords::split(&selfheal::key::shellwords::join(&words));
                assert_eq!(again.as_ref().ok(), Some(&words), "{text:?}");
            }
            let _ = selfheal::fmt::parse_duration(text);
            let _ = selfheal::fmt::parse_size(text);
            let _ = selfheal::fmt::parse_rfc3339(text);
            let _ = selfheal::key::window::parse_all(text);
            let _ = selfheal::key::window::parse_clock(text);
            let _ = text.parse::<selfheal::key::values::StatusSet>();
            let _ = text.parse::<selfheal::key::DiskFree>();
            let _ = selfheal::ladder::evidence::error_lines(text);
            let _ = text.parse::<selfheal::profile::Preset>();
            for line in text.lines() {
                let _ = selfheal::profile::CUSTOM.cannot(line);
            }
        }
        // The rollback diff and the heartbeat's URL, from two random inputs.
        let other = input(&mut rng);
        let _ = selfheal::ladder::rollback::diff(Some(&data), &other, 5);
        let _ = selfheal::alert::deliver::ping_url(&String::from_utf8_lossy(&data), "/fail");
        // A readiness answer's body (what is failing, what is held back).
        let _ = selfheal::probe::judge_readiness(503, &data);
        let _ = selfheal::probe::judge_readiness(200, &data);
        let s = selfheal::commands::stats::summarize_from([&data[..]], 0, 1_800_000_000);
        assert!(s.malformed <= s.lines);
        state_round_trips(&data);
        runs += 1;
    }
    assert!(runs > 1000, "only {runs} inputs in the time given");
}
