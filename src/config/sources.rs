//! Where configuration values come from, lowest first: built-in defaults <
//! env file < process environment < `--set KEY=VALUE`. The env file and its
//! checks (found, regular, not writable by others, its lines), the old
//! scripts' keys taken as ours, and the warnings for typos of our keys.
//! Reads files and the environment; never writes, executes or expands
//! anything but a leading `~/`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::keys::{self, all};
use super::{envfile, Warning};
use crate::error::{Error, Result};
use crate::key::{Raw, Source};
use crate::sys::files::{self, expand_home};

/// Read from the environment but not a setting (names the env file).
pub const CONFIG_FILE_KEY: &str = "SELFHEAL_CONFIG";

const ENV_FILE_MAX: u64 = 1 << 20;

/// What the caller knows before configuration is read.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// `--config FILE`.
    pub config_file: Option<PathBuf>,
    /// `--set KEY=VALUE`, in order.
    pub overrides: Vec<(String, String)>,
    /// The process environment (only the keys selfheal cares about are read).
    pub env: BTreeMap<String, OsString>,
    /// `$HOME`, resolved by the caller.
    pub home: PathBuf,
    /// One of several services (`services`): its env file, after the
    /// common file, instead of the default service's.
    pub service: Option<super::services::Service>,
}

impl Sources {
    /// The real process environment.
    pub fn from_process(config_file: Option<PathBuf>, overrides: Vec<(String, String)>) -> Sources {
        let env: BTreeMap<String, OsString> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
            .collect();
        let home = env
            .get("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(home_from_passwd)
            .unwrap_or_else(|| PathBuf::from("/"));
        Sources {
            config_file,
            overrides,
            env,
            home,
            service: None,
        }
    }

    /// Where the services' files are (`services::config_dir`).
    pub fn services_dir(&self) -> PathBuf {
        super::services::config_dir(
            &self.home,
            self.env.get("XDG_CONFIG_HOME").map(|v| v.as_os_str()),
        )
    }

    /// The env files read, in order: the default service's one, or a
    /// service's common file and its own.
    fn env_files(&self) -> Result<Vec<PathBuf>> {
        match &self.service {
            Some(s) => Ok(super::services::common_file(&self.services_dir())
                .into_iter()
                .chain([s.file.clone()])
                .collect()),
            None => Ok(find_env_file(self)?.into_iter().collect()),
        }
    }
}

fn home_from_passwd() -> Option<PathBuf> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r writes only into pwd and buf, whose sizes we pass.
    let rc = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir points into buf and is NUL-terminated on success.
    let dir = unsafe { CStr::from_ptr(pwd.pw_dir) };
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())))
}

/// How a value that cannot be used is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leniency {
    /// The first bad value is the error: nothing runs on a guess.
    Strict,
    /// Every bad line or file is skipped (for `salvage`).
    Salvage,
}

/// The merged raw values of every key, with what to tell about them.
pub struct Merged {
    pub raw: BTreeMap<&'static str, Raw>,
    pub env_file: Option<PathBuf>,
    pub warnings: Vec<Warning>,
    pub notes: Vec<String>,
}

/// Every key at its default.
pub fn defaults() -> BTreeMap<&'static str, Raw> {
    all()
        .map(|k| {
            (
                k.name,
                Raw {
                    value: k.default.to_string(),
                    source: Source::Default,
                },
            )
        })
        .collect()
}

/// Defaults, then the env file, the environment (with the old scripts'
/// keys taken as ours) and the `--set` flags.
pub fn merge(sources: &Sources, leniency: Leniency) -> Result<Merged> {
    let strict = leniency == Leniency::Strict;
    let mut warnings = Vec::new();
    let mut raw = defaults();
    // The old scripts' keys that were set (`keys::ALIASES`, `keys::IGNORED`).
    let mut old: BTreeMap<&'static str, Raw> = BTreeMap::new();

    let files = match sources.env_files() {
        Err(e) if strict => return Err(e),
        found => found.unwrap_or_default(),
    };
    for path in &files {
        let mut read = raw.clone();
        match read_env_file(path, &mut read, &mut old, &mut warnings, leniency) {
            Ok(()) => raw = read,
            Err(e) if strict => return Err(e),
            Err(_) => {}
        }
    }
    let env_file = files.last().cloned();
    if let Some(s) = &sources.service {
        own_places(&mut raw, s);
    }

    for (&key, slot) in raw.iter_mut() {
        if let Some(value) = sources.env.get(key) {
            let Some(value) = value.to_str() else {
                if strict {
                    return Err(Error::config(
                        key,
                        "<not UTF-8>",
                        "environment",
                        "the value is not valid UTF-8",
                    ));
                }
                continue;
            };
            *slot = Raw {
                value: value.to_string(),
                source: Source::Environment,
            };
        }
    }
    for (key, value) in &sources.env {
        if let (Some(name), Some(value)) = (old_name(key), value.to_str()) {
            old.insert(
                name,
                Raw {
                    value: value.to_string(),
                    source: Source::Environment,
                },
            );
        } else if let Some(hint) = typo(key) {
            warnings.push(Warning::UnknownKey(format!(
                "unknown key {key} in the environment{hint}"
            )));
        }
    }
    let notes = take_old_keys(&mut raw, &old);

    for (key, value) in &sources.overrides {
        let Some(slot) = raw.get_mut(key.as_str()) else {
            if strict {
                return Err(Error::Usage(format!("--set: unknown key {key:?}")));
            }
            continue;
        };
        *slot = Raw {
            value: value.clone(),
            source: Source::Flag,
        };
    }
    Ok(Merged {
        raw,
        env_file,
        warnings,
        notes,
    })
}

