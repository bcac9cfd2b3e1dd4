//! A private tmux server for one level 3 run, driven by bounded calls.
//!
//! Every call is `tmux -S <socket in the tool directory> -f /dev/null …`
//! (`-L`, in tmux's own directory, only where that path is too long for a
//! socket; the socket is removed with the server either way) run through
//! `process` with a timeout, so a wedged tmux cannot hold the run. The
//! server is started with the agent's environment (API key, HOME, PATH) in
//! the *environment* of the first client, never in its argv, and is killed
//! when the `Server` is dropped — on success, failure, `?` or a signal. Text
//! goes in with `load-buffer` from a 0600 file and `paste-buffer -p`
//! (bracketed paste, one block), never through `send-keys` of free text.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::sys::clock::Clock;
use crate::sys::process;

/// Why a tmux call did not do its job.
#[derive(Debug)]
pub enum Error {
    /// tmux ran and refused (its exit status and output): the agent's run
    /// ends as "tmux failed", and the ladder goes on.
    Refused(String),
    /// tmux could not be run at all, or a signal stopped the run: the run
    /// itself must stop.
    Run(crate::error::Error),
}

impl From<crate::error::Error> for Error {
    fn from(e: crate::error::Error) -> Error {
        Error::Run(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Refused(why) => f.write_str(why),
            Error::Run(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Refused(_) => None,
            Error::Run(e) => Some(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// How long one tmux command may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of a pane's history that is read back.
const CAPTURE_MAX: u64 = 8 << 20;

/// A unix socket's path must fit in `sun_path` (104 bytes on macOS).
const SOCKET_PATH_MAX: usize = 100;

/// Where the private server listens.
#[derive(Debug, Clone)]
enum Socket {
    /// `-S PATH`: in the tool directory, nothing elsewhere.
    Path(PathBuf),
    /// `-L NAME`, in tmux's own directory (`$TMUX_TMPDIR` or `/tmp`,
    /// `tmux-UID/NAME`), when the tool directory's path is too long.
    Name(String, PathBuf),
}

impl Socket {
    fn new(name: &str, scratch: &Path) -> Socket {
        let path = scratch.join(format!(".tmux-{name}"));
        if path.as_os_str().len() <= SOCKET_PATH_MAX {
            return Socket::Path(path);
        }
        let dir = std::env::var_os("TMUX_TMPDIR")
            .filter(|d| !d.is_empty())
            .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
        let uid = crate::sys::files::uid();
        Socket::Name(name.to_string(), dir.join(format!("tmux-{uid}")).join(name))
    }

    fn args(&self) -> [String; 2] {
        match self {
            Socket::Path(p) => ["-S".into(), p.display().to_string()],
            Socket::Name(n, _) => ["-L".into(), n.clone()],
        }
    }

    /// The socket file, removed when the server is gone (tmux leaves it).
    fn path(&self) -> &Path {
        match self {
            Socket::Path(p) | Socket::Name(_, p) => p,
        }
    }
}

pub struct Server<'a> {
    bin: PathBuf,
    /// Private to this run.
    socket: Socket,
    pub session: String,
    capture: PathBuf,
    clock: &'a dyn Clock,
    started: bool,
    /// The server's pid, to kill it if `kill-server` does not.
    server_pid: Option<libc::pid_t>,
}

/// What `start` is given.
pub struct Launch<'a> {
    pub argv: &'a [String],
    pub workdir: &'a Path,
    pub env: &'a [(String, String)],
    pub width: u16,
    pub height: u16,
}

impl<'a> Server<'a> {
    pub fn new(
        bin: PathBuf,
        socket: String,
        session: String,
        scratch: &Path,
        clock: &'a dyn Clock,
    ) -> Server<'a> {
        Server {
            bin,
            socket: Socket::new(&socket, scratch),
            session,
            capture: scratch.join(".tmux-output"),
            clock,
            started: false,
            server_pid: None,
        }
    }

    fn call(&self, args: &[&str], env: &[(String, String)]) -> Result<process::Finished> {
        let mut argv = vec![self.bin.display().to_string()];
        argv.extend(self.socket.args());
        argv.extend(["-f".into(), "/dev/null".into()]);
        argv.extend(args.iter().map(|a| a.to_string()));
        // Each call is short and bounded; a signal is noticed at the caller's
        // next sleep, and the clean-up calls must run after one.
        Ok(process::run_with_env(
            &argv,
            CALL_TIMEOUT,
            &self.capture,
            self.clock,
            env,
            process::Signals::Ignore,
        )?)
    }

    fn call_ok(&self, args: &[&str]) -> Result<()> {
        let done = self.call(args, &[])?;
        if done.success() {
            return Ok(());
        }
        Err(Error::Refused(format!(
            "tmux {} {}: {}",
            args.first().unwrap_or(&""),
            done.describe(),
            done.output
        )))
    }

    /// Starts the server and the session running `argv` (exec'd directly:
    /// tmux runs a command of two or more words without a shell).
    pub fn start(&mut self, launch: &Launch) -> Result<()> {
        let mut argv: Vec<String> = launch.argv.to_vec();
        if argv.len() == 1 {
            // A lone word would go to `sh -c`; `env` makes it two.
            argv.insert(0, "/usr/bin/env".into());
        }
        let (w, h) = (launch.width.to_string(), launch.height.to_string());
        let workdir = launch.workdir.display().to_string();
        let mut args: Vec<&str> = vec![
            "start-server",
            ";",
            "set-option",
            "-g",
            "history-limit",
            "100000",
            ";",
            "set-option",
            "-g",
            "remain-on-exit",
            "on",
            ";",
            "new-session",
            "-d",
            "-s",
            &self.session,
            "-x",
            &w,
            "-y",
            &h,
            "-c",
            &workdir,
        ];
        args.extend(argv.iter().map(String::as_str));
        self.started = true;
        let done = self.call(&args, launch.env)?;
        if !done.success() {
            return Err(Error::Refused(format!(
                "tmux new-session {}: {}",
                done.describe(),
                done.output
            )));
        }
        if self
            .call(&["display-message", "-p", "#{pid}"], &[])?
            .success()
        {
            let text =
                String::from_utf8_lossy(&process::read_capture(&self.capture, 64)).into_owned();
            self.server_pid = text.trim().parse().ok();
        }
        Ok(())
    }

    fn target(&self) -> String {
        format!("{}:0.0", self.session)
    }

    /// The visible screen, or the whole history with `History::All`.
    pub fn capture(&self, what: History) -> Result<Option<String>> {
        let target = self.target();
        let mut args = vec!["capture-pane", "-p", "-J", "-t", &target];
        if what == History::All {
            args.extend(["-S", "-", "-E", "-"]);
        }
        let done = self.call(&args, &[])?;
        if !done.success() {
            return Ok(None);
        }
        let bytes = process::read_capture(&self.capture, CAPTURE_MAX);
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Named keys only (`Down`, `Enter`, `Escape`): never free text.
    pub fn key(&self, key: Key) -> Result<()> {
        let target = self.target();
        self.call_ok(&["send-keys", "-t", &target, key.name()])
    }

    /// Pastes the file's text as one bracketed-paste block.
    pub fn paste_file(&self, path: &Path) -> Result<()> {
        let file = path.display().to_string();
        self.call_ok(&["load-buffer", "-b", "selfheal", &file])?;
        let target = self.target();
        self.call_ok(&["paste-buffer", "-p", "-d", "-b", "selfheal", "-t", &target])
    }

    /// `(dead, exit status)` of the agent's pane; `None` if tmux cannot say
    /// (the session is gone).
    pub fn pane_state(&self) -> Result<Option<(bool, Option<i32>)>> {
        let target = self.target();
        let done = self.call(
            &[
                "display-message",
                "-p",
                "-t",
                &target,
                "#{pane_dead} #{pane_dead_status}",
            ],
            &[],
        )?;
        if !done.success() {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&process::read_capture(&self.capture, 256)).into_owned();
        let mut parts = text.split_whitespace();
        let dead = parts.next() == Some("1");
        let status = parts.next().and_then(|s| s.parse().ok());
        Ok(Some((dead, status)))
    }

    /// How a human watches it live.
    pub fn attach_hint(&self) -> String {
        let [flag, socket] = self.socket.args();
        format!(
            "{} {flag} {socket} attach -t {}",
            self.bin.display(),
            self.session
        )
    }

    /// Kills the session and the private server, also after a signal.
    pub fn stop(&mut self) {
        if self.started {
            let mut argv = vec![self.bin.display().to_string()];
            argv.extend(self.socket.args());
            argv.push("kill-server".into());
            let _ = process::run_with_env(
                &argv,
                CALL_TIMEOUT,
                &self.capture,
                self.clock,
                &[],
                process::Signals::Ignore,
            );
            if let Some(pid) = self.server_pid.take() {
                // SAFETY: a plain kill of the server we started; harmless if gone.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            self.started = false;
            // tmux leaves its socket behind: only ours, only a socket.
            use std::os::unix::fs::{FileTypeExt, MetadataExt};
            let path = self.socket.path();
            if std::fs::symlink_metadata(path)
                .is_ok_and(|m| m.file_type().is_socket() && m.uid() == crate::sys::files::uid())
            {
                let _ = std::fs::remove_file(path);
            }
        }
        let _ = std::fs::remove_file(&self.capture);
    }
}

impl Drop for Server<'_> {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    Screen,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Down,
    Enter,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Down => "Down",
            Key::Enter => "Enter",
        }
    }
}
