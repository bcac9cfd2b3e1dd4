//! Sending one message to every configured channel, and the outbox: what
//! could not be delivered for a reason that may pass is kept in the state and
//! sent by a later run, oldest first, within a bound.
//!
//! Every send is logged (channel and redacted URL) and recorded as an `alert`
//! metric. In a dry run the payloads are printed and nothing is sent or saved.

use std::time::Duration;

use super::backoff::{self, Effort};
use super::deliver::{self, Delivery};
use super::{render, Facts, Kind, Message, Severity};
use crate::channel::{Channel, Origin, Target};
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::fmt::{between, fmt_secs};
use crate::state::Queued;
use crate::sys::clock::unix_now;
use crate::sys::log;
use crate::sys::metrics::{Metric, HEALTH_FILE};

/// The most messages kept in the outbox; older ones are dropped (and logged).
const OUTBOX_MAX: usize = 100;
/// Queued messages older than this are dropped: stale news.
const OUTBOX_MAX_AGE: i64 = 24 * 3600;

/// How a send to all channels went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub sent: usize,
    pub queued: usize,
    pub failed: usize,
}

/// What to do with a message that could not be delivered now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spool {
    /// Keep it in the outbox for the next run (needs the run lock).
    Outbox,
    /// Report it as failed (`notify`, which runs beside a check).
    Drop,
}

/// Sends a message to every configured channel; what fails for a reason
/// that may pass goes to the outbox when `spool` says so.
pub fn send(ctx: &mut Ctx, kind: Kind, facts: &Facts, spool: Spool) -> Result<Summary> {
    let all = deliver::configured(ctx.config);
    send_to(ctx, &all, kind, facts, spool)
}

/// `send`, to the given channels only (a channel added mid-incident).
pub fn send_to(
    ctx: &mut Ctx,
    channels: &[&Target],
    kind: Kind,
    facts: &Facts,
    spool: Spool,
) -> Result<Summary> {
    let mut msg = render(kind, facts, ctx.config.lang);
    // Whatever the facts carry (a command line, an output), no configured
    // secret leaves in a message, the outbox or the log.
    let secrets = ctx.config.secrets();
    let scrub = |s: &mut String| *s = crate::sys::redact::scrub(s, &secrets);
    scrub(&mut msg.title);
    msg.lines.iter_mut().for_each(scrub);
    msg.commands.iter_mut().for_each(scrub);
    let mut summary = Summary::default();
    let configured = !channels.is_empty();
    let channels: Vec<&Target> = channels
        .iter()
        .copied()
        .filter(|t| t.service().takes(kind))
        .collect();
    if configured && channels.is_empty() {
        // Only PagerDuty, and this is not a page.
        ctx.log.debug(format!(
            "alert [{}]: not for the channels configured",
            kind.key()
        ));
        return Ok(summary);
    }
    if channels.is_empty() {
        let line = format!(
            "alert [{}]: no channel configured ({}): nobody was told",
            msg.kind.key(),
            Channel::keys_hint()
        );
        // Good news that nobody hears is no problem; bad news is.
        if msg.severity == Severity::Info {
            ctx.log.info(line);
        } else {
            ctx.log.warn(line);
        }
        return Ok(summary);
    }
    // Into the outbox before the first attempt, removed per channel on its
    // acknowledgement: a run killed at any instant (kill -9 in a retry
    // backoff, SIGTERM between channels) leaves every unacknowledged message
    // for the next run — at least once per channel, never zero.
    let mut pending: Vec<Option<Queued>> = vec![None; channels.len()];
    let mut kept = true;
    if spool == Spool::Outbox {
        for (slot, target) in pending.iter_mut().zip(&channels) {
            let q = queued(target.channel(), &msg);
            ctx.state.outbox.push(q.clone());
            *slot = Some(q);
        }
        trim(ctx);
        kept = ctx.save_state();
    }
    for (target, q) in channels.into_iter().zip(pending) {
        // `notify` (nothing spooled) is how channels are tested: every one
        // gets its full try, backoff or not.
        let effort = match spool {
            Spool::Drop => Effort::Full,
            Spool::Outbox => backoff::effort(ctx, target.channel(), msg.kind.pages()),
        };
        let (outcome, took) = deliver_one(ctx, target, &msg, effort)?;
        let retry = matches!(outcome, Delivery::Retryable(_));
        let queued = if retry && q.is_some() {
            Queue::Kept(kept)
        } else {
            Queue::No
        };
        account(ctx, target, &msg, &outcome, queued, took);
        match outcome {
            Delivery::Sent => summary.sent += 1,
            Delivery::Retryable(_) if q.is_some() => summary.queued += 1,
            _ => summary.failed += 1,
        }
        if let Some(q) = q {
            if retry {
                attempted(ctx, &q);
            } else {
                kept = acknowledge(ctx, &q);
            }
        }
    }
    if spool == Spool::Outbox && msg.kind.pages() && summary.sent > 0 {
        ctx.remember_unsaved_page();
    }
    Ok(summary)
}

