//! The service manager's view of a service: systemd's properties of its
//! unit, launchd's account of its job, Docker's of its container. Which
//! manager, and which unit, is read from the restart command (`systemctl
//! [--user] restart UNIT`, `launchctl kickstart [-k] TARGET`, `docker restart
//! NAME`), else OpenClaw's own service (`crate::openclaw`). Each query
//! bounded; nothing here changes the service.

use super::{Docker, QUERY};
use crate::config::Config;
use crate::openclaw;
use crate::sys::process;

/// A service manager and the name it knows the service by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manager {
    Systemd {
        unit: String,
        user: bool,
    },
    /// `gui/501/ai.openclaw.gateway`.
    Launchd {
        target: String,
    },
    Docker {
        program: String,
        name: String,
    },
}

/// What a manager is doing with the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    Running,
    /// Starting it, or about to (systemd `activating`/`auto-restart`,
    /// Docker `restarting`, launchd spawning).
    Starting,
    /// It exited with a failure and the manager is not starting it again.
    Failed,
    Stopped,
}

/// One answer of a manager.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub activity: Activity,
    /// One line for the evidence.
    pub view: String,
    /// The last exit status, when it was not 0.
    pub exit: Option<String>,
    /// What changes with every start: systemd's start time (µs of
    /// CLOCK_MONOTONIC), launchd's run count, Docker's start (unix time).
    pub start_mark: Option<u64>,
}

impl Manager {
    /// The manager the restart command addresses, else the OpenClaw
    /// gateway's own service.
    pub fn of(config: &Config, openclaw: bool) -> Option<Manager> {
        let argv = &config.restart_cmd;
        if let Some(d) = Docker::of(argv) {
            return match (d.compose, d.names.first()) {
                (None, Some(name)) => Some(Manager::Docker {
                    program: d.program.to_string(),
                    name: name.to_string(),
                }),
                _ => None,
            };
        }
        let program = argv.first().map(|p| p.rsplit('/').next().unwrap_or(p));
        let words = || argv.iter().skip(1).filter(|a| !a.starts_with('-'));
        match program {
            Some("systemctl") => {
                let mut w = words();
                let verb = w.next()?;
                if !verb.contains("restart") && verb != "start" {
                    return None;
                }
                let unit = w.next()?.to_string();
                let user = argv.iter().any(|a| a == "--user");
                return Some(Manager::Systemd { unit, user });
            }
            Some("launchctl") => {
                let mut w = words();
                if w.next()? != "kickstart" {
                    return None;
                }
                return Some(Manager::Launchd {
                    target: w.next()?.clone(),
                });
            }
            _ => {}
        }
        if !openclaw {
            return None;
        }
        Some(if cfg!(target_os = "macos") {
            // SAFETY: getuid cannot fail.
            let uid = unsafe { libc::getuid() };
            Manager::Launchd {
                target: format!("gui/{uid}/{}", openclaw::LAUNCHD_LABEL),
            }
        } else {
            Manager::Systemd {
                unit: openclaw::SYSTEMD_UNIT.into(),
                user: true,
            }
        })
    }

    /// What it says now (`None`: it could not be asked, or does not know
    /// the service).
    pub fn state(&self) -> Option<State> {
        match self {
            Manager::Systemd { unit, user } => {
                let mut argv = vec!["systemctl"];
                if *user {
                    argv.push("--user");
                }
                argv.extend([
                    "show",
                    unit.as_str(),
                    "-p",
                    "ActiveState,SubState,ExecMainStatus,NRestarts,MainPID,LoadState,\
                     ExecMainStartTimestampMonotonic",
                ]);
                let (ok, out) = process::output(&argv, QUERY)?;
                (ok && out.contains("ActiveState=") && !out.contains("LoadState=not-found"))
                    .then(|| parse_systemd(unit, &out))
            }
            Manager::Launchd { target } => {
                let (ok, out) = process::output(&["launchctl", "print", target], QUERY)?;
                let label = target.rsplit('/').next().unwrap_or(target);
                ok.then(|| parse_launchd(label, &out))
            }
            Manager::Docker { program, name } => {
                let format = "{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}} \
                              {{.RestartCount}} {{.State.StartedAt}}";
                let argv = [program.as_str(), "inspect", "--format", format, name];
                let (ok, out) = process::output(&argv, QUERY)?;
                ok.then(|| parse_docker(name, &out)).flatten()
            }
        }
    }
}

