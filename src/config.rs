//! Configuration: every key of SPEC "Configuration", where it comes from, and
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

use crate::envfile;
use crate::error::{Error, Result};
use crate::redact;
use crate::shellwords;

/// Every key selfheal reads, with its default. Keys of the SPEC's table that
/// later levels use are parsed and validated already, so that a typo in them
/// is reported today and not on the night they are first needed.
pub const KEYS: &[(&str, &str)] = &[
    ("OPENCLAW_GATEWAY_URL", "http://localhost:18789/"),
    ("HEALTH_CHECK_HTTP_TIMEOUT", "10"),
    ("SELFHEAL_EXPECT_STATUS", "200"),
    ("SELFHEAL_EXPECT_BODY", ""),
    ("SELFHEAL_RESTART_CMD", "openclaw gateway restart"),
    ("SELFHEAL_RESTART_TIMEOUT", "60"),
    ("HEALTH_CHECK_MAX_RETRIES", "3"),
    ("HEALTH_CHECK_RETRY_DELAY", "30"),
    ("SELFHEAL_POLL_INTERVAL", "2"),
    ("SELFHEAL_REPAIR_CMD", ""),
    ("HEALTH_CHECK_ESCALATION_WAIT", "300"),
    ("SELFHEAL_AGENT_CMD", "claude"),
    ("SELFHEAL_AGENT_FALLBACK_CMD", ""),
    ("SELFHEAL_AGENT_WORKDIR", "~/.openclaw"),
    ("SELFHEAL_AGENT_PROMPT_FILE", ""),
    ("EMERGENCY_RECOVERY_TIMEOUT", "1800"),
    ("CLAUDE_STARTUP_WAIT", "5"),
    ("CLAUDE_WORKSPACE_TRUST_TIMEOUT", "10"),
    ("SELFHEAL_AGENT_COOLDOWN", "3600"),
    ("SELFHEAL_TMUX", "tmux"),
    ("ANTHROPIC_API_KEY", ""),
    ("DISCORD_WEBHOOK_URL", ""),
    ("SLACK_WEBHOOK_URL", ""),
    ("TELEGRAM_BOT_TOKEN", ""),
    ("TELEGRAM_CHAT_ID", ""),
    ("SELFHEAL_TELEGRAM_API", "https://api.telegram.org"),
    ("NTFY_URL", ""),
    ("SELFHEAL_WEBHOOK_URL", ""),
    ("SELFHEAL_HEARTBEAT_URL", ""),
    ("SELFHEAL_LANG", "en"),
    ("SELFHEAL_ALERT_REPEAT", "0"),
    ("SELFHEAL_ALERT_TIMEOUT", "10"),
    ("EMERGENCY_ALERT_WINDOW", "30"),
    ("OPENCLAW_MEMORY_DIR", "~/openclaw/memory"),
    ("SELFHEAL_LOG_RETENTION_DAYS", "14"),
    ("SELFHEAL_PROM_FILE", ""),
];

/// Keys whose values are never shown anywhere.
const SECRET_KEYS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "DISCORD_WEBHOOK_URL",
    "SLACK_WEBHOOK_URL",
    "TELEGRAM_BOT_TOKEN",
    "NTFY_URL",
    "SELFHEAL_WEBHOOK_URL",
    "SELFHEAL_HEARTBEAT_URL",
];

/// Read from the environment but not a setting (names the env file).
const CONFIG_FILE_KEY: &str = "SELFHEAL_CONFIG";

const ENV_FILE_MAX: u64 = 1 << 20;

/// A value that must never be printed. `Debug` shows `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
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
    pub heartbeat_url: Option<Secret>,
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
}

