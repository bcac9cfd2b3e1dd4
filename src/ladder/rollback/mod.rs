//! The last working config: on a healthy run, a copy of each watched file
//! (`SELFHEAL_WATCH_FILES`) that changed since its last kept version; during
//! an incident, after the first failed restart, the rung that puts the last
//! working version back when the file differs from it.
//!
//! The rung (`ROLLBACK`) runs after the first failed restart (or at once in
//! a crash loop) when a watched file differs from its last working version.
//!
//! The user's file is never deleted or edited: it is renamed aside
//! (`openclaw.json.selfheal-<time>`) and the kept version is written next to
//! it under the real name (temp file, same mode and owner, rename). When the
//! service is not healthy after that, the rename is undone, so that the file
//! is byte for byte what it was. Copies live in `last-good/` of the memory
//! directory, 0600, the last `KEEP` distinct versions of each file.

use std::time::Duration;

use super::brake::{self, Gate};
use super::restart::{attempt_bound, restart};
use super::{Climb, Outcome, Rung};
use crate::config::Config;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::key::values::Switch;
use crate::sys::metrics::{Metric, HEALTH_FILE};

mod diff;
mod kept;

pub use diff::diff;
use kept::replaced;
pub use kept::{
    changes, keep_good, restore, undo, versions, watched, Change, Restored, CHECK_OUTPUT, DIR, MAX,
};

pub struct Rollback;
pub const ROLLBACK: Rollback = Rollback;

impl Rung for Rollback {
    fn bound(&self, c: &Config) -> Duration {
        match c.rollback == Switch::Off || c.watch_files.is_empty() || c.restart_cmd.is_empty() {
            true => Duration::ZERO,
            false => attempt_bound(c),
        }
    }

    fn plan(&self, ctx: &Ctx, _: &Climb) -> Vec<String> {
        if ctx.config.rollback == Switch::Off {
            return Vec::new();
        }
        changes(ctx)
            .iter()
            .map(|ch| {
                format!(
                    "would restore the last working version of {} after the first failed \
                     attempt (your version moved aside, put back if that does not help); \
                     `selfheal rollback --dry-run` shows what differs",
                    ch.file.display()
                )
            })
            .collect()
    }

    fn run(&self, ctx: &mut Ctx, climb: &mut Climb) -> crate::error::Result<Option<Outcome>> {
        if ctx.config.rollback == Switch::Off || !climb.restart_failed() {
            return Ok(None);
        }
        let changes = changes(ctx);
        if changes.is_empty() {
            return Ok(None);
        }
        let names = names(&changes);
        if let Some(why) = not_on_a_hunch(ctx, climb) {
            ctx.log
                .info(format!("level 2: not restoring {names}: {why}"));
            climb.ev.step(format!("not restoring {names}: {why}"), &[]);
            return Ok(None);
        }
        if let Some(why) = still_up(ctx) {
            ctx.log.info(format!(
                "level 2: not restoring {names} now: {why}; a file is never changed under a \
                 service that may be starting"
            ));
            return Ok(None);
        }
        Ok(match roll_back(ctx, climb, changes)? {
            RolledBack::NotPossible(e) => {
                ctx.log.warn(format!("level 2: rollback not possible: {e}"));
                None
            }
            RolledBack::Kept(restored) => Some(Outcome::ByRollback(restored)),
            RolledBack::Undone => None,
        })
    }
}

/// Why the user's file is not to be replaced, when nothing says it is what
/// fails: the service's own validator accepts it and the start did not
/// evidently fail because of it; or the crash-loop brake held before any
/// restart with it (a restart with the user's file comes first).
fn not_on_a_hunch(ctx: &Ctx, climb: &mut Climb) -> Option<String> {
    use crate::openclaw::Validation;
    climb.settle(ctx);
    let invalid = matches!(climb.validation, Some(Validation::Invalid(_)));
    if climb.attempts == 0 && !invalid {
        return Some(
            "the crash-loop brake holds, and no restart with the user's version has failed yet"
                .into(),
        );
    }
    let blamed = climb
        .start_failed
        .as_deref()
        .is_some_and(|why| why.to_ascii_lowercase().contains("config"));
    (matches!(climb.validation, Some(Validation::Valid)) && !blamed).then(|| {
        "the service's own check (`openclaw config validate`) accepts it and nothing says the \
         start failed because of it"
            .to_string()
    })
}

