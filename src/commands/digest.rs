//! The digest: a quiet night should still say so. With `SELFHEAL_DIGEST`
//! daily or weekly, the first `check` after `SELFHEAL_DIGEST_AT` (local time)
//! sends one `info` message to every channel with the period's numbers —
//! the same as `selfheal stats` — once per period (the period's start is
//! kept in the state). `selfheal stats --notify` sends one now. It runs after
//! healing and the heartbeat: it never holds healing up.

use super::stats::{self, Stats};
use super::Verdict;
use crate::alert::outbox::{self, Spool};
use crate::alert::{Facts, Kind};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::key::values::Digest;
use crate::sys::clock::unix_now;

/// The start (unix time) of the period that `now` is in: today's (or this
/// week's Monday's) `at`, or the one before when `at` has not come yet.
fn period_start(digest: Digest, at_minute: u32) -> Option<i64> {
    let (now, minute_start) = super::pause::local_minute();
    let days_back = match digest {
        Digest::Off => return None,
        Digest::Daily => 0,
        Digest::Weekly => i64::from(now.weekday),
    };
    let midnight = minute_start - i64::from(now.minute) * 60;
    let mut start = midnight - days_back * 86400 + i64::from(at_minute) * 60;
    if start > minute_start {
        start -= if digest == Digest::Weekly { 7 } else { 1 } * 86400;
    }
    Some(start)
}

/// Sends the digest if its period's has not gone out yet (from `check`).
pub fn if_due(ctx: &mut Ctx) -> Result<()> {
    let Some(start) = period_start(ctx.config.digest, ctx.config.digest_at) else {
        return Ok(());
    };
    if ctx.state.digest_sent.is_some_and(|sent| sent >= start) {
        return Ok(());
    }
    let days = if ctx.config.digest == Digest::Weekly {
        7
    } else {
        1
    };
    // Marked first (saved with the message by `send`): a digest is news,
    // not a page; a run that dies here must not send it twice.
    ctx.state.digest_sent = Some(start);
    send(ctx, days, Spool::Outbox)?;
    ctx.save_state();
    Ok(())
}

/// `selfheal stats --notify`: the summary of the last `days` now.
pub fn send_now(ctx: &mut Ctx, days: u32) -> Result<Verdict> {
    send(ctx, days, Spool::Drop)?;
    Ok(Verdict::Ok)
}

fn send(ctx: &mut Ctx, days: u32, spool: Spool) -> Result<()> {
    let s = stats::summarize(&ctx.config.memory_dir, days, unix_now());
    let facts = Facts {
        host: ctx.host.clone(),
        url: ctx.config.shown_url.clone(),
        note: Some(text(&s)),
        commands: vec![format!("selfheal stats --days {days}")],
        ..Facts::default()
    };
    outbox::send(ctx, Kind::Digest, &facts, spool).map(|_| ())
}

/// The digest's lines: what a human wants to know over coffee.
pub fn text(s: &Stats) -> String {
    let count =
        |m: &std::collections::BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    let period = match s.days {
        1 => "the last day".to_string(),
        n => format!("the last {n} days"),
    };
    let uptime = s.healthy_percent.map_or("no checks".to_string(), |p| {
        format!("{p}% of checks healthy")
    });
    let runs = s.healthy_runs + s.unhealthy_runs;
    let mttr = s
        .mttr_seconds
        .map_or(String::new(), |m| format!(", mean time to recovery {m} s"));
    let agent_runs: u64 = s.level3.values().sum();
    let slowest = s
        .slowest_probe_seconds
        .map_or("-".to_string(), |p| format!("{} ms", (p * 1000.0).round()));
    [
        format!("{period}: {uptime} ({runs} checks)"),
        format!("incidents: {}{mttr}", s.incidents),
        format!(
            "healed by restart {}, by itself or a learned fix {}, by the AI agent {}; \
             needed a human {}",
            count(&s.recovery, "success"),
            count(&s.recovery, "self_healed"),
            count(&s.level3, "true"),
            count(&s.recovery, "failed"),
        ),
        format!(
            "restarts: {}; agent runs: {agent_runs}; blips: {}",
            s.restarts.values().sum::<u64>(),
            s.blips
        ),
        format!("slowest probe: {slowest}"),
    ]
    .join("\n")
}
