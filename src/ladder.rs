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

use crate::agent;
use crate::alert::{Facts, Kind, LevelOutcome};
use crate::clock::{unix_now, Clock};
use crate::config::fmt_secs;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::incident;
use crate::log;
use crate::metrics::{Metric, EMERGENCY_FILE, HEALTH_FILE};
use crate::probe::Probe;
use crate::process::{self, Finished, Outcome, KILL_GRACE};
use crate::rotate;
use crate::shellwords;
use crate::state::Running;
use crate::Verdict;

pub fn check(ctx: &mut Ctx) -> Result<Verdict> {
    rotate_logs(ctx);
    ctx.load_state();
    if let Some(until) = paused(ctx) {
        return paused_check(ctx, until);
    }
    incident::flush_outbox(ctx)?;
    abandoned_run(ctx)?;
    let first = ctx.probe();
    record_probe(ctx, &first);
    let verdict = if first.healthy {
        ctx.record(HEALTH_FILE, Metric::new("health_check", "healthy", 0.0));
        ctx.log.info(format!(
            "healthy: {} in {} ms ({})",
            first.reason,
            first.latency_ms(),
            crate::config::shown_url(ctx.config)
        ));
        if ctx.state.incident.is_some() {
            let facts = facts(ctx, &first, Vec::new());
            incident::close(ctx, &facts)?;
        }
        Verdict::Ok
    } else {
        heal(ctx, &first)?
    };
    incident::heartbeat(ctx, verdict == Verdict::Ok);
    write_prom(ctx, verdict == Verdict::Ok, &first, false);
    Ok(verdict)
}

/// The end of a maintenance window in force; an expired one is removed.
fn paused(ctx: &mut Ctx) -> Option<i64> {
    let until = crate::state::paused_until(&ctx.config.memory_dir)?;
    let now = unix_now();
    // `pause` allows at most 7 days; a later end is a corrupt file or a
    // clock that jumped back, and must not switch healing off for good.
    if until > now.saturating_add(7 * 86400 + 60) {
        ctx.log.warn(format!(
            "ignoring the maintenance window in {}: it ends more than 7 days from now",
            crate::state::PAUSE_FILE
        ));
        return None;
    }
    if until > now {
        return Some(until);
    }
    if ctx.mode == Mode::Real {
        let _ = crate::state::clear_pause(&ctx.config.memory_dir);
    }
    ctx.log
        .info("the maintenance window has ended; healing again");
    None
}

/// During a maintenance window: probe and record, no healing, no alerts.
fn paused_check(ctx: &mut Ctx, until: i64) -> Result<Verdict> {
    let probe = ctx.probe();
    record_probe(ctx, &probe);
    if probe.healthy {
        ctx.record(HEALTH_FILE, Metric::new("health_check", "healthy", 0.0));
    }
    ctx.log.info(format!(
        "paused for {} more (maintenance): {}; no healing, no alerts",
        fmt_secs(Duration::from_secs(
            u64::try_from(until.saturating_sub(unix_now())).unwrap_or(0)
        )),
        probe.reason
    ));
    write_prom(ctx, probe.healthy, &probe, true);
    ctx.save_state();
    Ok(Verdict::Ok)
}

fn write_prom(ctx: &mut Ctx, up: bool, probe: &Probe, paused: bool) {
    let Some(path) = ctx.config.prom_file.clone() else {
        return;
    };
    let text = crate::prom::render(
        &crate::config::shown_url(ctx.config),
        up,
        probe.latency.as_secs_f64(),
        unix_now(),
        ctx.state.incident.is_some(),
        paused,
        &ctx.state.counters,
    );
    if ctx.mode == Mode::DryRun {
        log::print(&format!("would write {}:\n{text}", path.display()));
        return;
    }
    // The counters must survive the run (the healthy path saves nothing else).
    ctx.save_state();
    if let Err(e) = crate::files::write_atomic(&path, text.as_bytes()) {
        ctx.log.warn(format!("Prometheus file not written: {e}"));
    }
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
    let level3 = if c.agent_cmd.is_empty() {
        Duration::ZERO
    } else {
        // The budget, the dialog wait, and slack for tmux calls and the report grace.
        c.recovery_timeout + c.startup_wait + c.trust_timeout + Duration::from_secs(90)
    };
    // Outbox flush and one alert, each channel at most three attempts.
    let channels = crate::notify::configured(c).len() as u32;
    let alerts = c.alert_timeout * 3 * channels * 2;
    c.http_timeout
        + per_attempt * attempts
        + repair
        + c.escalation_wait
        + c.http_timeout
        + level3
        + alerts
}

