//! Level 3's gate: whether an AI agent may start now (configured, not in its
//! cooldown after a failure, tmux and an agent installed), the "escalating"
//! alert before it does, and the run's step in the state while it works. The
//! agent itself is `crate::agent`.

use std::time::Duration;

use super::evidence::Evidence;
use super::level4;
use crate::agent::ready;
use crate::agent::{self, Recovery};
use crate::alert::outbox::{self, Spool};
use crate::alert::{incident, Kind, LevelOutcome};
use crate::config::shellwords;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::probe::Probe;
use crate::state::{AgentCheck, Step};
use crate::sys::clock::unix_now;
use crate::sys::metrics::{Metric, EMERGENCY_FILE};

/// How level 3 ended within `check`.
pub enum Level3 {
    Recovered(agent::Outcome),
    Failed(agent::Outcome),
    /// Not started: disabled, cooling down, missing, dry run.
    Skipped(String),
}

#[inline(never)]
pub fn run(ctx: &mut Ctx, probe: &Probe, levels: &[LevelOutcome], ev: &Evidence) -> Result<Level3> {
    let c = ctx.config;
    if c.agent_cmd.is_empty() {
        ctx.log.warn("level 3 skipped: SELFHEAL_AGENT_CMD is empty");
        return Ok(Level3::Skipped(
            "disabled (SELFHEAL_AGENT_CMD is empty)".into(),
        ));
    }
    if let Some(left) = cooldown_left(ctx) {
        let why = format!(
            "cooldown: an AI recovery failed recently; no agent is started for another {}",
            fmt_secs(left)
        );
        ctx.log.warn(format!("level 3 skipped: {why}"));
        ctx.record(
            EMERGENCY_FILE,
            Metric::new("emergency_recovery", Recovery::Cooldown.as_str(), 0.0),
        );
        return Ok(Level3::Skipped(why));
    }
    if ctx.mode == Mode::DryRun {
        return Ok(Level3::Skipped("dry run".into()));
    }
    if let Err(missing) = agent::preflight(c) {
        ctx.log.warn(format!("level 3 cannot start: {missing}"));
        ctx.record(
            EMERGENCY_FILE,
            Metric::new(
                "emergency_recovery",
                Recovery::DependencyFailed.as_str(),
                0.0,
            )
            .with("reason", missing.as_str()),
        );
        return Ok(Level3::Skipped(format!("could not start: {missing}")));
    }
    let mut f = level4::facts(ctx, probe, levels.to_vec(), Some(ev));
    f.levels.push(LevelOutcome {
        level: 3,
        ok: false,
        detail: format!(
            "starting {} (up to {})",
            shellwords::join(&c.agent_cmd),
            fmt_secs(c.recovery_timeout)
        ),
    });
    incident::alert_once(ctx, Kind::Escalating, &f)?;
    ctx.set_step(Step::Level3);
    ctx.save_state();
    let outcome = agent::recover(ctx, probe, &ev.markdown(c, &ctx.host))?;
    ctx.set_step(Step::Level4);
    Ok(if outcome.recovered() {
        Level3::Recovered(outcome)
    } else {
        Level3::Failed(outcome)
    })
}

/// How long the cooldown after a failed level 3 still holds.
fn cooldown_left(ctx: &Ctx) -> Option<Duration> {
    let until = ctx.state.agent_cooldown_until?;
    let now = unix_now();
    // A clock that jumped back must not stretch the cooldown.
    let until = until.min(now.saturating_add(ctx.config.agent_cooldown.as_secs() as i64));
    (until > now).then(|| crate::fmt::between(now, until))
}

/// While the service is healthy, at most once per
/// `SELFHEAL_AGENT_CHECK_INTERVAL`: can the agent (or its fallback) work?
/// One warning when it cannot, one info when it can again — learned in the
/// afternoon, not at 3 a.m.
pub fn readiness(ctx: &mut Ctx, probe: &Probe) -> Result<()> {
    let c = ctx.config;
    let every = c.agent_check_interval.as_secs() as i64;
    if c.agent_cmd.is_empty() || every == 0 || ctx.mode == Mode::DryRun {
        return Ok(());
    }
    let now = unix_now();
    let last = ctx.state.agent_check.clone();
    if last
        .as_ref()
        .is_some_and(|l| l.at <= now && now - l.at < every)
    {
        return Ok(());
    }
    let mut ready = ready::ask(c, &c.agent_cmd, ctx.clock)?;
    if !ready.works() && !c.agent_fallback_cmd.is_empty() {
        let fallback = ready::ask(c, &c.agent_fallback_cmd, ctx.clock)?;
        if fallback.works() {
            ready = fallback;
        }
    }
    let took = match ready {
        ready::Ready::Works(t) => t.as_secs_f64(),
        _ => 0.0,
    };
    ctx.record(
        EMERGENCY_FILE,
        Metric::new("agent_check", ready.key(), took),
    );
    let was = last.and_then(|l| l.problem);
    let problem = (!ready.works()).then(|| ready.describe());
    ctx.state.agent_check = Some(AgentCheck {
        at: now,
        problem: problem.clone(),
    });
    ctx.save_state();
    let said = format!(
        "agent check ({}): {}",
        shellwords::join(&c.agent_cmd),
        ready.describe()
    );
    let mut f = level4::facts(ctx, probe, Vec::new(), None);
    match (was, problem) {
        (None, Some(_)) => {
            ctx.log.warn(format!("{said}; fix: {}", ready.fix()));
            f.note = Some(format!(
                "{said}.\nFix: {}.\nThe service is healthy; this is so that level 3 works \
                 when it is needed. (`selfheal doctor --agent` checks again.)",
                ready.fix()
            ));
            outbox::send(ctx, Kind::AgentBroken, &f, Spool::Outbox)?;
        }
        (Some(_), None) => {
            ctx.log.info(&said);
            f.note = Some(format!("{said}."));
            outbox::send(ctx, Kind::AgentReady, &f, Spool::Outbox)?;
        }
        _ => ctx.log.info(&said),
    }
    Ok(())
}
