//! Recurring maintenance windows (`SELFHEAL_MAINTENANCE`): `Sun 03:00-04:00`,
//! `daily 02:30-02:45`, `Mon-Fri 12:00-12:10`, several separated by `,`.
//! Local wall-clock time; a window whose end is before its start ends the
//! next day. Pure data and arithmetic on minutes of the week: no clock, no
//! I/O (the caller passes the local time).

use std::fmt;

const DAY: u32 = 24 * 60;
const WEEK: u32 = 7 * DAY;
const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// One window: the days it starts on (Monday = 0), its start (minutes after
/// midnight) and its length in minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    days: [bool; 7],
    start: u32,
    length: u32,
    text: String,
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A local time as the windows see it: the weekday (Monday = 0) and the
/// minute of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMinute {
    pub weekday: u32,
    pub minute: u32,
}

impl LocalMinute {
    fn of_week(self) -> u32 {
        self.weekday * DAY + self.minute
    }
}

/// Parses the whole key; empty is no window.
pub fn parse_all(text: &str) -> Result<Vec<Window>, String> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(parse)
        .collect()
}

fn parse(text: &str) -> Result<Window, String> {
    let hint = "expected like `Sun 03:00-04:00`, `daily 02:30-02:45` or `Mon-Fri 12:00-12:10`";
    let (days, times) = text
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("{text:?}: {hint}"))?;
    let days = parse_days(days).ok_or_else(|| format!("{days:?} is not a day: {hint}"))?;
    let (from, to) = times
        .trim()
        .split_once('-')
        .ok_or_else(|| format!("{times:?}: {hint}"))?;
    let start = parse_clock(from).ok_or_else(|| format!("{from:?} is not a time (HH:MM)"))?;
    let end = parse_clock(to).ok_or_else(|| format!("{to:?} is not a time (HH:MM)"))?;
    if start == end {
        return Err(format!("{text:?} starts and ends at the same time"));
    }
    Ok(Window {
        days,
        start,
        length: (end + DAY - start) % DAY,
        text: text.split_whitespace().collect::<Vec<_>>().join(" "),
    })
}

fn day_index(name: &str) -> Option<usize> {
    // `get`, not `[..3]`: a name such as `Mié` has a character across byte 3.
    let three = name.get(..3).filter(|_| name.is_ascii())?;
    NAMES.iter().position(|n| n.eq_ignore_ascii_case(three))
}

fn parse_days(text: &str) -> Option<[bool; 7]> {
    let mut days = [false; 7];
    if text.eq_ignore_ascii_case("daily") {
        return Some([true; 7]);
    }
    if text.eq_ignore_ascii_case("weekdays") {
        return parse_days("Mon-Fri");
    }
    if text.eq_ignore_ascii_case("weekends") {
        return parse_days("Sat-Sun");
    }
    for part in text.split('+') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day_index(a)?, day_index(b)?);
                let mut d = a;
                loop {
                    days[d] = true;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days[day_index(part)?] = true,
        }
    }
    Some(days)
}

/// `HH:MM` → minutes after midnight.
pub fn parse_clock(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && !text.trim().starts_with('+')).then_some(h * 60 + m)
}

impl Window {
    /// Starts of this window in minutes of the week.
    fn starts(&self) -> impl Iterator<Item = u32> + '_ {
        (0..7u32)
            .filter(|&d| self.days[d as usize])
            .map(move |d| d * DAY + self.start)
    }
}

/// The window in force at `now`, and the minutes until it ends.
pub fn in_force(windows: &[Window], now: LocalMinute) -> Option<(&Window, u32)> {
    let at = now.of_week();
    windows
        .iter()
        .filter_map(|w| {
            w.starts()
                .map(|s| (at + WEEK - s) % WEEK)
                .filter(|&into| into < w.length)
                .map(|into| (w, w.length - into))
                .max_by_key(|&(_, left)| left)
        })
        .max_by_key(|&(_, left)| left)
}

/// The next window to start after `now`, and the minutes until it does.
pub fn next(windows: &[Window], now: LocalMinute) -> Option<(&Window, u32)> {
    let at = now.of_week();
    windows
        .iter()
        .flat_map(|w| w.starts().map(move |s| (w, (s + WEEK - at) % WEEK)))
        .filter(|&(_, until)| until > 0)
        .min_by_key(|&(_, until)| until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(weekday: u32, h: u32, m: u32) -> LocalMinute {
        LocalMinute {
            weekday,
            minute: h * 60 + m,
        }
    }

    #[test]
    fn parses_the_documented_forms_and_refuses_the_rest() {
        let w = parse_all("Sun 03:00-04:00, daily 02:30-02:45; Mon-Fri 12:00-12:10").expect("ok");
        assert_eq!(w.len(), 3);
        assert_eq!(w[2].to_string(), "Mon-Fri 12:00-12:10");
        assert!(parse_all("").expect("empty").is_empty());
        for bad in [
            "Sun",
            "Funday 03:00-04:00",
            "Sun 3-4",
            "Sun 24:00-01:00",
            "Sun 03:00-03:00",
            "Sun 03:60-04:00",
            "daily 02:30",
        ] {
            assert!(parse_all(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn in_force_and_next_across_midnight_and_the_week() {
        let w = parse_all("Sun 23:30-00:30").expect("ok");
        assert_eq!(in_force(&w, at(6, 23, 45)).map(|(_, l)| l), Some(45));
        // Monday 00:10 is still Sunday's window.
        assert_eq!(in_force(&w, at(0, 0, 10)).map(|(_, l)| l), Some(20));
        assert_eq!(in_force(&w, at(0, 0, 30)), None);
        assert_eq!(next(&w, at(0, 0, 30)).map(|(_, u)| u), Some(7 * DAY - 60));
        let w = parse_all("Fri-Mon 12:00-12:10").expect("ok");
        assert!(in_force(&w, at(6, 12, 5)).is_some());
        assert!(in_force(&w, at(2, 12, 5)).is_none());
        assert_eq!(next(&w, at(2, 12, 5)).map(|(_, u)| u), Some(2 * DAY - 5));
    }
}
