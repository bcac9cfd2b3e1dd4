//! `SELFHEAL_PROM_FILE`: the Prometheus text format for node_exporter's
//! textfile collector, written after every `check` to a temp file in the
//! same directory and renamed, so the collector never reads half a file.
//! Counters live in the state file, so they only grow across runs.

use std::collections::BTreeMap;
use std::fmt::Write;

/// What the gauges say about the last run.
pub struct Gauges<'a> {
    /// The `host` and `service` labels every series carries, so that one
    /// Prometheus tells the services of a fleet apart.
    pub host: &'a str,
    pub service: &'a str,
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

/// What only grows: events by metric and result, heals by what healed,
/// seconds of downtime.
pub struct Counters<'a> {
    pub events: &'a BTreeMap<String, u64>,
    pub heals: &'a BTreeMap<String, u64>,
    pub downtime_seconds: u64,
}

/// The exposition text.
pub fn render(g: &Gauges, c: &Counters) -> String {
    let Gauges {
        host,
        service,
        url,
        up,
        probe_seconds,
        now,
        incident_open,
        paused,
        ..
    } = *g;
    let mut out = String::new();
    let who = format!("host=\"{}\",service=\"{}\"", escape(host), escape(service));
    let mut gauge = |name: &str, help: &str, labels: &str, value: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name}{{{who}{labels}}} {value}"
        );
    };
    gauge(
        "selfheal_up",
        "1 if the service was healthy at the end of the last run.",
        &format!(",url=\"{}\"", escape(url)),
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
    for (key, n) in c.events {
        let (metric, result) = key.split_once(':').unwrap_or((key, ""));
        let _ = writeln!(
            out,
            "selfheal_events_total{{{who},metric=\"{}\",result=\"{}\"}} {n}",
            escape(metric),
            escape(result)
        );
    }
    let _ = writeln!(
        out,
        "# HELP selfheal_heals_total Incidents healed, by what healed them (restart, \
         rollback, agent, ...).\n# TYPE selfheal_heals_total counter"
    );
    for (by, n) in c.heals {
        let _ = writeln!(
            out,
            "selfheal_heals_total{{{who},by=\"{}\"}} {n}",
            escape(by)
        );
    }
    let _ = writeln!(
        out,
        "# HELP selfheal_downtime_seconds_total Downtime of the resolved incidents, summed.\n\
         # TYPE selfheal_downtime_seconds_total counter\n\
         selfheal_downtime_seconds_total{{{who}}} {}",
        c.downtime_seconds
    );
    out
}

/// Label values: backslash, double quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
