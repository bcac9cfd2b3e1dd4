//! Level 3 with a real tmux on a private socket and fake agents
//! (tests/fixtures/fake-agent.py) standing in for Claude Code.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const KEY: &str = "sk-ant-test-SECRET-4242424242";

/// A service that is down, a fix command that brings it back after the
/// agent runs it, and fast level 3 timings.
pub(crate) struct Scene {
    pub(crate) sb: Sandbox,
    port: u16,
    marker: PathBuf,
    trace: PathBuf,
}

impl Scene {
    pub(crate) fn new(name: &str) -> Scene {
        require_tool("tmux", "apt-get install tmux / brew install tmux");
        require_tool(
            "python3",
            "apt-get install python3 (the fake agent is a Python script)",
        );
        let sb = Sandbox::new(name);
        std::fs::create_dir_all(sb.root.join("work")).expect("workdir");
        Scene {
            port: free_port(),
            marker: sb.root.join("fixed"),
            trace: sb.root.join("trace"),
            sb,
        }
    }

    pub(crate) fn cmd(&self, args: &[&str], agent: &str) -> Command {
        let mut cmd = self.sb.cmd(args);
        cmd.env(
            "OPENCLAW_GATEWAY_URL",
            format!("http://127.0.0.1:{}/", self.port),
        )
        .env("HEALTH_CHECK_HTTP_TIMEOUT", "1")
        .env("SELFHEAL_POLL_INTERVAL", "0.2")
        .env("SELFHEAL_AGENT_CMD", agent)
        .env("SELFHEAL_AGENT_WORKDIR", self.sb.root.join("work"))
        .env("EMERGENCY_RECOVERY_TIMEOUT", "20")
        .env("CLAUDE_STARTUP_WAIT", "0")
        .env("CLAUDE_WORKSPACE_TRUST_TIMEOUT", "3")
        .env(
            "FAKE_FIX",
            format!("{} {}", fixture("touch.sh"), self.marker.display()),
        )
        .env("FAKE_TRACE", &self.trace);
        cmd
    }

    /// Brings the service up once the agent ran its fix.
    pub(crate) fn serve_when_fixed(&self) -> thread::JoinHandle<Option<Server>> {
        let (marker, port) = (self.marker.clone(), self.port);
        thread::spawn(move || {
            wait_for(Duration::from_secs(40), || marker.exists())
                .then(|| Server::start_on(port, Behaviour::Reply(200, "ok".into())))
        })
    }

    fn mem(&self, name: &str) -> String {
        std::fs::read_to_string(self.sb.memory().join(name)).unwrap_or_default()
    }

