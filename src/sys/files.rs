//! Careful file operations in the tool's directory.
//!
//! Directories are created 0700 and files 0600; files are opened with
//! O_NOFOLLOW so that a symlink planted at a lock, state, log or metrics path
//! is refused instead of followed; state is replaced by write-to-temp-and-
//! rename so that a reader never sees half a file. Nothing here knows what the
//! files mean.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// This process's user.
pub fn uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

/// Creates `dir` 0700 (with any missing parents, also 0700) and checks it the
/// way OpenSSH's StrictModes checks `~/.ssh`: see [`check_dir`]. The existing
/// ancestors are checked before anything is created under them.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_err() {
        if let Some(existing) = dir.ancestors().skip(1).find(|a| a.exists()) {
            check_chain(existing)?;
        }
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io("create directory", dir, e))?;
    }
    check_dir(dir)
}

/// Whether `dir` is safe to keep selfheal's lock, state and alerts in: a
/// directory of this user that nobody else can write, under parents that
/// only root or this user can change (a sticky world-writable parent such as
/// /tmp is fine: nobody else can rename or remove what is ours in it). Where
/// the directory is does not matter, who can write to it does.
pub fn check_dir(dir: &Path) -> Result<()> {
    let real = dir.canonicalize().map_err(|e| Error::io("read", dir, e))?;
    let meta = std::fs::metadata(&real).map_err(|e| Error::io("read", dir, e))?;
    let unsafe_dir = |reason: String| Error::Unsafe {
        path: dir.into(),
        reason,
    };
    if !meta.is_dir() {
        return Err(unsafe_dir("not a directory".into()));
    }
    let uid = uid();
    if meta.uid() != uid {
        return Err(unsafe_dir(format!(
            "owned by uid {}, not by this user (uid {uid}); fix: choose a directory of your own \
             (OPENCLAW_MEMORY_DIR), or `sudo chown -R {uid} {}`",
            meta.uid(),
            real.display()
        )));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(unsafe_dir(format!(
            "writable by others (mode {:o}), who could forge its state or pause it; \
             fix: chmod 700 {}",
            mode & 0o777,
            real.display()
        )));
    }
    match real.parent() {
        Some(parent) => check_chain(parent),
        None => Ok(()),
    }
}

/// `dir` and each of its parents: owned by root or this user, and not
/// writable by anyone else unless sticky (or the group is this user's own).
fn check_chain(dir: &Path) -> Result<()> {
    let real = dir.canonicalize().map_err(|e| Error::io("read", dir, e))?;
    let uid = uid();
    for d in real.ancestors() {
        let meta = std::fs::metadata(d).map_err(|e| Error::io("read", d, e))?;
        let mode = meta.permissions().mode() & 0o7777;
        let sticky = mode & 0o1000 != 0;
        let reason = if meta.uid() != 0 && meta.uid() != uid {
            format!(
                "a parent of the tool directory is owned by uid {}, who could replace it; \
                 fix: choose a directory of your own (OPENCLAW_MEMORY_DIR)",
                meta.uid()
            )
        } else if !sticky
            && (mode & 0o002 != 0 || (mode & 0o020 != 0 && !private_group(meta.gid())))
        {
            format!(
                "a parent of the tool directory is writable by others (mode {:o}), who could \
                 replace it; fix: chmod go-w {} (or choose another OPENCLAW_MEMORY_DIR)",
                mode & 0o777,
                d.display()
            )
        } else {
            continue;
        };
        return Err(Error::Unsafe {
            path: d.into(),
            reason,
        });
    }
    Ok(())
}

/// A user-private group (named like the user, no other members): a
/// group-writable directory of that group is writable by the user alone.
fn private_group(gid: u32) -> bool {
    // SAFETY: getpwuid/getgrgid return null or a pointer to static data that
    // stays valid until the next such call; this process has no other thread
    // calling them, and both are copied out before the next call.
    unsafe {
        let pw = libc::getpwuid(uid());
        if pw.is_null() || (*pw).pw_gid != gid {
            return false;
        }
        let user = std::ffi::CStr::from_ptr((*pw).pw_name).to_owned();
        let gr = libc::getgrgid(gid);
        if gr.is_null() || std::ffi::CStr::from_ptr((*gr).gr_name) != user.as_c_str() {
            return false;
        }
        let mut member = (*gr).gr_mem;
        while !member.is_null() && !(*member).is_null() {
            if std::ffi::CStr::from_ptr(*member) != user.as_c_str() {
                return false;
            }
            member = member.add(1);
        }
        true
    }
}

