//! Several services (`config::services`): which services a command is for,
//! and how `check` runs them all. Each service is checked by a child
//! `selfheal … check --service NAME`, all started at once, each in its own
//! process group and killed at its bound: one service being healed (for
//! its whole budget) never delays another's probe, and one whose file is
//! bad fails alone, said by its own `cannot_run`. No threads: the children
//! run side by side and are collected as they end. The read-only commands
//! (`status`, `doctor`, `stats`, `why`) run here, one service after another.
//!
//! Decides nothing about healing; a child is an ordinary single-service run.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::services::{self, Service};
use crate::config::{self, Sources};
use crate::error::{Error, Result};
use crate::sys::clock::check_signal;
use crate::sys::{files, log};

/// Which service a run is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The default service (`~/.openclaw/.env`, `--config`), by its name.
    Default(String),
    Named(Service),
}

impl Target {
    pub fn name(&self) -> &str {
        match self {
            Target::Default(n) => n,
            Target::Named(s) => &s.name,
        }
    }

    /// The sources of this service's configuration.
    pub fn sources(&self, base: &Sources) -> Sources {
        let mut s = base.clone();
        s.service = match self {
            Target::Default(_) => None,
            Target::Named(svc) => Some(svc.clone()),
        };
        s
    }
}

/// The default service's name: `openclaw` for the gateway, else `default`
/// (what its configuration says, when it can be read).
fn default_name(base: &Sources) -> String {
    config::salvage(base).map_or_else(|| "openclaw".to_string(), |c| c.service_name)
}

/// The services a command without a NAME is for: the default service when
/// there are no service files or when it has an env file of its own (a
/// host that watches only other services is not paged for a gateway it
/// does not run), then every service file, by name. A service file with
/// the default service's name is that service.
pub fn all(base: &Sources) -> Result<Vec<Target>> {
    let named = services::list(&base.services_dir())?;
    if named.is_empty() {
        // One service, as always: its name is not needed (and reading its
        // configuration twice would cost the healthy path).
        return Ok(vec![Target::Default(String::new())]);
    }
    let has_own_file = base.config_file.is_some()
        || base.env.contains_key(config::sources::CONFIG_FILE_KEY)
        || [".openclaw/.env", "openclaw/.env"]
            .iter()
            .any(|f| base.home.join(f).exists());
    let mut targets = Vec::new();
    if has_own_file {
        let name = default_name(base);
        if !named.iter().any(|s| s.name == name) {
            targets.push(Target::Default(name));
        }
    }
    targets.extend(named.into_iter().map(Target::Named));
    Ok(targets)
}

/// The service `name` names: a service file, else the default service
/// when it is its name.
pub fn named(base: &Sources, name: &str) -> Result<Target> {
    let named = services::list(&base.services_dir())?;
    if let Some(s) = named.iter().find(|s| s.name == name) {
        return Ok(Target::Named(s.clone()));
    }
    let default = default_name(base);
    if default == name {
        return Ok(Target::Default(default));
    }
    let mut known: Vec<String> = vec![default];
    known.extend(named.into_iter().map(|s| s.name));
    Err(Error::Usage(format!(
        "no service {name:?}: the services are {} (files in {})",
        known.join(", "),
        base.services_dir().join("services").display()
    )))
}

/// A child's bound and where its output goes. The bound: the longest its
/// run can take with its configuration (restarts and their waits, the
/// escalation wait, level 3), plus slack for probes, evidence and alerts;
/// an hour when its configuration cannot be read (it then only says so).
/// Its output: `.check-output-<pid>` in its own tool directory (never /tmp).
fn plan(sources: &Sources, name: &str) -> (Duration, PathBuf) {
    let Some(c) = config::salvage(sources) else {
        let dir = sources.home.join("openclaw/memory").join(name);
        return (Duration::from_secs(3600), dir.join(output_name()));
    };
    let attempts = c.max_retries.saturating_add(1);
    let bound = (c.restart_timeout + c.retry_delay * 2) * attempts
        + c.escalation_wait
        + c.recovery_timeout
        + c.startup_wait
        + c.trust_timeout
        + Duration::from_secs(900);
    (bound, c.memory_dir.join(output_name()))
}

/// A child's output, in its tool directory, until it is shown (named for
/// this run: two overlapping runs never write into each other's).
fn output_name() -> String {
    format!(".check-output-{}", std::process::id())
}

