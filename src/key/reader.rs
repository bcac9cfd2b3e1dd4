//! Typed access to the merged raw values: every accessor validates, and every
//! error names the key, the value (redacted for secret keys) and its source.
//! What each key holds is declared elsewhere (`config::keys`, each channel);
//! this only reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{shellwords, Raw, Secret};
use crate::error::{Error, Result};
use crate::fmt::{fmt_secs, parse_duration};
use crate::sys::files::expand_home;

/// Typed access to the merged raw values; every error names key, value, source.
///
/// The accessors return a value whatever happens and keep the first error
/// for `finish`: `build` reads every key in one expression instead of forty
/// early returns (each of which cost code in the 2 MiB binary).
pub struct Reader<'a> {
    pub raw: &'a BTreeMap<&'static str, Raw>,
    pub home: &'a Path,
    /// Whether the service is the OpenClaw gateway: what `auto` means for
    /// the keys that have it.
    pub openclaw: bool,
    /// Whether a key's value may never be shown (`config::keys::looks_secret`).
    looks_secret: fn(&str) -> bool,
    first_error: std::cell::RefCell<Option<Error>>,
}

impl<'a> Reader<'a> {
    pub fn new(
        raw: &'a BTreeMap<&'static str, Raw>,
        home: &'a Path,
        looks_secret: fn(&str) -> bool,
    ) -> Reader<'a> {
        Reader {
            raw,
            home,
            openclaw: false,
            looks_secret,
            first_error: std::cell::RefCell::new(None),
        }
    }

    /// The first invalid value that was read, if any.
    pub fn finish(self) -> Result<()> {
        match self.first_error.into_inner() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// `r`'s value, or `fallback` with its error kept (the first one wins).
    fn or<T>(&self, r: Result<T>, fallback: T) -> T {
        r.unwrap_or_else(|e| {
            self.first_error.borrow_mut().get_or_insert(e);
            fallback
        })
    }

    #[inline(never)]
    pub fn duration(&self, key: &str, min: Duration, max: Duration) -> Duration {
        self.or(self.try_duration(key, min, max), min)
    }

    #[inline(never)]
    pub fn minutes(&self, key: &str, min: Duration, max: Duration) -> Duration {
        self.or(self.try_minutes(key, min, max), min)
    }

    #[inline(never)]
    pub fn integer(&self, key: &str, min: u32, max: u32) -> u32 {
        self.or(self.try_integer(key, min, max), min)
    }

    #[inline(never)]
    pub fn words(&self, key: &str) -> Vec<String> {
        self.or(self.try_words(key), Vec::new())
    }

    #[inline(never)]
    pub fn url(&self, key: &str) -> String {
        self.or(self.try_url(key), String::new())
    }

    #[inline(never)]
    pub fn secret_url(&self, key: &str) -> Option<Secret> {
        self.or(self.try_secret_url(key), None)
    }

    #[inline(never)]
    pub fn path(&self, key: &str) -> PathBuf {
        self.or(self.try_path(key), PathBuf::from("/"))
    }

    #[inline(never)]
    pub fn optional_path(&self, key: &str) -> Option<PathBuf> {
        self.or(self.try_optional_path(key), None)
    }

    /// A check of the caller's: keeps `reason` as the key's error unless one
    /// came first.
    #[inline(never)]
    pub fn check(&self, key: &str, ok: bool, reason: impl Into<String>) {
        if !ok {
            self.or(Err(self.fail(key, reason)), ());
        }
    }

    /// A value the caller parsed: its error becomes the key's.
    pub fn parsed<T, E: Into<String>>(
        &self,
        key: &str,
        r: std::result::Result<T, E>,
        fallback: T,
    ) -> T {
        match r {
            Ok(v) => v,
            Err(e) => self.or(Err(self.fail(key, e)), fallback),
        }
    }

    #[inline(never)]
    pub fn get(&self, key: &str) -> (&str, &super::Source) {
        match self.raw.get(key) {
            Some(r) => (r.value.as_str(), &r.source),
            None => ("", &super::Source::Default),
        }
    }

    #[inline(never)]
    pub fn fail(&self, key: &str, reason: impl Into<String>) -> Error {
        let (value, source) = self.get(key);
        let shown = if (self.looks_secret)(key) {
            "<redacted>".to_string()
        } else if value.contains("://") {
            // A URL may carry a password or a token in its user info or query.
            crate::sys::redact::url(value)
        } else {
            value.to_string()
        };
        Error::config(key, &shown, &source.to_string(), reason)
    }

    #[inline(never)]
    pub fn string(&self, key: &str) -> String {
        self.get(key).0.to_string()
    }

    #[inline(never)]
    pub fn optional(&self, key: &str) -> Option<String> {
        let v = self.get(key).0.trim();
        (!v.is_empty()).then(|| v.to_string())
    }

    /// The keys that configure one thing (a channel): all set or none. A
    /// missing one is the error's key (the first missing, when some are set).
    pub fn together<const N: usize>(&self, keys: [&str; N]) -> Option<[String; N]> {
        let values = keys.map(|k| self.optional(k));
        if values.iter().all(Option::is_none) {
            return None;
        }
        if let Some(i) = values.iter().position(Option::is_none) {
            self.check(
                keys[i],
                false,
                format!("{} go together: set all or none", keys.join(", ")),
            );
            return None;
        }
        Some(values.map(Option::unwrap_or_default))
    }

    fn try_duration(&self, key: &str, min: Duration, max: Duration) -> Result<Duration> {
        let d = parse_duration(self.get(key).0).map_err(|e| self.fail(key, e))?;
        if d < min || d > max {
            return Err(self.fail(
                key,
                format!("must be between {} and {}", fmt_secs(min), fmt_secs(max)),
            ));
        }
        Ok(d)
    }

    /// Like `duration`, but a bare number means minutes (the scripts' unit).
    fn try_minutes(&self, key: &str, min: Duration, max: Duration) -> Result<Duration> {
        let v = self.get(key).0.trim();
        if let Ok(n) = v.parse::<f64>() {
            if n.is_finite() && n >= 0.0 {
                let secs = n * 60.0;
                if secs < min.as_secs_f64() || secs > max.as_secs_f64() {
                    return Err(self.fail(
                        key,
                        format!(
                            "must be between {} and {} (a bare number is minutes)",
                            fmt_secs(min),
                            fmt_secs(max)
                        ),
                    ));
                }
                return Ok(Duration::from_secs_f64(secs));
            }
        }
        self.try_duration(key, min, max)
    }

    fn try_integer(&self, key: &str, min: u32, max: u32) -> Result<u32> {
        match self.get(key).0.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.fail(key, format!("expected a whole number from {min} to {max}"))),
        }
    }

    fn try_words(&self, key: &str) -> Result<Vec<String>> {
        shellwords::split(self.get(key).0).map_err(|e| self.fail(key, e))
    }

    fn try_url(&self, key: &str) -> Result<String> {
        let v = self.get(key).0.trim();
        check_url(v).map_err(|e| self.fail(key, e))?;
        Ok(v.to_string())
    }

    fn try_secret_url(&self, key: &str) -> Result<Option<Secret>> {
        match self.optional(key) {
            None => Ok(None),
            Some(_) => Ok(Some(Secret::new(self.try_url(key)?))),
        }
    }

    fn try_path(&self, key: &str) -> Result<PathBuf> {
        let p = expand_home(Path::new(self.get(key).0.trim()), self.home);
        if !p.is_absolute() {
            return Err(self.fail(key, "must be an absolute path (or start with ~/)"));
        }
        Ok(p)
    }

    fn try_optional_path(&self, key: &str) -> Result<Option<PathBuf>> {
        match self.optional(key) {
            None => Ok(None),
            Some(_) => self.try_path(key).map(Some),
        }
    }
}

fn check_url(v: &str) -> std::result::Result<(), String> {
    let uri: ureq::http::Uri = v
        .parse()
        .map_err(|_| "not a valid URL (e.g. http://localhost:18789/)".to_string())?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return Err("the URL must start with http:// or https://".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    // `http::Uri` accepts `:99999` and then has no port: ureq would use 80.
    let authority = uri.authority().map_or("", |a| a.as_str());
    let port = authority
        .rsplit_once(':')
        .map(|(_, p)| p)
        .filter(|p| !p.contains(']'));
    if port.is_some_and(|p| !p.is_empty()) && uri.port_u16().is_none_or(|p| p == 0) {
        return Err("port out of range (1-65535)".into());
    }
    Ok(())
}
