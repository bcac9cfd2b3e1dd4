//! Level 2's restarts: the first attempt (`FIRST`), then the rest of
//! `HEALTH_CHECK_MAX_RETRIES` after what a restart cannot fix (`REST`);
//! and the waits every step of level 2 shares.
//!
//! Every wait is polled every `SELFHEAL_POLL_INTERVAL` and ends the moment
//! the service is healthy; the wait after a restart is as long as the
//! service needs to boot (`boot`) and ends early when its start evidently
//! failed. No restart runs when the crash-loop brake (`brake`) says no.
//! Every command runs in its own process group, killed at
//! `SELFHEAL_RESTART_TIMEOUT`.

use std::time::Duration;

use super::brake::{self, Gate};
use super::start::Start;
use super::{Climb, Outcome, Rung};
use crate::config::Config;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::key::shellwords;
use crate::probe::Probe;
use crate::sys::metrics::{Metric, HEALTH_FILE};
use crate::sys::process::{Finished, Outcome as Exit, KILL_GRACE};

/// The first restart attempt.
pub struct First;
/// The attempts after it (after rollback, runbook and repair).
pub struct Rest;

pub const FIRST: First = First;
pub const REST: Rest = Rest;

/// One attempt's bound: the command, the boot wait, a probe.
pub fn attempt_bound(c: &Config) -> Duration {
    c.restart_timeout + KILL_GRACE + super::boot::wait(c).limit + c.http_timeout
}

impl Rung for First {
    fn bound(&self, c: &Config) -> Duration {
        match c.restart_cmd.is_empty() || c.max_retries == 0 {
            true => Duration::ZERO,
            false => attempt_bound(c),
        }
    }

    fn plan(&self, ctx: &Ctx, climb: &Climb) -> Vec<String> {
        let c = ctx.config;
        if c.restart_cmd.is_empty() {
            return vec!["would not restart: SELFHEAL_RESTART_CMD is empty".into()];
        }
        vec![format!(
            "would run: {} (timeout {}), then probe every {} for up to {} ({}); \
             up to {} attempt(s)",
            shellwords::join(&c.restart_cmd),
            fmt_secs(c.restart_timeout),
            fmt_secs(c.poll_interval),
            fmt_secs(climb.boot.limit),
            climb.boot.why,
            c.max_retries
        )]
    }

    fn run(&self, ctx: &mut Ctx, climb: &mut Climb) -> Result<Option<Outcome>> {
        if ctx.config.restart_cmd.is_empty() {
            ctx.log
                .warn("level 2: SELFHEAL_RESTART_CMD is empty, nothing to restart with");
        }
        attempts(ctx, climb, 1)
    }
}

impl Rung for Rest {
    fn bound(&self, c: &Config) -> Duration {
        let planned = match (c.restart_cmd.is_empty(), c.repair_cmd.is_empty()) {
            (true, _) => 0,
            (false, true) => c.max_retries,
            (false, false) => c.max_retries + u32::from(c.max_retries > 0),
        };
        attempt_bound(c) * planned.saturating_sub(1)
    }

    fn plan(&self, _: &Ctx, _: &Climb) -> Vec<String> {
        Vec::new()
    }

    fn run(&self, ctx: &mut Ctx, climb: &mut Climb) -> Result<Option<Outcome>> {
        if climb.hopeless.is_some() || climb.braked.is_some() {
            return Ok(None);
        }
        attempts(ctx, climb, climb.planned)
    }
}

/// Restart attempts until `upto` of them have run, the service is healthy,
/// the brake holds, or the restart command cannot run.
fn attempts(ctx: &mut Ctx, climb: &mut Climb, upto: u32) -> Result<Option<Outcome>> {
    while climb.attempts < upto.min(climb.planned) {
        let gate = brake::gate(ctx);
        match &gate {
            Gate::Braked(why) => {
                ctx.log.warn(format!("level 2: {why}"));
                ctx.record(
                    HEALTH_FILE,
                    Metric::new("brake", "crash_loop", f64::from(climb.attempts)),
                );
                climb.ev.step(why.clone(), &ctx.config.secrets());
                climb.braked = Some(why.clone());
                return Ok(None);
            }
            Gate::AfterBackoff(why) => ctx.log.warn(format!("level 2: {why}")),
            Gate::Open => {}
        }
        climb.attempts += 1;
        let attempt = climb.attempts;
        let label = format!("attempt {attempt}/{}", climb.planned);
        let probe = restart(ctx, climb, attempt, &label)?;
        if let Some(why) = &climb.hopeless {
            ctx.log.warn(format!(
                "level 2: {why}: no more attempts and no escalation wait, since they cannot \
                 help; on to level 3"
            ));
            if !probe.healthy() {
                return Ok(None);
            }
        }
        brake::restarted(ctx, &gate);
        if probe.healthy() {
            return Ok(Some(Outcome::ByRestart { attempt }));
        }
        ctx.log.warn(format!(
            "level 2: still unhealthy after attempt {attempt}: {}",
            probe.reason
        ));
    }
    Ok(None)
}

