//! Boot-aware waiting: how long to wait after a restart before calling the
//! attempt failed. selfheal learns the service's boot time from its own
//! metrics (a `boot` line for every restart that ended healthy: seconds from
//! the restart command's start to the first healthy probe) and waits
//! max(`HEALTH_CHECK_RETRY_DELAY`, 2 × the slowest of the last 10 boots), the
//! learned part capped by `SELFHEAL_BOOT_TIMEOUT`: a service in the middle of
//! its start-up is never restarted again.

use std::time::Duration;

use crate::config::Config;
use crate::fmt::fmt_secs;
use crate::sys::metrics::{self, HEALTH_FILE};

/// How many recent boots are looked at.
const BOOTS: usize = 10;

/// The wait after each restart, and why it is that long.
#[derive(Debug, Clone, PartialEq)]
pub struct BootWait {
    pub limit: Duration,
    pub why: String,
}

pub fn wait(config: &Config) -> BootWait {
    let boots = metrics::recent(&config.memory_dir, HEALTH_FILE, "boot", "success", BOOTS);
    bound(config, &boots)
}

/// The bound for these recent boot times (seconds).
pub fn bound(config: &Config, boots: &[f64]) -> BootWait {
    let delay = config.retry_delay;
    let slowest = boots
        .iter()
        .copied()
        .filter(|s| *s >= 0.0 && *s < 86400.0)
        .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
    let Some(slowest) = slowest else {
        return BootWait {
            limit: delay,
            why: "HEALTH_CHECK_RETRY_DELAY; no boot time learned yet".into(),
        };
    };
    let slowest = Duration::from_secs_f64(slowest);
    let learned = (slowest * 2).min(config.boot_timeout);
    if learned <= delay {
        return BootWait {
            limit: delay,
            why: format!(
                "HEALTH_CHECK_RETRY_DELAY; the last boots took up to {}",
                fmt_secs(slowest)
            ),
        };
    }
    let capped = if learned == config.boot_timeout {
        " (SELFHEAL_BOOT_TIMEOUT)"
    } else {
        ""
    };
    BootWait {
        limit: learned,
        why: format!("the last boots took up to {}{capped}", fmt_secs(slowest)),
    }
}
