//! The healing ladder, climbed in sequence, in this process, each step
//! bounded. Level 1 is the service manager's and happens before selfheal
//! looks; level 2 is the steps of `LADDER` up to the escalation wait
//! (`restart`, `rollback`, `runbook`, `repair`, `escalation`); level 3 the
//! agent (`level3`, the gate in front of `crate::agent`); level 4 the alert
//! that ends the incident (`level4`).
//!
//! A step is a `Rung`: it says what it would do (`plan`, for a dry run),
//! how long it can take at most (`bound`, summed by `worst_case`, which the
//! log announces) and does it (`run`). The step that sees the service
//! healthy returns how (`Outcome`); `heal` hands that to `level4::concluded`,
//! the one place where an incident's last word is chosen. Steps share what
//! the climb has learned so far in `Climb`. `abandoned` finds a run that
//! died midway. Nothing here runs in the background: when `heal` returns,
//! everything it started has ended or was started as a daemon on purpose by
//! the restart command.
//!
//! The entry points are `#[inline(never)]`: inlined into `check`, the whole
//! ladder cost 2 KiB more of the 2 MiB budget (measured with `make static`),
//! and a symbol per rung keeps a profile or a debugger's backtrace readable.

pub mod abandoned;
pub mod boot;
pub mod brake;
pub mod confirm;
pub mod early;
pub mod escalation;
pub mod evidence;
pub mod install;
pub mod level1;
pub mod level3;
pub mod level4;
mod outcome;
pub mod planned;
pub mod ready;
pub mod repair;
pub mod restart;
pub mod rollback;
pub mod runbook;
pub mod service;
pub mod start;

use std::time::{Duration, Instant};

use crate::agent;
use crate::alert::outbox::{self, Spool};
use crate::alert::{incident, Kind, LevelOutcome};
use crate::config::Config;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::probe::Probe;
use crate::state::{Running, Step};
use crate::sys::clock::unix_now;
use crate::sys::log;
use crate::sys::metrics::{Metric, HEALTH_FILE};
use evidence::Evidence;
pub use outcome::{Outcome, Told};

/// How a climb of the ladder ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Unhealthy,
}

/// One step of the ladder.
pub trait Rung: Sync {
    /// The level it belongs to, as the state records a run in it.
    fn step(&self) -> Step {
        Step::Level2
    }
    /// The longest it can take.
    fn bound(&self, c: &Config) -> Duration;
    /// What a dry run says it would do (nothing when it would not run).
    fn plan(&self, ctx: &Ctx, climb: &Climb) -> Vec<String>;
    /// Does it; `Some` when the service is healthy afterwards.
    fn run(&self, ctx: &mut Ctx, climb: &mut Climb) -> Result<Option<Outcome>>;
}

/// The ladder, in order. A new step is a module with a `Rung` and its
/// place here.
const LADDER: [&dyn Rung; 9] = [
    &level1::WAIT,
    &restart::FIRST,
    &rollback::ROLLBACK,
    &install::REINSTALL,
    &runbook::REPLAY,
    &repair::REPAIR,
    &restart::REST,
    &escalation::WAIT,
    &level3::AGENT,
];

/// What a climb has learned so far, shared by its steps.
pub struct Climb {
    pub ev: Evidence,
    /// The last probe.
    pub probe: Probe,
    pub boot: boot::BootWait,
    /// Restart attempts planned (the repair adds one) and run.
    pub planned: u32,
    pub attempts: u32,
    /// When the last restart began: a service healthy after it booted this long.
    pub last_restart_at: Option<Instant>,
    /// The crash-loop brake held: no blind restart (the fact, for the alert).
    pub braked: Option<String>,
    /// Why more restarts and waiting cannot help, when the evidence says
    /// so: the restart command cannot run, a program it runs is missing, the
    /// port is held by a process a restart does not replace.
    pub hopeless: Option<String>,
    /// The repair command ran.
    pub repaired: bool,
    /// What level 2 did, for the alert's level 2 line.
    pub summary: restart::Summary,
    /// How long the escalation wait waited.
    pub waited: Duration,
    /// Level 3's line, when it ran or was skipped.
    pub level3: Option<String>,
    /// The service's own verdict on its config, once known (`settle`).
    pub validation: Option<crate::openclaw::Validation>,
    /// That check, started before the first restart and collected after it:
    /// it never delays the restart (it starts Node).
    pending: Option<crate::sys::process::Pending>,
    /// Why the last start failed, from evidence about the service.
    pub start_failed: Option<String>,
    /// `selfheal recover`: level 3 alone, no level 2 to tell of.
    only_agent: bool,
    started: Instant,
}