/// Whether anyone but this user can write a file: others, or a group that is
/// not the user's private one (umask 002 gives 0664 / 0660 files of that
/// group: still the user's alone).
pub fn writable_by_others(meta: &std::fs::Metadata) -> bool {
    let mode = meta.permissions().mode();
    mode & 0o002 != 0 || (mode & 0o020 != 0 && !private_group(meta.gid()))
}

/// Whether anyone but this user can read a file (the same rule).
pub fn readable_by_others(meta: &std::fs::Metadata) -> bool {
    let mode = meta.permissions().mode();
    mode & 0o004 != 0 || (mode & 0o040 != 0 && !private_group(meta.gid()))
}

/// A file of the tool directory that someone else wrote or can write, or
/// that has a second name elsewhere (a hard link planted so that selfheal's
/// writes go through to another file), is refused.
pub fn check_owned(meta: &std::fs::Metadata, path: &Path) -> Result<()> {
    let uid = uid();
    let mode = meta.permissions().mode() & 0o777;
    let reason = if meta.uid() != uid {
        format!(
            "owned by uid {}, not by this user (uid {uid}); fix: check who wrote it, then \
             `sudo rm {}`",
            meta.uid(),
            path.display()
        )
    } else if writable_by_others(meta) {
        format!(
            "writable by others (mode {mode:o}); fix: check its contents, then chmod 600 {}",
            path.display()
        )
    } else if meta.nlink() > 1 {
        format!(
            "it has {} hard links (selfheal's writes would change another file too); \
             fix: rm {}",
            meta.nlink(),
            path.display()
        )
    } else {
        return Ok(());
    };
    Err(Error::Unsafe {
        path: path.into(),
        reason,
    })
}

/// `O_NONBLOCK`: a FIFO planted at one of our files must not hang the run
/// in `open` (a write-only open fails at once, a read-write one succeeds and
/// `check_regular` refuses it); on regular files it changes nothing.
fn options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK);
    o
}

fn refuse_links(path: &Path, action: &'static str, e: io::Error) -> Error {
    // O_NOFOLLOW reports a symlink as ELOOP.
    if e.raw_os_error() == Some(libc::ELOOP) {
        Error::Unsafe {
            path: path.into(),
            reason: "it is a symlink (someone may be trying to redirect selfheal's writes)".into(),
        }
    } else {
        Error::io(action, path, e)
    }
}

/// How a file of ours is opened; each creates it 0600 if missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Append,
    /// Read-write, contents kept (the lock).
    ReadWrite,
    /// Read-write, emptied.
    Truncate,
}

fn open(path: &Path, access: Access) -> Result<File> {
    let mut o = options();
    o.create(true);
    match access {
        Access::Append => o.append(true),
        Access::ReadWrite => o.read(true).write(true).truncate(false),
        Access::Truncate => o.read(true).write(true).truncate(true),
    };
    let file = o.open(path).map_err(|e| refuse_links(path, "open", e))?;
    check_regular(&file, path)?;
    Ok(file)
}

/// Opens an existing file of ours for reading. Refuses symlinks and
/// non-files; `O_NONBLOCK`, so that a FIFO planted there cannot hang the run.
pub fn open_read(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| refuse_links(path, "open", e))?;
    check_regular(&file, path)?;
    Ok(file)
}

/// A small file of ours as text (at most `max` bytes): `None` when it is
/// missing, refused (see `open_read`) or not UTF-8.
pub fn read_small(path: &Path, max: u64) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    open_read(path)
        .ok()?
        .take(max)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// A file's bytes (at most `max`), opened like `open_read`: no symlink
