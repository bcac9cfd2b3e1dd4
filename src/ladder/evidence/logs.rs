//! The service's own logs: the newest file of each pattern, its last error
//! lines (JSON lines by their level, plain lines by their words), the one
//! line that says most.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{LOG_LINES, LOG_TAIL};
use crate::sys::clock::local_now;
use crate::sys::files;

/// The newest existing file of each pattern, `{date}` filled in.
pub fn log_files(patterns: &[String]) -> Vec<PathBuf> {
    let date = crate::sys::log::day(local_now().date());
    patterns
        .iter()
        .filter_map(|p| newest_match(&p.replace("{date}", &date)))
        .collect()
}

/// Which lines of a log belong to this incident: written since `since`
/// (unix time: when the service was last seen healthy) — never a healed
/// incident's old error — and, when a line names its process, by one of
/// `pids` (several gateways may share one log file).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub since: Option<i64>,
    pub pids: Vec<u32>,
}

impl Scope {
    fn keeps(&self, json: Option<&serde_json::Value>, line: &str, written: Option<i64>) -> bool {
        if let (Some(pid), false) = (json.and_then(line_pid), self.pids.is_empty()) {
            if !self.pids.contains(&pid) {
                return false;
            }
        }
        let Some(since) = self.since else {
            return true;
        };
        match line_time(json, line) {
            // A second of slack for clocks that round.
            Some(t) => t >= since - 1,
            // A line that says no time: the file must have been written since.
            None => written.is_none_or(|w| w >= since),
        }
    }
}

/// When a line was written, if it says: JSON `time`, `timestamp` or
/// `_meta.date`, or a plain line that starts with an RFC 3339 time.
fn line_time(json: Option<&serde_json::Value>, line: &str) -> Option<i64> {
    if let Some(v) = json {
        let t = v["time"]
            .as_str()
            .or(v["timestamp"].as_str())
            .or(v["_meta"]["date"].as_str())?;
        return crate::fmt::parse_rfc3339(t);
    }
    crate::fmt::parse_rfc3339(line.split_whitespace().next()?.trim_matches(['[', ']']))
}

/// The process a JSON line says it is from.
fn line_pid(v: &serde_json::Value) -> Option<u32> {
    v["pid"]
        .as_u64()
        .or(v["_meta"]["pid"].as_u64())
        .and_then(|p| u32::try_from(p).ok())
}

/// The last error-looking lines of the newest file of each pattern that
/// belong to this incident (`scope`).
pub fn log_errors(patterns: &[String], scope: &Scope) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for file in log_files(patterns) {
        let name = file.display().to_string();
        let written = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64);
        let text = read_tail(&file);
        found.extend(
            scoped_error_lines(&text, scope, written)
                .into_iter()
                .map(|l| (name.clone(), l)),
        );
    }
    let from = found.len().saturating_sub(LOG_LINES);
    found.split_off(from)
}

/// Where each of the service's logs ends now: what is written after is news.
pub fn marks(patterns: &[String]) -> Vec<(PathBuf, u64)> {
    log_files(patterns)
        .into_iter()
        .map(|f| {
            let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
            (f, len)
        })
        .collect()
}

/// The lines written since `marks` (all of a file that is new, or that
/// shrank: rotated), at most `LOG_TAIL` bytes of each file: their words (a
/// JSON line's message), of the lines `scope` keeps.
pub fn since(patterns: &[String], marks: &[(PathBuf, u64)], scope: &Scope) -> Vec<String> {
    let mut lines = Vec::new();
    for file in log_files(patterns) {
        let from = marks.iter().find(|(f, _)| *f == file).map_or(0, |m| m.1);
        let Ok(f) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&file)
        else {
            continue;
        };
        let len = match f.metadata() {
            Ok(m) if m.is_file() => m.len(),
            _ => continue,
        };
        let from = if len < from { 0 } else { from };
        let new = len - from;
        let text = String::from_utf8_lossy(&files::tail(f, new.min(LOG_TAIL))).into_owned();
        for line in text.lines() {
            let line = strip_ansi(line);
            match serde_json::from_str::<serde_json::Value>(line.trim()) {
                Ok(v) if v.is_object() => {
                    if scope.keeps(Some(&v), &line, None) {
                        lines.extend(json_message(&v));
                    }
                }
                _ => lines.push(line),
            }
        }
    }
    lines
}

/// Whether a line of the service's says it would not, or could not, start.
pub fn refuses(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    REFUSALS.iter().any(|w| l.contains(w))
}

/// Words of a line by which a service says it did not start.
const REFUSALS: &[&str] = &[
    "failed to start",
    "refusing to",
    "refused to start",
    "cannot start",
    "could not start",
    "startup failed",
    "fatal",
    "eaddrinuse",
    "address already in use",
    "invalid config",
    "config invalid",
];

/// The file itself, or the newest file whose name matches a `*`/`?` glob.
fn newest_match(pattern: &str) -> Option<PathBuf> {
    let path = Path::new(pattern);
    let name = path.file_name()?.to_str()?;
    if !name.contains(['*', '?']) {
        return path.is_file().then(|| path.to_path_buf());
    }
    std::fs::read_dir(path.parent()?)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| glob(name, n)))
        .filter_map(|e| {
            let m = e.metadata().ok().filter(|m| m.is_file())?;
            Some((m.modified().ok()?, e.path()))
        })
        .max()
        .map(|(_, p)| p)
}

/// `*` and `?` on a file name.
fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    p.len() <= 64 && go(&p, &n)
}

