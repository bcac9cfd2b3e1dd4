//! Running the restart and repair commands: no shell, own process group,
//! hard timeout.
//!
//! The command runs in a new process group so that, at the timeout (or when
//! selfheal itself is told to stop), the whole group is sent SIGTERM and,
//! after a short grace, SIGKILL: a hung `openclaw gateway restart` and every
//! child it started are gone before the next step. A daemon the command starts
//! on purpose (in its own session) and a command that exits normally are left
//! alone. Output goes to a capture file, not a pipe, so that a background
//! process the command leaves behind never dies of SIGPIPE when selfheal
//! exits; its tail is returned for the log, with secrets scrubbed.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::sys::clock::{check_signal, Clock};
use crate::sys::files;

/// Between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(1);
/// How much of the output's end is kept for the log.
const OUTPUT_TAIL: u64 = 2048;

#[derive(Debug)]
pub enum Outcome {
    Exited(ExitStatus),
    TimedOut,
    /// Cut short: its output already said enough (`run_until`).
    Stopped,
    /// It could not be started (not found, not executable).
    NotStarted(std::io::Error),
}

#[derive(Debug)]
pub struct Finished {
    pub outcome: Outcome,
    pub elapsed: Duration,
    /// The last lines of its output, control characters removed.
    pub output: String,
    /// Its process group, which anything it left running is still in.
    pub group: Option<libc::pid_t>,
}

impl Finished {
    pub fn success(&self) -> bool {
        matches!(&self.outcome, Outcome::Exited(s) if s.success())
    }

    /// Whether a process the command started is still running in its group
    /// (a daemon it left behind on purpose: the service it started).
    pub fn left_running(&self) -> bool {
        self.group.is_some_and(group_alive)
    }

    /// The last line of its output that says something.
    pub fn last_line(&self) -> Option<&str> {
        self.output
            .lines()
            .map(str::trim)
            .rfind(|l| l.chars().any(|c| c.is_ascii_alphanumeric()))
    }

    /// `exited 0`, `exited 3`, `killed by signal 9`, `timed out`, ...
    pub fn describe(&self) -> String {
        match &self.outcome {
            Outcome::Exited(s) => match (s.code(), s.signal()) {
                (Some(c), _) => format!("exited {c}"),
                (None, Some(sig)) => format!("killed by signal {sig}"),
                _ => "ended".into(),
            },
            Outcome::TimedOut => "timed out; it and its children were killed".into(),
            Outcome::Stopped => {
                "stopped once it had said enough; it and its children were killed".into()
            }
            Outcome::NotStarted(e) if e.kind() == std::io::ErrorKind::NotFound => {
                "command not found".into()
            }
            Outcome::NotStarted(e) => format!("could not start: {e}"),
        }
    }
}

/// A command's process group, and the start time of its leader: what a later
/// run needs to find it (and to tell it from a process that reused the id)
/// if this run dies while waiting on it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Group {
    pub pgid: libc::pid_t,
    pub started: String,
}

/// Runs `argv` with `timeout`, its output captured in `capture`; `spawned`
/// is told the command's group before it is waited on.
/// Returns `Err` only if the capture file cannot be opened, or when a
/// termination signal arrived (after the group was killed).
pub fn run(
    argv: &[String],
    timeout: Duration,
    capture: &Path,
    clock: &dyn Clock,
    secrets: &[&str],
    spawned: &mut dyn FnMut(&Group),
) -> Result<Finished> {
    let mut done = spawn_and_wait(argv, timeout, capture, clock, &[], Signals::Stop, spawned)?;
    // Whatever it printed reaches logs, alerts, the heartbeat and the agent:
    // the configured secrets and anything that looks like one are masked
    // here, once, where it comes in.
    done.output =
        crate::sys::redact::mask_secrets(&crate::sys::redact::scrub(&done.output, secrets));
    // The raw output may echo a credential: only the scrubbed tail is kept
    // (a daemon the command left keeps writing to the unlinked file).
    let _ = std::fs::remove_file(capture);
    Ok(done)
}