impl Climb {
    fn new(ctx: &Ctx, ev: Evidence, probe: &Probe) -> Climb {
        let c = ctx.config;
        let planned = if c.restart_cmd.is_empty() {
            0
        } else if c.repair_cmd.is_empty() || c.max_retries == 0 {
            c.max_retries
        } else {
            // The repair is followed by a restart of its own.
            c.max_retries + 1
        };
        Climb {
            ev,
            probe: probe.clone(),
            boot: boot::wait(c),
            planned,
            attempts: 0,
            last_restart_at: None,
            braked: None,
            hopeless: None,
            repaired: false,
            summary: restart::Summary::default(),
            waited: Duration::ZERO,
            level3: None,
            validation: None,
            pending: None,
            start_failed: None,
            only_agent: false,
            started: ctx.clock.now(),
        }
    }

    /// Starts the service's own config check (OpenClaw's `config
    /// validate`), to run while it boots.
    fn check_config(&mut self, ctx: &Ctx) {
        let c = ctx.config;
        if ctx.openclaw() {
            let capture = c.memory_dir.join(rollback::CHECK_OUTPUT);
            self.pending = crate::openclaw::validate_start(&c.restart_cmd, &capture);
        }
    }

    /// What the checks started before the restart found, collected: the
    /// config check's problem becomes evidence (and part of the signature).
    pub fn settle(&mut self, ctx: &Ctx) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        let v = crate::openclaw::validation(pending);
        if let crate::openclaw::Validation::Invalid(problem) = &v {
            let secrets = ctx.config.secrets();
            self.ev.config_error = Some(crate::sys::redact::mask_secrets(
                &crate::sys::redact::scrub(problem, &secrets),
            ));
            self.ev.signature = self.ev.compute_signature();
        }
        self.validation = Some(v);
    }

    /// For a step run by a command of its own (`selfheal rollback`): no
    /// evidence, no probe yet.
    pub fn outside_a_climb(ctx: &Ctx) -> Climb {
        let nothing = Probe {
            failure: Some(crate::probe::Failure::Other),
            status: None,
            latency: Duration::ZERO,
            reason: String::new(),
        };
        Climb::new(ctx, Evidence::default(), &nothing)
    }

    /// Whether the first restart has run and failed (or the brake held
    /// before it): what a restart cannot fix comes next.
    pub fn restart_failed(&self) -> bool {
        self.hopeless.is_none() && (self.attempts >= 1 || self.braked.is_some())
    }

    /// The levels of a climb that did not heal, for the alert.
    pub fn failed_levels(&self) -> Vec<LevelOutcome> {
        if self.only_agent {
            return Vec::new();
        }
        let level2 = match self.attempts {
            0 if self.planned == 0 && self.braked.is_none() => {
                "no restart command configured".to_string()
            }
            _ => self.summary.text(self.braked.as_deref(), self.waited),
        };
        let mut levels = level4::failed_levels(level2);
        if let Some(detail) = &self.level3 {
            levels.push(LevelOutcome {
                level: 3,
                ok: false,
                detail: detail.clone(),
            });
        }
        levels
    }
}

