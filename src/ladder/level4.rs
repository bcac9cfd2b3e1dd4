//! Level 4 as the ladder ends: the facts every alert carries, the alert for
//! how the incident ended (recovered by a restart, by the agent, or not at
//! all, with a reminder while it stays open), and the log's call for a human.
//! Delivery and the once-per-incident policy are `crate::alert`'s.

use super::level2::Healed;
use crate::alert::{incident, Facts, Kind, LevelOutcome};
use crate::config::shellwords;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::probe::Probe;

/// What an alert says about the service now.
pub fn facts(ctx: &Ctx, probe: &Probe, levels: Vec<LevelOutcome>) -> Facts {
    let c = ctx.config;
    let mut commands = Vec::new();
    if c.is_openclaw() {
        commands.push("openclaw status".to_string());
    }
    if !c.restart_cmd.is_empty() {
        commands.push(shellwords::join(&c.restart_cmd));
    }
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
    }
}

/// The levels of a failed level 2, for the alert.
pub fn failed_levels(ctx: &Ctx, attempts: u32, last_command: Option<String>) -> Vec<LevelOutcome> {
    let level2 = match (attempts, last_command) {
        (0, _) => "no restart command configured".to_string(),
        (n, Some(last)) => format!(
            "{n} restart attempt(s), the last {last}; then waited {}",
            fmt_secs(ctx.config.escalation_wait)
        ),
        (n, None) => format!("{n} restart attempt(s)"),
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
    };
    let levels = vec![LevelOutcome {
        level: 2,
        ok: true,
        detail,
    }];
    if !paged(ctx) {
        incident::alert_once(ctx, Kind::Recovered, &facts(ctx, probe, levels))?;
        return incident::close(ctx, &facts(ctx, probe, Vec::new()));
    }
    incident::close(ctx, &facts(ctx, probe, levels))
}

/// The agent brought it back: one info message, or "resolved" if someone
/// was paged.
pub fn agent_recovered(ctx: &mut Ctx, probe: &Probe, levels: Vec<LevelOutcome>) -> Result<()> {
    let mut f = facts(ctx, probe, levels);
    f.note = Some("Recovered by the AI agent.".into());
    if !paged(ctx) {
        incident::alert_once(ctx, Kind::AgentRecovered, &f)?;
    }
    incident::close(ctx, &f)
}

/// Every level failed: the final alert once (a reminder later, if asked
/// for), and the log's call for a human.
#[inline(never)]
pub fn failed(ctx: &mut Ctx, probe: &Probe, levels: Vec<LevelOutcome>) -> Result<()> {
    let facts = facts(ctx, probe, levels);
    if !incident::alert_once(ctx, Kind::Failed, &facts)? {
        incident::remind(ctx, &facts)?;
    }
    ctx.log.warn(format!(
        "MANUAL INTERVENTION REQUIRED: try `{}`",
        facts.commands.join("`, `")
    ));
    Ok(())
}

fn paged(ctx: &Ctx) -> bool {
    ctx.state.incident.as_ref().is_some_and(|i| i.paged())
}
