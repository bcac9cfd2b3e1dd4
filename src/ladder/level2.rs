//! Level 2: restart the service and wait for it, up to
//! `HEALTH_CHECK_MAX_RETRIES` times; the repair command once after the first
//! failed attempt; then the escalation wait for it to come back by itself.
//!
//! Every wait is polled every `SELFHEAL_POLL_INTERVAL` and ends the moment
//! the service is healthy. Every command runs in its own process group,
//! killed at `SELFHEAL_RESTART_TIMEOUT`.

use std::time::{Duration, Instant};

use crate::config::shellwords;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::probe::Probe;
use crate::sys::clock::Clock;
use crate::sys::metrics::{Metric, HEALTH_FILE};
use crate::sys::process::{self, Finished, Outcome};

/// How level 2 brought the service back: the `recovery` metric's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Healed {
    /// A restart (or the repair after it) worked: `success`.
    ByRestart,
    /// It came back during the escalation wait: `self_healed`.
    ByItself,
}

impl Healed {
    pub fn as_str(self) -> &'static str {
        match self {
            Healed::ByRestart => "success",
            Healed::ByItself => "self_healed",
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
        /// The last restart command's result and output, for the alert.
        last_command: Option<String>,
    },
}

#[inline(never)]
pub fn run(ctx: &mut Ctx) -> Result<Level2> {
    let c = ctx.config;
    let started = ctx.clock.now();
    let attempts = if c.restart_cmd.is_empty() {
        ctx.log
            .warn("level 2: SELFHEAL_RESTART_CMD is empty, nothing to restart with");
        0
    } else {
        c.max_retries
    };
    let mut last_command = None;
    for attempt in 1..=attempts {
        let (probe, described) = restart(ctx, attempt, attempts)?;
        last_command = Some(described);
        if probe.healthy {
            return recovered(ctx, Healed::ByRestart, attempt, started, probe);
        }
        ctx.log.warn(format!(
            "level 2: still unhealthy after attempt {attempt}: {}",
            probe.reason
        ));
        if attempt == 1 && !c.repair_cmd.is_empty() {
            if let Some(probe) = repair(ctx)? {
                return recovered(ctx, Healed::ByRestart, attempt, started, probe);
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
    ctx.record_probe(&probe);
    if probe.healthy {
        return recovered(ctx, Healed::ByItself, attempts, started, probe);
    }
    ctx.record(
        HEALTH_FILE,
        Metric::new("recovery", "failed", f64::from(attempts)),
    );
    ctx.log.warn(format!(
        "level 2 failed: still unhealthy after {attempts} restart attempt(s) and {}: \
         {} (status {})",
        fmt_secs(ctx.clock.now() - started),
        probe.reason,
        probe.status_text()
    ));
    Ok(Level2::Failed {
        attempts,
        last_probe: probe,
        last_command,
    })
}

/// One attempt: the restart command, then the polled wait. Returns the last
/// probe and the command's result as the alert tells it.
fn restart(ctx: &mut Ctx, attempt: u32, attempts: u32) -> Result<(Probe, String)> {
    let c = ctx.config;
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
    let described = if done.output.is_empty() {
        done.describe()
    } else {
        format!("{} ({})", done.describe(), done.output)
    };
    ctx.record(
        HEALTH_FILE,
        Metric::new("gateway_restart", result, done.elapsed.as_secs_f64()).with("attempt", attempt),
    );
    let probe = wait_healthy(ctx, c.retry_delay)?;
    ctx.record_probe(&probe);
    Ok((probe, described))
}

/// The repair command, once; `Some` with the probe if it brought the service back.
fn repair(ctx: &mut Ctx) -> Result<Option<Probe>> {
    let c = ctx.config;
    ctx.log.act(format!(
        "level 2: running the repair command {}",
        shellwords::join(&c.repair_cmd)
    ));
    run_command(ctx, &c.repair_cmd, "repair")?;
    let probe = ctx.probe();
    if !probe.healthy {
        return Ok(None);
    }
    ctx.record_probe(&probe);
    Ok(Some(probe))
}

fn recovered(
    ctx: &mut Ctx,
    how: Healed,
    attempts: u32,
    started: Instant,
    probe: Probe,
) -> Result<Level2> {
    ctx.record(
        HEALTH_FILE,
        Metric::new("recovery", how.as_str(), f64::from(attempts)),
    );
    let said = match how {
        Healed::ByItself => "came back by itself".to_string(),
        Healed::ByRestart => format!("recovered by restart (attempt {attempts})"),
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
                "level 2: {:?} was not found or is not executable (PATH={}); \
                 set SELFHEAL_RESTART_CMD to an absolute path",
                argv.first().map(String::as_str).unwrap_or(""),
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
