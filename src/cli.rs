//! The command line (SPEC "Command line"), parsed with lexopt, and the help
//! texts. Parsing only: nothing here reads configuration or touches files.

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::prelude::*;

use crate::alert::Severity;
use crate::ctx::Mode;
use crate::error::{Error, Result};
use crate::log::{Terminal, Verbosity};

#[derive(Debug, Clone)]
pub struct Global {
    pub config: Option<PathBuf>,
    pub mode: Mode,
    pub terminal: Terminal,
    pub verbosity: Verbosity,
    /// `--set KEY=VALUE`, highest precedence.
    pub overrides: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Check,
    Probe {
        format: Format,
    },
    Rotate,
    Notify {
        severity: Severity,
        message: String,
    },
    Monitor,
    Recover,
    Stats {
        days: u32,
        format: Format,
    },
    Pause {
        duration: std::time::Duration,
    },
    Resume,
    Doctor {
        format: Format,
    },
    /// Print this text and exit 0.
    Help(&'static str),
    Version,
}

#[derive(Debug, Clone)]
pub struct Cli {
    pub global: Global,
    pub command: Command,
}

pub const HELP: &str = "\
selfheal — keep one HTTP service alive: probe, restart, then escalate.

Usage: selfheal [GLOBAL OPTIONS] COMMAND [OPTIONS]

Commands:
  check            the main job: probe; if unhealthy run levels 2 → 3 → 4 in
                   sequence (restart, AI agent in tmux, alerts), each step
                   bounded; run it from cron, launchd or a systemd timer
  probe [--json]   probe once and print the result; exit 0 healthy, 1 unhealthy
  recover          run level 3 now (an AI agent in tmux), verify, alert on
                   failure
  notify [--level info|warning|error] MESSAGE
                   send MESSAGE to every configured channel (the way to
                   test them); exit 1 if any channel failed
  monitor          alert once about a failed level 3 log or a run that died
                   mid-ladder (the old emergency-recovery-monitor.sh)
  stats [--days N] [--json]
                   summarize the metrics files (default: last 7 days; 0: all)
  pause DURATION   maintenance window (e.g. 30m, 2h): probe and record only,
                   no healing, no alerts
  resume           end the maintenance window
  doctor [--json]  check configuration, dependencies, permissions, scheduler;
                   exit 1 on problems
  rotate           delete this tool's logs older than the retention

Global options:
  -c, --config FILE    env file to read (default: $SELFHEAL_CONFIG,
                       ~/.openclaw/.env, ~/openclaw/.env)
  -s, --set KEY=VALUE  override one configuration key (repeatable)
  -n, --dry-run        only read and probe; print what would be run or written
  -q, --quiet          nothing on stdout when healthy; actions and problems
                       on stderr (for cron mail)
  -v, --verbose        more detail in the log
  -h, --help           this help (also `selfheal COMMAND --help`)
  -V, --version        print the version

Exit status: 0 healthy, recovered or skipped; 1 still unhealthy; 2 usage or
configuration error; 3 selfheal itself could not work; 128+N stopped by signal N.

Configuration keys, files and metrics: see README.md.
";

const HELP_CHECK: &str = "\
selfheal check — probe the service and heal it if it is unhealthy.

Usage: selfheal [GLOBAL OPTIONS] check

Takes the run lock in OPENCLAW_MEMORY_DIR (another run holding it: logs
`skipped` and exits 0), rotates old logs, sends alerts queued by earlier
runs, probes OPENCLAW_GATEWAY_URL. During a maintenance window (`pause`) it
only probes and records. When unhealthy:
  level 2: runs SELFHEAL_RESTART_CMD up to HEALTH_CHECK_MAX_RETRIES times,
    each time probing every SELFHEAL_POLL_INTERVAL for up to
    HEALTH_CHECK_RETRY_DELAY; SELFHEAL_REPAIR_CMD once after the first failed
    attempt; then waits up to HEALTH_CHECK_ESCALATION_WAIT (polled);
  level 3: the agent in a private tmux session (see `selfheal recover
    --help`), unless disabled, missing, or in its cooldown after a failure;
  level 4: alerts every configured channel, once per incident (\"resolved\"
    follows when it is healthy again); undelivered alerts are kept for the
    next run.
Pings SELFHEAL_HEARTBEAT_URL and writes SELFHEAL_PROM_FILE at the end. Every
step is bounded; the log names the run's worst case when healing starts.

Exit status: 0 healthy or recovered, 1 still unhealthy.
";

const HELP_PROBE: &str = "\
selfheal probe — probe the service once and print the result.

Usage: selfheal [GLOBAL OPTIONS] probe [--json]

