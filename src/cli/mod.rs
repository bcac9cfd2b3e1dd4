//! The command line, parsed with lexopt: global options (anywhere on the
//! line), then the command and its own options, one small parse function per
//! command. `--help` and `--version` come back as `Parsed::Special` before
//! anything is dispatched. Parsing only: nothing here reads configuration or
//! touches files.

pub mod help;

use std::ffi::OsString;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::ctx::Mode;
use crate::error::{Error, Result};
use crate::kind::Severity;
use crate::sys::log::{Terminal, Verbosity};

#[derive(Debug, Clone)]
pub struct Global {
    pub config: Option<PathBuf>,
    pub mode: Mode,
    pub terminal: Terminal,
    pub verbosity: Verbosity,
    /// `--set KEY=VALUE`, highest precedence.
    pub overrides: Vec<(String, String)>,
    /// `--service NAME`, or the NAME after `check`, `status`, `doctor`,
    /// `stats`, `why`: one of several services (none: all of them).
    pub service: Option<String>,
}

impl Default for Global {
    fn default() -> Global {
        Global {
            config: None,
            mode: Mode::Real,
            terminal: Terminal::Normal,
            verbosity: Verbosity::Normal,
            overrides: Vec::new(),
            service: None,
        }
    }
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
        /// Send the summary to every channel (the digest) instead of printing it.
        notify: bool,
    },
    Pause {
        duration: Duration,
    },
    Resume,
    Doctor {
        format: Format,
        agent: AskAgent,
    },
    Rollback {
        list: bool,
    },
    Runbook {
        action: Runbook,
    },
    Why,
    Status {
        format: Format,
    },
    /// Forget the crash-loop brake, flapping, the agent's cooldown and the
    /// channels' backoffs.
    Reset,
    /// A change on probation: run `argv`, then watch the service for
    /// `probation`; undo the change if it fails.
    Guard {
        probation: Duration,
        timeout: Duration,
        argv: Vec<String>,
    },
}

/// Whether `doctor` asks the agent a question (`--agent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskAgent {
    No,
    Yes,
}

/// What `runbook` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runbook {
    List,
    Show(String),
    Forget(String),
}

/// What to do: run a command, or print something and exit 0.
#[derive(Debug, Clone)]
pub enum Parsed {
    Run(Cli),
    Special(Special),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Help(&'static str),
    Version,
}

#[derive(Debug, Clone)]
pub struct Cli {
    pub global: Global,
    pub command: Command,
}

/// The commands' names, spelled once, with their help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    Check,
    Probe,
    Rotate,
    Notify,
    Monitor,
    Recover,
    Stats,
    Pause,
    Resume,
    Doctor,
    Why,
    Status,
    Rollback,
    Runbook,
    Reset,
    Guard,
}

const NAMES: [(Name, &str, &str); 16] = [
    (Name::Check, "check", help::HELP_CHECK),
    (Name::Probe, "probe", help::HELP_PROBE),
    (Name::Rotate, "rotate", help::HELP_ROTATE),
    (Name::Notify, "notify", help::HELP_NOTIFY),
    (Name::Monitor, "monitor", help::HELP_MONITOR),
    (Name::Recover, "recover", help::HELP_RECOVER),
    (Name::Stats, "stats", help::HELP_STATS),
    (Name::Pause, "pause", help::HELP_PAUSE),
    (Name::Resume, "resume", help::HELP_PAUSE),
    (Name::Doctor, "doctor", help::HELP_DOCTOR),
    (Name::Why, "why", help::HELP_WHY),
    (Name::Status, "status", help::HELP_STATUS),
    (Name::Rollback, "rollback", help::HELP_ROLLBACK),
    (Name::Runbook, "runbook", help::HELP_RUNBOOK),
    (Name::Reset, "reset", help::HELP_RESET),
    (Name::Guard, "guard", help::HELP_GUARD),
];

impl FromStr for Name {
    type Err = Error;

    fn from_str(s: &str) -> Result<Name> {
        NAMES
            .iter()
            .find(|(_, name, _)| *name == s)
            .map(|(n, _, _)| *n)
            .ok_or_else(|| {
                let near = crate::fmt::closest(s, NAMES.iter().map(|(_, n, _)| *n), 2);
                Error::Usage(match near {
                    Some(n) => format!("unknown command {s:?} (did you mean {n}?)"),
                    None => format!("unknown command {s:?}"),
                })
            })
    }
}

