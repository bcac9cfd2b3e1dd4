//! `selfheal rotate`, and the same rotation at the start of every `check`:
//! deletes the tool's dated logs older than the retention (which files those
//! are is `sys::rotate`'s business).

use std::path::PathBuf;
use std::time::SystemTime;

use super::Verdict;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::sys::{log, rotate};

pub fn run(ctx: &mut Ctx) -> Result<Verdict> {
    let c = ctx.config;
    let old = rotate::candidates(&c.memory_dir, c.log_retention_days, SystemTime::now())?;
    let n = delete(ctx, &old);
    if ctx.mode == Mode::Real && n == 0 {
        ctx.log.info(format!(
            "rotation: nothing to delete (no log of this tool older than {} days)",
            c.log_retention_days
        ));
    }
    Ok(Verdict::Ok)
}

/// The rotation of `check`: a failure is a warning, never the end of the run.
pub fn rotate_logs(ctx: &mut Ctx) {
    let c = ctx.config;
    match rotate::candidates(&c.memory_dir, c.log_retention_days, SystemTime::now()) {
        Ok(old) => {
            delete(ctx, &old);
        }
        Err(e) => ctx.log.warn(format!("rotation skipped: {e}")),
    }
}

/// Deletes (or in a dry run, lists) rotated files; returns how many went.
fn delete(ctx: &mut Ctx, old: &[PathBuf]) -> usize {
    let mut deleted = 0;
    for path in old {
        if ctx.mode == Mode::DryRun {
            log::print(&format!("would delete: {}\n", path.display()));
            continue;
        }
        match std::fs::remove_file(path) {
            Ok(()) => {
                deleted += 1;
                ctx.log.debug(format!("rotated out {}", path.display()));
            }
            Err(e) => ctx
                .log
                .warn(format!("cannot delete {}: {e}", path.display())),
        }
    }
    if deleted > 0 {
        ctx.log.info(format!(
            "rotation: deleted {deleted} log(s) older than {} days",
            ctx.config.log_retention_days
        ));
    }
    deleted
}
