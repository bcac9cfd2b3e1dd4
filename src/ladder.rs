//! `selfheal check`: probe, and when unhealthy climb the healing ladder in
//! sequence, in this process, each step bounded.
//!
//! Level 2 lives here: restart command, then poll until healthy (moving on
//! the moment it is), up to `HEALTH_CHECK_MAX_RETRIES` times; the optional
//! repair command once after the first failed attempt; then the escalation
//! wait, polled. Levels 3 and 4 are not part of this version; the ladder says
//! so and ends unhealthy. Nothing here runs in the background: when `check`
//! exits, everything it started has ended or was started as a daemon on
//! purpose by the restart command.

use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::config::fmt_secs;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::log;
use crate::metrics::{Metric, HEALTH_FILE};
use crate::probe::Probe;
use crate::process::{self, Finished, Outcome, KILL_GRACE};
use crate::rotate;
use crate::shellwords;
use crate::Verdict;

pub fn check(ctx: &mut Ctx) -> Result<Verdict> {
    rotate_logs(ctx);
    let first = ctx.probe();
    record_probe(ctx, &first);
    if first.healthy {
        ctx.record(HEALTH_FILE, Metric::new("health_check", "healthy", 0.0));
        ctx.log.info(format!(
            "healthy: {} in {} ms ({})",
            first.reason,
            first.latency_ms(),
            crate::config::shown_url(ctx.config)
        ));
        return Ok(Verdict::Ok);
    }
    ctx.log.warn(format!(
        "unhealthy: {} (status {}, {}) — starting level 2; worst case for this run {}",
        first.reason,
        first.status_text(),
        crate::config::shown_url(ctx.config),
        fmt_secs(worst_case(ctx))
    ));
    if ctx.mode == Mode::DryRun {
        describe_plan(ctx);
        return Ok(Verdict::Unhealthy);
    }
    level2(ctx)
}

/// The longest a healing run can take: every step at its bound.
pub fn worst_case(ctx: &Ctx) -> Duration {
    let c = ctx.config;
    let command = c.restart_timeout + KILL_GRACE;
    let attempts = if c.restart_cmd.is_empty() {
        0
    } else {
        c.max_retries
    };
    let per_attempt = command + c.retry_delay + c.http_timeout;
    let repair = if c.repair_cmd.is_empty() || attempts == 0 {
        Duration::ZERO
    } else {
        command + c.http_timeout
    };
    c.http_timeout + per_attempt * attempts + repair + c.escalation_wait + c.http_timeout
}

fn level2(ctx: &mut Ctx) -> Result<Verdict> {
    let c = ctx.config;
    let started = ctx.clock.now();
    let attempts = if c.restart_cmd.is_empty() {
        ctx.log
            .warn("level 2: SELFHEAL_RESTART_CMD is empty, nothing to restart with");
        0
    } else {
        c.max_retries
    };
    for attempt in 1..=attempts {
        ctx.log.act(format!(
            "level 2: attempt {attempt}/{attempts}: running {}",
            shellwords::join(&c.restart_cmd)
        ));
        let done = run_command(ctx, &c.restart_cmd, "restart")?;
        let result = match &done.outcome {
            Outcome::TimedOut => "timeout",
            _ if done.success() => "success",
            _ => "failed",
        };
        ctx.record(
            HEALTH_FILE,
            Metric::new("gateway_restart", result, done.elapsed.as_secs_f64())
                .with("attempt", attempt),
        );
        let probe = wait_healthy(ctx, c.retry_delay)?;
        record_probe(ctx, &probe);
        if probe.healthy {
            return recovered(ctx, "success", attempt, started);
        }
        ctx.log.warn(format!(
            "level 2: still unhealthy after attempt {attempt}: {}",
            probe.reason
        ));
        if attempt == 1 && !c.repair_cmd.is_empty() {
            ctx.log.act(format!(
                "level 2: running the repair command {}",
                shellwords::join(&c.repair_cmd)
            ));
            run_command(ctx, &c.repair_cmd, "repair")?;
            let probe = ctx.probe();
            if probe.healthy {
                record_probe(ctx, &probe);
                return recovered(ctx, "success", attempt, started);
            }
        }
    }
    if !c.escalation_wait.is_zero() {
        ctx.log.act(format!(
            "level 2: waiting up to {} for the service to come back by itself (probing every {})",
            fmt_secs(c.escalation_wait),
            fmt_secs(c.poll_interval)
        ));
    }
    let probe = wait_healthy(ctx, c.escalation_wait)?;
    record_probe(ctx, &probe);
    if probe.healthy {
        return recovered(ctx, "self_healed", attempts, started);
    }
    ctx.record(
        HEALTH_FILE,
        Metric::new("recovery", "failed", f64::from(attempts)),
    );
    ctx.log.warn(format!(
        "level 2 failed: still unhealthy after {attempts} restart attempt(s) and {}: {} (status {})",
        fmt_secs(ctx.clock.now() - started),
        probe.reason,
        probe.status_text()
    ));
    ctx.log
        .warn("level 3 (AI recovery) is not configured in this version of selfheal");
    ctx.log.warn(
        "level 4 (alerts) is not configured in this version of selfheal: nobody was notified",
    );
    ctx.log.warn(format!(
        "MANUAL INTERVENTION REQUIRED: try `openclaw status` and `{}`",
        shellwords::join(&c.restart_cmd)
    ));
    Ok(Verdict::Unhealthy)
}