impl Name {
    fn help(self) -> &'static str {
        NAMES
            .iter()
            .find(|(n, _, _)| *n == self)
            .map_or(help::HELP, |(_, _, h)| *h)
    }
}

/// Every option's long name, and its short form if it has one.
const OPTIONS: [(Option<char>, &str); 16] = [
    (Some('c'), "config"),
    (Some('s'), "set"),
    (Some('n'), "dry-run"),
    (Some('q'), "quiet"),
    (Some('v'), "verbose"),
    (Some('h'), "help"),
    (Some('V'), "version"),
    (None, "json"),
    (None, "days"),
    (None, "level"),
    (None, "list"),
    (None, "agent"),
    (None, "notify"),
    (None, "service"),
    (None, "for"),
    (None, "timeout"),
];

/// An argument: a known option by its long name, or a value. Unknown
/// options are refused as they are read.
enum Arg {
    Opt(&'static str),
    Value(OsString),
}

impl Arg {
    fn unexpected(self) -> Error {
        Error::Usage(match self {
            Arg::Opt(name) => format!("invalid option '--{name}'"),
            Arg::Value(v) => format!("unexpected argument {v:?}"),
        })
    }
}

/// The parser and what every command's parser fills in.
struct Line {
    parser: lexopt::Parser,
    global: Global,
    help: bool,
    version: bool,
}

impl Line {
    fn next(&mut self) -> Result<Option<Arg>> {
        let arg = match self.parser.next().map_err(usage)? {
            None => return Ok(None),
            Some(lexopt::Arg::Value(v)) => return Ok(Some(Arg::Value(v))),
            Some(arg) => arg,
        };
        let known = OPTIONS.iter().find(|(short, long)| match arg {
            lexopt::Arg::Short(c) => *short == Some(c),
            lexopt::Arg::Long(l) => *long == l,
            lexopt::Arg::Value(_) => false,
        });
        let near = match arg {
            lexopt::Arg::Long(l) => crate::fmt::closest(l, OPTIONS.iter().map(|(_, l)| *l), 2),
            _ => None,
        };
        match (known, near) {
            (Some((_, long)), _) => Ok(Some(Arg::Opt(long))),
            (None, Some(n)) => Err(Error::Usage(format!(
                "{} (did you mean --{n}?)",
                arg.unexpected()
            ))),
            (None, None) => Err(usage(arg.unexpected())),
        }
    }

    fn os_value(&mut self) -> Result<OsString> {
        self.parser.value().map_err(usage)
    }

    fn value(&mut self, what: &str) -> Result<String> {
        utf8(self.os_value()?, what)
    }

    /// A global option, or an error for anything else.
    fn global(&mut self, arg: Arg) -> Result<()> {
        let g = &mut self.global;
        match arg {
            Arg::Opt("config") => {
                let file = self.os_value()?;
                self.global.config = Some(file.into());
            }
            Arg::Opt("set") => self.set()?,
            Arg::Opt("service") => {
                let name = self.value("--service")?;
                self.name(name)?;
            }
            Arg::Opt("dry-run") => g.mode = Mode::DryRun,
            Arg::Opt("quiet") => g.terminal = Terminal::Quiet,
            Arg::Opt("verbose") => g.verbosity = Verbosity::Verbose,
            Arg::Opt("help") => self.help = true,
            Arg::Opt("version") => self.version = true,
            other => return Err(other.unexpected()),
        }
        Ok(())
    }

    fn set(&mut self) -> Result<()> {
        let value = self.value("--set")?;
        let Some((k, v)) = value.split_once('=') else {
            return Err(Error::Usage(format!("--set {value:?}: expected KEY=VALUE")));
        };
        self.global.overrides.push((k.to_string(), v.to_string()));
        Ok(())
    }

    /// The service a command is for (`--service NAME` or its NAME).
    fn name(&mut self, name: String) -> Result<()> {
        if !crate::config::services::valid_name(&name) {
            return Err(Error::Usage(format!(
                "{name:?} is not a service name (letters, digits, - _ .)"
            )));
        }
        if self.global.service.as_ref().is_some_and(|s| *s != name) {
            return Err(Error::Usage("one service at a time".into()));
        }
        self.global.service = Some(name);
        Ok(())
    }

