//! Level 4 as the ladder ends: the facts every alert carries, the alert for
//! how the incident ended (recovered by a restart, by the agent, or not at
//! all, with a reminder while it stays open), and the log's call for a human.
//! Delivery and the once-per-incident policy are `crate::alert`'s.

use std::time::Duration;

use super::evidence::Evidence;
use super::level2::Healed;
use super::rollback::{self, Restored};
use super::runbook;
use crate::agent;
use crate::alert::outbox::{self, Spool};
use crate::alert::{incident, Facts, Kind, LevelOutcome};
use crate::config::shellwords;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::probe::Probe;
use crate::sys::metrics::{Metric, HEALTH_FILE};

/// What an alert says about the service now (and, during an incident, its
/// likely cause and the evidence file).
pub fn facts(ctx: &Ctx, probe: &Probe, levels: Vec<LevelOutcome>, ev: Option<&Evidence>) -> Facts {
    let c = ctx.config;
    let mut commands = Vec::new();
    if c.is_openclaw() {
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

/// The levels of a failed level 2, for the alert.
pub fn failed_levels(attempts: u32, summary: String) -> Vec<LevelOutcome> {
    let level2 = match attempts {
        0 if summary.is_empty() => "no restart command configured".to_string(),
        _ => summary,
    };
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

/// Level 2 brought it back: one info message unless someone was paged (then
/// "resolved" says it), and the incident closes.
#[inline(never)]
pub fn restarted(ctx: &mut Ctx, how: Healed, attempts: u32, probe: &Probe) -> Result<()> {
    let detail = match how {
        Healed::ByItself => "it came back by itself during the escalation wait".to_string(),
        Healed::ByRestart => format!("restart attempt {attempts} worked"),
        // Their own message went out (`rolled_back`, `replayed`).
        Healed::ByRollback | Healed::ByRunbook => {
            return incident::close(ctx, &facts(ctx, probe, Vec::new(), None))
        }
    };
    let levels = vec![LevelOutcome {
        level: 2,
        ok: true,
        detail,
    }];
    if !paged(ctx) {
        incident::alert_once(ctx, Kind::Recovered, &facts(ctx, probe, levels, None))?;
        return incident::close(ctx, &facts(ctx, probe, Vec::new(), None));
    }
    incident::close(ctx, &facts(ctx, probe, levels, None))
}

/// The last working config brought it back: a warning (a file of the
/// user's was replaced), with where their version is and what differed.
pub fn rolled_back(ctx: &mut Ctx, probe: &Probe, restored: &[Restored]) -> Result<()> {
    let mut note = String::new();
    for r in restored {
        let name = r
            .change
            .file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        note.push_str(&format!(
            "Restored the last working {name} ({}). ",
            r.change.file.display()
        ));
        match &r.aside {
            Some(a) => note.push_str(&format!("Your version is kept at {}.", a.display())),
            None => note.push_str("There was no file."),
        }
        note.push_str("\nWhat differed (- yours, + restored):\n");
        note.push_str(
            &rollback::diff(r.change.current.as_deref(), &r.change.good_bytes, 8).join("\n"),
        );
        note.push('\n');
    }
    let mut f = facts(ctx, probe, Vec::new(), None);
    f.note = Some(note.trim_end().to_string());
    f.commands = vec!["selfheal rollback --list".into()];
    outbox::send(ctx, Kind::RolledBack, &f, Spool::Outbox).map(|_| ())
}

/// A fix learned from the agent brought it back.
pub fn replayed(ctx: &mut Ctx, probe: &Probe, entry: &runbook::Entry) -> Result<()> {
    let mut f = facts(ctx, probe, Vec::new(), None);
    f.note = Some(format!(
        "Healed by a fix learned on {} ({}), without an agent. What ran: {}",
        entry.learned_on(),
        entry.text("root_cause"),
        entry.script.display()
    ));
    f.commands = vec![format!("selfheal runbook show {}", entry.id)];
    outbox::send(ctx, Kind::LearnedFix, &f, Spool::Outbox).map(|_| ())
}

/// The agent brought it back: one info message, or "resolved" if someone
/// was paged, with the agent's root cause and fix from its report.
pub fn agent_recovered(
    ctx: &mut Ctx,
    probe: &Probe,
    levels: Vec<LevelOutcome>,
    outcome: &agent::Outcome,
) -> Result<()> {
    let mut f = facts(ctx, probe, levels, None);
    let mut note = String::from("Recovered by the AI agent.");
    if let Some(cause) = &outcome.root_cause {
        note.push_str(&format!("\nRoot cause: {cause}"));
    }
    if let Some(fix) = &outcome.solution {
        note.push_str(&format!("\nSolution applied: {fix}"));
    }
    f.note = Some(note);
    if !paged(ctx) {
        incident::alert_once(ctx, Kind::AgentRecovered, &f)?;
    }
    incident::close(ctx, &f)
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
