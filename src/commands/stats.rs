//! `selfheal stats`: a summary of both metrics files, streamed line by line
//! in constant memory. Malformed lines (garbage, half a line, a line of a
//! megabyte) are skipped and counted, never fatal. The recovery counts are
//! the old scripts' jq query's; the rest is derived from the same lines.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Serialize;

use super::Verdict;
use crate::cli::Format;
use crate::config::Config;
use crate::sys::clock::unix_now;
use crate::sys::log;
use crate::sys::metrics::{self, EMERGENCY_FILE, HEALTH_FILE};

/// Longer lines are not metrics lines: skipped without being buffered whole.
const LINE_MAX: usize = 64 * 1024;

#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Stats {
    pub days: u32,
    pub lines: u64,
    pub malformed: u64,
    /// Runs that found the service healthy (`health_check`).
    pub healthy_runs: u64,
    /// Runs that found it unhealthy (one `recovery` line each).
    pub unhealthy_runs: u64,
    pub healthy_percent: Option<f64>,
    pub restarts: BTreeMap<String, u64>,
    pub recovery: BTreeMap<String, u64>,
    /// What healed the unhealthy runs that healed: restart, repair,
    /// rollback, learned_fix, agent, service_manager, itself.
    pub healed_by: BTreeMap<String, u64>,
    pub level3: BTreeMap<String, u64>,
    pub level3_mean_seconds: Option<f64>,
    pub alerts: BTreeMap<String, u64>,
    /// Share of unhealthy runs that ended healthy without a human.
    pub autonomous_percent: Option<f64>,
    /// Mean downtime of the incidents that were resolved.
    pub mttr_seconds: Option<f64>,
    pub incidents: u64,
    /// Unix time of the last `recovery` or `incident` line.
    pub last_incident: Option<i64>,
    pub last_incident_result: Option<String>,
    /// Failed probes that were healthy again on a re-probe (nothing healed).
    pub blips: u64,
    /// Runs in which the crash-loop brake held a restart back.
    pub brakes: u64,
    /// Flapping episodes detected.
    pub flapping: u64,
    /// The slowest boot after a restart (what the boot-aware wait learns from).
    pub slowest_boot_seconds: Option<f64>,
    /// The slowest probe that got an answer.
    pub slowest_probe_seconds: Option<f64>,
}

pub fn run(config: &Config, days: u32, format: Format) -> Verdict {
    let s = summarize(&config.memory_dir, days, unix_now());
    let text = match format {
        Format::Json => format!("{}\n", serde_json::to_string(&s).unwrap_or_default()),
        Format::Text => render(&s),
    };
    log::print(&text);
    Verdict::Ok
}

/// Summarizes the metrics in `dir` newer than `days` (0: all).
pub fn summarize(dir: &Path, days: u32, now: i64) -> Stats {
    let files = [HEALTH_FILE, EMERGENCY_FILE]
        .iter()
        .filter_map(|f| crate::sys::files::open_read(&dir.join(f)).ok());
    summarize_from(files, days, now)
}

