//! The table of configuration keys: every key selfheal reads, its default,
//! and which ones hold secrets. Data only; `mod.rs` validates the values.

/// Every key selfheal reads, with its default (README "Configuration").
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
    ("SELFHEAL_CONFIRM_PROBES", "2"),
    ("SELFHEAL_BOOT_TIMEOUT", "600"),
    ("SELFHEAL_RESTART_LIMIT", "5"),
    ("SELFHEAL_RESTART_WINDOW", "3600"),
    ("SELFHEAL_SERVICE_LOGS", "auto"),
    ("SELFHEAL_REPAIR_CMD", ""),
    ("SELFHEAL_WATCH_FILES", "auto"),
    ("SELFHEAL_ROLLBACK", "on"),
    ("SELFHEAL_RUNBOOK", "on"),
    ("SELFHEAL_MAINTENANCE", ""),
    ("HEALTH_CHECK_ESCALATION_WAIT", "300"),
    ("SELFHEAL_AGENT_CMD", "claude"),
    ("SELFHEAL_AGENT_FALLBACK_CMD", ""),
    ("SELFHEAL_AGENT_WORKDIR", "~/.openclaw"),
    ("SELFHEAL_AGENT_PROMPT_FILE", ""),
    ("EMERGENCY_RECOVERY_TIMEOUT", "1800"),
    ("CLAUDE_STARTUP_WAIT", "5"),
    ("CLAUDE_WORKSPACE_TRUST_TIMEOUT", "10"),
    ("SELFHEAL_AGENT_COOLDOWN", "3600"),
    ("SELFHEAL_AGENT_CHECK_INTERVAL", "86400"),
    ("SELFHEAL_TMUX", "tmux"),
    ("ANTHROPIC_API_KEY", ""),
    ("DISCORD_WEBHOOK_URL", ""),
    ("SLACK_WEBHOOK_URL", ""),
    ("TELEGRAM_BOT_TOKEN", ""),
    ("TELEGRAM_CHAT_ID", ""),
    ("SELFHEAL_TELEGRAM_API", "https://api.telegram.org"),
    ("NTFY_URL", ""),
    ("SELFHEAL_WEBHOOK_URL", ""),
    ("PAGERDUTY_ROUTING_KEY", ""),
    ("SELFHEAL_PAGERDUTY_API", "https://events.pagerduty.com"),
    ("PUSHOVER_TOKEN", ""),
    ("PUSHOVER_USER", ""),
    ("SELFHEAL_PUSHOVER_API", "https://api.pushover.net"),
    ("GOTIFY_URL", ""),
    ("GOTIFY_TOKEN", ""),
    ("MATRIX_HOMESERVER", ""),
    ("MATRIX_ROOM_ID", ""),
    ("MATRIX_ACCESS_TOKEN", ""),
    ("SELFHEAL_HEARTBEAT_URL", ""),
    ("SELFHEAL_HEARTBEAT_MODE", "fail"),
    ("SELFHEAL_LANG", "en"),
    ("SELFHEAL_ALERT_REPEAT", "0"),
    ("SELFHEAL_ALERT_TIMEOUT", "10"),
    ("SELFHEAL_DIGEST", "off"),
    ("SELFHEAL_DIGEST_AT", "08:00"),
    ("EMERGENCY_ALERT_WINDOW", "30"),
    ("OPENCLAW_MEMORY_DIR", "~/openclaw/memory"),
    ("SELFHEAL_LOG_RETENTION_DAYS", "14"),
    ("SELFHEAL_PROM_FILE", ""),
    ("SELFHEAL_CHANNELS", "all"),
    ("SELFHEAL_WARN_RSS", ""),
    ("SELFHEAL_WARN_DISK", ""),
    ("SELFHEAL_WARN_LATENCY", ""),
];

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
        "OPENCLAW_GATEWAY_PORT",
        "OPENCLAW_GATEWAY_URL",
        Convert::Port,
    ),
    ("NTFY_TOPIC", "NTFY_URL", Convert::NtfyTopic),
];

/// Keys of the old scripts with no meaning here, and why: reported by
/// `doctor` (and `check -v`), never an error.
pub const IGNORED: &[(&str, &str)] = &[
    (
        "OPENCLAW_WATCHDOG_MEMORY_CRITICAL_MB",
        "selfheal has one memory threshold, SELFHEAL_WARN_RSS",
    ),
    (
        "OPENCLAW_WATCHDOG_ESCALATE_TO_L3_AFTER",
        "level 3 starts in the run whose level 2 failed (HEALTH_CHECK_ESCALATION_WAIT)",
    ),
    (
        "WORKSPACE_TRUST_CONFIRM_WAIT",
        "the trust dialog is answered as soon as it is seen",
    ),
    (
        "OPENCLAW_LLM_PROVIDER",
        "the agent is a command: set SELFHEAL_AGENT_CMD",
    ),
    (
        "OPENCLAW_LLM_MODEL",
        "the agent is a command: set SELFHEAL_AGENT_CMD (e.g. `claude --model ...`)",
    ),
    ("NTFY_SERVER", "used only with NTFY_TOPIC"),
];

/// Keys of OpenClaw itself that look like ours (`OPENCLAW_GATEWAY_*`): not
/// typos, and not ours to mention.
pub const FOREIGN: &[&str] = &["OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_PASSWORD"];

/// The channel names `SELFHEAL_CHANNELS` accepts (`alert::channels` has the
/// same names; a unit test there holds them equal).
pub const CHANNEL_NAMES: &[&str] = &[
    "discord",
    "slack",
    "telegram",
    "ntfy",
    "webhook",
    "pagerduty",
    "pushover",
    "gotify",
    "matrix",
];

/// Keys whose values are never shown anywhere.
pub const SECRET_KEYS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "DISCORD_WEBHOOK_URL",
    "SLACK_WEBHOOK_URL",
    "TELEGRAM_BOT_TOKEN",
    "NTFY_URL",
    "SELFHEAL_WEBHOOK_URL",
    "SELFHEAL_HEARTBEAT_URL",
    "PAGERDUTY_ROUTING_KEY",
    "PUSHOVER_TOKEN",
    "PUSHOVER_USER",
    "GOTIFY_TOKEN",
    "MATRIX_ACCESS_TOKEN",
];

/// Whether a key's value may be shown in a message: not for selfheal's
/// secret keys, not for any key whose name looks secret, and not for keys
/// selfheal does not know (the env file is OpenClaw's too).
pub fn looks_secret(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    SECRET_KEYS.contains(&key)
        || !KEYS.iter().any(|(k, _)| *k == key)
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
