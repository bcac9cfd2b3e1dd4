//! What runs selfheal and what keeps the service alive between checks:
//! the scheduler (launchd, a systemd timer, cron, or the user's own) and
//! level 1, the OpenClaw gateway's service manager. Asked, bounded; never
//! changed.

use super::{fail, info, ok, Check, QUERY_TIMEOUT};
use crate::config::Config;
use crate::openclaw::{LAUNCHD_LABEL as GATEWAY_LABEL, SYSTEMD_UNIT as GATEWAY_UNIT};
use crate::sys::process;

/// The LaunchAgent `install.sh` writes on macOS.
const LAUNCH_AGENT: &str = "com.openclaw.healthcheck";
const LAUNCH_AGENT_FIX: &str =
    "./install.sh (or launchctl load ~/Library/LaunchAgents/com.openclaw.healthcheck.plist)";

pub fn scheduler() -> Check {
    let name = "scheduler";
    if cfg!(target_os = "macos") {
        return match process::output(&["launchctl", "list", LAUNCH_AGENT], QUERY_TIMEOUT) {
            Some((true, _)) => ok(name, format!("launchd: {LAUNCH_AGENT} is loaded")),
            _ if chose_none(&config_home()) => info(name, CHOSE_NONE),
            _ => fail(
                name,
                format!("the LaunchAgent {LAUNCH_AGENT} is not loaded"),
                LAUNCH_AGENT_FIX,
            ),
        };
    }
    if let Some((true, out)) = process::output(
        &["systemctl", "--user", "is-active", "selfheal.timer"],
        QUERY_TIMEOUT,
    ) {
        return ok(
            name,
            format!("systemd user timer selfheal.timer is {}", out.trim()),
        );
    }
    if let Some((true, out)) = process::output(&["crontab", "-l"], QUERY_TIMEOUT) {
        if out.lines().any(|l| {
            !l.trim_start().starts_with('#') && l.contains("selfheal") && l.contains("check")
        }) {
            return ok(name, "cron: a `selfheal check` line is in the crontab");
        }
    }
    let config_home = config_home();
    if chose_none(&config_home) {
        return info(name, CHOSE_NONE);
    }
    let timer = config_home.join("systemd/user/selfheal.timer");
    let user_manager = process::output(&["systemctl", "--user", "show-environment"], QUERY_TIMEOUT)
        .is_some_and(|(ok, _)| ok);
    if timer.is_file() && !user_manager {
        return fail(
            name,
            format!(
                "{} is installed, but no systemd user manager is reachable from here",
                timer.display()
            ),
            "from a login session: systemctl --user daemon-reload && systemctl --user enable \
             --now selfheal.timer; and, to run while logged out: loginctl enable-linger $USER",
        );
    }
    if !user_manager {
        return fail(
            name,
            NO_SCHEDULER,
            "no systemd user manager here: ./install.sh --scheduler cron (needs crontab), or \
             run `selfheal --quiet check` every few minutes from your own scheduler",
        );
    }
    fail(
        name,
        NO_SCHEDULER,
        "./install.sh (it picks launchd, systemd or cron)",
    )
}

/// The old openclaw-self-healing scripts' schedulers still running: two
/// healers then restart the same gateway. (install.sh switches them off.)
pub fn old_healers() -> Option<Check> {
    let mut found = Vec::new();
    let running = |argv: &[&str]| process::output(argv, QUERY_TIMEOUT).is_some_and(|(ok, _)| ok);
    if cfg!(target_os = "macos") && running(&["launchctl", "list", "ai.openclaw.watchdog"]) {
        found.push("the LaunchAgent ai.openclaw.watchdog".to_string());
    }
    for timer in ["openclaw-watchdog.timer", "openclaw-healthcheck.timer"] {
        if running(&["systemctl", "--user", "is-active", timer]) {
            found.push(format!("the systemd user timer {timer}"));
        }
    }
    if let Some((true, table)) = process::output(&["crontab", "-l"], QUERY_TIMEOUT) {
        let lines = table
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter(|l| {
                [
                    "gateway-watchdog.sh",
                    "gateway-healthcheck.sh",
                    "openclaw-self-healing",
                ]
                .iter()
                .any(|p| l.contains(p))
            })
            .count();
        if lines > 0 {
            found.push(format!("{lines} crontab line(s) running their scripts"));
        }
    }
    (!found.is_empty()).then(|| {
        fail(
            "old healers",
            format!(
                "the old openclaw-self-healing scripts still run ({}): two healers restart the \
                 same gateway",
                found.join(", ")
            ),
            "./install.sh switches them off (their files are kept; --uninstall says how to \
             switch them on again)",
        )
    })
}

