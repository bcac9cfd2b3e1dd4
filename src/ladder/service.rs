//! The service's own process: remembered from the owner of its port while
//! it is healthy (its pid, when it started, its executable and command
//! line, in the state), so that at an incident its processes can be told
//! from anyone else's — a start under way, a process that died, a hung one,
//! a stranger on its port. With a docker restart command, the container's
//! main process stands in for the port's owner (docker-proxy).
//!
//! Cost on the healthy path: one read of `/proc/PID/stat` while the
//! remembered process lives; a search for the port's owner only when it is
//! gone (after a restart), and when none is found, at most every
//! `LOOK_AGAIN`.

use super::evidence::logs::Scope;
use super::evidence::{self, Docker};
use crate::ctx::Ctx;
use crate::state::ServiceProc;
use crate::sys::clock::unix_now;
use crate::sys::procs::{self, Identity, Proc};

/// How long a search that found no owner is trusted.
const LOOK_AGAIN: i64 = 600;

/// The service's process now (healthy path): the remembered one while it
/// still runs, else the port's owner, remembered. Whether the state changed.
pub fn remember(ctx: &mut Ctx) -> (Option<u32>, bool) {
    let now = unix_now();
    if let Some(s) = &ctx.state.service {
        if let Some(p) = procs::info(s.pid).filter(|p| p.started == s.started) {
            return (Some(p.pid), false);
        }
        if s.pid == 0 && s.looked <= now && now - s.looked < LOOK_AGAIN {
            return (None, false);
        }
    }
    let found = owner(ctx).and_then(procs::info);
    let previous = ctx.state.service.take();
    ctx.state.service = Some(match &found {
        Some(p) => ServiceProc {
            pid: p.pid,
            started: p.started.clone(),
            identity: p.identity.clone(),
            looked: now,
        },
        // Nothing found now: keep what it was, to know its processes by.
        None => ServiceProc {
            pid: 0,
            started: String::new(),
            identity: previous.map(|s| s.identity).unwrap_or_default(),
            looked: now,
        },
    });
    (found.map(|p| p.pid), true)
}

/// The pid that owns the service: Docker's container, else the port's owner.
fn owner(ctx: &Ctx) -> Option<u32> {
    match Docker::of(&ctx.config.restart_cmd) {
        Some(d) => d.main_pid(ctx.config),
        None => evidence::listener_pid(evidence::port(&ctx.config.url)?),
    }
}

/// Who the service is, if it was ever seen.
pub fn identity<'a>(ctx: &'a Ctx) -> Option<&'a Identity> {
    ctx.state
        .service
        .as_ref()
        .map(|s| &s.identity)
        .filter(|i| !i.cmdline.is_empty())
}

/// Its processes now (none when it was never seen). The OpenClaw gateway
/// names itself `openclaw-gateway` once it runs, and is `node …/openclaw
/// gateway run …` while it starts: both are its.
pub fn processes(ctx: &Ctx) -> Vec<Proc> {
    let all = if ctx.openclaw() {
        // Any gateway's process looks like this one's: another user's, or
        // a second instance with a home of its own, is not this service
        // (its boot is not this one's, its death neither).
        procs::find(crate::openclaw::is_its_process)
            .into_iter()
            .filter(|p| !procs::elsewhere(p.pid))
            .collect()
    } else {
        identity(ctx).map(procs::matching).unwrap_or_default()
    };
    // Not a command of selfheal's own (its restart command, the config check).
    all.into_iter().filter(|p| !p.is_ours()).collect()
}

/// Which log lines are the current incident's: written since the service
/// was last seen healthy (the last `health_check` line), and by its own
/// process when a line names one (the remembered one, and any of its
/// identity now).
pub fn log_scope(config: &crate::config::Config, state: &crate::state::State) -> Scope {
    let since = crate::sys::metrics::last(
        &config.memory_dir,
        crate::sys::metrics::HEALTH_FILE,
        "health_check",
    )
    .map(|(t, _)| t);
    let mut pids: Vec<u32> = state
        .service
        .iter()
        .map(|s| s.pid)
        .filter(|&p| p != 0)
        .collect();
    if let Some(id) = state.service.as_ref().map(|s| &s.identity) {
        let mine = match crate::openclaw::is_its_process(&id.cmdline) {
            true => procs::find(crate::openclaw::is_its_process),
            false => procs::matching(id),
        };
        pids.extend(
            mine.into_iter()
                .map(|p| p.pid)
                .filter(|&p| !procs::elsewhere(p)),
        );
    }
    Scope { since, pids }
}