/// Climbs the ladder for a service whose failure is confirmed (`confirm`).
#[inline(never)]
pub fn heal(ctx: &mut Ctx, first: &Probe) -> Result<Health> {
    ctx.log.warn(format!(
        "unhealthy: {} at {} — starting level 2",
        first.with_status(),
        ctx.config.shown_url,
    ));
    // A bound, not a forecast: on the terminal only with -v (a 3-second
    // heal announced as "40 minutes" alarms), always in the log file.
    let parts: Vec<String> = worst_case_parts(ctx)
        .iter()
        .map(|(what, d)| format!("{what} {}", fmt_secs(*d)))
        .collect();
    let bound = format!(
        "worst case for this run {} if every step runs to its limit ({})",
        fmt_secs(worst_case(ctx)),
        parts.join(", ")
    );
    if ctx.log.is_verbose() {
        ctx.log.debug(bound);
    } else {
        ctx.log.record(&bound);
    }
    if ctx.mode == Mode::DryRun {
        let mut ev = evidence::gather(
            ctx.config,
            ctx.openclaw(),
            first,
            service::log_scope(ctx.config, &ctx.state),
        );
        ev.install_change = install::evidence_line(ctx);
        let mut climb = Climb::new(ctx, ev, first);
        climb.check_config(ctx);
        climb.settle(ctx);
        plan(ctx, &climb);
        let levels = level4::failed_levels("(dry run)".into());
        let facts = level4::facts(ctx, first, levels, Some(&climb.ev));
        outbox::send(ctx, Kind::Failed, &facts, Spool::Drop)?;
        return Ok(Health::Unhealthy);
    }
    start_healing(ctx, first, Step::Level2);
    let flapping = brake::failed(ctx);
    let mut ev = evidence::gather(
        ctx.config,
        ctx.openclaw(),
        first,
        service::log_scope(ctx.config, &ctx.state),
    );
    ev.install_change = install::evidence_line(ctx);
    keep(ctx, &mut ev);
    if let Some(fact) = flapping {
        level4::flapping(ctx, first, &ev, fact)?;
    }
    let mut climb = Climb::new(ctx, ev, first);
    climb.check_config(ctx);
    if climb.planned > 0 {
        ctx.log.info(format!(
            "level 2: after each restart, waiting up to {} for it to boot: {}",
            fmt_secs(climb.boot.limit),
            climb.boot.why
        ));
    }
    let mut healed = None;
    let mut in_level2 = true;
    for rung in LADDER {
        if in_level2 && rung.step() != Step::Level2 {
            in_level2 = false;
            level2_ended(ctx, &climb, None);
        }
        ctx.set_step(rung.step());
        let outcome = rung.run(ctx, &mut climb)?;
        if climb.attempts > 0 || climb.braked.is_some() || climb.hopeless.is_some() {
            climb.settle(ctx);
        }
        if let Some(outcome) = outcome {
            if in_level2 {
                level2_ended(ctx, &climb, Some(&outcome));
            }
            healed = Some(outcome);
            break;
        }
    }
    climb.settle(ctx);
    climb.ev.refresh_logs(ctx.config);
    keep(ctx, &mut climb.ev);
    // Still running until the alerts are out: a run killed while alerting
    // is found by the next one.
    ctx.set_step(Step::Level4);
    let health = match healed {
        Some(outcome) => {
            brake::healed(ctx);
            level4::concluded(ctx, &outcome, &climb)?;
            Health::Healthy
        }
        None => {
            let probe = climb.probe.clone();
            level4::failed(ctx, &probe, climb.failed_levels(), &climb.ev)?;
            Health::Unhealthy
        }
    };
    ctx.state.running = None;
    ctx.save_state();
    Ok(health)
}

/// The end of level 2 in the log and the metrics: healed by one of its
/// steps, or not at all (then level 3 follows).
pub fn level2_ended(ctx: &mut Ctx, climb: &Climb, healed: Option<&Outcome>) {
    let took = fmt_secs(ctx.clock.now() - climb.started);
    let attempts = f64::from(climb.attempts);
    match healed {
        Some(outcome) => {
            ctx.record(
                HEALTH_FILE,
                Metric::new("recovery", outcome.metric(), attempts).with("by", outcome.by()),
            );
            if let Some(at) = climb.last_restart_at {
                // How long it took to boot: what the next incident waits for.
                let boot = ctx.clock.now() - at;
                ctx.record(
                    HEALTH_FILE,
                    Metric::new("boot", "success", boot.as_secs_f64()),
                );
            }
            ctx.log
                .act(format!("level 2: {} after {took}", outcome.said()));
        }
        None => {
            ctx.record(HEALTH_FILE, Metric::new("recovery", "failed", attempts));
            ctx.log.warn(format!(
                "level 2 failed: still unhealthy after {} restart attempt(s) and {took}: {}",
                climb.attempts,
                climb.probe.with_status()
            ));
        }
    }
}

