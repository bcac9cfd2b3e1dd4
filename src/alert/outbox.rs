//! Sending one message to every configured channel, and the outbox: what
//! could not be delivered for a reason that may pass is kept in the state and
//! sent by a later run, oldest first, within a bound.
//!
//! Every send is logged (channel and redacted URL) and recorded as an `alert`
//! metric. In a dry run the payloads are printed and nothing is sent or saved.

use std::time::Duration;

use super::channels::{self, Channel, Delivery};
use super::{render, Facts, Kind, Message, Severity};
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
    let mut msg = render(kind, facts, ctx.config.lang);
    // Whatever the facts carry (a command line, an output), no configured
    // secret leaves in a message, the outbox or the log.
    let secrets = ctx.config.secrets();
    let scrub = |s: &mut String| *s = crate::sys::redact::scrub(s, &secrets);
    scrub(&mut msg.title);
    msg.lines.iter_mut().for_each(scrub);
    msg.commands.iter_mut().for_each(scrub);
    let channels = channels::configured(ctx.config);
    let mut summary = Summary::default();
    if channels.is_empty() {
        let line = format!(
            "alert [{}]: no channel configured ({}): nobody was told",
            msg.kind.key(),
            channels::KEYS_HINT
        );
        // Good news that nobody hears is no problem; bad news is.
        if msg.severity == Severity::Info {
            ctx.log.info(line);
        } else {
            ctx.log.warn(line);
        }
        return Ok(summary);
    }
    for channel in channels {
        let (outcome, took) = deliver_one(ctx, channel, &msg)?;
        let queue = matches!(outcome, Delivery::Retryable(_)) && spool == Spool::Outbox;
        account(ctx, channel, &msg, &outcome, queue, took);
        match outcome {
            Delivery::Sent => summary.sent += 1,
            Delivery::Retryable(_) if queue => {
                summary.queued += 1;
                enqueue(ctx, channel, &msg);
            }
            _ => summary.failed += 1,
        }
    }
    if spool == Spool::Outbox {
        ctx.save_state();
    }
    Ok(summary)
}

/// One message to one channel (in a dry run: printed), and how long it took.
fn deliver_one(ctx: &mut Ctx, channel: Channel, msg: &Message) -> Result<(Delivery, Duration)> {
    let payload = channels::payload(channel, ctx.config, msg, &ctx.host);
    if ctx.mode == Mode::DryRun {
        log::print(&format!(
            "would send to {} ({}): {}\n",
            channel.name(),
            channel.shown_endpoint(ctx.config),
            String::from_utf8_lossy(&payload.body)
        ));
        return Ok((Delivery::Sent, Duration::ZERO));
    }
    let start = ctx.clock.now();
    let outcome = channels::deliver(ctx.webhooks(), ctx.config, channel, &payload, ctx.clock)?;
    Ok((outcome, ctx.clock.now() - start))
}

/// Logs and records one delivery.
fn account(
    ctx: &mut Ctx,
    channel: Channel,
    msg: &Message,
    outcome: &Delivery,
    queued: bool,
    took: Duration,
) {
    if ctx.mode == Mode::DryRun {
        return;
    }
    // `alert [failed] to ntfy (…): delivered`: the kind in brackets, so that
    // "failed" never reads as the outcome.
    let head = format!(
        "alert [{}] to {} ({})",
        msg.kind.key(),
        channel.name(),
        channel.shown_endpoint(ctx.config)
    );
    let result = match outcome {
        Delivery::Sent => {
            ctx.log.act(format!("{head}: delivered"));
            "sent"
        }
        Delivery::Retryable(why) if queued => {
            ctx.log.warn(format!(
                "{head}: not delivered ({why}); queued for the next run"
            ));
            "queued"
        }
        Delivery::Retryable(why) => {
            ctx.log.warn(format!("{head}: not delivered ({why})"));
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

fn enqueue(ctx: &mut Ctx, channel: Channel, msg: &Message) {
    ctx.state.outbox.push(Queued {
        created: unix_now(),
        channel: channel.name().into(),
        kind: msg.kind.key().into(),
        severity: msg.severity.name().into(),
        title: msg.title.clone(),
        text: msg.lines.join("\n"),
        attempts: 1,
    });
    let excess = ctx.state.outbox.len().saturating_sub(OUTBOX_MAX);
    if excess > 0 {
        let dropped: Vec<Queued> = ctx.state.outbox.drain(..excess).collect();
        for q in dropped {
            ctx.log.warn(format!(
                "outbox full: dropped the oldest queued alert ({} to {})",
                q.kind, q.channel
            ));
        }
    }
}

/// Sends what earlier runs could not, oldest first. A channel that fails
/// again is not tried further this run; the whole flush is bounded.
pub fn flush(ctx: &mut Ctx) -> Result<()> {
    if ctx.state.outbox.is_empty() || ctx.mode == Mode::DryRun {
        return Ok(());
    }
    let queued = std::mem::take(&mut ctx.state.outbox);
    ctx.log.info(format!(
        "outbox: {} queued alert(s) to deliver",
        queued.len()
    ));
    let budget = ctx.config.alert_timeout * 3 * channels::ALL.len() as u32;
    let start = ctx.clock.now();
    let configured = channels::configured(ctx.config);
    let mut failing: Vec<String> = Vec::new();
    let mut keep = Vec::new();
    for mut q in queued {
        let now = unix_now();
        let age = now.saturating_sub(q.created);
        let Some(channel) = Channel::from_name(&q.channel).filter(|c| configured.contains(c))
        else {
            ctx.log.warn(format!(
                "outbox: dropped a {} alert for {}, which is no longer configured",
                q.kind, q.channel
            ));
            continue;
        };
        if age > OUTBOX_MAX_AGE {
            ctx.log.warn(format!(
                "outbox: dropped a {} alert to {} queued {} h ago",
                q.kind,
                q.channel,
                age / 3600
            ));
            continue;
        }
        if failing.contains(&q.channel) || ctx.clock.now() - start > budget {
            keep.push(q);
            continue;
        }
        let severity = q.severity.parse().unwrap_or(Severity::Error);
        let msg = Message {
            kind: Kind::from_key(&q.kind, severity),
            severity,
            title: q.title.clone(),
            lines: q
                .text
                .lines()
                .map(str::to_string)
                .chain([format!("(queued {})", fmt_secs(between(q.created, now)))])
                .collect(),
            commands: Vec::new(),
        };
        let (outcome, took) = deliver_one(ctx, channel, &msg)?;
        let retry = matches!(outcome, Delivery::Retryable(_));
        account(ctx, channel, &msg, &outcome, retry, took);
        match outcome {
            Delivery::Sent | Delivery::Permanent(_) => {}
            Delivery::Retryable(_) => {
                q.attempts += 1;
                failing.push(q.channel.clone());
                keep.push(q);
            }
        }
    }
    ctx.state.outbox = keep;
    ctx.save_state();
    Ok(())
}
