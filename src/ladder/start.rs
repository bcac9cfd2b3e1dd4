//! What is known of one start of the service while it boots, from evidence
//! about the service itself: its manager says it failed after the start
//! began, a process of its own started and exited, or its own log says it
//! would not start. Never from the restart command's process group: a
//! command that hands the start to a manager (`systemctl --no-block`,
//! `launchctl kickstart`, `openclaw gateway restart`) or daemonizes leaves
//! nothing there, and the service is not its child. Without such evidence
//! a start is not judged: the boot wait runs its whole bound.
//!
//! Also whether a start is under way before selfheal does anything (level
//! 1: the manager is starting it, or a process of the service's own is
//! younger than its boot bound): that one is left to boot.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::evidence::manager::{Activity, Manager};
use super::evidence::{self};
use super::service;
use crate::ctx::Ctx;
use crate::fmt::fmt_secs;
use crate::probe::Probe;
use crate::sys::clock::{monotonic_us, unix_now};
use crate::sys::procs::{Identity, Proc};

/// One start, watched.
pub struct Start {
    began: Instant,
    began_mono: u64,
    began_unix: i64,
    manager: Option<Manager>,
    /// The manager's start mark when the start began (a new start changes it).
    mark: Option<u64>,
    identity: Option<Identity>,
    /// A process of the service's own that began after this start did.
    seen: Option<Proc>,
    logs: Vec<(PathBuf, u64)>,
}

impl Start {
    /// Just before a restart: what every later look is compared with.
    pub fn begin(ctx: &Ctx) -> Start {
        let manager = Manager::of(ctx.config, ctx.openclaw());
        let mark = manager
            .as_ref()
            .and_then(Manager::state)
            .and_then(|s| s.start_mark);
        Start {
            began: ctx.clock.now(),
            began_mono: monotonic_us(),
            began_unix: unix_now(),
            manager,
            mark,
            identity: service::identity(ctx).cloned(),
            seen: None,
            logs: evidence::logs::marks(&ctx.config.service_logs),
        }
    }

    /// A start that began `age` ago (found under way: level 1's).
    pub fn already(ctx: &Ctx, age: Duration) -> Start {
        let mut s = Start::begin(ctx);
        s.began_mono = s.began_mono.saturating_sub(age.as_micros() as u64);
        s.began_unix -= age.as_secs() as i64;
        s.mark = None;
        s
    }

    /// Why this start evidently failed, if it did: looked at while the
    /// service is not healthy. `None` is "not known": keep waiting.
    pub fn failed(&mut self, ctx: &Ctx, probe: &Probe) -> Option<String> {
        let since = ctx.clock.now().saturating_duration_since(self.began);
        if let Some(why) = self.manager_says(since) {
            return Some(why);
        }
        let mine = match &self.identity {
            Some(_) => service::processes(ctx),
            None => Vec::new(),
        };
        // A process of its own that began after this start did (a second of
        // slack for the clocks' grain).
        if let Some(p) = mine
            .iter()
            .find(|p| p.age <= since + Duration::from_secs(1))
        {
            self.seen.get_or_insert_with(|| p.clone());
        }
        let alive = !mine.is_empty();
        if let (Some(p), false, true) = (&self.seen, alive, probe.refused()) {
            return Some(format!(
                "the service's process (pid {}) exited during start-up and its port is closed",
                p.pid
            ));
        }
        if alive || !probe.refused() {
            return None;
        }
        let scope = evidence::logs::Scope {
            since: None,
            pids: self.seen.iter().map(|p| p.pid).collect(),
        };
        let said = evidence::logs::since(&ctx.config.service_logs, &self.logs, &scope);
        let refusal = said.iter().rev().find(|l| evidence::logs::refuses(l))?;
        Some(format!(
            "its log says it did not start: {}",
            crate::sys::redact::mask_secrets(&crate::sys::redact::scrub(
                refusal.trim(),
                &ctx.config.secrets()
            ))
            .chars()
            .take(200)
            .collect::<String>()
        ))
    }

    /// The manager's word: failed (or stopped with a failure) after a start
    /// that began after this one did.
    fn manager_says(&self, since: Duration) -> Option<String> {
        let state = self.manager.as_ref()?.state()?;
        if !matches!(state.activity, Activity::Failed | Activity::Stopped) {
            return None;
        }
        let started_since = match (self.manager.as_ref()?, state.start_mark) {
            (Manager::Systemd { .. }, Some(m)) => m >= self.began_mono,
            (Manager::Docker { .. }, Some(m)) => m as i64 >= self.began_unix - 1,
            (Manager::Launchd { .. }, Some(m)) => self.mark.is_some_and(|before| m > before),
            _ => false,
        };
        (started_since && state.activity == Activity::Failed).then(|| {
            format!(
                "{} — it failed {} into this start",
                state.view,
                fmt_secs(since)
            )
        })
    }
}

/// A start already under way (level 1 at work), and how long ago it began:
/// the manager says it is starting the service, or a process of the
/// service's own is younger than `bound` while its port does not answer.
pub fn under_way(ctx: &Ctx, bound: Duration) -> Option<(String, Duration)> {
    if let Some(state) = Manager::of(ctx.config, ctx.openclaw()).and_then(|m| m.state()) {
        if state.activity == Activity::Starting {
            return Some((
                format!("{}: its service manager is starting it", state.view),
                Duration::ZERO,
            ));
        }
    }
    let young = service::processes(ctx)
        .into_iter()
        .filter(|p| p.age < bound && !p.stopped)
        .min_by_key(|p| p.age)?;
    Some((
        format!(
            "a process of the service (pid {}) started {} ago and is still starting",
            young.pid,
            fmt_secs(young.age)
        ),
        young.age,
    ))
}
