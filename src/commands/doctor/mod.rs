//! `selfheal doctor`: is this installation one to trust at night? One line
//! per check with the fix for each problem; exit 1 if there is one.
//! Read-only: it probes once and asks the scheduler and service manager
//! (bounded), but creates, changes and sends nothing.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde::Serialize;

use super::Verdict;

mod configuration;
mod system;
use crate::agent::ready::{self, Ready};
use crate::alert::deliver;
use crate::channel::Channel;
use crate::cli::{AskAgent, Format};
use crate::config::Config;
use crate::error::Error;
use crate::fmt::fmt_secs;
use crate::key::shellwords;
use crate::profile::{Agent, Preset};
use crate::sys::which::find_program;
use crate::sys::{log, tls};
use configuration::configuration;
use system::keep_alive;
pub use system::scheduler;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Fail,
    Info,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

pub(crate) fn ok(name: &'static str, detail: impl Into<String>) -> Check {
    Check {
        name,
        status: Status::Ok,
        detail: detail.into(),
        fix: None,
    }
}
pub(crate) fn info(name: &'static str, detail: impl Into<String>) -> Check {
    Check {
        name,
        status: Status::Info,
        detail: detail.into(),
        fix: None,
    }
}
/// Not a problem (doctor still passes), but something to change.
pub(crate) fn advise(
    name: &'static str,
    detail: impl Into<String>,
    fix: impl Into<String>,
) -> Check {
    Check {
        fix: Some(fix.into()),
        ..info(name, detail)
    }
}
pub(crate) fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        name,
        status: Status::Fail,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

pub(crate) const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

pub fn run(config: &Config, format: Format, agent: AskAgent) -> Verdict {
    report(config, checks(config), format, agent)
}

/// The configuration does not load (`error`): that is the first ✗, and the
/// rest is checked with what could be salvaged, each bad value at its default.
pub fn run_broken(salvaged: &Config, error: &Error, format: Format, agent: AskAgent) -> Verdict {
    let mut checks = vec![fail(
        "configuration",
        format!(
            "{error}; every `check` exits 2 and only says so (log, heartbeat /fail, one alert)"
        ),
        "fix that value (the rest below is checked with its default)",
    )];
    checks.extend(self::checks(salvaged).into_iter().skip(1));
    report(salvaged, checks, format, agent)
}

fn report(config: &Config, mut checks: Vec<Check>, format: Format, agent: AskAgent) -> Verdict {
    if agent == AskAgent::Yes {
        ask_agents(config, &mut checks);
    }
    let problems = checks.iter().any(|c| c.status == Status::Fail);
    let text = match format {
        Format::Json => format!(
            "{}\n",
            serde_json::json!({"ok": !problems, "checks": checks})
        ),
        Format::Text => render(&checks),
    };
    // A command line in the configuration may carry a credential.
    log::print(&crate::sys::redact::scrub(&text, &config.secrets()));
    Verdict::from_ok(!problems)
}

pub fn checks(c: &Config) -> Vec<Check> {
    let mut checks = configuration(c);
    checks.push(tool_dir(c));
    checks.extend(pause(c));
    checks.push(command_check(
        "restart command",
        &c.restart_cmd,
        "SELFHEAL_RESTART_CMD",
    ));
    checks.push(ladder_bounds(c));
    checks.push(evidence(c));
    checks.push(rollback(c));
    let state = crate::state::peek(&c.memory_dir).unwrap_or_default();
    for (name, detail) in crate::ladder::install::describe(c, state.install.as_ref()) {
        checks.push(info(name, detail));
    }
    level3(c, &mut checks);
    alerting(c, &mut checks);
    checks.push(scheduler());
    checks.extend(system::interval());
    checks.extend(system::old_healers());
    checks.push(keep_alive(c));
    checks.push(probe(c));
    checks
}

