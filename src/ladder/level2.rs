//! Level 2: restart the service and wait for it to boot, up to
//! `HEALTH_CHECK_MAX_RETRIES` times; the repair command once after the first
//! failed attempt (followed by a restart of its own: one more attempt); then
//! the escalation wait for it to come back by itself.
//!
//! Every wait is polled every `SELFHEAL_POLL_INTERVAL` and ends the moment
//! the service is healthy; the wait after a restart is as long as the service
//! needs to boot (`boot`) and ends early when its start evidently failed.
//! No restart runs when the crash-loop brake (`brake`) says no. Every command
//! runs in its own process group, killed at `SELFHEAL_RESTART_TIMEOUT`.

use std::time::{Duration, Instant};

use super::boot::{self, BootWait};
use super::brake::{self, Gate};
use super::evidence::Evidence;
use super::rollback::{Change, Restored};
use super::{rollback, runbook};
use crate::config::{shellwords, Switch};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::probe::Probe;
use crate::sys::clock::Clock;
use crate::sys::metrics::{Metric, HEALTH_FILE};
use crate::sys::process::{Finished, Outcome};

/// How level 2 brought the service back: the `recovery` metric's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Healed {
    /// A restart (or the repair after it) worked: `success`.
    ByRestart,
    /// It came back during the escalation wait: `self_healed`.
    ByItself,
    /// The last working config, restored, and a restart: `self_healed`.
    ByRollback,
    /// A fix learned from the agent, replayed: `self_healed`.
    ByRunbook,
}

impl Healed {
    pub fn as_str(self) -> &'static str {
        match self {
            Healed::ByRestart => "success",
            Healed::ByItself | Healed::ByRollback | Healed::ByRunbook => "self_healed",
        }
    }
}

/// How level 2 ended.
pub enum Level2 {
    Recovered {
        how: Healed,
        attempts: u32,
        probe: Probe,
    },
    Failed {
        attempts: u32,
        last_probe: Probe,
        /// Every step that ran, with what it said, for the alert.
        summary: String,
    },
}

/// A command of level 2, named by its key in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
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

    fn argv(self, c: &crate::config::Config) -> &[String] {
        match self {
            Cmd::Restart => &c.restart_cmd,
            Cmd::Repair => &c.repair_cmd,
        }
    }
}

/// What level 2 did, for the alert's level 2 line.
#[derive(Default)]
struct Summary {
    restarts: u32,
    /// The last restart's result and its last output line.
    last_restart: Option<String>,
    /// When the last restart began: a service healthy after it booted this long.
    last_restart_at: Option<Instant>,
    repair: Option<String>,
    brake: Option<String>,
    start_failed: Option<String>,
    /// The restart command cannot run at all (not found, not executable):
    /// waiting and retrying cannot help.
    cannot_run: bool,
}

impl Summary {
    fn text(&self, waited: Duration) -> String {
        let mut parts = Vec::new();
        match (self.restarts, &self.last_restart) {
            (0, _) => {}
            (n, Some(last)) => parts.push(format!("{n} restart attempt(s), the last {last}")),
            (n, None) => parts.push(format!("{n} restart attempt(s)")),
        }
        parts.extend(self.start_failed.clone());
        parts.extend(self.repair.clone());
        parts.extend(self.brake.clone());
        if parts.is_empty() {
            parts.push("no restart".into());
        }
        parts.push(format!("then waited {}", fmt_secs(waited)));
        parts.join("; ")
    }
}