    /// The level 3 log (there is one per run; the newest).
    pub(crate) fn l3_log(&self) -> String {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.sb.memory())
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .rev()
            .find(|p| {
                let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                n.starts_with("emergency-recovery-2") && n.ends_with(".log")
            })
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .unwrap_or_default()
    }

    fn trace(&self) -> String {
        std::fs::read_to_string(&self.trace).unwrap_or_default()
    }

    pub(crate) fn emergency_metrics(&self) -> Vec<serde_json::Value> {
        self.mem(".emergency-recovery-metrics.json")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

pub(crate) fn agent(args: &str) -> String {
    format!("{} {args}", fixture("fake-agent.py"))
}

/// Every private tmux server named in the log is gone, and so is its
/// socket (in the tool directory: nothing is left in /tmp).
pub(crate) fn assert_sessions_gone(log: &str) {
    let mut seen = 0;
    for word in log.split_whitespace() {
        let (flag, socket) = if word.contains("/.tmux-selfheal-") {
            ("-S", word)
        } else if word.starts_with("selfheal-") {
            ("-L", word)
        } else {
            continue;
        };
        seen += 1;
        let out = Command::new("tmux")
            .args([flag, socket, "ls"])
            .output()
            .expect("tmux");
        assert!(
            !out.status.success(),
            "tmux server {socket} is still running"
        );
        let path = match flag {
            "-S" => std::path::PathBuf::from(socket),
            _ => std::path::PathBuf::from(std::env::var("TMUX_TMPDIR").unwrap_or("/tmp".into()))
                .join(format!("tmux-{}", unsafe { libc::geteuid() }))
                .join(socket),
        };
        assert!(
            std::fs::symlink_metadata(&path).is_err(),
            "its socket {} was left behind",
            path.display()
        );
    }
    assert!(seen > 0, "no tmux socket named in the log: {log}");
}

#[test]
fn current_trust_dialog_then_fix_then_learnings() {
    let s = Scene::new("l3-current");
    s.sb.env_file(&format!("ANTHROPIC_API_KEY={KEY}\n"));
    let server = s.serve_when_fixed();
    // Watch every process's argv for the key while the run goes on.
    let stop = Arc::new(AtomicBool::new(false));
    let leaks = Arc::new(Mutex::new(Vec::<String>::new()));
    let (stop2, leaks2) = (stop.clone(), leaks.clone());
    let scanner = thread::spawn(move || {
        let mut scans = 0;
        while !stop2.load(Ordering::SeqCst) {
            for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
                    if String::from_utf8_lossy(&cmdline).contains(KEY) {
                        if let Ok(mut l) = leaks2.lock() {
                            l.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
                        }
                    }
                }
            }
            scans += 1;
            thread::sleep(Duration::from_millis(20));
        }
        scans
    });
    let r = run(
        s.cmd(&["recover"], &agent("--dialog current --behave fix")),
        LIMIT,
    );
    stop.store(true, Ordering::SeqCst);
    let scans = scanner.join().expect("scanner");
    let _srv = server.join().expect("server");
    assert_eq!(r.code, Some(0), "{}\n{}", r.all(), s.l3_log());
    assert!(scans > 10, "the argv scan hardly ran");
    assert!(
        leaks.lock().map(|l| l.is_empty()).unwrap_or(false),
        "key in argv: {:?}",
        leaks.lock().ok()
    );
    let trace = s.trace();
    assert!(
        trace.contains("early key ignored") || trace.contains("down"),
        "{trace}"
    );
    assert!(
        trace.contains("enter on yes") && !trace.contains("enter on no"),
        "{trace}"
    );
    assert!(
        trace.contains("api key in env: yes"),
        "the agent did not get the key: {trace}"
    );
    let learnings = s.mem("recovery-learnings.md");
    assert!(learnings.contains("A stale \"pid\" file"), "{learnings}");
    let m = s.emergency_metrics();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["result"], "true");
    assert_eq!(m[0]["root_cause"], "A stale \"pid\" file");
    assert!(m[0]["symptom"]
        .as_str()
        .unwrap_or("")
        .contains("429 at 14:29"));
    let log = s.l3_log();
    assert!(
        log.contains("watch it live:") && log.contains(" attach -t "),
        "{log}"
    );
    assert!(!log.contains("MANUAL INTERVENTION REQUIRED"));
    assert_sessions_gone(&log);
    let session = std::fs::read_dir(s.sb.memory())
        .expect("dir")
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("claude-session-")
        })
        .expect("session log");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        session.metadata().expect("meta").permissions().mode() & 0o777,
        0o600
    );
    let scrollback = std::fs::read_to_string(session.path()).expect("read");
    assert!(
        scrollback.contains("Accessing workspace")
            && scrollback.contains("Done. The report is written."),
        "the whole scrollback, from the dialog on: {scrollback}"
    );
    // The key is in no file selfheal wrote.
    for e in std::fs::read_dir(s.sb.memory()).expect("dir").flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        assert!(!text.contains(KEY), "key in {:?}", e.path());
    }
    assert!(!r.all().contains(KEY));
}