    /// An argument that is a value: the service's name, else global options.
    fn named(&mut self, arg: Arg, what: &str) -> Result<()> {
        match arg {
            Arg::Value(v) => {
                let name = utf8(v, what)?;
                self.name(name)
            }
            a => self.global(a),
        }
    }

    /// The rest of the line: global options and a service's NAME.
    fn globals_and_name(&mut self, what: &str) -> Result<()> {
        while let Some(arg) = self.next()? {
            self.named(arg, what)?;
        }
        Ok(())
    }

    /// The rest of the line holds global options only.
    fn globals_only(&mut self) -> Result<()> {
        while let Some(arg) = self.next()? {
            self.global(arg)?;
        }
        Ok(())
    }
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Parsed> {
    let mut line = Line {
        parser: lexopt::Parser::from_iter(args),
        global: Global::default(),
        help: false,
        version: false,
    };
    let name = loop {
        match line.next()? {
            None => break None,
            Some(Arg::Value(v)) => break Some(utf8(v, "command")?.parse::<Name>()?),
            Some(arg) => line.global(arg)?,
        }
    };
    let Some(name) = name else {
        return match (line.version, line.help) {
            (true, _) => Ok(Parsed::Special(Special::Version)),
            (false, true) => Ok(Parsed::Special(Special::Help(help::HELP))),
            (false, false) => Err(Error::Usage("no command given".into())),
        };
    };
    let command = match name {
        Name::Check => line
            .globals_and_name("check")
            .map(|()| Some(Command::Check)),
        Name::Rotate => line.globals_only().map(|()| Some(Command::Rotate)),
        Name::Reset => line.globals_only().map(|()| Some(Command::Reset)),
        Name::Monitor => line.globals_only().map(|()| Some(Command::Monitor)),
        Name::Recover => line.globals_only().map(|()| Some(Command::Recover)),
        Name::Resume => line.globals_only().map(|()| Some(Command::Resume)),
        Name::Why => line.globals_and_name("why").map(|()| Some(Command::Why)),
        Name::Probe => json(&mut line).map(|format| Some(Command::Probe { format })),
        Name::Doctor => doctor(&mut line).map(Some),
        Name::Rollback => rollback(&mut line).map(Some),
        Name::Runbook => runbook(&mut line),
        Name::Status => json_named(&mut line).map(|format| Some(Command::Status { format })),
        Name::Stats => stats(&mut line).map(Some),
        Name::Notify => notify(&mut line),
        Name::Pause => pause(&mut line),
        Name::Guard => guard(&mut line),
    }?;
    if line.version {
        return Ok(Parsed::Special(Special::Version));
    }
    if line.help {
        return Ok(Parsed::Special(Special::Help(name.help())));
    }
    // `None`: a required argument is missing (checked after --help).
    let command = command.ok_or_else(|| {
        Error::Usage(match name {
            Name::Notify => "notify: MESSAGE is missing".into(),
            Name::Runbook => "runbook: expected list, show ID or forget ID".into(),
            Name::Guard => "guard: the COMMAND is missing (selfheal guard -- COMMAND…)".into(),
            _ => "pause: DURATION is missing (e.g. 30m, 2h)".into(),
        })
    })?;
    Ok(Parsed::Run(Cli {
        global: line.global,
        command,
    }))
}

/// `--json` and the global options.
fn json(line: &mut Line) -> Result<Format> {
    let mut format = Format::Text;
    while let Some(arg) = line.next()? {
        match arg {
            Arg::Opt("json") => format = Format::Json,
            a => line.global(a)?,
        }
    }
    Ok(format)
}

/// `--json`, a service's NAME and the global options.
fn json_named(line: &mut Line) -> Result<Format> {
    let mut format = Format::Text;
    while let Some(arg) = line.next()? {
        match arg {
            Arg::Opt("json") => format = Format::Json,
            a => line.named(a, "status")?,
        }
    }
    Ok(format)
}

fn doctor(line: &mut Line) -> Result<Command> {
    let (mut format, mut agent) = (Format::Text, AskAgent::No);
    while let Some(arg) = line.next()? {
        match arg {
            Arg::Opt("json") => format = Format::Json,
            Arg::Opt("agent") => agent = AskAgent::Yes,
            a => line.named(a, "doctor")?,
        }
    }
    Ok(Command::Doctor { format, agent })
}

fn rollback(line: &mut Line) -> Result<Command> {
    let mut list = false;
    while let Some(arg) = line.next()? {
        match arg {
            Arg::Opt("list") => list = true,
            a => line.global(a)?,
        }
    }
    Ok(Command::Rollback { list })
}

/// `runbook [list | show ID | forget ID]`; `None` for anything else.
fn runbook(line: &mut Line) -> Result<Option<Command>> {
    let mut words = Vec::new();
    while let Some(arg) = line.next()? {
        match arg {
            Arg::Value(v) => words.push(utf8(v, "runbook")?),
            a => line.global(a)?,
        }
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let action = match words.as_slice() {
        [] | ["list"] => Some(Runbook::List),
        ["show", id] => Some(Runbook::Show(id.to_string())),
        ["forget", id] => Some(Runbook::Forget(id.to_string())),
        _ => None,
    };
    Ok(action.map(|action| Command::Runbook { action }))
}

fn stats(line: &mut Line) -> Result<Command> {
    let (mut days, mut format, mut notify) = (7, Format::Text, false);
    while let Some(arg) = line.next()? {
        match arg {
            Arg::Opt("json") => format = Format::Json,
            Arg::Opt("notify") => notify = true,
            Arg::Opt("days") => {
                let v = line.value("--days")?;
                days = v.parse().ok().filter(|d| *d <= 36500).ok_or_else(|| {
                    Error::Usage(format!(
                        "--days {v:?}: expected a whole number of days (0: all)"
                    ))
                })?;
            }
            a => line.named(a, "stats")?,
        }
    }
    Ok(Command::Stats {
        days,
        format,
        notify,
    })
}

fn notify(line: &mut Line) -> Result<Option<Command>> {
    let mut severity = Severity::Info;
    let mut words = Vec::new();
    while let Some(arg) = line.next()? {
        match arg {
            Arg::Opt("level") => {
                let v = line.value("--level")?;
                severity = v
                    .parse()
                    .map_err(|e| Error::Usage(format!("--level {e}")))?;
            }
            Arg::Value(v) => words.push(utf8(v, "MESSAGE")?),
            a => line.global(a)?,
        }
    }
    Ok((!words.is_empty()).then(|| Command::Notify {
        severity,
        message: words.join(" "),
    }))
}

fn pause(line: &mut Line) -> Result<Option<Command>> {
    let mut text = None;
    while let Some(arg) = line.next()? {
        match arg {
            Arg::Value(v) if text.is_none() => text = Some(utf8(v, "DURATION")?),
            a => line.global(a)?,
        }
    }
    let Some(text) = text else {
        return Ok(None);
    };
    let duration = crate::fmt::parse_duration(&text)
        .ok()
        .filter(|d| !d.is_zero() && d.as_secs() <= 7 * 86400)
        .ok_or_else(|| {
            Error::Usage(format!(
                "pause {text:?}: expected a duration from 1s to 7d, like 30m or 2h"
            ))
        })?;
    Ok(Some(Command::Pause { duration }))
}

/// `guard [--for D] [--timeout D] [--] COMMAND…`: everything from the
/// command's first word on is its own, options included.
fn guard(line: &mut Line) -> Result<Option<Command>> {
    let mut probation = Duration::from_secs(120);
    let mut timeout = Duration::from_secs(3600);
    let mut argv = Vec::new();
    let duration = |line: &mut Line, what: &str| -> Result<Duration> {
        let v = line.value(what)?;
        crate::fmt::parse_duration(&v)
            .ok()
            .filter(|d| !d.is_zero() && d.as_secs() <= 86400)
            .ok_or_else(|| Error::Usage(format!("{what} {v:?}: expected a duration up to 1d")))
    };
    while let Some(arg) = line.next()? {
        match arg {
            Arg::Opt("for") => probation = duration(line, "--for")?,
            Arg::Opt("timeout") => timeout = duration(line, "--timeout")?,
            Arg::Value(v) => {
                argv.push(utf8(v, "COMMAND")?);
                for rest in line.parser.raw_args().map_err(usage)? {
                    argv.push(utf8(rest, "COMMAND")?);
                }
                break;
            }
            a => line.global(a)?,
        }
    }
    Ok((!argv.is_empty()).then_some(Command::Guard {
        probation,
        timeout,
        argv,
    }))
}

fn usage(e: lexopt::Error) -> Error {
    Error::Usage(e.to_string())
}

fn utf8(value: OsString, what: &str) -> Result<String> {
    value.into_string().map_err(|v| not_utf8(&v, what))
}

fn not_utf8(value: &OsString, what: &str) -> Error {
    Error::Usage(format!("{what}: {value:?} is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::help::{HELP, HELP_PROBE};
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        std::iter::once("selfheal")
            .chain(list.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn cli(list: &[&str]) -> Cli {
        match parse(args(list)) {
            Ok(Parsed::Run(cli)) => cli,
            other => panic!("{list:?}: {other:?}"),
        }
    }

    fn special(list: &[&str]) -> Special {
        match parse(args(list)) {
            Ok(Parsed::Special(s)) => s,
            other => panic!("{list:?}: {other:?}"),
        }
    }

    #[test]
    fn globals_anywhere() {
        let c = cli(&["-q", "check", "--dry-run", "--set", "A=b=c"]);
        assert_eq!(c.command, Command::Check);
        assert_eq!(c.global.terminal, Terminal::Quiet);
        assert_eq!(c.global.mode, Mode::DryRun);
        assert_eq!(
            c.global.overrides,
            vec![("A".to_string(), "b=c".to_string())]
        );
        assert_eq!(
            cli(&["probe", "--json"]).command,
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
            &["check", "one", "two"],
            &["check", "../etc"],
            &["--service", "a", "status", "b"],
            &["probe", "extra"],
            &["--set"],
            &["--set", "novalue", "check"],
            &["--bogus"],
            &["notify"],
            &["pause"],
            &["pause", "1h", "2h"],
            &["stats", "--days", "x"],
            &["notify", "--level", "loud", "hi"],
        ] {
            let e = parse(args(bad)).expect_err("must fail");
            assert_eq!(e.code(), 2, "{bad:?}: {e}");
        }
    }

    #[test]
    fn a_service_is_named_after_the_command_or_with_service() {
        for line in [
            &["check", "ollama"][..],
            &["status", "--json", "ollama"],
            &["doctor", "ollama", "--agent"],
            &["stats", "ollama"],
            &["why", "ollama"],
            &["--service", "ollama", "recover"],
            &["check", "ollama", "--service", "ollama"],
        ] {
            assert_eq!(
                cli(line).global.service.as_deref(),
                Some("ollama"),
                "{line:?}"
            );
        }
        assert_eq!(cli(&["check"]).global.service, None);
    }

    #[test]
    fn help_and_version() {
        assert_eq!(special(&["--help"]), Special::Help(HELP));
        assert_eq!(special(&["probe", "-h"]), Special::Help(HELP_PROBE));
        assert_eq!(special(&["-V"]), Special::Version);
        assert_eq!(
            special(&["notify", "--help"]),
            Special::Help(help::HELP_NOTIFY)
        );
    }

    #[test]
    fn every_command_parses() {
        for (_, name, _) in NAMES {
            let extra: &[&str] = match name {
                "notify" => &["hello", "world"],
                "pause" => &["30m"],
                "guard" => &["--", "true"],
                _ => &[],
            };
            let list: Vec<&str> = std::iter::once(name).chain(extra.iter().copied()).collect();
            cli(&list);
        }
        // guard: the command's own options stay its own.
        assert_eq!(
            cli(&["guard", "--for", "30s", "--", "npm", "i", "-g", "--for", "x"]).command,
            Command::Guard {
                probation: Duration::from_secs(30),
                timeout: Duration::from_secs(3600),
                argv: ["npm", "i", "-g", "--for", "x"].map(String::from).to_vec(),
            }
        );
        assert_eq!(
            cli(&["notify", "--level", "warn", "a", "b"]).command,
            Command::Notify {
                severity: Severity::Warning,
                message: "a b".into()
            }
        );
    }
}
