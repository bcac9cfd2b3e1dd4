//! A run that died mid-ladder (killed, crashed, the machine lost power).
//! Every healing run records its step in the state; the next run that holds
//! the lock and finds it still set knows the run before it never finished.

use super::level4;
use crate::alert::{incident, Kind};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::{between, fmt_secs};
use crate::sys::clock::unix_now;

/// Logs the death of the run before this one, and alerts once if that run
/// died before anyone was told of its incident.
pub fn report(ctx: &mut Ctx) -> Result<()> {
    let Some(r) = ctx.state.running.take() else {
        return Ok(());
    };
    let ago = fmt_secs(between(r.since, unix_now()));
    let step = r.step.as_str();
    ctx.log.warn(format!(
        "the run before this one (pid {}) ended during {step} {ago} ago without finishing",
        r.pid,
    ));
    ctx.save_state();
    // Someone must hear of an incident whose run died before paging; once
    // it paged, the death adds nothing a human can act on.
    if ctx.state.incident.as_ref().is_some_and(|i| !i.paged()) {
        let mut f = level4::facts(ctx, &ctx.probe(), Vec::new(), None);
        f.note = Some(format!(
            "selfheal (pid {}) stopped during {step} {ago} ago, before anyone was told; \
             this run carries on.",
            r.pid,
        ));
        incident::alert_once(ctx, Kind::RunDied, &f)?;
    }
    Ok(())
}
