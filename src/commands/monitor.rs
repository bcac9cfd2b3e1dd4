//! `selfheal monitor`: the old `emergency-recovery-monitor.sh`. It alerts once
//! about the newest level 3 log that ends in failure (remembered by name in
//! `.emergency-alert-sent`, replaced atomically before the alert goes out) and
//! about a run that died mid-ladder.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Verdict;
use crate::alert::outbox::{self, Spool};
use crate::alert::{Facts, Kind};
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::ladder::abandoned;
use crate::sys::{files, rotate};

pub const ALERT_SENT_FILE: &str = ".emergency-alert-sent";
const MARKER: &str = "MANUAL INTERVENTION REQUIRED";

pub fn run(ctx: &mut Ctx) -> Result<Verdict> {
    ctx.load_state()?;
    outbox::flush(ctx, outbox::Budget::Full)?;
    abandoned::report(ctx)?;
    let dir = ctx.config.memory_dir.clone();
    let Some(newest) = newest_level3_log(&dir, ctx.config.emergency_alert_window) else {
        ctx.log.debug("monitor: no recent level 3 log");
        return Ok(Verdict::Ok);
    };
    let name = newest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !tail_contains(&newest, MARKER) {
        ctx.log
            .debug(format!("monitor: {name} does not report a failure"));
        return Ok(Verdict::Ok);
    }
    let sent_path = dir.join(ALERT_SENT_FILE);
    let already = files::read_small(&sent_path, 4096).unwrap_or_default();
    if already.trim() == name {
        ctx.log
            .debug(format!("monitor: {name} was already alerted"));
        return Ok(Verdict::Unhealthy);
    }
    ctx.log
        .warn(format!("monitor: {name} ends in {MARKER}; alerting"));
    if ctx.mode == Mode::Real {
        files::write_atomic(&sent_path, format!("{name}\n").as_bytes())?;
    }
    let facts = Facts {
        host: ctx.host.clone(),
        url: ctx.config.shown_url.clone(),
        log_path: Some(newest.display().to_string()),
        note: Some(format!("The level 3 log ends in {MARKER}.")),
        commands: vec![
            format!("tail -n 50 {}", newest.display()),
            "selfheal probe".into(),
        ],
        ..Facts::default()
    };
    outbox::send(ctx, Kind::Level3Failed, &facts, Spool::Outbox)?;
    Ok(Verdict::Unhealthy)
}

fn newest_level3_log(dir: &Path, window: std::time::Duration) -> Option<PathBuf> {
    let now = SystemTime::now();
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(rotate::is_level3_log))
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            let modified = meta.modified().ok()?;
            let age = now.duration_since(modified).unwrap_or_default();
            (age <= window).then_some((modified, e.path()))
        })
        .max()
        .map(|(_, p)| p)
}

/// Whether the last 64 KiB of `path` contain `needle`.
fn tail_contains(path: &Path, needle: &str) -> bool {
    files::open_read(path)
        .is_ok_and(|f| String::from_utf8_lossy(&files::tail(f, 64 * 1024)).contains(needle))
}