fn recovered(
    ctx: &mut Ctx,
    result: &str,
    attempts: u32,
    started: std::time::Instant,
) -> Result<Verdict> {
    ctx.record(
        HEALTH_FILE,
        Metric::new("recovery", result, f64::from(attempts)),
    );
    let how = if result == "self_healed" {
        "came back by itself".to_string()
    } else {
        format!("recovered by restart (attempt {attempts})")
    };
    ctx.log.act(format!(
        "level 2: {how} after {}",
        fmt_secs(ctx.clock.now() - started)
    ));
    Ok(Verdict::Ok)
}

fn run_command(ctx: &mut Ctx, argv: &[String], what: &str) -> Result<Finished> {
    let c = ctx.config;
    let done = process::run(
        argv,
        c.restart_timeout,
        &ctx.capture_path(),
        ctx.clock,
        &c.secrets(),
    )?;
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
                "level 2: {:?} was not found or is not executable (PATH={}); set SELFHEAL_RESTART_CMD to an absolute path",
                argv[0],
                std::env::var("PATH").unwrap_or_default()
            ));
        }
    }
    if !done.output.is_empty() && (!done.success() || ctx.log.is_verbose()) {
        ctx.log
            .warn(format!("level 2: {what} output: {}", done.output));
    }
    Ok(done)
}

/// Probes every `SELFHEAL_POLL_INTERVAL` for up to `limit`, returning the
/// first healthy probe, or the last one when time is up. Probes at least once.
pub fn wait_healthy(ctx: &mut Ctx, limit: Duration) -> Result<Probe> {
    let (clock, poll) = (ctx.clock, ctx.config.poll_interval);
    let mut polls = 0u32;
    let probe = poll_until(clock, limit, poll, || {
        polls += 1;
        ctx.probe()
    })?;
    ctx.log
        .debug(format!("probed {polls} time(s): {}", probe.reason));
    Ok(probe)
}

/// The polling loop, apart from probing, so that it can be tested with a fake clock.
pub fn poll_until(
    clock: &dyn Clock,
    limit: Duration,
    poll: Duration,
    mut probe: impl FnMut() -> Probe,
) -> Result<Probe> {
    let deadline = clock.now() + limit;
    loop {
        let now = clock.now();
        clock.sleep(poll.min(deadline.saturating_duration_since(now)))?;
        let p = probe();
        if p.healthy || clock.now() >= deadline {
            return Ok(p);
        }
    }
}

fn record_probe(ctx: &mut Ctx, probe: &Probe) {
    ctx.record(
        HEALTH_FILE,
        Metric::new(
            "http_check",
            probe.status_text(),
            probe.latency.as_secs_f64(),
        ),
    );
}

fn rotate_logs(ctx: &mut Ctx) {
    let c = ctx.config;
    let old = match rotate::candidates(&c.memory_dir, c.log_retention_days, SystemTime::now()) {
        Ok(old) => old,
        Err(e) => return ctx.log.warn(format!("rotation skipped: {e}")),
    };
    delete(ctx, &old);
}

/// Deletes (or in a dry run, lists) rotated files; returns how many went.
pub fn delete(ctx: &mut Ctx, old: &[std::path::PathBuf]) -> usize {
    let mut deleted = 0;
    for path in old {
        if ctx.mode == Mode::DryRun {
            log::print(&format!("would delete: {}\n", path.display()));
            continue;
        }
        match std::fs::remove_file(path) {
            Ok(()) => {
                deleted += 1;
                ctx.log.debug(format!("rotated out {}", path.display()));
            }
            Err(e) => ctx
                .log
                .warn(format!("cannot delete {}: {e}", path.display())),
        }
    }
    if deleted > 0 {
        ctx.log.info(format!(
            "rotation: deleted {deleted} log(s) older than {} days",
            ctx.config.log_retention_days
        ));
    }
    deleted
}

fn describe_plan(ctx: &mut Ctx) {
    let c = ctx.config;
    let say = |s: String| log::print(&format!("{s}\n"));
    if c.restart_cmd.is_empty() {
        say("would not restart: SELFHEAL_RESTART_CMD is empty".into());
    } else {
        say(format!(
            "would run: {} (timeout {}), then probe every {} for up to {}; up to {} attempt(s)",
            shellwords::join(&c.restart_cmd),
            fmt_secs(c.restart_timeout),
            fmt_secs(c.poll_interval),
            fmt_secs(c.retry_delay),
            c.max_retries
        ));
    }
    if !c.repair_cmd.is_empty() {
        say(format!(
            "would run once after the first failed attempt: {} (timeout {})",
            shellwords::join(&c.repair_cmd),
            fmt_secs(c.restart_timeout)
        ));
    }
    say(format!(
        "would wait up to {} (probing every {}) before level 3",
        fmt_secs(c.escalation_wait),
        fmt_secs(c.poll_interval)
    ));
    say("would stop there: levels 3 and 4 are not configured in this version".into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;

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
        )
        .expect("no signal");
        assert!(!p.healthy);
        assert_eq!(n, 3, "probes at 2, 4 and 5 s");
        assert_eq!(clock.elapsed.get(), Duration::from_secs(5));
    }

    #[test]
    fn a_zero_limit_still_probes_once() {
        let clock = FakeClock::default();
        let mut n = 0;
        poll_until(&clock, Duration::ZERO, Duration::from_secs(2), || {
            n += 1;
            probe(false)
        })
        .expect("no signal");
        assert_eq!(n, 1);
        assert_eq!(clock.elapsed.get(), Duration::ZERO);
    }
}
