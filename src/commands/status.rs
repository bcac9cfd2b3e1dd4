//! `selfheal status` (like `monit status`): what selfheal is doing for the
//! service right now — the last check and its result, the open incident (how
//! long, who was paged, a run in progress), a maintenance window in force,
//! the scheduler, the heartbeat, queued alerts, and what holds selfheal back
//! (the crash-loop brake, flapping, the agent's cooldown, failing channels;
//! a service live but not ready, or holding something back itself;
//! `selfheal reset` clears them) and the last rollback. Read-only: it probes nothing,
//! takes no lock and moves no file (a corrupt state is only reported).

use serde::Serialize;

use super::doctor::{self, Status as Mark};
use super::Verdict;
use crate::cli::Format;
use crate::config::Config;
use crate::fmt::{between, fmt_secs};
use crate::state;
use crate::sys::clock::{local_at, unix_now};
use crate::sys::log::{self, stamp};
use crate::sys::metrics::{self, HEALTH_FILE};

#[derive(Debug, Serialize)]
struct Report {
    service: String,
    /// `2026-11-24 17:30:01, HTTP 200` from the metrics, or none yet.
    last_check: Option<String>,
    last_check_unix: Option<i64>,
    incident: Option<String>,
    paused_until: Option<String>,
    scheduler: String,
    scheduler_ok: bool,
    heartbeat: Option<String>,
    queued_alerts: usize,
    /// The crash-loop brake, when it holds restarts back.
    brake: Option<String>,
    /// Since when it flaps.
    flapping: Option<String>,
    /// How long no agent is started after a failed level 3.
    agent_cooldown: Option<String>,
    /// `2026-12-06 20:10:01, success`.
    last_rollback: Option<String>,
    /// Alert channels that fail, since when, and their next try.
    failing_channels: Vec<String>,
    /// Live but not ready, or what the service holds back itself.
    readiness: Option<String>,
}

pub fn run(config: &Config, format: Format) -> Verdict {
    let r = report(config);
    let text = match format {
        Format::Json => format!("{}\n", serde_json::to_string(&r).unwrap_or_default()),
        Format::Text => render(&r),
    };
    log::print(&text);
    Verdict::Ok
}

fn report(c: &Config) -> Report {
    let dir = &c.memory_dir;
    let now = unix_now();
    let last = metrics::last(dir, HEALTH_FILE, "http_check");
    let state = state::peek(dir).unwrap_or_default();
    let incident = state.incident.as_ref().map(|i| {
        let reason = if i.reason.starts_with("status ") {
            i.reason.clone()
        } else {
            format!("{} (status {})", i.reason, i.status)
        };
        let mut s = format!(
            "open since {} ({}): {reason}",
            stamp(local_at(i.started)),
            fmt_secs(between(i.started, now)),
        );
        let paged: Vec<&str> = i.alerted.iter().map(|k| k.key()).collect();
        s.push_str(&match paged.is_empty() {
            true => "; nobody paged yet".to_string(),
            false => format!("; sent: {}", paged.join(", ")),
        });
        if let Some(r) = &state.running {
            s.push_str(&format!(
                "; a run (pid {}) is in {} since {}",
                r.pid,
                r.step.as_str(),
                stamp(local_at(r.since))
            ));
        }
        s
    });
    let paused = state::paused_until(dir)
        .filter(|&u| u > now)
        .map(|u| ("`selfheal pause`".to_string(), u))
        .or_else(|| {
            super::pause::scheduled_now(c).map(|(w, u)| (format!("maintenance window {w}"), u))
        })
        .map(|(why, u)| {
            format!(
                "{} ({} from now; {why})",
                stamp(local_at(u)),
                fmt_secs(between(now, u))
            )
        });
    let scheduler = doctor::scheduler();
    let brake = crate::ladder::brake::holding(&state.brake, c, now)
        .map(|b| format!("{b} (`selfheal reset` clears it once the cause is fixed)"));
    let flapping = state.brake.flapping_since.map(|t| {
        format!(
            "since {} ({} ago; `selfheal reset` clears it)",
            stamp(local_at(t)),
            fmt_secs(between(t, now))
        )
    });
    let agent_cooldown = state.agent_cooldown_until.filter(|&u| u > now).map(|u| {
        format!(
            "{} left (`selfheal reset` clears it)",
            fmt_secs(between(now, u))
        )
    });
    let last_rollback = metrics::last(dir, HEALTH_FILE, "rollback")
        .map(|(t, result)| format!("{}, {result}", stamp(local_at(t))));
    let since = |t: i64| {
        format!(
            "since {} ({} ago)",
            stamp(local_at(t)),
            fmt_secs(between(t, now))
        )
    };
    let readiness = match (&state.not_ready, &state.held_back) {
        (Some(n), _) => Some(format!(
            "{} {}, {} check(s) in a row",
            crate::probe::not_ready_reason(&n.failing),
            since(n.since),
            n.checks
        )),
        (None, Some(h)) => Some(format!(
            "the service holds back {} itself {} (OpenClaw's restart-loop breaker: it starts \
             them itself about 6 minutes after a boot with no crash before it; healed as not \
             ready only if still so once it has been up 15 minutes)",
            h.names.join(", "),
            since(h.since)
        )),
        (None, None) => None,
    };
    Report {
        readiness,
        brake,
        flapping,
        agent_cooldown,
        last_rollback,
        failing_channels: crate::alert::backoff::failing(&state.channels),
        service: c.shown_url.clone(),
        last_check: last.as_ref().map(|(t, result)| {
            let result = match result.as_str() {
                "000" => "no answer".to_string(),
                s => format!("HTTP {s}"),
            };
            format!("{}, {result}", stamp(local_at(*t)))
        }),
        last_check_unix: last.map(|(t, _)| t),
        incident,
        paused_until: paused,
        // Doctor's verdict, not another: only its ✗ is a problem here.
        scheduler_ok: scheduler.status != Mark::Fail,
        scheduler: scheduler.detail,
        heartbeat: c
            .heartbeat_url
            .as_ref()
            .map(|u| crate::sys::redact::secret_url(u.expose())),
        queued_alerts: state.outbox.len(),
    }
}

fn render(r: &Report) -> String {
    let or = |v: &Option<String>, none: &str| v.clone().unwrap_or_else(|| none.to_string());
    format!(
        "selfheal status\n\
         service:      {}\n\
         last check:   {}\n\
         incident:     {}\n\
         readiness:    {}\n\
         maintenance:  {}\n\
         scheduler:    {}{}\n\
         heartbeat:    {}\n\
         queued alerts: {}\n\
         brake:        {}\n\
         flapping:     {}\n\
         agent cooldown: {}\n\
         last rollback: {}\n\
         channels:     {}\n",
        r.service,
        or(&r.last_check, "none recorded yet"),
        or(&r.incident, "none"),
        or(&r.readiness, "nothing said against it"),
        or(
            &r.paused_until.as_ref().map(|u| format!("paused until {u}")),
            "none"
        ),
        r.scheduler,
        if r.scheduler_ok {
            ""
        } else {
            " (✗: see `selfheal doctor`)"
        },
        or(&r.heartbeat, "not configured"),
        r.queued_alerts,
        or(&r.brake, "not holding"),
        or(&r.flapping, "no"),
        or(&r.agent_cooldown, "none"),
        or(&r.last_rollback, "none"),
        match r.failing_channels.is_empty() {
            true => "none failing".to_string(),
            false => r.failing_channels.join("; "),
        },
    )
}
