//! The escalation wait (`HEALTH_CHECK_ESCALATION_WAIT`): after the last
//! failed restart, before an agent is started, does the service come back
//! by itself? Polled: it ends the moment it is healthy. Skipped when the
//! restart command cannot run at all (waiting cannot help then).

use std::time::Duration;

use super::{Climb, Outcome, Rung};
use crate::config::Config;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::fmt_secs;

pub struct Wait;
pub const WAIT: Wait = Wait;

impl Rung for Wait {
    fn bound(&self, c: &Config) -> Duration {
        c.escalation_wait + c.http_timeout
    }

    fn plan(&self, ctx: &Ctx, _: &Climb) -> Vec<String> {
        let c = ctx.config;
        vec![format!(
            "would wait up to {} (probing every {}) before level 3",
            fmt_secs(c.escalation_wait),
            fmt_secs(c.poll_interval)
        )]
    }

    fn run(&self, ctx: &mut Ctx, climb: &mut Climb) -> Result<Option<Outcome>> {
        let c = ctx.config;
        climb.waited = match climb.hopeless {
            Some(_) => Duration::ZERO,
            None => c.escalation_wait,
        };
        if !climb.waited.is_zero() {
            ctx.log.act(format!(
                "level 2: waiting up to {} for the service to come back by itself (probing \
                 every {})",
                fmt_secs(c.escalation_wait),
                fmt_secs(c.poll_interval)
            ));
        }
        let probe = ctx.wait_healthy(climb.waited)?;
        ctx.record_probe(&probe);
        let healthy = probe.healthy();
        climb.probe = probe;
        Ok(healthy.then_some(Outcome::ByItself))
    }
}
