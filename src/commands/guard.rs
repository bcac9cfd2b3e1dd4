//! `selfheal guard -- COMMAND…`: a change on probation. Before, a copy of
//! the watched files and the install's identity; COMMAND runs (no shell,
//! its output passed through, interactive on a terminal, bounded); the
//! service is restarted if COMMAND did not; then probation — healthy within
//! its boot bound and still healthy for `--for`. Failed: the files are put
//! back (the user's moved aside) and the last working install reinstalled
//! when it changed, restarted, confirmed, said, exit 1. Passed: the new
//! state is the last working one. The run lock is held throughout, so a
//! scheduled check never heals in the middle of the change.
//!
//! Must not: undo anything after Ctrl-C (it says what it would have done),
//! or lose a user's file.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::Verdict;
use crate::alert::outbox::{self, Spool};
use crate::alert::Kind;
use crate::ctx::{Ctx, Mode};
use crate::error::{Error, Result};
use crate::fmt::fmt_secs;
use crate::key::shellwords;
use crate::ladder::rollback::{self, Change};
use crate::ladder::start::Start;
use crate::ladder::{boot, install, level4, restart, service};
use crate::probe::Probe;
use crate::sys::install::Identity;
use crate::sys::log;

/// What `guard` was asked.
pub struct Guard<'a> {
    pub probation: Duration,
    pub timeout: Duration,
    pub argv: &'a [String],
}

/// The watched files and the install, as they were before the change.
struct Before {
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
    install: Option<Identity>,
    process: Option<String>,
}

pub fn run(ctx: &mut Ctx, g: &Guard) -> Result<Verdict> {
    ctx.load_state()?;
    let before = Before {
        files: ctx
            .config
            .watch_files
            .iter()
            .map(|f| {
                let bytes = rollback::watched(f).ok().flatten().map(|(b, _)| b);
                (f.clone(), bytes)
            })
            .collect(),
        install: install::now(ctx),
        process: process_now(ctx),
    };
    let boot = boot::wait(ctx.config).limit;
    if ctx.mode == Mode::DryRun {
        plan(g, &before, boot);
        return Ok(Verdict::Ok);
    }
    let was = ctx.probe();
    if !was.healthy() {
        ctx.log.warn(format!(
            "guard: the service is not healthy before the change ({}); probation judges \
             what comes after it",
            was.reason
        ));
    }
    // Any start of the service from here on (COMMAND's or ours) is judged
    // on evidence: one that evidently failed ends the wait for its boot.
    let mut start = Start::begin(ctx);
    ctx.log
        .act(format!("guard: running {}", shellwords::join(g.argv)));
    let status = command(g)?;
    ctx.log.info(format!("guard: the command {status}"));
    // The same process (or none, before and after): COMMAND did not
    // restart it. A process where there was none is one COMMAND started and
    // may still be booting: it is not restarted under it.
    if process_now(ctx) == before.process {
        restart::run_command(ctx, restart::Cmd::Restart)?;
    } else {
        ctx.log
            .info("guard: the command restarted the service itself");
    }
    match probation(ctx, g, boot, &mut start) {
        Ok(Ok(())) => {
            // The new files and install are the last working ones.
            rollback::keep_good(ctx);
            let (pid, _) = service::remember(ctx);
            install::observe(ctx, pid);
            ctx.save_state();
            let line = format!(
                "guard: passed: healthy for {} after the change; it is now the last working one",
                fmt_secs(g.probation)
            );
            ctx.log.info(&line);
            log::print(&format!("{line}\n"));
            Ok(Verdict::Ok)
        }
        Ok(Err(why)) => undo(ctx, &before, &why, boot),
        Err(Error::Interrupted(sig)) => {
            let would = would_undo(ctx, &before);
            let line = format!(
                "guard: interrupted during probation: nothing was undone, the change stays; it \
                 would have {}",
                if would.is_empty() {
                    "had nothing to undo".to_string()
                } else {
                    format!("undone: {}", would.join("; "))
                }
            );
            ctx.log.warn(&line);
            log::print(&format!("{line}\n"));
            Err(Error::Interrupted(sig))
        }
        Err(e) => Err(e),
    }
}

