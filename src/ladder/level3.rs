//! Level 3's gate: whether an AI agent may start now (configured, not in its
//! cooldown after a failure, tmux and an agent installed), the "escalating"
//! alert before it does, and the run's step in the state while it works. The
//! agent itself is `crate::agent`.

use std::time::Duration;

use super::evidence::Evidence;
use super::level4;
use crate::agent::{self, Recovery};
use crate::alert::{incident, Kind, LevelOutcome};
use crate::config::shellwords;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::probe::Probe;
use crate::state::Step;
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