#[inline(never)]
pub fn run(ctx: &mut Ctx, ev: &mut Evidence) -> Result<Level2> {
    let c = ctx.config;
    let started = ctx.clock.now();
    let planned = if c.restart_cmd.is_empty() {
        ctx.log
            .warn("level 2: SELFHEAL_RESTART_CMD is empty, nothing to restart with");
        0
    } else if c.repair_cmd.is_empty() || c.max_retries == 0 {
        c.max_retries
    } else {
        // The repair is followed by a restart of its own.
        c.max_retries + 1
    };
    let boot = boot::wait(c);
    if planned > 0 {
        ctx.log.info(format!(
            "level 2: after each restart, waiting up to {} for it to boot: {}",
            fmt_secs(boot.limit),
            boot.why
        ));
    }
    let mut summary = Summary::default();
    let mut attempt = 0;
    let mut repaired = false;
    while attempt < planned {
        let gate = brake::gate(ctx);
        match &gate {
            Gate::Braked(why) => {
                ctx.log.warn(format!("level 2: {why}"));
                ctx.record(
                    HEALTH_FILE,
                    Metric::new("brake", "crash_loop", f64::from(attempt)),
                );
                ev.step(why.clone(), &ctx.config.secrets());
                summary.brake = Some(why.clone());
                break;
            }
            Gate::AfterBackoff(why) => ctx.log.warn(format!("level 2: {why}")),
            Gate::Open => {}
        }
        attempt += 1;
        let label = format!("attempt {attempt}/{planned}");
        let probe = restart(ctx, attempt, &label, &boot, &mut summary, ev)?;
        if summary.cannot_run {
            ctx.log.warn(
                "level 2: the restart command cannot run (see above): no more attempts and no \
                 escalation wait, since waiting cannot help; on to level 3",
            );
            break;
        }
        brake::restarted(ctx, &gate);
        if probe.healthy {
            return recovered(ctx, Healed::ByRestart, attempt, started, probe, &summary);
        }
        ctx.log.warn(format!(
            "level 2: still unhealthy after attempt {attempt}: {}",
            probe.reason
        ));
        if attempt == 1 {
            if let Some((how, probe)) = learned(ctx, attempt, &boot, &mut summary, ev)? {
                return recovered(ctx, how, attempt, started, probe, &summary);
            }
        }
        if attempt == 1 && !c.repair_cmd.is_empty() && !repaired {
            repaired = true;
            if let Some(probe) = repair(ctx, &mut summary, ev)? {
                return recovered(ctx, Healed::ByRestart, attempt, started, probe, &summary);
            }
        }
    }
    if summary.brake.is_some() && attempt == 0 {
        // A crash loop: no blind restart, but a changed config or a known
        // fault is not blind (a bad config is what loops most).
        if let Some((how, probe)) = learned(ctx, 1, &boot, &mut summary, ev)? {
            return recovered(ctx, how, attempt, started, probe, &summary);
        }
    }
    if summary.brake.is_some() && !repaired && !c.repair_cmd.is_empty() {
        // A crash loop: straight to the repair steps.
        if let Some(probe) = repair(ctx, &mut summary, ev)? {
            return recovered(ctx, Healed::ByRestart, attempt, started, probe, &summary);
        }
    }
    let waited = if summary.cannot_run {
        Duration::ZERO
    } else {
        c.escalation_wait
    };
    if !waited.is_zero() {
        ctx.log.act(format!(
            "level 2: waiting up to {} for the service to come back by itself (probing every {})",
            fmt_secs(c.escalation_wait),
            fmt_secs(c.poll_interval)
        ));
    }
    let probe = wait_healthy(ctx, waited)?;
    ctx.record_probe(&probe);
    if probe.healthy {
        return recovered(ctx, Healed::ByItself, attempt, started, probe, &summary);
    }
    ctx.record(
        HEALTH_FILE,
        Metric::new("recovery", "failed", f64::from(attempt)),
    );
    ctx.log.warn(format!(
        "level 2 failed: still unhealthy after {attempt} restart attempt(s) and {}: \
         {} (status {})",
        fmt_secs(ctx.clock.now() - started),
        probe.reason,
        probe.status_text()
    ));
    Ok(Level2::Failed {
        attempts: attempt,
        last_probe: probe,
        summary: summary.text(waited),
    })
}

