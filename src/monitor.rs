//! `selfheal monitor` and `selfheal notify`: the commands of level 4 that run
//! outside `check`.
//!
//! `monitor` is the old `emergency-recovery-monitor.sh`: it alerts once about
//! the newest level 3 log that ends in failure (remembered by name in
//! `.emergency-alert-sent`, replaced atomically before the alert goes out) and
//! about a run that died mid-ladder. `notify` sends a message of the user's
//! through the same delivery path; it does not use the outbox, because it
//! runs beside `check` without the lock.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::alert::{Facts, Kind, Severity};
use crate::ctx::{Ctx, Mode};
use crate::error::{Error, Result};
use crate::files;
use crate::incident::{self, Spool};
use crate::ladder;
use crate::log;
use crate::notify;
use crate::rotate;
use crate::Verdict;

pub const ALERT_SENT_FILE: &str = ".emergency-alert-sent";
const MARKER: &str = "MANUAL INTERVENTION REQUIRED";

pub fn monitor(ctx: &mut Ctx) -> Result<Verdict> {
    ctx.load_state();
    incident::flush_outbox(ctx)?;
    ladder::abandoned_run(ctx)?;
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
    let already = std::fs::read_to_string(&sent_path).unwrap_or_default();
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
        url: crate::config::shown_url(ctx.config),
        log_path: Some(newest.display().to_string()),
        note: Some(format!("The level 3 log ends in {MARKER}.")),
        commands: vec![
            format!("tail -n 50 {}", newest.display()),
            "selfheal probe".into(),
        ],
        ..Facts::default()
    };
    incident::send(ctx, Kind::Level3Failed, &facts, Spool::Outbox)?;
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
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut bytes = Vec::new();
    let _ = f.take(64 * 1024).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).contains(needle)
}

pub fn notify(ctx: &mut Ctx, severity: Severity, message: &str) -> Result<Verdict> {
    if notify::configured(ctx.config).is_empty() {
        return Err(Error::Usage(
            "notify: no alert channel is configured; set DISCORD_WEBHOOK_URL, SLACK_WEBHOOK_URL, \
             TELEGRAM_BOT_TOKEN + TELEGRAM_CHAT_ID, NTFY_URL or SELFHEAL_WEBHOOK_URL"
                .into(),
        ));
    }
    let facts = Facts {
        host: ctx.host.clone(),
        note: Some(message.to_string()),
        ..Facts::default()
    };
    let summary = incident::send(ctx, Kind::Custom(severity), &facts, Spool::Drop)?;
    if ctx.mode == Mode::Real {
        log::print(&format!(
            "notify: {} sent, {} failed\n",
            summary.sent,
            summary.failed + summary.queued
        ));
    }
    Ok(if summary.failed + summary.queued == 0 {
        Verdict::Ok
    } else {
        Verdict::Unhealthy
    })
}
