//! The JSON Lines metrics files (README "Metrics").
//!
//! One object per line, built with serde (never by string concatenation), and
//! written with a single `write(2)` on an O_APPEND descriptor so that lines of
//! concurrent writers never interleave. This module formats and appends; it
//! does not decide what is worth recording.

use std::io::Write;
use std::path::Path;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::sys::files;

pub const HEALTH_FILE: &str = ".healthcheck-metrics.json";
pub const EMERGENCY_FILE: &str = ".emergency-recovery-metrics.json";

#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub timestamp: i64,
    pub metric: &'static str,
    pub result: String,
    /// Seconds (or attempts, for `recovery`); whole numbers are written as
    /// integers, as the shell scripts did.
    pub duration: f64,
    /// Further fields, in order (e.g. `symptom`, `root_cause`).
    pub extra: Vec<(&'static str, Value)>,
}

impl Metric {
    pub fn new(metric: &'static str, result: impl Into<String>, duration: f64) -> Metric {
        Metric {
            timestamp: crate::sys::clock::unix_now(),
            metric,
            result: result.into(),
            duration,
            extra: Vec::new(),
        }
    }

    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Metric {
        self.extra.push((key, value.into()));
        self
    }

    /// The line as written, with its newline.
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(self).unwrap_or_default();
        line.push(b'\n');
        line
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(4 + self.extra.len()))?;
        map.serialize_entry("timestamp", &self.timestamp)?;
        map.serialize_entry("metric", self.metric)?;
        map.serialize_entry("result", &self.result)?;
        map.serialize_entry("duration", &number(self.duration))?;
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

fn number(x: f64) -> Value {
    let x = if x.is_finite() { x.max(0.0) } else { 0.0 };
    let ms = (x * 1000.0).round() / 1000.0;
    if ms.fract() == 0.0 && ms < 1e15 {
        Value::from(ms as u64)
    } else {
        serde_json::Number::from_f64(ms).map_or(Value::from(0), Value::Number)
    }
}

/// Appends one line to `dir/file` with a single write.
pub fn append(dir: &Path, file: &str, metric: &Metric) -> Result<()> {
    let path = dir.join(file);
    let mut f = files::open_append(&path)?;
    let line = metric.to_line();
    match f.write(&line) {
        Ok(n) if n == line.len() => Ok(()),
        Ok(n) => Err(Error::io(
            "append to",
            &path,
            std::io::Error::other(format!("short write ({n} of {} bytes)", line.len())),
        )),
        Err(e) => Err(Error::io("append to", &path, e)),
    }
}

/// The durations of the last `n` lines of `metric` with `result` in the last
/// `TAIL` bytes of `file`, oldest first. Malformed lines are skipped; a
/// missing file has none. Bounded: one read of at most `TAIL` bytes.
pub fn recent(dir: &Path, file: &str, metric: &str, result: &str, n: usize) -> Vec<f64> {
    let bytes = tail(dir, file);
    let mut found: Vec<f64> = bytes
        .split(|&b| b == b'\n')
        .filter_map(parse_line)
        .filter(|l| l.metric == metric && l.result == result && l.duration.is_finite())
        .map(|l| l.duration)
        .collect();
    let from = found.len().saturating_sub(n);
    found.drain(..from);
    found
}

/// The last `TAIL` bytes of a metrics file (empty when it cannot be read).
fn tail(dir: &Path, file: &str) -> Vec<u8> {
    files::open_read(&dir.join(file)).map_or_else(|_| Vec::new(), |f| files::tail(f, 256 * 1024))
}

/// The time and result of the last `metric` line near the end of `file`.
pub fn last(dir: &Path, file: &str, metric: &str) -> Option<(i64, String)> {
    let bytes = tail(dir, file);
    bytes
        .split(|&b| b == b'\n')
        .rev()
        .filter_map(parse_line)
        .find(|l| l.metric == metric)
        .map(|l| (l.timestamp, l.result.into_owned()))
}

/// One metrics line as read back (`stats`, boot times).
#[derive(serde::Deserialize)]
pub struct Line<'a> {
    pub timestamp: i64,
    #[serde(borrow)]
    pub metric: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub result: std::borrow::Cow<'a, str>,
    /// Read only for `DURATIONS` on the fast path.
    #[serde(default)]
    pub duration: f64,
    /// What healed it (`recovery` lines; absent in the old scripts' lines,
    /// and read by the general path only).
    #[serde(default, borrow)]
    pub by: Option<std::borrow::Cow<'a, str>>,
}

/// The metrics whose duration is read back (summed or compared).
const DURATIONS: [&str; 3] = ["emergency_recovery", "incident", "boot"];

/// A line selfheal (or the old scripts) wrote, or `None` for anything that
/// is not one: the strict fast path, then serde.
pub fn parse_line(b: &[u8]) -> Option<Line<'_>> {
    fast_line(b).or_else(|| serde_json::from_slice(b).ok())
}

