//! Configuration: every key (README "Configuration"), where it comes from, and
//! its validation.
//!
//! Precedence, lowest first: built-in defaults < env file < process
//! environment < `--set KEY=VALUE` flags. Values are validated once, here; an
//! invalid one is an `Error::Config` naming the key, the (redacted) value and
//! its source, and nothing else runs. This module reads files and the
//! environment but never writes, executes or expands anything except a
//! leading `~/`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod envfile;
pub mod keys;
mod reader;
pub mod shellwords;
pub mod window;

use crate::error::{Error, Result};
use crate::openclaw;
pub use crate::sys::files::expand_home;
use crate::sys::redact;
pub use keys::{KEYS, SECRET_KEYS};
use reader::Reader;

/// Read from the environment but not a setting (names the env file).
const CONFIG_FILE_KEY: &str = "SELFHEAL_CONFIG";

const ENV_FILE_MAX: u64 = 1 << 20;

/// A value that must never be printed. `Debug` shows `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ko,
}

impl std::str::FromStr for Lang {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<Lang, &'static str> {
        match s.trim() {
            "en" | "" => Ok(Lang::En),
            "ko" => Ok(Lang::Ko),
            _ => Err("expected en or ko"),
        }
    }
}

/// `SELFHEAL_DIGEST`: how often the summary is pushed to every channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Off,
    Daily,
    Weekly,
}

impl std::str::FromStr for Digest {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<Digest, &'static str> {
        match s.trim() {
            "off" | "" => Ok(Digest::Off),
            "daily" => Ok(Digest::Daily),
            "weekly" => Ok(Digest::Weekly),
            _ => Err("expected daily, weekly or off"),
        }
    }
}

/// `SELFHEAL_HEARTBEAT_MODE`: the healthchecks.io conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeartbeatMode {
    /// `URL` when healthy, `URL/fail` when not.
    Fail,
    /// `URL/<exit code>`.
    Exit,
}

impl std::str::FromStr for HeartbeatMode {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<HeartbeatMode, &'static str> {
        match s.trim() {
            "fail" | "" => Ok(HeartbeatMode::Fail),
            "exit" => Ok(HeartbeatMode::Exit),
            _ => Err("expected fail (URL or URL/fail) or exit (URL/<exit code>)"),
        }
    }
}

/// An `on|off` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

impl std::str::FromStr for Switch {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<Switch, &'static str> {
        match s.trim() {
            "on" | "yes" | "true" | "1" => Ok(Switch::On),
            "off" | "no" | "false" | "0" => Ok(Switch::Off),
            _ => Err("expected on or off"),
        }
    }
}

/// Healthy HTTP statuses: a list of inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet(Vec<(u16, u16)>);

impl StatusSet {
    pub fn contains(&self, status: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| (lo..=hi).contains(&status))
    }

    fn parse(text: &str) -> std::result::Result<StatusSet, String> {
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim) {
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (a.trim(), b.trim()),
                None => (part, part),
            };
            let parse = |s: &str| match s.parse::<u16>() {
                Ok(n) if (100..=599).contains(&n) => Ok(n),
                _ => Err(format!("{s:?} is not an HTTP status (100-599)")),
            };
            let (lo, hi) = (parse(lo)?, parse(hi)?);
            if lo > hi {
                return Err(format!("range {part:?} is backwards"));
            }
            ranges.push((lo, hi));
        }
        Ok(StatusSet(ranges))
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(lo, hi)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