/// Whether a message that was not delivered now waits in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Queue {
    No,
    /// In the outbox; `false` if the state holding it could not be saved.
    Kept(bool),
}

/// Done with `q` (delivered, or failed for good): out of the outbox, saved
/// at once so that a later death cannot send it twice.
fn acknowledge(ctx: &mut Ctx, q: &Queued) -> bool {
    if let Some(i) = ctx.state.outbox.iter().position(|x| x == q) {
        ctx.state.outbox.remove(i);
        return ctx.save_state();
    }
    true
}

fn attempted(ctx: &mut Ctx, q: &Queued) {
    if let Some(x) = ctx.state.outbox.iter_mut().find(|x| *x == q) {
        x.attempts += 1;
    }
}

/// One message to one channel (in a dry run: printed), as hard as `effort`
/// says, and how long it took.
fn deliver_one(
    ctx: &mut Ctx,
    target: &Target,
    msg: &Message,
    effort: Effort,
) -> Result<(Delivery, Duration)> {
    let from = Origin {
        host: &ctx.host,
        service: &ctx.config.shown_url,
    };
    let payload = target.service().payload(msg, from);
    if ctx.mode == Mode::DryRun {
        log::print(&format!(
            "would send to {} ({}): {}\n",
            target.channel().name(),
            target.shown_endpoint(),
            String::from_utf8_lossy(&payload.body)
        ));
        return Ok((Delivery::Sent, Duration::ZERO));
    }
    let (timeout, retry) = match effort {
        Effort::Full => (ctx.config.alert_timeout, true),
        Effort::Once(t) => (t, false),
        Effort::Skip(why) => return Ok((Delivery::Retryable(why), Duration::ZERO)),
    };
    let start = ctx.clock.now();
    let outcome = deliver::deliver(ctx.webhooks(), target, &payload, timeout, retry, ctx.clock)?;
    Ok((outcome, ctx.clock.now() - start))
}

/// Logs and records one delivery.
fn account(
    ctx: &mut Ctx,
    target: &Target,
    msg: &Message,
    outcome: &Delivery,
    queued: Queue,
    took: Duration,
) {
    if ctx.mode == Mode::DryRun {
        return;
    }
    // `alert [failed] to ntfy (…): delivered`: the kind in brackets, so that
    // "failed" never reads as the outcome.
    let channel = target.channel();
    let head = format!(
        "alert [{}] to {} ({})",
        msg.kind.key(),
        channel.name(),
        target.shown_endpoint()
    );
    // A channel that cannot deliver is said aloud (stderr, even with
    // --quiet) once per episode; the rest goes to the log.
    let aloud = match outcome {
        Delivery::Sent => {
            if let Some(failed_for) = backoff::delivered(ctx, channel) {
                ctx.log.warn(format!(
                    "alert channel {} delivers again (it had failed for {})",
                    channel.name(),
                    crate::fmt::fmt_secs(failed_for)
                ));
            }
            true
        }
        Delivery::Retryable(why) | Delivery::Permanent(why) => backoff::failed(ctx, channel, why),
    };
    let result = match outcome {
        Delivery::Sent => {
            ctx.log.act(format!("{head}: delivered"));
            "sent"
        }
        Delivery::Retryable(why) if queued == Queue::Kept(true) && !aloud => {
            ctx.log
                .info(format!("{head}: not delivered ({why}); still queued"));
            "queued"
        }
        Delivery::Retryable(why) if queued == Queue::Kept(true) => {
            ctx.log.warn(format!(
                "{head}: not delivered ({why}); queued for the next run that tries it (a \
                 backoff of a minute, doubling up to an hour; a page is tried at every run)"
            ));
            "queued"
        }
        Delivery::Retryable(why) if queued == Queue::Kept(false) => {
            ctx.log.warn(format!(
                "{head}: not delivered ({why}), and it could not be queued: \
                 the state file could not be saved"
            ));
            "failed"
        }
        Delivery::Retryable(why) => {
            ctx.log.warn(format!("{head}: not delivered ({why})"));
            "failed"
        }
        Delivery::Permanent(why) if !aloud => {
            ctx.log
                .info(format!("{head}: failed permanently ({why}); not retried"));
            "failed"
        }
        Delivery::Permanent(why) => {
            ctx.log
                .warn(format!("{head}: failed permanently ({why}); not retried"));
            "failed"
        }
    };
    ctx.record(
        HEALTH_FILE,
        Metric::new("alert", result, took.as_secs_f64())
            .with("channel", channel.name())
            .with("kind", msg.kind.key()),
    );
}

fn queued(channel: Channel, msg: &Message) -> Queued {
    Queued {
        created: unix_now(),
        channel,
        kind: msg.kind,
        severity: msg.severity,
        title: msg.title.clone(),
        text: msg.lines.join("\n"),
        attempts: 0,
    }
}