/// A maintenance window in force; a forgotten long one is a problem.
fn pause(c: &Config) -> Vec<Check> {
    let now = crate::sys::clock::unix_now();
    let mut checks: Vec<Check> = paused(c, now).into_iter().collect();
    let windows = &c.maintenance;
    if !windows.is_empty() {
        let list: Vec<String> = windows.iter().map(ToString::to_string).collect();
        let when = match (
            super::pause::scheduled_now(c),
            super::pause::scheduled_next(c),
        ) {
            (Some((w, until)), _) => format!(
                "{w} is in force for {} more",
                fmt_secs(crate::fmt::between(now, until))
            ),
            (None, Some((w, at))) => {
                format!("next: {w} in {}", fmt_secs(crate::fmt::between(now, at)))
            }
            (None, None) => String::new(),
        };
        checks.push(info(
            "maintenance windows",
            format!("{} (local time); {when}", list.join(", ")),
        ));
    }
    checks
}

fn paused(c: &Config, now: i64) -> Option<Check> {
    let until = crate::state::paused_until(&c.memory_dir).filter(|&u| u > now)?;
    let left = crate::fmt::between(now, until);
    let detail = format!(
        "paused for {} more: no healing, no alerts until then",
        fmt_secs(left)
    );
    Some(if left > Duration::from_secs(86400) {
        fail(
            "maintenance",
            detail,
            "selfheal resume (if the work is done)",
        )
    } else {
        info("maintenance", detail)
    })
}

/// What acting on evidence is set to: confirmation, the brake, boot waits.
fn ladder_bounds(c: &Config) -> Check {
    let brake = match c.restart_limit {
        0 => "no crash-loop brake (SELFHEAL_RESTART_LIMIT=0)".to_string(),
        n => format!(
            "at most {n} restarts per {} before the crash-loop brake holds (`selfheal status` \
             shows it, `selfheal reset` clears it)",
            fmt_secs(c.restart_window)
        ),
    };
    info(
        "level 2",
        format!(
            "{} confirming probe(s); {brake}; after a restart, waits at least {} and up to \
             {} for a learned boot",
            c.confirm_probes,
            fmt_secs(c.retry_delay),
            fmt_secs(c.boot_timeout)
        ),
    )
}