/// The whole, validated configuration, passed down by reference.
#[derive(Debug, Clone)]
pub struct Config {
    pub url: String,
    /// `url` as it may be shown: no user info, no query.
    pub shown_url: String,
    pub http_timeout: Duration,
    pub expect_status: StatusSet,
    pub expect_body: String,
    /// Empty: no restart command (level 2 only waits).
    pub restart_cmd: Vec<String>,
    pub restart_timeout: Duration,
    pub max_retries: u32,
    pub retry_delay: Duration,
    pub poll_interval: Duration,
    pub repair_cmd: Vec<String>,
    pub escalation_wait: Duration,
    /// Re-probes after a failed probe before anything is done (a blip heals nothing).
    pub confirm_probes: u32,
    /// The most a learned boot time may stretch the wait after a restart.
    pub boot_timeout: Duration,
    /// More restarts than this within `restart_window` is a crash loop (0: no brake).
    pub restart_limit: u32,
    pub restart_window: Duration,
    /// The service's own logs (paths, `*` globs, `{date}`), read for evidence.
    pub service_logs: Vec<String>,
    /// Config files whose last working version is kept and restored (`rollback`).
    pub watch_files: Vec<PathBuf>,
    pub rollback: Switch,
    /// Replay fixes learned from the agent (`runbook`).
    pub runbook: Switch,
    /// Recurring maintenance windows: a check inside one behaves as paused.
    pub maintenance: Vec<window::Window>,
    /// The pushed summary (`SELFHEAL_DIGEST`), and its local time of day in
    /// minutes after midnight (`SELFHEAL_DIGEST_AT`).
    pub digest: Digest,
    pub digest_at: u32,
    /// How often a healthy `check` makes sure the agent can work (zero: never).
    pub agent_check_interval: Duration,
    /// Empty: level 3 disabled.
    pub agent_cmd: Vec<String>,
    pub agent_fallback_cmd: Vec<String>,
    pub agent_workdir: PathBuf,
    pub agent_prompt_file: Option<PathBuf>,
    pub recovery_timeout: Duration,
    pub startup_wait: Duration,
    pub trust_timeout: Duration,
    pub agent_cooldown: Duration,
    /// The tmux program (a name looked up like the agent's, or a path).
    pub tmux: String,
    pub anthropic_api_key: Option<Secret>,
    pub discord_webhook: Option<Secret>,
    pub slack_webhook: Option<Secret>,
    pub telegram_token: Option<Secret>,
    pub telegram_chat_id: Option<String>,
    pub telegram_api: String,
    pub ntfy_url: Option<Secret>,
    pub webhook_url: Option<Secret>,
    /// PagerDuty Events API v2: the integration's routing key, and the API.
    pub pagerduty_key: Option<Secret>,
    pub pagerduty_api: String,
    /// Pushover: the application's token and the user (or group) key.
    pub pushover: Option<(Secret, Secret)>,
    pub pushover_api: String,
    /// Gotify: the server and an application token.
    pub gotify: Option<(String, Secret)>,
    /// Matrix: the homeserver, the room id and an access token.
    pub matrix: Option<(String, String, Secret)>,
    pub heartbeat_url: Option<Secret>,
    /// How the end of a run is reported to the heartbeat URL.
    pub heartbeat_mode: HeartbeatMode,
    pub lang: Lang,
    pub alert_repeat: Duration,
    /// One webhook attempt; a message gets at most three of these per channel.
    pub alert_timeout: Duration,
    /// `monitor` looks at level 3 logs changed within this (old scripts' key, minutes).
    pub emergency_alert_window: Duration,
    pub memory_dir: PathBuf,
    pub log_retention_days: u32,
    pub prom_file: Option<PathBuf>,
    /// The env file that was read, if any.
    pub env_file: Option<PathBuf>,
    /// Things worth telling the user that do not stop the run.
    pub warnings: Vec<String>,
    /// Old keys taken as ours or ignored: told by `doctor` and `check -v`,
    /// never on every run's stderr.
    pub notes: Vec<String>,
    /// `SELFHEAL_CHANNELS`: the channels alerts go to (`None`: every
    /// configured one).
    pub channels_only: Option<Vec<String>>,
    /// Early warnings (none by default).
    pub warn_rss: Option<u64>,
    pub warn_disk: Option<DiskFree>,
    pub warn_latency: Option<Duration>,
}

/// `SELFHEAL_WARN_DISK`: the least free space before a warning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DiskFree {
    Bytes(u64),
    Percent(f64),
}

impl std::str::FromStr for DiskFree {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<DiskFree, String> {
        match s.trim().strip_suffix('%') {
            Some(p) => p
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..100.0).contains(p))
                .map(DiskFree::Percent)
                .ok_or_else(|| format!("{s:?}: expected a percentage below 100, like 5%")),
            None => crate::fmt::parse_size(s).map(DiskFree::Bytes),
        }
    }
}

