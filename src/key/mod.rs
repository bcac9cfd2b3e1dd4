//! How one configuration key is declared, read and validated: the
//! declaration (`Key`: name, default, help, whether it is secret), where a
//! value came from (`Source`), the kinds of value and how each is read
//! (`Parse`), and `Reader`, which reads them all and keeps the first error.
//!
//! This module knows no key of selfheal's: `config::keys` declares the
//! settings and each channel (`crate::channel`) its own keys. It reads no
//! file and no environment; it is given the merged raw values.

pub mod reader;
pub mod shellwords;
pub mod values;
pub mod window;

use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

pub use reader::Reader;
pub use values::{DiskFree, Secret};

/// One key as the user writes it: declared once, where its value is used.
/// The README's table and `contrib/selfheal.env.example` are generated from
/// these (`make docs`; a test keeps them in step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub name: &'static str,
    pub default: &'static str,
    /// Never shown: not in errors, logs, alerts or files.
    pub secret: bool,
    /// One paragraph for the README and the env example (`make docs`, a
    /// debug build); empty in a release build, which never shows it (8 KiB
    /// of the static binary's 2 MiB).
    pub help: &'static str,
}

impl Key {
    pub const fn new(name: &'static str, default: &'static str, help: &'static str) -> Key {
        Key {
            name,
            default,
            secret: false,
            help: if cfg!(debug_assertions) { help } else { "" },
        }
    }

    pub const fn secret(self) -> Key {
        Key {
            secret: true,
            ..self
        }
    }
}

/// Where a value came from, as errors name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    /// A line of the env file.
    File {
        path: PathBuf,
        line: usize,
    },
    Environment,
    /// `--set KEY=VALUE`.
    Flag,
    /// One of the old scripts' keys, taken as this one.
    OldName {
        name: &'static str,
        from: Box<Source>,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File { path, line } => write!(f, "{}:{line}", path.display()),
            Source::Environment => f.write_str("environment"),
            Source::Flag => f.write_str("--set"),
            Source::OldName { name, from } => write!(f, "{from} (the old name {name})"),
        }
    }
}

/// A value as written, and where.
#[derive(Debug, Clone)]
pub struct Raw {
    pub value: String,
    pub source: Source,
}

/// How a key's text becomes its value. Reading never fails: a bad value
/// gives a fallback and the `Reader` keeps the error (the first one wins).
pub trait Parse {
    type Out;
    fn read(&self, r: &Reader, key: &str) -> Self::Out;
}

/// Seconds (decimals allowed) or `250ms`, `5m`, …, within bounds.
pub struct Secs(pub Duration, pub Duration);
/// Like `Secs`, but a bare number means minutes (the old scripts' unit).
pub struct Minutes(pub Duration, pub Duration);
/// `Secs` when set; empty means none.
pub struct OptSecs(pub Duration, pub Duration);
/// A whole number within bounds.
pub struct Int(pub u32, pub u32);
/// A command line, split into words like a shell would, shell syntax refused.
pub struct Words;
/// An http:// or https:// URL.
pub struct Url;
/// A URL that carries a secret (a webhook's); empty means none.
pub struct SecretUrl;
/// A secret (a token, a key); empty means none.
pub struct SecretText;
/// Any text, as written.
pub struct Text;
/// Any text; empty means this default.
pub struct TextOr(pub &'static str);
/// An absolute path (or `~/`).
pub struct AbsPath;
/// An absolute path when set; empty means none.
pub struct OptPath;
/// A size (`512M`, `1.5G`) when set.
pub struct OptSize;
/// A value of a type that parses itself (`FromStr`), its default on error.
pub struct Parsed<T>(PhantomData<T>);
/// `Parsed` when set; empty means none.
pub struct OptParsed<T>(PhantomData<T>);

impl<T> Parsed<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Parsed<T> {
        Parsed(PhantomData)
    }
}

impl<T> OptParsed<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> OptParsed<T> {
        OptParsed(PhantomData)
    }
}

impl Parse for Secs {
    type Out = Duration;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> Duration {
        r.duration(key, self.0, self.1)
    }
}

impl Parse for Minutes {
    type Out = Duration;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> Duration {
        r.minutes(key, self.0, self.1)
    }
}

impl Parse for OptSecs {
    type Out = Option<Duration>;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> Option<Duration> {
        r.optional(key).map(|_| r.duration(key, self.0, self.1))
    }
}

impl Parse for Int {
    type Out = u32;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> u32 {
        r.integer(key, self.0, self.1)
    }
}

impl Parse for Words {
    type Out = Vec<String>;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> Vec<String> {
        r.words(key)
    }
}

impl Parse for Url {
    type Out = String;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> String {
        r.url(key)
    }
}

impl Parse for SecretUrl {
    type Out = Option<Secret>;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> Option<Secret> {
        r.secret_url(key)
    }
}

impl Parse for SecretText {
    type Out = Option<Secret>;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> Option<Secret> {
        r.optional(key).map(Secret::new)
    }
}

impl Parse for Text {
    type Out = String;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> String {
        r.string(key)
    }
}

impl Parse for TextOr {
    type Out = String;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> String {
        r.optional(key).unwrap_or_else(|| self.0.to_string())
    }
}

impl Parse for AbsPath {
    type Out = PathBuf;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> PathBuf {
        r.path(key)
    }
}

impl Parse for OptPath {
    type Out = Option<PathBuf>;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> Option<PathBuf> {
        r.optional_path(key)
    }
}

impl Parse for OptSize {
    type Out = Option<u64>;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> Option<u64> {
        let v = r.optional(key)?;
        r.parsed(key, crate::fmt::parse_size(&v).map(Some), None)
    }
}

impl<T: FromStr + Default> Parse for Parsed<T>
where
    T::Err: Into<String>,
{
    type Out = T;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> T {
        r.parsed(key, r.get(key).0.parse(), T::default())
    }
}

impl<T: FromStr> Parse for OptParsed<T>
where
    T::Err: Into<String>,
{
    type Out = Option<T>;
    #[inline(never)]
    fn read(&self, r: &Reader, key: &str) -> Option<T> {
        let v = r.optional(key)?;
        r.parsed(key, v.parse().map(Some), None)
    }
}