/// Writes the incident file (a failure to is logged: healing goes on).
#[inline(never)]
fn keep(ctx: &mut Ctx, ev: &mut Evidence) {
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
    let mut ev = evidence::gather(
        ctx.config,
        ctx.openclaw(),
        probe,
        service::log_scope(ctx.config, &ctx.state),
    );
    ev.install_change = install::evidence_line(ctx);
    let mut climb = Climb::new(ctx, ev, probe);
    climb.only_agent = true;
    climb.check_config(ctx);
    climb.settle(ctx);
    keep(ctx, &mut climb.ev);
    let settle = boot::wait(ctx.config).limit;
    let ev = climb.ev.markdown(ctx.config, &ctx.host);
    let outcome = agent::recover(ctx, probe, &ev, settle)?;
    ctx.state.running = None;
    climb.probe = ctx.probe();
    let health = if outcome.recovered() {
        if let Some(fix) = &outcome.fix {
            runbook::learn(ctx, &climb.ev.signature, fix, outcome.root_cause.as_deref());
        }
        level4::concluded(ctx, &Outcome::ByAgent(outcome), &climb)?;
        Health::Healthy
    } else {
        let level = LevelOutcome {
            level: 3,
            ok: false,
            detail: outcome.detail.clone(),
        };
        let mut f = level4::facts(ctx, &climb.probe, vec![level], Some(&climb.ev));
        f.log_path = Some(outcome.log_path.display().to_string());
        incident::alert_once(ctx, Kind::Failed, &f)?;
        Health::Unhealthy
    };
    ctx.save_state();
    Ok(health)
}

/// Alert rounds one healing run can send besides the outbox flush: run_died,
/// flapping, escalating, then failed (or a reminder) — or a recovery message
/// and resolved — and runs_again after a run that could not run.
const ALERT_ROUNDS: u32 = 6;

/// The longest a healing run can take: every step at its bound.
pub fn worst_case(ctx: &Ctx) -> Duration {
    worst_case_parts(ctx).iter().map(|(_, d)| *d).sum()
}

/// What the worst case is made of: the probes and the evidence, each
/// level's steps at their limits, the alerts and the heartbeat.
pub fn worst_case_parts(ctx: &Ctx) -> Vec<(&'static str, Duration)> {
    let c = ctx.config;
    // The outbox flush, then at most ALERT_ROUNDS rounds of alerts, and the
    // heartbeat's `/start` and end (one request each, bounded like an attempt).
    let alerts =
        outbox::flush_bound(c) + outbox::round_bound(c) * ALERT_ROUNDS + c.alert_timeout * 2;
    let mut parts = vec![(
        "probes and evidence",
        c.http_timeout + (c.poll_interval + c.http_timeout) * c.confirm_probes + evidence::BOUND,
    )];
    for step in [Step::Level2, Step::Level3, Step::Level4] {
        let d: Duration = LADDER
            .iter()
            .filter(|r| r.step() == step)
            .map(|r| r.bound(c))
            .sum();
        if !d.is_zero() {
            parts.push((step.as_str(), d));
        }
    }
    parts.push(("alerts and the heartbeat", alerts));
    parts
}

/// What a dry run prints instead of healing.
fn plan(ctx: &Ctx, climb: &Climb) {
    let secrets = ctx.config.secrets();
    for rung in LADDER {
        for line in rung.plan(ctx, climb) {
            log::print(&format!("{}\n", crate::sys::redact::scrub(&line, &secrets)));
        }
    }
    log::print("would then alert every configured channel:\n");
}
