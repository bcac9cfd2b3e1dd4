//! Shared test harness: a sandbox HOME per test, the built binary, loopback
//! HTTP servers with misbehaviours, and bounded child runs.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_selfheal");

/// The longest a test lets one run of the binary take before it kills it
/// and fails (a guard against a test's bug, not a timing assertion: it is
/// far above what any run needs, also on a loaded machine).
pub const LIMIT: Duration = Duration::from_secs(60);

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A private HOME (and so a private OPENCLAW_MEMORY_DIR) under target/, never /tmp.
pub struct Sandbox {
    pub root: PathBuf,
    pub home: PathBuf,
    /// This sandbox's service that is down: one URL for all its runs, as a
    /// user's service keeps its URL (an incident belongs to its URL).
    pub down: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Sandbox {
    pub fn new(name: &str) -> Sandbox {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let home = root.join("home");
        std::fs::create_dir_all(home.join("tmp")).expect("sandbox");
        Sandbox {
            root,
            home,
            down: down_url(),
        }
    }

    pub fn memory(&self) -> PathBuf {
        self.home.join("openclaw/memory")
    }

    /// The binary with a clean environment: only PATH, HOME and TMPDIR (a
    /// directory of the sandbox, so that tests can see nothing is put there).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TMPDIR", self.home.join("tmp"))
            // The daily agent check runs only where a test asks for it.
            .env("SELFHEAL_AGENT_CHECK_INTERVAL", "0")
            .stdin(Stdio::null());
        c
    }

    /// `selfheal check` against a service that is down (a held dead port):
    /// level 2 fast (one attempt, 0.1 s polls, no escalation wait), level 3
    /// off, alerts bounded to 1 s. Tests add or override keys with `.env`.
    pub fn failing_check(&self) -> Command {
        let mut cmd = self.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", &self.down)
            .env("HEALTH_CHECK_HTTP_TIMEOUT", "1")
            .env("HEALTH_CHECK_MAX_RETRIES", "1")
            .env("HEALTH_CHECK_RETRY_DELAY", "0.1")
            .env("HEALTH_CHECK_ESCALATION_WAIT", "0")
            .env("SELFHEAL_POLL_INTERVAL", "0.1")
            .env("SELFHEAL_ALERT_TIMEOUT", "1")
            .env("SELFHEAL_AGENT_CMD", "");
        cmd
    }

    /// Writes the state file as selfheal does (`state::save`), the tool
    /// directory made first.
    pub fn save_state(&self, state: &selfheal::state::State) {
        selfheal::sys::files::ensure_dir(&self.memory()).expect("tool dir");
        selfheal::state::save(&self.memory(), state).expect("state");
    }

    /// Writes `~/.openclaw/.env` (mode 0600).
    pub fn env_file(&self, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let dir = self.home.join(".openclaw");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join(".env");
        std::fs::write(&path, text).expect("write env");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        path
    }