/// What a restart cannot fix, after the first failed restart: the last
/// working config (`rollback`), then a fix learned from the agent
/// (`runbook`). Each ends with the service healthy or with nothing of it left
/// behind (a restored file is put back; a failed fix is counted).
fn learned(
    ctx: &mut Ctx,
    attempt: u32,
    boot: &BootWait,
    summary: &mut Summary,
    ev: &mut Evidence,
) -> Result<Option<(Healed, Probe)>> {
    let changes = match ctx.config.rollback {
        Switch::On => rollback::changes(ctx),
        Switch::Off => Vec::new(),
    };
    if !changes.is_empty() {
        match roll_back(ctx, changes, attempt, boot, summary, ev)? {
            RolledBack::NotPossible(e) => {
                ctx.log.warn(format!("level 2: rollback not possible: {e}"))
            }
            RolledBack::Kept(probe, restored) => {
                super::level4::rolled_back(ctx, &probe, &restored)?;
                return Ok(Some((Healed::ByRollback, probe)));
            }
            RolledBack::Undone(_) => {}
        }
    }
    let Some(mut entry) = runbook::usable(ctx, &ev.signature) else {
        return Ok(None);
    };
    let c = ctx.config;
    ctx.log.act(format!(
        "level 2: replaying the fix learned on {} for this kind of incident ({}): /bin/sh {}",
        entry.learned_on(),
        entry.text("root_cause"),
        entry.script.display()
    ));
    let argv = ["/bin/sh".to_string(), entry.script.display().to_string()];
    let done = ctx.run_command(&argv, c.restart_timeout)?;
    let (probe, _) = wait_boot(ctx, boot.limit, &done)?;
    ctx.record_probe(&probe);
    let result = if probe.healthy { "success" } else { "failed" };
    ctx.record(
        HEALTH_FILE,
        Metric::new("runbook", result, done.elapsed.as_secs_f64()),
    );
    runbook::replayed(ctx, &mut entry, probe.healthy);
    ev.step(
        format!(
            "learned fix {} replayed: {}; {}",
            entry.id,
            said(&done),
            probe.reason
        ),
        &c.secrets(),
    );
    if probe.healthy {
        super::level4::replayed(ctx, &probe, &entry)?;
        return Ok(Some((Healed::ByRunbook, probe)));
    }
    ctx.log.warn(format!(
        "level 2: the learned fix did not heal it ({}); going on",
        probe.reason
    ));
    Ok(None)
}

/// How a rollback ended.
pub enum RolledBack {
    /// Healthy with the last working versions: they stay.
    Kept(Probe, Vec<Restored>),
    /// Not healthy: the user's files are back (or the log says which are not).
    Undone(Probe),
    /// Nothing was restored (the files could not be written or moved).
    NotPossible(crate::error::Error),
}

/// Restores the last working versions of `changes`, restarts and waits for
/// the boot; keeps them when healthy, else puts the user's files back. The
/// `rollback` metric either way.
fn roll_back(
    ctx: &mut Ctx,
    changes: Vec<Change>,
    attempt: u32,
    boot: &BootWait,
    summary: &mut Summary,
    ev: &mut Evidence,
) -> Result<RolledBack> {
    let names: Vec<String> = changes
        .iter()
        .map(|c| c.file.display().to_string())
        .collect();
    let names = names.join(", ");
    let at = ctx.clock.now();
    let restored = match rollback::restore(changes) {
        Ok(restored) => restored,
        Err(e) => return Ok(RolledBack::NotPossible(e)),
    };
    ctx.log.act(format!(
        "level 2: {names} differ(s) from the last working version: restored it, the user's \
         version moved aside"
    ));
    let label = "after restoring the last working config";
    let probe = restart(ctx, attempt, label, boot, summary, ev)?;
    brake::restarted(ctx, &Gate::Open);
    let took = (ctx.clock.now() - at).as_secs_f64();
    if probe.healthy {
        ctx.record(HEALTH_FILE, Metric::new("rollback", "success", took));
        return Ok(RolledBack::Kept(probe, restored));
    }
    ctx.record(HEALTH_FILE, Metric::new("rollback", "failed", took));
    let problems = rollback::undo(&restored);
    let said = if problems.is_empty() {
        "the user's version is back, byte for byte".to_string()
    } else {
        format!("COULD NOT PUT BACK: {}", problems.join("; "))
    };
    ctx.log.warn(format!(
        "level 2: still unhealthy with the last working config ({}); {said}",
        probe.reason
    ));
    ev.step(
        format!("restored the last working {names}: did not help; {said}"),
        &[],
    );
    Ok(RolledBack::Undone(probe))
}

