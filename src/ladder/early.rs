//! Early warnings before the outage (`SELFHEAL_WARN_RSS`, `SELFHEAL_WARN_DISK`,
//! `SELFHEAL_WARN_LATENCY`), checked on the healthy path only when one is
//! set: the service's memory (its process found by the port it listens on —
//! or, with a docker restart command, the container's main process — and
//! remembered with its start time), the free space of the tool directory's
//! and the service's filesystems, and a probe slower than the threshold for
//! three runs in a row. Crossing one sends one `early_warning` per episode
//! and an `early_warning_resolved` when it is over. It never heals.
//!
//! Cost: a few /proc reads and two `statvfs` on Linux; on macOS `ps -o rss=`
//! (only with `SELFHEAL_WARN_RSS`). The port owner is searched for only when
//! the remembered process is gone.

use std::path::Path;

use crate::alert::outbox::{self, Spool};
use crate::alert::{Facts, Kind};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::{fmt_secs, fmt_size};
use crate::key::DiskFree;
use crate::probe::Probe;
use crate::sys::process;

/// Runs in a row slower than `SELFHEAL_WARN_LATENCY` before it counts.
const SLOW_RUNS: u32 = 3;

pub fn check(ctx: &mut Ctx, probe: &Probe, pid: Option<u32>) -> Result<()> {
    let c = ctx.config;
    if c.warn_rss.is_none() && c.warn_disk.is_none() && c.warn_latency.is_none() {
        return Ok(());
    }
    let mut changed = false;
    if let Some(limit) = c.warn_rss {
        let rss = pid.and_then(rss_bytes);
        let over = rss.filter(|&r| r > limit).map(|r| {
            format!(
                "the service (pid {}) uses {} of memory; the threshold is {} \
                 (SELFHEAL_WARN_RSS)",
                pid.unwrap_or(0),
                fmt_size(r),
                fmt_size(limit)
            )
        });
        changed |= episode(ctx, "rss", rss.map(|_| over))?;
    }
    if let Some(limit) = c.warn_disk {
        let mut dirs = vec![c.memory_dir.clone()];
        if let Some(cwd) = pid.and_then(service_dir) {
            dirs.push(cwd);
        }
        let low = dirs.iter().find_map(|d| {
            let (free, total) = free_space(d)?;
            let percent = if total == 0 {
                100.0
            } else {
                free as f64 * 100.0 / total as f64
            };
            let short = match limit {
                DiskFree::Bytes(b) => free < b,
                DiskFree::Percent(p) => percent < p,
            };
            short.then(|| {
                format!(
                    "{} free ({percent:.1}%) on the filesystem of {}; the threshold is {} \
                     (SELFHEAL_WARN_DISK)",
                    fmt_size(free),
                    d.display(),
                    match limit {
                        DiskFree::Bytes(b) => fmt_size(b),
                        DiskFree::Percent(p) => format!("{p}%"),
                    }
                )
            })
        });
        changed |= episode(ctx, "disk", Some(low))?;
    }
    if let Some(limit) = c.warn_latency {
        let slow = probe.latency > limit;
        let runs = if slow {
            ctx.state.early.slow_runs + 1
        } else {
            0
        };
        changed |= runs != ctx.state.early.slow_runs;
        ctx.state.early.slow_runs = runs;
        let over = (runs >= SLOW_RUNS).then(|| {
            format!(
                "the probe took {} ms, over {} for {runs} runs in a row (SELFHEAL_WARN_LATENCY)",
                probe.latency_ms(),
                fmt_secs(limit)
            )
        });
        // Between one slow run and three, neither warned nor over.
        let known = !slow || runs >= SLOW_RUNS;
        changed |= episode(ctx, "latency", known.then_some(over))?;
    }
    if changed {
        ctx.save_state();
    }
    Ok(())
}

/// One threshold's episode: `now` is `None` when it could not be measured
/// (nothing changes), `Some(Some(why))` when over, `Some(None)` when under.
/// Returns whether the state changed.
fn episode(ctx: &mut Ctx, name: &str, now: Option<Option<String>>) -> Result<bool> {
    let Some(over) = now else { return Ok(false) };
    let active = ctx.state.early.active.iter().any(|a| a == name);
    let (kind, note) = match (over, active) {
        (Some(why), false) => {
            ctx.state.early.active.push(name.to_string());
            ctx.log.warn(format!("early warning: {why}"));
            (Kind::EarlyWarning, why)
        }
        (None, true) => {
            ctx.state.early.active.retain(|a| a != name);
            let what = match name {
                "rss" => "the service's memory",
                "disk" => "free disk space",
                _ => "the probe's latency",
            };
            ctx.log.act(format!("early warning over: {what} is back"));
            (
                Kind::EarlyResolved,
                format!("{what} is back within its threshold"),
            )
        }
        _ => return Ok(false),
    };
    let facts = Facts {
        host: ctx.host.clone(),
        url: ctx.config.shown_url.clone(),
        note: Some(note),
        commands: vec!["selfheal status".into()],
        ..Facts::default()
    };
    outbox::send(ctx, kind, &facts, Spool::Outbox)?;
    Ok(true)
}

/// Resident memory of `pid` in bytes.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    if cfg!(target_os = "linux") {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        return Some(kb * 1024);
    }
    let pid = pid.to_string();
    let (ok, out) = process::output(
        &["ps", "-o", "rss=", "-p", &pid],
        std::time::Duration::from_secs(2),
    )?;
    let kb: u64 = out.trim().parse().ok().filter(|_| ok)?;
    Some(kb * 1024)
}

/// The service's working directory (Linux), whose filesystem it writes to.
fn service_dir(pid: u32) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

/// Free (for an unprivileged user) and total bytes of `dir`'s filesystem.
fn free_space(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes only into `st`; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    #[allow(clippy::useless_conversion)]
    let frsize = u64::from(st.f_frsize);
    #[allow(clippy::useless_conversion)]
    let (avail, blocks) = (u64::from(st.f_bavail), u64::from(st.f_blocks));
    Some((avail.saturating_mul(frsize), blocks.saturating_mul(frsize)))
}
