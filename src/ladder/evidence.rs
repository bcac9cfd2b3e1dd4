//! Evidence, gathered once at a confirmed failure and used three times: in
//! every alert ("likely cause"), in the level 3 prompt, and by `selfheal why`.
//!
//! Each item is optional and bounded (a command ≤ 2 s, the OpenClaw config
//! check ≤ 5 s since it starts Node; a file read ≤ 64 KiB; a line ≤ 300
//! characters) and redacted (configured secrets exactly, anything that looks
//! like a token masked): the probe's reason, who holds the port, the service
//! manager's view, the last error lines of the service's own logs
//! (`SELFHEAL_SERVICE_LOGS`), OpenClaw's own config check, and what each
//! command of level 2 said. It is kept in `incident-YYYYMMDD-HHMMSS.md` in
//! the tool directory (0600, rotated like the logs). Nothing here changes the
//! service.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::agent::which::find_program;
use crate::config::Config;
use crate::probe::Probe;
use crate::sys::clock::local_now;
use crate::sys::{files, log, process, redact};

/// How long one query command may take.
const QUERY: Duration = Duration::from_secs(2);
/// `openclaw config validate` starts Node: 1.3 s on this project's test machine.
const CONFIG_CHECK: Duration = Duration::from_secs(5);
/// How much of the end of each service log is read.
const LOG_TAIL: u64 = 64 * 1024;
const LINE_MAX: usize = 300;
const LOG_LINES: usize = 5;
/// The most gathering can take: the port scan, the service manager, the
/// config check (file reads are bounded by size).
pub const BOUND: Duration = Duration::from_secs(2 + 2 + 5);

/// What is known about an incident.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// The probe: `connection refused (status 000)`.
    pub probe: String,
    /// `port 18789 is held by python3 (pid 4242): python3 -m http.server`.
    pub port_owner: Option<String>,
    /// The service manager's view, one line.
    pub manager: Option<String>,
    /// The main process's last exit code, as the service manager reports it.
    pub exit_code: Option<String>,
    /// OpenClaw's own config check, when it found a problem.
    pub config_error: Option<String>,
    /// (file, line): the last lines of the service's logs that look like errors.
    pub log_errors: Vec<(String, String)>,
    /// What each command of level 2 said: `restart … exited 1: <last line>`.
    pub steps: Vec<String>,
    /// The incident file, once written.
    pub path: Option<PathBuf>,
    /// What kind of incident this is (`runbook::signature`), fixed when
    /// gathered: the key of a learned fix.
    pub signature: String,
}

impl Evidence {
    /// Reads the service's error lines (again: after a restart, its own
    /// account of the failed start is there). Not inlined: two callers.
    #[inline(never)]
    pub fn refresh_logs(&mut self, config: &Config) {
        let secrets = config.secrets();
        let mut found = log_errors(&config.service_logs);
        if let Some(d) = Docker::of(&config.restart_cmd) {
            let errors = error_lines(&d.log_tail(config));
            let source = format!("docker logs {}", d.names.join(" "));
            found.extend(errors.into_iter().map(|l| (source.clone(), l)));
            let from = found.len().saturating_sub(LOG_LINES);
            found.drain(..from);
        }
        self.log_errors = found
            .into_iter()
            .map(|(f, l)| (f, clip(&redact::mask_secrets(&redact::scrub(&l, &secrets)))))
            .collect();
    }

    /// Adds what a step of level 2 said (one line, capped, scrubbed: a
    /// command line may carry a credential).
    pub fn step(&mut self, line: String, secrets: &[&str]) {
        self.steps.push(clip(&redact::scrub(&line, secrets)));
    }

    /// The log line that says most: the last with a telling word, else the last.
    fn telling(&self) -> Option<&(String, String)> {
        self.log_errors
            .iter()
            .rev()
            .find(|(_, l)| {
                let l = l.to_ascii_lowercase();
                TELLING.iter().any(|w| l.contains(w))
            })
            .or(self.log_errors.last())
    }

