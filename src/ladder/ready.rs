//! Live but deaf: a service that answers its liveness probe while its
//! readiness endpoint (`SELFHEAL_READY_URL`; OpenClaw's `/readyz`) says it
//! is not ready — a channel that stopped, a sidecar that never started.
//! `SELFHEAL_READY_GRACE` such checks in a row (none counted while the
//! service may still be booting) make an incident of its own: the ladder
//! then heals it as any other, a probe counting it healthy only once it is
//! ready again, and the page names what it said was failing.
//!
//! Cost on the healthy path: one more GET when a readiness URL is set.

use super::{boot, start};
use crate::ctx::Ctx;
use crate::fmt::{between, fmt_secs};
use crate::probe::{self, Failure, Probe, Readiness};
use crate::state::NotReady;
use crate::sys::clock::unix_now;

/// Counts a live service's not-ready checks; the probe to heal it with once
/// they reach the grace (and on every check after, while it stays so).
pub fn check(ctx: &mut Ctx, live: &Probe) -> Option<Probe> {
    let failing = match ctx.readiness() {
        Readiness::NotReady(failing) => failing,
        Readiness::Ready | Readiness::Unknown(_) => {
            if let Some(was) = ctx.state.not_ready.take() {
                if was.checks > 0 {
                    ctx.log.info(format!(
                        "ready again (it was not for {})",
                        fmt_secs(between(was.since, unix_now()))
                    ));
                }
                ctx.save_state();
            }
            return None;
        }
    };
    // A service that may still be booting is not ready by nature.
    if let Some((why, _)) = start::under_way(ctx, boot::wait(ctx.config).limit) {
        ctx.log.debug(format!("not ready, but not counted: {why}"));
        return None;
    }
    let now = unix_now();
    let n = ctx.state.not_ready.get_or_insert(NotReady {
        since: now,
        ..NotReady::default()
    });
    n.checks = n.checks.saturating_add(1);
    n.failing = failing;
    let (checks, since, failing) = (n.checks, n.since, n.failing.clone());
    ctx.save_state();
    let grace = ctx.config.ready_grace;
    let said = probe::not_ready_reason(&failing);
    if checks < grace {
        ctx.log.info(format!(
            "{said}: check {checks} of {grace} (SELFHEAL_READY_GRACE) before it is healed"
        ));
        return None;
    }
    Some(Probe {
        failure: Some(Failure::NotReady),
        status: Some(503),
        latency: live.latency,
        reason: format!("{said}, for {}", fmt_secs(between(since, now))),
    })
}
