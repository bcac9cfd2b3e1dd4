//! `SELFHEAL_PROM_FILE`: the Prometheus text format for node_exporter's
//! textfile collector, written after every `check` to a temp file in the
//! same directory and renamed, so the collector never reads half a file.
//! Counters live in the state file, so they only grow across runs.

use std::collections::BTreeMap;
use std::fmt::Write;

/// What the gauges say about the last run.
pub struct Gauges<'a> {
    pub url: &'a str,
    pub up: bool,
    pub probe_seconds: f64,
    pub now: i64,
    pub incident_open: bool,
    pub paused: bool,
    /// Restarts within `SELFHEAL_RESTART_WINDOW` (the crash-loop brake's count).
    pub restarts_in_window: usize,
    pub crash_loop: bool,
    pub flapping: bool,
}

/// The exposition text.
pub fn render(g: &Gauges, counters: &BTreeMap<String, u64>) -> String {
    let Gauges {
        url,
        up,
        probe_seconds,
        now,
        incident_open,
        paused,
        ..
    } = *g;
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, labels: &str, value: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name}{labels} {value}"
        );
    };
    gauge(
        "selfheal_up",
        "1 if the service was healthy at the end of the last run.",
        &format!("{{url=\"{}\"}}", escape(url)),
        u8::from(up).to_string(),
    );
    gauge(
        "selfheal_probe_duration_seconds",
        "Duration of the first probe of the last run.",
        "",
        format!("{probe_seconds:.6}"),
    );
    gauge(
        "selfheal_last_run_timestamp_seconds",
        "Unix time of the last run.",
        "",
        now.to_string(),
    );
    gauge(
        "selfheal_incident_open",
        "1 while an incident is open.",
        "",
        u8::from(incident_open).to_string(),
    );
    gauge(
        "selfheal_paused",
        "1 during a maintenance window.",
        "",
        u8::from(paused).to_string(),
    );
    gauge(
        "selfheal_restarts_in_window",
        "Restarts run within SELFHEAL_RESTART_WINDOW.",
        "",
        g.restarts_in_window.to_string(),
    );
    gauge(
        "selfheal_crash_loop",
        "1 while the crash-loop brake holds restarts back.",
        "",
        u8::from(g.crash_loop).to_string(),
    );
    gauge(
        "selfheal_flapping",
        "1 while the service is flapping (healed and down again within the window).",
        "",
        u8::from(g.flapping).to_string(),
    );
    let _ = writeln!(
        out,
        "# HELP selfheal_events_total Events recorded in the metrics files, by metric and \
         result.\n# TYPE selfheal_events_total counter"
    );
    for (key, n) in counters {
        let (metric, result) = key.split_once(':').unwrap_or((key, ""));
        let _ = writeln!(
            out,
            "selfheal_events_total{{metric=\"{}\",result=\"{}\"}} {n}",
            escape(metric),
            escape(result)
        );
    }
    out
}

/// Label values: backslash, double quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