    /// The text of `telling`, for the incident's signature.
    pub fn telling_error(&self) -> Option<&str> {
        self.telling().map(|(_, l)| l.as_str())
    }

    /// At most five lines, the most specific first: who holds the port, the
    /// config error, the last exit code, the last error line of the logs.
    pub fn likely_cause(&self) -> Vec<String> {
        let mut lines = Vec::new();
        lines.extend(self.port_owner.clone());
        lines.extend(
            self.config_error
                .as_ref()
                .map(|e| format!("config check: {e}")),
        );
        lines.extend(self.exit_code.clone());
        if let Some((file, line)) = self.telling() {
            lines.push(format!("last error in {}: {line}", short_name(file)));
        }
        lines.extend(self.steps.iter().rev().take(1).cloned());
        if lines.is_empty() {
            lines.push(format!("the probe: {}", self.probe));
        }
        lines.truncate(5);
        lines
    }

    /// The incident file's text.
    pub fn markdown(&self, config: &Config, host: &str) -> String {
        let mut md = format!(
            "# Incident on {host}, {}\n\nService: {}\nProbe: {}\n\n## Likely cause\n",
            log::stamp(local_now()),
            config.shown_url,
            self.probe
        );
        for l in self.likely_cause() {
            md.push_str(&format!("- {l}\n"));
        }
        md.push_str("\n## Facts\n");
        let facts = [
            ("port", &self.port_owner),
            ("service manager", &self.manager),
            ("config check", &self.config_error),
        ];
        for (name, value) in facts {
            if let Some(v) = value {
                md.push_str(&format!("- {name}: {v}\n"));
            }
        }
        for s in &self.steps {
            md.push_str(&format!("- {s}\n"));
        }
        if !self.log_errors.is_empty() {
            md.push_str("\n## Error lines in the service's logs\n");
            for (file, line) in &self.log_errors {
                md.push_str(&format!("- {file}: {line}\n"));
            }
        }
        md
    }
}

fn short_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Gathers everything but the level 2 steps. Read-only.
pub fn gather(config: &Config, probe: &Probe) -> Evidence {
    let secrets = config.secrets();
    let clean = |s: &str| clip(&redact::mask_secrets(&redact::scrub(s, &secrets)));
    let mut ev = Evidence {
        probe: format!("{} (status {})", probe.reason, probe.status_text()),
        ..Evidence::default()
    };
    // Before the config check: OpenClaw's own check writes to the same log.
    ev.refresh_logs(config);
    // Refused: nothing listens, so nobody holds the port.
    if !probe.reason.contains("refused") {
        ev.port_owner = port(&config.url).and_then(|p| port_owner(p).map(|o| clean(&o)));
    }
    if let Some(d) = Docker::of(&config.restart_cmd) {
        // In a container: Docker's view replaces the host's service manager
        // (its log lines come with `refresh_logs`).
        let (view, exit) = d.state(config);
        ev.manager = view.map(|v| clean(&v));
        ev.exit_code = exit;
    } else if config.is_openclaw() {
        if let Some((view, exit)) = manager() {
            ev.manager = Some(clean(&view));
            ev.exit_code = exit;
        }
        ev.config_error = openclaw_config_check(config).map(|e| clean(&e));
    }
    ev.signature = super::runbook::signature(&ev);
    ev
}

/// Writes (or rewrites) the incident file; returns its path.
pub fn write(config: &Config, host: &str, ev: &mut Evidence) -> crate::error::Result<PathBuf> {
    let path = ev.path.clone().unwrap_or_else(|| {
        let t = local_now();
        config.memory_dir.join(format!(
            "incident-{:04}{:02}{:02}-{:02}{:02}{:02}.md",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ))
    });
    files::write_atomic(&path, ev.markdown(config, host).as_bytes())?;
    ev.path = Some(path.clone());
    Ok(path)
}

/// The newest incident file in `dir`.
pub fn newest(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("incident-") && n.ends_with(".md"))
        })
        .map(|e| e.path())
        .max()
}

