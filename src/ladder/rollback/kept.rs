//! The kept versions: a copy of each watched file that changed while the
//! service was healthy (`last-good/`, 0600, the last `KEEP` distinct
//! versions of each), and the file operations of a rollback — reading a
//! watched file safely, moving the user's aside, writing the kept version
//! in its place, putting the user's back. Nothing here decides when.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::ctx::{Ctx, Mode};
use crate::error::{Error, Result};
use crate::key::values::Switch;
use crate::sys::clock::local_now;
use crate::sys::files;
use crate::sys::log::file_stamp;

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

/// A replaced file of the state, if it is one selfheal could have
/// replaced: a watched file, its aside copy beside it under the name
/// `restore_one` gives, its kept version in `last-good/`.
pub(super) fn replaced(c: &Config, r: &crate::state::Replaced) -> Option<Restored> {
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