/// Which of the service's logs evidence is read from exist now.
fn evidence(c: &Config) -> Check {
    if c.service_logs.is_empty() {
        return info(
            "evidence",
            "no service logs (SELFHEAL_SERVICE_LOGS); alerts name the probe, port owner and \
             commands",
        );
    }
    let found = crate::ladder::evidence::log_files(&c.service_logs);
    let detail = format!(
        "service logs read at an incident: {} of {} pattern(s) match now{}",
        found.len(),
        c.service_logs.len(),
        if found.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                found
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    info("evidence", detail)
}

fn level3(c: &Config, checks: &mut Vec<Check>) {
    if c.agents.is_empty() {
        checks.push(info("level 3", "disabled (SELFHEAL_AGENT_CMD is empty)"));
        return;
    }
    checks.push(match find_program(&c.tmux) {
        Some(p) => ok("tmux", p.display().to_string()),
        None => fail(
            "tmux",
            format!("{} not found", c.tmux),
            "install tmux (brew install tmux / apt install tmux), or set SELFHEAL_TMUX",
        ),
    });
    for (n, agent) in c.agents.iter().enumerate() {
        let name = if n == 0 { "agent" } else { "fallback agent" };
        checks.push(agent_check(name, agent));
        let p = agent.profile;
        if p.preset != Preset::Custom {
            let how = if agent.batch() {
                "works on its own and is done when it exits"
            } else {
                "interactive in tmux: its trust dialog answered, the prompt pasted"
            };
            checks.push(info(
                if n == 0 {
                    "agent kind"
                } else {
                    "fallback kind"
                },
                format!("{} ({how}); needs {}", p.name, p.needs),
            ));
        }
        if p.stalls(&agent.argv) {
            checks.push(info(
                "agent permissions",
                format!("{} {} (README: Any agent)", p.name, p.permissions),
            ));
        }
        if agent.argv.iter().any(|a| a.contains("{prompt}")) {
            checks.push(advise(
                "agent prompt",
                format!(
                    "{} has {{prompt}}: the whole prompt (evidence, command output) is then in \
                     the agent's argv, which every local user can read (ps, /proc)",
                    agent.key
                ),
                "use {prompt_file} instead, e.g. claude -p \"Follow the instructions in \
                 {prompt_file}\" --add-dir <the memory directory> (README: AI recovery)",
            ));
        }
    }
}

/// An agent's program, found or not (`command_check`), and when it is not,
/// the command that would run and where its CLI comes from.
fn agent_check(name: &'static str, agent: &Agent) -> Check {
    let mut check = command_check(name, &agent.argv, agent.key);
    if check.status == Status::Fail {
        check.detail = format!(
            "{} (it would run {})",
            check.detail,
            shellwords::join(&agent.argv)
        );
        if !agent.profile.package.is_empty() {
            check.fix = Some(format!(
                "install it (npm install -g {}), or set {} to an absolute path",
                agent.profile.package, agent.key
            ));
        }
    }
    check
}

/// The watched config files and how many working versions of each are kept.
fn rollback(c: &Config) -> Check {
    if c.watch_files.is_empty() || c.rollback == crate::key::values::Switch::Off {
        return info(
            "rollback",
            "off (no SELFHEAL_WATCH_FILES, or SELFHEAL_ROLLBACK=off)",
        );
    }
    let mut refused = Vec::new();
    let each: Vec<String> = c
        .watch_files
        .iter()
        .map(|f| {
            let kept = crate::ladder::rollback::versions(&c.memory_dir, f).len();
            let missing = match crate::ladder::rollback::watched(f) {
                Ok(Some(_)) => "",
                Ok(None) => ", missing",
                Err(e) => {
                    refused.push(e.to_string());
                    ", refused"
                }
            };
            format!("{} ({kept} working version(s) kept{missing})", f.display())
        })
        .collect();
    if !refused.is_empty() {
        return fail(
            "rollback",
            refused.join("; "),
            "a watched file must be a regular file (no symlink at its name, one link) \
             owned by this user or by the owner of its directory",
        );
    }
    info("rollback", each.join("; "))
}

/// `doctor --agent`: one tiny request through each agent, as level 3 would
/// run it (its PATH, its API key), bounded to `ready::TIMEOUT`.
fn ask_agents(c: &Config, checks: &mut Vec<Check>) {
    let clock = crate::sys::clock::SystemClock;
    for (n, agent) in c.agents.iter().enumerate() {
        if agent.profile.stalls(&agent.argv) {
            checks.push(fail(
                "agent permissions",
                format!(
                    "an interactive {} without permission flags stops at its first prompt, \
                     and nobody answers at night",
                    agent.profile.name
                ),
                format!(
                    "add one of {} to {}",
                    agent.profile.unattended.join(", "),
                    agent.key
                ),
            ));
        }
        let name = if n == 0 {
            "agent answer"
        } else {
            "fallback answer"
        };
        let answer = crate::sys::files::ensure_dir(&c.memory_dir)
            .and_then(|_| ready::ask(c, agent, &clock))
            .unwrap_or_else(|e| Ready::Failed(e.to_string()));
        checks.push(match answer {
            Ready::Works(_) => ok(name, answer.describe()),
            _ => fail(name, answer.describe(), answer.fix(agent.profile)),
        });
    }
}

fn alerting(c: &Config, checks: &mut Vec<Check>) {
    let configured = deliver::configured(c);
    checks.push(if configured.is_empty() {
        fail(
            "alert channels",
            "none configured: when every level fails, nobody is told",
            format!("set {}; then `selfheal notify test`", Channel::keys_hint()),
        )
    } else {
        let list: Vec<String> = configured
            .iter()
            .map(|t| format!("{} ({})", t.channel().name(), t.shown_endpoint()))
            .collect();
        ok("alert channels", list.join(", "))
    });
    let state = crate::state::peek(&c.memory_dir).unwrap_or_default();
    for failing in crate::alert::backoff::failing(&state.channels) {
        checks.push(fail(
            "alert channel",
            failing,
            "fix the channel's key or what keeps it from being reached; `selfheal notify test` \
             tries every channel now, `selfheal reset` forgets the backoff",
        ));
    }
    if let Some(url) = &c.heartbeat_url {
        let mode = match c.heartbeat_mode {
            crate::key::values::HeartbeatMode::Fail => "URL or URL/fail",
            crate::key::values::HeartbeatMode::Exit => "URL/<exit code>",
        };
        checks.push(info(
            "heartbeat",
            format!(
                "{} after every run ({mode}); URL/start when healing begins",
                crate::sys::redact::secret_url(url.expose())
            ),
        ));
    }
    if c.digest != crate::key::values::Digest::Off {
        let at = format!("{:02}:{:02}", c.digest_at / 60, c.digest_at % 60);
        let every = if c.digest == crate::key::values::Digest::Weekly {
            "weekly (Mondays)"
        } else {
            "daily"
        };
        checks.push(info(
            "digest",
            format!("{every} at {at} local time, to every channel (`selfheal stats --notify` now)"),
        ));
    }
    if !configured.is_empty() || c.url.starts_with("https:") || c.heartbeat_url.is_some() {
        checks.push(match tls::bundle() {
            Some(p) => ok(
                "CA certificates",
                format!("{} ({} certificates)", p.display(), tls::count()),
            ),
            None => fail(
                "CA certificates",
                tls::MISSING_HINT,
                "install the ca-certificates package, or set SSL_CERT_FILE",
            ),
        });
    }
}

const PROBE_FIX: &str = "start the service, or set OPENCLAW_GATEWAY_URL / SELFHEAL_EXPECT_STATUS \
    / SELFHEAL_EXPECT_BODY to what healthy looks like";

fn probe(c: &Config) -> Check {
    let probe = crate::probe::probe(&crate::probe::agent(c), c);
    let url = &c.shown_url;
    if probe.healthy() {
        ok(
            "probe",
            format!("{url}: {} in {} ms", probe.reason, probe.latency_ms()),
        )
    } else {
        fail("probe", format!("{url}: {}", probe.reason), PROBE_FIX)
    }
}

fn tool_dir(c: &Config) -> Check {
    let dir = &c.memory_dir;
    let Ok(meta) = std::fs::metadata(dir) else {
        return info(
            "tool directory",
            format!(
                "{} does not exist yet; the first `selfheal check` creates it (0700)",
                dir.display()
            ),
        );
    };
    let mode = meta.permissions().mode() & 0o777;
    if !meta.is_dir() {
        return fail(
            "tool directory",
            format!("{} is not a directory", dir.display()),
            "set OPENCLAW_MEMORY_DIR to a directory of your own",
        );
    }
    if let Err(e) = crate::sys::files::check_dir(dir) {
        let text = e.to_string();
        let (problem, fix) = text.split_once("; fix: ").unwrap_or((&text, ""));
        return fail("tool directory", problem.to_string(), fix.to_string());
    }
    let loose: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = name.starts_with(".selfheal")
                || name.starts_with("healthcheck-")
                || name.starts_with(".healthcheck-");
            ours && e
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o077 != 0)
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if !loose.is_empty() {
        return fail(
            "tool directory",
            format!("files readable by others: {}", loose.join(", ")),
            format!("chmod 600 {}/<file>", dir.display()),
        );
    }
    ok("tool directory", format!("{} ({mode:o})", dir.display()))
}

fn command_check(name: &'static str, argv: &[String], key: &str) -> Check {
    let Some(program) = argv.first() else {
        return info(name, format!("none ({key} is empty)"));
    };
    match find_program(program) {
        Some(p) => ok(
            name,
            format!("{} → {}", shellwords::join(argv), p.display()),
        ),
        None => fail(
            name,
            format!("{program:?} not found on PATH or in the usual places"),
            format!("install it, or set {key} to an absolute path"),
        ),
    }
}

pub fn render(checks: &[Check]) -> String {
    let mut out = String::from("selfheal doctor\n");
    for c in checks {
        let mark = match c.status {
            Status::Ok => "✓",
            Status::Fail => "✗",
            Status::Info => "·",
        };
        out.push_str(&format!("{mark} {}: {}\n", c.name, c.detail));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("    fix: {fix}\n"));
        }
    }
    let problems = checks.iter().filter(|c| c.status == Status::Fail).count();
    out.push_str(&match problems {
        0 => "no problems found\n".to_string(),
        1 => "1 problem\n".to_string(),
        n => format!("{n} problems\n"),
    });
    out
}
