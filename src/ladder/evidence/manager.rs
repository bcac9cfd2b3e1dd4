//! The service manager's view of a service: systemd's properties of its
//! unit, launchd's account of its job. Each query bounded.

use super::QUERY;
use crate::sys::process;

/// A user service as its manager sees it (the launchd job `label` on macOS,
/// the systemd user unit `unit` elsewhere): (one line, the last exit code
/// when it is not 0).
pub fn view(unit: &str, label: &str) -> Option<(String, Option<String>)> {
    if cfg!(target_os = "macos") {
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        let target = format!("gui/{uid}/{label}");
        let (ok, out) = process::output(&["launchctl", "print", &target], QUERY)?;
        return ok.then(|| parse_launchd(label, &out));
    }
    let (ok, out) = process::output(
        &[
            "systemctl",
            "--user",
            "show",
            unit,
            "-p",
            "ActiveState,SubState,ExecMainStatus,NRestarts,MainPID",
        ],
        QUERY,
    )?;
    (ok && out.contains("ActiveState=")).then(|| parse_systemd(unit, &out))
}

fn parse_systemd(unit: &str, out: &str) -> (String, Option<String>) {
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
            .unwrap_or("?")
            .trim()
            .to_string()
    };
    let status = get("ExecMainStatus");
    let view = format!(
        "systemd: {unit} is {} ({}), main process exit status {status}, {} restarts",
        get("ActiveState"),
        get("SubState"),
        get("NRestarts")
    );
    let exit = (status != "0" && status != "?")
        .then(|| format!("the service's last exit status (systemd): {status}"));
    (view, exit)
}

fn parse_launchd(label: &str, out: &str) -> (String, Option<String>) {
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(k)?.trim().strip_prefix('='))
            .unwrap_or("?")
            .trim()
            .to_string()
    };
    let code = get("last exit code");
    let view = format!(
        "launchd: {label} state {}, last exit code {code}, runs {}",
        get("state"),
        get("runs")
    );
    let exit = (code != "0" && code != "?" && code != "(never exited)")
        .then(|| format!("the service's last exit code (launchd): {code}"));
    (view, exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_managers_views() {
        let (view, exit) = parse_systemd(
            "openclaw-gateway.service",
            "ActiveState=failed\nSubState=failed\nExecMainStatus=78\nNRestarts=4\nMainPID=0\n",
        );
        assert!(
            view.contains("is failed (failed)") && view.contains("status 78"),
            "{view}"
        );
        assert!(exit.is_some_and(|e| e.contains("78")));
        let (view, exit) = parse_launchd(
            "ai.openclaw.gateway",
            "\tstate = not running\n\truns = 7\n\tlast exit code = 1\n",
        );
        assert!(
            view.contains("state not running") && view.contains("runs 7"),
            "{view}"
        );
        assert!(exit.is_some_and(|e| e.ends_with(": 1")));
    }
}