impl Config {
    /// Every secret value, for scrubbing text that comes from outside.
    pub fn secrets(&self) -> Vec<&str> {
        [
            &self.anthropic_api_key,
            &self.discord_webhook,
            &self.slack_webhook,
            &self.telegram_token,
            &self.ntfy_url,
            &self.webhook_url,
            &self.heartbeat_url,
        ]
        .into_iter()
        .flatten()
        .map(Secret::expose)
        .collect()
    }
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

struct Raw {
    value: String,
    source: String,
}

/// Reads, merges and validates the configuration.
pub fn load(sources: &Sources) -> Result<Config> {
    let mut warnings = Vec::new();
    let mut raw: BTreeMap<&'static str, Raw> = KEYS
        .iter()
        .map(|&(k, d)| {
            (
                k,
                Raw {
                    value: d.to_string(),
                    source: "default".into(),
                },
            )
        })
        .collect();

    let env_file = find_env_file(sources)?;
    if let Some(path) = &env_file {
        read_env_file(path, &mut raw, &mut warnings)?;
    }

    for (&key, slot) in raw.iter_mut() {
        if let Some(value) = sources.env.get(key) {
            let value = value.to_str().ok_or_else(|| {
                Error::config(
                    key,
                    "<not UTF-8>",
                    "environment",
                    "the value is not valid UTF-8",
                )
            })?;
            *slot = Raw {
                value: value.to_string(),
                source: "environment".into(),
            };
        }
    }
    for key in sources.env.keys() {
        if key.starts_with("SELFHEAL_") && key != CONFIG_FILE_KEY && !is_known(key) {
            warnings.push(format!("unknown key {key} in the environment (typo?)"));
        }
    }

    for (key, value) in &sources.overrides {
        let Some(slot) = raw.get_mut(key.as_str()) else {
            return Err(Error::Usage(format!("--set: unknown key {key:?}")));
        };
        *slot = Raw {
            value: value.clone(),
            source: "--set".into(),
        };
    }

    let mut config = build(&raw, &sources.home)?;
    config.env_file = env_file;
    config.warnings = warnings;
    Ok(config)
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
    warnings: &mut Vec<String>,
) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
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
                "writable by others (mode {:o}), who could make selfheal run any command; fix: chmod 600 {}",
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
        if ours {
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
        } else if entry.key.starts_with("SELFHEAL_") && entry.key != CONFIG_FILE_KEY {
            warnings.push(format!(
                "{}:{}: unknown key {} (typo?)",
                path.display(),
                entry.line,
                entry.key
            ));
        }
    }
    Ok(())
}

/// Expands a leading `~/` (and a lone `~`); nothing else.
pub fn expand_home(path: &Path, home: &Path) -> PathBuf {
    match path.to_str() {
        Some("~") => home.to_path_buf(),
        Some(s) if s.starts_with("~/") => home.join(&s[2..]),
        _ => path.to_path_buf(),
    }
}