/// The last `LOG_TAIL` bytes, from the start of a line.
/// (Symlinks are followed: the service's logs are not ours.)
fn read_tail(path: &Path) -> String {
    let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    else {
        return String::new();
    };
    let len = match f.metadata() {
        Ok(m) if m.is_file() => m.len(),
        _ => return String::new(),
    };
    let text = String::from_utf8_lossy(&files::tail(f, LOG_TAIL)).into_owned();
    match (len > LOG_TAIL, text.find('\n')) {
        (true, Some(i)) => text[i + 1..].to_string(),
        _ => text,
    }
}

/// Words of a line that says what went wrong (not a hint of what to run).
pub(super) const TELLING: &[&str] = &[
    "fail",
    "error",
    "invalid",
    "unrecognized",
    "refus",
    "eaddrinuse",
    "denied",
    "cannot",
    "unable",
    "fatal",
    "exception",
    "panic",
];

const ERROR_WORDS: &[&str] = &[
    "error",
    "fatal",
    "panic",
    "exception",
    "failed",
    "failure",
    "refus",
    "invalid",
    "eaddrinuse",
    "unrecognized",
    "denied",
    "cannot",
    "unable",
    "traceback",
];

/// The lines of a log that look like errors, oldest first: JSON lines
/// (OpenClaw's daily log) by their level, plain lines by their words.
pub fn error_lines(text: &str) -> Vec<String> {
    scoped_error_lines(text, &Scope::default(), None)
}

/// `error_lines`, of the lines `scope` keeps.
fn scoped_error_lines(text: &str, scope: &Scope, written: Option<i64>) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = strip_ansi(line);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('{') {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line.as_bytes()) {
                if !scope.keeps(Some(&v), line, written) {
                    continue;
                }
                if let Some(msg) =
                    json_error(&v).filter(|m| m.chars().any(|c| c.is_ascii_alphanumeric()))
                {
                    out.push(msg);
                }
                continue;
            }
        }
        let lower = line.to_ascii_lowercase();
        if ERROR_WORDS.iter().any(|w| lower.contains(w)) && scope.keeps(None, line, written) {
            out.push(line.to_string());
        }
    }
    out
}

/// The words of a JSON log line, whatever its level.
fn json_message(v: &serde_json::Value) -> Option<String> {
    let msg = v["message"]
        .as_str()
        .or(v["msg"].as_str())
        .or(v["0"].as_str())?;
    Some(msg.lines().map(str::trim).collect::<Vec<_>>().join(" / "))
}

/// The message of a JSON log line at level error or fatal.
fn json_error(v: &serde_json::Value) -> Option<String> {
    let level = v["_meta"]["logLevelName"]
        .as_str()
        .or(v["level"].as_str())
        .or(v["severity"].as_str())?
        .to_ascii_lowercase();
    if !matches!(level.as_str(), "error" | "fatal" | "critical") {
        return None;
    }
    let msg = v["message"]
        .as_str()
        .or(v["msg"].as_str())
        .or(v["0"].as_str())?;
    Some(msg.lines().map(str::trim).collect::<Vec<_>>().join(" / "))
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ … final byte in @–~.
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        if !c.is_control() || c == '\t' {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openclaw_json_log_lines_by_level_and_plain_lines_by_words() {
        let log = concat!(
            r#"{"0":"starting","_meta":{"logLevelName":"INFO"},"message":"starting"}"#,
            "\n",
            r#"{"_meta":{"logLevelName":"ERROR"},"message":"Gateway failed to start: Invalid config:\nopenclaw.json:1 — gateway: Unrecognized key: \"bogusKey\""}"#,
            "\n",
            "\u{1b}[90m2026-11-24T16:07:28\u{1b}[39m listening\n",
            "Error: listen EADDRINUSE: address already in use 127.0.0.1:18789\n",
        );
        let lines = error_lines(log);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("Unrecognized key") && lines[0].contains(" / "));
        assert!(lines[1].starts_with("Error: listen EADDRINUSE"));
    }

    #[test]
    fn only_the_incidents_lines_count() {
        let log = concat!(
            r#"{"time":"2026-12-06T10:00:00Z","_meta":{"logLevelName":"ERROR"},"message":"yesterday's healed error"}"#,
            "\n",
            r#"{"time":"2026-12-06T12:00:00Z","pid":77,"_meta":{"logLevelName":"ERROR"},"message":"another gateway on port 18800"}"#,
            "\n",
            r#"{"time":"2026-12-06T12:00:01Z","pid":42,"_meta":{"logLevelName":"ERROR"},"message":"Gateway failed to start: Invalid config"}"#,
            "\n",
            "2026-12-06T09:00:00Z Error: old plain line\n",
            "Error: a line that says no time\n",
        );
        let since = crate::fmt::parse_rfc3339("2026-12-06T11:00:00Z");
        let scope = Scope {
            since,
            pids: vec![42],
        };
        let old_file = since.map(|s| s - 10);
        assert_eq!(
            scoped_error_lines(log, &scope, old_file),
            ["Gateway failed to start: Invalid config"]
        );
        let lines = scoped_error_lines(log, &scope, since);
        assert_eq!(lines.len(), 2, "{lines:?}");
    }

    #[test]
    fn globs_on_file_names() {
        assert!(glob("gateway*.log", "gateway.err.log"));
        assert!(glob("openclaw-????-??-??.log", "openclaw-2026-11-24.log"));
        assert!(!glob("gateway*.log", "gateway.log.1"));
    }
}
