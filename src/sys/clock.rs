//! Time: the monotonic clock and sleeper seam, wall-clock timestamps, and the
//! termination signals that cut a sleep short.
//!
//! All waiting in selfheal goes through `Clock::sleep`, which wakes early when
//! SIGTERM, SIGINT or SIGHUP arrives so that children and tmux sessions are
//! cleaned up before exit. Durations are measured with `Instant` only: a wall
//! clock that jumps backwards never stretches or shortens a wait. This module
//! must not decide anything about healing.

use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};
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

/// How long a run may take to notice a stop request before it ends anyway.
const STOP_GRACE_SECS: libc::c_uint = 1;

/// The NUL-terminated path of the stop marker (`set_stop_marker`), leaked
/// so that the SIGALRM handler can use it without allocating.
static STOP_MARKER: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());

extern "C" fn on_signal(sig: libc::c_int) {
    SIGNAL.store(sig, Ordering::SeqCst);
    // A run blocked in a network call (a probe or a POST can wait up to its
    // timeout, which may be minutes) would notice only when it returns: if
    // nothing noticed the signal within the grace, `on_alarm` ends the run.
    // SAFETY: alarm is async-signal-safe.
    unsafe { libc::alarm(STOP_GRACE_SECS) };
}

/// The grace after a stop request ran out: writes the stop marker (so that
/// the next run knows this one was stopped, not lost) and exits 128 + signal.
/// Only async-signal-safe calls: open, write, close, _exit.
extern "C" fn on_alarm(_: libc::c_int) {
    let sig = SIGNAL.load(Ordering::SeqCst);
    let path = STOP_MARKER.load(Ordering::SeqCst);
    if !path.is_null() {
        let mut digits = [b'0', b'0', b'0', b'\n'];
        let mut n = sig.clamp(0, 999);
        for d in digits[..3].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        // SAFETY: `path` is a leaked, NUL-terminated string; the buffer is ours.
        unsafe {
            let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NOFOLLOW;
            let fd = libc::open(path, flags | libc::O_CLOEXEC, 0o600 as libc::c_uint);
            if fd >= 0 {
                libc::write(fd, digits.as_ptr().cast(), digits.len());
                libc::close(fd);
            }
        }
    }
    // SAFETY: _exit is async-signal-safe and ends the process at once.
    unsafe { libc::_exit(128 + sig.clamp(0, 127)) };
}

/// Installs handlers that only record SIGTERM, SIGINT and SIGHUP; the
/// program notices at its next sleep or wait and cleans up — or, blocked
/// in a call that does not return within a second, is ended by `on_alarm`.
pub fn install_signal_handlers() {
    let handlers: [(libc::c_int, extern "C" fn(libc::c_int)); 4] = [
        (libc::SIGTERM, on_signal),
        (libc::SIGINT, on_signal),
        (libc::SIGHUP, on_signal),
        (libc::SIGALRM, on_alarm),
    ];
    for (sig, handler) in handlers {
        // SAFETY: the handlers only use async-signal-safe calls.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// Where a run that had to be ended by the grace leaves its signal.
pub fn set_stop_marker(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    if let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) {
        STOP_MARKER.store(c.into_raw(), Ordering::SeqCst);
    }
}

/// `Err(Interrupted)` once a termination signal has been received. The run
/// has noticed: the grace timer is off, its own clean-up decides.
pub fn check_signal() -> Result<()> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => Ok(()),
        sig => {
            // SAFETY: alarm(0) only cancels the timer.
            unsafe { libc::alarm(0) };
            Err(Error::Interrupted(sig))
        }
    }
}

/// Nanoseconds since the Unix epoch (a unique-enough id).
pub fn unix_now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Microseconds of CLOCK_MONOTONIC, as systemd stamps a unit's starts.
pub fn monotonic_us() -> u64 {
    // SAFETY: clock_gettime writes only into `ts`.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return 0;
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000) + (ts.tv_nsec as u64) / 1000
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
