//! Several services from one install: each is one env file,
//! `~/.config/selfheal/services/NAME.env` (`$XDG_CONFIG_HOME` honoured),
//! with the same keys as the default service's `~/.openclaw/.env`; keys
//! every service shares (channels, the heartbeat) may live in
//! `~/.config/selfheal/common.env`, read first. A service's tool directory
//! is `<memory dir>/NAME/` unless its own file sets `OPENCLAW_MEMORY_DIR`,
//! so each has its own lock, state, metrics and incidents.
//!
//! Finds and names the files; reading them is `sources`'.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The longest service name (it becomes a directory and a label).
const NAME_MAX: usize = 64;

/// One service of the services directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub file: PathBuf,
}

/// `~/.config/selfheal`, or `$XDG_CONFIG_HOME/selfheal`.
pub fn config_dir(home: &Path, xdg: Option<&std::ffi::OsStr>) -> PathBuf {
    match xdg.filter(|x| !x.is_empty() && Path::new(x).is_absolute()) {
        Some(x) => PathBuf::from(x).join("selfheal"),
        None => home.join(".config/selfheal"),
    }
}

/// The file every service reads first, if it exists.
pub fn common_file(dir: &Path) -> Option<PathBuf> {
    let f = dir.join("common.env");
    f.is_file().then_some(f)
}

/// Whether `name` may name a service: letters, digits, `-`, `_`, `.` (not
/// first), at most `NAME_MAX` bytes.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Every `NAME.env` of `dir/services`, by name. A file whose name is not a
/// service name is an error naming it (it would silently not be checked).
pub fn list(dir: &Path) -> Result<Vec<Service>> {
    let services = dir.join("services");
    let entries = match std::fs::read_dir(&services) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read", &services, e)),
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let file = entry.path();
        let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".env") else {
            continue;
        };
        if !valid_name(stem) {
            return Err(Error::Setup(format!(
                "{}: not a service name (letters, digits, - _ . only, at most {NAME_MAX}); \
                 rename it",
                file.display()
            )));
        }
        found.push(Service {
            name: stem.to_string(),
            file,
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["ollama", "caddy-2", "web_1", "a.b"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", ".env", "../x", "a/b", "a b", "ü", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_config_dir_follows_xdg_only_when_absolute() {
        let home = Path::new("/h");
        assert_eq!(config_dir(home, None), Path::new("/h/.config/selfheal"));
        let rel = std::ffi::OsStr::new("rel");
        assert_eq!(
            config_dir(home, Some(rel)),
            Path::new("/h/.config/selfheal")
        );
        let abs = std::ffi::OsStr::new("/x");
        assert_eq!(config_dir(home, Some(abs)), Path::new("/x/selfheal"));
    }
}