/// Parses `10`, `0.5`, `250ms`, `30s`, `5m`, `2h`, `1d` (bare numbers are seconds).
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        other => return Err(format!("unknown unit {other:?} (use s, m, h, d or ms)")),
    };
    let value: f64 = num
        .parse()
        .map_err(|_| "expected a number of seconds, like 30, 0.5 or 5m".to_string())?;
    let secs = value * scale;
    if !secs.is_finite() || secs > 366.0 * 86400.0 {
        return Err("too large".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Typed access to the merged raw values; every error names key, value, source.
struct Reader<'a> {
    raw: &'a BTreeMap<&'static str, Raw>,
    home: &'a Path,
}

impl Reader<'_> {
    fn get(&self, key: &str) -> (&str, &str) {
        match self.raw.get(key) {
            Some(r) => (r.value.as_str(), r.source.as_str()),
            None => ("", "default"),
        }
    }

    fn fail(&self, key: &str, reason: impl Into<String>) -> Error {
        let (value, source) = self.get(key);
        let shown = if SECRET_KEYS.contains(&key) {
            "<redacted>".to_string()
        } else {
            value.to_string()
        };
        Error::config(key, &shown, source, reason)
    }

    fn string(&self, key: &str) -> String {
        self.get(key).0.to_string()
    }

    fn optional(&self, key: &str) -> Option<String> {
        let v = self.get(key).0.trim();
        (!v.is_empty()).then(|| v.to_string())
    }

    fn duration(&self, key: &str, min: Duration, max: Duration) -> Result<Duration> {
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
    fn minutes(&self, key: &str, min: Duration, max: Duration) -> Result<Duration> {
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
        self.duration(key, min, max)
    }

    fn integer(&self, key: &str, min: u32, max: u32) -> Result<u32> {
        match self.get(key).0.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.fail(key, format!("expected a whole number from {min} to {max}"))),
        }
    }

    fn words(&self, key: &str) -> Result<Vec<String>> {
        shellwords::split(self.get(key).0).map_err(|e| self.fail(key, e))
    }

    fn url(&self, key: &str) -> Result<String> {
        let v = self.get(key).0.trim();
        check_url(v).map_err(|e| self.fail(key, e))?;
        Ok(v.to_string())
    }

    fn secret_url(&self, key: &str) -> Result<Option<Secret>> {
        match self.optional(key) {
            None => Ok(None),
            Some(_) => Ok(Some(Secret(self.url(key)?))),
        }
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        let p = expand_home(Path::new(self.get(key).0.trim()), self.home);
        if !p.is_absolute() {
            return Err(self.fail(key, "must be an absolute path (or start with ~/)"));
        }
        Ok(p)
    }

    fn optional_path(&self, key: &str) -> Result<Option<PathBuf>> {
        match self.optional(key) {
            None => Ok(None),
            Some(_) => self.path(key).map(Some),
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
    Ok(())
}

pub fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 && s > 0.0 {
        format!("{}ms", d.as_millis())
    } else if s < 120.0 {
        format!("{}s", (s * 10.0).round() / 10.0)
    } else if s < 7200.0 {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    } else {
        format!("{}h{:02}m", d.as_secs() / 3600, d.as_secs() % 3600 / 60)
    }
}

