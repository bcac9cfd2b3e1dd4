//! A run that died mid-ladder (killed, crashed, the machine lost power).
//! Every healing run records its step in the state; the next run that holds
//! the lock and finds it still set knows the run before it never finished.
//! A rollback it left between restore and verdict is finished or undone
//! first (`rollback::unfinished`).

use super::level4;
use crate::alert::{incident, Kind};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::{between, fmt_secs};
use crate::sys::clock::unix_now;
use crate::sys::{files, process};

/// Left by a run that a stop request ended while it was blocked in a call
/// (`clock::on_alarm`): the signal's number.
pub const STOPPED_FILE: &str = ".selfheal-stopped";

/// The signal that ended the run before this one, if it left the marker
/// (which is removed).
fn stopped(ctx: &Ctx) -> Option<i32> {
    let path = ctx.config.memory_dir.join(STOPPED_FILE);
    let text = files::read_small(&path, 16)?;
    let _ = std::fs::remove_file(&path);
    text.trim().parse().ok()
}

/// Logs the death of the run before this one, and alerts once if that run
/// died before anyone was told of its incident. A run that was stopped on
/// purpose (a signal, even one it could only obey by exiting at once) is
/// not a death.
pub fn report(ctx: &mut Ctx) -> Result<()> {
    let stopped = stopped(ctx);
    let running = ctx.state.running.take();
    if let Some(r) = &running {
        if let Some(g) = &r.child {
            if process::end_orphan(g) {
                ctx.log.warn(format!(
                    "the run before this one (pid {}) left its command running (process group \
                     {}); ended it",
                    r.pid, g.pgid
                ));
            }
        }
    }
    // Then the files it left replaced (its restart ended first: they are
    // never changed under one): they decide what the service runs on.
    let rollback = super::rollback::unfinished(ctx)?;
    let Some(r) = running else {
        return Ok(());
    };
    let ago = fmt_secs(between(r.since, unix_now()));
    let step = r.step.as_str();
    if let Some(sig) = stopped {
        ctx.log.warn(format!(
            "the run before this one (pid {}) was stopped by signal {sig} during {step} {ago} \
             ago; this run carries on",
            r.pid,
        ));
        ctx.save_state();
        return Ok(());
    }
    ctx.log.warn(format!(
        "the run before this one (pid {}) ended during {step} {ago} ago without finishing",
        r.pid,
    ));
    ctx.save_state();
    // Someone must hear of an incident whose run died before paging; once
    // it paged, the death adds nothing a human can act on.
    if ctx.state.incident.as_ref().is_some_and(|i| !i.paged()) {
        let mut f = level4::facts(ctx, &ctx.probe(), Vec::new(), None);
        let mut note = format!(
            "selfheal (pid {}) stopped during {step} {ago} ago, before anyone was told; \
             this run carries on.",
            r.pid,
        );
        if let Some(done) = &rollback {
            note.push_str(&format!(" About the files it replaced: {done}."));
        }
        f.note = Some(note);
        incident::alert_once(ctx, Kind::RunDied, &f)?;
    }
    Ok(())
}