fn clip(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(LINE_MAX) {
        Some((i, _)) => format!("{}…", &one[..i]),
        None => one,
    }
}

/// The TCP port of the URL (its default for the scheme).
pub fn port(url: &str) -> Option<u16> {
    let uri: ureq::http::Uri = url.parse().ok()?;
    uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        _ => Some(80),
    })
}

/// A restart command that is Docker's: `docker restart NAME…` (or `docker
/// container restart`), or `docker compose [-f FILE…] restart [SERVICE…]`.
/// The evidence step then asks Docker (its state and the container's last
/// log lines) instead of the host's service manager.
pub struct Docker<'a> {
    program: &'a str,
    /// `compose` and its global options, for a compose project.
    compose: Option<&'a [String]>,
    pub names: Vec<&'a str>,
}

impl<'a> Docker<'a> {
    pub fn of(argv: &'a [String]) -> Option<Docker<'a>> {
        let (program, args) = argv.split_first()?;
        if program.rsplit('/').next() != Some("docker") {
            return None;
        }
        let restart = args.iter().position(|a| a == "restart")?;
        let compose =
            (args.first().map(String::as_str) == Some("compose")).then(|| &args[..restart]);
        // Flags, and the value of those that take one (-t 10, --signal KILL).
        let mut names = Vec::new();
        let mut skip = false;
        for a in &args[restart + 1..] {
            if skip {
                skip = false;
            } else if a.starts_with('-') {
                skip = !a.contains('=')
                    && matches!(
                        a.as_str(),
                        "-t" | "--time" | "-s" | "--signal" | "--timeout"
                    );
            } else {
                names.push(a.as_str());
            }
        }
        Some(Docker {
            program,
            compose,
            names,
        })
    }

    /// Runs `docker ARGS…` (bounded), its output.
    fn run(&self, config: &Config, args: &[&str]) -> String {
        let argv: Vec<String> = std::iter::once(self.program)
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect();
        let capture = config.memory_dir.join(".docker-output");
        let done = process::run_with_env(
            &argv,
            QUERY,
            &capture,
            &crate::sys::clock::SystemClock,
            &[],
            process::Signals::Stop,
        );
        // The whole output, lines intact (`Finished::output` is one line).
        let out = process::read_capture(&capture, LOG_TAIL);
        let _ = std::fs::remove_file(&capture);
        if done.is_err() {
            return String::new();
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// `compose` and its options, then `args`, then the services.
    fn compose_args<'b>(&'b self, compose: &'b [String], args: &[&'b str]) -> Vec<&'b str> {
        let mut all: Vec<&str> = compose.iter().map(String::as_str).collect();
        all.extend(args);
        all.extend(&self.names);
        all
    }

    /// The host pid of the container's main process (`docker inspect
    /// .State.Pid`; for compose, of the service's container).
    pub fn main_pid(&self, config: &Config) -> Option<u32> {
        let id = match self.compose {
            Some(c) => {
                let out = self.run(config, &self.compose_args(c, &["ps", "-q"]));
                out.lines().next()?.trim().to_string()
            }
            None => self.names.first()?.to_string(),
        };
        let out = self.run(config, &["inspect", "--format", "{{.State.Pid}}", &id]);
        out.trim().parse().ok().filter(|&p| p > 0)
    }

    /// The container's last 20 log lines (stdout and stderr).
    fn log_tail(&self, config: &Config) -> String {
        match self.compose {
            Some(c) => self.run(
                config,
                &self.compose_args(c, &["logs", "--no-color", "--tail", "20"]),
            ),
            None => match self.names.first() {
                Some(name) => self.run(config, &["logs", "--tail", "20", name]),
                None => String::new(),
            },
        }
    }

