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

/// `openclaw config validate` starts Node: 1.3 s on this project's test
/// machine idle, 5.5 s with both cores busy. It runs while the gateway boots,
/// so a generous bound delays nothing.
pub const CONFIG_CHECK: Duration = Duration::from_secs(10);

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

/// Whether a process's command line is the gateway's, as it reads while
/// the gateway starts (measured on 2026.9.6): `node …/openclaw gateway run
/// …`, then the titles it sets, `openclaw` while it boots and
/// `openclaw-gateway` once it runs. The boot title is every CLI call's too:
/// callers leave out the commands selfheal itself runs (`Proc::is_ours`).
pub fn is_its_process(cmdline: &str) -> bool {
    let l = cmdline.trim().to_ascii_lowercase();
    l == "openclaw"
        || l.starts_with("openclaw-gateway")
        || (l.contains("openclaw") && l.contains("gateway run"))
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
pub fn program(restart_cmd: &[String]) -> Option<PathBuf> {
    match restart_cmd.first() {
        Some(p) if p.ends_with("openclaw") => find_program(p),
        _ => find_program("openclaw"),
    }
}

/// The gateway's own verdict on its config (`openclaw config validate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    Valid,
    /// The problems it names.
    Invalid(String),
    /// It did not answer in time, could not run, or said something that is
    /// not its JSON: not known, and never taken for valid.
    Unknown(String),
}

/// Starts `openclaw config validate --json` (its output in `capture`), to
/// be finished by `validation` — while the gateway boots, not before.
pub fn validate_start(restart_cmd: &[String], capture: &Path) -> Option<process::Pending> {
    let program = program(restart_cmd)?.display().to_string();
    process::Pending::start(
        &[&program, "config", "validate", "--json"],
        CONFIG_CHECK,
        capture,
    )
}

/// The verdict of a check `validate_start` started.
pub fn validation(pending: process::Pending) -> Validation {
    let Some((ok, out)) = pending.finish() else {
        return Validation::Unknown(format!(
            "`openclaw config validate` did not answer within {}s",
            CONFIG_CHECK.as_secs()
        ));
    };
    verdict(ok, &out)
}

/// `openclaw config validate --json` now, waited for (the healthy path's,
/// only when a watched file changed).
pub fn validate_now(restart_cmd: &[String], capture: &Path) -> Validation {
    match validate_start(restart_cmd, capture) {
        Some(p) => validation(p),
        None => Validation::Unknown("`openclaw` was not found".into()),
    }
}

/// Its answer: exit 0 and `"valid": true` is valid; the issues it lists
/// are the problems; anything else is unknown.
fn verdict(ok: bool, out: &str) -> Validation {
    // The JSON: all of it, or (Node and the gateway's plugins may print
    // lines before and after it) the first object that opens a line, up to
    // where it closes, or a last line that is one.
    let first_object = |t: &str| {
        serde_json::Deserializer::from_str(t)
            .into_iter::<serde_json::Value>()
            .next()
            .and_then(|v| v.ok())
    };
    let from_brace = if out.starts_with('{') {
        first_object(out)
    } else {
        out.find("\n{").and_then(|i| first_object(&out[i + 1..]))
    };
    let v: Option<serde_json::Value> = serde_json::from_str(out.trim())
        .ok()
        .or(from_brace)
        .or_else(|| {
            out.lines()
                .rev()
                .find_map(|l| serde_json::from_str(l.trim()).ok())
        });
    let Some(v) = v.filter(serde_json::Value::is_object) else {
        let said: String = out
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("nothing")
            .chars()
            .filter(|c| !c.is_control())
            .take(160)
            .collect();
        return Validation::Unknown(format!(
            "`openclaw config validate` did not answer in JSON (it said: {said})"
        ));
    };
    if ok && v["valid"].as_bool() != Some(false) {
        return Validation::Valid;
    }
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
        return Validation::Invalid(issues.join("; "));
    }
    match v["error"]["message"].as_str() {
        Some(m) => Validation::Invalid(m.to_string()),
        None if !ok => Validation::Invalid("`openclaw config validate` refused it".into()),
        None => Validation::Valid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(verdict(true, r#"{"valid":true}"#), Validation::Valid);
        let bad =
            r#"{"valid":false,"issues":[{"path":"gateway.port","message":"Expected number"}]}"#;
        assert_eq!(
            verdict(false, bad),
            Validation::Invalid("gateway.port: Expected number".into())
        );
        assert!(matches!(
            verdict(true, "Segmentation fault"),
            Validation::Unknown(_)
        ));
        assert!(matches!(verdict(false, ""), Validation::Unknown(_)));
        assert_eq!(
            verdict(true, "(node) warning\n{\"valid\":true}\n"),
            Validation::Valid
        );
        let pretty = "(node) warning\n{\n  \"valid\": false,\n  \"issues\": [{\"path\": \"a\", \"message\": \"b\"}]\n}\n";
        assert_eq!(verdict(false, pretty), Validation::Invalid("a: b".into()));
        // Lines after the JSON (a plugin's, a second warning) change nothing.
        let after = "{\n  \"valid\": true\n}\n[plugins] loaded 3\n";
        assert_eq!(verdict(true, after), Validation::Valid);
        let both = "warn\n{\"valid\":false,\"issues\":[{\"message\":\"x\"}]}\nbye {\n";
        assert_eq!(verdict(false, both), Validation::Invalid("x".into()));
        match verdict(true, "\u{1b}[31mError: locked\nmore") {
            Validation::Unknown(w) => assert!(w.contains("it said: [31mError: locked"), "{w}"),
            v => panic!("{v:?}"),
        }
    }
}