/// `selfheal rollback`: the same, outside a climb.
pub fn roll_back_now(ctx: &mut Ctx, changes: Vec<Change>) -> Result<RolledBack> {
    let boot = boot::wait(ctx.config);
    let (mut summary, mut ev) = (Summary::default(), Evidence::default());
    roll_back(ctx, changes, 1, &boot, &mut summary, &mut ev)
}

/// One attempt: the restart command, then the boot-aware wait.
fn restart(
    ctx: &mut Ctx,
    attempt: u32,
    label: &str,
    boot: &BootWait,
    summary: &mut Summary,
    ev: &mut Evidence,
) -> Result<Probe> {
    let c = ctx.config;
    ctx.log.act(format!(
        "level 2: {label}: running {}",
        shellwords::join(&c.restart_cmd)
    ));
    summary.last_restart_at = Some(ctx.clock.now());
    let done = run_command(ctx, Cmd::Restart)?;
    if let Outcome::NotStarted(_) = done.outcome {
        summary.cannot_run = true;
    }
    let result = match &done.outcome {
        Outcome::TimedOut => "timeout",
        _ if done.success() => "success",
        _ => "failed",
    };
    ctx.record(
        HEALTH_FILE,
        Metric::new("gateway_restart", result, done.elapsed.as_secs_f64()).with("attempt", attempt),
    );
    summary.restarts += 1;
    summary.last_restart = Some(said(&done));
    ev.step(
        format!(
            "restart `{}` (attempt {attempt}): {}",
            shellwords::join(&c.restart_cmd),
            said(&done)
        ),
        &c.secrets(),
    );
    let limit = if summary.cannot_run {
        Duration::ZERO
    } else {
        boot.limit
    };
    let (probe, failed_start) = wait_boot(ctx, limit, &done)?;
    ctx.record_probe(&probe);
    if let Some(why) = failed_start {
        ctx.log.warn(format!("level 2: stopped waiting: {why}"));
        ev.step(why.clone(), &ctx.config.secrets());
        summary.start_failed = Some(why);
    }
    Ok(probe)
}

/// The repair command, once, then a probe; `Some` if that is healthy (the
/// next attempt's restart follows otherwise).
fn repair(ctx: &mut Ctx, summary: &mut Summary, ev: &mut Evidence) -> Result<Option<Probe>> {
    let c = ctx.config;
    ctx.log.act(format!(
        "level 2: running the repair command {}",
        shellwords::join(&c.repair_cmd)
    ));
    let done = run_command(ctx, Cmd::Repair)?;
    let line = format!(
        "repair `{}`: {}",
        shellwords::join(&c.repair_cmd),
        said(&done)
    );
    let line = crate::sys::redact::scrub(&line, &c.secrets());
    ev.step(line.clone(), &[]);
    summary.repair = Some(line);
    let probe = ctx.probe();
    if !probe.healthy {
        return Ok(None);
    }
    ctx.record_probe(&probe);
    Ok(Some(probe))
}

/// `exited 1: "<its last output line>"` (whole: the alert is shaped to each
/// service's limit by cutting long lines first).
fn said(done: &Finished) -> String {
    match done.last_line() {
        Some(line) => format!("{}: \"{line}\"", done.describe()),
        None => done.describe(),
    }
}

fn recovered(
    ctx: &mut Ctx,
    how: Healed,
    attempts: u32,
    started: Instant,
    probe: Probe,
    summary: &Summary,
) -> Result<Level2> {
    ctx.record(
        HEALTH_FILE,
        Metric::new("recovery", how.as_str(), f64::from(attempts)),
    );
    if let Some(at) = summary.last_restart_at {
        // How long it took to boot: what the next incident waits for.
        let boot = ctx.clock.now() - at;
        ctx.record(
            HEALTH_FILE,
            Metric::new("boot", "success", boot.as_secs_f64()),
        );
    }
    let said = match how {
        Healed::ByItself => "came back by itself".to_string(),
        Healed::ByRestart => format!("recovered by restart (attempt {attempts})"),
        Healed::ByRollback => "recovered with the last working config".to_string(),
        Healed::ByRunbook => "recovered by a fix learned from the agent".to_string(),
    };
    ctx.log.act(format!(
        "level 2: {said} after {}",
        fmt_secs(ctx.clock.now() - started)
    ));
    Ok(Level2::Recovered {
        how,
        attempts,
        probe,
    })
}

