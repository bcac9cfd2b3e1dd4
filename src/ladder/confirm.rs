//! Confirm before acting: a single failed probe never restarts anything.
//! The service is probed again `SELFHEAL_CONFIRM_PROBES` times,
//! `SELFHEAL_POLL_INTERVAL` apart; only when every probe fails is it down. A
//! blip (healthy again on a re-probe) is logged and counted, and heals and
//! pages nothing.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::probe::Probe;
use crate::sys::metrics::{Metric, HEALTH_FILE};

pub enum Confirmed {
    /// Every probe failed; the last one.
    Down(Probe),
    /// Healthy again on a re-probe; that probe.
    Blip(Probe),
}

pub fn confirm(ctx: &mut Ctx, first: &Probe) -> Result<Confirmed> {
    let c = ctx.config;
    let started = ctx.clock.now();
    let mut last = first.clone();
    for n in 1..=c.confirm_probes {
        ctx.clock.sleep(c.poll_interval)?;
        last = ctx.probe();
        ctx.record_probe(&last);
        if last.healthy() {
            let took = ctx.clock.now() - started;
            ctx.record(
                HEALTH_FILE,
                Metric::new("blip", "healthy_again", took.as_secs_f64()),
            );
            ctx.log.info(format!(
                "blip: {} (status {}), healthy again on re-probe {n} after {}; nothing to heal",
                first.reason,
                first.status_text(),
                fmt_secs(took)
            ));
            return Ok(Confirmed::Blip(last));
        }
    }
    if c.confirm_probes > 0 {
        ctx.log.debug(format!(
            "confirmed: {} more probe(s) failed too",
            c.confirm_probes
        ));
    }
    Ok(Confirmed::Down(last))
}