const NO_SCHEDULER: &str = "no systemd timer, LaunchAgent or cron line runs `selfheal check`";
const CHOSE_NONE: &str = "none installed (you chose `./install.sh --scheduler none`): make sure \
    your own scheduler runs `selfheal --quiet check` every few minutes";

/// `$XDG_CONFIG_HOME`, else `~/.config` (where install.sh records its choice).
fn config_home() -> std::path::PathBuf {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".config")
        })
}

/// install.sh's record of what it installed (a few lines).
fn installed(config_home: &std::path::Path) -> Option<String> {
    let path = config_home.join("selfheal/installed");
    let bytes = crate::sys::files::read_foreign(&path, crate::sys::files::Links::Follow, 4096);
    String::from_utf8(bytes.ok()?).ok()
}

/// How often the installed scheduler runs `check` (install.sh's record).
fn installed_interval(config_home: &std::path::Path) -> Option<u64> {
    let text = installed(config_home)?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("interval="))?
        .parse()
        .ok()
}

/// An interval longer than five minutes: an outage waits half of it on
/// average before anything looks (the old scripts' five minutes were chosen
/// when a run cost a bash script's tens of milliseconds).
pub fn interval() -> Option<Check> {
    let secs = installed_interval(&config_home()).filter(|&s| s > 300)?;
    Some(info(
        "interval",
        format!(
            "`check` runs every {}: an outage waits {} on average before anything looks at \
             it; `./install.sh --interval 60` checks every minute (a healthy check costs about \
             a millisecond of CPU)",
            crate::fmt::fmt_secs(std::time::Duration::from_secs(secs)),
            crate::fmt::fmt_secs(std::time::Duration::from_secs(secs / 2))
        ),
    ))
}

/// The user told install.sh not to install a scheduler: sending them back to
/// it would be circular. (Still not a ✓: nothing of ours runs `check`.)
fn chose_none(config_home: &std::path::Path) -> bool {
    installed(config_home).is_some_and(|t| t.lines().any(|l| l.trim() == "scheduler=none"))
}

const NOT_OPENCLAW: &str = "not an OpenClaw gateway: check that your service manager restarts \
    it (launchd KeepAlive, systemd Restart=)";
const NOTHING_RESTARTS: &str = "nothing restarts a crashed gateway between checks";

pub fn keep_alive(c: &Config) -> Check {
    let name = "level 1 keep-alive";
    if !c.is_openclaw() {
        return info(name, NOT_OPENCLAW);
    }
    if cfg!(target_os = "macos") {
        return match process::output(&["launchctl", "list", GATEWAY_LABEL], QUERY_TIMEOUT) {
            Some((true, _)) => ok(name, format!("launchd: {GATEWAY_LABEL} is loaded")),
            _ => fail(
                name,
                format!("launchd does not know {GATEWAY_LABEL}: {NOTHING_RESTARTS}"),
                "install the gateway's service: `openclaw gateway install` \
                 (launchd then keeps it alive)",
            ),
        };
    }
    let query = ["systemctl", "--user", "is-enabled", GATEWAY_UNIT];
    match process::output(&query, QUERY_TIMEOUT) {
        Some((true, _)) => ok(name, format!("systemd: {GATEWAY_UNIT} is enabled")),
        _ => fail(
            name,
            format!("the systemd user unit {GATEWAY_UNIT} is not enabled: {NOTHING_RESTARTS}"),
            format!(
                "install the gateway's service (`openclaw gateway install`) and \
                 `systemctl --user enable --now {GATEWAY_UNIT}`"
            ),
        ),
    }
}
