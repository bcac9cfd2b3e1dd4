//! The one error type of selfheal and its mapping to exit codes.
//!
//! Every error carries the context a user needs to act (the flag, the key and
//! its source, the path) and is printed as one line on stderr. Values of secret
//! keys and secret URLs are redacted before they get here; this module must not
//! format anything that could hold a secret it was not given already redacted.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// Bad command line: exit 2.
    Usage(String),
    /// A configuration value is invalid: exit 2. `value` is already redacted
    /// for secret keys; `source` says where the value came from.
    Config {
        key: String,
        value: String,
        source: String,
        reason: String,
    },
    /// The command needs something that is not configured (a channel for
    /// `notify`, an agent for `recover`): exit 2, the message says what to set.
    Setup(String),
    /// The env file cannot be parsed: exit 2.
    EnvFile {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A file operation failed: exit 3.
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A path is not what it must be (a symlink planted at the lock, a
    /// directory where a file should be, a file owned by someone else): exit 3.
    Unsafe { path: PathBuf, reason: String },
    /// A signal ended the run early; the exit status is 128 + signal.
    Interrupted(i32),
    /// Several services were checked and these could not be (name, exit
    /// status): the highest status.
    Several(Vec<(String, u8)>),
}

impl Error {
    /// The process exit status for this error (README "Exit codes").
    pub fn code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Setup(_) | Error::Config { .. } | Error::EnvFile { .. } => 2,
            Error::Io { .. } | Error::Unsafe { .. } => 3,
            Error::Interrupted(sig) => 128u8.saturating_add(u8::try_from(*sig).unwrap_or(0)),
            Error::Several(failed) => failed.iter().map(|(_, c)| *c).max().unwrap_or(2),
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn config(key: &str, value: &str, source: &str, reason: impl Into<String>) -> Error {
        Error::Config {
            key: key.to_string(),
            value: value.to_string(),
            source: source.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(msg) => write!(f, "{msg} (see `selfheal --help`)"),
            Error::Setup(msg) => f.write_str(msg),
            Error::Config {
                key,
                value,
                source,
                reason,
            } => write!(f, "invalid {key}={value:?} (from {source}): {reason}"),
            Error::EnvFile {
                path,
                line: 0,
                reason,
            } => write!(f, "{}: {reason}", path.display()),
            Error::EnvFile { path, line, reason } => {
                write!(f, "{}:{line}: {reason}", path.display())
            }
            Error::Io {
                action,
                path,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            Error::Unsafe { path, reason } => write!(f, "refusing {}: {reason}", path.display()),
            Error::Interrupted(sig) => write!(f, "interrupted by signal {sig}"),
            Error::Several(failed) => {
                let each: Vec<String> = failed
                    .iter()
                    .map(|(name, code)| format!("{name} (exit {code})"))
                    .collect();
                write!(
                    f,
                    "could not check every service: {}; `selfheal check NAME` says why",
                    each.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