const MS: Duration = Duration::from_millis(1);
const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn build(raw: &BTreeMap<&'static str, Raw>, home: &Path) -> Result<Config> {
    let r = Reader { raw, home };
    let day = secs(86400);
    let memory_dir = r.path("OPENCLAW_MEMORY_DIR")?;
    if ["/tmp", "/var/tmp", "/dev/shm"]
        .iter()
        .any(|t| memory_dir.starts_with(t))
    {
        return Err(r.fail(
            "OPENCLAW_MEMORY_DIR",
            format!(
                "{} is in a shared temporary directory, where other users could take the lock; choose a directory of your own",
                memory_dir.display()
            ),
        ));
    }
    let telegram_token = r.optional("TELEGRAM_BOT_TOKEN").map(Secret);
    let telegram_chat_id = r.optional("TELEGRAM_CHAT_ID");
    if telegram_token.is_some() != telegram_chat_id.is_some() {
        let missing = if telegram_token.is_some() {
            "TELEGRAM_CHAT_ID"
        } else {
            "TELEGRAM_BOT_TOKEN"
        };
        return Err(r.fail(
            missing,
            "Telegram needs both TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID",
        ));
    }
    if let Some(token) = &telegram_token {
        if token.expose().contains(['/', '?', '#', ' ']) {
            return Err(r.fail(
                "TELEGRAM_BOT_TOKEN",
                "not a bot token (like 123456:ABC-DEF...)",
            ));
        }
    }
    Ok(Config {
        url: r.url("OPENCLAW_GATEWAY_URL")?,
        http_timeout: r.duration("HEALTH_CHECK_HTTP_TIMEOUT", 10 * MS, secs(300))?,
        expect_status: StatusSet::parse(r.get("SELFHEAL_EXPECT_STATUS").0)
            .map_err(|e| r.fail("SELFHEAL_EXPECT_STATUS", e))?,
        expect_body: r.string("SELFHEAL_EXPECT_BODY"),
        restart_cmd: r.words("SELFHEAL_RESTART_CMD")?,
        restart_timeout: r.duration("SELFHEAL_RESTART_TIMEOUT", 10 * MS, secs(3600))?,
        max_retries: r.integer("HEALTH_CHECK_MAX_RETRIES", 0, 100)?,
        retry_delay: r.duration("HEALTH_CHECK_RETRY_DELAY", Duration::ZERO, secs(3600))?,
        poll_interval: r.duration("SELFHEAL_POLL_INTERVAL", 10 * MS, secs(600))?,
        repair_cmd: r.words("SELFHEAL_REPAIR_CMD")?,
        escalation_wait: r.duration("HEALTH_CHECK_ESCALATION_WAIT", Duration::ZERO, day)?,
        agent_cmd: r.words("SELFHEAL_AGENT_CMD")?,
        agent_fallback_cmd: r.words("SELFHEAL_AGENT_FALLBACK_CMD")?,
        agent_workdir: r.path("SELFHEAL_AGENT_WORKDIR")?,
        agent_prompt_file: r.optional_path("SELFHEAL_AGENT_PROMPT_FILE")?,
        recovery_timeout: r.duration("EMERGENCY_RECOVERY_TIMEOUT", 10 * MS, day)?,
        startup_wait: r.duration("CLAUDE_STARTUP_WAIT", Duration::ZERO, secs(600))?,
        trust_timeout: r.duration("CLAUDE_WORKSPACE_TRUST_TIMEOUT", Duration::ZERO, secs(600))?,
        agent_cooldown: r.duration("SELFHEAL_AGENT_COOLDOWN", Duration::ZERO, 30 * day)?,
        tmux: match r.optional("SELFHEAL_TMUX") {
            Some(t) => t,
            None => "tmux".into(),
        },
        anthropic_api_key: r.optional("ANTHROPIC_API_KEY").map(Secret),
        discord_webhook: r.secret_url("DISCORD_WEBHOOK_URL")?,
        slack_webhook: r.secret_url("SLACK_WEBHOOK_URL")?,
        telegram_token,
        telegram_chat_id,
        telegram_api: r.url("SELFHEAL_TELEGRAM_API")?,
        ntfy_url: r.secret_url("NTFY_URL")?,
        webhook_url: r.secret_url("SELFHEAL_WEBHOOK_URL")?,
        heartbeat_url: r.secret_url("SELFHEAL_HEARTBEAT_URL")?,
        lang: match r.get("SELFHEAL_LANG").0.trim() {
            "en" | "" => Lang::En,
            "ko" => Lang::Ko,
            _ => return Err(r.fail("SELFHEAL_LANG", "expected en or ko")),
        },
        alert_repeat: r.duration("SELFHEAL_ALERT_REPEAT", Duration::ZERO, 30 * day)?,
        alert_timeout: r.duration("SELFHEAL_ALERT_TIMEOUT", 10 * MS, secs(120))?,
        emergency_alert_window: r.minutes("EMERGENCY_ALERT_WINDOW", secs(60), day)?,
        memory_dir,
        log_retention_days: r.integer("SELFHEAL_LOG_RETENTION_DAYS", 1, 3650)?,
        prom_file: r.optional_path("SELFHEAL_PROM_FILE")?,
        env_file: None,
        warnings: Vec::new(),
    })
}

/// The URL as it may be shown (no user info, no query).
pub fn shown_url(config: &Config) -> String {
    redact::url(&config.url)
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
            ("SELFHEAL_RESTART_CMD", "restart | tee"),
            ("SELFHEAL_LANG", "fr"),
            ("OPENCLAW_MEMORY_DIR", "relative/dir"),
            ("OPENCLAW_MEMORY_DIR", "/tmp/memory"),
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
    fn durations() {
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5m"), Ok(secs(300)));
        assert_eq!(parse_duration("2h"), Ok(secs(7200)));
        for bad in ["", "-1", "1x", "NaN", "inf", "1.2.3", "9999999999999"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn status_sets() {
        let s = StatusSet::parse("200, 204,300-399").expect("valid");
        assert!(s.contains(204) && s.contains(302) && !s.contains(201));
        assert_eq!(s.to_string(), "200,204,300-399");
    }
}
