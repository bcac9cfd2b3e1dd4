//! Level 4 policy: one incident from the first failure to healthy again,
//! each kind of message at most once per incident, reminders only when asked
//! for, "resolved" after an incident that paged someone, and the heartbeat.
//!
//! Crash safety: the incident is marked as alerted and saved *before* the
//! message goes out, so a run killed right after alerting never pages again
//! (delivery is at least once only for what sits in the outbox).

use std::time::Duration;

use super::deliver;
use super::outbox::{self, Spool};
use super::{Facts, Kind};
use crate::channel::Target;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::fmt::between;
use crate::key::values::HeartbeatMode;
use crate::state::Incident;
use crate::sys::clock::unix_now;
use crate::sys::log;
use crate::sys::metrics::{Metric, HEALTH_FILE};

/// Opens the incident if none is open; keeps its latest status and reason.
pub fn open(ctx: &mut Ctx, status: &str, reason: &str) {
    let incident = ctx.state.incident.get_or_insert_with(Incident::default);
    if incident.started > unix_now() {
        // The clock went backwards since it opened: count from now.
        incident.started = unix_now();
    }
    incident.status = status.to_string();
    incident.reason = reason.to_string();
    incident.url = ctx.config.shown_url.clone();
}

/// An open incident about another URL (the configuration changed since) is
/// dropped without a message: "resolved" would be about a service that is no
/// longer watched.
pub fn forget_other_service(ctx: &mut Ctx) {
    let url = &ctx.config.shown_url;
    let Some(other) = ctx
        .state
        .incident
        .as_ref()
        .filter(|i| !i.url.is_empty() && &i.url != url)
        .map(|i| i.url.clone())
    else {
        return;
    };
    ctx.state.incident = None;
    ctx.log.warn(format!(
        "the open incident was about {other}, which is no longer the service watched \
         ({url}): closed without a message"
    ));
    ctx.save_state();
}

pub fn downtime(ctx: &Ctx) -> Option<Duration> {
    let started = ctx.state.incident.as_ref()?.started;
    Some(between(started, unix_now()))
}

/// Sends `kind` unless this incident already had it. Returns whether it went.
pub fn alert_once(ctx: &mut Ctx, kind: Kind, facts: &Facts) -> Result<bool> {
    let configured = deliver::configured(ctx.config);
    let names: Vec<_> = configured.iter().map(|t| t.channel()).collect();
    let incident = ctx.state.incident.get_or_insert_with(Incident::default);
    if incident.was_alerted(kind) {
        if incident.told.is_empty() {
            // A state from before channels were remembered: as it is now.
            incident.told = names;
        }
        let missing: Vec<&Target> = configured
            .into_iter()
            .filter(|t| kind.pages() && !incident.told.contains(&t.channel()))
            .collect();
        if missing.is_empty() {
            ctx.log.debug(format!(
                "alert {}: already sent for this incident",
                kind.key()
            ));
            return Ok(false);
        }
        // Configured after the page went out: this incident's page is theirs too.
        incident.told.extend(missing.iter().map(|t| t.channel()));
        outbox::send_to(ctx, &missing, kind, facts, Spool::Outbox)?;
        return Ok(true);
    }
    for name in names {
        if !incident.told.contains(&name) {
            incident.told.push(name);
        }
    }
    if configured.is_empty() {
        // Nobody can be told: not marked, so that the page goes out on the
        // first run after a channel is configured.
        outbox::send(ctx, kind, facts, Spool::Outbox)?;
        return Ok(false);
    }
    incident.alerted.push(kind);
    incident.last_alert = Some(unix_now());
    // Saved by `send` together with the queued message: the mark never
    // reaches the disk without the message it stands for.
    outbox::send(ctx, kind, facts, Spool::Outbox)?;
    Ok(true)
}

/// A reminder if `SELFHEAL_ALERT_REPEAT` > 0 and that long has passed.
pub fn remind(ctx: &mut Ctx, facts: &Facts) -> Result<()> {
    let repeat = ctx.config.alert_repeat;
    let Some(incident) = ctx.state.incident.as_mut() else {
        return Ok(());
    };
    let now = unix_now();
    if incident.last_alert.is_some_and(|t| t > now) {
        // A clock that jumped back (or a forged file) must not silence the
        // reminders for good: count from now, like `started`.
        incident.last_alert = Some(now);
        ctx.save_state();
        return Ok(());
    }
    let Some(incident) = ctx.state.incident.as_mut() else {
        return Ok(());
    };
    let last = incident.last_alert.unwrap_or(incident.started);
    let due = !repeat.is_zero() && now.saturating_sub(last) >= repeat.as_secs() as i64;
    if !due {
        return Ok(());
    }
    incident.last_alert = Some(unix_now());
    outbox::send(ctx, Kind::Reminder, facts, Spool::Outbox).map(|_| ())
}

/// The service is healthy: close the incident, with "resolved" if it paged.
pub fn close(ctx: &mut Ctx, facts: &Facts) -> Result<()> {
    let Some(incident) = ctx.state.incident.take() else {
        return Ok(());
    };
    ctx.forget_unsaved_page();
    let down = between(incident.started, unix_now());
    ctx.record(
        HEALTH_FILE,
        Metric::new("incident", "resolved", down.as_secs_f64()),
    );
    ctx.save_state();
    if incident.paged() {
        let mut facts = facts.clone();
        facts.down_for = Some(down);
        outbox::send(ctx, Kind::Resolved, &facts, Spool::Outbox)?;
    }
    Ok(())
}

/// The end of a run, to `SELFHEAL_HEARTBEAT_URL`: `URL` or `URL/fail`, or
/// `URL/<exit code>` (`SELFHEAL_HEARTBEAT_MODE=exit`). A healthy run that
/// healed nothing is one GET; a run that healed (or tried) POSTs its log
/// (at most `BODY_MAX`, scrubbed) so that the ping says what happened.
/// A failure is only logged.
pub fn heartbeat(ctx: &mut Ctx, code: u8) {
    let suffix = match (ctx.config.heartbeat_mode, code) {
        (HeartbeatMode::Fail, 0) => String::new(),
        (HeartbeatMode::Fail, _) => "/fail".into(),
        (HeartbeatMode::Exit, c) => format!("/{c}"),
    };
    let body = ctx.healing.then(|| ctx.log.kept().to_vec());
    ping(ctx, &suffix, body.as_deref());
}

/// `URL/start` when a healing run begins, so that a run that hangs shows as
/// "started, never finished". Never on the healthy path.
pub fn heartbeat_start(ctx: &mut Ctx) {
    ping(ctx, "/start", None);
}

fn ping(ctx: &mut Ctx, suffix: &str, body: Option<&[u8]>) {
    let Some(url) = ctx.config.heartbeat_url.clone() else {
        return;
    };
    let shown = crate::sys::redact::secret_url(&deliver::ping_url(url.expose(), suffix));
    if ctx.mode == Mode::DryRun {
        log::print(&format!("would ping the heartbeat ({shown})\n"));
        return;
    }
    match deliver::heartbeat(ctx.webhooks(), url.expose(), suffix, body) {
        Ok(()) => ctx.log.debug(format!("heartbeat ({shown}) pinged")),
        Err(e) => ctx.log.warn(format!("heartbeat ({shown}) failed: {e}")),
    }
}
