//! `selfheal rollback`: the last working config, now (`--list`: the kept
//! versions). The files and the restore are `ladder::rollback`'s; this is
//! the command around them.

use super::Verdict;
use crate::config::Config;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::ladder::rollback::{self, RolledBack};
use crate::ladder::Climb;
use crate::sys::log;

/// `rollback --list`: each watched file and its kept versions, newest first.
pub fn list(c: &Config) -> Verdict {
    let mut out = String::new();
    if c.watch_files.is_empty() {
        out.push_str(
            "no watched files: SELFHEAL_WATCH_FILES is empty (auto watches the OpenClaw \
             gateway's openclaw.json)\n",
        );
    }
    for file in &c.watch_files {
        let versions = rollback::versions(&c.memory_dir, file);
        let newest = versions
            .first()
            .and_then(|v| crate::sys::files::read_small_bytes(v, rollback::MAX));
        let state = match (rollback::watched(file), &newest) {
            (Err(e), _) => e.to_string(),
            (Ok(None), _) => "missing".into(),
            (Ok(Some(_)), None) => "no working version kept yet".into(),
            (Ok(Some((a, _))), Some(b)) if &a == b => "is its last working version".into(),
            _ => "differs from its last working version".into(),
        };
        out.push_str(&format!("{} ({state})\n", file.display()));
        for v in &versions {
            let len = std::fs::metadata(v).map(|m| m.len()).unwrap_or(0);
            out.push_str(&format!("  {}  {len} bytes\n", v.display()));
        }
    }
    log::print(&out);
    Verdict::Ok
}

/// `rollback`: restore, restart, keep if healthy, else put the user's back.
pub fn run(ctx: &mut Ctx) -> Result<Verdict> {
    ctx.load_state()?;
    let changes = rollback::changes(ctx);
    if changes.is_empty() {
        log::print("nothing to restore: every watched file is its last working version (or none is kept)\n");
        return Ok(Verdict::Ok);
    }
    let verb = match ctx.mode {
        Mode::DryRun => "would restore",
        Mode::Real => "restoring",
    };
    for ch in &changes {
        let diff = rollback::diff(ch.current.as_deref(), &ch.good_bytes, 20);
        log::print(&format!(
            "{verb} {} from {}\nwhat differs (- yours, + restored):\n{}\n",
            ch.file.display(),
            ch.good.display(),
            diff.join("\n")
        ));
    }
    if ctx.mode == Mode::DryRun {
        return Ok(Verdict::Ok);
    }
    let mut climb = Climb::outside_a_climb(ctx);
    match rollback::roll_back(ctx, &mut climb, changes)? {
        RolledBack::NotPossible(e) => Err(e),
        RolledBack::Kept(restored) => {
            for r in &restored {
                let aside = r
                    .aside
                    .as_ref()
                    .map_or("(there was none)".into(), |a| a.display().to_string());
                log::print(&format!(
                    "healthy: kept the last working {}; your version is at {aside}\n",
                    r.change.file.display()
                ));
            }
            Ok(Verdict::Ok)
        }
        RolledBack::Undone => Ok(Verdict::Unhealthy),
    }
}