/// How a rollback ended.
pub enum RolledBack {
    /// Healthy with the last working versions: they stay.
    Kept(Vec<Restored>),
    /// Not healthy: the user's files are back (or the log says which are not).
    Undone,
    /// Nothing was restored (the files could not be written or moved).
    NotPossible(Error),
}

/// Restores the last working versions of `changes`, restarts and waits for
/// the boot; keeps them when healthy, else puts the user's files back — but
/// only once the service is down: a file never changes under a service that
/// may be starting on it. The `rollback` metric either way. (`selfheal
/// rollback` runs it too.)
pub fn roll_back(ctx: &mut Ctx, climb: &mut Climb, changes: Vec<Change>) -> Result<RolledBack> {
    let names = names(&changes);
    let at = ctx.clock.now();
    let restored = match restore(changes) {
        Ok(restored) => restored,
        Err(e) => return Ok(RolledBack::NotPossible(e)),
    };
    // Until the verdict, the state says which files are replaced: a run
    // killed during the restart leaves them for the next to finish or undo.
    ctx.state.rollback = Some(record(&restored));
    ctx.save_state();
    let verdict = verdict(ctx, climb, &names, at, restored);
    ctx.state.rollback = None;
    ctx.save_state();
    verdict
}

/// The restart after a restore, and what it means for the files.
fn verdict(
    ctx: &mut Ctx,
    climb: &mut Climb,
    names: &str,
    at: std::time::Instant,
    restored: Vec<Restored>,
) -> Result<RolledBack> {
    ctx.log.act(format!(
        "level 2: {names} differ(s) from the last working version: restored it, the user's \
         version moved aside"
    ));
    let label = "after restoring the last working config";
    let probe = restart(ctx, climb, climb.attempts.max(1), label)?;
    brake::restarted(ctx, &Gate::Open);
    let took = (ctx.clock.now() - at).as_secs_f64();
    if probe.healthy() {
        ctx.record(HEALTH_FILE, Metric::new("rollback", "success", took));
        return Ok(RolledBack::Kept(restored));
    }
    ctx.record(HEALTH_FILE, Metric::new("rollback", "failed", took));
    let said = match still_up(ctx) {
        Some(why) => {
            let aside: Vec<String> = restored
                .iter()
                .filter_map(|r| r.aside.as_ref().map(|a| a.display().to_string()))
                .collect();
            format!(
                "the restored version stays: {why}, and a file is never changed under a \
                 service that may be starting on it; the user's version is at {}",
                aside.join(", ")
            )
        }
        None => {
            let problems = undo(&restored);
            if problems.is_empty() {
                "the user's version is back, byte for byte".to_string()
            } else {
                format!("NOT PUT BACK: {}", problems.join("; "))
            }
        }
    };
    ctx.log.warn(format!(
        "level 2: still unhealthy with the last working config ({}); {said}",
        probe.reason
    ));
    let told = format!("restored the last working {names}: did not help; {said}");
    climb.summary.rollback = Some(told.clone());
    climb.ev.step(told, &[]);
    Ok(RolledBack::Undone)
}

/// What the state keeps of a rollback in progress.
fn record(restored: &[Restored]) -> crate::state::RollbackRecord {
    crate::state::RollbackRecord {
        at: crate::sys::clock::unix_now(),
        files: restored
            .iter()
            .map(|r| crate::state::Replaced {
                file: r.change.file.clone(),
                aside: r.aside.clone(),
                good: r.change.good.clone(),
            })
            .collect(),
    }
}