/// What level 2 did, for the alert's level 2 line.
#[derive(Default)]
pub struct Summary {
    restarts: u32,
    /// The last restart's result and its last output line.
    last_restart: Option<String>,
    start_failed: Option<String>,
    pub repair: Option<String>,
    /// A restored config that did not help, and what became of the user's.
    pub rollback: Option<String>,
}

impl Summary {
    pub fn text(&self, braked: Option<&str>, waited: Duration) -> String {
        let mut parts = Vec::new();
        match (self.restarts, &self.last_restart) {
            (0, _) => {}
            (n, Some(last)) => parts.push(format!("{n} restart attempt(s), the last {last}")),
            (n, None) => parts.push(format!("{n} restart attempt(s)")),
        }
        parts.extend(self.start_failed.clone());
        parts.extend(self.repair.clone());
        parts.extend(self.rollback.clone());
        parts.extend(braked.map(str::to_string));
        if parts.is_empty() {
            parts.push("no restart".into());
        }
        parts.push(format!("then waited {}", fmt_secs(waited)));
        parts.join("; ")
    }
}

/// A command of level 2, named by its key in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Restart,
    Repair,
}

impl Cmd {
    fn name(self) -> &'static str {
        match self {
            Cmd::Restart => "restart",
            Cmd::Repair => "repair",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Cmd::Restart => "SELFHEAL_RESTART_CMD",
            Cmd::Repair => "SELFHEAL_REPAIR_CMD",
        }
    }

    fn argv(self, c: &Config) -> &[String] {
        match self {
            Cmd::Restart => &c.restart_cmd,
            Cmd::Repair => &c.repair_cmd,
        }
    }
}

/// One attempt: the restart command, then the boot-aware wait. Every step
/// that restarts (rollback's too) goes through here.
pub fn restart(ctx: &mut Ctx, climb: &mut Climb, attempt: u32, label: &str) -> Result<Probe> {
    let c = ctx.config;
    ctx.log.act(format!(
        "level 2: {label}: running {}",
        shellwords::join(&c.restart_cmd)
    ));
    climb.last_restart_at = Some(ctx.clock.now());
    // Who holds the port now (someone answers, badly): a restart that
    // leaves the same process there cannot free it.
    let holder = (!climb.probe.refused()).then(|| port_holder(ctx)).flatten();
    let mut start = Start::begin(ctx);
    let done = run_command(ctx, Cmd::Restart)?;
    match &done.outcome {
        Exit::NotStarted(_) => {
            climb.hopeless = Some(format!(
                "the restart command cannot run ({})",
                done.describe()
            ))
        }
        Exit::Exited(s) if s.code() == Some(127) => {
            climb.hopeless =
                Some("the restart command exited 127: a program it runs was not found".to_string())
        }
        _ => {}
    }
    let result = match &done.outcome {
        Exit::TimedOut => "timeout",
        _ if done.success() => "success",
        _ => "failed",
    };
    ctx.record(
        HEALTH_FILE,
        Metric::new("gateway_restart", result, done.elapsed.as_secs_f64()).with("attempt", attempt),
    );
    climb.summary.restarts += 1;
    climb.summary.last_restart = Some(said(&done));
    // Numbered by the climb's restarts: a rollback's restart is the next
    // one, not a second "attempt 1".
    climb.ev.step(
        format!(
            "restart {} ({label}) `{}`: {}",
            climb.summary.restarts,
            shellwords::join(&c.restart_cmd),
            said(&done)
        ),
        &c.secrets(),
    );
    let limit = match climb.hopeless {
        Some(_) => Duration::ZERO,
        None => climb.boot.limit,
    };
    let (probe, failed_start) = wait_boot(ctx, limit, &mut start)?;
    ctx.record_probe(&probe);
    if let Some(before) = holder.filter(|_| !probe.healthy()) {
        if port_holder(ctx)
            .is_some_and(|now| now.pid == before.pid && now.started == before.started)
        {
            let port = super::evidence::port(&c.url).unwrap_or(0);
            let why = match super::service::identity(ctx) {
                Some(id) if *id == before.identity => format!(
                    "the restart did not replace the service's process on port {port} (pid {})",
                    before.pid
                ),
                _ => format!(
                    "port {port} is still held by another program (pid {}: {}) after the \
                     restart; a restart cannot free it",
                    before.pid,
                    crate::sys::redact::printable(&before.identity.shown())
                ),
            };
            climb.ev.step(why.clone(), &c.secrets());
            climb.hopeless = Some(why);
        }
    }
    if let Some(why) = &failed_start {
        let why = why.clone();
        ctx.log.warn(format!("level 2: stopped waiting: {why}"));
        climb.ev.step(why.clone(), &ctx.config.secrets());
        climb.summary.start_failed = Some(why.clone());
        climb.start_failed = Some(why);
    }
    if climb.summary.restarts == 1 && !probe.healthy() {
        // The first start's own words complete the incident's signature
        // (a learned fix is replayed after the first restart, so both
        // incidents have this much when it is compared).
        let words = failed_start.or_else(|| {
            (!done.success())
                .then(|| done.last_line().map(str::to_string))
                .flatten()
        });
        if let Some(words) = words {
            let secrets = c.secrets();
            climb.ev.start_error = Some(crate::sys::redact::printable(
                &crate::sys::redact::mask_secrets(&crate::sys::redact::scrub(&words, &secrets)),
            ));
            climb.ev.signature = climb.ev.compute_signature();
        }
    }
    climb.probe = probe.clone();
    Ok(probe)
}