fn run_command(ctx: &mut Ctx, cmd: Cmd) -> Result<Finished> {
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
        if let Outcome::NotStarted(_) = done.outcome {
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
/// service is healthy or when its start evidently failed — the restart
/// command left a process running (the service it started) and that process
/// is gone while the port is closed. Returns the last probe and, for a
/// failed start, why.
fn wait_boot(ctx: &mut Ctx, limit: Duration, done: &Finished) -> Result<(Probe, Option<String>)> {
    let (clock, poll) = (ctx.clock, ctx.config.poll_interval);
    let started_one = done.left_running();
    let mut failed = None;
    let mut progress = crate::ctx::Progress::new(clock.now(), limit);
    let probe = poll_until(
        clock,
        limit,
        poll,
        || {
            let p = ctx.probe();
            progress.report(ctx, "waiting for it to boot", &p);
            p
        },
        |p| {
            let gone = started_one && !done.left_running() && p.reason.contains("refused");
            if gone {
                failed = Some(
                    "the process the restart command started exited during start-up \
                     and the port is closed"
                        .to_string(),
                );
            }
            gone
        },
    )?;
    Ok((probe, failed))
}

/// Probes every `SELFHEAL_POLL_INTERVAL` for up to `limit`, returning the
/// first healthy probe, or the last one when time is up. Probes at least once.
pub fn wait_healthy(ctx: &mut Ctx, limit: Duration) -> Result<Probe> {
    let (clock, poll) = (ctx.clock, ctx.config.poll_interval);
    let mut polls = 0u32;
    let mut progress = crate::ctx::Progress::new(clock.now(), limit);
    let probe = poll_until(
        clock,
        limit,
        poll,
        || {
            polls += 1;
            let p = ctx.probe();
            progress.report(ctx, "waiting for it to be healthy", &p);
            p
        },
        |_| false,
    )?;
    ctx.log
        .debug(format!("probed {polls} time(s): {}", probe.reason));
    Ok(probe)
}

/// The polling loop, apart from probing, so that it can be tested with a
/// fake clock: until healthy, `give_up` says so, or the limit.
pub fn poll_until(
    clock: &dyn Clock,
    limit: Duration,
    poll: Duration,
    mut probe: impl FnMut() -> Probe,
    mut give_up: impl FnMut(&Probe) -> bool,
) -> Result<Probe> {
    let deadline = clock.now() + limit;
    loop {
        let now = clock.now();
        clock.sleep(poll.min(deadline.saturating_duration_since(now)))?;
        let p = probe();
        if p.healthy || clock.now() >= deadline || give_up(&p) {
            return Ok(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::clock::FakeClock;

    fn probe(healthy: bool) -> Probe {
        Probe {
            healthy,
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
                probe(n == 3)
            },
            |_| false,
        )
        .expect("no signal");
        assert!(p.healthy);
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
                probe(false)
            },
            |_| false,
        )
        .expect("no signal");
        assert!(!p.healthy);
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
            || probe(false),
            |_| {
                looked += 1;
                looked == 2
            },
        )
        .expect("no signal");
        assert!(!p.healthy);
        assert_eq!(clock.elapsed.get(), Duration::from_secs(4));
    }

    #[test]
    fn a_zero_limit_still_probes_once() {
        let clock = FakeClock::default();
        let mut n = 0;
        poll_until(
            &clock,
            Duration::ZERO,
            Duration::from_secs(2),
            || {
                n += 1;
                probe(false)
            },
            |_| false,
        )
        .expect("no signal");
        assert_eq!(n, 1);
        assert_eq!(clock.elapsed.get(), Duration::ZERO);
    }
}
