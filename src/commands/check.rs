//! `selfheal check`, the main job: rotate old logs, send what earlier runs
//! could not, notice a run that died midway, probe, and when unhealthy (and
//! confirmed by more probes: a blip heals nothing) climb the ladder. During a maintenance window it only probes and records. Ends
//! with the heartbeat and the Prometheus textfile.

use super::{pause, rotate, Verdict};
use crate::alert::incident;
use crate::alert::outbox::{self, Budget};
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::fmt::{between, fmt_secs};
use crate::ladder::brake::{self, Calm};
use crate::ladder::confirm::{self, Confirmed};
use crate::ladder::{
    self, abandoned, early, level3, level4, planned, ready, rollback, service, Health,
};
use crate::probe::Probe;
use crate::sys::clock::unix_now;
use crate::sys::log;
use crate::sys::metrics::{Metric, HEALTH_FILE};
use crate::sys::prom::Gauges;

pub fn run(ctx: &mut Ctx) -> Result<Verdict> {
    rotate::rotate_logs(ctx);
    ctx.load_state()?;
    if let Some((why, until)) = pause::in_force(ctx) {
        return paused(ctx, &why, until);
    }
    if ctx.log.is_verbose() {
        if let Some((name, at)) = pause::scheduled_next(ctx.config) {
            ctx.log.debug(format!(
                "next maintenance window: {name}, in {}",
                fmt_secs(between(unix_now(), at))
            ));
        }
    }
    incident::forget_other_service(ctx);
    abandoned::report(ctx)?;
    let first = ctx.probe();
    ctx.record_probe(&first);
    // What earlier runs could not deliver: on the healthy path within a
    // second in all (an unreachable channel must not tax every run).
    let budget = match first.healthy() {
        true => Budget::Healthy,
        false => Budget::Full,
    };
    outbox::flush(ctx, budget)?;
    let health = if first.healthy() {
        up(ctx, &first)?
    } else {
        match confirm::confirm(ctx, &first)? {
            Confirmed::Blip(probe) => up(ctx, &probe)?,
            Confirmed::Down(probe) => ladder::heal(ctx, &probe)?,
        }
    };
    let up = health == Health::Healthy;
    incident::heartbeat(ctx, if up { 0 } else { 1 });
    super::digest::if_due(ctx)?;
    write_prom(ctx, up, &first, Window::Open);
    Ok(health.into())
}

/// Live. Not ready for long enough, or down after a planned restart: then
/// healed; else healthy.
fn up(ctx: &mut Ctx, probe: &Probe) -> Result<Health> {
    if let Some(deaf) = ready::check(ctx, probe) {
        ctx.needs_ready = true;
        let health = ladder::heal(ctx, &deaf)?;
        if health == Health::Healthy {
            // Ready again: the next episode counts from zero.
            ctx.state.not_ready = None;
            ctx.save_state();
        }
        return Ok(health);
    }
    match healthy(ctx, probe)? {
        Some(down) => ladder::heal(ctx, &down),
        None => Ok(Health::Healthy),
    }
}

/// The healthy path: one metric, one line, and the end of an open incident.
/// The probe after a planned restart it did not come back from, if any.
fn healthy(ctx: &mut Ctx, probe: &Probe) -> Result<Option<Probe>> {
    ctx.record(HEALTH_FILE, Metric::new("health_check", "healthy", 0.0));
    ctx.log.info(format!(
        "healthy: {} in {} ms ({})",
        probe.reason,
        probe.latency_ms(),
        ctx.config.shown_url
    ));
    if ctx.state.incident.is_some() {
        let facts = level4::facts(ctx, probe, Vec::new(), None);
        incident::close(ctx, &facts)?;
    }
    rollback::keep_good(ctx);
    // Who the service is, for the next incident (one /proc read while the
    // same process runs).
    let (pid, changed) = service::remember(ctx);
    if changed {
        ctx.save_state();
    }
    // What is installed, and whether it is the one that works now (a stat
    // per run; `package.json` read only when the stat changed).
    crate::ladder::install::observe(ctx, pid);
    early::check(ctx, probe, pid)?;
    if let Some(after) = planned::memory(ctx, pid)? {
        if !after.healthy() {
            return Ok(Some(after));
        }
    }
    level3::readiness(ctx, probe)?;
    match brake::healthy(ctx) {
        Calm::Unchanged => {}
        Calm::Reset => {
            ctx.save_state();
        }
        Calm::FlapEnded(quiet) => {
            ctx.save_state();
            level4::stable(ctx, probe, quiet)?;
        }
    }
    Ok(None)
}

/// During a maintenance window: probe and record, no healing, no alerts.
fn paused(ctx: &mut Ctx, why: &str, until: i64) -> Result<Verdict> {
    let probe = ctx.probe();
    ctx.record_probe(&probe);
    if probe.healthy() {
        ctx.record(HEALTH_FILE, Metric::new("health_check", "healthy", 0.0));
    }
    ctx.log.info(format!(
        "paused for {} more ({why}): {}; no healing, no alerts",
        fmt_secs(between(unix_now(), until)),
        probe.reason
    ));
    write_prom(ctx, probe.healthy(), &probe, Window::Paused);
    ctx.save_state();
    Ok(Verdict::Ok)
}

/// Whether a maintenance window is in force, for the Prometheus gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    Open,
    Paused,
}

fn write_prom(ctx: &mut Ctx, up: bool, probe: &Probe, window: Window) {
    let Some(path) = ctx.config.prom_file.clone() else {
        return;
    };
    let brake = &ctx.state.brake;
    let from = unix_now().saturating_sub(ctx.config.restart_window.as_secs() as i64);
    let restarts = brake.restarts.iter().filter(|&&t| t > from).count();
    let gauges = Gauges {
        host: &ctx.host,
        service: &ctx.config.service_name,
        url: &ctx.config.shown_url,
        up,
        probe_seconds: probe.latency.as_secs_f64(),
        now: unix_now(),
        incident_open: ctx.state.incident.is_some(),
        paused: window == Window::Paused,
        restarts_in_window: restarts,
        crash_loop: ctx.config.restart_limit > 0 && restarts >= ctx.config.restart_limit as usize,
        flapping: brake.flapping_since.is_some(),
    };
    let counters = crate::sys::prom::Counters {
        events: &ctx.state.counters,
        heals: &ctx.state.heals,
        downtime_seconds: ctx.state.downtime_seconds,
    };
    let text = crate::sys::prom::render(&gauges, &counters);
    if ctx.mode == Mode::DryRun {
        log::print(&format!("would write {}:\n{text}", path.display()));
        return;
    }
    // The counters must survive the run (the healthy path saves nothing else).
    ctx.save_state();
    if let Err(e) = crate::sys::files::write_atomic(&path, text.as_bytes()) {
        ctx.log.warn(format!("Prometheus file not written: {e}"));
    }
}
