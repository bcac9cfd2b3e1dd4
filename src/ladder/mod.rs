//! The healing ladder, climbed in sequence, in this process, each step
//! bounded: level 2 (`level2`: restart, repair, the escalation wait), level 3
//! (`level3`: the gate in front of `crate::agent`), level 4 (`level4`: the
//! alert that ends the incident). Level 1 is the service manager's and
//! happens before selfheal looks.
//!
//! `heal` is the sequence; `worst_case` the bound the log announces; `plan`
//! what a dry run prints instead; `abandoned` finds a run that died midway.
//! Nothing here runs in the background: when `heal` returns, everything it
//! started has ended or was started as a daemon on purpose by the restart
//! command.
//!
//! The rungs are `#[inline(never)]`: inlined into `check`, the whole ladder
//! cost 2 KiB more of the 2 MiB budget (measured with `make static`), and a
//! symbol per rung keeps a profile or a debugger's backtrace readable.

pub mod abandoned;
pub mod boot;
pub mod brake;
pub mod confirm;
pub mod early;
pub mod evidence;
pub mod level2;
pub mod level3;
pub mod level4;
pub mod rollback;
pub mod runbook;

use std::time::Duration;

use crate::alert::outbox::{self, Spool};
use crate::alert::{incident, Kind, LevelOutcome};
use crate::config::shellwords;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::probe::Probe;
use crate::state::{Running, Step};
use crate::sys::clock::unix_now;
use crate::sys::log;
use crate::sys::process::KILL_GRACE;
use level2::Level2;
use level3::Level3;

/// How a climb of the ladder ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Unhealthy,
}

/// Climbs the ladder for a service whose failure is confirmed (`confirm`).
#[inline(never)]
pub fn heal(ctx: &mut Ctx, first: &Probe) -> Result<Health> {
    ctx.log.warn(format!(
        "unhealthy: {} (status {}, {}) — starting level 2; worst case for this run {}",
        first.reason,
        first.status_text(),
        ctx.config.shown_url,
        fmt_secs(worst_case(ctx))
    ));
    if ctx.mode == Mode::DryRun {
        let ev = evidence::gather(ctx.config, first);
        plan(ctx, &ev);
        let levels = level4::failed_levels(ctx.config.max_retries, "(dry run)".into());
        let facts = level4::facts(ctx, first, levels, Some(&ev));
        outbox::send(ctx, Kind::Failed, &facts, Spool::Drop)?;
        return Ok(Health::Unhealthy);
    }
    start_healing(ctx, first, Step::Level2);
    let flapping = brake::failed(ctx);
    let mut ev = evidence::gather(ctx.config, first);
    keep(ctx, &mut ev);
    if let Some(fact) = flapping {
        level4::flapping(ctx, first, &ev, fact)?;
    }
    let outcome = level2::run(ctx, &mut ev)?;
    ev.refresh_logs(ctx.config);
    keep(ctx, &mut ev);
    // Still running until the alerts are out: a run killed while alerting
    // is found by the next one.
    ctx.set_step(Step::Level4);
    let health = match outcome {
        Level2::Recovered {
            how,
            attempts,
            probe,
        } => {
            brake::healed(ctx);
            level4::restarted(ctx, how, attempts, &probe)?;
            Health::Healthy
        }
        Level2::Failed {
            attempts,
            last_probe,
            summary,
        } => above_level2(ctx, attempts, last_probe, summary, &ev)?,
    };
    ctx.state.running = None;
    ctx.save_state();
    Ok(health)
}

/// Writes the incident file (a failure to is logged: healing goes on).
#[inline(never)]
fn keep(ctx: &mut Ctx, ev: &mut evidence::Evidence) {
    let first = ev.path.is_none();
    match evidence::write(ctx.config, &ctx.host, ev) {
        Ok(path) if first => ctx.log.info(format!(
            "evidence in {}: {}",
            path.display(),
            ev.likely_cause().join("; ")
        )),
        Ok(_) => {}
        Err(e) => ctx.log.warn(format!("incident file not written: {e}")),
    }
}

/// Levels 3 and 4, after level 2 failed.
#[inline(never)]
fn above_level2(
    ctx: &mut Ctx,
    attempts: u32,
    last_probe: Probe,
    summary: String,
    ev: &evidence::Evidence,
) -> Result<Health> {
    if let Some(i) = ctx.state.incident.as_mut() {
        i.status = last_probe.status_text();
        i.reason = last_probe.reason.clone();
    }
    let mut levels = level4::failed_levels(attempts, summary);
    let (detail, probe) = match level3::run(ctx, &last_probe, &levels, ev)? {
        Level3::Recovered(outcome) => {
            brake::healed(ctx);
            if let Some(fix) = &outcome.fix {
                runbook::learn(ctx, &ev.signature, fix, outcome.root_cause.as_deref());
            }
            let probe = ctx.probe();
            levels.push(LevelOutcome {
                level: 3,
                ok: true,
                detail: outcome.detail.clone(),
            });
            level4::agent_recovered(ctx, &probe, levels, &outcome)?;
            return Ok(Health::Healthy);
        }
        Level3::Failed(outcome) => (
            format!("{} (log: {})", outcome.detail, outcome.log_path.display()),
            ctx.probe(),
        ),
        Level3::Skipped(why) => (why, last_probe),
    };
    levels.push(LevelOutcome {
        level: 3,
        ok: false,
        detail,
    });
    level4::failed(ctx, &probe, levels, ev)?;
    Ok(Health::Unhealthy)
}

