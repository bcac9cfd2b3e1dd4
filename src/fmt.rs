//! Durations as people write and read them, and "how long since" a unix
//! timestamp read from state (which may be from the future after a clock
//! jump, or forged: never negative, never a panic).
//!
//! Pure: no I/O, no clock reads except through the `now` callers pass in.

use std::time::Duration;

/// `1.5s`, `250ms`, `2m05s`, `3h04m`: short, and exact enough for a log.
pub fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 && s > 0.0 {
        format!("{}ms", d.as_millis())
    } else if s < 120.0 {
        format!("{}s", (s * 10.0).round() / 10.0)
    } else if s < 7200.0 {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    } else {
        format!("{}h{:02}m", d.as_secs() / 3600, d.as_secs() % 3600 / 60)
    }
}

/// Parses `10`, `0.5`, `250ms`, `30s`, `5m`, `2h`, `1d` (bare numbers are seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        other => return Err(format!("unknown unit {other:?} (use s, m, h, d or ms)")),
    };
    let value: f64 = num
        .parse()
        .map_err(|_| "expected a number of seconds, like 30, 0.5 or 5m".to_string())?;
    let secs = value * scale;
    if !secs.is_finite() || secs > 366.0 * 86400.0 {
        return Err("too large".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses `1.5G`, `512M`, `2048K`, `1T` (powers of 1024; `B`, `iB` and
/// lower case accepted) or a bare number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim().to_ascii_uppercase();
    let unit = unit.trim_end_matches("IB").trim_end_matches('B');
    let scale: f64 = match unit {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("unknown unit in {text:?} (use K, M, G or T)")),
    };
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{text:?}: expected a size like 1.5G or 512M"))?;
    let bytes = value * scale;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err("too large".into());
    }
    Ok(bytes as u64)
}

/// `1.5 GiB`, `512 MiB`: a size for people.
pub fn fmt_size(bytes: u64) -> String {
    let b = bytes as f64;
    let gib = 1024.0 * 1024.0 * 1024.0;
    if b >= gib {
        format!("{:.1} GiB", b / gib)
    } else {
        format!("{:.0} MiB", b / (1024.0 * 1024.0))
    }
}

/// The time from unix time `then` to `now`; zero when `then` is later.
pub fn between(then: i64, now: i64) -> Duration {
    Duration::from_secs(u64::try_from(now.saturating_sub(then)).unwrap_or(0))
}

/// `2026-12-06T10:00:00.123Z` (or with `+01:00`) → unix seconds; `None` for
/// anything else, and for Docker's "never" (year 1).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b.get(4) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if y < 1970 || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    // The zone: after the fraction, `Z` or `±hh:mm`.
    let rest = text
        .get(19..)?
        .trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hh: i64 = rest.get(1..3)?.parse().ok()?;
            let mm: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hh * 3600 + mm * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86400 + h * 3600 + mi * 60 + s - offset)
}

/// The candidate closest to `word` by edit distance, if it is within `max`
/// (for "did you mean").
pub fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
    max: usize,
) -> Option<&'a str> {
    candidates
        // The length difference bounds the distance from below: most
        // candidates are ruled out without computing it (this runs for every
        // variable of the environment, on every run).
        .filter(|c| c.len().abs_diff(word.len()) <= max)
        // So do the letters one has more of than the other (a few adds
        // per candidate, where the distance is a product of the lengths).
        .filter(|c| bag_distance(word, c) <= max)
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= max)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// A lower bound of the edit distance: the larger of the two counts of
/// bytes one string has more of than the other (each edit changes each
/// count by at most one).
fn bag_distance(a: &str, b: &str) -> usize {
    let mut counts = [0i32; 256];
    for &x in a.as_bytes() {
        counts[usize::from(x)] += 1;
    }
    for &x in b.as_bytes() {
        counts[usize::from(x)] -= 1;
    }
    // Each byte's difference, read once (then zeroed): the work is the
    // lengths', not the alphabet's.
    let (mut more, mut fewer) = (0, 0);
    for &x in a.as_bytes().iter().chain(b.as_bytes()) {
        let c = std::mem::take(&mut counts[usize::from(x)]);
        more += c.max(0) as usize;
        fewer += (-c).max(0) as usize;
    }
    more.max(fewer)
}

/// Levenshtein distance, by bytes (keys and commands are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-12-06T10:00:00.123456789Z"),
            Some(1_796_551_200)
        );
        assert_eq!(
            parse_rfc3339("2026-12-06T11:00:00+01:00"),
            Some(1_796_551_200)
        );
        for bad in [
            "0001-01-01T00:00:00Z",
            "",
            "2026-13-01T00:00:00Z",
            "2026-1é-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_bag_distance_never_exceeds_the_edit_distance() {
        for (a, b) in [
            ("HEALTH_CHECK_TIMEOUT", "HEALTH_CHECK_HTTP_TIMEOUT"),
            ("SELFHEAL_POLL_INTERVALL", "SELFHEAL_POLL_INTERVAL"),
            ("PATH", "HOME"),
            ("abc", "cab"),
            ("", "xyz"),
        ] {
            assert!(bag_distance(a, b) <= distance(a, b), "{a} {b}");
        }
    }

    #[test]
    fn suggestions_within_reach() {
        let keys = ["HEALTH_CHECK_HTTP_TIMEOUT", "HEALTH_CHECK_MAX_RETRIES"];
        assert_eq!(
            closest("HEALTH_CHECK_TIMEOUT", keys.into_iter(), 5),
            Some("HEALTH_CHECK_HTTP_TIMEOUT")
        );
        assert_eq!(
            closest("chek", ["check", "probe"].into_iter(), 2),
            Some("check")
        );
        assert_eq!(
            closest("frobnicate", ["check", "probe"].into_iter(), 2),
            None
        );
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5m"), Ok(secs(300)));
        assert_eq!(parse_duration("2h"), Ok(secs(7200)));
        for bad in ["", "-1", "1x", "NaN", "inf", "1.2.3", "9999999999999"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn spans_never_go_negative() {
        assert_eq!(between(100, 160), secs(60));
        assert_eq!(between(200, 100), Duration::ZERO);
        assert_eq!(
            between(i64::MIN, i64::MAX),
            Duration::from_secs(u64::MAX >> 1)
        );
        assert_eq!(fmt_secs(secs(125)), "2m05s");
    }
}
