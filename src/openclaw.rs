//! Everything selfheal knows about the OpenClaw gateway in particular: how
//! it is recognised, where its config and logs are, how its own config
//! check is asked, what its service manager calls it, and what a human
//! types to look at it. Facts measured on OpenClaw 2026.9
//! (`../README.md`, "The OpenClaw gateway").
//!
//! Nothing else in selfheal names OpenClaw: a generic service gets none of
//! this, and the rest of the code asks these functions. This module decides
//! nothing about healing; it only knows.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::sys::files::expand_home;
use crate::sys::process;
use crate::sys::which::find_program;

/// The gateway's default port.
pub const PORT: u16 = 18789;
/// The gateway's own service: the launchd label and the systemd user unit
/// that `openclaw gateway install` writes.
pub const LAUNCHD_LABEL: &str = "ai.openclaw.gateway";
pub const SYSTEMD_UNIT: &str = "openclaw-gateway.service";
/// What a human runs first to look at it.
pub const STATUS_COMMAND: &str = "openclaw status";

/// `openclaw config validate` starts Node: 1.3 s on this project's test machine.
pub const CONFIG_CHECK: Duration = Duration::from_secs(5);

/// Where the gateway logs: its daily JSON log, and the service's
/// stdout/stderr under systemd (state dir) and launchd.
pub const LOGS: &[&str] = &[
    "/tmp/openclaw/openclaw-{date}.log",
    "~/.openclaw/logs/gateway.err.log",
    "~/.openclaw/logs/gateway.log",
    "~/Library/Logs/openclaw/gateway.err.log",
    "~/Library/Logs/openclaw/gateway.log",
];

/// Whether the service watched is the OpenClaw gateway: its default port,
/// or a restart command that runs `openclaw`.
pub fn is_openclaw(url: &str, restart_cmd: &[String]) -> bool {
    url.contains(&format!(":{PORT}"))
        || restart_cmd.first().is_some_and(|p| p.ends_with("openclaw"))
}

/// Where the gateway reads its config: `$OPENCLAW_CONFIG_PATH`, else
/// `$OPENCLAW_STATE_DIR/openclaw.json`, else `~/.openclaw/openclaw.json`
/// (OpenClaw 2026.9's own rule; the variables as selfheal's environment
/// has them).
pub fn config_path(home: &Path) -> PathBuf {
    let var = |k| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("OPENCLAW_CONFIG_PATH")
        .or_else(|| var("OPENCLAW_STATE_DIR").map(|d| d.join("openclaw.json")))
        .map_or_else(
            || home.join(".openclaw/openclaw.json"),
            |p| expand_home(&p, home),
        )
}

/// The `openclaw` program: the restart command's when it is one, else the
/// first on PATH or in the usual places.
fn program(restart_cmd: &[String]) -> Option<PathBuf> {
    match restart_cmd.first() {
        Some(p) if p.ends_with("openclaw") => find_program(p),
        _ => find_program("openclaw"),
    }
}

/// `openclaw config validate --json`: the problems it names, if any.
pub fn config_check(restart_cmd: &[String]) -> Option<String> {
    let program = program(restart_cmd)?.display().to_string();
    let (ok, out) = process::output(&[&program, "config", "validate", "--json"], CONFIG_CHECK)?;
    if ok {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(out.trim().as_bytes()).ok()?;
    let issues: Vec<String> = v["issues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let msg = i["message"].as_str()?;
            Some(match i["path"].as_str() {
                Some(p) if !p.is_empty() => format!("{p}: {msg}"),
                _ => msg.to_string(),
            })
        })
        .take(3)
        .collect();
    if !issues.is_empty() {
        return Some(issues.join("; "));
    }
    v["error"]["message"].as_str().map(str::to_string)
}