    /// (Docker's view in one line, the exit code line).
    fn state(&self, config: &Config) -> (Option<String>, Option<String>) {
        if let Some(c) = self.compose {
            let out = self.run(config, &self.compose_args(c, &["ps", "-a"]));
            let view = out.lines().nth(1).map(|l| {
                format!(
                    "docker compose: {}",
                    l.split_whitespace().collect::<Vec<_>>().join(" ")
                )
            });
            return (view, None);
        }
        let Some(name) = self.names.first().copied() else {
            return (None, None);
        };
        let format = "{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}} \
                      {{.RestartCount}} {{.State.Error}}";
        let state = self.run(config, &["inspect", "--format", format, name]);
        let mut f = state.split_whitespace();
        let (status, code, oom, restarts) = (f.next(), f.next(), f.next(), f.next());
        let error: Vec<&str> = f.collect();
        let view = status.map(|st| {
            let mut v = format!("docker: container {name} is {st}");
            if let Some(r) = restarts {
                v.push_str(&format!(", restarted {r} time(s) by Docker"));
            }
            if oom == Some("true") {
                v.push_str(", killed for lack of memory (OOMKilled)");
            }
            if !error.is_empty() {
                v.push_str(&format!(": {}", error.join(" ")));
            }
            v
        });
        let exit = code
            .filter(|c| *c != "0" && status != Some("running"))
            .map(|c| {
                let oom = if oom == Some("true") {
                    " (killed for lack of memory: OOMKilled)"
                } else {
                    ""
                };
                format!("the container {name} exited with code {c}{oom}")
            });
        (view, exit)
    }
}

/// The pid of the process listening on `port`.
pub fn listener_pid(port: u16) -> Option<u32> {
    let (pid, _, _) = if cfg!(target_os = "linux") {
        linux_listener(port)?
    } else {
        lsof_listener(port)?
    };
    Some(pid)
}

/// Who listens on `port`: `port P is held by COMM (pid N): CMDLINE`.
pub fn port_owner(port: u16) -> Option<String> {
    let (pid, comm, cmdline) = if cfg!(target_os = "linux") {
        linux_listener(port)?
    } else {
        lsof_listener(port)?
    };
    let mut s = format!("port {port} is held by {comm} (pid {pid})");
    if !cmdline.is_empty() {
        s.push_str(&format!(": {cmdline}"));
    }
    Some(s)
}

/// /proc/net/tcp{,6} → the listening socket's inode → the process with it open.
fn linux_listener(port: u16) -> Option<(u32, String, String)> {
    let want = format!(":{port:04X}");
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = read_capped(Path::new(table), 1 << 20);
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address, state 0A = LISTEN, inode.
            if f.len() > 9 && f[1].ends_with(&want) && f[3] == "0A" && f[9] != "0" {
                inodes.push(format!("socket:[{}]", f[9]));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let deadline = Instant::now() + QUERY;
    for proc_entry in std::fs::read_dir("/proc").ok()?.flatten() {
        if Instant::now() > deadline {
            break;
        }
        let Some(pid) = proc_entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(proc_entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
        });
        if holds {
            let dir = proc_entry.path();
            let comm = read_capped(&dir.join("comm"), 256).trim().to_string();
            let cmdline = read_capped(&dir.join("cmdline"), 4096)
                .split('\0')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            return Some((pid, comm, cmdline));
        }
    }
    None
}

/// macOS and others: `lsof -nP -iTCP:PORT -sTCP:LISTEN`.
fn lsof_listener(port: u16) -> Option<(u32, String, String)> {
    let spec = format!("-iTCP:{port}");
    let (_, out) = process::output(&["lsof", "-nP", &spec, "-sTCP:LISTEN"], QUERY)?;
    let line = out.lines().nth(1)?;
    let mut f = line.split_whitespace();
    let comm = f.next()?.to_string();
    let pid = f.next()?.parse().ok()?;
    Some((pid, comm, String::new()))
}

