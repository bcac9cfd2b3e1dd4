//! The crash-loop brake and the flapping warning: what selfheal remembers
//! across runs so that it never makes things worse.
//!
//! More than `SELFHEAL_RESTART_LIMIT` restarts within
//! `SELFHEAL_RESTART_WINDOW` is a crash loop: no blind restart then, except
//! one after an exponential backoff (window / limit, doubling, at most the
//! window); the ladder goes on to the repair command, level 3 and level 4
//! with the crash loop as a fact. A quiet window lets the brake go. A service
//! that was healed `FLAP_HEALS` times within the window and falls again is
//! flapping: one warning, and a message when it has been stable for a window.
//! All of it is bookkeeping in the state: nothing here probes or runs.

use std::time::Duration;

use crate::config::Config;
use crate::ctx::Ctx;
use crate::fmt::{between, fmt_secs};
use crate::state::Brake;
use crate::sys::clock::unix_now;

/// Heals within the window after which a new failure is flapping.
pub const FLAP_HEALS: usize = 3;

/// Whether a restart may run now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// One restart after the backoff, inside a crash loop.
    AfterBackoff(String),
    /// A crash loop: no blind restart now; the fact for the alert.
    Braked(String),
}

fn window_secs(ctx: &Ctx) -> i64 {
    i64::try_from(ctx.config.restart_window.as_secs()).unwrap_or(i64::MAX)
}

/// Forgets what is older than the window (and anything from the future).
fn prune(ctx: &mut Ctx, now: i64) {
    let from = now.saturating_sub(window_secs(ctx));
    let b = &mut ctx.state.brake;
    b.restarts.retain(|&t| t > from && t <= now);
    b.heals.retain(|&t| t > from && t <= now);
}

/// Whether the next restart may run, and why not.
pub fn gate(ctx: &mut Ctx) -> Gate {
    let now = unix_now();
    prune(ctx, now);
    verdict(&ctx.state.brake, ctx.config, now)
}

/// The brake's verdict on `b` at `now` (already pruned to the window).
fn verdict(b: &Brake, c: &Config, now: i64) -> Gate {
    let limit = c.restart_limit;
    let n = b.restarts.iter().filter(|&&t| t <= now).count();
    if limit == 0 || n < limit as usize {
        return Gate::Open;
    }
    let window = c.restart_window;
    let base = window / limit;
    let backoff = base.saturating_mul(1u32 << b.level.min(16)).min(window);
    let since = between(b.restarts.last().copied().unwrap_or(now), now);
    let fact = format!("crash loop: {n} restarts in the last {}", fmt_secs(window));
    if since >= backoff {
        return Gate::AfterBackoff(format!(
            "{fact}; one restart after a backoff of {}",
            fmt_secs(backoff)
        ));
    }
    Gate::Braked(format!(
        "{fact} (SELFHEAL_RESTART_LIMIT={limit}): no blind restart for another {}",
        fmt_secs(backoff - since)
    ))
}

/// What the brake holds now, for `status` and `reset`: the crash loop, if
/// restarts are held back.
pub fn holding(b: &Brake, c: &Config, now: i64) -> Option<String> {
    let from = now.saturating_sub(i64::try_from(c.restart_window.as_secs()).unwrap_or(i64::MAX));
    let recent = Brake {
        restarts: b.restarts.iter().copied().filter(|&t| t > from).collect(),
        ..b.clone()
    };
    match verdict(&recent, c, now) {
        Gate::Braked(why) => Some(why),
        _ => None,
    }
}

/// A restart ran (`after_backoff`: one let through by the brake).
pub fn restarted(ctx: &mut Ctx, gate: &Gate) {
    let b = &mut ctx.state.brake;
    b.restarts.push(unix_now());
    if matches!(gate, Gate::AfterBackoff(_)) {
        b.level = b.level.saturating_add(1);
    }
}

/// A confirmed failure: `Some(fact)` when the service is flapping and the
/// warning is due (once, until it has been stable for a window).
pub fn failed(ctx: &mut Ctx) -> Option<String> {
    let now = unix_now();
    prune(ctx, now);
    let window = ctx.config.restart_window;
    let b = &mut ctx.state.brake;
    b.last_failure = Some(now);
    if b.heals.len() < FLAP_HEALS || b.flapping_since.is_some() {
        return None;
    }
    b.flapping_since = Some(now);
    Some(format!(
        "flapping: healed {} times in the last {} and down again",
        b.heals.len(),
        fmt_secs(window)
    ))
}

/// The ladder healed it without a human.
pub fn healed(ctx: &mut Ctx) {
    ctx.state.brake.heals.push(unix_now());
}

/// What a healthy run did to the brake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calm {
    /// Nothing to forget yet (the usual case: nothing is written).
    Unchanged,
    /// A quiet window: the brake and old restarts are forgotten.
    Reset,
    /// And a flapping episode ended: stable for this long.
    FlapEnded(Duration),
}

/// A healthy run: lets the brake go after a quiet window, and says whether a
/// flapping episode ended. Cheap: a few comparisons, no I/O.
pub fn healthy(ctx: &mut Ctx) -> Calm {
    let b = &ctx.state.brake;
    let idle = b.level == 0 && b.flapping_since.is_none();
    if idle && b.restarts.is_empty() && b.heals.is_empty() {
        return Calm::Unchanged;
    }
    let now = unix_now();
    let quiet = between(b.last_failure.unwrap_or(0), now);
    if quiet < ctx.config.restart_window {
        return Calm::Unchanged;
    }
    prune(ctx, now);
    let b = &mut ctx.state.brake;
    b.level = 0;
    match b.flapping_since.take() {
        Some(_) => Calm::FlapEnded(quiet),
        None => Calm::Reset,
    }
}
