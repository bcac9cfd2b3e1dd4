//! The last working install. While the service is healthy its install's
//! identity is remembered (`sys::install`: a stat per run, `package.json`
//! read only when the stat changed); an install becomes a *working* one
//! only once a process of the service that started after it was installed
//! answers healthy — an update sitting on disk under the old, still
//! running process is not working yet, and a version that failed is not
//! working until it has run healthy. At an incident that follows a change
//! of install, the evidence says so first; after the first failed restart,
//! when the install changed since it last worked (or its executable is
//! gone), the `REINSTALL` rung puts the last working version back
//! (`SELFHEAL_REINSTALL_CMD`, npm's own by default), restarts and waits.
//!
//! Must not: reinstall while the service may be starting, or when nothing
//! changed (a restart that fails on the same install is not the install's
//! fault).

use std::path::PathBuf;
use std::time::Duration;

use super::restart::restart;
use super::{Climb, Outcome, Rung};
use crate::config::Config;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::{between, fmt_secs};
use crate::key::shellwords;
use crate::key::values::Switch;
use crate::sys::clock::unix_now;
use crate::sys::install::{self, Identity, InstallState, Layout, Working};
use crate::sys::metrics::{Metric, HEALTH_FILE};

/// How many working installs are kept, newest first.
const KEPT: usize = 5;
/// How often the time a working install was seen working is refreshed.
const SEEN_EVERY: i64 = 3600;

/// The executable whose install is watched: `SELFHEAL_INSTALL_BIN`, else
/// OpenClaw's `openclaw` (as the restart command runs it), else the restart
/// command's program when it is not a service manager or a shell; else the
/// one remembered (an update may have removed it).
fn bin(ctx: &Ctx) -> Option<PathBuf> {
    let c = ctx.config;
    if let Some(b) = &c.install_bin {
        return Some(b.clone());
    }
    let found = if ctx.openclaw() {
        crate::openclaw::program(&c.restart_cmd)
    } else {
        c.restart_cmd.first().and_then(|p| {
            let name = p.rsplit('/').next().unwrap_or(p);
            let managers = [
                "systemctl",
                "launchctl",
                "docker",
                "podman",
                "sh",
                "bash",
                "sudo",
                "env",
                "brew",
                "service",
            ];
            (!managers.contains(&name)).then(|| crate::sys::which::find_program(p))?
        })
    };
    found.or_else(|| {
        ctx.state
            .install
            .as_ref()
            .and_then(|i| i.current.as_ref().map(|c| c.bin.clone()))
    })
}

/// The identity at `bin`, with `SELFHEAL_VERSION_CMD`'s answer for an
/// install that is not an npm package.
fn read(ctx: &mut Ctx, bin: &std::path::Path) -> Option<Identity> {
    let mut id = install::read(bin)?;
    if id.layout == Layout::Other && !ctx.config.version_cmd.is_empty() {
        let argv = ctx.config.version_cmd.clone();
        if let Ok(done) = ctx.run_command(&argv, Duration::from_secs(10)) {
            if done.success() {
                id.version = done
                    .output
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or("")
                    .chars()
                    .take(80)
                    .collect();
            }
        }
    }
    Some(id)
}

/// What is installed now (for `guard`'s before and after).
pub fn now(ctx: &mut Ctx) -> Option<Identity> {
    let bin = bin(ctx)?;
    read(ctx, &bin)
}

/// The healthy path: what is installed, and whether it is working now.
/// `pid`: the service's process, when known. Saves the state only when
/// something changed.
pub fn observe(ctx: &mut Ctx, pid: Option<u32>) {
    let Some(bin) = bin(ctx) else {
        return;
    };
    let stamp = install::stamp(&bin);
    let now = unix_now();
    let known = ctx.state.install.clone().unwrap_or_default();
    let mut st = known.clone();
    if stamp != st.stamp {
        st.stamp = stamp;
        st.current = read(ctx, &bin);
        st.changed_at = install::changed_at(&bin).map(|t| t.min(now as f64));
    }
    if let Some(cur) = st.current.clone() {
        let newest = st.working.first().map(|w| &w.identity);
        if newest == Some(&cur) {
            if let Some(w) = st
                .working
                .first_mut()
                .filter(|w| now - w.seen >= SEEN_EVERY)
            {
                w.seen = now;
            }
        } else if runs_since(pid, st.changed_at) {
            st.working.retain(|w| w.identity != cur);
            st.working.insert(
                0,
                Working {
                    identity: cur.clone(),
                    seen: now,
                },
            );
            st.working.truncate(KEPT);
            st.failed.retain(|v| *v != cur.version);
            ctx.log.info(format!(
                "{} works: kept as the last working install",
                cur.name()
            ));
        }
    }
    if Some(&st) != ctx.state.install.as_ref() {
        ctx.state.install = Some(st);
        ctx.save_state();
    }
}

