//! Every setting, declared once (`settings!`): the field of `Config` it
//! fills, its key, its default, the kind of value it holds and its help.
//! The `KEYS` table, the fields of `Config` and the code that reads them
//! come from that one declaration; so do the README's table and
//! `contrib/selfheal.env.example` (`make docs`). The channels' keys are
//! declared in their own files (`crate::channel`) and joined here by `all`.
//!
//! Also the old scripts' keys (`ALIASES`, `IGNORED`) and OpenClaw's own
//! that look like ours (`FOREIGN`). Data only: `mod.rs` merges and builds.

use std::path::PathBuf;
use std::time::Duration;

use super::MS;
use crate::channel::Channel;
use crate::key::window::{self, Window};
use crate::key::{self, Key, Parse, Reader, Secret};
use crate::openclaw;
use crate::profile::Preset;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
const DAY: Duration = secs(86400);

/// `derived { fields }` (filled by `build`), then one line per setting:
/// `name: Type = "KEY", "default", how it is read [, secret];` with the
/// help as doc comments. Generates `Config`'s setting fields, `SETTINGS`
/// and `Config::read`, which reads them all in order.
macro_rules! settings {
    (
        derived {
            $($(#[doc = $dhelp:literal])* $dfield:ident : $dty:ty,)*
        }
        $($(#[doc = $help:literal])* $field:ident : $ty:ty = $name:literal, $default:literal,
            $parse:expr $(, $secret:ident)?;)*
    ) => {
        /// The whole, validated configuration, passed down by reference.
        #[derive(Debug, Clone)]
        pub struct Config {
            $($(#[doc = $help])* pub $field: $ty,)*
            $($(#[doc = $dhelp])* pub $dfield: $dty,)*
        }

        /// Every setting (the channels' keys are in `crate::channel`).
        pub const SETTINGS: &[Key] = &[
            $(Key::new($name, $default, concat!($($help, "\n"),*))$(.$secret())?,)*
        ];

        impl Config {
            /// Every setting read; the derived fields are left empty for
            /// `build` to fill.
            pub(super) fn read(r: &Reader) -> Config {
                Config {
                    $($field: Parse::read(&$parse, r, $name),)*
                    $($dfield: Default::default(),)*
                }
            }
        }
    };
}

settings! {
    derived {
        /// `url` as it may be shown: no user info, no query.
        shown_url: String,
        /// The service's name: its file's name in the services directory,
        /// else `openclaw` for the gateway and `default` for others (the
        /// `service` label of the Prometheus textfile).
        service_name: String,
        /// The agent and its fallback, with their profiles (`crate::profile`).
        agents: Vec<crate::profile::Agent>,
        /// The configured channels (`crate::channel`).
        channels: Vec<crate::channel::Target>,
        /// The env file that was read, if any.
        env_file: Option<PathBuf>,
        /// Things worth telling the user that do not stop the run.
        warnings: Vec<super::Warning>,
        /// Old keys taken as ours or ignored: told by `doctor` and `check -v`,
        /// never on every run's stderr.
        notes: Vec<String>,
    }

    /// URL probed (GET). `localhost` means both 127.0.0.1 and ::1.
    url: String = "OPENCLAW_GATEWAY_URL", "http://localhost:18789/", key::Url;
    /// What the service is: `auto` recognises the OpenClaw gateway by its
    /// default port, a restart command that runs `openclaw`, or (at an
    /// incident) a port owner that is OpenClaw; `openclaw` says so for a
    /// gateway on another port behind a script of your own (its config
    /// check, logs, service manager and config file are then used);
    /// `generic`: none of that.
    service: key::values::ServiceKind = "SELFHEAL_SERVICE", "auto", key::Parsed::new();
    /// One probe, connect to last byte (10 ms – 300 s).
    http_timeout: Duration = "HEALTH_CHECK_HTTP_TIMEOUT", "10", key::Secs(MS * 10, secs(300));
    /// Healthy statuses: a list and ranges, `200,204` or `200-299`.
    expect_status: key::values::StatusSet = "SELFHEAL_EXPECT_STATUS", "200", key::Parsed::new();
    /// Text that must appear in the first 64 KiB of the body, e.g. `"ok":true`
    /// for `/healthz` (in the env file: `SELFHEAL_EXPECT_BODY='"ok":true'`).
    expect_body: String = "SELFHEAL_EXPECT_BODY", "", key::Text;
    /// Level 2's restart, split into words like a shell would and run without
    /// one (`sh -c '…'` for pipes); empty: no restart, only the waits.
    restart_cmd: Vec<String> = "SELFHEAL_RESTART_CMD", "openclaw gateway restart", key::Words;
    /// The restart (and repair) command and all its children are killed after
    /// this.
    restart_timeout: Duration = "SELFHEAL_RESTART_TIMEOUT", "60", key::Secs(MS * 10, secs(3600));
    /// Restart attempts (0 – 100).
    max_retries: u32 = "HEALTH_CHECK_MAX_RETRIES", "3", key::Int(0, 100);
    /// After each restart, the longest wait for health (polled) — at least; it
    /// grows to 2 × the slowest of the last 10 boots.
    retry_delay: Duration = "HEALTH_CHECK_RETRY_DELAY", "30", key::Secs(Duration::ZERO, secs(3600));
    /// Seconds between probes while waiting.
    poll_interval: Duration = "SELFHEAL_POLL_INTERVAL", "2", key::Secs(MS * 10, secs(600));
    /// A failed probe is probed again this many times, `SELFHEAL_POLL_INTERVAL`
    /// apart, before anything is done (0 – 10); a blip heals and pages nothing.
    confirm_probes: u32 = "SELFHEAL_CONFIRM_PROBES", "2", key::Int(0, 10);
    /// The most a learned boot time may stretch the wait after a restart.
    boot_timeout: Duration = "SELFHEAL_BOOT_TIMEOUT", "600", key::Secs(Duration::ZERO, DAY);
    /// More restarts than this within the window is a crash loop: no blind
    /// restart (one after an exponential backoff); 0 = no brake.
    restart_limit: u32 = "SELFHEAL_RESTART_LIMIT", "5", key::Int(0, 1000);
    /// The crash-loop and flapping window (1 s – 7 d).
    restart_window: Duration = "SELFHEAL_RESTART_WINDOW", "3600", key::Secs(secs(1), DAY * 7);
    /// The service's own logs, read for evidence: absolute paths (or `~/`),
    /// `*`/`?` in the file name, `{date}` = today's `YYYY-MM-DD`. `auto`: the
    /// OpenClaw gateway's (`/tmp/openclaw/openclaw-{date}.log`,
    /// `~/.openclaw/logs/gateway.err.log`, `gateway.log`, and
    /// `~/Library/Logs/openclaw/` on macOS) for the gateway, none for other
    /// services.
    service_logs: Vec<String> = "SELFHEAL_SERVICE_LOGS", "auto", LogPatterns;
    /// Run once after the first failed restart (then one more restart), e.g.
    /// `openclaw doctor --fix --non-interactive`.
    repair_cmd: Vec<String> = "SELFHEAL_REPAIR_CMD", "", key::Words;
    /// Config files whose last working version is kept and restored
    /// (rollback); `auto`: for the OpenClaw gateway its `openclaw.json`
    /// (`$OPENCLAW_CONFIG_PATH`, else `$OPENCLAW_STATE_DIR/openclaw.json`, else
    /// `~/.openclaw/openclaw.json`), none for other services; absolute paths or
    /// `~/`.
    watch_files: Vec<PathBuf> = "SELFHEAL_WATCH_FILES", "auto", WatchFiles;
    /// `off`: keep nothing, restore nothing.
    rollback: key::values::Switch = "SELFHEAL_ROLLBACK", "on", key::Parsed::new();
    /// `off`: never reinstall the last working version of the service's
    /// install (README: The last working install).
    reinstall: key::values::Switch = "SELFHEAL_REINSTALL", "on", key::Parsed::new();
    /// How to put back the last working install: `{version}`, `{package}`,
    /// `{prefix}` filled in; `auto`: npm's own for an npm package (`npm
    /// install [-g] --prefix {prefix} {package}@{version}`).
    reinstall_cmd: Vec<String> = "SELFHEAL_REINSTALL_CMD", "auto", key::Words;
    /// The reinstall's bound (installs take minutes).
    reinstall_timeout: Duration = "SELFHEAL_REINSTALL_TIMEOUT", "600", key::Secs(secs(1), DAY);
    /// The executable whose install is watched (empty: OpenClaw's
    /// `openclaw`, else the restart command's program).
    install_bin: Option<PathBuf> = "SELFHEAL_INSTALL_BIN", "", key::OptPath;
    /// For an install that is not an npm package: prints its version (run
    /// only when the executable changed).
    version_cmd: Vec<String> = "SELFHEAL_VERSION_CMD", "", key::Words;
    /// `off`: keep and replay no fixes learned from the agent.
    runbook: key::values::Switch = "SELFHEAL_RUNBOOK", "on", key::Parsed::new();
    /// Recurring maintenance windows, local time: `Sun 03:00-04:00`, `daily
    /// 02:30-02:45`, `Mon-Fri 12:00-12:10` (also `weekdays`, `weekends`,
    /// `Sat+Sun`), several separated by `,`; a window may cross midnight. Inside
    /// one a check behaves as during `pause`.
    maintenance: Vec<Window> = "SELFHEAL_MAINTENANCE", "", Windows;
    /// After the last failed restart, wait (polled) before level 3.
    escalation_wait: Duration = "HEALTH_CHECK_ESCALATION_WAIT", "300", key::Secs(Duration::ZERO, DAY);
    /// Which agent CLI level 3 runs: `claude`, `codex`, `codex-oss` (a local
    /// model served by Ollama), `gemini`, or `custom` (SELFHEAL_AGENT_CMD);
    /// `auto`: the one SELFHEAL_AGENT_CMD runs, else claude. README: "Any
    /// agent".
    agent: Preset = "SELFHEAL_AGENT", "auto", key::Parsed::new();
    /// Level 3 agent command (unset: the preset's); `{prompt_file}`
    /// (preferred: `{prompt}` puts the prompt in argv) makes it
    /// non-interactive; empty disables level 3.
    agent_cmd: Vec<String> = "SELFHEAL_AGENT_CMD", "claude", key::Words;
    /// Tried when the first agent cannot work (quota, auth, network,
    /// missing); a preset's name alone (`codex`) is its command.
    agent_fallback_cmd: Vec<String> = "SELFHEAL_AGENT_FALLBACK_CMD", "", key::Words;
    /// The model a preset's command asks for (its own flag); a command of
    /// your own names its model itself.
    agent_model: String = "SELFHEAL_AGENT_MODEL", "", key::Text;
    /// The agent's working directory (the tool's directory if it does not
    /// exist).
    agent_workdir: PathBuf = "SELFHEAL_AGENT_WORKDIR", "~/.openclaw", key::AbsPath;
    /// Replaces the built-in prompt (placeholders in the README).
    agent_prompt_file: Option<PathBuf> = "SELFHEAL_AGENT_PROMPT_FILE", "", key::OptPath;
    /// Level 3 budget.
    recovery_timeout: Duration = "EMERGENCY_RECOVERY_TIMEOUT", "1800", key::Secs(MS * 10, DAY);
    /// With the next key: how long to look for the agent's trust dialog.
    startup_wait: Duration = "CLAUDE_STARTUP_WAIT", "5", key::Secs(Duration::ZERO, secs(600));
    /// See above.
    trust_timeout: Duration = "CLAUDE_WORKSPACE_TRUST_TIMEOUT", "10", key::Secs(Duration::ZERO, secs(600));
    /// After a failed level 3, no agent for this long.
    agent_cooldown: Duration = "SELFHEAL_AGENT_COOLDOWN", "3600", key::Secs(Duration::ZERO, DAY * 30);
    /// While healthy, ask the agent one tiny question at most this often (a
    /// few tokens), and warn once when it cannot work; `0`: never.
    agent_check_interval: Duration = "SELFHEAL_AGENT_CHECK_INTERVAL", "86400", key::Secs(Duration::ZERO, DAY * 30);
    /// The tmux program (a name on PATH or a path).
    tmux: String = "SELFHEAL_TMUX", "tmux", key::TextOr("tmux");
    /// Passed to the agent in its environment; never logged, never in argv.
    anthropic_api_key: Option<Secret> = "ANTHROPIC_API_KEY", "", key::SecretText, secret;
    /// Passed to the codex presets (and a custom agent) like the key above.
    openai_api_key: Option<Secret> = "OPENAI_API_KEY", "", key::SecretText, secret;
    /// Passed to the gemini preset (and a custom agent) like the key above.
    gemini_api_key: Option<Secret> = "GEMINI_API_KEY", "", key::SecretText, secret;
    /// Dead-man's switch (healthchecks.io style): GET after every run,
    /// `URL/fail` when unhealthy, `URL/start` when healing begins, and the
    /// run's log as the body when it healed.
    heartbeat_url: Option<Secret> = "SELFHEAL_HEARTBEAT_URL", "", key::SecretUrl, secret;
    /// `fail`: `URL` or `URL/fail`; `exit`: `URL/<exit code>`.
    heartbeat_mode: key::values::HeartbeatMode = "SELFHEAL_HEARTBEAT_MODE", "fail", key::Parsed::new();
    /// Early warning when the service's process (the owner of the URL's port)
    /// uses more memory than this (`1.5G`, `512M`).
    warn_rss: Option<u64> = "SELFHEAL_WARN_RSS", "", key::OptSize;
    /// Where the live service says whether it is ready: `auto` (OpenClaw's
    /// `/readyz`), `off`, or a URL. Live but not ready for
    /// SELFHEAL_READY_GRACE checks is an incident of its own.
    ready_url: key::values::ReadyUrl = "SELFHEAL_READY_URL", "auto", key::Parsed::new();
    /// The gateway's own token (OpenClaw's key): sent as `Authorization:
    /// Bearer` to the readiness URL, which wants it from callers not on
    /// loopback; never logged.
    gateway_token: Option<Secret> = "OPENCLAW_GATEWAY_TOKEN", "", key::SecretText, secret;
    /// Checks in a row not ready (none within its boot) before it is healed.
    ready_grace: u32 = "SELFHEAL_READY_GRACE", "3", key::Int(1, 100);
    /// Restart the healthy service when its memory stays over this (`1.5G`)
    /// for SELFHEAL_RESTART_RSS_FOR checks in a row: a leak restarted by
    /// selfheal in the afternoon, not by the OOM killer at night.
    restart_rss: Option<u64> = "SELFHEAL_RESTART_RSS", "", key::OptSize;
    /// Checks in a row over SELFHEAL_RESTART_RSS before that restart.
    restart_rss_for: u32 = "SELFHEAL_RESTART_RSS_FOR", "5", key::Int(1, 1000);
    /// Early warning when the tool directory's or the service's filesystem has
    /// less free space than this (`2G` or `5%`).
    warn_disk: Option<key::DiskFree> = "SELFHEAL_WARN_DISK", "", key::OptParsed::new();
    /// Early warning when the probe is slower than this (`2s`, `500ms`) three
    /// runs in a row.
    warn_latency: Option<Duration> = "SELFHEAL_WARN_LATENCY", "", key::OptSecs(Duration::from_micros(1), secs(300));
    /// The channels alerts go to: `all` configured ones, or names separated by
    /// commas (`slack,ntfy`).
    channels_only: Option<Vec<Channel>> = "SELFHEAL_CHANNELS", "all", OnlyChannels;
    /// `daily` or `weekly`: push the summary of `selfheal stats` to every
    /// channel once per period.
    digest: key::values::Digest = "SELFHEAL_DIGEST", "off", key::Parsed::new();
    /// Local time of day the digest is due (the first check after it sends it).
    digest_at: u32 = "SELFHEAL_DIGEST_AT", "08:00", ClockTime;
    /// Alert language: `en` or `ko`.
    lang: key::values::Lang = "SELFHEAL_LANG", "en", key::Parsed::new();
    /// Seconds between reminders while an incident stays open; 0 = none.
    alert_repeat: Duration = "SELFHEAL_ALERT_REPEAT", "0", key::Secs(Duration::ZERO, DAY * 30);
    /// One webhook attempt; at most three per message and channel (tests scale
    /// it down).
    alert_timeout: Duration = "SELFHEAL_ALERT_TIMEOUT", "10", key::Secs(MS * 10, secs(120));
    /// `monitor`: level 3 logs changed within this many minutes are looked at
    /// (the old scripts' key and unit).
    emergency_alert_window: Duration = "EMERGENCY_ALERT_WINDOW", "30", key::Minutes(secs(60), DAY);
    /// The tool's directory: logs, metrics, state, lock. Must be absolute (or
    /// `~/`); refused (exit 3) when others can write it or one of its parents.
    memory_dir: PathBuf = "OPENCLAW_MEMORY_DIR", "~/openclaw/memory", key::AbsPath;
    /// `rotate` (run by every `check`) deletes the tool's logs older than this
    /// (1 – 3650).
    log_retention_days: u32 = "SELFHEAL_LOG_RETENTION_DAYS", "14", key::Int(1, 3650);
    /// Write Prometheus text-format metrics there after each `check`
    /// (atomically), for node_exporter's textfile collector.
    prom_file: Option<PathBuf> = "SELFHEAL_PROM_FILE", "", key::OptPath;

}

/// Where the README's table and the env example start a new section:
/// (the first key of it, its title).
pub const SECTIONS: &[(&str, &str)] = &[
    ("OPENCLAW_GATEWAY_URL", "What to watch"),
    ("SELFHEAL_RESTART_CMD", "Level 2: restart"),
    ("SELFHEAL_AGENT", "Level 3: AI recovery"),
    ("DISCORD_WEBHOOK_URL", "Level 4: alerts"),
    ("OPENCLAW_MEMORY_DIR", "Files"),
];

/// Every key selfheal reads, in the order of the README: the settings up to
/// the alerts, the channels' keys, then the rest.
pub fn all() -> impl Iterator<Item = &'static Key> {
    let split = SETTINGS
        .iter()
        .position(|k| k.name == "ANTHROPIC_API_KEY")
        .map_or(SETTINGS.len(), |i| i + 1);
    let (head, tail) = SETTINGS.split_at(split);
    head.iter()
        .chain(Channel::ALL.iter().flat_map(|c| c.keys()))
        .chain(tail)
}

/// The declaration of `name`, if selfheal reads it.
pub fn find(name: &str) -> Option<&'static Key> {
    all().find(|k| k.name == name)
}

/// `SELFHEAL_SERVICE_LOGS`: `auto` is the OpenClaw gateway's logs for the
/// gateway and none for other services; otherwise absolute paths (or `~/`),
/// with `*` in the file name and `{date}` allowed.
struct LogPatterns;

impl Parse for LogPatterns {
    type Out = Vec<String>;
    fn read(&self, r: &Reader, key: &str) -> Vec<String> {
        let words = r.words(key);
        let words: Vec<String> = match words.as_slice() {
            [auto] if auto == "auto" => match r.openclaw {
                true => openclaw::LOGS.iter().map(|s| s.to_string()).collect(),
                false => Vec::new(),
            },
            _ => words,
        };
        let mut paths = Vec::new();
        for w in words {
            let p = crate::sys::files::expand_home(std::path::Path::new(&w), r.home);
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
}

/// `SELFHEAL_WATCH_FILES`: `auto` is the gateway's config for the OpenClaw
/// gateway, none for other services; otherwise absolute paths (or `~/`).
struct WatchFiles;

impl Parse for WatchFiles {
    type Out = Vec<PathBuf>;
    fn read(&self, r: &Reader, key: &str) -> Vec<PathBuf> {
        let words = r.words(key);
        if let [auto] = words.as_slice() {
            if auto == "auto" {
                return r
                    .openclaw
                    .then(|| openclaw::config_path(r.home))
                    .into_iter()
                    .collect();
            }
        }
        words
            .iter()
            .map(|w| {
                let p = crate::sys::files::expand_home(std::path::Path::new(w), r.home);
                r.check(
                    key,
                    p.is_absolute() && p.file_name().is_some(),
                    format!("{w:?} must be an absolute path of a file (or start with ~/)"),
                );
                p
            })
            .collect()
    }
}

/// `SELFHEAL_MAINTENANCE`.
struct Windows;

impl Parse for Windows {
    type Out = Vec<Window>;
    fn read(&self, r: &Reader, key: &str) -> Vec<Window> {
        r.parsed(key, window::parse_all(r.get(key).0), Vec::new())
    }
}

/// `HH:MM` → minutes after midnight.
struct ClockTime;

impl Parse for ClockTime {
    type Out = u32;
    fn read(&self, r: &Reader, key: &str) -> u32 {
        r.parsed(
            key,
            window::parse_clock(r.get(key).0).ok_or("expected HH:MM, e.g. 08:00"),
            8 * 60,
        )
    }
}

/// `SELFHEAL_CHANNELS`: `all`, or channel names separated by commas.
struct OnlyChannels;

impl Parse for OnlyChannels {
    type Out = Option<Vec<Channel>>;
    fn read(&self, r: &Reader, key: &str) -> Option<Vec<Channel>> {
        let value = r.get(key).0.trim().to_ascii_lowercase();
        if value.is_empty() || value == "all" {
            return None;
        }
        let mut only = Vec::new();
        for name in value.split([',', ' ']).filter(|n| !n.is_empty()) {
            match Channel::from_name(name) {
                Some(c) => only.push(c),
                None => {
                    let names: Vec<&str> = Channel::ALL.iter().map(|c| c.name()).collect();
                    r.check(
                        key,
                        false,
                        format!(
                            "unknown channel {name:?}: expected all, or some of {}",
                            names.join(", ")
                        ),
                    );
                }
            }
        }
        Some(only)
    }
}

/// How an old key's value becomes the value of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convert {
    Same,
    /// A number of hours → a duration.
    Hours,
    /// A number of megabytes → a size.
    Megabytes,
    /// The gateway's port → its URL on localhost.
    Port,
    /// An ntfy topic (with `NTFY_SERVER`, default ntfy.sh) → `NTFY_URL`.
    NtfyTopic,
    /// The old scripts' LLM provider → the agent preset that speaks to it:
    /// `openai` → `codex`, `ollama` → `codex-oss` (a local model).
    LlmProvider,
}

/// Keys of the `openclaw-self-healing` scripts (their `.env.example`,
/// `scripts/lib/notify.sh`, `gateway-watchdog.sh`) that mean what one of ours
/// means: (old, ours, conversion). Used only when ours is not set.
pub const ALIASES: &[(&str, &str, Convert)] = &[
    ("NOTIFICATION_CHANNEL", "SELFHEAL_CHANNELS", Convert::Same),
    (
        "OPENCLAW_WATCHDOG_HEALTH_TIMEOUT",
        "HEALTH_CHECK_HTTP_TIMEOUT",
        Convert::Same,
    ),
    (
        "OPENCLAW_WATCHDOG_MAX_RETRIES",
        "SELFHEAL_RESTART_LIMIT",
        Convert::Same,
    ),
    (
        "OPENCLAW_WATCHDOG_CRASH_DECAY_HOURS",
        "SELFHEAL_RESTART_WINDOW",
        Convert::Hours,
    ),
    (
        "OPENCLAW_WATCHDOG_MEMORY_WARN_MB",
        "SELFHEAL_WARN_RSS",
        Convert::Megabytes,
    ),
    (
        "OPENCLAW_WATCHDOG_MEMORY_CRITICAL_MB",
        "SELFHEAL_RESTART_RSS",
        Convert::Megabytes,
    ),
    (
        "OPENCLAW_GATEWAY_PORT",
        "OPENCLAW_GATEWAY_URL",
        Convert::Port,
    ),
    ("NTFY_TOPIC", "NTFY_URL", Convert::NtfyTopic),
    (
        "OPENCLAW_LLM_PROVIDER",
        "SELFHEAL_AGENT",
        Convert::LlmProvider,
    ),
    ("OPENCLAW_LLM_MODEL", "SELFHEAL_AGENT_MODEL", Convert::Same),
];

/// What changes with an old key's meaning here (said after its note).
pub const ALIAS_NOTES: &[(&str, &str)] = &[
    (
        "OPENCLAW_LLM_PROVIDER",
        "The old scripts named a provider; selfheal runs that provider's agent CLI at \
         level 3 (README: Any agent)",
    ),
    (
        "OPENCLAW_WATCHDOG_MEMORY_CRITICAL_MB",
        "The old watchdog only alerted at this threshold; selfheal restarts the service once its \
     memory stays over it for SELFHEAL_RESTART_RSS_FOR checks (5), inside the crash-loop brake",
    ),
];

/// Keys of the old scripts with no meaning here, and why: reported by
/// `doctor` (and `check -v`), never an error.
pub const IGNORED: &[(&str, &str)] = &[
    (
        "OPENCLAW_WATCHDOG_ESCALATE_TO_L3_AFTER",
        "level 3 starts in the run whose level 2 failed (HEALTH_CHECK_ESCALATION_WAIT)",
    ),
    (
        "WORKSPACE_TRUST_CONFIRM_WAIT",
        "the trust dialog is answered as soon as it is seen",
    ),
    ("NTFY_SERVER", "used only with NTFY_TOPIC"),
];

/// Keys of OpenClaw itself that look like ours (`OPENCLAW_GATEWAY_*`): not
/// typos, and not ours to mention.
pub const FOREIGN: &[&str] = &["OPENCLAW_GATEWAY_PASSWORD"];

/// Whether a key's value may be shown in a message: not for selfheal's
/// secret keys, not for any key whose name looks secret, and not for keys
/// selfheal does not know (the env file is OpenClaw's too).
pub fn looks_secret(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    find(key).is_none_or(|k| k.secret)
        || [
            "TOKEN",
            "KEY",
            "SECRET",
            "PASSWORD",
            "PASSWD",
            "WEBHOOK",
            "AUTH",
            "CREDENTIAL",
        ]
        .iter()
        .any(|w| upper.contains(w))
}