/// Whether a termination signal cuts the command short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signals {
    /// Kill the command and return `Interrupted` (ordinary steps).
    Stop,
    /// Let it finish within its timeout (clean-up after a signal).
    Ignore,
}

/// `run`, with variables added to the child's environment (never argv).
pub fn run_with_env(
    argv: &[String],
    timeout: Duration,
    capture: &Path,
    clock: &dyn Clock,
    env: &[(String, String)],
    signals: Signals,
) -> Result<Finished> {
    spawn_and_wait(argv, timeout, capture, clock, env, signals, &mut |_| {})
}

/// `run_with_env`, cut short (`Outcome::Stopped`) as soon as what it has
/// printed so far makes `enough` true: a CLI that says it cannot work and
/// then retries forever is not waited on to its timeout.
pub fn run_until(
    argv: &[String],
    timeout: Duration,
    capture: &Path,
    clock: &dyn Clock,
    env: &[(String, String)],
    enough: &dyn Fn(&str) -> bool,
) -> Result<Finished> {
    let watch = Watch { capture, enough };
    spawn(
        argv,
        timeout,
        capture,
        clock,
        env,
        Signals::Stop,
        &mut |_| {},
        Some(&watch),
    )
}

/// What `run_until` looks at, twice a second.
struct Watch<'a> {
    capture: &'a Path,
    enough: &'a dyn Fn(&str) -> bool,
}

const WATCH_EVERY: Duration = Duration::from_millis(500);
/// How much of the output so far `Watch` reads.
const WATCH_MAX: u64 = 64 << 10;

fn spawn_and_wait(
    argv: &[String],
    timeout: Duration,
    capture: &Path,
    clock: &dyn Clock,
    env: &[(String, String)],
    signals: Signals,
    on_spawn: &mut dyn FnMut(&Group),
) -> Result<Finished> {
    spawn(argv, timeout, capture, clock, env, signals, on_spawn, None)
}

#[allow(clippy::too_many_arguments)]
fn spawn(
    argv: &[String],
    timeout: Duration,
    capture: &Path,
    clock: &dyn Clock,
    env: &[(String, String)],
    signals: Signals,
    on_spawn: &mut dyn FnMut(&Group),
    watch: Option<&Watch>,
) -> Result<Finished> {
    let start = clock.now();
    let Some((program, args)) = argv.split_first() else {
        return Ok(Finished {
            outcome: Outcome::NotStarted(std::io::Error::other("empty command")),
            elapsed: Duration::ZERO,
            output: String::new(),
            group: None,
        });
    };
    if signals == Signals::Stop {
        // A stop request that came before the spawn: nothing is started.
        check_signal()?;
    }
    let mut out = files::open_truncate(capture)?;
    let err = out.try_clone().map_err(|e| Error::io("open", capture, e))?;
    let spawned = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(|e| Error::io("open", capture, e))?)
        .stderr(err)
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return Ok(Finished {
                outcome: Outcome::NotStarted(e),
                elapsed: clock.now() - start,
                output: String::new(),
                group: None,
            })
        }
    };
    if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
        if let Some(started) = start_stamp(pgid) {
            on_spawn(&Group { pgid, started });
        }
    }
    let deadline = start + timeout;
    let mut nap = Duration::from_millis(5);
    let mut looked = start;
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Outcome::Exited(status),
            Ok(None) => {}
            Err(_) => break Outcome::Exited(kill_group(&mut child)),
        }
        if signals == Signals::Stop {
            if let Err(interrupted) = check_signal() {
                kill_group(&mut child);
                return Err(interrupted);
            }
        }
        let now = clock.now();
        if now >= deadline {
            kill_group(&mut child);
            break Outcome::TimedOut;
        }
        if let Some(w) = watch.filter(|_| now - looked >= WATCH_EVERY) {
            looked = now;
            let so_far = read_capture(w.capture, WATCH_MAX);
            if (w.enough)(&String::from_utf8_lossy(&so_far)) {
                kill_group(&mut child);
                break Outcome::Stopped;
            }
        }
        // A short first nap catches quick commands; later naps are longer.
        // (Not `clock.sleep`, which ends early once a signal has arrived.)
        std::thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(50));
    };
    Ok(Finished {
        outcome,
        elapsed: clock.now() - start,
        output: tail(&mut out),
        group: libc::pid_t::try_from(child.id()).ok(),
    })
}

