//! Log rotation: delete this tool's dated logs older than the retention.
//!
//! Only files whose whole name is one of the tool's dated patterns
//! (`healthcheck-YYYY-MM-DD.log`, `emergency-recovery-<TS>.log`,
//! `claude-session-<TS>.log`) and that are regular files are candidates; age
//! is the modification time, as with the scripts' `find -mtime`. Metrics,
//! state, reports, learnings and anything else are never touched.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};

/// The files in `dir` that rotation would delete now.
pub fn candidates(dir: &Path, retention_days: u32, now: SystemTime) -> Result<Vec<PathBuf>> {
    let max_age = Duration::from_secs(u64::from(retention_days) * 86400);
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut old = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_tool_log(name) {
            continue;
        }
        // DirEntry::metadata does not follow symlinks.
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok());
        if age.is_some_and(|a| a > max_age) {
            old.push(entry.path());
        }
    }
    old.sort();
    Ok(old)
}

/// `emergency-recovery-<TS>.log`, the level 3 log.
pub fn is_level3_log(name: &str) -> bool {
    name.strip_suffix(".log")
        .and_then(|s| s.strip_prefix("emergency-recovery-"))
        .is_some_and(is_timestamp)
}

fn is_tool_log(name: &str) -> bool {
    if let Some(ts) = name
        .strip_suffix(".md")
        .and_then(|s| s.strip_prefix("incident-"))
    {
        return is_compact_timestamp(ts);
    }
    let Some(stem) = name.strip_suffix(".log") else {
        return false;
    };
    if let Some(date) = stem.strip_prefix("healthcheck-") {
        return is_date(date);
    }
    ["emergency-recovery-", "claude-session-"]
        .iter()
        .filter_map(|p| stem.strip_prefix(p))
        .any(is_timestamp)
}

/// `YYYY-MM-DD`
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// `YYYY-MM-DD-HHMMSS`, or the old scripts' `YYYY-MM-DD-HHMM`.
fn is_timestamp(s: &str) -> bool {
    match s.split_at_checked(10) {
        Some((date, rest)) => {
            is_date(date)
                && rest.starts_with('-')
                && matches!(rest.len(), 5 | 7)
                && rest[1..].bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// `YYYYMMDD-HHMMSS` (the incident files' stamp).
fn is_compact_timestamp(s: &str) -> bool {
    s.len() == 15
        && s.bytes().enumerate().all(|(i, c)| match i {
            8 => c == b'-',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_tools_dated_logs() {
        for yes in [
            "healthcheck-2026-01-02.log",
            "emergency-recovery-2026-01-02-0304.log",
            "emergency-recovery-2026-01-02-030405.log",
            "claude-session-2026-01-02-030405.log",
            "incident-20260102-030405.md",
        ] {
            assert!(is_tool_log(yes), "{yes}");
        }
        for no in [
            "healthcheck-2026-01-02.log.bak",
            "healthcheck-latest.log",
            "healthcheck-2026-1-02.log",
            "emergency-recovery-report-2026-01-02-030405.md",
            "emergency-recovery-2026-01-02-030405.md",
            "recovery-learnings.md",
            ".healthcheck-metrics.json",
            "my-notes.log",
            "claude-session-2026-01-02.log",
            "incident-2026-01-02.md",
            "incident-20260102-030405.md.bak",
        ] {
            assert!(!is_tool_log(no), "{no}");
        }
    }
}
