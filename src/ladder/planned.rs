//! A planned restart of a healthy service: its memory over
//! `SELFHEAL_RESTART_RSS` for `SELFHEAL_RESTART_RSS_FOR` checks in a row (a
//! leak, restarted in the afternoon instead of killed by the OOM killer at
//! night; monit's `if totalmem > 1.5 GB for 5 cycles then restart`).
//!
//! It is the healthy path's only restart: inside the crash-loop brake,
//! never in a dry run, one `planned_restart` info message with the numbers
//! and how long the service took to be back. When it is not back, the
//! caller climbs the ladder with what the restart left. It reads one
//! `/proc` file per healthy check when the key is set, nothing otherwise.

use super::brake::{self, Gate};
use super::restart::restart;
use super::{early, level4, Climb};
use crate::alert::outbox::{self, Spool};
use crate::alert::Kind;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::fmt::{fmt_secs, fmt_size};
use crate::probe::Probe;
use crate::sys::log;
use crate::sys::metrics::{Metric, HEALTH_FILE};

/// Counts the checks over the limit; restarts at the count. The probe after
/// the restart, when one ran.
pub fn memory(ctx: &mut Ctx, pid: Option<u32>) -> Result<Option<Probe>> {
    let c = ctx.config;
    let Some(limit) = c.restart_rss else {
        return Ok(None);
    };
    let rss = pid.and_then(early::rss_bytes);
    let before = ctx.state.early.rss_over;
    let over = match rss {
        Some(r) if r > limit => before.saturating_add(1),
        _ => 0,
    };
    ctx.state.early.rss_over = over;
    if over != before {
        ctx.save_state();
    }
    let (Some(pid), Some(rss)) = (pid, rss) else {
        return Ok(None);
    };
    if over < c.restart_rss_for {
        if over > 0 {
            ctx.log.info(format!(
                "the service (pid {pid}) uses {}, over SELFHEAL_RESTART_RSS ({}): check {over} \
                 of {} before a planned restart",
                fmt_size(rss),
                fmt_size(limit),
                c.restart_rss_for
            ));
        }
        return Ok(None);
    }
    let why = format!(
        "the service (pid {pid}) uses {}, over {} for {over} checks in a row \
         (SELFHEAL_RESTART_RSS)",
        fmt_size(rss),
        fmt_size(limit)
    );
    if ctx.mode == Mode::DryRun {
        log::print(&format!(
            "would restart it before it runs out of memory: {why}\n"
        ));
        return Ok(None);
    }
    match brake::gate(ctx) {
        Gate::Open => {}
        Gate::AfterBackoff(held) | Gate::Braked(held) => {
            ctx.log
                .info(format!("{why}; no planned restart now: {held}"));
            return Ok(None);
        }
    }
    ctx.log
        .act(format!("{why}: restarting it before it runs out of memory"));
    ctx.state.early.rss_over = 0;
    let mut climb = Climb::outside_a_climb(ctx);
    let at = ctx.clock.now();
    let probe = restart(ctx, &mut climb, 1, "planned restart (memory)")?;
    brake::restarted(ctx, &Gate::Open);
    let took = ctx.clock.now() - at;
    let result = if probe.healthy() { "success" } else { "failed" };
    ctx.record(
        HEALTH_FILE,
        Metric::new("planned_restart", result, took.as_secs_f64()).with("rss", rss),
    );
    ctx.save_state();
    if probe.healthy() {
        let mut f = level4::facts(ctx, &probe, Vec::new(), None);
        f.note = Some(format!(
            "Restarted at {} after {over} checks over {}; it was back in {}.",
            fmt_size(rss),
            fmt_size(limit),
            fmt_secs(took)
        ));
        outbox::send(ctx, Kind::PlannedRestart, &f, Spool::Outbox)?;
    } else {
        ctx.log.warn(format!(
            "not back after the planned restart: {}; healing it",
            probe.with_status()
        ));
    }
    Ok(Some(probe))
}
