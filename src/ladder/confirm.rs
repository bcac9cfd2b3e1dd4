//! Confirm before acting: a single failed probe never restarts anything —
//! but confirming must not cost more than the outage. How depends on what
//! the probe saw (README "How a failure is confirmed"):
//!
//! - **Refused** (nothing listens). A blip of this kind is a service
//!   restarting itself (OpenClaw's in-process restart closes its port for a
//!   moment): its process lives on. So when the evidence says the service
//!   is gone — no process of its own runs (it was seen healthy, so it is
//!   known), or its manager says it failed — it is down at once. A start
//!   under way (level 1) is down too: `level1` leaves it to boot. Otherwise
//!   the service is probed again `SELFHEAL_CONFIRM_PROBES` times.
//! - **Timeout** (it listens, it does not answer). It already had a whole
//!   `HEALTH_CHECK_HTTP_TIMEOUT`; a stopped process (SIGSTOP) is down at
//!   once, else one more probe of at most `QUICK` decides — never another
//!   full timeout per re-probe.
//! - Anything else (a status, a body, DNS, TLS): it answers quickly, so it
//!   is probed again `SELFHEAL_CONFIRM_PROBES` times,
//!   `SELFHEAL_POLL_INTERVAL` apart.
//!
//! A blip (healthy again on a re-probe) is logged and counted, and heals and
//! pages nothing.

use std::time::Duration;

use super::evidence::manager::{Activity, Manager};
use super::{service, start};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::probe::{Failure, Probe};
use crate::sys::metrics::{Metric, HEALTH_FILE};

/// The one re-probe after a timeout.
const QUICK: Duration = Duration::from_secs(1);

pub enum Confirmed {
    /// Down; the last probe, and the evidence that settled it when there
    /// was some beyond the probes.
    Down(Probe),
    /// Healthy again on a re-probe; that probe.
    Blip(Probe),
}

pub fn confirm(ctx: &mut Ctx, first: &Probe) -> Result<Confirmed> {
    if let Some(why) = evidently_down(ctx, first) {
        ctx.log.info(format!("down: {} — {why}", first.reason));
        return Ok(Confirmed::Down(first.clone()));
    }
    if first.failure == Some(Failure::Timeout) {
        let c = ctx.config;
        ctx.clock.sleep(c.poll_interval.min(QUICK))?;
        let quick = crate::probe::probe(&crate::probe::agent_with(c, c.http_timeout.min(QUICK)), c);
        ctx.record_probe(&quick);
        return Ok(if quick.healthy() {
            blip(ctx, first, quick, 1, Duration::ZERO)
        } else {
            Confirmed::Down(quick)
        });
    }
    reprobe(ctx, first)
}

/// Why the evidence says it is down without more probes, if it does.
fn evidently_down(ctx: &Ctx, first: &Probe) -> Option<String> {
    match first.failure {
        Some(Failure::Refused) => {
            if let Some((why, _)) = start::under_way(ctx, super::boot::wait(ctx.config).limit) {
                return Some(why);
            }
            if let Some(state) = Manager::of(ctx.config, ctx.openclaw()).and_then(|m| m.state()) {
                if matches!(state.activity, Activity::Failed | Activity::Stopped) {
                    return Some(state.view);
                }
            }
            let id = service::identity(ctx)?;
            service::processes(ctx).is_empty().then(|| {
                format!(
                    "no process of the service runs ({})",
                    crate::sys::redact::printable(&id.shown())
                )
            })
        }
        Some(Failure::Timeout) => service::processes(ctx)
            .into_iter()
            .find(|p| p.stopped)
            .map(|p| format!("the service's process (pid {}) is stopped", p.pid)),
        _ => None,
    }
}

/// `SELFHEAL_CONFIRM_PROBES` more probes, `SELFHEAL_POLL_INTERVAL` apart.
fn reprobe(ctx: &mut Ctx, first: &Probe) -> Result<Confirmed> {
    let c = ctx.config;
    let started = ctx.clock.now();
    let mut last = first.clone();
    for n in 1..=c.confirm_probes {
        ctx.clock.sleep(c.poll_interval)?;
        last = ctx.probe();
        ctx.record_probe(&last);
        if last.healthy() {
            let took = ctx.clock.now() - started;
            return Ok(blip(ctx, first, last, n, took));
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

fn blip(ctx: &mut Ctx, first: &Probe, again: Probe, n: u32, took: Duration) -> Confirmed {
    ctx.record(
        HEALTH_FILE,
        Metric::new("blip", "healthy_again", took.as_secs_f64()),
    );
    ctx.log.info(format!(
        "blip: {}, healthy again on re-probe {n} after {}; nothing to heal",
        first.with_status(),
        fmt_secs(took)
    ));
    Confirmed::Blip(again)
}
