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

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::brake::{self, Gate};
use super::restart::{attempt_bound, restart};
use super::{Climb, Outcome, Rung};
use crate::config::Config;
use crate::ctx::{Ctx, Mode};
use crate::error::{Error, Result};
use crate::key::values::Switch;
use crate::sys::clock::local_now;
use crate::sys::files;
use crate::sys::log::file_stamp;
use crate::sys::metrics::{Metric, HEALTH_FILE};

pub const DIR: &str = "last-good";
/// Where the service's own config check writes (in the tool directory).
pub const CHECK_OUTPUT: &str = ".config-check-output";
const KEEP: usize = 5;
/// A config file larger than this is not copied.
pub const MAX: u64 = 1 << 20;

/// `last-good/openclaw.json-1f2e3d4c`: the file's name and a hash of its
/// whole path, so that two watched files of the same name never mix.
fn store(memory: &Path, file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy());
    let hash = crate::sys::hash::fnv(file.as_os_str().as_encoded_bytes()) as u32;
    memory.join(DIR).join(format!("{name}-{hash:08x}"))
}

/// The kept versions of `file`, newest first.
pub fn versions(memory: &Path, file: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = fs::read_dir(store(memory, file))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_none_or(|n| n.as_encoded_bytes().first() != Some(&b'.'))
        })
        .collect();
    all.sort();
    all.reverse();
    all
}

/// A watched file's bytes and metadata (`None`: it is missing). It is read
/// without following a symlink at its name, never blocks on a FIFO, and
/// must be owned by the user selfheal runs as or by the owner of its
/// directory: selfheal as root must not copy a file a link in someone
/// else's directory points at, nor write one back chowned to them.
pub fn watched(file: &Path) -> Result<Option<(Vec<u8>, fs::Metadata)>> {
    let (f, meta) = match files::open_foreign(file, files::Links::Refuse) {
        Ok(opened) => opened,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    let me = files::uid();
    let dir_owner = file
        .parent()
        .and_then(|d| {
            fs::metadata(if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            })
            .ok()
        })
        .map(|m| m.uid());
    let reason = if meta.uid() != me && Some(meta.uid()) != dir_owner {
        Some(format!(
            "owned by uid {}, neither this user (uid {me}) nor the owner of its directory;              selfheal neither keeps nor restores it",
            meta.uid()
        ))
    } else if meta.nlink() > 1 {
        Some(format!(
            "it has {} hard links (a restore would part them); selfheal neither keeps nor              restores it",
            meta.nlink()
        ))
    } else {
        None
    };
    if let Some(reason) = reason {
        return Err(Error::Unsafe {
            path: file.into(),
            reason,
        });
    }
    Ok(Some((files::read_max(f, file, MAX)?, meta)))
}

/// The healthy path: keeps each watched file that changed since its last
/// kept version. Costs a `stat` per file when nothing changed (the copy
/// carries the file's mtime).
pub fn keep_good(ctx: &mut Ctx) {
    let c = ctx.config;
    if c.rollback == Switch::Off || ctx.mode == Mode::DryRun {
        return;
    }
    for file in &c.watch_files {
        // A stat first: the healthy path reads nothing when nothing changed.
        let Ok(meta) = fs::symlink_metadata(file) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX {
            continue;
        }
        let newest = versions(&c.memory_dir, file).into_iter().next();
        let same_stamp = newest
            .as_ref()
            .and_then(|n| fs::metadata(n).ok())
            .is_some_and(|m| {
                m.len() == meta.len()
                    && m.mtime() == meta.mtime()
                    && m.mtime_nsec() == meta.mtime_nsec()
            });
        if same_stamp {
            continue;
        }
        // Refused files are doctor's to explain; a line on every healthy
        // run would bury the log.
        let Ok(Some((bytes, meta))) = watched(file) else {
            continue;
        };
        if let Some(n) = &newest {
            if files::read_small_bytes(n, MAX).is_some_and(|b| b == bytes) {
                let _ = stamp(n, &meta);
                continue;
            }
        }
        // A gateway keeps running on the config it loaded: a file edited
        // since may be broken. OpenClaw can say so; other services cannot.
        // Unknown (no answer) is not valid: nothing new is kept then.
        if ctx.openclaw() {
            let capture = c.memory_dir.join(CHECK_OUTPUT);
            match crate::openclaw::validate_now(&c.restart_cmd, &capture) {
                crate::openclaw::Validation::Valid => {}
                crate::openclaw::Validation::Invalid(problem) => {
                    ctx.log.info(format!(
                        "{} changed but is not kept as the last working version: {problem}",
                        file.display()
                    ));
                    continue;
                }
                crate::openclaw::Validation::Unknown(why) => {
                    ctx.log.info(format!(
                        "{} changed but is not kept as the last working version yet: {why}",
                        file.display()
                    ));
                    continue;
                }
            }
        }
        match save(&c.memory_dir, file, &bytes, &meta) {
            Ok(path) => ctx.log.info(format!(
                "kept {} as its last working version ({})",
                file.display(),
                path.display()
            )),
            Err(e) => ctx.log.warn(format!("last working version not kept: {e}")),
        }
    }
}