fn parse_systemd(unit: &str, out: &str) -> State {
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
            .unwrap_or("?")
            .trim()
            .to_string()
    };
    let (active, sub, status) = (get("ActiveState"), get("SubState"), get("ExecMainStatus"));
    let view = format!(
        "systemd: {unit} is {active} ({sub}), main process exit status {status}, {} restarts",
        get("NRestarts")
    );
    let exit = (status != "0" && status != "?")
        .then(|| format!("the service's last exit status (systemd): {status}"));
    let activity = match active.as_str() {
        "active" | "reloading" => Activity::Running,
        "activating" | "deactivating" => Activity::Starting,
        _ if sub == "auto-restart" => Activity::Starting,
        "failed" => Activity::Failed,
        _ if exit.is_some() => Activity::Failed,
        _ => Activity::Stopped,
    };
    State {
        activity,
        view,
        exit,
        start_mark: get("ExecMainStartTimestampMonotonic")
            .parse()
            .ok()
            .filter(|&m| m > 0),
    }
}

fn parse_launchd(label: &str, out: &str) -> State {
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(k)?.trim().strip_prefix('='))
            .unwrap_or("?")
            .trim()
            .to_string()
    };
    let (state, code, runs) = (get("state"), get("last exit code"), get("runs"));
    let view = format!("launchd: {label} state {state}, last exit code {code}, runs {runs}");
    let exit = (code != "0" && code != "?" && code != "(never exited)")
        .then(|| format!("the service's last exit code (launchd): {code}"));
    let activity = match state.as_str() {
        "running" => Activity::Running,
        s if s.contains("spawn") || s.contains("xpcproxy") => Activity::Starting,
        _ if exit.is_some() => Activity::Failed,
        _ => Activity::Stopped,
    };
    State {
        activity,
        view,
        exit,
        start_mark: runs.parse().ok(),
    }
}

fn parse_docker(name: &str, out: &str) -> Option<State> {
    let mut f = out.split_whitespace();
    let (status, code, oom, restarts) = (f.next()?, f.next(), f.next(), f.next());
    let started = f.next().and_then(crate::fmt::parse_rfc3339);
    let mut view = format!("docker: container {name} is {status}");
    if let Some(r) = restarts {
        view.push_str(&format!(", restarted {r} time(s) by Docker"));
    }
    if oom == Some("true") {
        view.push_str(", killed for lack of memory (OOMKilled)");
    }
    let exit = code.filter(|c| *c != "0" && status != "running").map(|c| {
        let oom = if oom == Some("true") {
            " (killed for lack of memory: OOMKilled)"
        } else {
            ""
        };
        format!("the container {name} exited with code {c}{oom}")
    });
    let activity = match status {
        "running" => Activity::Running,
        "restarting" | "created" => Activity::Starting,
        _ if exit.is_some() => Activity::Failed,
        _ => Activity::Stopped,
    };
    Some(State {
        activity,
        view,
        exit,
        start_mark: started.and_then(|t| u64::try_from(t).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_managers_views() {
        let s = parse_systemd(
            "openclaw-gateway.service",
            "ActiveState=failed\nSubState=failed\nExecMainStatus=78\nNRestarts=4\nMainPID=0\n",
        );
        assert!(
            s.view.contains("is failed (failed)") && s.view.contains("status 78"),
            "{}",
            s.view
        );
        assert!(s.exit.is_some_and(|e| e.contains("78")));
        assert_eq!(s.activity, Activity::Failed);
        let s = parse_systemd(
            "u",
            "ActiveState=activating\nSubState=auto-restart\nExecMainStartTimestampMonotonic=99\n",
        );
        assert_eq!((s.activity, s.start_mark), (Activity::Starting, Some(99)));
        let s = parse_launchd(
            "ai.openclaw.gateway",
            "\tstate = not running\n\truns = 7\n\tlast exit code = 1\n",
        );
        assert!(
            s.view.contains("state not running") && s.view.contains("runs 7"),
            "{}",
            s.view
        );
        assert!(s.exit.is_some_and(|e| e.ends_with(": 1")));
        assert_eq!((s.activity, s.start_mark), (Activity::Failed, Some(7)));
        let s = parse_docker("gw", "restarting 1 false 3 2026-12-06T10:00:00.5Z").expect("docker");
        assert_eq!(s.activity, Activity::Starting);
        assert!(s.start_mark.is_some());
    }

    #[test]
    fn the_manager_is_read_from_the_restart_command() {
        let c = |cmd: &str| {
            let mut config = crate::config::load(&crate::config::Sources {
                home: "/home/u".into(),
                ..Default::default()
            })
            .expect("defaults");
            config.url = "http://127.0.0.1:8080/".into();
            config.restart_cmd = crate::key::shellwords::split(cmd).expect("words");
            Manager::of(&config, config.is_openclaw())
        };
        assert_eq!(
            c("systemctl --user restart --no-block app.service"),
            Some(Manager::Systemd {
                unit: "app.service".into(),
                user: true
            })
        );
        assert_eq!(
            c("/bin/launchctl kickstart -k gui/501/com.x"),
            Some(Manager::Launchd {
                target: "gui/501/com.x".into()
            })
        );
        assert_eq!(c("./restart.sh"), None);
        assert!(matches!(
            c("docker restart web"),
            Some(Manager::Docker { .. })
        ));
    }
}