#[test]
fn old_trust_dialog_and_batch_agents() {
    for (name, cmd) in [
        ("l3-old", agent("--dialog old --behave fix")),
        ("l3-batch", agent("--batch --behave fix -p {prompt}")),
        (
            "l3-batch-file",
            agent("--batch --behave fix -p 'Follow the instructions in {prompt_file}'"),
        ),
    ] {
        let s = Scene::new(name);
        let server = s.serve_when_fixed();
        let r = run(s.cmd(&["recover"], &cmd), LIMIT);
        let _srv = server.join().expect("server");
        assert_eq!(r.code, Some(0), "{name}: {}\n{}", r.all(), s.l3_log());
        assert!(s.mem("recovery-learnings.md").contains("stale"), "{name}");
        assert_sessions_gone(&s.l3_log());
        if name == "l3-batch-file" {
            assert!(
                s.trace().contains("prompt read from a file"),
                "{}",
                s.trace()
            );
        }
    }
}

/// Hold under attack 22.10/22.11: a FIFO where the agent's report goes and
/// one named as the prompt template: level 3 still ends within its budget
/// (a plain read would wait for a writer forever, lock held).
#[test]
fn a_fifo_for_the_report_or_the_prompt_template_never_hangs_level_3() {
    let s = Scene::new("l3-fifo");
    let template = s.sb.root.join("prompt.fifo");
    let made = Command::new("mkfifo")
        .arg(&template)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let server = s.serve_when_fixed();
    let mut cmd = s.cmd(&["recover"], &agent("--dialog none --behave fix"));
    cmd.env("FAKE_REPORT_FIFO", "1")
        .env("SELFHEAL_AGENT_PROMPT_FILE", &template);
    let r = run(cmd, LIMIT);
    let _srv = server.join().expect("server");
    assert_eq!(r.code, Some(0), "{}\n{}", r.all(), s.l3_log());
    let log = s.l3_log();
    assert!(
        log.contains("cannot read SELFHEAL_AGENT_PROMPT_FILE")
            && log.contains("not a regular file"),
        "{log}"
    );
    assert!(
        s.mem("recovery-learnings.md")
            .contains("unknown (no report)"),
        "{}",
        s.mem("recovery-learnings.md")
    );
    assert_sessions_gone(&log);
}