/// How level 2 ended.
enum Level2 {
    /// `recovery` result (`success` or `self_healed`), attempts used, the healthy probe.
    Recovered(&'static str, u32, Probe),
    Failed {
        attempts: u32,
        last_probe: Probe,
        last_command: Option<String>,
    },
}

fn heal(ctx: &mut Ctx, first: &Probe) -> Result<Verdict> {
    ctx.log.warn(format!(
        "unhealthy: {} (status {}, {}) — starting level 2; worst case for this run {}",
        first.reason,
        first.status_text(),
        crate::config::shown_url(ctx.config),
        fmt_secs(worst_case(ctx))
    ));
    if ctx.mode == Mode::DryRun {
        describe_plan(ctx);
        let levels = failed_levels(ctx, ctx.config.max_retries, None);
        let facts = facts(ctx, first, levels);
        incident::send(ctx, Kind::Failed, &facts, incident::Spool::Drop)?;
        return Ok(Verdict::Unhealthy);
    }
    start_healing(ctx, first, "level 2");
    let outcome = level2(ctx)?;
    // Still running until the alerts are out: a run killed while alerting
    // is found by the next one.
    if let Some(r) = ctx.state.running.as_mut() {
        r.step = "level 4 (alerts)".into();
    }
    let verdict = after_level2(ctx, outcome)?;
    ctx.state.running = None;
    ctx.save_state();
    Ok(verdict)
}

fn after_level2(ctx: &mut Ctx, outcome: Level2) -> Result<Verdict> {
    match outcome {
        Level2::Recovered(result, attempts, probe) => {
            let mut levels = vec![LevelOutcome {
                level: 2,
                ok: true,
                detail: if result == "self_healed" {
                    "it came back by itself during the escalation wait".into()
                } else {
                    format!("restart attempt {attempts} worked")
                },
            }];
            let paged = ctx.state.incident.as_ref().is_some_and(|i| i.paged());
            if !paged {
                let f = facts(ctx, &probe, std::mem::take(&mut levels));
                incident::alert_once(ctx, Kind::Recovered, &f)?;
            }
            let f = facts(ctx, &probe, levels);
            incident::close(ctx, &f)?;
            Ok(Verdict::Ok)
        }
        Level2::Failed {
            attempts,
            last_probe,
            last_command,
        } => {
            if let Some(i) = ctx.state.incident.as_mut() {
                i.status = last_probe.status_text();
                i.reason = last_probe.reason.clone();
            }
            let mut levels = failed_levels(ctx, attempts, last_command);
            let level3 = level3(ctx, &last_probe, &levels)?;
            let (ok, detail, last_probe) = match level3 {
                Level3::Recovered(outcome) => {
                    let probe = ctx.probe();
                    levels.push(LevelOutcome {
                        level: 3,
                        ok: true,
                        detail: outcome.detail,
                    });
                    return agent_recovered(ctx, &probe, levels);
                }
                Level3::Failed(outcome) => (
                    false,
                    format!("{} (log: {})", outcome.detail, outcome.log_path.display()),
                    ctx.probe(),
                ),
                Level3::Skipped(why) => (false, why, last_probe),
            };
            levels.push(LevelOutcome {
                level: 3,
                ok,
                detail,
            });
            let facts = facts(ctx, &last_probe, levels);
            if !incident::alert_once(ctx, Kind::Failed, &facts)? {
                incident::remind(ctx, &facts)?;
            }
            ctx.log.warn(format!(
                "MANUAL INTERVENTION REQUIRED: try `{}`",
                facts.commands.join("`, `")
            ));
            Ok(Verdict::Unhealthy)
        }
    }
}

/// Opens (or continues) the incident and records that this run is healing,
/// so that the next run can tell if this one dies midway.
fn start_healing(ctx: &mut Ctx, probe: &Probe, step: &str) {
    incident::open(ctx, &probe.status_text(), &probe.reason);
    ctx.state.running = Some(Running {
        step: step.into(),
        pid: std::process::id(),
        since: unix_now(),
    });
    ctx.save_state();
}

fn level2(ctx: &mut Ctx) -> Result<Level2> {
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
        last_command = Some(if done.output.is_empty() {
            done.describe()
        } else {
            format!("{} ({})", done.describe(), done.output)
        });
        ctx.record(
            HEALTH_FILE,
            Metric::new("gateway_restart", result, done.elapsed.as_secs_f64())
                .with("attempt", attempt),
        );
        let probe = wait_healthy(ctx, c.retry_delay)?;
        record_probe(ctx, &probe);
        if probe.healthy {
            return recovered(ctx, "success", attempt, started, probe);
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
                return recovered(ctx, "success", attempt, started, probe);
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
        return recovered(ctx, "self_healed", attempts, started, probe);
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
    Ok(Level2::Failed {
        attempts,
        last_probe: probe,
        last_command,
    })
}

fn recovered(
    ctx: &mut Ctx,
    result: &'static str,
    attempts: u32,
    started: std::time::Instant,
    probe: Probe,
) -> Result<Level2> {
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
    Ok(Level2::Recovered(result, attempts, probe))
}

/// How level 3 ended within `check`.
enum Level3 {
    Recovered(agent::Outcome),
    Failed(agent::Outcome),
    /// Not started: disabled, cooling down, dry run.
    Skipped(String),
}

fn level3(ctx: &mut Ctx, probe: &Probe, levels: &[LevelOutcome]) -> Result<Level3> {
    let c = ctx.config;
    if c.agent_cmd.is_empty() {
        ctx.log.warn("level 3 skipped: SELFHEAL_AGENT_CMD is empty");
        return Ok(Level3::Skipped(
            "disabled (SELFHEAL_AGENT_CMD is empty)".into(),
        ));
    }
    let now = unix_now();
    if let Some(until) = ctx.state.agent_cooldown_until {
        // A clock that jumped back must not stretch the cooldown.
        let until = until.min(now + c.agent_cooldown.as_secs() as i64);
        if until > now {
            let why = format!(
                "cooldown: an AI recovery failed recently; no agent is started for another {}",
                fmt_secs(Duration::from_secs((until - now) as u64))
            );
            ctx.log.warn(format!("level 3 skipped: {why}"));
            ctx.record(
                EMERGENCY_FILE,
                Metric::new("emergency_recovery", "cooldown", 0.0),
            );
            return Ok(Level3::Skipped(why));
        }
    }
    if ctx.mode == Mode::DryRun {
        return Ok(Level3::Skipped("dry run".into()));
    }
    if let Err(missing) = agent::preflight(c) {
        ctx.log.warn(format!("level 3 cannot start: {missing}"));
        ctx.record(
            EMERGENCY_FILE,
            Metric::new("emergency_recovery", "dependency_failed", 0.0)
                .with("reason", missing.as_str()),
        );
        return Ok(Level3::Skipped(format!("could not start: {missing}")));
    }
    let mut f = facts(ctx, probe, levels.to_vec());
    f.levels.push(LevelOutcome {
        level: 3,
        ok: false,
        detail: format!(
            "starting {} (up to {})",
            shellwords::join(&c.agent_cmd),
            fmt_secs(c.recovery_timeout)
        ),
    });
    incident::alert_once(ctx, Kind::Escalating, &f)?;
    if let Some(r) = ctx.state.running.as_mut() {
        r.step = "level 3 (AI agent)".into();
    }
    ctx.save_state();
    let outcome = agent::recover(ctx, probe)?;
    if let Some(r) = ctx.state.running.as_mut() {
        r.step = "level 4 (alerts)".into();
    }
    Ok(if outcome.recovered {
        Level3::Recovered(outcome)
    } else {
        Level3::Failed(outcome)
    })
}

/// The agent brought it back: one info message, or "resolved" if someone
/// was paged.
fn agent_recovered(ctx: &mut Ctx, probe: &Probe, levels: Vec<LevelOutcome>) -> Result<Verdict> {
    let paged = ctx.state.incident.as_ref().is_some_and(|i| i.paged());
    let mut f = facts(ctx, probe, levels);
    f.note = Some("Recovered by the AI agent.".into());
    if !paged {
        incident::alert_once(ctx, Kind::AgentRecovered, &f)?;
    }
    incident::close(ctx, &f)?;
    Ok(Verdict::Ok)
}

/// `selfheal recover`: level 3 now, verified, alerted on failure.
pub fn recover(ctx: &mut Ctx) -> Result<Verdict> {
    ctx.load_state();
    incident::flush_outbox(ctx)?;
    let probe = ctx.probe();
    if probe.healthy {
        ctx.log
            .info(format!("healthy ({}): level 3 is not needed", probe.reason));
        return Ok(Verdict::Ok);
    }
    if ctx.config.agent_cmd.is_empty() {
        return Err(crate::error::Error::config(
            "SELFHEAL_AGENT_CMD",
            "",
            "configuration",
            "is empty: level 3 is disabled",
        ));
    }
    if ctx.mode == Mode::DryRun {
        log::print(&format!(
            "would start {} in a private tmux session (budget {})\n",
            shellwords::join(&ctx.config.agent_cmd),
            fmt_secs(ctx.config.recovery_timeout)
        ));
        return Ok(Verdict::Unhealthy);
    }
    start_healing(ctx, &probe, "level 3 (AI agent)");
    let outcome = agent::recover(ctx, &probe)?;
    ctx.state.running = None;
    let level = LevelOutcome {
        level: 3,
        ok: outcome.recovered,
        detail: outcome.detail.clone(),
    };
    let probe = ctx.probe();
    let verdict = if outcome.recovered {
        agent_recovered(ctx, &probe, vec![level])?
    } else {
        let mut f = facts(ctx, &probe, vec![level]);
        f.log_path = Some(outcome.log_path.display().to_string());
        incident::alert_once(ctx, Kind::Failed, &f)?;
        Verdict::Unhealthy
    };
    ctx.save_state();
    Ok(verdict)
}

/// The levels of a fully failed ladder, for the alert.
fn failed_levels(ctx: &Ctx, attempts: u32, last_command: Option<String>) -> Vec<LevelOutcome> {
    let c = ctx.config;
    let level2 = match (attempts, last_command) {
        (0, _) => "no restart command configured".to_string(),
        (n, Some(last)) => format!(
            "{n} restart attempt(s), the last {last}; then waited {}",
            fmt_secs(c.escalation_wait)
        ),
        (n, None) => format!("{n} restart attempt(s)"),
    };
    vec![
        LevelOutcome {
            level: 1,
            ok: false,
            detail: "the service manager did not bring it back".into(),
        },
        LevelOutcome {
            level: 2,
            ok: false,
            detail: level2,
        },
    ]
}

/// What an alert says about the service now.
pub fn facts(ctx: &Ctx, probe: &Probe, levels: Vec<LevelOutcome>) -> Facts {
    let c = ctx.config;
    let mut commands = Vec::new();
    if c.restart_cmd
        .first()
        .is_some_and(|p| p.ends_with("openclaw"))
        || c.url.contains(":18789")
    {
        commands.push("openclaw status".to_string());
    }
    if !c.restart_cmd.is_empty() {
        commands.push(shellwords::join(&c.restart_cmd));
    }
    commands.push("selfheal probe".to_string());
    Facts {
        host: ctx.host.clone(),
        url: crate::config::shown_url(c),
        status: probe.status_text(),
        reason: probe.reason.clone(),
        levels,
        down_for: incident::downtime(ctx),
        log_path: ctx.log.path_for_today().map(|p| p.display().to_string()),
        commands,
        note: None,
    }
}

/// A run that holds the lock and finds `running` set knows that the run
/// before it died mid-ladder (killed, crashed, machine lost power).
pub fn abandoned_run(ctx: &mut Ctx) -> Result<()> {
    let Some(r) = ctx.state.running.take() else {
        return Ok(());
    };
    let ago = Duration::from_secs(u64::try_from(unix_now().saturating_sub(r.since)).unwrap_or(0));
    ctx.log.warn(format!(
        "the run before this one (pid {}) ended during {} {} ago without finishing",
        r.pid,
        r.step,
        fmt_secs(ago)
    ));
    ctx.save_state();
    // Someone must hear of an incident whose run died before paging; once
    // it paged, the death adds nothing a human can act on.
    if ctx.state.incident.as_ref().is_some_and(|i| !i.paged()) {
        let mut f = facts(ctx, &ctx.probe(), Vec::new());
        f.note = Some(format!(
            "selfheal (pid {}) stopped during {} {} ago, before anyone was told; this run carries on.",
            r.pid,
            r.step,
            fmt_secs(ago)
        ));
        incident::alert_once(ctx, Kind::RunDied, &f)?;
    }
    Ok(())
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