/// The process that listens on the service's port.
fn port_holder(ctx: &Ctx) -> Option<crate::sys::procs::Proc> {
    let port = super::evidence::port(&ctx.config.url)?;
    crate::sys::procs::info(super::evidence::listener_pid(port)?)
}

/// `exited 1: "<its last output line>"` (whole: the alert is shaped to each
/// service's limit by cutting long lines first).
pub fn said(done: &Finished) -> String {
    match done.last_line() {
        Some(line) => format!("{}: \"{line}\"", done.describe()),
        None => done.describe(),
    }
}

/// Runs the restart or repair command (bounded), logs how it went.
pub fn run_command(ctx: &mut Ctx, cmd: Cmd) -> Result<Finished> {
    let c = ctx.config;
    let argv = cmd.argv(c);
    let done = ctx.run_command(argv, c.restart_timeout)?;
    let what = cmd.name();
    let line = format!(
        "level 2: {what} command: {} after {}",
        done.describe(),
        fmt_secs(done.elapsed)
    );
    if done.success() {
        ctx.log.act(line);
    } else {
        ctx.log.warn(line);
        if let Exit::NotStarted(_) = done.outcome {
            ctx.log.warn(format!(
                "level 2: {:?} was not found or is not executable (PATH={}); \
                 set {} to an absolute path",
                argv.first().map(String::as_str).unwrap_or(""),
                std::env::var("PATH").unwrap_or_default(),
                cmd.key()
            ));
        }
    }
    if !done.output.is_empty() && (!done.success() || ctx.log.is_verbose()) {
        ctx.log
            .warn(format!("level 2: {what} output: {}", done.output));
    }
    Ok(done)
}

/// The wait after a restart: polled up to `limit`, ended early when the
/// service is healthy or when its start evidently failed (`Start::failed`:
/// evidence about the service, never the restart command's process group).
/// Returns the last probe and, for a failed start, why.
pub fn wait_boot(
    ctx: &mut Ctx,
    limit: Duration,
    start: &mut Start,
) -> Result<(Probe, Option<String>)> {
    let (clock, poll) = (ctx.clock, ctx.config.poll_interval);
    let mut failed = None;
    let mut progress = crate::ctx::Progress::new(clock.now(), limit);
    let probe = poll_until(clock, limit, poll, || {
        let p = ctx.probe();
        progress.report(ctx, "waiting for it to boot", &p);
        if !p.healthy() {
            failed = start.failed(ctx, &p);
        }
        let stop = failed.is_some();
        (p, stop)
    })?;
    Ok((probe, failed))
}

pub use crate::ctx::poll_until;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::clock::FakeClock;

    fn probe(healthy: bool) -> Probe {
        Probe {
            failure: (!healthy).then_some(crate::probe::Failure::Refused),
            status: healthy.then_some(200),
            latency: Duration::ZERO,
            reason: String::new(),
        }
    }

    #[test]
    fn polling_stops_at_the_first_healthy_probe() {
        let clock = FakeClock::default();
        let mut n = 0;
        let p = poll_until(
            &clock,
            Duration::from_secs(30),
            Duration::from_secs(2),
            || {
                n += 1;
                (probe(n == 3), false)
            },
        )
        .expect("no signal");
        assert!(p.healthy());
        assert_eq!(n, 3);
        assert_eq!(clock.elapsed.get(), Duration::from_secs(6));
    }

    #[test]
    fn polling_gives_up_at_the_limit() {
        let clock = FakeClock::default();
        let mut n = 0;
        let p = poll_until(
            &clock,
            Duration::from_secs(5),
            Duration::from_secs(2),
            || {
                n += 1;
                (probe(false), false)
            },
        )
        .expect("no signal");
        assert!(!p.healthy());
        assert_eq!(n, 3, "probes at 2, 4 and 5 s");
        assert_eq!(clock.elapsed.get(), Duration::from_secs(5));
    }

    #[test]
    fn polling_stops_when_it_is_given_up() {
        let clock = FakeClock::default();
        let mut looked = 0;
        let p = poll_until(
            &clock,
            Duration::from_secs(60),
            Duration::from_secs(2),
            || {
                looked += 1;
                (probe(false), looked == 2)
            },
        )
        .expect("no signal");
        assert!(!p.healthy());
        assert_eq!(clock.elapsed.get(), Duration::from_secs(4));
    }

    #[test]
    fn a_zero_limit_still_probes_once() {
        let clock = FakeClock::default();
        let mut n = 0;
        poll_until(&clock, Duration::ZERO, Duration::from_secs(2), || {
            n += 1;
            (probe(false), false)
        })
        .expect("no signal");
        assert_eq!(n, 1);
        assert_eq!(clock.elapsed.get(), Duration::from_secs(0));
    }
}