impl Config {
    /// Whether the service is the OpenClaw gateway: its default port, or a
    /// restart command that runs `openclaw`.
    pub fn is_openclaw(&self) -> bool {
        openclaw::is_openclaw(&self.url, &self.restart_cmd)
    }

    /// Every secret value, for scrubbing text that comes from outside.
    pub fn secrets(&self) -> Vec<&str> {
        let mut all: Vec<&str> = [
            &self.anthropic_api_key,
            &self.discord_webhook,
            &self.slack_webhook,
            &self.telegram_token,
            &self.ntfy_url,
            &self.webhook_url,
            &self.heartbeat_url,
            &self.pagerduty_key,
        ]
        .into_iter()
        .flatten()
        .map(Secret::expose)
        .collect();
        if let Some((token, user)) = &self.pushover {
            all.extend([token.expose(), user.expose()]);
        }
        if let Some((_, token)) = &self.gotify {
            all.push(token.expose());
        }
        if let Some((_, _, token)) = &self.matrix {
            all.push(token.expose());
        }
        all.extend(url_credentials(&self.url));
        all
    }
}

/// The credentials a service URL may carry: its user info (`user:password`,
/// and the password alone) and its query values (`?token=…`).
fn url_credentials(url: &str) -> Vec<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let mut found = Vec::new();
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        found.push(userinfo);
        if let Some((_, password)) = userinfo.split_once(':') {
            found.push(password);
        }
    }
    if let Some((_, query)) = rest.split_once('?') {
        let query = query.split('#').next().unwrap_or("");
        found.extend(
            query
                .split('&')
                .filter_map(|kv| kv.split_once('=').map(|(_, v)| v)),
        );
    }
    found.retain(|s| !s.is_empty());
    found
}

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

#[derive(Clone)]
pub struct Raw {
    pub value: String,
    pub source: String,
}

/// How `load` treats a value it cannot use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leniency {
    /// The first bad value is the error: nothing runs on a guess.
    Strict,
    /// Every bad value is replaced by its default (for `salvage`).
    Salvage,
}

/// Reads, merges and validates the configuration.
pub fn load(sources: &Sources) -> Result<Config> {
    load_with(sources, Leniency::Strict)
}

/// What can still be used of a configuration that `load` refused: every bad
/// line, value or file is skipped and its keys keep their defaults. Only for
/// saying that selfheal cannot run (its log, heartbeat `/fail` and alert);
/// never for healing. An env file that others can write is not read at all.
pub fn salvage(sources: &Sources) -> Option<Config> {
    load_with(sources, Leniency::Salvage).ok()
}

fn defaults() -> BTreeMap<&'static str, Raw> {
    KEYS.iter()
        .map(|&(k, d)| {
            (
                k,
                Raw {
                    value: d.to_string(),
                    source: "default".into(),
                },
            )
        })
        .collect()
}