/// The exact shape selfheal writes, without extra fields:
/// `{"timestamp":N,"metric":"M","result":"R","duration":D}` — about five
/// times faster than a general JSON parse, and strict: anything else (extra
/// fields, escapes, spaces) goes to serde, so what is accepted is valid JSON.
fn fast_line(b: &[u8]) -> Option<Line<'_>> {
    let rest = b.strip_prefix(b"{\"timestamp\":")?;
    let (timestamp, rest) = integer(rest)?;
    let rest = rest.strip_prefix(b",\"metric\":\"")?;
    let (metric, rest) = plain_string(rest)?;
    let rest = rest.strip_prefix(b",\"result\":\"")?;
    let (result, rest) = plain_string(rest)?;
    let number = rest.strip_prefix(b",\"duration\":")?.strip_suffix(b"}")?;
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let valid = match number.iter().position(|&c| c == b'.') {
        Some(i) => digits(&number[..i]) && digits(&number[i + 1..]),
        None => digits(number),
    };
    if !valid || (number.len() > 1 && number[0] == b'0' && number[1] != b'.') {
        return None;
    }
    // Only a few metrics' durations are read back; the rest need not be parsed.
    let duration = if DURATIONS.contains(&metric) {
        std::str::from_utf8(number).ok()?.parse().ok()?
    } else {
        0.0
    };
    Some(Line {
        timestamp,
        metric: std::borrow::Cow::Borrowed(metric),
        result: std::borrow::Cow::Borrowed(result),
        duration,
        by: None,
    })
}

fn integer(b: &[u8]) -> Option<(i64, &[u8])> {
    let end = b
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(b.len());
    if end == 0 || end > 18 || (end > 1 && b[0] == b'0') {
        return None;
    }
    let n = std::str::from_utf8(&b[..end]).ok()?.parse().ok()?;
    Some((n, &b[end..]))
}

/// A string body up to its closing quote, with no escapes or control
/// characters (those go to serde).
fn plain_string(b: &[u8]) -> Option<(&str, &[u8])> {
    let end = b
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
    if b[end] != b'"' {
        return None;
    }
    Some((std::str::from_utf8(&b[..end]).ok()?, &b[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_agrees_with_serde() {
        let first: &[u8] =
            br#"{"timestamp":1795505265,"metric":"http_check","result":"200","duration":0.002}"#;
        for line in [
            first,
            br#"{"timestamp":1,"metric":"recovery","result":"success","duration":1}"#,
            br#"{"timestamp":1,"metric":"recovery","result":"success","duration":1,"attempt":2}"#,
            br#"{"timestamp":01,"metric":"a","result":"b","duration":1}"#,
            br#"{"timestamp":1,"metric":"a\"b","result":"b","duration":1}"#,
            br#"{"timestamp":1,"metric":"a","result":"b","duration":1.}"#,
            br#"{"timestamp":1,"metric":"a","result":"b","duration":-1}"#,
            br#"{"timestamp":1,"metric":"a","result":"b","duration":1} "#,
            br#"{"timestamp":1,"metric":"a","result":"b","duration":1"#,
            b"{\"timestamp\":1,\"metric\":\"\xff\",\"result\":\"b\",\"duration\":1}",
        ] {
            let fast = fast_line(line).map(|l| {
                (
                    l.timestamp,
                    l.metric.into_owned(),
                    l.result.into_owned(),
                    l.duration,
                )
            });
            let slow = serde_json::from_slice::<Line>(line).ok().map(|l| {
                (
                    l.timestamp,
                    l.metric.into_owned(),
                    l.result.into_owned(),
                    l.duration,
                )
            });
            // The fast path may decline (serde decides), but never disagree
            // (durations are compared where the fast path reads them).
            if let Some(mut f) = fast {
                if let Some(s) = &slow {
                    if f.3 == 0.0 && !DURATIONS.contains(&f.1.as_str()) {
                        f.3 = s.3;
                    }
                }
                assert_eq!(Some(f), slow, "{}", String::from_utf8_lossy(line));
            }
        }
        assert!(fast_line(
            br#"{"timestamp":1795505265,"metric":"http_check","result":"200","duration":0.002}"#
        )
        .is_some());
    }

    #[test]
    fn lines_match_the_schema() {
        let mut m = Metric::new("recovery", "success", 2.0).with("symptom", "a \"quote\"\nline");
        m.timestamp = 1700000000;
        let line = String::from_utf8(m.to_line()).expect("utf8");
        assert_eq!(
            line,
            concat!(
                r#"{"timestamp":1700000000,"metric":"recovery","result":"success","duration":2,"#,
                r#""symptom":"a \"quote\"\nline"}"#,
                "\n"
            )
        );
        let mut m = Metric::new("http_check", "200", 0.0123456);
        m.timestamp = 1;
        assert!(String::from_utf8(m.to_line())
            .expect("utf8")
            .contains("\"duration\":0.012"));
        let mut m = Metric::new("x", "y", f64::NAN);
        m.timestamp = 1;
        assert!(String::from_utf8(m.to_line())
            .expect("utf8")
            .contains("\"duration\":0}"));
    }

    #[test]
    fn concurrent_appends_never_interleave() {
        let dir = std::env::current_dir().unwrap_or_default().join(format!(
            "target/unit-scratch/metrics-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        crate::sys::files::ensure_dir(&dir).expect("dir");
        let long = "x".repeat(1500);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (dir, long) = (dir.clone(), long.clone());
                std::thread::spawn(move || {
                    for i in 0..250 {
                        let m = Metric::new("http_check", "200", 0.001)
                            .with("t", t)
                            .with("i", i)
                            .with("pad", long.as_str());
                        append(&dir, HEALTH_FILE, &m).expect("append");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let text = std::fs::read_to_string(dir.join(HEALTH_FILE)).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2000);
        for line in lines {
            let v: serde_json::Value = serde_json::from_str(line).expect("every line is JSON");
            assert_eq!(v["pad"].as_str().map(str::len), Some(1500));
        }
    }
}