/// At most `OUTBOX_MAX` messages: the oldest go (and are logged).
fn trim(ctx: &mut Ctx) {
    let excess = ctx.state.outbox.len().saturating_sub(OUTBOX_MAX);
    if excess > 0 {
        let dropped: Vec<Queued> = ctx.state.outbox.drain(..excess).collect();
        for q in dropped {
            ctx.log.warn(format!(
                "outbox full: dropped the oldest queued alert ({} to {})",
                q.kind.key(),
                q.channel.name()
            ));
        }
    }
}

/// The longest one delivery to one channel can take: attempts start within
/// three attempt-timeouts, and the last may take a whole one.
pub fn channel_bound(config: &crate::config::Config) -> Duration {
    config.alert_timeout * 4
}

/// The longest one round of alerts can take: every configured channel at its
/// bound.
pub fn round_bound(config: &crate::config::Config) -> Duration {
    channel_bound(config) * deliver::configured(config).len() as u32
}

/// The longest an outbox flush can take: two rounds' worth, so that many
/// quick deliveries fit and a hanging channel cannot hold it longer.
pub fn flush_bound(config: &crate::config::Config) -> Duration {
    round_bound(config) * 2
}

/// How long a flush may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Its bound (`flush_bound`): before healing, and for `recover`, `monitor`.
    Full,
    /// On the healthy path: `HEALTHY_FLUSH` in all, one attempt per message.
    Healthy,
}

/// The healthy path's flush, in all.
pub const HEALTHY_FLUSH: Duration = Duration::from_secs(1);

/// Sends what earlier runs could not, oldest first, to channels whose
/// backoff lets them be tried. A channel that fails again is not tried
/// further this run; the whole flush is bounded by `budget`.
pub fn flush(ctx: &mut Ctx, budget: Budget) -> Result<()> {
    if ctx.state.outbox.is_empty() || ctx.mode == Mode::DryRun {
        return Ok(());
    }
    // Entries still in the outbox were never acknowledged: the ones this
    // run adds come after these and are not part of this flush.
    let queued = ctx.state.outbox.clone();
    ctx.log.info(format!(
        "outbox: {} queued alert(s) to deliver",
        queued.len()
    ));
    let configured = deliver::configured(ctx.config);
    let (one, bound) = match budget {
        Budget::Full => (channel_bound(ctx.config), flush_bound(ctx.config)),
        Budget::Healthy => (Duration::ZERO, HEALTHY_FLUSH),
    };
    let start = ctx.clock.now();
    let mut failing: Vec<Channel> = Vec::new();
    for q in queued {
        let now = unix_now();
        let age = now.saturating_sub(q.created);
        let Some(target) = configured
            .iter()
            .copied()
            .find(|t| t.channel() == q.channel)
        else {
            ctx.log.warn(format!(
                "outbox: dropped a {} alert for {}, which is no longer configured",
                q.kind.key(),
                q.channel.name()
            ));
            acknowledge(ctx, &q);
            continue;
        };
        if age > OUTBOX_MAX_AGE {
            ctx.log.warn(format!(
                "outbox: dropped a {} alert to {} queued {} h ago",
                q.kind.key(),
                q.channel.name(),
                age / 3600
            ));
            acknowledge(ctx, &q);
            continue;
        }
        // A delivery is started only if it ends within the flush's bound.
        let spent = ctx.clock.now() - start;
        if failing.contains(&q.channel) || spent + one >= bound {
            continue;
        }
        // During an incident a queued page is tried whatever the backoff
        // (at least once, and soon); on the healthy path nothing is.
        let pages = budget == Budget::Full && q.kind.pages();
        let effort = match (backoff::effort(ctx, q.channel, pages), budget) {
            (Effort::Skip(_), _) => continue,
            (Effort::Full, Budget::Full) => Effort::Full,
            (Effort::Once(_), Budget::Full) if pages => Effort::Full,
            (Effort::Once(t), Budget::Full) => Effort::Once(t),
            (_, Budget::Healthy) => {
                let left = bound - spent;
                Effort::Once(ctx.config.alert_timeout.min(left))
            }
        };
        let msg = Message {
            kind: q.kind,
            severity: q.severity,
            title: crate::sys::redact::visible(&q.title),
            lines: q
                .text
                .lines()
                .map(crate::sys::redact::visible)
                .chain([format!("(queued {})", fmt_secs(between(q.created, now)))])
                .collect(),
            commands: Vec::new(),
        };
        let (outcome, took) = deliver_one(ctx, target, &msg, effort)?;
        let retry = matches!(outcome, Delivery::Retryable(_));
        account(ctx, target, &msg, &outcome, Queue::Kept(true), took);
        if retry {
            attempted(ctx, &q);
            failing.push(q.channel);
        } else {
            acknowledge(ctx, &q);
        }
    }
    ctx.save_state();
    Ok(())
}