/// Whether the healthy process started after the install changed: only
/// then is the install on disk the one that works. Unknown process or
/// time: yes (nothing better is known).
fn runs_since(pid: Option<u32>, changed_at: Option<f64>) -> bool {
    let (Some(pid), Some(changed)) = (pid, changed_at) else {
        return true;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    match crate::sys::procs::info(pid) {
        // Its start is known to a clock tick (10 ms); the install's time
        // to the nanosecond.
        Some(p) => now - p.age.as_secs_f64() > changed - 0.02,
        None => true,
    }
}

/// How the install differs from the last working one, now.
pub enum Change {
    /// The executable is gone (an install that stopped halfway).
    Gone { bin: PathBuf },
    /// Another version (or another install) than the one that worked.
    Updated { to: Identity, at: Option<i64> },
}

/// The install now against the last working one; `None` when the same or
/// nothing is known.
pub fn change(ctx: &mut Ctx) -> Option<(Change, Working)> {
    let last = ctx.state.install.as_ref()?.working.first()?.clone();
    let bin = bin(ctx).unwrap_or_else(|| last.identity.bin.clone());
    if install::stamp(&bin) == "missing" {
        return Some((Change::Gone { bin }, last));
    }
    let now = read(ctx, &bin)?;
    if now == last.identity {
        return None;
    }
    let at = install::changed_at(&bin).map(|t| t as i64);
    Some((Change::Updated { to: now, at }, last))
}

/// The evidence's first line about the install: "updated from 2026.9.5 to
/// 2026.9.6 at 03:12 (42 min before the failure)".
pub fn evidence_line(ctx: &mut Ctx) -> Option<String> {
    let (change, last) = change(ctx)?;
    Some(match change {
        Change::Gone { bin } => format!(
            "the executable {} is gone (an install that stopped halfway?); {} was the last \
             working install",
            bin.display(),
            last.identity.name()
        ),
        Change::Updated { to, at } => {
            let when = at.map_or(String::new(), |t| {
                format!(
                    " at {} ({} before the failure)",
                    crate::sys::log::clock_time(t),
                    fmt_secs(between(t, unix_now()))
                )
            });
            let from = if last.identity.package == to.package && !to.version.is_empty() {
                format!(
                    "{} from {} to {}",
                    to.package, last.identity.version, to.version
                )
            } else {
                format!("from {} to {}", last.identity.name(), to.name())
            };
            format!("updated {from}{when}")
        }
    })
}

/// Level 2: the last working install back.
pub struct Reinstall;
pub const REINSTALL: Reinstall = Reinstall;

impl Rung for Reinstall {
    fn bound(&self, c: &Config) -> Duration {
        match c.reinstall {
            Switch::Off => Duration::ZERO,
            Switch::On => c.reinstall_timeout + super::restart::attempt_bound(c),
        }
    }

    fn plan(&self, ctx: &Ctx, _: &Climb) -> Vec<String> {
        let c = ctx.config;
        // A dry run reads the state without loading it.
        let st = ctx
            .state
            .install
            .clone()
            .or_else(|| crate::state::peek(&c.memory_dir).and_then(|s| s.install));
        let Some(last) = st.as_ref().and_then(|i| i.working.first()) else {
            return Vec::new();
        };
        if c.reinstall == Switch::Off {
            return vec![format!(
                "would not reinstall {} (SELFHEAL_REINSTALL=off)",
                last.identity.name()
            )];
        }
        match install::reinstall_argv(&c.reinstall_cmd, &last.identity) {
            Some(argv) => vec![format!(
                "if the install changed since it last worked: would reinstall {} with `{}` \
                 (up to {}), then restart",
                last.identity.name(),
                shellwords::join(&argv),
                fmt_secs(c.reinstall_timeout)
            )],
            None => vec![format!(
                "could not reinstall {}: no SELFHEAL_REINSTALL_CMD and not an npm package",
                last.identity.name()
            )],
        }
    }

    fn run(&self, ctx: &mut Ctx, climb: &mut Climb) -> Result<Option<Outcome>> {
        let c = ctx.config;
        // After the first failed restart; a restart that could not even run
        // (the executable is gone) counts.
        if c.reinstall == Switch::Off || (climb.attempts == 0 && climb.hopeless.is_none()) {
            return Ok(None);
        }
        let Some((change, last)) = change(ctx) else {
            return Ok(None);
        };
        let Some(argv) = install::reinstall_argv(&c.reinstall_cmd, &last.identity) else {
            ctx.log.warn(format!(
                "level 2: the install changed since {} worked, and there is no way to put it \
                 back (set SELFHEAL_REINSTALL_CMD)",
                last.identity.name()
            ));
            return Ok(None);
        };
        if let Some((why, _)) = super::start::under_way(ctx, climb.boot.limit) {
            ctx.log.info(format!(
                "level 2: not reinstalling now: {why}; nothing is changed under a service that \
                 may be starting"
            ));
            return Ok(None);
        }
        let failing = match &change {
            Change::Gone { bin } => format!("{} was gone", bin.display()),
            Change::Updated { to, .. } => {
                let v = if to.version.is_empty() {
                    to.name()
                } else {
                    to.version.clone()
                };
                if let Some(st) = ctx.state.install.as_mut() {
                    if !to.version.is_empty() && !st.failed.contains(&to.version) {
                        st.failed.push(to.version.clone());
                    }
                }
                format!("{v} failed to start")
            }
        };
        let cause = climb
            .start_failed
            .clone()
            .or_else(|| climb.ev.telling_line().map(str::to_string))
            .unwrap_or_else(|| climb.probe.reason.clone());
        ctx.log.act(format!(
            "level 2: reinstalling {}, the last version that worked ({failing}): {}",
            last.identity.name(),
            shellwords::join(&argv)
        ));
        let at = ctx.clock.now();
        let done = ctx.run_command(&argv, c.reinstall_timeout)?;
        climb.ev.step(
            format!("reinstall {}: {}", last.identity.name(), done.describe()),
            &[],
        );
        if !done.success() {
            ctx.log.warn(format!(
                "level 2: the reinstall {} after {}: {}",
                done.describe(),
                fmt_secs(done.elapsed),
                done.last_line().unwrap_or("")
            ));
            ctx.record(
                HEALTH_FILE,
                Metric::new("reinstall", "failed", done.elapsed.as_secs_f64()),
            );
            ctx.save_state();
            return Ok(None);
        }
        // The program is back: restarts can help again.
        climb.hopeless = None;
        let label = format!("after reinstalling {}", last.identity.name());
        let probe = restart(ctx, climb, climb.attempts.max(1) + 1, &label)?;
        let took = (ctx.clock.now() - at).as_secs_f64();
        let result = if probe.healthy() { "success" } else { "failed" };
        ctx.record(
            HEALTH_FILE,
            Metric::new("reinstall", result, took).with("version", last.identity.version.as_str()),
        );
        ctx.save_state();
        if !probe.healthy() {
            ctx.log.warn(format!(
                "level 2: still unhealthy after reinstalling {}: {}",
                last.identity.name(),
                probe.reason
            ));
            return Ok(None);
        }
        Ok(Some(Outcome::ByReinstall(Reinstalled {
            to: last.identity.name(),
            failing,
            cause: crate::sys::redact::printable(&cause)
                .chars()
                .take(300)
                .collect(),
        })))
    }
}

/// What a reinstall that healed says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reinstalled {
    /// `openclaw 2026.9.5`.
    pub to: String,
    /// `2026.9.6 failed to start`, `/usr/local/bin/openclaw was gone`.
    pub failing: String,
    pub cause: String,
}

