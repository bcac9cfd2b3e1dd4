//! Live but deaf: a service that answers its liveness probe while its
//! readiness endpoint (`SELFHEAL_READY_URL`; OpenClaw's `/readyz`) says it
//! is not ready — a channel that stopped, a sidecar that never started.
//! `SELFHEAL_READY_GRACE` such checks in a row (none counted while the
//! service may still be booting) make an incident of its own: the ladder
//! then heals it as any other, a probe counting it healthy only once it is
//! ready again, and the page names what it said was failing.
//!
//! What the service holds back itself (OpenClaw's restart-loop breaker:
//! `suppressed` channels) is said once when it begins and once when it
//! ends, and not healed while the service's own recovery may still come (a
//! restart would only start its wait again); held back by a service up for
//! longer than that (`probe::HELD_LONGER`), it counts as not ready.
//!
//! Cost on the healthy path: one more GET when a readiness URL is set.

use super::{boot, start};
use crate::ctx::Ctx;
use crate::fmt::{between, fmt_secs};
use crate::probe::{self, Failure, Probe, Readiness};
use crate::state::{HeldBack, NotReady};
use crate::sys::clock::unix_now;

/// Counts a live service's not-ready checks; the probe to heal it with once
/// they reach the grace (and on every check after, while it stays so).
pub fn check(ctx: &mut Ctx, live: &Probe) -> Option<Probe> {
    let readiness = ctx.readiness();
    if let Readiness::HeldBack(names, _) = &readiness {
        held_back(ctx, names);
    }
    let failing = match readiness.not_ready() {
        Some(failing) => failing,
        None => {
            if readiness == Readiness::Ready {
                released(ctx);
            }
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

/// Says once that the service holds `names` back itself, and why selfheal
/// leaves it so.
fn held_back(ctx: &mut Ctx, names: &[String]) {
    if ctx
        .state
        .held_back
        .as_ref()
        .is_some_and(|h| h.names == names)
    {
        return;
    }
    let since = ctx.state.held_back.as_ref().map_or(unix_now(), |h| h.since);
    ctx.log.info(format!(
        "the service holds back {} itself (`suppressed` in its readiness answer: OpenClaw's \
         restart-loop breaker after crashes at start); not restarted, as a restart would only \
         start its wait again: OpenClaw starts them itself once its 5-minute window holds no \
         crash, about 6 minutes after its boot; held back by a gateway up for {} or more, it is \
         healed as not ready (by hand: openclaw gateway call channels.start --params \
         '{{\"channel\":\"<id>\"}}')",
        names.join(", "),
        fmt_secs(probe::HELD_LONGER)
    ));
    ctx.state.held_back = Some(HeldBack {
        since,
        names: names.to_vec(),
    });
    ctx.save_state();
}

/// Ready with nothing held back: says so once, if something was.
fn released(ctx: &mut Ctx) {
    if let Some(was) = ctx.state.held_back.take() {
        ctx.log.info(format!(
            "no longer held back: {} (it was for {})",
            was.names.join(", "),
            fmt_secs(between(was.since, unix_now()))
        ));
        ctx.save_state();
    }
}
