//! Which alert channels are failing, since when, and when each is tried
//! again. A channel that could not deliver is retried with a backoff kept
//! in the state (a minute, doubling, up to an hour), not on every run, so
//! that one unreachable channel never taxes the healthy path; it is said
//! once per episode (a warning when it starts failing, a line when it
//! delivers again), and `status` and `doctor` show it. A page still goes out
//! at least once: it waits in the outbox, and a channel in backoff still
//! gets one attempt at every new page.

use std::time::Duration;

use crate::channel::Channel;
use crate::ctx::Ctx;
use crate::fmt::{between, fmt_secs};
use crate::state::ChannelHealth;
use crate::sys::clock::unix_now;

/// The first wait after a failure, and the longest.
const FIRST: i64 = 60;
const MAX: i64 = 3600;

/// How hard a channel is tried now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effort {
    /// Every attempt the delivery's bound allows.
    Full,
    /// One attempt of at most this long.
    Once(Duration),
    /// Not now: why.
    Skip(String),
}

/// How hard `channel` is tried for a message (`pages`: one that calls a
/// human, which gets an attempt even during a backoff).
pub fn effort(ctx: &Ctx, channel: Channel, pages: bool) -> Effort {
    let Some(h) = ctx.state.channels.get(channel.name()) else {
        return Effort::Full;
    };
    let now = unix_now();
    // A time from the future (a clock set back, a forged file) is not
    // trusted to hold a channel back.
    if h.next_try <= now || h.next_try > now + MAX {
        return Effort::Once(ctx.config.alert_timeout);
    }
    if pages {
        return Effort::Once(ctx.config.alert_timeout);
    }
    Effort::Skip(format!(
        "failing since {} ago ({}); next try in {}",
        fmt_secs(between(h.since, now)),
        h.error,
        fmt_secs(between(now, h.next_try))
    ))
}

/// A delivery to `channel` failed: the backoff grows. Whether this is the
/// first failure of the episode (the one to say aloud).
pub fn failed(ctx: &mut Ctx, channel: Channel, why: &str) -> bool {
    let now = unix_now();
    let h = ctx
        .state
        .channels
        .entry(channel.name().to_string())
        .or_insert(ChannelHealth {
            since: now,
            failures: 0,
            next_try: now,
            error: String::new(),
        });
    h.failures = h.failures.saturating_add(1);
    let wait = FIRST
        .saturating_mul(1i64 << h.failures.saturating_sub(1).min(16))
        .min(MAX);
    h.next_try = now + wait;
    h.error = why.chars().take(200).collect();
    h.failures == 1
}

/// A delivery to `channel` succeeded: how long it had been failing, if it was.
pub fn delivered(ctx: &mut Ctx, channel: Channel) -> Option<Duration> {
    let h = ctx.state.channels.remove(channel.name())?;
    Some(between(h.since, unix_now()))
}

/// The failing channels, for `status` and `doctor`: "ntfy: failing since 2h
/// (cannot resolve ntfy.sh), next try in 31m".
pub fn failing(channels: &std::collections::BTreeMap<String, ChannelHealth>) -> Vec<String> {
    let now = unix_now();
    channels
        .iter()
        .map(|(name, h)| {
            format!(
                "{name}: failing for {} ({}, {} attempt(s)); next try in {}",
                fmt_secs(between(h.since, now)),
                h.error,
                h.failures,
                fmt_secs(between(now, h.next_try))
            )
        })
        .collect()
}
