//! Watching an agent at work, on evidence, never on its prose: the service
//! healthy (plus a short grace for the report), the report written, the
//! agent's pane dead, the agent CLI saying it cannot work, a long silence, or
//! the budget spent. Each poll is one probe and one screen capture. An agent
//! that ended by itself while the service is not healthy yet is given the
//! service's boot bound (within the budget) for a start it made (`settled`).

use std::time::{Duration, Instant};

use super::tmux::{self, History};
use super::{prompt, L3Log, Session};
use crate::ctx::Ctx;
use crate::fmt::fmt_secs;
use crate::probe::Probe;

/// Why working with one agent stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Healthy,
    ReportWritten,
    /// Its exit status, and the last thing it said (its own reason).
    Exited(Option<i32>, Option<String>),
    CannotWork(String),
    Silent(Duration),
    TimedOut,
    Tmux(String),
    NotFound(String),
}

impl End {
    pub fn describe(&self) -> String {
        match self {
            End::Healthy => "the service is healthy again".into(),
            End::ReportWritten => "the agent wrote its report".into(),
            End::Exited(code, said) => {
                let how = match code {
                    Some(c) => format!("the agent exited ({c})"),
                    None => "the agent's session ended".into(),
                };
                match said {
                    Some(said) => format!("{how}: \"{said}\""),
                    None => how,
                }
            }
            End::CannotWork(why) => format!("the agent cannot work: {why}"),
            End::Silent(d) => format!("the agent was silent for {}", fmt_secs(*d)),
            End::TimedOut => "the level 3 time budget ran out".into(),
            End::Tmux(why) => format!("tmux failed: {why}"),
            End::NotFound(what) => format!("{what} not found"),
        }
    }

    /// Whether the next (fallback) agent should be tried.
    pub fn hand_over(&self) -> bool {
        matches!(self, End::CannotWork(_) | End::NotFound(_))
    }
}

/// The last line the agent wrote on `screen` (its own words when it exits:
/// "Unable to connect to Anthropic services"), made printable and short.
pub fn last_said(screen: &str, prompt: &str) -> Option<String> {
    let line = prompt::agent_lines(screen, prompt)
        .into_iter()
        .rev()
        .map(str::trim)
        // tmux's own line under a pane that ended (remain-on-exit).
        .filter(|l| !l.starts_with("Pane is dead"))
        .find(|l| l.chars().any(char::is_alphanumeric))?;
    let line = crate::sys::redact::printable(&crate::sys::redact::mask_secrets(line));
    Some(line.chars().take(160).collect())
}

/// What the watch has seen so far.
struct Seen {
    screen: String,
    changed_at: Instant,
    healthy_at: Option<Instant>,
    report_at: Option<Instant>,
}

pub fn watch(ctx: &mut Ctx, l3: &L3Log, server: &tmux::Server, s: &Session) -> tmux::Result<End> {
    let c = ctx.config;
    let start = ctx.clock.now();
    let silence_limit = (c.recovery_timeout / 3).max(c.poll_interval * 10);
    let grace = (c.recovery_timeout / 30).clamp(c.poll_interval * 2, Duration::from_secs(60));
    let mut seen = Seen {
        screen: String::new(),
        changed_at: start,
        healthy_at: None,
        report_at: None,
    };
    let mut progress =
        crate::ctx::Progress::new(start, s.deadline.saturating_duration_since(start));
    loop {
        let now = ctx.clock.now();
        if now >= s.deadline {
            return Ok(End::TimedOut);
        }
        ctx.clock.sleep(c.poll_interval.min(s.deadline - now))?;
        let probe = ctx.probe();
        progress.report(ctx, "level 3: the agent is working", &probe);
        let Some(screen) = server.capture(History::Screen)? else {
            return Ok(End::Exited(None, last_said(&seen.screen, s.prompt)));
        };
        let lines = prompt::agent_lines(&screen, s.prompt);
        if let Some(why) = prompt::cannot_work(s.profile, &lines) {
            return Ok(End::CannotWork(why));
        }
        let latest = lines
            .last()
            .map(|l| l.trim().chars().take(120).collect::<String>())
            .unwrap_or_default();
        let now = ctx.clock.now();
        let report = s.paths.report.is_file();
        if probe.healthy() {
            // Healthy: done once it wrote the report and the fix script
            // (kept for next time), or after the grace.
            let since = *seen.healthy_at.get_or_insert(now);
            if (report && s.paths.fix.is_file()) || now - since >= grace {
                return Ok(End::Healthy);
            }
        } else {
            seen.healthy_at = None;
        }
        if report && !probe.healthy() {
            // Done by its own account but not healthy: a little longer for
            // the service to come up, then stop.
            let since = *seen.report_at.get_or_insert(now);
            if now - since >= c.poll_interval * 2 {
                return Ok(End::ReportWritten);
            }
        }
        if let Some((true, status)) = server.pane_state()? {
            return Ok(End::Exited(status, last_said(&screen, s.prompt)));
        }
        if screen != seen.screen {
            seen.screen = screen;
            seen.changed_at = now;
        } else if now - seen.changed_at >= silence_limit {
            return Ok(End::Silent(now - seen.changed_at));
        }
        let health = if probe.healthy() {
            "healthy".to_string()
        } else {
            format!("unhealthy ({})", probe.reason)
        };
        let latest = if latest.is_empty() { "…" } else { &latest };
        l3.line(
            ctx,
            &format!(
                "{} elapsed, {health}; agent: {latest}",
                fmt_secs(now - start)
            ),
        );
    }
}

/// After an agent that ended by itself (it exited, or wrote its report)
/// while the service is not healthy yet: a batch agent may exit right after
/// starting the service (`openclaw gateway restart` returns while the
/// gateway boots for seconds), and one probe then would page people for a
/// recovery that is under way. Probes for up to `limit`; `None` for other
/// ends (they are judged by one probe, as before).
pub fn settled(
    ctx: &mut Ctx,
    l3: &L3Log,
    end: &End,
    limit: Duration,
) -> crate::error::Result<Option<Probe>> {
    if !matches!(end, End::Exited(..) | End::ReportWritten) {
        return Ok(None);
    }
    let now = ctx.probe();
    if now.healthy() || limit.is_zero() {
        return Ok(Some(now));
    }
    l3.line(
        ctx,
        &format!(
            "{}, and the service is not healthy yet ({}): waiting up to {} for a start it may \
             have made",
            end.describe(),
            now.reason,
            fmt_secs(limit)
        ),
    );
    ctx.wait_healthy(limit).map(Some)
}
