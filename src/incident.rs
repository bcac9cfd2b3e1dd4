//! Level 4 policy: one incident from the first failure to healthy again,
//! each kind of message at most once per incident, reminders only when asked
//! for, "resolved" after an incident that paged someone, and an outbox so that
//! an alert that could not be delivered is sent on a later run.
//!
//! Crash safety: the incident is marked as alerted and saved *before* the
//! message goes out, so a run killed right after alerting never pages again
//! (delivery is at least once only for what sits in the outbox). Every send is
//! logged (channel and redacted URL) and recorded as an `alert` metric. In a
//! dry run the payloads are printed and nothing is sent or saved.

use std::time::Duration;

use crate::alert::{self, Facts, Kind, Message};
use crate::clock::unix_now;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::log;
use crate::metrics::{Metric, HEALTH_FILE};
use crate::notify::{self, Channel, Delivery};
use crate::state::{Incident, Queued};

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

/// Opens the incident if none is open; keeps its latest status and reason.
pub fn open(ctx: &mut Ctx, status: &str, reason: &str) {
    let incident = ctx.state.incident.get_or_insert_with(Incident::default);
    if incident.started > unix_now() {
        // The clock went backwards since it opened: count from now.
        incident.started = unix_now();
    }
    incident.status = status.to_string();
    incident.reason = reason.to_string();
}

pub fn downtime(ctx: &Ctx) -> Option<Duration> {
    let started = ctx.state.incident.as_ref()?.started;
    Some(Duration::from_secs(
        u64::try_from(unix_now().saturating_sub(started)).unwrap_or(0),
    ))
}

/// Sends `kind` unless this incident already had it. Returns whether it went.
pub fn alert_once(ctx: &mut Ctx, kind: Kind, facts: &Facts) -> Result<bool> {
    let key = kind.key();
    let incident = ctx.state.incident.get_or_insert_with(Incident::default);
    if incident.was_alerted(key) {
        ctx.log
            .debug(format!("alert {key}: already sent for this incident"));
        return Ok(false);
    }
    incident.alerted.push(key.to_string());
    incident.last_alert = Some(unix_now());
    ctx.save_state();
    send(ctx, kind, facts, Spool::Outbox)?;
    Ok(true)
}

/// A reminder if `SELFHEAL_ALERT_REPEAT` > 0 and that long has passed.
pub fn remind(ctx: &mut Ctx, facts: &Facts) -> Result<()> {
    let repeat = ctx.config.alert_repeat;
    let Some(incident) = ctx.state.incident.as_mut() else {
        return Ok(());
    };
    let last = incident.last_alert.unwrap_or(incident.started);
    let due = !repeat.is_zero() && unix_now().saturating_sub(last) >= repeat.as_secs() as i64;
    if !due {
        return Ok(());
    }
    incident.last_alert = Some(unix_now());
    ctx.save_state();
    send(ctx, Kind::Reminder, facts, Spool::Outbox).map(|_| ())
}

/// The service is healthy: close the incident, with "resolved" if it paged.
pub fn close(ctx: &mut Ctx, facts: &Facts) -> Result<()> {
    let Some(incident) = ctx.state.incident.take() else {
        return Ok(());
    };
    let down = Duration::from_secs(
        u64::try_from(unix_now().saturating_sub(incident.started)).unwrap_or(0),
    );
    ctx.record(
        HEALTH_FILE,
        Metric::new("incident", "resolved", down.as_secs_f64()),
    );
    ctx.save_state();
    if incident.paged() {
        let mut facts = facts.clone();
        facts.down_for = Some(Duration::from_secs(
            u64::try_from(unix_now().saturating_sub(incident.started)).unwrap_or(0),
        ));
        send(ctx, Kind::Resolved, &facts, Spool::Outbox)?;
    }
    Ok(())
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
    let msg = alert::render(kind, facts, ctx.config.lang);
    let channels = notify::configured(ctx.config);
    let mut summary = Summary::default();
    if channels.is_empty() {
        let line = format!(
            "alert {}: no channel configured (DISCORD_WEBHOOK_URL, SLACK_WEBHOOK_URL, TELEGRAM_BOT_TOKEN, NTFY_URL, SELFHEAL_WEBHOOK_URL): nobody was told",
            msg.kind_key
        );
        // Good news that nobody hears is no problem; bad news is.
        if msg.severity == alert::Severity::Info {
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
    let payload = notify::payload(channel, ctx.config, msg, &ctx.host);
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
    let outcome = notify::deliver(ctx.webhooks(), ctx.config, channel, &payload, ctx.clock)?;
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
    let head = format!(
        "alert {} to {} ({})",
        msg.kind_key,
        channel.name(),
        channel.shown_endpoint(ctx.config)
    );
    let result = match outcome {
        Delivery::Sent => {
            ctx.log.act(format!("{head}: sent"));
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
            .with("kind", msg.kind_key),
    );
}

fn enqueue(ctx: &mut Ctx, channel: Channel, msg: &Message) {
    ctx.state.outbox.push(Queued {
        created: unix_now(),
        channel: channel.name().into(),
        kind: msg.kind_key.into(),
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
pub fn flush_outbox(ctx: &mut Ctx) -> Result<()> {
    if ctx.state.outbox.is_empty() || ctx.mode == Mode::DryRun {
        return Ok(());
    }
    let queued = std::mem::take(&mut ctx.state.outbox);
    ctx.log.info(format!(
        "outbox: {} queued alert(s) to deliver",
        queued.len()
    ));
    let budget = ctx.config.alert_timeout * 3 * notify::ALL.len() as u32;
    let start = ctx.clock.now();
    let configured = notify::configured(ctx.config);
    let mut failing: Vec<String> = Vec::new();
    let mut keep = Vec::new();
    for mut q in queued {
        let age = unix_now().saturating_sub(q.created);
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
        let msg = Message {
            kind_key: kind_key(&q.kind),
            severity: alert::Severity::parse(&q.severity).unwrap_or(alert::Severity::Error),
            title: q.title.clone(),
            lines: q
                .text
                .lines()
                .map(str::to_string)
                .chain([format!(
                    "(queued {})",
                    crate::config::fmt_secs(Duration::from_secs(u64::try_from(age).unwrap_or(0)))
                )])
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

/// The `&'static str` key for a kind name read back from the state.
fn kind_key(name: &str) -> &'static str {
    [
        Kind::Recovered,
        Kind::Escalating,
        Kind::AgentRecovered,
        Kind::Failed,
        Kind::Resolved,
        Kind::Reminder,
        Kind::RunDied,
        Kind::Level3Failed,
    ]
    .into_iter()
    .map(Kind::key)
    .find(|k| *k == name)
    .unwrap_or("custom")
}

/// GETs `SELFHEAL_HEARTBEAT_URL` (or `/fail`); a failure is only logged.
pub fn heartbeat(ctx: &mut Ctx, healthy: bool) {
    let Some(url) = ctx.config.heartbeat_url.clone() else {
        return;
    };
    let shown = crate::redact::secret_url(url.expose());
    if ctx.mode == Mode::DryRun {
        log::print(&format!(
            "would ping the heartbeat ({shown}){}\n",
            if healthy { "" } else { " /fail" }
        ));
        return;
    }
    match notify::heartbeat(ctx.webhooks(), url.expose(), healthy) {
        Ok(()) => ctx.log.debug(format!("heartbeat ({shown}) pinged")),
        Err(e) => ctx.log.warn(format!("heartbeat ({shown}) failed: {e}")),
    }
}