/// The OpenClaw gateway's service, as its manager sees it: (one line, the
/// last exit code when it is not 0).
fn manager() -> Option<(String, Option<String>)> {
    if cfg!(target_os = "macos") {
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        let target = format!("gui/{uid}/ai.openclaw.gateway");
        let (ok, out) = process::output(&["launchctl", "print", &target], QUERY)?;
        return ok.then(|| parse_launchd(&out));
    }
    let (ok, out) = process::output(
        &[
            "systemctl",
            "--user",
            "show",
            "openclaw-gateway",
            "-p",
            "ActiveState,SubState,ExecMainStatus,NRestarts,MainPID",
        ],
        QUERY,
    )?;
    (ok && out.contains("ActiveState=")).then(|| parse_systemd(&out))
}

fn parse_systemd(out: &str) -> (String, Option<String>) {
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
            .unwrap_or("?")
            .trim()
            .to_string()
    };
    let status = get("ExecMainStatus");
    let view = format!(
        "systemd: openclaw-gateway.service is {} ({}), main process exit status {status}, \
         {} restarts",
        get("ActiveState"),
        get("SubState"),
        get("NRestarts")
    );
    let exit = (status != "0" && status != "?")
        .then(|| format!("the gateway's last exit status (systemd): {status}"));
    (view, exit)
}

fn parse_launchd(out: &str) -> (String, Option<String>) {
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(k)?.trim().strip_prefix('='))
            .unwrap_or("?")
            .trim()
            .to_string()
    };
    let code = get("last exit code");
    let view = format!(
        "launchd: ai.openclaw.gateway state {}, last exit code {code}, runs {}",
        get("state"),
        get("runs")
    );
    let exit = (code != "0" && code != "?" && code != "(never exited)")
        .then(|| format!("the gateway's last exit code (launchd): {code}"));
    (view, exit)
}

/// `openclaw config validate --json`: the problems it names, if any.
pub fn openclaw_config_check(config: &Config) -> Option<String> {
    let program = match config.restart_cmd.first() {
        Some(p) if p.ends_with("openclaw") => find_program(p),
        _ => find_program("openclaw"),
    }?;
    let program = program.display().to_string();
    let (ok, out) = process::output(&[&program, "config", "validate", "--json"], CONFIG_CHECK)?;
    if ok {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(out.trim().as_bytes()).ok()?;
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
        return Some(issues.join("; "));
    }
    v["error"]["message"].as_str().map(str::to_string)
}

/// The newest existing file of each pattern, `{date}` filled in.
pub fn log_files(patterns: &[String]) -> Vec<PathBuf> {
    let date = {
        let t = local_now();
        format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
    };
    patterns
        .iter()
        .filter_map(|p| newest_match(&p.replace("{date}", &date)))
        .collect()
}

/// The last error-looking lines of the newest file of each pattern.
pub fn log_errors(patterns: &[String]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for file in log_files(patterns) {
        let name = file.display().to_string();
        let text = read_tail(&file);
        found.extend(error_lines(&text).into_iter().map(|l| (name.clone(), l)));
    }
    let from = found.len().saturating_sub(LOG_LINES);
    found.split_off(from)
}

/// The file itself, or the newest file whose name matches a `*`/`?` glob.
fn newest_match(pattern: &str) -> Option<PathBuf> {
    let path = Path::new(pattern);
    let name = path.file_name()?.to_str()?;
    if !name.contains(['*', '?']) {
        return path.is_file().then(|| path.to_path_buf());
    }
    std::fs::read_dir(path.parent()?)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| glob(name, n)))
        .filter_map(|e| {
            let m = e.metadata().ok().filter(|m| m.is_file())?;
            Some((m.modified().ok()?, e.path()))
        })
        .max()
        .map(|(_, p)| p)
}

/// `*` and `?` on a file name.
fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    p.len() <= 64 && go(&p, &n)
}

/// The last `LOG_TAIL` bytes, from the start of a line.
/// (Symlinks are followed: the service's logs are not ours.)
fn read_tail(path: &Path) -> String {
    let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    else {
        return String::new();
    };
    let len = match f.metadata() {
        Ok(m) if m.is_file() => m.len(),
        _ => return String::new(),
    };
    let text = String::from_utf8_lossy(&files::tail(f, LOG_TAIL)).into_owned();
    match (len > LOG_TAIL, text.find('\n')) {
        (true, Some(i)) => text[i + 1..].to_string(),
        _ => text,
    }
}