/// The rollback of a run that died between its restore and its verdict:
/// kept when the service is healthy on it (and said, as any rollback
/// that healed), undone when the service is down, left for the next run
/// while it may be starting. Only watched files and the aside names
/// selfheal gives are touched, whatever the state says. What was done, for
/// the note of the run that died.
pub fn unfinished(ctx: &mut Ctx) -> Result<Option<String>> {
    let Some(record) = ctx.state.rollback.take() else {
        return Ok(None);
    };
    let restored: Vec<Restored> = record
        .files
        .iter()
        .filter_map(|r| replaced(ctx.config, r))
        .collect();
    ctx.save_state();
    if restored.is_empty() {
        return Ok(None);
    }
    let names = names(
        &restored
            .iter()
            .map(|r| r.change.clone())
            .collect::<Vec<_>>(),
    );
    let probe = ctx.probe();
    if probe.healthy() {
        ctx.log.warn(format!(
            "the run before this one died during a rollback of {names}; the service is healthy \
             on the restored version: kept"
        ));
        let mut f = super::level4::facts(ctx, &probe, Vec::new(), None);
        f.note = Some(format!(
            "A run of selfheal died before it could tell: the service is healthy on the \
             restored version, which stays.\n{}",
            note(&restored)
        ));
        f.commands = vec!["selfheal rollback --list".to_string()];
        crate::alert::outbox::send(
            ctx,
            crate::alert::Kind::RolledBack,
            &f,
            crate::alert::outbox::Spool::Outbox,
        )?;
        return Ok(Some(format!(
            "the service is healthy on the restored {names}, which stays"
        )));
    }
    if let Some(why) = still_up(ctx) {
        ctx.log.info(format!(
            "the run before this one died during a rollback of {names}; not undone now: {why} \
             (a file is never changed under a service that may be starting)"
        ));
        ctx.state.rollback = Some(record);
        ctx.save_state();
        return Ok(None);
    }
    let problems = undo(&restored);
    let said = if problems.is_empty() {
        format!("the service is down, so the user's {names} is back, byte for byte")
    } else {
        format!("the service is down; NOT PUT BACK: {}", problems.join("; "))
    };
    ctx.log.warn(format!(
        "the run before this one died during a rollback: {said}"
    ));
    Ok(Some(format!("a rollback it began was undone: {said}")))
}

fn names(changes: &[Change]) -> String {
    let names: Vec<String> = changes
        .iter()
        .map(|c| c.file.display().to_string())
        .collect();
    names.join(", ")
}

/// Why the service may still be up or starting (`None`: it is down: its
/// port refuses, no process of its own runs, its manager is not starting
/// it). Files are changed only when it is down.
pub fn still_up(ctx: &Ctx) -> Option<String> {
    let probe = ctx.probe();
    if !probe.refused() {
        return Some(format!("its port answers ({})", probe.reason));
    }
    if let Some(p) = super::service::processes(ctx).first() {
        return Some(format!("a process of the service (pid {}) runs", p.pid));
    }
    let state = super::evidence::Manager::of(ctx.config, ctx.openclaw()).and_then(|m| m.state())?;
    use super::evidence::manager::Activity;
    matches!(state.activity, Activity::Starting | Activity::Running).then_some(state.view)
}

/// What the alert says of a rollback that healed: which files, where the
/// user's versions are, what differed.
pub fn note(restored: &[Restored]) -> String {
    let mut note = String::new();
    for r in restored {
        let name = r
            .change
            .file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        note.push_str(&format!(
            "Restored the last working {name} ({}). ",
            r.change.file.display()
        ));
        match &r.aside {
            Some(a) => note.push_str(&format!("Your version is kept at {}.", a.display())),
            None => note.push_str("There was no file."),
        }
        note.push_str("\nWhat differed (- yours, + restored):\n");
        note.push_str(&diff(r.change.current.as_deref(), &r.change.good_bytes, 12).join("\n"));
        note.push('\n');
    }
    note.trim_end().to_string()
}
