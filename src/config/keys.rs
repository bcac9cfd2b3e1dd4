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