/// `key` as one of the old scripts' keys this version knows.
fn old_name(key: &str) -> Option<&'static str> {
    keys::ALIASES
        .iter()
        .map(|(k, _, _)| *k)
        .chain(keys::IGNORED.iter().map(|(k, _)| *k))
        .find(|k| *k == key)
}

/// Takes each old key's value as ours where ours is not set, and says so;
/// names the old keys that mean nothing here.
fn take_old_keys(
    raw: &mut BTreeMap<&'static str, Raw>,
    old: &BTreeMap<&'static str, Raw>,
) -> Vec<String> {
    use keys::Convert;
    let mut notes = Vec::new();
    for &(name, ours, convert) in keys::ALIASES {
        let Some(o) = old.get(name) else { continue };
        let v = o.value.trim();
        let value = match convert {
            Convert::Same => v.to_string(),
            Convert::Hours if v.bytes().all(|b| b.is_ascii_digit()) => format!("{v}h"),
            Convert::Megabytes if v.bytes().all(|b| b.is_ascii_digit()) => format!("{v}M"),
            Convert::Hours | Convert::Megabytes => v.to_string(),
            Convert::Port => format!("http://localhost:{v}/"),
            Convert::LlmProvider => crate::profile::from_old_provider(v).to_string(),
            Convert::NtfyTopic => {
                let server = old
                    .get("NTFY_SERVER")
                    .map_or("https://ntfy.sh", |s| s.value.trim());
                format!("{}/{v}", server.trim_end_matches('/'))
            }
        };
        let Some(slot) = raw.get_mut(ours) else {
            continue;
        };
        let taken = slot.source == Source::Default;
        if taken {
            *slot = Raw {
                value,
                source: Source::OldName {
                    name,
                    from: Box::new(o.source.clone()),
                },
            };
        }
        notes.push(format!(
            "{name} is the old name of {ours}{}; fix: rename it to {ours} in {}{}",
            if taken {
                ""
            } else {
                " (ignored: that is set too)"
            },
            o.source,
            keys::ALIAS_NOTES
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(String::new(), |(_, more)| format!(". {more}"))
        ));
    }
    for &(name, why) in keys::IGNORED {
        if old.contains_key(name) && !(name == "NTFY_SERVER" && old.contains_key("NTFY_TOPIC")) {
            notes.push(format!(
                "{name} of the old scripts means nothing here and is ignored: {why}"
            ));
        }
    }
    notes
}

/// The key families of selfheal and the old scripts: an unknown key in one
/// of them is a typo, not another program's key.
const FAMILIES: [&str; 5] = [
    "SELFHEAL_",
    "HEALTH_CHECK_",
    "EMERGENCY_",
    "CLAUDE_",
    "OPENCLAW_GATEWAY_",
];

/// For an unknown key that looks like one of ours (in our families, or
/// within two edits of a key): ` (did you mean K?)` or ` (typo?)`.
/// `None` for another program's key (the env file is OpenClaw's too).
fn typo(key: &str) -> Option<String> {
    if is_known(key) || key == CONFIG_FILE_KEY || keys::FOREIGN.contains(&key) {
        return None;
    }
    let keys = || all().map(|k| k.name);
    let near = crate::fmt::closest(key, keys(), 2);
    let family = FAMILIES.iter().any(|f| key.starts_with(f));
    if !family && near.is_none() {
        return None;
    }
    // The old scripts' users look for the check interval among the keys:
    // it is the scheduler's.
    if near.is_none() && key.contains("INTERVAL") {
        return Some(
            " (how often `check` runs is the scheduler's, not a key: ./install.sh --interval \
             SECONDS)"
                .into(),
        );
    }
    Some(
        match near.or_else(|| crate::fmt::closest(key, keys(), key.len() / 3)) {
            Some(k) => format!(" (did you mean {k}?)"),
            None => " (typo?)".to_string(),
        },
    )
}

fn is_known(key: &str) -> bool {
    keys::find(key).is_some()
}

/// Why a path given as the env file is not one.
fn not_a_file(path: &Path) -> &'static str {
    if path.exists() {
        "not a regular file"
    } else {
        "no such file"
    }
}