/// For `doctor`: what is installed, the last working install, and how it
/// would be put back.
pub fn describe(c: &Config, st: Option<&InstallState>) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    // Nothing remembered: no install watched (a service manager's restart
    // command), or no healthy check yet. Nothing to say either way.
    let Some(st) = st else {
        return lines;
    };
    if let Some(cur) = &st.current {
        lines.push(("install", format!("{} ({})", cur.name(), cur.bin.display())));
    }
    match st.working.first() {
        Some(w) => {
            let how = match (
                c.reinstall,
                install::reinstall_argv(&c.reinstall_cmd, &w.identity),
            ) {
                (Switch::Off, _) => "no reinstall (SELFHEAL_REINSTALL=off)".to_string(),
                (Switch::On, Some(argv)) => format!("put back with `{}`", shellwords::join(&argv)),
                (Switch::On, None) => {
                    "no way to put it back: set SELFHEAL_REINSTALL_CMD".to_string()
                }
            };
            lines.push((
                "last working install",
                format!(
                    "{}, seen working {}; {how}",
                    w.identity.name(),
                    crate::sys::log::clock_time(w.seen)
                ),
            ));
        }
        None => lines.push(("last working install", "none yet".into())),
    }
    if !st.failed.is_empty() {
        lines.push((
            "failed installs",
            format!(
                "{} (not working until they run healthy)",
                st.failed.join(", ")
            ),
        ));
    }
    lines
}
