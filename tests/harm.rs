//! First, do no harm: a start selfheal cannot see is not taken for a dead
//! one, a start under way is left to boot, a valid edit is not rolled back,
//! restarts stop when they cannot help, and confirming a failure costs no
//! more than the evidence needs. Each through the real binary against a
//! small service (tests/fixtures/slow-service.py) that boots slowly, as the
//! OpenClaw gateway does.

use crate::common::*;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A slow-booting service on a port of its own.
struct Svc {
    sb: Sandbox,
    port: u16,
    pidfile: PathBuf,
    runs: PathBuf,
    /// A supervisor (level 1), when the test starts one.
    supervisor: Option<Child>,
}

impl Svc {
    fn new(name: &str) -> Svc {
        require_tool("python3", "apt-get install python3");
        let sb = Sandbox::new(name);
        Svc {
            port: free_port(),
            pidfile: sb.root.join("service.pid"),
            runs: sb.root.join("runs"),
            sb,
            supervisor: None,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn up(&self) -> bool {
        std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
    }

    fn pid(&self) -> Option<i32> {
        read_pids(&self.pidfile).first().copied()
    }

    /// `late-start.sh`: the restart command that returns at once.
    fn late_start(&self, delay: &str, boot: &str) -> String {
        format!(
            "{} {} {} {} {delay} {boot}",
            fixture("late-start.sh"),
            self.port,
            self.pidfile.display(),
            self.runs.display()
        )
    }

    /// Starts it as its restart command would, and waits until it answers.
    fn start(&self) {
        let argv: Vec<String> = self
            .late_start("0", "0.2")
            .split(' ')
            .map(String::from)
            .collect();
        let ok = Command::new(&argv[0])
            .args(&argv[1..])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok && wait_for(Duration::from_secs(20), || self.up()),
            "no start"
        );
        let _ = std::fs::remove_file(&self.runs);
    }

    /// Starts it under a supervisor that starts it again a second after it
    /// ends (level 1); it boots for `boot` seconds each time.
    fn supervised(&mut self, boot: &str) {
        let child = Command::new("sh")
            .arg(fixture("supervise.sh"))
            .args([
                "python3",
                &fixture("slow-service.py"),
                &self.port.to_string(),
                boot,
                &self.pidfile.display().to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("supervisor");
        self.supervisor = Some(child);
        assert!(wait_for(Duration::from_secs(20), || self.up()), "no start");
    }

    /// The environment of every check here: this service, level 3 off,
    /// alerts to `sink`.
    fn check(&self, restart: &str, sink: &Sink) -> Command {
        let mut cmd = self.sb.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", self.url())
            .env("HEALTH_CHECK_HTTP_TIMEOUT", "2")
            .env("HEALTH_CHECK_MAX_RETRIES", "3")
            .env("HEALTH_CHECK_RETRY_DELAY", "30")
            .env("HEALTH_CHECK_ESCALATION_WAIT", "0")
            .env("SELFHEAL_POLL_INTERVAL", "0.2")
            .env("SELFHEAL_CONFIRM_PROBES", "2")
            .env("SELFHEAL_RESTART_CMD", restart)
            .env("SELFHEAL_SERVICE_LOGS", "")
            .env("SELFHEAL_ALERT_TIMEOUT", "2")
            .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"))
            .env("SELFHEAL_AGENT_CMD", "");
        cmd
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(&self.runs)
            .unwrap_or_default()
            .lines()
            .count()
    }

    /// The probes recorded before the first restart.
    fn probes_before_restart(&self) -> usize {
        self.sb
            .metric_pairs()
            .iter()
            .take_while(|(m, _)| m != "gateway_restart")
            .filter(|(m, _)| m == "http_check")
            .count()
    }
}

impl Drop for Svc {
    fn drop(&mut self) {
        if let Some(mut s) = self.supervisor.take() {
            // SAFETY: the supervisor's own process group.
            unsafe { libc::killpg(s.id() as i32, libc::SIGKILL) };
            let _ = s.wait();
        }
        if let Some(pid) = self.pid() {
            kill(pid);
        }
    }
}

fn kinds(sink: &Sink) -> Vec<String> {
    sink.received()
        .iter()
        .map(|r| r.json()["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

use std::os::unix::process::CommandExt;

#[test]
fn a_restart_that_returns_at_once_is_waited_on_and_runs_once() {
    let s = Svc::new("harm-noblock");
    s.start();
    let sink = Sink::start(vec![Answer::ok()]);
    let restart = s.late_start("1", "1");
    let mut healthy = s.check(&restart, &sink);
    assert_eq!(run_ref(&mut healthy, LIMIT).code, Some(0));
    kill(s.pid().expect("pid"));
    assert!(wait_for(Duration::from_secs(10), || !s.up()), "still up");
    let r = run(s.check(&restart, &sink), LIMIT);
    assert_eq!(r.code, Some(0), "{}\n{}", r.all(), s.sb.log());
    assert_eq!(s.runs(), 1, "restarted more than once: {}", s.sb.log());
    assert!(!s.sb.log().contains("stopped waiting"), "{}", s.sb.log());
    assert!(
        s.sb.metric_pairs()
            .contains(&("recovery".into(), "success".into())),
        "{:?}",
        s.sb.metric_pairs()
    );
}

#[test]
fn a_start_under_way_is_left_to_boot_and_counts_as_level_1() {
    let mut s = Svc::new("harm-level1");
    s.supervised("3");
    let sink = Sink::start(vec![Answer::ok()]);
    let restart = format!("{} {}", fixture("append.sh"), s.runs.display());
    let mut healthy = s.check(&restart, &sink);
    assert_eq!(run_ref(&mut healthy, LIMIT).code, Some(0));
    // It dies; its supervisor starts it again a second later, and it boots
    // for three seconds: selfheal looks while it boots.
    let old = s.pid().expect("pid");
    kill(old);
    assert!(
        wait_for(Duration::from_secs(10), || s
            .pid()
            .is_some_and(|p| p != old)),
        "the supervisor did not start it again"
    );
    assert!(!s.up(), "it booted before the check could look");
    let r = run(s.check(&restart, &sink), LIMIT);
    assert_eq!(r.code, Some(0), "{}\n{}", r.all(), s.sb.log());
    assert_eq!(
        s.runs(),
        0,
        "selfheal restarted a booting service: {}",
        s.sb.log()
    );
    assert!(s.sb.log().contains("level 1: "), "{}", s.sb.log());
    let pairs = s.sb.metric_pairs();
    assert!(
        pairs.contains(&("recovery".into(), "self_healed".into())),
        "{pairs:?}"
    );
    assert!(
        !pairs.iter().any(|(m, _)| m == "gateway_restart"),
        "{pairs:?}"
    );
    assert!(
        kinds(&sink).is_empty(),
        "paged for level 1's work: {:?}",
        kinds(&sink)
    );
    let state = std::fs::read_to_string(s.sb.memory().join(".selfheal-state.json")).expect("state");
    let v: serde_json::Value = serde_json::from_str(&state).expect("json");
    assert_eq!(v["brake"]["restarts"], serde_json::json!([]), "{state}");
}

#[test]
fn a_valid_edit_then_a_crash_keeps_the_edit_and_starts_once() {
    let s = Svc::new("harm-valid-edit");
    s.start();
    let sink = Sink::start(vec![Answer::ok()]);
    let config = s.sb.root.join("app.json");
    std::fs::write(&config, "{ port: 1 }\n").expect("config");
    let restart = s.late_start("1", "1");
    let mut check = s.check(&restart, &sink);
    check.env("SELFHEAL_WATCH_FILES", &config);
    assert_eq!(run_ref(&mut check, LIMIT).code, Some(0), "{}", s.sb.log());
    // A valid edit, kept while healthy would be next; then a crash.
    let edited = "{ port: 1, name: \"mine\" }\n";
    std::fs::write(&config, edited).expect("edit");
    kill(s.pid().expect("pid"));
    assert!(wait_for(Duration::from_secs(10), || !s.up()), "still up");
    let r = run_ref(&mut check, LIMIT);
    assert_eq!(r.code, Some(0), "{}\n{}", r.all(), s.sb.log());
    assert_eq!(
        std::fs::read_to_string(&config).ok().as_deref(),
        Some(edited)
    );
    assert_eq!(s.runs(), 1, "{}", s.sb.log());
    assert!(!kinds(&sink).contains(&"rolled_back".to_string()));
}

#[test]
fn a_port_kept_by_another_program_stops_the_restarts_and_pages_at_once() {
    let s = Svc::new("harm-squat");
    let squatter = Server::start_on(s.port, Behaviour::Reply(404, "not the service".into()));
    let sink = Sink::start(vec![Answer::ok()]);
    let restart = format!("{} {}", fixture("append.sh"), s.runs.display());
    let mut cmd = s.check(&restart, &sink);
    cmd.env("HEALTH_CHECK_RETRY_DELAY", "1")
        .env("HEALTH_CHECK_ESCALATION_WAIT", "60");
    let r = run(cmd, LIMIT);
    drop(squatter);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let log = s.sb.log();
    assert_eq!(s.runs(), 1, "{log}");
    assert!(log.contains("a restart cannot free it"), "{log}");
    assert!(!log.contains("waiting up to 1m"), "{log}");
    assert!(
        kinds(&sink).contains(&"failed".to_string()),
        "{:?}",
        kinds(&sink)
    );
}

#[test]
fn a_crash_seen_by_its_evidence_is_restarted_without_more_probes() {
    let s = Svc::new("harm-crash");
    s.start();
    let sink = Sink::start(vec![Answer::ok()]);
    let restart = s.late_start("0", "0.5");
    let mut check = s.check(&restart, &sink);
    assert_eq!(run_ref(&mut check, LIMIT).code, Some(0));
    let _ = std::fs::remove_file(s.sb.memory().join(".healthcheck-metrics.json"));
    kill(s.pid().expect("pid"));
    assert!(wait_for(Duration::from_secs(10), || !s.up()), "still up");
    let r = run_ref(&mut check, LIMIT);
    assert_eq!(r.code, Some(0), "{}\n{}", r.all(), s.sb.log());
    assert_eq!(s.probes_before_restart(), 1, "{:?}", s.sb.metric_pairs());
    assert!(
        s.sb.log().contains("no process of the service runs"),
        "{}",
        s.sb.log()
    );
}

#[test]
fn a_hung_service_is_confirmed_by_its_stopped_process_not_by_more_timeouts() {
    let s = Svc::new("harm-hang");
    s.start();
    let sink = Sink::start(vec![Answer::ok()]);
    let restart = s.late_start("0", "0.5");
    let mut check = s.check(&restart, &sink);
    check.env("HEALTH_CHECK_HTTP_TIMEOUT", "1");
    assert_eq!(run_ref(&mut check, LIMIT).code, Some(0));
    let _ = std::fs::remove_file(s.sb.memory().join(".healthcheck-metrics.json"));
    let pid = s.pid().expect("pid");
    let _ = Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status();
    let r = run_ref(&mut check, LIMIT);
    assert_eq!(r.code, Some(0), "{}\n{}", r.all(), s.sb.log());
    assert_eq!(s.probes_before_restart(), 1, "{:?}", s.sb.metric_pairs());
    assert!(s.sb.log().contains("is stopped"), "{}", s.sb.log());
}

#[test]
fn an_unreachable_channel_costs_a_healthy_run_a_second_at_most_and_is_said_once() {
    let sb = Sandbox::new("harm-unreachable");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    // A webhook host that takes the connection and never answers.
    let hang = Sink::start(vec![Answer::Hang]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    sb.save_state(&selfheal::state::State {
        outbox: vec![selfheal::state::Queued {
            created: now,
            channel: selfheal::channel::Channel::Webhook,
            kind: selfheal::kind::Kind::Resolved,
            severity: selfheal::kind::Severity::Info,
            title: "resolved".into(),
            text: "x".into(),
            attempts: 1,
        }],
        ..Default::default()
    });
    let mut check = sb.cmd(&["--quiet", "check"]);
    check
        .env("OPENCLAW_GATEWAY_URL", srv.url())
        .env("SELFHEAL_ALERT_TIMEOUT", "5")
        .env("SELFHEAL_WEBHOOK_URL", hang.url("/hook"));
    let first = run_ref(&mut check, LIMIT);
    assert_eq!(first.code, Some(0), "{}", first.all());
    // One attempt of at most a second, not three of five.
    assert!(
        first.elapsed < Duration::from_secs(4),
        "{:?}",
        first.elapsed
    );
    assert!(first.stderr.contains("not delivered"), "{}", first.stderr);
    for _ in 0..2 {
        let again = run_ref(&mut check, LIMIT);
        assert_eq!(again.code, Some(0), "{}", again.all());
        assert_eq!(again.stderr, "", "said again on a healthy run");
        assert_eq!(again.stdout, "", "--quiet");
    }
    assert_eq!(hang.received().len(), 1, "tried on every run");
    let status = run(sb.cmd(&["status"]), LIMIT);
    assert!(
        status.stdout.contains("webhook: failing for"),
        "{}",
        status.stdout
    );
    let doctor = run(sb.cmd(&["doctor"]), LIMIT);
    assert!(
        doctor.stdout.contains("✗ alert channel: webhook: failing"),
        "{}",
        doctor.stdout
    );
    let reset = run(sb.cmd(&["reset"]), LIMIT);
    assert_eq!(reset.code, Some(0), "{}", reset.all());
    assert!(
        reset.stdout.contains("the backoff of webhook"),
        "{}",
        reset.stdout
    );
}

#[test]
fn status_shows_what_holds_selfheal_back_and_reset_clears_it() {
    let sb = Sandbox::new("harm-reset");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    sb.save_state(&selfheal::state::State {
        brake: selfheal::state::Brake {
            restarts: (0..6).map(|i| now - 60 * i).collect(),
            flapping_since: Some(now - 600),
            ..Default::default()
        },
        agent_cooldown_until: Some(now + 1800),
        ..Default::default()
    });
    let status = run(sb.cmd(&["status"]), LIMIT);
    for needle in [
        "crash loop: 6 restarts",
        "`selfheal reset`",
        "flapping:     since",
        "agent cooldown: 30m",
    ] {
        assert!(
            status.stdout.contains(needle),
            "{needle}: {}",
            status.stdout
        );
    }
    let reset = run(sb.cmd(&["reset"]), LIMIT);
    assert_eq!(reset.code, Some(0), "{}", reset.all());
    for needle in ["crash loop", "the flapping episode", "the agent's cooldown"] {
        assert!(reset.stdout.contains(needle), "{needle}: {}", reset.stdout);
    }
    let status = run(sb.cmd(&["status"]), LIMIT);
    assert!(
        status.stdout.contains("brake:        not holding"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("agent cooldown: none"),
        "{}",
        status.stdout
    );
    let again = run(sb.cmd(&["reset"]), LIMIT);
    assert!(
        again.stdout.contains("nothing to reset"),
        "{}",
        again.stdout
    );
}

/// Issue 24.2: a service whose memory stays over SELFHEAL_RESTART_RSS for
/// SELFHEAL_RESTART_RSS_FOR checks is restarted while healthy, once, with an
/// info message that says the numbers and how long it took to be back.
#[test]
fn a_service_over_its_memory_limit_is_restarted_before_it_runs_out() {
    let sb = Sandbox::new("planned-rss");
    let sink = Sink::start(vec![Answer::ok()]);
    let port = free_port();
    let pidfile = sb.root.join("pid");
    /// The first process (reaped) and whatever the pid file names at the end.
    struct Stop(std::path::PathBuf, Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            for pid in read_pids(&self.0) {
                kill(pid);
            }
            let _ = self.1.kill();
            let _ = self.1.wait();
        }
    }
    let service = fixture("slow-service.py");
    let first = Command::new(&service)
        .args([&port.to_string(), "0", &pidfile.display().to_string()])
        .env("ALLOC_MB", "120")
        .spawn()
        .expect("service");
    let _stop = Stop(pidfile.clone(), first);
    assert!(wait_for(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    let leaky = read_pids(&pidfile);
    let restart = format!(
        "sh -c 'kill $(cat {pid}); sleep 0.3; {service} {port} 0 {pid} >/dev/null 2>&1 &'",
        pid = pidfile.display()
    );
    let check = || {
        let mut cmd = sb.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", format!("http://127.0.0.1:{port}/"))
            .env("SELFHEAL_SERVICE", "generic")
            .env("SELFHEAL_RESTART_CMD", &restart)
            .env("SELFHEAL_RESTART_RSS", "60M")
            .env("SELFHEAL_RESTART_RSS_FOR", "2")
            .env("HEALTH_CHECK_RETRY_DELAY", "10")
            .env("SELFHEAL_POLL_INTERVAL", "0.2")
            .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
        run(cmd, LIMIT)
    };
    let first = check();
    assert_eq!(first.code, Some(0), "{}", first.all());
    assert!(
        sb.log().contains("check 1 of 2 before a planned restart"),
        "{}",
        sb.log()
    );
    assert_eq!(read_pids(&pidfile), leaky, "restarted after one check");
    let second = check();
    assert_eq!(second.code, Some(0), "{}", second.all());
    assert!(
        wait_for(Duration::from_secs(10), || read_pids(&pidfile) != leaky),
        "not restarted: {}",
        sb.log()
    );
    let texts: Vec<String> = sink
        .received()
        .iter()
        .map(|r| format!("{} {}", r.json()["kind"], r.json()["text"]))
        .collect();
    assert!(
        texts.iter().any(|t| t.starts_with("\"planned_restart\"")
            && t.contains("after 2 checks over 60 MiB; it was back in")),
        "{texts:#?}\n{}",
        sb.log()
    );
    assert!(sb
        .metric_pairs()
        .contains(&("planned_restart".into(), "success".into())));
    // The new process is small: no second restart.
    let third = check();
    assert_eq!(third.code, Some(0));
    assert_eq!(sink.received().len(), 1, "{texts:?}");
}

/// Issue 24.1 (a stand-in; the real gateway is in `make real`): live but
/// not ready for SELFHEAL_READY_GRACE checks is an incident: nothing before
/// the grace, then a restart that counts only once it is ready again; when
/// a restart does not bring readiness back, the page names what failed.
#[test]
fn a_live_service_that_is_not_ready_is_healed_after_its_grace() {
    for heals in [true, false] {
        let sb = Sandbox::new(if heals { "ready-heals" } else { "ready-pages" });
        let sink = Sink::start(vec![Answer::ok()]);
        let port = free_port();
        let (pidfile, marker) = (sb.root.join("pid"), sb.root.join("deaf"));
        struct Stop(PathBuf, Child);
        impl Drop for Stop {
            fn drop(&mut self) {
                for pid in read_pids(&self.0) {
                    kill(pid);
                }
                let _ = self.1.kill();
                let _ = self.1.wait();
            }
        }
        let service = fixture("slow-service.py");
        let first = Command::new(&service)
            .args([&port.to_string(), "0", &pidfile.display().to_string()])
            .env("NOT_READY_FILE", &marker)
            .spawn()
            .expect("service");
        let _stop = Stop(pidfile.clone(), first);
        assert!(wait_for(Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        }));
        // A restart reconnects the channels (the marker goes) — or not.
        let restart = format!(
            "sh -c 'kill $(cat {pid}); {clear} sleep 0.3; NOT_READY_FILE={m} {service} {port} 0 {pid} >/dev/null 2>&1 &'",
            pid = pidfile.display(),
            m = marker.display(),
            clear = if heals { format!("rm -f {};", marker.display()) } else { String::new() },
        );
        let check = || {
            let mut cmd = sb.cmd(&["check"]);
            cmd.env("OPENCLAW_GATEWAY_URL", format!("http://127.0.0.1:{port}/"))
                .env("SELFHEAL_SERVICE", "generic")
                .env(
                    "SELFHEAL_READY_URL",
                    format!("http://127.0.0.1:{port}/readyz"),
                )
                .env("SELFHEAL_READY_GRACE", "2")
                .env("SELFHEAL_RESTART_CMD", &restart)
                .env("HEALTH_CHECK_MAX_RETRIES", "1")
                // The boot bound (not-ready checks within it are not
                // counted) and the wait for the restarted service: long
                // enough for Python to start on a loaded machine.
                .env("HEALTH_CHECK_RETRY_DELAY", "5")
                .env("HEALTH_CHECK_ESCALATION_WAIT", "0")
                .env("SELFHEAL_POLL_INTERVAL", "0.2")
                .env("SELFHEAL_AGENT_CMD", "")
                .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
            run(cmd, LIMIT)
        };
        assert_eq!(check().code, Some(0));
        // Not ready while it may still be booting (5 s here) is not counted:
        // the service is made deaf once it is older than that.
        std::thread::sleep(Duration::from_millis(5500));
        std::fs::write(&marker, "").expect("deaf");
        let before = read_pids(&pidfile);
        let one = check();
        assert_eq!(one.code, Some(0), "{}", one.all());
        assert!(
            sb.log()
                .contains("live but not ready: telegram: check 1 of 2"),
            "{}",
            sb.log()
        );
        assert_eq!(read_pids(&pidfile), before, "restarted within the grace");
        let two = check();
        let log = sb.log();
        assert!(
            log.contains("unhealthy: live but not ready: telegram, for"),
            "{log}"
        );
        if heals {
            assert_eq!(two.code, Some(0), "{}\n{log}", two.all());
            assert_ne!(read_pids(&pidfile), before, "not restarted");
            // Ready again: the next check counts from zero.
            assert_eq!(check().code, Some(0));
        } else {
            assert_eq!(two.code, Some(1), "{}\n{log}", two.all());
            let page = sink
                .received()
                .iter()
                .find(|r| r.json()["kind"] == "failed")
                .map(|r| r.json()["text"].as_str().unwrap_or("").to_string())
                .expect("a page");
            assert!(page.contains("live but not ready: telegram"), "{page}");
        }
    }
}

#[test]
fn what_the_service_holds_back_itself_is_said_once_and_never_restarted() {
    // OpenClaw's restart-loop breaker: after crashes at start it keeps its
    // channels stopped (`suppressed`) and starts them itself once its
    // 5-minute window holds no crash; a restart would only start that wait
    // again. Whether its /readyz then says 200 or 503, selfheal leaves it —
    // while that recovery may still come.
    let sb = Sandbox::new("held-back");
    let live = Server::start(Behaviour::Reply(200, "ok".into()));
    let restarts = sb.root.join("restarts");
    let check = |ready: &Server| {
        let mut cmd = sb.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", live.url())
            .env("SELFHEAL_SERVICE", "generic")
            .env("SELFHEAL_READY_URL", format!("{}readyz", ready.url()))
            .env("SELFHEAL_READY_GRACE", "1")
            .env(
                "SELFHEAL_RESTART_CMD",
                format!("sh -c 'echo x >> {}'", restarts.display()),
            )
            .env("HEALTH_CHECK_MAX_RETRIES", "1")
            .env("HEALTH_CHECK_RETRY_DELAY", "0")
            .env("HEALTH_CHECK_ESCALATION_WAIT", "0")
            .env("SELFHEAL_POLL_INTERVAL", "0.2")
            .env("SELFHEAL_AGENT_CMD", "");
        run(cmd, LIMIT)
    };
    let said = |log: &str| log.matches("holds back telegram itself").count();
    let held = Server::start(Behaviour::Reply(
        200,
        r#"{"ready":true,"failing":[],"suppressed":["telegram"]}"#.into(),
    ));
    for _ in 0..3 {
        let r = check(&held);
        assert_eq!(r.code, Some(0), "{}", r.all());
    }
    let held_503 = Server::start(Behaviour::Reply(
        503,
        r#"{"ready":false,"failing":["telegram"],"suppressed":["telegram"]}"#.into(),
    ));
    let r = check(&held_503);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let log = sb.log();
    assert_eq!(said(&log), 1, "{log}");
    assert!(!restarts.exists(), "restarted: {log}");
    let status = run(sb.cmd(&["status"]), LIMIT);
    assert!(
        status
            .stdout
            .contains("the service holds back telegram itself since"),
        "{}",
        status.stdout
    );
    // Held back by a gateway up for 16 minutes: its own recovery (at most
    // 11) did not come, and a restart no longer trips its breaker: healed
    // as not ready. (So the restarts above were left out by what the
    // service said, not by how this test runs it.)
    let stuck = Server::start(Behaviour::Reply(
        200,
        r#"{"ready":true,"failing":[],"suppressed":["telegram"],"uptimeMs":960000}"#.into(),
    ));
    let _ = check(&stuck);
    let log = sb.log();
    assert!(restarts.exists(), "{log}");
    assert!(
        log.contains("unhealthy: live but not ready: telegram (held back, up 16m00s)"),
        "{log}"
    );
    assert_eq!(said(&log), 1, "{log}");
    // Ready again with nothing held back: said once.
    let ready = Server::start(Behaviour::Reply(200, r#"{"ready":true}"#.into()));
    assert_eq!(check(&ready).code, Some(0));
    assert_eq!(check(&ready).code, Some(0));
    let log = sb.log();
    assert_eq!(
        log.matches("no longer held back: telegram").count(),
        1,
        "{log}"
    );
}

#[test]
fn another_homes_gateway_starting_is_not_taken_for_this_ones_boot() {
    // Any OpenClaw gateway's process looks the same (`openclaw-gateway`). A
    // second instance with a home of its own (another user's, or a test
    // gateway), booting or crash-looping beside this one, must not make
    // selfheal take this dead gateway for one that is starting.
    for this_home in [false, true] {
        let s = Svc::new(if this_home { "gw-this" } else { "gw-other" });
        let home = if this_home {
            s.sb.home.clone()
        } else {
            s.sb.root.join("another-home")
        };
        let mut other = Command::new("bash")
            .args(["-c", "exec -a openclaw-gateway sleep 60"])
            .env("HOME", &home)
            .stdin(Stdio::null())
            .spawn()
            .expect("a gateway's look-alike");
        let pid = other.id();
        assert!(wait_for(Duration::from_secs(10), || {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.starts_with(b"openclaw-gateway"))
        }));
        let sink = Sink::start(vec![Answer::ok()]);
        let restart = format!("{} {}", fixture("append.sh"), s.runs.display());
        let mut cmd = s.check(&restart, &sink);
        cmd.env("SELFHEAL_SERVICE", "openclaw")
            .env("HEALTH_CHECK_RETRY_DELAY", "2")
            .env("HEALTH_CHECK_MAX_RETRIES", "1");
        let r = run(cmd, LIMIT);
        let _ = other.kill();
        let _ = other.wait();
        let log = s.sb.log();
        let taken = log.contains(&format!("(pid {pid}) started"));
        assert_eq!(taken, this_home, "{}\n{log}", r.all());
        assert!(s.runs() >= 1, "never restarted: {log}");
    }
}