/// When process `pid` started, as the system tells it: a process that reuses
/// the id has another. Linux: field 22 of `/proc/PID/stat` (clock ticks
/// since boot); elsewhere `ps -o lstart=`.
pub fn start_stamp(pid: libc::pid_t) -> Option<String> {
    if cfg!(target_os = "linux") {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name, which may hold spaces: 3 (state) on.
        let rest = stat.rsplit_once(')')?.1;
        return rest.split_whitespace().nth(19).map(str::to_string);
    }
    let pid = pid.to_string();
    let (ok, out) = output(&["ps", "-o", "lstart=", "-p", &pid], Duration::from_secs(2))?;
    let out = out.trim();
    (ok && !out.is_empty()).then(|| out.to_string())
}

/// Ends a command that a dead run left running: if the leader of `group`
/// is still the process that run started, SIGTERM to the group, a grace,
/// SIGKILL. Returns whether it was there. A group whose leader has exited
/// (a daemon the command started on purpose) is left alone.
pub fn end_orphan(group: &Group) -> bool {
    if group.pgid <= 1 || start_stamp(group.pgid).as_deref() != Some(group.started.as_str()) {
        return false;
    }
    // SAFETY: signals to a group whose leader we identified by start time.
    unsafe { libc::killpg(group.pgid, libc::SIGTERM) };
    let end = std::time::Instant::now() + KILL_GRACE;
    while std::time::Instant::now() < end && group_alive(group.pgid) {
        std::thread::sleep(Duration::from_millis(10));
    }
    unsafe { libc::killpg(group.pgid, libc::SIGKILL) };
    true
}

/// Whether any process is left in the process group `pgid`.
pub fn group_alive(pgid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the group exists and may be signalled.
    pgid > 0 && unsafe { libc::killpg(pgid, 0) } == 0
}

/// SIGTERM to the group, up to `KILL_GRACE` for the leader to go, then
/// SIGKILL to the group (for children that ignore SIGTERM), then reap.
/// `child` must lead a process group of its own (`process_group(0)`).
pub fn kill_group(child: &mut Child) -> ExitStatus {
    let Ok(pgid) = libc::pid_t::try_from(child.id()) else {
        let _ = child.kill();
        return child.wait().unwrap_or_else(|_| ExitStatus::from_raw(9));
    };
    // SAFETY: plain syscalls on a process group we created.
    unsafe { libc::killpg(pgid, libc::SIGTERM) };
    let end = std::time::Instant::now() + KILL_GRACE;
    while std::time::Instant::now() < end && !has_exited(pgid) {
        std::thread::sleep(Duration::from_millis(10));
    }
    // The leader is not reaped yet, so the group id cannot have been reused.
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
    child.wait().unwrap_or_else(|_| ExitStatus::from_raw(9))
}

/// Whether the process has exited, without reaping it.
fn has_exited(pid: libc::pid_t) -> bool {
    // SAFETY: waitid with WNOWAIT only inspects; siginfo is plain data.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    rc == 0 && unsafe { info.si_pid() } == pid
}

