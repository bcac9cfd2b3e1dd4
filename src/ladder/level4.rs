//! Level 4 as the ladder ends: the facts every alert carries, the one alert
//! for how the incident ended (`concluded`: by a restart, a restored config,
//! a learned fix, the agent; `failed`: not at all, with a reminder while it
//! stays open), the log's call for a human, and the flapping and stable
//! warnings. Delivery and the once-per-incident policy are `crate::alert`'s.

use std::time::Duration;

use super::evidence::Evidence;
use super::{Climb, Outcome};
use crate::alert::outbox::{self, Spool};
use crate::alert::{incident, Facts, Kind, LevelOutcome};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::key::shellwords;
use crate::probe::Probe;
use crate::sys::metrics::{Metric, HEALTH_FILE};

/// What an alert says about the service now (and, during an incident, its
/// likely cause and the evidence file).
pub fn facts(ctx: &Ctx, probe: &Probe, levels: Vec<LevelOutcome>, ev: Option<&Evidence>) -> Facts {
    let c = ctx.config;
    let mut commands = Vec::new();
    if ctx.openclaw() {
        commands.push(crate::openclaw::STATUS_COMMAND.to_string());
    }
    if !c.restart_cmd.is_empty() {
        commands.push(shellwords::join(&c.restart_cmd));
    }
    commands.push("selfheal why".to_string());
    commands.push("selfheal probe".to_string());
    Facts {
        host: ctx.host.clone(),
        url: c.shown_url.clone(),
        status: probe.status_text(),
        reason: probe.reason.clone(),
        levels,
        down_for: incident::downtime(ctx),
        log_path: ctx.log.path_for_today().map(|p| p.display().to_string()),
        commands,
        note: None,
        cause: ev.map(Evidence::likely_cause).unwrap_or_default(),
        evidence: ev
            .and_then(|e| e.path.as_ref())
            .map(|p| p.display().to_string()),
    }
}

/// The levels of a climb that did not heal, for the alert: level 1 did not
/// bring it back, level 2 did `level2`.
pub fn failed_levels(level2: String) -> Vec<LevelOutcome> {
    vec![
        LevelOutcome {
            level: 1,
            ok: false,
            detail: "the service manager did not bring it back".into(),
        },
        LevelOutcome {
            level: 2,
            ok: false,
            detail: level2,
        },
    ]
}

/// The service is back: the incident's last word, then the incident
/// closes. What it says is the outcome's (`Outcome::told`); how it is told
/// is decided here, for every outcome: a message whatever was said before
/// when something ran or changed that nobody asked for; otherwise one
/// message unless someone was paged, and then "resolved" says it.
#[inline(never)]
pub fn concluded(ctx: &mut Ctx, outcome: &Outcome, climb: &Climb) -> Result<()> {
    let probe = &climb.probe;
    let told = outcome.told(climb);
    let mut f = facts(ctx, probe, told.levels, None);
    f.note = told.note;
    if let Some(commands) = told.commands {
        f.commands = commands;
    }
    let bare = facts(ctx, probe, Vec::new(), None);
    if told.always {
        outbox::send(ctx, told.kind, &f, Spool::Outbox)?;
        return incident::close(ctx, &bare);
    }
    if paged(ctx) {
        // "resolved" says it, with what worked.
        return incident::close(ctx, &f);
    }
    if !told.quiet {
        incident::alert_once(ctx, told.kind, &f)?;
    }
    incident::close(ctx, &bare)
}

/// Every level failed: the final alert once (a reminder later, if asked
/// for), and the log's call for a human.
#[inline(never)]
pub fn failed(
    ctx: &mut Ctx,
    probe: &Probe,
    levels: Vec<LevelOutcome>,
    ev: &Evidence,
) -> Result<()> {
    let facts = facts(ctx, probe, levels, Some(ev));
    if !incident::alert_once(ctx, Kind::Failed, &facts)? {
        incident::remind(ctx, &facts)?;
    }
    ctx.log.warn(format!(
        "MANUAL INTERVENTION REQUIRED: try `{}`",
        facts.commands.join("`, `")
    ));
    Ok(())
}

/// It keeps coming back and falling again: one warning per episode.
pub fn flapping(ctx: &mut Ctx, probe: &Probe, ev: &Evidence, fact: String) -> Result<()> {
    ctx.record(HEALTH_FILE, Metric::new("flapping", "detected", 0.0));
    ctx.log.warn(fact.clone());
    let mut f = facts(ctx, probe, Vec::new(), Some(ev));
    f.cause.insert(0, fact);
    f.cause.truncate(5);
    outbox::send(ctx, Kind::Flapping, &f, Spool::Outbox).map(|_| ())
}

/// Stable for a whole window after flapping.
pub fn stable(ctx: &mut Ctx, probe: &Probe, quiet: Duration) -> Result<()> {
    ctx.record(
        HEALTH_FILE,
        Metric::new("flapping", "resolved", quiet.as_secs_f64()),
    );
    let mut f = facts(ctx, probe, Vec::new(), None);
    f.note = Some(format!("No failure for {}.", fmt_secs(quiet)));
    ctx.log.info(format!(
        "stable again: no failure for {} after flapping",
        fmt_secs(quiet)
    ));
    outbox::send(ctx, Kind::Stable, &f, Spool::Outbox).map(|_| ())
}

fn paged(ctx: &Ctx) -> bool {
    ctx.state.incident.as_ref().is_some_and(|i| i.paged())
}
