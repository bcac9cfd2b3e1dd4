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
use std::path::Path;

use crate::error::{Error, Result};

/// Creates `dir` (and its parents) with mode 0700 if missing, and checks that
/// it is a directory we own. Returns a warning when others may write to it.
pub fn ensure_dir(dir: &Path) -> Result<Option<String>> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io("create directory", dir, e))?;
    let meta = std::fs::metadata(dir).map_err(|e| Error::io("read", dir, e))?;
    if !meta.is_dir() {
        return Err(Error::Unsafe {
            path: dir.into(),
            reason: "not a directory".into(),
        });
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    if meta.uid() != uid {
        return Err(Error::Unsafe {
            path: dir.into(),
            reason: format!("owned by uid {}, not by this user (uid {uid})", meta.uid()),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    Ok((mode & 0o022 != 0).then(|| {
        format!(
            "{} is writable by others (mode {mode:o}); fix: chmod 700 {}",
            dir.display(),
            dir.display()
        )
    }))
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
    Ok(())
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