/// followed, never a FIFO or device. `None` when missing, refused or larger.
pub fn read_small_bytes(path: &Path, max: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let file = open_read(path).ok()?;
    if file.metadata().ok()?.len() > max {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Whether a symlink is followed when opening a file that is not ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// The user's own pointer (an env file kept with their dotfiles).
    Follow,
    /// A file selfheal may write back (a watched config): a link planted in
    /// someone else's directory must not redirect it.
    Refuse,
}

/// Opens a file that is not the tool's own (the env file, a watched config,
/// a prompt template, the agent's report) for reading. `O_NONBLOCK`, so a
/// FIFO there cannot hang the run; the checks are made on what was opened
/// (`fstat`), never on the path, and anything but a regular file is
/// refused. Who may own it is the caller's rule.
pub fn open_foreign(path: &Path, links: Links) -> Result<(File, std::fs::Metadata)> {
    let mut flags = libc::O_CLOEXEC | libc::O_NONBLOCK;
    if links == Links::Refuse {
        flags |= libc::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| refuse_links(path, "open", e))?;
    let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
    if !meta.is_file() {
        return Err(Error::Unsafe {
            path: path.into(),
            reason: "not a regular file".into(),
        });
    }
    Ok((file, meta))
}

/// All of an opened file, refused when it holds more than `max` bytes
/// (whatever its size said when it was opened).
pub fn read_max(file: File, path: &Path, max: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    if bytes.len() as u64 > max {
        return Err(Error::Unsafe {
            path: path.into(),
            reason: format!("larger than {max} bytes"),
        });
    }
    Ok(bytes)
}

/// A file that is not ours, whole (see `open_foreign` and `read_max`).
pub fn read_foreign(path: &Path, links: Links, max: u64) -> Result<Vec<u8>> {
    let (file, _) = open_foreign(path, links)?;
    read_max(file, path, max)
}

/// The first `max` bytes of an open file (what fits; an I/O error ends it).
pub fn head(file: File, max: u64) -> Vec<u8> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let _ = file.take(max).read_to_end(&mut bytes);
    bytes
}

/// The last `max` bytes of an open file (what fits; an I/O error ends it).
pub fn tail(mut file: File, max: u64) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(max)));
    let mut bytes = Vec::new();
    let _ = file.take(max).read_to_end(&mut bytes);
    bytes
}

/// Opens for appending, creating it 0600. Refuses symlinks and non-files.
pub fn open_append(path: &Path) -> Result<File> {
    open(path, Access::Append)
}

/// Opens read-write, creating it 0600 (for the lock). Refuses symlinks.
pub fn open_rw(path: &Path) -> Result<File> {
    open(path, Access::ReadWrite)
}

/// Opens empty for reading and writing, creating it 0600. Refuses symlinks.
pub fn open_truncate(path: &Path) -> Result<File> {
    open(path, Access::Truncate)
}

fn check_regular(file: &File, path: &Path) -> Result<()> {
    let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
    if !meta.is_file() {
        return Err(Error::Unsafe {
            path: path.into(),
            reason: "not a regular file".into(),
        });
    }
    check_owned(&meta, path)
}

/// Replaces `path` with `bytes` atomically: temp file in the same directory,
/// fsync, rename. A symlink at `path` is replaced, never followed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut file = options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| refuse_links(&tmp, "create", e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io("write", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("rename into", path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Expands a leading `~/` (and a lone `~`); nothing else.
pub fn expand_home(path: &Path, home: &Path) -> PathBuf {
    match path.to_str() {
        Some("~") => home.to_path_buf(),
        Some(s) if s.starts_with("~/") => home.join(&s[2..]),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::current_dir()
            .unwrap_or_default()
            .join("target/unit-scratch")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        ensure_dir(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn refuses_planted_symlinks() {
        let dir = scratch("links");
        let target = dir.join("target");
        std::fs::write(&target, "x").expect("write");
        let link = dir.join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        for result in [
            open_append(&link).err(),
            open_rw(&link).err(),
            open_truncate(&link).err(),
        ] {
            assert!(matches!(result, Some(Error::Unsafe { .. })), "{result:?}");
        }
        assert_eq!(std::fs::read_to_string(&target).ok().as_deref(), Some("x"));
    }

    #[test]
    fn modes_and_atomic_writes() {
        let dir = scratch("modes");
        let meta = std::fs::metadata(&dir).expect("meta");
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        let f = dir.join("state");
        write_atomic(&f, b"one").expect("write");
        write_atomic(&f, b"two").expect("rewrite");
        assert_eq!(std::fs::read(&f).ok().as_deref(), Some(&b"two"[..]));
        let mode = std::fs::metadata(&f).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "temp file left behind: {names:?}");
    }
}