  --json   print {\"url\",\"healthy\",\"status\",\"latency_ms\",\"reason\"}

Writes nothing and takes no lock. Exit status: 0 healthy, 1 unhealthy.
";

const HELP_NOTIFY: &str = "\
selfheal notify — send a message to every configured alert channel.

Usage: selfheal [GLOBAL OPTIONS] notify [--level info|warning|error] MESSAGE

  --level LEVEL   info, warning or error (default info): the emoji, and
                  ntfy's priority

Uses the same delivery as the alerts of `check` (timeouts, retries that honour
Retry-After), logs and records each send, but keeps nothing in the outbox.
With --dry-run it prints each payload instead. Exit status: 0 every channel
took it, 1 some did not, 2 no channel is configured.
";

const HELP_MONITOR: &str = "\
selfheal monitor — alert once about a failed or abandoned recovery.

Usage: selfheal [GLOBAL OPTIONS] monitor

Sends queued alerts; alerts once if the previous run died while healing; and
alerts once about the newest emergency-recovery-<TS>.log changed within
EMERGENCY_ALERT_WINDOW (minutes, default 30) that contains MANUAL
INTERVENTION REQUIRED, remembering it in .emergency-alert-sent. Exit status:
0 nothing to report, 1 a failed recovery was found.
";

const HELP_RECOVER: &str = "\
selfheal recover — run level 3 now: an AI coding agent repairs the service.

Usage: selfheal [GLOBAL OPTIONS] recover

If the service is unhealthy, starts SELFHEAL_AGENT_CMD (default: claude) in a
private tmux session in SELFHEAL_AGENT_WORKDIR, accepts its trust dialog,
pastes the recovery prompt, and watches until the service is healthy, the
agent writes its report, exits, says it cannot work (then
SELFHEAL_AGENT_FALLBACK_CMD takes over), falls silent, or
EMERGENCY_RECOVERY_TIMEOUT runs out. The log says how to watch it live
(tmux -L ... attach). Keeps the session's scrollback, the level 3 log and
the learnings; alerts on failure. Ignores the cooldown of `check`.
Exit status: 0 healthy or recovered, 1 not recovered.
";

const HELP_STATS: &str = "\
selfheal stats — summarize the metrics files.

Usage: selfheal [GLOBAL OPTIONS] stats [--days N] [--json]

  --days N   only events of the last N days (default 7; 0: all)
  --json     the same numbers as one JSON object

Reads .healthcheck-metrics.json and .emergency-recovery-metrics.json line by
line in constant memory, skipping and counting malformed lines: checks and
healthy %, restarts by result, recovery by result (the seed's jq query's
numbers), level 3 by result with its mean duration, the share of unhealthy
runs that ended healthy without a human, mean time to recovery, alerts, and
the last incident.
";

const HELP_PAUSE: &str = "\
selfheal pause — a maintenance window; selfheal resume — end it.

Usage: selfheal [GLOBAL OPTIONS] pause DURATION
       selfheal [GLOBAL OPTIONS] resume

DURATION: 30m, 2h, 1d, or seconds (at most 7 days). During the window
`check` probes and records but neither heals nor alerts, and exits 0. An
incident still open when the window ends is handled normally by the next
check. The window is kept in .selfheal-pause in OPENCLAW_MEMORY_DIR.
";

const HELP_DOCTOR: &str = "\
selfheal doctor — is this installation one to trust at night?

Usage: selfheal [GLOBAL OPTIONS] doctor [--json]

Checks: the configuration and the env file's mode; the tool directory and
its files' modes; the restart command, tmux and the agent (absolute paths);
at least one alert channel; the CA bundle for HTTPS; the scheduler
(launchd, systemd user timer, or cron); the service's own keep-alive
(level 1: ai.openclaw.gateway / openclaw-gateway.service); one probe.
One line per check (✓, ✗ with its fix, · for information). Changes and
sends nothing. Exit status: 0 no problems, 1 problems.
";

const HELP_ROTATE: &str = "\
selfheal rotate — delete this tool's dated logs older than the retention.

Usage: selfheal [GLOBAL OPTIONS] rotate

Deletes healthcheck-YYYY-MM-DD.log, emergency-recovery-<TS>.log and
claude-session-<TS>.log files in OPENCLAW_MEMORY_DIR whose modification time
is older than SELFHEAL_LOG_RETENTION_DAYS (default 14). Never touches
metrics, state, reports, learnings or any other file. `check` does the same
at the start of every run.
";

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli> {
    let mut parser = lexopt::Parser::from_iter(args);
    let mut global = Global {
        config: None,
        mode: Mode::Real,
        terminal: Terminal::Normal,
        verbosity: Verbosity::Normal,
        overrides: Vec::new(),
    };
    let mut command: Option<&str> = None;
    let mut format = Format::Text;
    let mut severity = Severity::Info;
    let mut days: u32 = 7;
    let mut words: Vec<String> = Vec::new();
    let mut help = false;
    let mut version = false;
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Short('c') | Long("config") => {
                global.config = Some(parser.value().map_err(usage)?.into())
            }
            Short('s') | Long("set") => {
                let value = utf8(parser.value().map_err(usage)?, "--set")?;
                let Some((k, v)) = value.split_once('=') else {
                    return Err(Error::Usage(format!("--set {value:?}: expected KEY=VALUE")));
                };
                global.overrides.push((k.to_string(), v.to_string()));
            }
            Short('n') | Long("dry-run") => global.mode = Mode::DryRun,
            Short('q') | Long("quiet") => global.terminal = Terminal::Quiet,
            Short('v') | Long("verbose") => global.verbosity = Verbosity::Verbose,
            Short('h') | Long("help") => help = true,
            Short('V') | Long("version") => version = true,
            Long("json") if matches!(command, Some("probe" | "stats" | "doctor")) => {
                format = Format::Json
            }
            Long("days") if command == Some("stats") => {
                let v = utf8(parser.value().map_err(usage)?, "--days")?;
                days = v.parse().ok().filter(|d| *d <= 36500).ok_or_else(|| {
                    Error::Usage(format!(
                        "--days {v:?}: expected a whole number of days (0: all)"
                    ))
                })?;
            }
            Value(v) if matches!(command, Some("pause")) && words.is_empty() => {
                words.push(utf8(v, "DURATION")?)
            }
            Long("level") if command == Some("notify") => {
                let v = utf8(parser.value().map_err(usage)?, "--level")?;
                severity = Severity::parse(&v).ok_or_else(|| {
                    Error::Usage(format!("--level {v:?}: expected info, warning or error"))
                })?;
            }
            Value(v) if command == Some("notify") => words.push(utf8(v, "MESSAGE")?),
            Value(v) if command.is_none() => {
                command = Some(match utf8(v, "command")?.as_str() {
                    "check" => "check",
                    "probe" => "probe",
                    "rotate" => "rotate",
                    "notify" => "notify",
                    "monitor" => "monitor",
                    "recover" => "recover",
                    "stats" => "stats",
                    "pause" => "pause",
                    "resume" => "resume",
                    "doctor" => "doctor",
                    other => {
                        return Err(Error::Usage(format!("unknown command {other:?}")));
                    }
                });
            }
            other => return Err(usage(other.unexpected())),
        }
    }
    let command = match (command, help, version) {
        (_, _, true) => Command::Version,
        (None, true, _) => Command::Help(HELP),
        (Some("check"), true, _) => Command::Help(HELP_CHECK),
        (Some("probe"), true, _) => Command::Help(HELP_PROBE),
        (Some("rotate"), true, _) => Command::Help(HELP_ROTATE),
        (Some("notify"), true, _) => Command::Help(HELP_NOTIFY),
        (Some("monitor"), true, _) => Command::Help(HELP_MONITOR),
        (Some("notify"), false, _) if words.is_empty() => {
            return Err(Error::Usage("notify: MESSAGE is missing".into()))
        }
        (Some("notify"), false, _) => Command::Notify {
            severity,
            message: words.join(" "),
        },
        (Some("monitor"), false, _) => Command::Monitor,
        (Some("recover"), true, _) => Command::Help(HELP_RECOVER),
        (Some("stats"), true, _) => Command::Help(HELP_STATS),
        (Some("stats"), false, _) => Command::Stats { days, format },
        (Some("pause"), true, _) => Command::Help(HELP_PAUSE),
        (Some("pause"), false, _) => {
            let text = words
                .first()
                .ok_or_else(|| Error::Usage("pause: DURATION is missing (e.g. 30m, 2h)".into()))?;
            let duration = crate::config::parse_duration(text)
                .ok()
                .filter(|d| !d.is_zero() && d.as_secs() <= 7 * 86400)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "pause {text:?}: expected a duration from 1s to 7d, like 30m or 2h"
                    ))
                })?;
            Command::Pause { duration }
        }
        (Some("resume"), true, _) => Command::Help(HELP_PAUSE),
        (Some("doctor"), true, _) => Command::Help(HELP_DOCTOR),
        (Some("doctor"), false, _) => Command::Doctor { format },
        (Some("resume"), false, _) => Command::Resume,
        (Some("recover"), false, _) => Command::Recover,
        (Some("check"), false, _) => Command::Check,
        (Some("probe"), false, _) => Command::Probe { format },
        (Some("rotate"), false, _) => Command::Rotate,
        _ => return Err(Error::Usage("no command given".into())),
    };
    Ok(Cli { global, command })
}