    pub fn metrics(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.memory().join(".healthcheck-metrics.json"))
            .unwrap_or_default();
        text.lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad metrics line {l:?}: {e}"))
            })
            .collect()
    }

    /// (metric, result) pairs in order.
    pub fn metric_pairs(&self) -> Vec<(String, String)> {
        self.metrics()
            .iter()
            .map(|m| {
                (
                    m["metric"].as_str().unwrap_or("").to_string(),
                    m["result"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    /// The concatenated `healthcheck-*.log` files.
    pub fn log(&self) -> String {
        let mut out = String::new();
        if let Ok(dir) = std::fs::read_dir(self.memory()) {
            let mut names: Vec<_> = dir.flatten().map(|e| e.path()).collect();
            names.sort();
            for p in names {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with("healthcheck-") && name.ends_with(".log") {
                    out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
                }
            }
        }
        out
    }
}

/// One test's set-up, as most need it: a sandbox and a `check` against a
/// service that is down (`Sandbox::failing_check`: fast timings, level 3
/// off), with keys added; `expect` runs the real binary and checks its exit
/// status, naming the test's line and what the run printed when it differs.
pub struct Test {
    pub sb: Sandbox,
    pub cmd: Command,
}

impl Test {
    pub fn failing(name: &str) -> Test {
        let sb = Sandbox::new(name);
        let cmd = sb.failing_check();
        Test { sb, cmd }
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Test {
        self.cmd.env(key, value);
        self
    }

    /// `SELFHEAL_RESTART_CMD`: a fixture script and its arguments.
    pub fn restart(self, fixture_name: &str, args: &[&str]) -> Test {
        let mut argv = vec![fixture(fixture_name)];
        argv.extend(args.iter().map(|a| a.to_string()));
        self.env("SELFHEAL_RESTART_CMD", argv.join(" "))
    }

    /// Every alert to `sink` (the generic webhook at `/hook`).
    pub fn alerts_to(self, sink: &Sink) -> Test {
        let url = sink.url("/hook");
        self.env("SELFHEAL_WEBHOOK_URL", url)
    }

    /// Runs it (again: the same command each time) and expects `code`.
    #[track_caller]
    pub fn expect(&mut self, code: i32) -> Run {
        let r = run_ref(&mut self.cmd, LIMIT);
        assert_eq!(
            r.code,
            Some(code),
            "exit status\n--- output:\n{}\n--- log:\n{}",
            r.all(),
            self.sb.log()
        );
        r
    }
}

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs to completion, killing it if it outlives `limit` (a test bug guard).
pub fn run(mut cmd: Command, limit: Duration) -> Run {
    run_ref(&mut cmd, limit)
}

/// `run`, keeping the command for another run.
pub fn run_ref(cmd: &mut Command, limit: Duration) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn selfheal");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let s = child.wait().expect("wait");
            panic!("selfheal ran longer than {limit:?}; killed ({s:?})");
        }
        thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let run = Run {
        code: status.code(),
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
        elapsed,
    };
    assert!(!run.stderr.contains("panicked"), "panic: {}", run.stderr);
    run
}

#[derive(Clone)]
pub enum Behaviour {
    /// Status and body.
    Reply(u16, String),
    /// Accepts and never answers.
    Hang,
    /// Headers, then one byte of body every 200 ms, forever.
    Trickle,
    /// 200 with a 10 MB body.
    Huge,
    /// 200 with binary garbage.
    Binary,
    /// Accepts and closes at once.
    Close,
}

/// A loopback HTTP server in threads of the test process.
pub struct Server {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start(behaviour: Behaviour) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        Server::serve(listener, behaviour)
    }

    /// Binds `port` (retrying briefly) and serves.
    pub fn start_on(port: u16, behaviour: Behaviour) -> Server {
        let start = Instant::now();
        loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => return Server::serve(l, behaviour),
                Err(e) if start.elapsed() > Duration::from_secs(5) => panic!("bind {port}: {e}"),
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    fn serve(listener: TcpListener, behaviour: Behaviour) -> Server {
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let b = behaviour.clone();
                        let stop3 = stop2.clone();
                        thread::spawn(move || handle(stream, b, stop3));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server { port, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // The accept loop polls every 5 ms; give it the time to close the port.
        thread::sleep(Duration::from_millis(20));
    }
}

fn handle(mut s: TcpStream, b: Behaviour, stop: Arc<AtomicBool>) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if matches!(b, Behaviour::Close) {
        return;
    }
    let mut buf = [0u8; 4096];
    let mut req = Vec::new();
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let head = |status: u16, len: Option<usize>| {
        let mut h = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
        if let Some(len) = len {
            h.push_str(&format!("Content-Length: {len}\r\n"));
        }
        h.push_str("\r\n");
        h
    };
    match b {
        Behaviour::Reply(status, body) => {
            let _ = s.write_all(head(status, Some(body.len())).as_bytes());
            let _ = s.write_all(body.as_bytes());
        }
        Behaviour::Hang => {
            while !stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(50));
            }
        }
        Behaviour::Trickle => {
            let _ = s.write_all(head(200, Some(1 << 20)).as_bytes());
            while !stop.load(Ordering::SeqCst) && s.write_all(b"x").is_ok() {
                thread::sleep(Duration::from_millis(200));
            }
        }
        Behaviour::Huge => {
            let _ = s.write_all(head(200, Some(10 << 20)).as_bytes());
            let chunk = vec![b'a'; 64 * 1024];
            for _ in 0..160 {
                if s.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
        Behaviour::Binary => {
            let body: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
            let _ = s.write_all(head(200, Some(body.len())).as_bytes());
            let _ = s.write_all(&body);
        }
        Behaviour::Close => {}
    }
}

/// A port that nothing listens on (bound and released).
/// Fails the test, saying how to install `tool`, when it is not on PATH.
pub fn require_tool(tool: &str, install: &str) {
    let found = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .any(|d| Path::new(d).join(tool).is_file());
    assert!(
        found,
        "this test needs `{tool}` on PATH; install it: {install}"
    );
}

/// The URL of a service that is down: a held port nothing listens on.
pub fn down_url() -> String {
    format!("http://127.0.0.1:{}/", dead_port())
}

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Whether `pid` is still a live (non-zombie) process.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

pub fn read_pids(path: &Path) -> Vec<i32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

pub fn kill(pid: i32) {
    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
}

/// Waits until `cond` holds, for at most `limit`.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// One scripted answer of a `Sink`.
#[derive(Clone, Debug)]
pub enum Answer {
    /// Status, extra headers, body.
    Reply(u16, Vec<(String, String)>, String),
    /// Read the request, then never answer.
    Hang,
}

impl Answer {
    pub fn ok() -> Answer {
        Answer::Reply(200, Vec::new(), "{\"ok\":true}".into())
    }
    pub fn status(code: u16) -> Answer {
        Answer::Reply(code, Vec::new(), String::new())
    }
}

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A loopback webhook receiver that records requests and answers from a
/// script (the last answer repeats).
pub struct Sink {
    pub port: u16,
    pub requests: Arc<std::sync::Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Sink {
    pub fn start(script: Vec<Answer>) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (stop2, reqs2) = (stop.clone(), requests.clone());
        thread::spawn(move || {
            let served = Arc::new(AtomicUsize::new(0));
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let n = served.fetch_add(1, Ordering::SeqCst);
                        let answer = script
                            .get(n)
                            .or(script.last())
                            .cloned()
                            .unwrap_or(Answer::ok());
                        let (reqs3, stop3) = (reqs2.clone(), stop2.clone());
                        thread::spawn(move || sink_handle(stream, answer, reqs3, stop3));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Sink {
            port,
            requests,
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn received(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn sink_handle(
    mut s: TcpStream,
    answer: Answer,
    reqs: Arc<std::sync::Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.lines();
    let first: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + len {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    if let Ok(mut r) = reqs.lock() {
        r.push(Request {
            method: first.first().unwrap_or(&"").to_string(),
            path: first.get(1).unwrap_or(&"").to_string(),
            headers,
            body: data[head_end..].to_vec(),
            at: Instant::now(),
        });
    }
    match answer {
        Answer::Reply(status, extra, body) => {
            let mut h = format!(
                "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
                body.len()
            );
            for (k, v) in extra {
                h.push_str(&format!("{k}: {v}\r\n"));
            }
            h.push_str("\r\n");
            let _ = s.write_all(h.as_bytes());
            let _ = s.write_all(body.as_bytes());
        }
        Answer::Hang => {
            while !stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// A loopback port that refuses connections for as long as the test binary
/// runs: a socket bound to it but never listening, held open, so no other
/// test can start a server there.
pub fn dead_port() -> u16 {
    // SAFETY: plain socket calls on a socket we own; the fd is kept open
    // on purpose until the process exits.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket");
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        addr.sin_port = 0;
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        assert_eq!(
            libc::bind(fd, (&addr as *const libc::sockaddr_in).cast(), len),
            0,
            "bind"
        );
        let mut got: libc::sockaddr_in = std::mem::zeroed();
        let mut got_len = len;
        assert_eq!(
            libc::getsockname(
                fd,
                (&mut got as *mut libc::sockaddr_in).cast(),
                &mut got_len
            ),
            0
        );
        u16::from_be(got.sin_port)
    }
}