/// The service's process now: its pid and start, to tell whether COMMAND
/// restarted it.
fn process_now(ctx: &mut Ctx) -> Option<String> {
    let (pid, _) = service::remember(ctx);
    let p = crate::sys::procs::info(pid?)?;
    Some(format!("{}:{}", p.pid, p.started))
}

/// Runs COMMAND with the terminal (when there is one, it stays in the
/// foreground group so that an editor can read it), killed at `--timeout`.
fn command(g: &Guard) -> Result<String> {
    let Some((program, args)) = g.argv.split_first() else {
        return Err(Error::Usage("guard: the COMMAND is missing".into()));
    };
    let interactive = unsafe { libc::isatty(0) } == 1;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    if !interactive {
        cmd.process_group(0).stdin(std::process::Stdio::null());
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::Setup(format!("guard: cannot run {program:?}: {e}")))?;
    let until = Instant::now() + g.timeout;
    loop {
        if let Some(s) = child
            .try_wait()
            .map_err(|e| Error::io("wait", program, e))?
        {
            return Ok(match (s.code(), s.signal()) {
                (Some(c), _) => format!("exited {c}"),
                (None, Some(sig)) => format!("was killed by signal {sig}"),
                _ => "ended".into(),
            });
        }
        if Instant::now() >= until {
            if interactive {
                // In the terminal's group, not one of its own: it alone.
                // SAFETY: a signal to the child we started, not yet reaped.
                unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
                std::thread::sleep(crate::sys::process::KILL_GRACE);
                let _ = child.kill();
                let _ = child.wait();
            } else {
                crate::sys::process::kill_group(&mut child);
            }
            return Ok(format!("was killed at --timeout {}", fmt_secs(g.timeout)));
        }
        // Ctrl-C reaches an interactive command too; its end decides. One
        // in a group of its own is ended, bounded like every command.
        if let Err(e) = crate::sys::clock::check_signal() {
            if interactive {
                let _ = child.wait();
            } else {
                crate::sys::process::kill_group(&mut child);
            }
            return Err(e);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Healthy within the boot bound, then still healthy for `--for`. The
/// outer `Err` is a signal; the inner one why it failed.
fn probation(
    ctx: &mut Ctx,
    g: &Guard,
    boot: Duration,
    start: &mut Start,
) -> Result<std::result::Result<(), String>> {
    let (up, failed) = restart::wait_boot(ctx, boot, start)?;
    if let Some(why) = failed {
        return Ok(Err(format!("it did not start after the change: {why}")));
    }
    if !up.healthy() {
        return Ok(Err(format!(
            "not healthy within {} of the change: {}",
            fmt_secs(boot),
            up.reason
        )));
    }
    ctx.log.info(format!(
        "guard: healthy; on probation for {} (probing every {})",
        fmt_secs(g.probation),
        fmt_secs(ctx.config.poll_interval)
    ));
    let start = ctx.clock.now();
    while ctx.clock.now() - start < g.probation {
        ctx.clock.sleep(ctx.config.poll_interval)?;
        let p = ctx.probe();
        if !p.healthy() {
            // One more look: a blip is not a verdict.
            ctx.clock.sleep(ctx.config.poll_interval)?;
            let again = ctx.probe();
            if !again.healthy() {
                return Ok(Err(format!(
                    "unhealthy {} into probation: {}",
                    fmt_secs(ctx.clock.now() - start),
                    again.reason
                )));
            }
        }
    }
    Ok(Ok(()))
}

/// The files that differ from their copy from before.
fn changed_files(before: &Before) -> Vec<Change> {
    before
        .files
        .iter()
        .filter_map(|(file, old)| {
            let old = old.clone()?;
            let now = rollback::watched(file).ok()?.map(|(b, _)| b);
            (now.as_deref() != Some(&old[..])).then(|| Change {
                file: file.clone(),
                good: file.clone(),
                current: now,
                good_bytes: old,
            })
        })
        .collect()
}

/// The install to put back, when it changed.
fn changed_install(ctx: &mut Ctx, before: &Before) -> Option<Identity> {
    let old = before.install.clone()?;
    (install::now(ctx).as_ref() != Some(&old)).then_some(old)
}

/// What undoing would do, in words.
fn would_undo(ctx: &mut Ctx, before: &Before) -> Vec<String> {
    let mut would: Vec<String> = changed_files(before)
        .iter()
        .map(|c| format!("put {} back", c.file.display()))
        .collect();
    if let Some(old) = changed_install(ctx, before) {
        would.push(format!("reinstalled {}", old.name()));
    }
    would
}

fn undo(ctx: &mut Ctx, before: &Before, why: &str, boot: Duration) -> Result<Verdict> {
    ctx.log
        .warn(format!("guard: failed: {why}; undoing the change"));
    let mut undone = Vec::new();
    let changes = changed_files(before);
    if !changes.is_empty() {
        match rollback::restore(changes) {
            Ok(restored) => {
                for r in restored {
                    undone.push(match &r.aside {
                        Some(a) => format!(
                            "{} put back (the changed version is at {})",
                            r.change.file.display(),
                            a.display()
                        ),
                        None => format!("{} put back", r.change.file.display()),
                    });
                }
            }
            Err(e) => ctx
                .log
                .warn(format!("guard: the files could not be put back: {e}")),
        }
    }
    if let Some(old) = changed_install(ctx, before) {
        match crate::sys::install::reinstall_argv(&ctx.config.reinstall_cmd, &old) {
            Some(argv) => {
                ctx.log.act(format!(
                    "guard: reinstalling {}: {}",
                    old.name(),
                    shellwords::join(&argv)
                ));
                let done = ctx.run_command(&argv, ctx.config.reinstall_timeout)?;
                if done.success() {
                    undone.push(format!("{} reinstalled", old.name()));
                } else {
                    ctx.log.warn(format!(
                        "guard: the reinstall {}: {}",
                        done.describe(),
                        done.last_line().unwrap_or("")
                    ));
                }
            }
            None => ctx.log.warn(format!(
                "guard: {} cannot be put back: set SELFHEAL_REINSTALL_CMD",
                old.name()
            )),
        }
    }
    restart::run_command(ctx, restart::Cmd::Restart)?;
    let after = ctx.wait_healthy(boot)?;
    let said = format!(
        "guard: the change failed probation ({why}); undone: {}; {}",
        if undone.is_empty() {
            "nothing (nothing it changed could be put back)".to_string()
        } else {
            undone.join("; ")
        },
        if after.healthy() {
            "healthy again".to_string()
        } else {
            format!("STILL UNHEALTHY: {}", after.reason)
        }
    );
    ctx.log.warn(&said);
    log::print(&format!("{said}\n"));
    if !undone.is_empty() {
        tell(ctx, &after, &said)?;
    }
    Ok(Verdict::Unhealthy)
}

fn tell(ctx: &mut Ctx, probe: &Probe, said: &str) -> Result<()> {
    let mut f = level4::facts(ctx, probe, Vec::new(), None);
    f.note = Some(said.to_string());
    outbox::send(ctx, Kind::GuardUndone, &f, Spool::Outbox).map(|_| ())
}

fn plan(g: &Guard, before: &Before, boot: Duration) {
    let files: Vec<String> = before
        .files
        .iter()
        .map(|(f, b)| {
            format!(
                "{}{}",
                f.display(),
                if b.is_none() { " (missing)" } else { "" }
            )
        })
        .collect();
    let install = before
        .install
        .as_ref()
        .map_or("nothing known".to_string(), Identity::name);
    log::print(&format!(
        "would keep a copy of {} and note the install ({install})\n\
         would run {} (up to {}), then restart the service unless it did\n\
         would then want it healthy within {} and for {} more\n\
         if not: would put the files back (the changed ones moved aside), reinstall {install} \
         if it changed, restart, and send a warning\n",
        if files.is_empty() {
            "no watched files".to_string()
        } else {
            files.join(", ")
        },
        shellwords::join(g.argv),
        fmt_secs(g.timeout),
        fmt_secs(boot),
        fmt_secs(g.probation),
    ));
}
