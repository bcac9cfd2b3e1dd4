//! One file per command. Each takes the parsed options and the loaded
//! `Config`, does its job through the lower modules (the ladder, the agent,
//! alerts, the system), and says how it ended as a `Verdict`.
//!
//! `with_tool_dir` is the frame of every command that writes: the tool
//! directory, the run lock, the log, and the line an interruption leaves.

pub mod cannot_run;
pub mod check;
pub mod digest;
pub mod doctor;
pub mod guard;
pub mod many;
pub mod monitor;
pub mod notify;
pub mod pause;
pub mod probe;
pub mod recover;
pub mod reset;
pub mod rollback;
pub mod rotate;
pub mod runbook;
pub mod stats;
pub mod status;
pub mod why;

use crate::cli::Global;
use crate::config::Config;
use crate::ctx::{Ctx, Mode};
use crate::error::{Error, Result};
use crate::ladder::Health;
use crate::state::{PAUSE_FILE, STATE_FILE};
use crate::sys::clock::SystemClock;
use crate::sys::log::Log;
use crate::sys::metrics::{EMERGENCY_FILE, HEALTH_FILE};
use crate::sys::{files, lock};
use monitor::ALERT_SENT_FILE;

/// How a run that did its job ended (errors are `Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Healthy, recovered, or skipped: exit 0.
    Ok,
    /// Still unhealthy (or a problem found): exit 1.
    Unhealthy,
}

impl Verdict {
    pub fn code(self) -> u8 {
        match self {
            Verdict::Ok => 0,
            Verdict::Unhealthy => 1,
        }
    }

    /// `Ok` when `good`.
    pub fn from_ok(good: bool) -> Verdict {
        if good {
            Verdict::Ok
        } else {
            Verdict::Unhealthy
        }
    }
}

impl From<Health> for Verdict {
    fn from(h: Health) -> Verdict {
        Verdict::from_ok(h == Health::Healthy)
    }
}

/// Whether a command needs the run lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locking {
    /// One at a time; a second run is skipped.
    Exclusive,
    /// One at a time; a run that finds the lock held is an error (`guard`:
    /// a change must not start while a check heals).
    Insist,
    /// Runs beside a `check` (it writes no state).
    None,
}

/// Sets up the directory, lock and log, runs `job`, and logs an interruption.
/// (`job` is a trait object so that this frame is compiled once, not once
/// per command.)
pub fn with_tool_dir(
    global: &Global,
    config: &Config,
    locking: Locking,
    job: &mut dyn FnMut(&mut Ctx) -> Result<Verdict>,
) -> Result<Verdict> {
    let clock = SystemClock;
    let real = global.mode == Mode::Real;
    if real {
        files::ensure_dir(&config.memory_dir)?;
        crate::sys::clock::set_stop_marker(
            &config
                .memory_dir
                .join(crate::ladder::abandoned::STOPPED_FILE),
        );
        // Refused before anything is read or appended: a state, pause or
        // metrics file that another user wrote or can write (or a hard link
        // to somewhere else) is how a forged alert or pause gets in.
        for name in [
            STATE_FILE,
            PAUSE_FILE,
            HEALTH_FILE,
            EMERGENCY_FILE,
            ALERT_SENT_FILE,
        ] {
            let path = config.memory_dir.join(name);
            if let Ok(meta) = std::fs::symlink_metadata(&path) {
                if meta.is_file() {
                    files::check_owned(&meta, &path)?;
                }
            }
        }
    }
    let _lock = if real && locking != Locking::None {
        match lock::acquire(&config.memory_dir)? {
            lock::Acquired::Held(l) => Some(l),
            lock::Acquired::Busy if locking == Locking::Insist => {
                return Err(Error::Setup(
                    "another selfheal run holds the lock (a check healing the service?); \
                     try again when it has ended (`selfheal status`)"
                        .into(),
                ));
            }
            lock::Acquired::Busy => {
                let mut log = Log::new(Some(&config.memory_dir), global.terminal, global.verbosity)
                    .scrubbing(&config.secrets());
                log.info("skipped: another run holds the lock");
                return Ok(Verdict::Ok);
            }
        }
    } else {
        None
    };
    let mut log = Log::new(
        real.then_some(config.memory_dir.as_path()),
        global.terminal,
        global.verbosity,
    )
    .scrubbing(&config.secrets());
    log.open_now()?;
    for w in &config.warnings {
        log.warn(format!("warning: {w}"));
    }
    if let Some(path) = &config.env_file {
        log.debug(format!("configuration read from {}", path.display()));
    }
    for n in &config.notes {
        log.debug(n);
    }
    let mut ctx = Ctx::new(config, log, global.mode, &clock);
    let result = job(&mut ctx);
    if let Err(Error::Interrupted(sig)) = &result {
        ctx.log.warn(format!(
            "interrupted by signal {sig}; stopped what was running"
        ));
        // Stopped on purpose (Ctrl-C, a service manager's stop): not a run
        // that vanished, so the next run pages nobody about it. The open
        // incident stays open.
        if ctx.state.running.take().is_some() {
            ctx.save_state();
        }
    }
    result
}
