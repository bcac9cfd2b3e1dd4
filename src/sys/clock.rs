//! Time: the monotonic clock and sleeper seam, wall-clock timestamps, and the
//! termination signals that cut a sleep short.
//!
//! All waiting in selfheal goes through `Clock::sleep`, which wakes early when
//! SIGTERM, SIGINT or SIGHUP arrives so that children and tmux sessions are
//! cleaned up before exit. Durations are measured with `Instant` only: a wall
//! clock that jumps backwards never stretches or shortens a wait. This module
//! must not decide anything about healing.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use time::{OffsetDateTime, UtcOffset};

use crate::error::{Error, Result};

pub trait Clock {
    fn now(&self) -> Instant;
    /// Sleeps for `d`, or returns `Error::Interrupted` as soon as a
    /// termination signal has arrived.
    fn sleep(&self, d: Duration) -> Result<()>;
}

/// The real clock.
pub struct SystemClock;

/// How often a sleep looks for a pending signal.
const SLICE: Duration = Duration::from_millis(25);

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, d: Duration) -> Result<()> {
        let end = Instant::now() + d;
        loop {
            check_signal()?;
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            std::thread::sleep((end - now).min(SLICE));
        }
    }
}

static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    SIGNAL.store(sig, Ordering::SeqCst);
}

/// Installs handlers that only record SIGTERM, SIGINT and SIGHUP; the
/// program notices at its next sleep or wait and cleans up.
pub fn install_signal_handlers() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// `Err(Interrupted)` once a termination signal has been received.
pub fn check_signal() -> Result<()> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => Ok(()),
        sig => Err(Error::Interrupted(sig)),
    }
}

/// Seconds since the Unix epoch (for metrics).
pub fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The current local time. The offset is asked of the C library on every
/// call so that a run that spans a DST change logs the right hour.
pub fn local_now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.to_offset(local_offset(now.unix_timestamp()))
}

/// A unix time read from a file, in local time (the epoch when out of range).
pub fn local_at(unix: i64) -> OffsetDateTime {
    let utc = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    utc.to_offset(local_offset(utc.unix_timestamp()))
}

// libc marks musl's time_t deprecated (a 32/64-bit note); on 64-bit targets it is i64.
#[allow(deprecated)]
fn local_offset(unix: i64) -> UtcOffset {
    let t = unix as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`; selfheal never changes TZ.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return UtcOffset::UTC;
    }
    i32::try_from(tm.tm_gmtoff)
        .ok()
        .and_then(|s| UtcOffset::from_whole_seconds(s).ok())
        .unwrap_or(UtcOffset::UTC)
}

/// Sleeps in tests without sleeping: time only moves when someone sleeps.
#[cfg(test)]
pub struct FakeClock {
    pub start: Instant,
    pub elapsed: std::cell::Cell<Duration>,
}

#[cfg(test)]
impl Default for FakeClock {
    fn default() -> FakeClock {
        FakeClock {
            start: Instant::now(),
            elapsed: std::cell::Cell::new(Duration::ZERO),
        }
    }
}

#[cfg(test)]
impl Clock for FakeClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed.get()
    }
    fn sleep(&self, d: Duration) -> Result<()> {
        self.elapsed.set(self.elapsed.get() + d);
        Ok(())
    }
}