fn read_capped(path: &Path, max: u64) -> String {
    let Ok(f) = std::fs::File::open(path) else {
        return String::new();
    };
    let mut bytes = Vec::new();
    let _ = f.take(max).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Words of a line that says what went wrong (not a hint of what to run).
const TELLING: &[&str] = &[
    "fail",
    "error",
    "invalid",
    "unrecognized",
    "refus",
    "eaddrinuse",
    "denied",
    "cannot",
    "unable",
    "fatal",
    "exception",
    "panic",
];

const ERROR_WORDS: &[&str] = &[
    "error",
    "fatal",
    "panic",
    "exception",
    "failed",
    "failure",
    "refus",
    "invalid",
    "eaddrinuse",
    "unrecognized",
    "denied",
    "cannot",
    "unable",
    "traceback",
];

/// The lines of a log that look like errors, oldest first: JSON lines
/// (OpenClaw's daily log) by their level, plain lines by their words.
pub fn error_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = strip_ansi(line);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('{') {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line.as_bytes()) {
                if let Some(msg) =
                    json_error(&v).filter(|m| m.chars().any(|c| c.is_ascii_alphanumeric()))
                {
                    out.push(msg);
                }
                continue;
            }
        }
        let lower = line.to_ascii_lowercase();
        if ERROR_WORDS.iter().any(|w| lower.contains(w)) {
            out.push(line.to_string());
        }
    }
    out
}

/// The message of a JSON log line at level error or fatal.
fn json_error(v: &serde_json::Value) -> Option<String> {
    let level = v["_meta"]["logLevelName"]
        .as_str()
        .or(v["level"].as_str())
        .or(v["severity"].as_str())?
        .to_ascii_lowercase();
    if !matches!(level.as_str(), "error" | "fatal" | "critical") {
        return None;
    }
    let msg = v["message"]
        .as_str()
        .or(v["msg"].as_str())
        .or(v["0"].as_str())?;
    Some(msg.lines().map(str::trim).collect::<Vec<_>>().join(" / "))
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ … final byte in @–~.
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        if !c.is_control() || c == '\t' {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openclaw_json_log_lines_by_level_and_plain_lines_by_words() {
        let log = concat!(
            r#"{"0":"starting","_meta":{"logLevelName":"INFO"},"message":"starting"}"#,
            "\n",
            r#"{"_meta":{"logLevelName":"ERROR"},"message":"Gateway failed to start: Invalid config:\nopenclaw.json:1 — gateway: Unrecognized key: \"bogusKey\""}"#,
            "\n",
            "\u{1b}[90m2026-11-24T16:07:28\u{1b}[39m listening\n",
            "Error: listen EADDRINUSE: address already in use 127.0.0.1:18789\n",
        );
        let lines = error_lines(log);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("Unrecognized key") && lines[0].contains(" / "));
        assert!(lines[1].starts_with("Error: listen EADDRINUSE"));
    }

    #[test]
    fn globs_on_file_names() {
        assert!(glob("gateway*.log", "gateway.err.log"));
        assert!(glob("openclaw-????-??-??.log", "openclaw-2026-11-24.log"));
        assert!(!glob("gateway*.log", "gateway.log.1"));
    }

    #[test]
    fn service_managers_views() {
        let (view, exit) = parse_systemd(
            "ActiveState=failed\nSubState=failed\nExecMainStatus=78\nNRestarts=4\nMainPID=0\n",
        );
        assert!(
            view.contains("is failed (failed)") && view.contains("status 78"),
            "{view}"
        );
        assert!(exit.is_some_and(|e| e.contains("78")));
        let (view, exit) =
            parse_launchd("\tstate = not running\n\truns = 7\n\tlast exit code = 1\n");
        assert!(
            view.contains("state not running") && view.contains("runs 7"),
            "{view}"
        );
        assert!(exit.is_some_and(|e| e.ends_with(": 1")));
    }
}
