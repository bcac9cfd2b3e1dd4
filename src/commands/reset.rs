//! `selfheal reset` (like `systemctl reset-failed`): forgets what holds
//! selfheal back once the user fixed the cause — the crash-loop brake,
//! flapping, the agent's cooldown, failing channels' backoffs — and says
//! what it cleared. The incident, its alerts and the outbox stay.

use super::Verdict;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::ladder::brake;
use crate::state::Brake;
use crate::sys::clock::unix_now;
use crate::sys::log;

pub fn run(ctx: &mut Ctx) -> Result<Verdict> {
    ctx.load_state()?;
    let now = unix_now();
    let mut cleared = Vec::new();
    let b = &ctx.state.brake;
    if let Some(held) = brake::holding(b, ctx.config, now) {
        cleared.push(held);
    } else if !b.restarts.is_empty() {
        cleared.push(format!(
            "{} restart(s) counted by the crash-loop brake",
            b.restarts.len()
        ));
    }
    if b.flapping_since.is_some() {
        cleared.push("the flapping episode".into());
    }
    if ctx.state.agent_cooldown_until.is_some_and(|u| u > now) {
        cleared.push("the agent's cooldown".into());
    }
    let channels: Vec<String> = ctx.state.channels.keys().cloned().collect();
    if !channels.is_empty() {
        cleared.push(format!("the backoff of {}", channels.join(", ")));
    }
    let verb = match ctx.mode {
        Mode::DryRun => "would clear",
        Mode::Real => "cleared",
    };
    if cleared.is_empty() {
        log::print("nothing to reset: no brake, flapping, cooldown or failing channel\n");
        return Ok(Verdict::Ok);
    }
    if ctx.mode == Mode::Real {
        ctx.state.brake = Brake::default();
        ctx.state.agent_cooldown_until = None;
        ctx.state.channels.clear();
        ctx.save_state();
        ctx.log.act(format!("reset: {verb} {}", cleared.join("; ")));
    }
    log::print(&format!("{verb}: {}\n", cleared.join("; ")));
    Ok(Verdict::Ok)
}