/// A service's own tool directory and Prometheus file, where its own file
/// does not name them: `<memory dir>/NAME`, `<stem>-NAME.prom`. Two
/// services never share a lock, a state or a textfile.
fn own_places(raw: &mut BTreeMap<&'static str, Raw>, s: &super::services::Service) {
    let own = |r: &Raw| matches!(&r.source, Source::File { path, .. } if *path == s.file);
    if let Some(r) = raw.get_mut("OPENCLAW_MEMORY_DIR").filter(|r| !own(r)) {
        r.value = format!("{}/{}", r.value.trim_end_matches('/'), s.name);
    }
    if let Some(r) = raw
        .get_mut("SELFHEAL_PROM_FILE")
        .filter(|r| !own(r) && !r.value.is_empty())
    {
        r.value = match r.value.strip_suffix(".prom") {
            Some(stem) => format!("{stem}-{}.prom", s.name),
            None => format!("{}-{}", r.value, s.name),
        };
    }
}

fn find_env_file(sources: &Sources) -> Result<Option<PathBuf>> {
    if let Some(path) = &sources.config_file {
        if !path.is_file() {
            return Err(Error::Usage(format!(
                "--config {}: {}",
                path.display(),
                not_a_file(path)
            )));
        }
        return Ok(Some(path.clone()));
    }
    if let Some(path) = sources.env.get(CONFIG_FILE_KEY).filter(|p| !p.is_empty()) {
        let path = expand_home(&PathBuf::from(path), &sources.home);
        if !path.is_file() {
            return Err(Error::config(
                CONFIG_FILE_KEY,
                &path.display().to_string(),
                "environment",
                not_a_file(&path),
            ));
        }
        return Ok(Some(path));
    }
    Ok([".openclaw/.env", "openclaw/.env"]
        .iter()
        .map(|rel| sources.home.join(rel))
        .find(|p| p.is_file()))
}

fn read_env_file(
    path: &Path,
    raw: &mut BTreeMap<&'static str, Raw>,
    old: &mut BTreeMap<&'static str, Raw>,
    warnings: &mut Vec<Warning>,
    leniency: Leniency,
) -> Result<()> {
    // Opened once and judged by what was opened: a FIFO swapped in after a
    // check would otherwise hang every run.
    let (file, meta) = match files::open_foreign(path, files::Links::Follow) {
        Ok(opened) => opened,
        Err(Error::Unsafe { reason, .. }) => {
            return Err(Error::EnvFile {
                path: path.into(),
                line: 0,
                reason,
            })
        }
        Err(e) => return Err(e),
    };
    if meta.len() > ENV_FILE_MAX {
        return Err(Error::EnvFile {
            path: path.into(),
            line: 0,
            reason: format!("larger than {ENV_FILE_MAX} bytes; is this an env file?"),
        });
    }
    let mode = meta.permissions().mode();
    // A file others can write could make selfheal run any command. Refused;
    // but a check that cannot run must still say so somewhere, so the
    // salvage trusts it for one thing: the heartbeat (a ping carries no
    // text an impostor could read).
    let only: Option<&[&str]> = if files::writable_by_others(&meta) {
        if leniency == Leniency::Strict {
            return Err(Error::EnvFile {
                path: path.into(),
                line: 0,
                reason: format!(
                    "writable by others (mode {:o}), who could make selfheal run any \
                     command; fix: chmod 600 {}",
                    mode & 0o777,
                    path.display()
                ),
            });
        }
        Some(&["SELFHEAL_HEARTBEAT_URL", "SELFHEAL_HEARTBEAT_MODE"])
    } else {
        None
    };
    if files::readable_by_others(&meta) {
        warnings.push(Warning::Note(format!(
            "{} is readable by others (mode {:o}) and holds secrets; fix: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    let bytes = files::read_max(file, path, ENV_FILE_MAX)?;
    let parsed = envfile::parse(&bytes);
    for problem in parsed.problems {
        let ours = problem
            .key
            .as_deref()
            .is_some_and(|k| is_known(k) || k.starts_with("SELFHEAL_"));
        if ours && leniency == Leniency::Strict {
            return Err(Error::EnvFile {
                path: path.into(),
                line: problem.line,
                reason: format!("{}: {}", problem.key.unwrap_or_default(), problem.reason),
            });
        }
        // Lines that are not ours belong to OpenClaw; their format is its
        // business, so they are only mentioned.
        warnings.push(Warning::Note(format!(
            "{}:{}: ignored: {}",
            path.display(),
            problem.line,
            problem.reason
        )));
    }
    for entry in parsed.entries {
        if only.is_some_and(|keys| !keys.contains(&entry.key.as_str())) {
            continue;
        }
        if let Some(slot) = raw.get_mut(entry.key.as_str()) {
            *slot = Raw {
                value: entry.value,
                source: Source::File {
                    path: path.to_path_buf(),
                    line: entry.line,
                },
            };
        } else if let Some(name) = old_name(&entry.key) {
            old.insert(
                name,
                Raw {
                    value: entry.value,
                    source: Source::File {
                        path: path.to_path_buf(),
                        line: entry.line,
                    },
                },
            );
        } else if let Some(hint) = typo(&entry.key) {
            warnings.push(Warning::UnknownKey(format!(
                "{}:{}: unknown key {}{hint}",
                path.display(),
                entry.line,
                entry.key
            )));
        }
    }
    Ok(())
}