/// Opens (or continues) the incident and records that this run is healing,
/// so that the next run can tell if this one dies midway.
pub fn start_healing(ctx: &mut Ctx, probe: &Probe, step: Step) {
    incident::open(ctx, &probe.status_text(), &probe.reason);
    ctx.state.running = Some(Running {
        step,
        pid: std::process::id(),
        since: unix_now(),
        child: None,
    });
    ctx.save_state();
    if !ctx.healing {
        ctx.healing = true;
        incident::heartbeat_start(ctx);
    }
}

/// `selfheal recover`: level 3 now for an unhealthy service, verified,
/// alerted on failure; no cooldown, no level 2.
#[inline(never)]
pub fn recover_now(ctx: &mut Ctx, probe: &Probe) -> Result<Health> {
    start_healing(ctx, probe, Step::Level3);
    let mut ev = evidence::gather(ctx.config, probe);
    keep(ctx, &mut ev);
    let outcome = crate::agent::recover(ctx, probe, &ev.markdown(ctx.config, &ctx.host))?;
    ctx.state.running = None;
    let level = LevelOutcome {
        level: 3,
        ok: outcome.recovered(),
        detail: outcome.detail.clone(),
    };
    let probe = ctx.probe();
    let health = if outcome.recovered() {
        if let Some(fix) = &outcome.fix {
            runbook::learn(ctx, &ev.signature, fix, outcome.root_cause.as_deref());
        }
        level4::agent_recovered(ctx, &probe, vec![level], &outcome)?;
        Health::Healthy
    } else {
        let mut f = level4::facts(ctx, &probe, vec![level], Some(&ev));
        f.log_path = Some(outcome.log_path.display().to_string());
        incident::alert_once(ctx, Kind::Failed, &f)?;
        Health::Unhealthy
    };
    ctx.save_state();
    Ok(health)
}

/// The longest a healing run can take: every step at its bound.
/// Alert rounds one healing run can send besides the outbox flush: run_died,
/// flapping, escalating, then failed (or a reminder) — or a recovery message
/// and resolved — and runs_again after a run that could not run.
const ALERT_ROUNDS: u32 = 6;

pub fn worst_case(ctx: &Ctx) -> Duration {
    let c = ctx.config;
    let command = c.restart_timeout + KILL_GRACE;
    let attempts = match (c.restart_cmd.is_empty(), c.repair_cmd.is_empty()) {
        (true, _) => 0,
        (false, true) => c.max_retries,
        (false, false) => c.max_retries + u32::from(c.max_retries > 0),
    };
    let boot = boot::wait(c).limit;
    let per_attempt = command + boot + c.http_timeout;
    // After the first failed attempt: a restart with the last working
    // config, and a learned fix with its boot wait.
    let learned = if attempts == 0 {
        Duration::ZERO
    } else {
        per_attempt + command + boot + c.http_timeout
    };
    let repair = if c.repair_cmd.is_empty() {
        Duration::ZERO
    } else {
        command + c.http_timeout
    };
    let level3 = if c.agent_cmd.is_empty() {
        Duration::ZERO
    } else {
        // The budget, the dialog wait, and slack for tmux calls and the report grace.
        c.recovery_timeout + c.startup_wait + c.trust_timeout + Duration::from_secs(90)
    };
    // The outbox flush, then at most ALERT_ROUNDS rounds of alerts, and the
    // heartbeat's `/start` and end (one request each, bounded like an attempt).
    let alerts =
        outbox::flush_bound(c) + outbox::round_bound(c) * ALERT_ROUNDS + c.alert_timeout * 2;
    c.http_timeout
        + (c.poll_interval + c.http_timeout) * c.confirm_probes
        + evidence::BOUND
        + per_attempt * attempts
        + learned
        + repair
        + c.escalation_wait
        + c.http_timeout
        + level3
        + alerts
}

/// What a dry run prints instead of healing.
fn plan(ctx: &Ctx, ev: &evidence::Evidence) {
    let c = ctx.config;
    let secrets = c.secrets();
    let say = |s: String| log::print(&format!("{}\n", crate::sys::redact::scrub(&s, &secrets)));
    if c.restart_cmd.is_empty() {
        say("would not restart: SELFHEAL_RESTART_CMD is empty".into());
    } else {
        let boot = boot::wait(c);
        say(format!(
            "would run: {} (timeout {}), then probe every {} for up to {} ({}); \
             up to {} attempt(s)",
            shellwords::join(&c.restart_cmd),
            fmt_secs(c.restart_timeout),
            fmt_secs(c.poll_interval),
            fmt_secs(boot.limit),
            boot.why,
            c.max_retries
        ));
    }
    for ch in rollback::changes(ctx) {
        say(format!(
            "would restore the last working version of {} after the first failed attempt \
             (your version moved aside, put back if that does not help); `selfheal rollback \
             --dry-run` shows what differs",
            ch.file.display()
        ));
    }
    if let Some(e) = runbook::usable(ctx, &ev.signature) {
        say(format!(
            "would then replay the fix learned on {} for this kind of incident: /bin/sh {}",
            e.learned_on(),
            e.script.display()
        ));
    }
    if !c.repair_cmd.is_empty() {
        say(format!(
            "would run once after the first failed attempt, then restart once more: {} \
             (timeout {})",
            shellwords::join(&c.repair_cmd),
            fmt_secs(c.restart_timeout)
        ));
    }
    say(format!(
        "would wait up to {} (probing every {}) before level 3",
        fmt_secs(c.escalation_wait),
        fmt_secs(c.poll_interval)
    ));
    if c.agent_cmd.is_empty() {
        say("would skip level 3 (SELFHEAL_AGENT_CMD is empty)".into());
    } else {
        say(format!(
            "would start level 3: {} in a private tmux session (budget {})",
            shellwords::join(&c.agent_cmd),
            fmt_secs(c.recovery_timeout)
        ));
    }
    say("would then alert every configured channel:".into());
}