/// Runs a short query command (`launchctl list X`, `systemctl --user
/// is-active X`, `crontab -l`) and returns whether it succeeded and its
/// stdout (at most 64 KiB), or `None` if it could not be started. Killed
/// with its group at `timeout`; for commands that leave nothing behind.
pub fn output(argv: &[&str], timeout: Duration) -> Option<(bool, String)> {
    use std::os::fd::AsRawFd;
    let (program, args) = argv.split_first()?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()?;
    let mut out = child.stdout.take()?;
    let fd = out.as_raw_fd();
    // SAFETY: fcntl on a pipe we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let deadline = std::time::Instant::now() + timeout;
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let status = loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 20) };
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || bytes.len() > 64 * 1024 {
                break;
            }
            bytes.extend_from_slice(&buf[..n]);
        }
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if std::time::Instant::now() < deadline => {}
            _ => {
                kill_group(&mut child);
                break None;
            }
        }
    };
    while let Ok(n) = out.read(&mut buf) {
        if n == 0 || bytes.len() > 64 * 1024 {
            break;
        }
        bytes.extend_from_slice(&buf[..n]);
    }
    let ok = status.is_some_and(|s| s.success());
    Some((ok, String::from_utf8_lossy(&bytes).into_owned()))
}

/// A query started now and collected later, so that a slow one (a Node
/// program) runs while selfheal does something else — no thread. Its
/// output goes to a capture file; an alarm set before `exec` ends it at its
/// timeout even if it is never collected, and `finish` (or dropping it)
/// kills whatever is left of its group.
pub struct Pending {
    child: Child,
    deadline: std::time::Instant,
    capture: std::path::PathBuf,
}

impl Pending {
    /// Starts `argv`; `None` if it cannot be started.
    pub fn start(argv: &[&str], timeout: Duration, capture: &Path) -> Option<Pending> {
        let (program, args) = argv.split_first()?;
        let out = files::open_truncate(capture).ok()?;
        let err = out.try_clone().ok()?;
        let secs = u32::try_from(timeout.as_secs().max(1)).unwrap_or(u32::MAX);
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        // SAFETY: alarm(2) is async-signal-safe; the timer survives exec and
        // SIGALRM's default action ends the program at its timeout.
        unsafe {
            cmd.pre_exec(move || {
                libc::alarm(secs);
                Ok(())
            });
        }
        let child = cmd.spawn().ok()?;
        Some(Pending {
            child,
            deadline: std::time::Instant::now() + timeout,
            capture: capture.to_path_buf(),
        })
    }

    /// Waits for what is left of its timeout; (whether it succeeded, its
    /// output, at most 64 KiB), or `None` when it did not finish in time.
    pub fn finish(mut self) -> Option<(bool, String)> {
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if std::time::Instant::now() < self.deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => break None,
            }
        };
        let status = status?;
        let out = read_capture(&self.capture, 64 * 1024);
        Some((status.success(), String::from_utf8_lossy(&out).into_owned()))
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            kill_group(&mut self.child);
        }
        let _ = std::fs::remove_file(&self.capture);
    }
}

/// Up to `max` bytes of a capture file, from its start.
pub fn read_capture(path: &Path, max: u64) -> Vec<u8> {
    crate::sys::files::open_read(path)
        .map_or_else(|_| Vec::new(), |f| crate::sys::files::head(f, max))
}

fn tail(file: &mut std::fs::File) -> String {
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let from = len.saturating_sub(OUTPUT_TAIL);
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(from)).is_ok() {
        let _ = file.take(OUTPUT_TAIL).read_to_end(&mut bytes);
    }
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|l| !l.trim().is_empty())
        .collect();
    let kept = &lines[lines.len().saturating_sub(5)..];
    kept.join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_query_is_collected_later_and_bounded() {
        let dir = std::env::current_dir().unwrap_or_default().join(format!(
            "target/unit-scratch/pending-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        files::ensure_dir(&dir).expect("dir");
        let argv = ["sh", "-c", "echo hi; exit 3"];
        let p = Pending::start(&argv, Duration::from_secs(5), &dir.join("a")).expect("started");
        assert_eq!(p.finish(), Some((false, "hi\n".to_string())));
        let argv = ["sleep", "30"];
        let slow = Pending::start(&argv, Duration::from_millis(300), &dir.join("b"));
        let t = std::time::Instant::now();
        assert_eq!(slow.expect("started").finish(), None);
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}
