//! A `check` that cannot do its job still says so. When its configuration
//! does not load (one bad line in an env file shared with OpenClaw) or its
//! directory or a file of it is refused, the service is unwatched until a
//! human acts, so: the error goes to the log, the heartbeat gets `/fail` on
//! every such run, and every channel whose keys could be read gets one
//! `cannot_run` alert per distinct cause; the first run that works again
//! sends `runs_again`.
//!
//! The cause already told is remembered in `.selfheal-cannot-run` in the
//! tool directory (or, when that directory is what is refused, in the home
//! directory). Not in the state file, and no lock: either may be what is
//! broken. This module never heals and never reads the state.

use std::path::{Path, PathBuf};

use crate::alert::outbox::{self, Spool};
use crate::alert::{incident, Facts, Kind};
use crate::cli::Global;
use crate::config::Config;
use crate::ctx::{Ctx, Mode};
use crate::error::Error;
use crate::sys::clock::SystemClock;
use crate::sys::files;
use crate::sys::log::Log;

pub const FILE: &str = ".selfheal-cannot-run";

/// Whether `error` means that selfheal, not the service, is broken.
pub fn is_ours(error: &Error) -> bool {
    matches!(
        error,
        Error::Config { .. } | Error::EnvFile { .. } | Error::Io { .. } | Error::Unsafe { .. }
    )
}

/// Where the cause already told is kept: the tool directory when it can be
/// used, else the home directory (a refused tool directory must not make
/// every run alert again).
fn memory(config: &Config, home: &Path) -> (Option<PathBuf>, PathBuf) {
    match files::ensure_dir(&config.memory_dir) {
        Ok(()) => (
            Some(config.memory_dir.clone()),
            config.memory_dir.join(FILE),
        ),
        Err(_) => (None, home.join(FILE)),
    }
}

/// The cause already told (the file holds one error message).
const CAUSE_MAX: u64 = 64 * 1024;

/// Logs `error`, pings the heartbeat's `/fail`, and alerts once per cause.
pub fn report(global: &Global, config: &Config, home: &Path, error: &Error) {
    if global.mode != Mode::Real {
        return;
    }
    let secrets = config.secrets();
    let cause = crate::sys::redact::scrub(&error.to_string(), &secrets);
    let (dir, remembered) = memory(config, home);
    let mut log = Log::new(dir.as_deref(), global.terminal, global.verbosity).scrubbing(&secrets);
    log.record(&format!("selfheal cannot run: {cause}"));
    let clock = SystemClock;
    let mut ctx = Ctx::new(config, log, global.mode, &clock);
    incident::heartbeat(&mut ctx, error.code());
    if files::read_small(&remembered, CAUSE_MAX).as_deref() == Some(cause.as_str()) {
        ctx.log.debug("cannot run: this cause was already told");
        return;
    }
    let facts = Facts {
        host: ctx.host.clone(),
        url: config.shown_url.clone(),
        note: Some(format!(
            "selfheal cannot run: {cause}. Until this is fixed, nothing heals the service \
             and nobody is paged about it."
        )),
        commands: vec!["selfheal doctor".into()],
        ..Facts::default()
    };
    let sent = outbox::send(&mut ctx, Kind::CannotRun, &facts, Spool::Drop);
    // Remembered when someone was told, or when there is nobody to tell; a
    // failed delivery is tried again by the next run.
    let nobody = crate::alert::deliver::configured(config).is_empty();
    if nobody || sent.is_ok_and(|s| s.sent > 0) {
        if let Err(e) = files::write_atomic(&remembered, cause.as_bytes()) {
            ctx.log.warn(format!(
                "cannot remember that this was told ({e}); the next run tells again"
            ));
        }
    }
}

/// After a run that worked: if a `cannot_run` was told, says it runs again.
/// On the healthy path this is one failed `open`.
pub fn cleared(global: &Global, config: &Config, home: &Path) {
    if global.mode != Mode::Real {
        return;
    }
    let Some(path) = [config.memory_dir.join(FILE), home.join(FILE)]
        .into_iter()
        .find(|p| files::read_small(p, CAUSE_MAX).is_some())
    else {
        return;
    };
    let log = Log::new(Some(&config.memory_dir), global.terminal, global.verbosity)
        .scrubbing(&config.secrets());
    let clock = SystemClock;
    let mut ctx = Ctx::new(config, log, global.mode, &clock);
    let facts = Facts {
        host: ctx.host.clone(),
        url: config.shown_url.clone(),
        note: Some("selfheal runs again and watches the service.".into()),
        ..Facts::default()
    };
    let told_nobody = crate::alert::deliver::configured(config).is_empty();
    let sent = outbox::send(&mut ctx, Kind::RunsAgain, &facts, Spool::Drop);
    if told_nobody || sent.is_ok_and(|s| s.sent > 0) {
        let _ = std::fs::remove_file(&path);
    }
}
