//! `selfheal recover`: level 3 now, without level 2 and without the cooldown
//! of `check`; verified by selfheal's own probe, alerted on failure.

use super::Verdict;
use crate::alert::outbox;
use crate::ctx::{Ctx, Mode};
use crate::error::{Error, Result};
use crate::fmt::fmt_secs;
use crate::key::shellwords;
use crate::ladder;
use crate::sys::log;

pub fn run(ctx: &mut Ctx) -> Result<Verdict> {
    ctx.load_state()?;
    outbox::flush(ctx, outbox::Budget::Full)?;
    let probe = ctx.probe();
    if probe.healthy() {
        ctx.log
            .info(format!("healthy ({}): level 3 is not needed", probe.reason));
        return Ok(Verdict::Ok);
    }
    let c = ctx.config;
    let Some(agent) = c.agents.first() else {
        return Err(Error::Setup(
            "recover: level 3 is disabled (SELFHEAL_AGENT_CMD is empty); set it to the \
             agent's command, e.g. SELFHEAL_AGENT_CMD=claude"
                .into(),
        ));
    };
    if ctx.mode == Mode::DryRun {
        log::print(&format!(
            "would start {} in a private tmux session (budget {})\n",
            shellwords::join(&agent.argv),
            fmt_secs(c.recovery_timeout)
        ));
        return Ok(Verdict::Unhealthy);
    }
    Ok(ladder::recover_now(ctx, &probe)?.into())
}
