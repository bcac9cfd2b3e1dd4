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
    use std::io::{Read, Seek, SeekFrom};
    const TAIL: u64 = 256 * 1024;
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        metric: &'a str,
        result: &'a str,
        #[serde(default)]
        duration: f64,
    }
    let Ok(mut f) = files::open_read(&dir.join(file)) else {
        return Vec::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
    let mut bytes = Vec::new();
    let _ = f.take(TAIL).read_to_end(&mut bytes);
    let mut found: Vec<f64> = bytes
        .split(|&b| b == b'\n')
        .filter_map(|l| serde_json::from_slice::<Line>(l).ok())
        .filter(|l| l.metric == metric && l.result == result && l.duration.is_finite())
        .map(|l| l.duration)
        .collect();
    let from = found.len().saturating_sub(n);
    found.drain(..from);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

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