fn save(memory: &Path, file: &Path, bytes: &[u8], meta: &fs::Metadata) -> Result<PathBuf> {
    let dir = store(memory, file);
    files::ensure_dir(&dir)?;
    // Two versions kept within one second (a quick fix after an edit) are
    // both kept: the second gets a suffix, which sorts after the first.
    let stamp_name = file_stamp(local_now());
    let path = std::iter::once(dir.join(&stamp_name))
        .chain((2..10).map(|n| dir.join(format!("{stamp_name}-{n}"))))
        .find(|p| fs::symlink_metadata(p).is_err())
        .unwrap_or_else(|| dir.join(&stamp_name));
    files::write_atomic(&path, bytes)?;
    stamp(&path, meta).map_err(|e| Error::io("set the time of", &path, e))?;
    for old in versions(memory, file).iter().skip(KEEP) {
        let _ = fs::remove_file(old);
    }
    Ok(path)
}

/// Gives a copy its original's mtime: the healthy path compares stamps.
fn stamp(copy: &Path, meta: &fs::Metadata) -> std::io::Result<()> {
    let time = meta.modified()?;
    fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(copy)?
        .set_modified(time)
}

/// A watched file that differs from its last working version.
#[derive(Debug, Clone)]
pub struct Change {
    pub file: PathBuf,
    pub good: PathBuf,
    /// The user's version (`None`: the file is missing).
    pub current: Option<Vec<u8>>,
    pub good_bytes: Vec<u8>,
}

/// The watched files that differ from their newest kept version.
pub fn changes(ctx: &Ctx) -> Vec<Change> {
    let c = ctx.config;
    c.watch_files
        .iter()
        .filter_map(|file| {
            let good = versions(&c.memory_dir, file).into_iter().next()?;
            let good_bytes = files::read_small_bytes(&good, MAX)?;
            let current = watched(file).ok()?.map(|(bytes, _)| bytes);
            (current.as_deref() != Some(&good_bytes[..])).then(|| Change {
                file: file.clone(),
                good,
                current,
                good_bytes,
            })
        })
        .collect()
}

/// What was done to one file, to keep or undo.
#[derive(Debug, Clone)]
pub struct Restored {
    pub change: Change,
    /// Where the user's version was moved (`None`: there was none).
    pub aside: Option<PathBuf>,
}

/// Moves each changed file aside and writes its last working version in
/// its place. Stops at the first failure, undoing what it did.
pub fn restore(changes: Vec<Change>) -> Result<Vec<Restored>> {
    let mut done = Vec::new();
    for change in changes {
        match restore_one(&change) {
            Ok(aside) => done.push(Restored { change, aside }),
            Err(e) => {
                undo(&done);
                return Err(e);
            }
        }
    }
    Ok(done)
}

fn restore_one(change: &Change) -> Result<Option<PathBuf>> {
    let file = &change.file;
    let meta = fs::symlink_metadata(file).ok();
    let aside = meta.as_ref().map(|_| {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        file.with_file_name(format!("{name}.selfheal-{}", file_stamp(local_now())))
    });
    let tmp = file.with_file_name(format!(
        ".{}.selfheal-tmp",
        file.file_name().unwrap_or_default().to_string_lossy()
    ));
    let _ = fs::remove_file(&tmp);
    let mode = meta.as_ref().map_or(0o600, |m| m.mode() & 0o7777);
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        f.write_all(&change.good_bytes)?;
        if let Some(m) = &meta {
            // As its owner had it; refused unless we are root or the owner.
            let _ = std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()));
        }
        f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        f.sync_all()
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("write", &tmp, e));
    }
    if let Some(aside) = &aside {
        if let Err(e) = fs::rename(file, aside) {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io("move aside", file, e));
        }
    }
    if let Err(e) = fs::rename(&tmp, file) {
        if let Some(aside) = &aside {
            let _ = fs::rename(aside, file);
        }
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("restore", file, e));
    }
    Ok(aside)
}