fn load_with(sources: &Sources, leniency: Leniency) -> Result<Config> {
    let strict = leniency == Leniency::Strict;
    let mut warnings = Vec::new();
    let mut raw = defaults();
    // The old scripts' keys that were set (`keys::ALIASES`, `keys::IGNORED`).
    let mut old: BTreeMap<&'static str, Raw> = BTreeMap::new();

    let env_file = match find_env_file(sources) {
        Err(e) if strict => return Err(e),
        found => found.ok().flatten(),
    };
    if let Some(path) = &env_file {
        let mut read = raw.clone();
        match read_env_file(path, &mut read, &mut old, &mut warnings, leniency) {
            Ok(()) => raw = read,
            Err(e) if strict => return Err(e),
            Err(_) => {}
        }
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
                source: "environment".into(),
            };
        }
    }
    for (key, value) in &sources.env {
        if let (Some(name), Some(value)) = (old_name(key), value.to_str()) {
            old.insert(
                name,
                Raw {
                    value: value.to_string(),
                    source: "environment".into(),
                },
            );
        } else if let Some(hint) = typo(key) {
            warnings.push(format!("unknown key {key} in the environment{hint}"));
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
            source: "--set".into(),
        };
    }

    let mut config = loop {
        match build(&raw, &sources.home) {
            Err(Error::Config { key, .. }) if !strict => {
                // Back to its default; a key that already has it cannot be
                // salvaged.
                let default = KEYS.iter().find(|(k, _)| *k == key).map(|(_, d)| *d);
                match (raw.get_mut(key.as_str()), default) {
                    (Some(slot), Some(d)) if slot.source != "default" => {
                        *slot = Raw {
                            value: d.to_string(),
                            source: "default".into(),
                        };
                    }
                    _ => return Err(Error::Setup(format!("{key} cannot be salvaged"))),
                }
            }
            built => break built?,
        }
    };
    config.env_file = env_file;
    config.warnings = warnings;
    config.notes = notes;
    Ok(config)
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
        let taken = slot.source == "default";
        if taken {
            *slot = Raw {
                value,
                source: format!("{} (the old name {name})", o.source),
            };
        }
        notes.push(format!(
            "key {name} is the old name of {ours}{}; fix: rename it to {ours} in {}",
            if taken {
                ""
            } else {
                " (ignored: that is set too)"
            },
            o.source
        ));
    }
    for &(name, why) in keys::IGNORED {
        if old.contains_key(name) && !(name == "NTFY_SERVER" && old.contains_key("NTFY_TOPIC")) {
            notes.push(format!(
                "key {name} of the old scripts means nothing here and is ignored: {why}"
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
    let keys = || KEYS.iter().map(|(k, _)| *k);
    let near = crate::fmt::closest(key, keys(), 2);
    let family = FAMILIES.iter().any(|f| key.starts_with(f));
    if !family && near.is_none() {
        return None;
    }
    Some(
        match near.or_else(|| crate::fmt::closest(key, keys(), key.len() / 3)) {
            Some(k) => format!(" (did you mean {k}?)"),
            None => " (typo?)".to_string(),
        },
    )
}

fn is_known(key: &str) -> bool {
    KEYS.iter().any(|&(k, _)| k == key)
}

fn find_env_file(sources: &Sources) -> Result<Option<PathBuf>> {
    if let Some(path) = &sources.config_file {
        if !path.is_file() {
            return Err(Error::Usage(format!(
                "--config {}: no such file",
                path.display()
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
                "no such file",
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
    warnings: &mut Vec<String>,
    leniency: Leniency,
) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
    if !meta.is_file() {
        return Err(Error::EnvFile {
            path: path.into(),
            line: 0,
            reason: "not a regular file".into(),
        });
    }
    if meta.len() > ENV_FILE_MAX {
        return Err(Error::EnvFile {
            path: path.into(),
            line: 0,
            reason: format!("larger than {ENV_FILE_MAX} bytes; is this an env file?"),
        });
    }
    let mode = meta.permissions().mode();
    if mode & 0o022 != 0 {
        return Err(Error::EnvFile {
            path: path.into(),
            line: 0,
            reason: format!(
                "writable by others (mode {:o}), who could make selfheal run any command; \
                 fix: chmod 600 {}",
                mode & 0o777,
                path.display()
            ),
        });
    }
    if mode & 0o044 != 0 {
        warnings.push(format!(
            "{} is readable by others (mode {:o}) and holds secrets; fix: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
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
        warnings.push(format!(
            "{}:{}: ignored: {}",
            path.display(),
            problem.line,
            problem.reason
        ));
    }
    for entry in parsed.entries {
        if let Some(slot) = raw.get_mut(entry.key.as_str()) {
            *slot = Raw {
                value: entry.value,
                source: format!("{}:{}", path.display(), entry.line),
            };
        } else if let Some(name) = old_name(&entry.key) {
            old.insert(
                name,
                Raw {
                    value: entry.value,
                    source: format!("{}:{}", path.display(), entry.line),
                },
            );
        } else if let Some(hint) = typo(&entry.key) {
            warnings.push(format!(
                "{}:{}: unknown key {}{hint}",
                path.display(),
                entry.line,
                entry.key
            ));
        }
    }
    Ok(())
}

const MS: Duration = Duration::from_millis(1);
const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// `SELFHEAL_SERVICE_LOGS`: `auto` is the OpenClaw gateway's logs for the
/// gateway and none for other services; otherwise absolute paths (or `~/`),
/// with `*` in the file name and `{date}` allowed.
fn service_logs(r: &Reader, openclaw: bool) -> Vec<String> {
    let key = "SELFHEAL_SERVICE_LOGS";
    let words = r.words(key);
    let words: Vec<String> = match words.as_slice() {
        [auto] if auto == "auto" => match openclaw {
            true => openclaw::LOGS.iter().map(|s| s.to_string()).collect(),
            false => Vec::new(),
        },
        _ => words,
    };
    let mut paths = Vec::new();
    for w in words {
        let p = expand_home(Path::new(&w), r.home);
        let glob_dir = p
            .parent()
            .is_some_and(|d| d.to_string_lossy().contains(['*', '?']));
        r.check(
            key,
            p.is_absolute(),
            format!("{w:?} must be an absolute path (or start with ~/)"),
        );
        r.check(
            key,
            !glob_dir,
            format!("{w:?}: a glob may only be in the file name"),
        );
        paths.push(p.display().to_string());
    }
    paths
}

/// `SELFHEAL_WATCH_FILES`: `auto` is the gateway's config for the OpenClaw
/// gateway, none for other services; otherwise absolute paths (or `~/`).
fn watch_files(r: &Reader, openclaw: bool) -> Vec<PathBuf> {
    let key = "SELFHEAL_WATCH_FILES";
    let words = r.words(key);
    if let [auto] = words.as_slice() {
        if auto == "auto" {
            return openclaw
                .then(|| openclaw::config_path(r.home))
                .into_iter()
                .collect();
        }
    }
    words
        .iter()
        .map(|w| {
            let p = expand_home(Path::new(w), r.home);
            r.check(
                key,
                p.is_absolute() && p.file_name().is_some(),
                format!("{w:?} must be an absolute path of a file (or start with ~/)"),
            );
            p
        })
        .collect()
}

/// The keys that configure one channel: all set or none. A missing one is
/// the error's key (the first missing, when some are set).
fn together<const N: usize>(r: &Reader, keys: [&str; N]) -> Option<[String; N]> {
    let values = keys.map(|k| r.optional(k));
    if values.iter().all(Option::is_none) {
        return None;
    }
    if let Some(i) = values.iter().position(Option::is_none) {
        r.check(
            keys[i],
            false,
            format!("{} go together: set all or none", keys.join(", ")),
        );
        return None;
    }
    Some(values.map(Option::unwrap_or_default))
}

/// Matrix: homeserver, room id and access token.
fn matrix(r: &Reader) -> Option<(String, String, Secret)> {
    let [server, room, token] = together(
        r,
        ["MATRIX_HOMESERVER", "MATRIX_ROOM_ID", "MATRIX_ACCESS_TOKEN"],
    )?;
    r.check(
        "MATRIX_HOMESERVER",
        server.starts_with("http://") || server.starts_with("https://"),
        "expected the homeserver's https:// URL",
    );
    r.check(
        "MATRIX_ROOM_ID",
        room.starts_with('!') && room.contains(':'),
        "expected a room id like !abcdef:example.org (not an alias)",
    );
    Some((server, room, Secret(token)))
}

/// `SELFHEAL_CHANNELS`: `all`, or channel names separated by commas.
fn channels_only(r: &Reader) -> Option<Vec<String>> {
    let key = "SELFHEAL_CHANNELS";
    let value = r.get(key).0.trim().to_ascii_lowercase();
    if value.is_empty() || value == "all" {
        return None;
    }
    let names: Vec<String> = value
        .split([',', ' '])
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    let unknown = names
        .iter()
        .find(|n| !keys::CHANNEL_NAMES.contains(&n.as_str()));
    r.check(
        key,
        unknown.is_none(),
        format!(
            "unknown channel {:?}: expected all, or some of {}",
            unknown.map(String::as_str).unwrap_or(""),
            keys::CHANNEL_NAMES.join(", ")
        ),
    );
    Some(names)
}

/// Telegram's token and chat id: both or neither, and a token that fits in a URL path.
fn telegram(r: &Reader) -> (Option<Secret>, Option<String>) {
    let Some([token, chat_id]) = together(r, ["TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID"]) else {
        return (None, None);
    };
    r.check(
        "TELEGRAM_BOT_TOKEN",
        !token.contains(['/', '?', '#', ' ']),
        "not a bot token (like 123456:ABC-DEF...)",
    );
    (Some(Secret(token)), Some(chat_id))
}

fn build(raw: &BTreeMap<&'static str, Raw>, home: &Path) -> Result<Config> {
    let r = Reader::new(raw, home);
    let day = secs(86400);
    // Where it is does not matter, who can write to it does: checked (like
    // OpenSSH's StrictModes) when the directory is used, `files::ensure_dir`.
    let memory_dir = r.path("OPENCLAW_MEMORY_DIR");
    let url = r.url("OPENCLAW_GATEWAY_URL");
    let (telegram_token, telegram_chat_id) = telegram(&r);
    let restart_cmd = r.words("SELFHEAL_RESTART_CMD");
    let openclaw = openclaw::is_openclaw(&url, &restart_cmd);
    let service_logs = service_logs(&r, openclaw);
    let watch_files = watch_files(&r, openclaw);
    let config = Config {
        url: url.clone(),
        shown_url: redact::url(&url),
        http_timeout: r.duration("HEALTH_CHECK_HTTP_TIMEOUT", 10 * MS, secs(300)),
        expect_status: r.parsed(
            "SELFHEAL_EXPECT_STATUS",
            StatusSet::parse(r.get("SELFHEAL_EXPECT_STATUS").0),
            StatusSet(Vec::new()),
        ),
        expect_body: r.string("SELFHEAL_EXPECT_BODY"),
        restart_cmd,
        restart_timeout: r.duration("SELFHEAL_RESTART_TIMEOUT", 10 * MS, secs(3600)),
        max_retries: r.integer("HEALTH_CHECK_MAX_RETRIES", 0, 100),
        retry_delay: r.duration("HEALTH_CHECK_RETRY_DELAY", Duration::ZERO, secs(3600)),
        poll_interval: r.duration("SELFHEAL_POLL_INTERVAL", 10 * MS, secs(600)),
        repair_cmd: r.words("SELFHEAL_REPAIR_CMD"),
        escalation_wait: r.duration("HEALTH_CHECK_ESCALATION_WAIT", Duration::ZERO, day),
        confirm_probes: r.integer("SELFHEAL_CONFIRM_PROBES", 0, 10),
        boot_timeout: r.duration("SELFHEAL_BOOT_TIMEOUT", Duration::ZERO, day),
        restart_limit: r.integer("SELFHEAL_RESTART_LIMIT", 0, 1000),
        restart_window: r.duration("SELFHEAL_RESTART_WINDOW", secs(1), 7 * day),
        service_logs,
        watch_files,
        rollback: r.parsed(
            "SELFHEAL_ROLLBACK",
            r.get("SELFHEAL_ROLLBACK").0.parse(),
            Switch::On,
        ),
        runbook: r.parsed(
            "SELFHEAL_RUNBOOK",
            r.get("SELFHEAL_RUNBOOK").0.parse(),
            Switch::On,
        ),
        maintenance: r.parsed(
            "SELFHEAL_MAINTENANCE",
            window::parse_all(r.get("SELFHEAL_MAINTENANCE").0),
            Vec::new(),
        ),
        digest: r.parsed(
            "SELFHEAL_DIGEST",
            r.get("SELFHEAL_DIGEST").0.parse(),
            Digest::Off,
        ),
        digest_at: r.parsed(
            "SELFHEAL_DIGEST_AT",
            window::parse_clock(r.get("SELFHEAL_DIGEST_AT").0).ok_or("expected HH:MM, e.g. 08:00"),
            8 * 60,
        ),
        channels_only: channels_only(&r),
        warn_rss: r
            .optional("SELFHEAL_WARN_RSS")
            .map(|v| {
                r.parsed(
                    "SELFHEAL_WARN_RSS",
                    crate::fmt::parse_size(&v).map(Some),
                    None,
                )
            })
            .unwrap_or(None),
        warn_disk: r
            .optional("SELFHEAL_WARN_DISK")
            .map(|v| r.parsed("SELFHEAL_WARN_DISK", v.parse().map(Some), None))
            .unwrap_or(None),
        warn_latency: r
            .optional("SELFHEAL_WARN_LATENCY")
            .map(|_| r.duration("SELFHEAL_WARN_LATENCY", Duration::from_micros(1), secs(300))),
        agent_check_interval: r.duration("SELFHEAL_AGENT_CHECK_INTERVAL", Duration::ZERO, 30 * day),
        agent_cmd: r.words("SELFHEAL_AGENT_CMD"),
        agent_fallback_cmd: r.words("SELFHEAL_AGENT_FALLBACK_CMD"),
        agent_workdir: r.path("SELFHEAL_AGENT_WORKDIR"),
        agent_prompt_file: r.optional_path("SELFHEAL_AGENT_PROMPT_FILE"),
        recovery_timeout: r.duration("EMERGENCY_RECOVERY_TIMEOUT", 10 * MS, day),
        startup_wait: r.duration("CLAUDE_STARTUP_WAIT", Duration::ZERO, secs(600)),
        trust_timeout: r.duration("CLAUDE_WORKSPACE_TRUST_TIMEOUT", Duration::ZERO, secs(600)),
        agent_cooldown: r.duration("SELFHEAL_AGENT_COOLDOWN", Duration::ZERO, 30 * day),
        tmux: match r.optional("SELFHEAL_TMUX") {
            Some(t) => t,
            None => "tmux".into(),
        },
        anthropic_api_key: r.optional("ANTHROPIC_API_KEY").map(Secret),
        discord_webhook: r.secret_url("DISCORD_WEBHOOK_URL"),
        slack_webhook: r.secret_url("SLACK_WEBHOOK_URL"),
        telegram_token,
        telegram_chat_id,
        telegram_api: r.url("SELFHEAL_TELEGRAM_API"),
        ntfy_url: r.secret_url("NTFY_URL"),
        webhook_url: r.secret_url("SELFHEAL_WEBHOOK_URL"),
        pagerduty_key: r.optional("PAGERDUTY_ROUTING_KEY").map(Secret),
        pagerduty_api: r.url("SELFHEAL_PAGERDUTY_API"),
        pushover: together(&r, ["PUSHOVER_TOKEN", "PUSHOVER_USER"])
            .map(|[t, u]| (Secret(t), Secret(u))),
        pushover_api: r.url("SELFHEAL_PUSHOVER_API"),
        gotify: together(&r, ["GOTIFY_URL", "GOTIFY_TOKEN"]).map(|[url, t]| {
            r.check(
                "GOTIFY_URL",
                url.starts_with("http://") || url.starts_with("https://"),
                "expected the Gotify server's http:// or https:// URL",
            );
            (url, Secret(t))
        }),
        matrix: matrix(&r),
        heartbeat_url: r.secret_url("SELFHEAL_HEARTBEAT_URL"),
        heartbeat_mode: r.parsed(
            "SELFHEAL_HEARTBEAT_MODE",
            r.get("SELFHEAL_HEARTBEAT_MODE").0.parse(),
            HeartbeatMode::Fail,
        ),
        lang: r.parsed("SELFHEAL_LANG", r.get("SELFHEAL_LANG").0.parse(), Lang::En),
        alert_repeat: r.duration("SELFHEAL_ALERT_REPEAT", Duration::ZERO, 30 * day),
        alert_timeout: r.duration("SELFHEAL_ALERT_TIMEOUT", 10 * MS, secs(120)),
        emergency_alert_window: r.minutes("EMERGENCY_ALERT_WINDOW", secs(60), day),
        memory_dir,
        log_retention_days: r.integer("SELFHEAL_LOG_RETENTION_DAYS", 1, 3650),
        prom_file: r.optional_path("SELFHEAL_PROM_FILE"),
        env_file: None,
        warnings: Vec::new(),
        notes: Vec::new(),
    };
    r.finish()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(env: &[(&str, &str)], overrides: &[(&str, &str)]) -> Sources {
        Sources {
            config_file: None,
            overrides: overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), OsString::from(v)))
                .collect(),
            home: PathBuf::from("/home/u"),
        }
    }

    #[test]
    fn defaults_are_the_specs() {
        let c = load(&sources(&[], &[])).expect("defaults load");
        assert_eq!(c.url, "http://localhost:18789/");
        assert_eq!(c.http_timeout, secs(10));
        assert_eq!(c.restart_cmd, ["openclaw", "gateway", "restart"]);
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.memory_dir, PathBuf::from("/home/u/openclaw/memory"));
        assert_eq!(c.agent_workdir, PathBuf::from("/home/u/.openclaw"));
        assert!(c.expect_status.contains(200) && !c.expect_status.contains(204));
        assert!(c.agent_cmd == ["claude"]);
        assert!(c.discord_webhook.is_none());
    }

    #[test]
    fn flags_beat_environment() {
        let s = sources(
            &[("HEALTH_CHECK_MAX_RETRIES", "5")],
            &[("HEALTH_CHECK_MAX_RETRIES", "7")],
        );
        assert_eq!(load(&s).map(|c| c.max_retries).ok(), Some(7));
    }

    #[test]
    fn invalid_values_name_the_key() {
        for (key, value) in [
            ("HEALTH_CHECK_HTTP_TIMEOUT", "abc"),
            ("HEALTH_CHECK_HTTP_TIMEOUT", "-1"),
            ("HEALTH_CHECK_HTTP_TIMEOUT", "1e400"),
            ("HEALTH_CHECK_HTTP_TIMEOUT", ""),
            ("HEALTH_CHECK_MAX_RETRIES", "3.5"),
            ("HEALTH_CHECK_MAX_RETRIES", "99999999999"),
            ("SELFHEAL_EXPECT_STATUS", "200-100"),
            ("SELFHEAL_EXPECT_STATUS", "abc"),
            ("OPENCLAW_GATEWAY_URL", "ftp://x/"),
            ("OPENCLAW_GATEWAY_URL", "not a url"),
            ("OPENCLAW_GATEWAY_URL", "http://127.0.0.1:99999/"),
            ("OPENCLAW_GATEWAY_URL", "http://127.0.0.1:0/"),
            ("SELFHEAL_RESTART_CMD", "restart | tee"),
            ("SELFHEAL_LANG", "fr"),
            ("OPENCLAW_MEMORY_DIR", "relative/dir"),
            ("SELFHEAL_LOG_RETENTION_DAYS", "0"),
        ] {
            match load(&sources(&[(key, value)], &[])) {
                Err(e @ Error::Config { .. }) => {
                    assert_eq!(e.code(), 2);
                    assert!(e.to_string().contains(key), "{e}");
                }
                other => panic!("{key}={value:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn secret_values_are_redacted_in_errors() {
        let e =
            load(&sources(&[("DISCORD_WEBHOOK_URL", "nope-SECRET")], &[])).expect_err("bad URL");
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }

    #[test]
    fn credentials_in_the_service_url_are_secrets() {
        let c = load(&sources(
            &[(
                "OPENCLAW_GATEWAY_URL",
                "http://admin:PassW0rd@127.0.0.1:18789/health?token=TOKEN123&x=1",
            )],
            &[],
        ))
        .expect("valid");
        let s = c.secrets();
        for secret in ["admin:PassW0rd", "PassW0rd", "TOKEN123"] {
            assert!(s.contains(&secret), "{secret} not in {s:?}");
        }
        assert_eq!(c.shown_url, "http://127.0.0.1:18789/health?…");
    }

    #[test]
    fn status_sets() {
        let s = StatusSet::parse("200, 204,300-399").expect("valid");
        assert!(s.contains(204) && s.contains(302) && !s.contains(201));
        assert_eq!(s.to_string(), "200,204,300-399");
    }
}