/// Say it right 26.2: the tmux socket lives in the tool directory and goes
/// with the server; where that path is too long for a socket, tmux's own
/// directory is used and the socket is removed all the same.
#[test]
fn no_tmux_socket_is_left_behind() {
    let s = Scene::new("l3-socket");
    let server = s.serve_when_fixed();
    let r = run(
        s.cmd(&["recover"], &agent("--dialog none --behave fix")),
        LIMIT,
    );
    let _srv = server.join().expect("server");
    assert_eq!(r.code, Some(0), "{}", r.all());
    let log = s.l3_log();
    assert!(log.contains("/.tmux-selfheal-"), "{log}");
    assert_sessions_gone(&log);

    // A tool directory too deep for a socket path.
    let s = Scene::new("l3-socket-long");
    let deep = s.sb.root.join("d".repeat(90));
    let tmux_dir = s.sb.root.join("t");
    std::fs::create_dir_all(&tmux_dir).expect("tmux dir");
    let server = s.serve_when_fixed();
    let mut cmd = s.cmd(&["recover"], &agent("--dialog none --behave fix"));
    cmd.env("OPENCLAW_MEMORY_DIR", &deep)
        .env("TMUX_TMPDIR", &tmux_dir);
    let r = run(cmd, LIMIT);
    let _srv = server.join().expect("server");
    assert_eq!(r.code, Some(0), "{}", r.all());
    let left: Vec<_> = walk_files(&tmux_dir);
    assert!(left.is_empty(), "left in TMUX_TMPDIR: {left:?}");
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk_files(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn an_agent_out_of_quota_hands_over_to_the_fallback() {
    let s = Scene::new("l3-quota");
    let server = s.serve_when_fixed();
    let mut cmd = s.cmd(&["recover"], &agent("--dialog none --behave quota"));
    cmd.env(
        "SELFHEAL_AGENT_FALLBACK_CMD",
        agent("--dialog none --behave fix"),
    );
    let r = run(cmd, LIMIT);
    let _srv = server.join().expect("server");
    assert_eq!(r.code, Some(0), "{}\n{}", r.all(), s.l3_log());
    let log = s.l3_log();
    assert!(
        log.contains("the agent cannot work: Claude usage limit reached"),
        "{log}"
    );
    assert!(log.contains("handing over to the fallback agent"), "{log}");
    assert_sessions_gone(&log);
}

#[test]
fn unable_to_connect_fails_fast_not_at_the_timeout() {
    let s = Scene::new("l3-noconnect");
    let mut cmd = s.cmd(&["recover"], &agent("--dialog none --behave noconnect"));
    cmd.env("EMERGENCY_RECOVERY_TIMEOUT", "40");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r.elapsed < Duration::from_secs(12), "took {:?}", r.elapsed);
    let log = s.l3_log();
    assert!(
        log.contains("Unable to connect to Anthropic services"),
        "{log}"
    );
    assert!(
        log.trim_end()
            .ends_with("=== MANUAL INTERVENTION REQUIRED ==="),
        "{log}"
    );
    assert_eq!(s.emergency_metrics()[0]["result"], "false");
    assert_sessions_gone(&log);
}

#[test]
fn a_silent_agent_ends_at_the_timeout() {
    let s = Scene::new("l3-hang");
    let mut cmd = s.cmd(&["recover"], &agent("--dialog none --behave hang"));
    cmd.env("EMERGENCY_RECOVERY_TIMEOUT", "3");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(r.elapsed < Duration::from_secs(15), "took {:?}", r.elapsed);
    let log = s.l3_log();
    assert!(
        log.contains("silent") || log.contains("time budget ran out"),
        "{log}"
    );
    assert!(log
        .trim_end()
        .ends_with("=== MANUAL INTERVENTION REQUIRED ==="));
    assert_sessions_gone(&log);
}

#[test]
fn our_own_words_and_the_agents_chatter_never_end_the_run() {
    let s = Scene::new("l3-chatter");
    let prompt = s.sb.root.join("prompt.md");
    std::fs::write(
        &prompt,
        "Fix {url}. Done means \"http 200\". If you see usage limit reached or 429, say so.\nReport: {report_path}\n",
    )
    .expect("prompt");
    let mut cmd = s.cmd(&["recover"], &agent("--dialog current --behave chatter"));
    cmd.env("SELFHEAL_AGENT_PROMPT_FILE", &prompt)
        .env("EMERGENCY_RECOVERY_TIMEOUT", "6");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let log = s.l3_log();
    assert!(
        log.contains("time budget ran out") || log.contains("silent"),
        "ended early: {log}"
    );
    assert!(!log.contains("cannot work"), "false quota: {log}");
    assert!(
        r.elapsed >= Duration::from_secs(6),
        "ended before the timeout: {:?}",
        r.elapsed
    );
    for m in s.emergency_metrics() {
        assert_eq!(m["metric"], "emergency_recovery");
    }
}

#[test]
fn sigterm_mid_run_closes_the_session_and_says_interrupted() {
    let s = Scene::new("l3-sigterm");
    let mut child = s
        .cmd(&["recover"], &agent("--dialog none --behave hang"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    assert!(
        wait_for(Duration::from_secs(20), || s
            .l3_log()
            .contains("watch it live")),
        "agent never started"
    );
    thread::sleep(Duration::from_millis(500));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(143));
    let log = s.l3_log();
    assert!(log.contains("interrupted by signal 15"), "{log}");
    assert_sessions_gone(&log);
}

#[test]
fn check_escalates_to_level_3_and_the_cooldown_holds_the_next_agent() {
    let s = Scene::new("l3-check");
    let sink = Sink::start(vec![Answer::ok()]);
    let base = |agent_cmd: &str| {
        let mut cmd = s.cmd(&["check"], agent_cmd);
        cmd.env("HEALTH_CHECK_MAX_RETRIES", "1")
            .env("HEALTH_CHECK_RETRY_DELAY", "0.2")
            .env("HEALTH_CHECK_ESCALATION_WAIT", "0")
            .env("SELFHEAL_RESTART_CMD", fixture("fail.sh"))
            .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"))
            .env("EMERGENCY_RECOVERY_TIMEOUT", "3");
        cmd
    };
    // A failing agent: level 3 fails, humans are told.
    let r = run(base(&agent("--dialog none --behave noconnect")), LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let kinds: Vec<String> = sink
        .received()
        .iter()
        .map(|r| r.json()["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(kinds, ["escalating", "failed"]);
    assert!(sink.received()[1].json()["text"]
        .as_str()
        .unwrap_or("")
        .contains("Level 3 (AI agent): ❌"));
    // Inside the cooldown: no agent is started, and the log says why.
    let trace_before = s.trace();
    let r = run(base(&agent("--dialog none --behave fix")), LIMIT);
    assert_eq!(r.code, Some(1));
    assert_eq!(
        s.trace(),
        trace_before,
        "an agent was started during the cooldown"
    );
    assert!(
        s.sb.log().contains("level 3 skipped: cooldown"),
        "{}",
        s.sb.log()
    );
    let results: Vec<String> = s
        .emergency_metrics()
        .iter()
        .map(|m| m["result"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(results, ["false", "cooldown"]);
    assert_eq!(sink.received().len(), 2, "paged again inside the incident");
}

#[test]
fn the_page_carries_the_agents_own_reason_when_it_stops() {
    let s = Scene::new("l3-reason");
    let sink = Sink::start(vec![Answer::ok()]);
    let mut cmd = s.cmd(&["check"], &agent("--dialog none --behave crash"));
    cmd.env("HEALTH_CHECK_MAX_RETRIES", "1")
        .env("HEALTH_CHECK_RETRY_DELAY", "0.2")
        .env("HEALTH_CHECK_ESCALATION_WAIT", "0")
        .env("SELFHEAL_RESTART_CMD", fixture("fail.sh"))
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"))
        .env("EMERGENCY_RECOVERY_TIMEOUT", "5");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let failed: Vec<String> = sink
        .received()
        .iter()
        .filter(|r| r.json()["kind"] == "failed")
        .map(|r| r.json()["text"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].contains("Level 3 (AI agent): ❌ the agent")
            && failed[0].contains(": \"Error: proxy at 10.0.0.9:3128 refused the connection"),
        "{}",
        failed[0]
    );
}

#[test]
fn check_recovered_by_the_agent_sends_resolved() {
    let s = Scene::new("l3-check-ok");
    let sink = Sink::start(vec![Answer::ok()]);
    let server = s.serve_when_fixed();
    let mut cmd = s.cmd(&["check"], &agent("--dialog current --behave fix"));
    cmd.env("HEALTH_CHECK_MAX_RETRIES", "1")
        .env("HEALTH_CHECK_RETRY_DELAY", "0.2")
        .env("HEALTH_CHECK_ESCALATION_WAIT", "0")
        .env("SELFHEAL_RESTART_CMD", fixture("fail.sh"))
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
    let r = run(cmd, LIMIT);
    let _srv = server.join().expect("server");
    assert_eq!(r.code, Some(0), "{}\n{}", r.all(), s.l3_log());
    let kinds: Vec<String> = sink
        .received()
        .iter()
        .map(|r| r.json()["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(kinds, ["escalating", "resolved"]);
}

#[test]
fn missing_tmux_or_agent_is_a_dependency_failure() {
    for (name, tmux, agent_cmd) in [
        ("l3-notmux", "/nonexistent/tmux", agent("--behave fix")),
        ("l3-noagent", "tmux", "/nonexistent/claude".to_string()),
    ] {
        let s = Scene::new(name);
        let mut cmd = s.cmd(&["recover"], &agent_cmd);
        cmd.env("SELFHEAL_TMUX", tmux);
        let r = run(cmd, LIMIT);
        assert_eq!(r.code, Some(1), "{name}: {}", r.all());
        assert_eq!(
            s.emergency_metrics()[0]["result"],
            "dependency_failed",
            "{name}"
        );
        assert!(s.l3_log().contains("not found"), "{name}: {}", s.l3_log());
        assert!(
            r.elapsed < Duration::from_secs(5),
            "{name}: {:?}",
            r.elapsed
        );
        // Nothing was spent: no cooldown keeps the next run from trying.
        let state = s.mem(".selfheal-state.json");
        assert!(
            state.contains("\"agent_cooldown_until\": null"),
            "{name}: {state}"
        );
    }
}

#[test]
fn recover_on_a_healthy_service_starts_nothing() {
    let s = Scene::new("l3-healthy");
    let _srv = Server::start_on(s.port, Behaviour::Reply(200, "ok".into()));
    let r = run(s.cmd(&["recover"], &agent("--behave fix")), LIMIT);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("level 3 is not needed"), "{}", r.stdout);
    assert!(!Path::new(&s.trace).exists());
}

/// Hold under attack 22.15: `{prompt}` puts the prompt (evidence, command
/// output) in argv, which every local user can read; doctor advises
/// `{prompt_file}` (without failing), and says nothing of it when it is used.
#[test]
fn doctor_advises_a_prompt_file_over_a_prompt_in_argv() {
    let sb = Sandbox::new("doctor-prompt-argv");
    let doctor = |agent: &str| {
        let mut cmd = sb.cmd(&["doctor"]);
        cmd.env("SELFHEAL_AGENT_CMD", agent);
        run(cmd, LIMIT).stdout
    };
    let argv = doctor("claude -p {prompt} --permission-mode acceptEdits");
    assert!(
        argv.contains("agent prompt: SELFHEAL_AGENT_CMD has {prompt}")
            && argv.contains("fix: use {prompt_file} instead"),
        "{argv}"
    );
    let file = doctor(
        "claude -p 'Follow the instructions in {prompt_file}' --permission-mode acceptEdits",
    );
    assert!(!file.contains("agent prompt:"), "{file}");
}

#[test]
fn a_batch_agent_that_exits_while_its_fix_boots_is_waited_for() {
    // `codex exec` or `claude -p` may run `openclaw gateway restart` and
    // exit while the gateway boots: one probe at that moment would page
    // people for a recovery that is under way.
    let s = Scene::new("l3-settle");
    let server = s.serve_when_fixed();
    let mut cmd = s.cmd(&["recover"], &agent("--batch --behave fix -p {prompt}"));
    // The fix hands the start to a process of its own session (as a
    // service manager would) and returns; the service answers 2 s later,
    // when the agent has long exited and its tmux session is gone.
    cmd.env(
        "FAKE_FIX",
        format!(
            "setsid --fork sh -c 'sleep 2; touch {}'",
            s.marker.display()
        ),
    )
    .env("HEALTH_CHECK_RETRY_DELAY", "15");
    let r = run(cmd, LIMIT);
    let _srv = server.join().expect("server");
    let log = s.l3_log();
    assert_eq!(r.code, Some(0), "{}\n{log}", r.all());
    assert!(
        log.contains("and the service is not healthy yet (connection refused): waiting up to 15s"),
        "{log}"
    );
    assert!(log.contains("verified healthy"), "{log}");
    assert_sessions_gone(&log);
}
