//! `selfheal pause DURATION` and `selfheal resume`: a maintenance window,
//! kept in a file of its own (`state::PAUSE_FILE`) so that a pause works
//! while a long `check` holds the lock. `in_force` is how `check` reads it.

use std::time::Duration;

use super::Verdict;
use crate::cli::Global;
use crate::config::Config;
use crate::ctx::{Ctx, Mode};
use crate::error::{Error, Result};
use crate::fmt::fmt_secs;
use crate::key::window::{self, LocalMinute};
use crate::state;
use crate::sys::clock::unix_now;
use crate::sys::files;
use crate::sys::log::{self, Log};

/// The longest window `pause` sets; a file that says later is not trusted.
const MAX_WINDOW: i64 = 7 * 86400;

pub fn pause(global: &Global, config: &Config, duration: Duration) -> Result<Verdict> {
    let until = unix_now() + duration.as_secs().max(1) as i64;
    let when = fmt_secs(duration);
    if global.mode == Mode::DryRun {
        log::print(&format!("would pause healing and alerts for {when}\n"));
        return Ok(Verdict::Ok);
    }
    files::ensure_dir(&config.memory_dir)?;
    state::set_pause(&config.memory_dir, until)?;
    let mut log = Log::new(Some(&config.memory_dir), global.terminal, global.verbosity);
    log.act(format!(
        "paused for {when}: `check` probes and records only, no healing, no alerts; \
         `selfheal resume` ends it early"
    ));
    Ok(Verdict::Ok)
}

pub fn resume(global: &Global, config: &Config) -> Result<Verdict> {
    if global.mode == Mode::DryRun {
        log::print("would end the maintenance window\n");
        return Ok(Verdict::Ok);
    }
    let path = config.memory_dir.join(state::PAUSE_FILE);
    let was = state::clear_pause(&config.memory_dir).map_err(|e| Error::io("remove", path, e))?;
    let dir = config
        .memory_dir
        .is_dir()
        .then_some(config.memory_dir.as_path());
    let mut log = Log::new(dir, global.terminal, global.verbosity);
    log.act(if was {
        "resumed: healing and alerts are on again"
    } else {
        "not paused: nothing to resume"
    });
    Ok(Verdict::Ok)
}

/// The local time as the maintenance windows see it, and its unix time at
/// the start of the minute.
pub fn local_minute() -> (LocalMinute, i64) {
    let now = crate::sys::clock::local_now();
    let minute = LocalMinute {
        weekday: u32::from(now.weekday().number_days_from_monday()),
        minute: u32::from(now.hour()) * 60 + u32::from(now.minute()),
    };
    (minute, now.unix_timestamp() - i64::from(now.second()))
}

/// The recurring window (`SELFHEAL_MAINTENANCE`) in force now, and its end.
pub fn scheduled_now(config: &Config) -> Option<(String, i64)> {
    let (now, minute_start) = local_minute();
    let (w, left) = window::in_force(&config.maintenance, now)?;
    Some((w.to_string(), minute_start + i64::from(left) * 60))
}

/// The next recurring window to start, and when (unix time).
pub fn scheduled_next(config: &Config) -> Option<(String, i64)> {
    let (now, minute_start) = local_minute();
    let (w, until) = window::next(&config.maintenance, now)?;
    Some((w.to_string(), minute_start + i64::from(until) * 60))
}

/// Why healing is paused now (`pause`, or a recurring window) and until
/// when; an expired `pause` is removed.
pub fn in_force(ctx: &mut Ctx) -> Option<(String, i64)> {
    if let Some(until) = paused(ctx) {
        return Some(("`selfheal pause`".into(), until));
    }
    let (name, until) = scheduled_now(ctx.config)?;
    Some((format!("maintenance window {name}"), until))
}

fn paused(ctx: &mut Ctx) -> Option<i64> {
    let until = state::paused_until(&ctx.config.memory_dir)?;
    let now = unix_now();
    // `pause` allows at most 7 days; a later end is a corrupt file or a
    // clock that jumped back, and must not switch healing off for good.
    if until > now.saturating_add(MAX_WINDOW + 60) {
        ctx.log.warn(format!(
            "ignoring the maintenance window in {}: it ends more than 7 days from now",
            state::PAUSE_FILE
        ));
        return None;
    }
    if until > now {
        return Some(until);
    }
    if ctx.mode == Mode::Real {
        let _ = state::clear_pause(&ctx.config.memory_dir);
    }
    ctx.log
        .info("the maintenance window has ended; healing again");
    None
}
