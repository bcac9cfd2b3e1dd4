//! The run log: `healthcheck-YYYY-MM-DD.log` lines `[YYYY-MM-DD HH:MM:SS] msg`
//! in local time, echoed to the terminal.
//!
//! Terminal rules: normally every line goes to stdout. With `--quiet` routine
//! lines stay out of the terminal (cron mails nothing while all is well) and
//! actions and problems go to stderr. Writing the log never stops a heal: a
//! failed write is reported once on stderr and the run goes on. Callers pass
//! text that holds no secrets; this module does not look.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use time::{Date, OffsetDateTime};

use crate::sys::clock;
use crate::sys::files;
use crate::sys::redact;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminal {
    Normal,
    Quiet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Normal,
    Verbose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Only with `--verbose`.
    Debug,
    /// Routine: healthy, nothing done.
    Info,
    /// Something was done or changed: a restart, a recovery.
    Act,
    /// Something is wrong.
    Warn,
}

pub struct Log {
    /// None: terminal only (dry run, or commands that keep no log).
    dir: Option<PathBuf>,
    terminal: Terminal,
    verbosity: Verbosity,
    open: Option<(Date, File)>,
    write_failed: bool,
    /// Scrubbed from every line, whatever put them there.
    secrets: Vec<String>,
    /// This run's lines, up to `KEPT_MAX` (for the heartbeat's body).
    kept: Vec<u8>,
}

/// How much of a run's log the heartbeat carries (healthchecks.io takes
/// 100 kB; a summary needs far less).
pub const KEPT_MAX: usize = 10 * 1024;

impl Log {
    pub fn new(dir: Option<&Path>, terminal: Terminal, verbosity: Verbosity) -> Log {
        Log {
            dir: dir.map(Path::to_path_buf),
            terminal,
            verbosity,
            open: None,
            write_failed: false,
            secrets: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// Values that must never reach the terminal or the file.
    pub fn scrubbing(mut self, secrets: &[&str]) -> Log {
        self.secrets = secrets.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Opens today's file now, so that an unwritable directory is an error
    /// at the start of the run rather than a warning in the middle.
    pub fn open_now(&mut self) -> crate::error::Result<()> {
        if let Some(dir) = &self.dir {
            let today = clock::local_now().date();
            let path = dir.join(file_name(today));
            self.open = Some((today, files::open_append(&path)?));
        }
        Ok(())
    }

    pub fn path_for_today(&self) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(file_name(clock::local_now().date())))
    }

    /// This run's lines so far (scrubbed), at most `KEPT_MAX` bytes.
    pub fn kept(&self) -> &[u8] {
        &self.kept
    }

    pub fn is_verbose(&self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    pub fn debug(&mut self, msg: impl AsRef<str>) {
        self.line(Kind::Debug, msg.as_ref());
    }
    pub fn info(&mut self, msg: impl AsRef<str>) {
        self.line(Kind::Info, msg.as_ref());
    }
    pub fn act(&mut self, msg: impl AsRef<str>) {
        self.line(Kind::Act, msg.as_ref());
    }
    pub fn warn(&mut self, msg: impl AsRef<str>) {
        self.line(Kind::Warn, msg.as_ref());
    }

    /// A line for the file only (the caller has told the terminal already).
    pub fn record(&mut self, msg: &str) {
        let now = clock::local_now();
        let line = self.format(now, msg);
        self.append_to_file(now.date(), line.as_bytes());
    }

    fn format(&self, now: OffsetDateTime, msg: &str) -> String {
        // One event, one line: a newline in a message would forge a new entry.
        let msg: String = msg
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        format!("[{}] {}\n", stamp(now), redact::scrub(&msg, &secrets))
    }

    fn line(&mut self, kind: Kind, msg: &str) {
        if kind == Kind::Debug && self.verbosity < Verbosity::Verbose {
            return;
        }
        let now = clock::local_now();
        let line = self.format(now, msg);
        if self.kept.len() + line.len() <= KEPT_MAX {
            self.kept.extend_from_slice(line.as_bytes());
        }
        match (self.terminal, kind) {
            (Terminal::Normal, _) => {
                let _ = std::io::stdout().write_all(line.as_bytes());
            }
            (Terminal::Quiet, Kind::Act | Kind::Warn) => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
            (Terminal::Quiet, _) => {}
        }
        self.append_to_file(now.date(), line.as_bytes());
    }

    fn append_to_file(&mut self, today: Date, bytes: &[u8]) {
        let Some(dir) = &self.dir else { return };
        if self.open.as_ref().is_none_or(|(d, _)| *d != today) {
            match files::open_append(&dir.join(file_name(today))) {
                Ok(f) => self.open = Some((today, f)),
                Err(e) => return self.failed(&e.to_string()),
            }
        }
        if let Some((_, file)) = &mut self.open {
            if let Err(e) = file.write_all(bytes) {
                self.failed(&e.to_string());
            }
        }
    }

    fn failed(&mut self, why: &str) {
        if !self.write_failed {
            self.write_failed = true;
            let _ = writeln!(std::io::stderr(), "selfheal: cannot write the log: {why}");
        }
    }
}

pub fn file_name(date: Date) -> String {
    format!("healthcheck-{}.log", day(date))
}

/// `YYYY-MM-DD`. (Written by hand: the `time` crate's formatting costs the
/// static binary more than a dozen KiB.)
pub fn day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn hh_mm(t: OffsetDateTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

pub fn stamp(t: OffsetDateTime) -> String {
    format!("{} {}:{:02}", day(t.date()), hh_mm(t), t.second())
}

/// A unix time as people say it: `03:12` today, `2026-12-05 03:12` before.
pub fn clock_time(unix: i64) -> String {
    let t = crate::sys::clock::local_at(unix);
    if t.date() == crate::sys::clock::local_now().date() {
        hh_mm(t)
    } else {
        format!("{} {}", day(t.date()), hh_mm(t))
    }
}

/// `YYYY-MM-DD-HHMMSS`, the `<TS>` in the names of level 3 files.
pub fn file_stamp(t: OffsetDateTime) -> String {
    format!(
        "{}-{:02}{:02}{:02}",
        day(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Prints to stdout, ignoring a closed pipe (`selfheal probe | head -0`).
pub fn print(text: &str) {
    let _ = std::io::stdout().write_all(text.as_bytes());
}
