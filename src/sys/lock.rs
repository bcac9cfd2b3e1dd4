//! The run lock: at most one selfheal run per tool directory.
//!
//! An flock (std's `File::try_lock`) on `.selfheal.lock` in the tool's own
//! directory, never in /tmp where any user could create it first. The kernel
//! drops an flock when its holder dies, even by `kill -9`, so a crash can
//! never wedge the next run. The descriptor is close-on-exec, so a daemon that
//! a restart command leaves behind does not inherit the lock.

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::sys::files;

pub const LOCK_FILE: &str = ".selfheal.lock";

/// Held until dropped (or the process ends).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

#[derive(Debug)]
pub enum Acquired {
    Held(RunLock),
    /// Another run holds it.
    Busy,
}

pub fn acquire(dir: &Path) -> Result<Acquired> {
    let path = dir.join(LOCK_FILE);
    let mut file = files::open_rw(&path)?;
    match file.try_lock() {
        Ok(()) => {
            // The holder's pid, for a human wondering who holds it.
            let _ = file.set_len(0);
            let _ = writeln!(file, "{}", std::process::id());
            Ok(Acquired::Held(RunLock { _file: file }))
        }
        Err(TryLockError::WouldBlock) => Ok(Acquired::Busy),
        Err(TryLockError::Error(e)) => Err(Error::io("lock", &path, e)),
    }
}