/// Summarizes metrics lines read from `readers` (the fuzz target's entry).
pub fn summarize_from<R: Read>(readers: impl IntoIterator<Item = R>, days: u32, now: i64) -> Stats {
    let since = if days == 0 {
        i64::MIN
    } else {
        now.saturating_sub(i64::from(days) * 86400)
    };
    let mut s = Stats {
        days,
        ..Stats::default()
    };
    let mut l3_total = 0.0;
    let mut l3_runs = 0u64;
    let mut downtime = 0.0;
    for f in readers {
        each_line(f, |bytes| {
            s.lines += 1;
            let Some(line) = metrics::parse_line(bytes) else {
                s.malformed += 1;
                return;
            };
            if line.timestamp < since {
                return;
            }
            let result = line.result.as_ref();
            let bump = |map: &mut BTreeMap<String, u64>| {
                *map.entry(result.to_string()).or_default() += 1;
            };
            match line.metric.as_ref() {
                "health_check" => s.healthy_runs += 1,
                "gateway_restart" => bump(&mut s.restarts),
                "recovery" => {
                    bump(&mut s.recovery);
                    // The old scripts' lines have no `by`: a success was
                    // their restart, self_healed came back by itself.
                    let by = match (line.by.as_deref(), result) {
                        (Some(by), _) => Some(by),
                        (None, "success") => Some("restart"),
                        (None, "self_healed") => Some("itself"),
                        _ => None,
                    };
                    if let Some(by) = by {
                        *s.healed_by.entry(by.to_string()).or_default() += 1;
                    }
                    s.unhealthy_runs += 1;
                    if s.last_incident.is_none_or(|t| line.timestamp >= t) {
                        s.last_incident = Some(line.timestamp);
                        s.last_incident_result = Some(format!("recovery {result}"));
                    }
                }
                "emergency_recovery" => {
                    bump(&mut s.level3);
                    if result == "true" {
                        *s.healed_by.entry("agent".into()).or_default() += 1;
                    }
                    if result == "true" || result == "false" {
                        l3_total += line.duration;
                        l3_runs += 1;
                    }
                }
                "alert" => bump(&mut s.alerts),
                "blip" => s.blips += 1,
                "brake" => s.brakes += 1,
                "flapping" if result == "detected" => s.flapping += 1,
                "http_check" if result != "000" && line.duration.is_finite() => {
                    let slowest = s.slowest_probe_seconds.get_or_insert(0.0);
                    *slowest = slowest.max(line.duration);
                }
                "boot" if line.duration.is_finite() => {
                    let slowest = s.slowest_boot_seconds.get_or_insert(0.0);
                    *slowest = slowest.max(line.duration);
                }
                "incident" => {
                    s.incidents += 1;
                    downtime += line.duration;
                    if s.last_incident.is_none_or(|t| line.timestamp >= t) {
                        s.last_incident = Some(line.timestamp);
                        s.last_incident_result = Some(format!("incident {result}"));
                    }
                }
                _ => {}
            }
        });
    }
    let runs = s.healthy_runs + s.unhealthy_runs;
    s.healthy_percent = percent(s.healthy_runs, runs);
    let count = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    let autonomous = count(&s.recovery, "success")
        + count(&s.recovery, "self_healed")
        + count(&s.level3, "true");
    s.autonomous_percent = percent(autonomous.min(s.unhealthy_runs), s.unhealthy_runs);
    s.level3_mean_seconds = (l3_runs > 0).then(|| round(l3_total / l3_runs as f64));
    s.mttr_seconds = (s.incidents > 0).then(|| round(downtime / s.incidents as f64));
    s
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round(100.0 * part as f64 / whole as f64))
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Calls `f` with each line (without its newline); lines longer than
/// `LINE_MAX` are passed as empty (and so count as malformed) without being
/// held in memory.
fn each_line(file: impl Read, mut f: impl FnMut(&[u8])) {
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut line: Vec<u8> = Vec::with_capacity(1024);
    let mut too_long = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok([]) => break,
            Ok(c) => c,
            Err(_) => break,
        };
        let (used, end) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, Some(i)),
            None => (chunk.len(), None),
        };
        let part = &chunk[..end.unwrap_or(used)];
        // The common case: a whole line inside the buffer, passed as it is.
        if let (Some(_), true, false) = (end, line.is_empty(), too_long) {
            if part.len() <= LINE_MAX {
                f(part);
            } else {
                f(b"");
            }
            reader.consume(used);
            continue;
        }
        if !too_long {
            if line.len() + part.len() > LINE_MAX {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(part);
            }
        }
        reader.consume(used);
        if end.is_some() {
            f(if too_long { b"" } else { &line });
            line.clear();
            too_long = false;
        }
    }
    if !line.is_empty() || too_long {
        f(if too_long { b"" } else { &line });
    }
}