fn usage(e: lexopt::Error) -> Error {
    Error::Usage(e.to_string())
}

fn utf8(value: OsString, what: &str) -> Result<String> {
    value
        .into_string()
        .map_err(|v| Error::Usage(format!("{what}: {v:?} is not valid UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        std::iter::once("selfheal")
            .chain(list.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn globals_anywhere() {
        let cli = parse(args(&["-q", "check", "--dry-run", "--set", "A=b=c"])).expect("parses");
        assert_eq!(cli.command, Command::Check);
        assert_eq!(cli.global.terminal, Terminal::Quiet);
        assert_eq!(cli.global.mode, Mode::DryRun);
        assert_eq!(
            cli.global.overrides,
            vec![("A".to_string(), "b=c".to_string())]
        );
        let cli = parse(args(&["probe", "--json"])).expect("parses");
        assert_eq!(
            cli.command,
            Command::Probe {
                format: Format::Json
            }
        );
    }

    #[test]
    fn errors_are_usage_errors() {
        for bad in [
            &[][..],
            &["frobnicate"],
            &["check", "--json"],
            &["check", "extra"],
            &["--set"],
            &["--set", "novalue", "check"],
            &["--bogus"],
        ] {
            let e = parse(args(bad)).expect_err("must fail");
            assert_eq!(e.code(), 2, "{bad:?}: {e}");
        }
    }

    #[test]
    fn help_and_version() {
        assert_eq!(
            parse(args(&["--help"])).expect("ok").command,
            Command::Help(HELP)
        );
        assert_eq!(
            parse(args(&["probe", "-h"])).expect("ok").command,
            Command::Help(HELP_PROBE)
        );
        assert_eq!(parse(args(&["-V"])).expect("ok").command, Command::Version);
    }
}