/// The file a child writes to: checked like every file of a tool
/// directory; `None` when it cannot be (the child's own log still has it).
fn output_file(path: &std::path::Path) -> Option<(std::fs::File, std::fs::File)> {
    files::ensure_dir(path.parent()?).ok()?;
    let out = files::open_truncate(path).ok()?;
    let err = out.try_clone().ok()?;
    Some((out, err))
}

/// One child at work.
struct Running {
    name: String,
    child: Child,
    output: PathBuf,
    until: Instant,
    timed_out: bool,
}

/// `check` for every service, side by side. The exit status is the worst
/// of theirs: 0 all healthy, 1 one unhealthy, else the highest (a service
/// that could not run).
pub fn check_all(base: &Sources, targets: &[Target]) -> Result<super::Verdict> {
    let exe = std::env::current_exe().map_err(|e| Error::io("find", "selfheal", e))?;
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let mut running = Vec::new();
    for t in targets {
        let (bound, output) = plan(&t.sources(base), t.name());
        let (out, err) = match output_file(&output) {
            Some((o, e)) => (Stdio::from(o), Stdio::from(e)),
            None => (Stdio::null(), Stdio::null()),
        };
        let spawned = Command::new(&exe)
            .args(&args)
            .args(["--service", t.name()])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn();
        match spawned {
            Ok(child) => running.push(Running {
                name: t.name().to_string(),
                child,
                output,
                until: Instant::now() + bound,
                timed_out: false,
            }),
            Err(e) => log::print(&format!("{}: could not start: {e}\n", t.name())),
        }
    }
    let codes = collect(&mut running)?;
    let worst = codes.iter().map(|(_, c)| *c).max().unwrap_or(0);
    match worst {
        0 => Ok(super::Verdict::Ok),
        1 => Ok(super::Verdict::Unhealthy),
        _ => Err(Error::Several(
            codes.into_iter().filter(|(_, c)| *c > 1).collect(),
        )),
    }
}

/// Waits for every child, printing each one's output (its lines prefixed
/// with its name) as it ends; kills a child at its bound, and every child
/// when selfheal itself is told to stop.
fn collect(running: &mut Vec<Running>) -> Result<Vec<(String, u8)>> {
    let mut codes = Vec::new();
    while !running.is_empty() {
        if let Err(stop) = check_signal() {
            for r in running.iter_mut() {
                end(r, Duration::from_secs(10));
            }
            return Err(stop);
        }
        let now = Instant::now();
        let mut i = 0;
        while i < running.len() {
            let r = &mut running[i];
            if now >= r.until && !r.timed_out {
                r.timed_out = true;
                end(r, Duration::from_secs(5));
            }
            match r.child.try_wait() {
                Ok(Some(status)) => {
                    let r = running.swap_remove(i);
                    let code = status
                        .code()
                        .and_then(|c| u8::try_from(c).ok())
                        .unwrap_or_else(|| {
                            128u8.saturating_add(status.signal().unwrap_or(0) as u8)
                        });
                    show(&r, code);
                    codes.push((r.name, code));
                }
                _ => i += 1,
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    codes.sort();
    Ok(codes)
}

/// SIGTERM to a child's group (it closes what it started and says it was
/// interrupted), SIGKILL after `grace`.
fn end(r: &mut Running, grace: Duration) {
    let Ok(pgid) = libc::pid_t::try_from(r.child.id()) else {
        return;
    };
    // SAFETY: plain syscalls on a process group we created and have not
    // reaped (its id cannot have been reused).
    unsafe { libc::killpg(pgid, libc::SIGTERM) };
    let until = Instant::now() + grace;
    while Instant::now() < until {
        if matches!(r.child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
}

fn show(r: &Running, code: u8) {
    let text = crate::sys::process::read_capture(&r.output, 1 << 20);
    let _ = std::fs::remove_file(&r.output);
    let text = String::from_utf8_lossy(&text);
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(&format!("{}: {line}\n", r.name));
    }
    if r.timed_out {
        out.push_str(&format!("{}: killed at its bound (exit {code})\n", r.name));
    }
    log::print(&out);
}

/// The heading a read-only command prints before each service's part.
pub fn heading(name: &str) -> String {
    format!("== {name} ==\n")
}