/// Puts the user's files back exactly as they were (the same inodes). A
/// file that changed since it was restored (the user saved an edit
/// meanwhile) is left as it is: theirs wins; the message says so.
pub fn undo(restored: &[Restored]) -> Vec<String> {
    let mut problems = Vec::new();
    for r in restored.iter().rev() {
        let file = &r.change.file;
        let now = watched(file).ok().flatten().map(|(bytes, _)| bytes);
        if now.as_deref() != Some(&r.change.good_bytes[..]) {
            let aside = r
                .aside
                .as_ref()
                .map_or("(there was none)".into(), |a| a.display().to_string());
            problems.push(format!(
                "{} changed since it was restored: left as it is (the version before is at \
                 {aside})",
                file.display()
            ));
            continue;
        }
        let result = match &r.aside {
            Some(aside) => fs::rename(aside, file),
            None => fs::remove_file(file),
        };
        if let Err(e) = result {
            problems.push(format!("{}: {e}", file.display()));
        }
    }
    problems
}

/// "what differed": the lines between the common start and end of both
/// versions, `-` the user's and `+` the restored, secrets masked, at most
/// `max` of each.
pub fn diff(user: Option<&[u8]>, good: &[u8], max: usize) -> Vec<String> {
    let Some(user) = user else {
        return vec!["(your file was missing; the last working version was put back)".into()];
    };
    let (a, b) = (String::from_utf8_lossy(user), String::from_utf8_lossy(good));
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let mut out = Vec::new();
    for (sign, lines) in [
        ("-", &a[head..a.len() - tail]),
        ("+", &b[head..b.len() - tail]),
    ] {
        for line in lines.iter().take(max) {
            let line: String = line.trim().chars().take(160).collect();
            out.push(format!(
                "{sign} {}",
                crate::sys::redact::mask_secrets(&line)
            ));
        }
        if lines.len() > max {
            out.push(format!("{sign} … {} more line(s)", lines.len() - max));
        }
    }
    out
}

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

/// A replaced file of the state, if it is one selfheal could have
/// replaced: a watched file, its aside copy beside it under the name
/// `restore_one` gives, its kept version in `last-good/`.
fn replaced(c: &Config, r: &crate::state::Replaced) -> Option<Restored> {
    if !c.watch_files.contains(&r.file) {
        return None;
    }
    let name = r.file.file_name()?.to_string_lossy().into_owned();
    if let Some(aside) = &r.aside {
        let ok = aside.parent() == r.file.parent()
            && aside.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with(&format!("{name}.selfheal-"))
            });
        if !ok {
            return None;
        }
    }
    if r.good.parent() != Some(store(&c.memory_dir, &r.file).as_path()) {
        return None;
    }
    let good_bytes = files::read_small_bytes(&r.good, MAX)?;
    let current = match &r.aside {
        Some(a) => Some(watched(a).ok()??.0),
        None => None,
    };
    Some(Restored {
        change: Change {
            file: r.file.clone(),
            good: r.good.clone(),
            current,
            good_bytes,
        },
        aside: r.aside.clone(),
    })
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
        note.push_str(&diff(r.change.current.as_deref(), &r.change.good_bytes, 8).join("\n"));
        note.push('\n');
    }
    note.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_shows_what_changed_with_secrets_masked() {
        let user = b"{\n  gateway: { port: 18789, bogusKey: 1 },\n  token: \"abcdef123456\",\n}\n";
        let good = b"{\n  gateway: { port: 18789 },\n  token: \"abcdef123456\",\n}\n";
        assert_eq!(
            diff(Some(user), good, 10),
            vec![
                "- gateway: { port: 18789, bogusKey: 1 },",
                "+ gateway: { port: 18789 },"
            ]
        );
        let d = diff(
            Some(b"apiKey: \"sk-old-0123456789\"\n"),
            b"apiKey: \"x\"\n",
            10,
        );
        assert!(!d.join("\n").contains("sk-old"), "{d:?}");
        assert_eq!(diff(None, b"x", 1).len(), 1);
    }

    #[test]
    fn the_diff_masks_every_shape_of_secret() {
        for (user, secret) in [
            ("password: \"p@ss!w0rd#,x\",", "p@ss!w0rd#"),
            ("url: \"https://me:hunter2secret@host/x\",", "hunter2secret"),
            ("token:\t\"tabbed-secret\",", "tabbed-secret"),
            (
                "token: \"ab\", tokenTwo: \"second-secret\",",
                "second-secret",
            ),
            ("apiKey: 'single-quoted',", "single-quoted"),
        ] {
            let user = format!("{{\n  {user}\n}}\n");
            let d = diff(Some(user.as_bytes()), b"{\n  port: 1,\n}\n", 10).join("\n");
            assert!(!d.contains(secret), "{secret} in {d}");
        }
    }
}