/// The human-readable summary.
pub fn render(s: &Stats) -> String {
    let count = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    let pct = |p: Option<f64>| p.map_or("-".to_string(), |p| format!("{p}%"));
    // Seconds as people read them: 12 ms, 3.2 s, 4m 10s.
    let secs = |p: Option<f64>| {
        p.map_or("-".to_string(), |p| {
            if p < 1.0 {
                format!("{} ms", (p * 1000.0).round())
            } else {
                crate::fmt::fmt_secs(std::time::Duration::from_secs_f64(p.min(1e9)))
            }
        })
    };
    let period = match s.days {
        0 => "all time".to_string(),
        1 => "the last day".to_string(),
        n => format!("last {n} days"),
    };
    const HEALERS: [(&str, &str); 7] = [
        ("restart", "a restart"),
        ("repair", "the repair command"),
        ("rollback", "the last working config"),
        ("learned_fix", "a learned fix"),
        ("agent", "the agent"),
        ("service_manager", "its service manager"),
        ("itself", "itself"),
    ];
    let healed: u64 = s.healed_by.values().sum();
    let by: Vec<String> = HEALERS
        .iter()
        .filter(|(k, _)| count(&s.healed_by, k) > 0)
        .map(|(k, words)| format!("{} by {words}", count(&s.healed_by, k)))
        .collect();
    let healed = match healed {
        0 => "none".to_string(),
        n => format!(
            "{n} of {} unhealthy run(s): {}",
            s.unhealthy_runs,
            by.join(", ")
        ),
    };
    let restarts: u64 = s.restarts.values().sum();
    let restarts = match restarts {
        0 => "none".to_string(),
        n => format!(
            "{n} run: {} exited 0, {} failed, {} timed out (whether one healed is above)",
            count(&s.restarts, "success"),
            count(&s.restarts, "failed"),
            count(&s.restarts, "timeout")
        ),
    };
    let runs = count(&s.level3, "true") + count(&s.level3, "false");
    let level3 = match runs {
        0 => "not run".to_string(),
        n => format!(
            "{n} run(s), {} healed, mean {}",
            count(&s.level3, "true"),
            secs(s.level3_mean_seconds)
        ),
    };
    let last = match (s.last_incident, &s.last_incident_result) {
        (Some(t), Some(r)) => format!(
            "{} ({r})",
            crate::sys::log::stamp(crate::sys::clock::local_at(t))
        ),
        _ => "none".into(),
    };
    let alerts = if s.alerts.is_empty() {
        "none".to_string()
    } else {
        s.alerts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "selfheal stats, {period}\n\
         checks:              {} ({} healthy, {} unhealthy), healthy {}\n\
         healed:              {healed}\n\
         without a human:     {} of unhealthy runs\n\
         restart commands:    {restarts}\n\
         level 3 (agent):     {level3}\n\
         mean time to recovery: {} over {} incident(s)\n\
         alerts:              {alerts}\n\
         blips:               {} (healthy again on a re-probe; nothing healed)\n\
         crash-loop brakes:   {}; flapping episodes: {}; slowest boot: {}\n\
         slowest probe:       {}\n\
         last incident:       {last}\n\
         lines read:          {} ({} malformed, skipped)\n",
        s.healthy_runs + s.unhealthy_runs,
        s.healthy_runs,
        s.unhealthy_runs,
        pct(s.healthy_percent),
        pct(s.autonomous_percent),
        secs(s.mttr_seconds),
        s.incidents,
        s.blips,
        s.brakes,
        s.flapping,
        secs(s.slowest_boot_seconds.map(round)),
        secs(s.slowest_probe_seconds),
        s.lines,
        s.malformed,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_and_long_lines_skipped() {
        let data = format!("a\nbb\n{}\nccc", "x".repeat(LINE_MAX + 10));
        let mut got = Vec::new();
        each_line(data.as_bytes(), |l| {
            got.push(String::from_utf8_lossy(l).into_owned())
        });
        assert_eq!(got, vec!["a", "bb", "", "ccc"]);
    }
}
