//! `selfheal check`: the level 2 ladder against loopback services, run as the
//! real binary with scaled-down timeouts.

use crate::common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::thread;
use std::time::Duration;

/// Fast settings: a run that fails fully takes about a second.
fn fast(url: &str) -> Vec<String> {
    [
        format!("OPENCLAW_GATEWAY_URL={url}"),
        "HEALTH_CHECK_HTTP_TIMEOUT=1".into(),
        "SELFHEAL_POLL_INTERVAL=0.1".into(),
        "HEALTH_CHECK_RETRY_DELAY=0.3".into(),
        "HEALTH_CHECK_ESCALATION_WAIT=0".into(),
        "HEALTH_CHECK_MAX_RETRIES=1".into(),
        "SELFHEAL_RESTART_TIMEOUT=5".into(),
        // Level 2 only: an agent that cannot exist (level 3 has its own tests).
        "SELFHEAL_AGENT_CMD=/nonexistent/claude".into(),
        format!("SELFHEAL_RESTART_CMD={}", fixture("fail.sh")),
    ]
    .into()
}

/// `SELFHEAL_RESTART_CMD=<fixture> <arg>`, for `--set`.
fn restart_set(fixture_name: &str, arg: impl std::fmt::Display) -> String {
    format!("SELFHEAL_RESTART_CMD={} {arg}", fixture(fixture_name))
}

fn with_sets(
    sb: &Sandbox,
    sets: &[String],
    extra: &[&str],
    args: &[&str],
) -> std::process::Command {
    let mut all: Vec<String> = Vec::new();
    for s in sets {
        all.push("--set".into());
        all.push(s.clone());
    }
    for s in extra {
        all.push("--set".into());
        all.push(s.to_string());
    }
    all.extend(args.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    sb.cmd(&refs)
}

#[test]
fn healthy_service_records_two_lines_and_exits_0() {
    let sb = Sandbox::new("healthy");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let r = run(with_sets(&sb, &fast(&srv.url()), &[], &["check"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(
        sb.metric_pairs(),
        vec![
            ("http_check".into(), "200".into()),
            ("health_check".into(), "healthy".into())
        ]
    );
    let m = sb.metrics();
    assert!(
        m[0]["timestamp"].is_i64() && m[0]["duration"].is_number(),
        "{m:?}"
    );
    // Log line format: [YYYY-MM-DD HH:MM:SS] message, also on stdout.
    let log = sb.log();
    let line = log.lines().next().unwrap_or("");
    assert!(
        line.len() > 22 && line.as_bytes()[0] == b'[' && line.as_bytes()[20] == b']',
        "{log}"
    );
    assert!(line.contains("healthy: HTTP 200"), "{log}");
    assert_eq!(r.stdout, log);
    // Mode bits: 0700 directory, 0600 files.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&sb.memory()), 0o700);
    for e in std::fs::read_dir(sb.memory()).expect("dir").flatten() {
        assert_eq!(mode(&e.path()), 0o600, "{:?}", e.path());
    }
}

#[test]
fn quiet_prints_nothing_when_healthy_and_problems_on_stderr() {
    let sb = Sandbox::new("quiet");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let r = run(
        with_sets(&sb, &fast(&srv.url()), &[], &["-q", "check"]),
        LIMIT,
    );
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (Some(0), "", "")
    );
    let down = down_url();
    let r = run(
        with_sets(&sb, &fast(&down), &[], &["check", "--quiet"]),
        LIMIT,
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("connection refused"), "{}", r.stderr);
}

#[test]
fn restart_that_brings_the_service_back_after_1s() {
    let sb = Sandbox::new("recover");
    let port = free_port();
    let marker = sb.root.join("restarted");
    let url = format!("http://127.0.0.1:{port}/");
    let mut sets = fast(&url);
    sets.push("HEALTH_CHECK_RETRY_DELAY=20".into());
    sets.push(restart_set("touch.sh", marker.display()));
    let m2 = marker.clone();
    let starter = thread::spawn(move || {
        assert!(
            wait_for(Duration::from_secs(20), || m2.exists()),
            "restart never ran"
        );
        thread::sleep(Duration::from_secs(1));
        Server::start_on(port, Behaviour::Reply(200, "ok".into()))
    });
    let r = run(with_sets(&sb, &sets, &[], &["check"]), LIMIT);
    let _srv = starter.join().expect("server");
    assert_eq!(r.code, Some(0), "{}", r.all());
    // Polled: about 1 s plus a poll, nowhere near HEALTH_CHECK_RETRY_DELAY (20 s).
    assert!(r.elapsed < Duration::from_secs(5), "took {:?}", r.elapsed);
    let pairs = sb.metric_pairs();
    assert!(
        pairs.contains(&("gateway_restart".into(), "success".into())),
        "{pairs:?}"
    );
    assert_eq!(
        pairs.iter().rfind(|(m, _)| m == "recovery"),
        Some(&("recovery".into(), "success".into())),
        "{pairs:?}"
    );
    let recovery = sb
        .metrics()
        .into_iter()
        .rfind(|m| m["metric"] == "recovery")
        .expect("metric");
    assert_eq!(recovery["duration"], 1, "attempts used");
    assert!(
        sb.log().contains("recovered by restart (attempt 1)"),
        "{}",
        sb.log()
    );
}

fn hung_restart_is_killed_with_its_child(mode: &str) {
    let sb = Sandbox::new("hang");
    let pids = sb.root.join("pids");
    let url = down_url();
    let mut sets = fast(&url);
    sets.push("SELFHEAL_RESTART_TIMEOUT=0.5".into());
    sets.push(format!(
        "SELFHEAL_RESTART_CMD={} {} {mode}",
        fixture("hang-with-child.sh"),
        pids.display()
    ));
    let r = run(with_sets(&sb, &sets, &[], &["check"]), LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let pids = read_pids(&pids);
    assert_eq!(pids.len(), 2, "fixture did not start: {}", r.all());
    for pid in &pids {
        let gone = wait_for(Duration::from_secs(2), || !alive(*pid));
        if !gone {
            kill(*pid);
        }
        assert!(gone, "process {pid} survived the timeout");
    }
    assert!(sb
        .metric_pairs()
        .contains(&("gateway_restart".into(), "timeout".into())));
    assert!(
        sb.log()
            .contains("timed out; it and its children were killed"),
        "{}",
        sb.log()
    );
    assert!(r.elapsed < Duration::from_secs(5), "took {:?}", r.elapsed);
}

#[test]
fn hung_restart_command_and_its_child_are_killed_at_the_timeout() {
    hung_restart_is_killed_with_its_child("");
}

#[test]
fn hung_restart_that_ignores_sigterm_is_killed_too() {
    hung_restart_is_killed_with_its_child("ignore-term");
}

#[test]
fn failing_restart_is_recorded_with_its_output_and_no_secret() {
    let sb = Sandbox::new("fail");
    let url = down_url();
    let key = "sk-ant-SECRET-0123456789";
    let mut sets = fast(&url);
    sets.push("HEALTH_CHECK_MAX_RETRIES=2".into());
    // The key in the command line too: the "running …" log line must not show it.
    sets.push(format!(
        "SELFHEAL_RESTART_CMD={} --key={key}",
        fixture("fail.sh")
    ));
    let mut cmd = with_sets(&sb, &sets, &[], &["check"]);
    cmd.env("ANTHROPIC_API_KEY", key);
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1));
    let pairs = sb.metric_pairs();
    let restarts: Vec<_> = pairs
        .iter()
        .filter(|(m, _)| m == "gateway_restart")
        .collect();
    assert_eq!(restarts.len(), 2, "{pairs:?}");
    assert!(restarts.iter().all(|(_, r)| r == "failed"));
    assert_eq!(pairs.last(), Some(&("recovery".into(), "failed".into())));
    let log = sb.log();
    assert!(
        log.contains("exited 3") && log.contains("permission denied"),
        "{log}"
    );
    assert!(
        !log.contains(key) && !r.all().contains(key),
        "secret leaked: {log}"
    );
    assert!(log.contains("<redacted>"), "{log}");
    assert!(
        log.contains("level 3 cannot start: agent `/nonexistent/claude` not found")
            || log.contains("level 3 cannot start: tmux not found"),
        "{log}"
    );
}

#[test]
fn repair_command_runs_once_after_the_first_failed_attempt() {
    let sb = Sandbox::new("repair");
    let url = down_url();
    let marker = sb.root.join("repaired");
    let mut sets = fast(&url);
    sets.push("HEALTH_CHECK_MAX_RETRIES=3".into());
    sets.push(format!(
        "SELFHEAL_REPAIR_CMD={} {}",
        fixture("touch.sh"),
        marker.display()
    ));
    let r = run(with_sets(&sb, &sets, &[], &["check"]), LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(marker.exists());
    assert_eq!(
        sb.log().matches("running the repair command").count(),
        1,
        "{}",
        sb.log()
    );
}

#[test]
fn escalation_wait_notices_a_service_that_comes_back_by_itself() {
    let sb = Sandbox::new("selfheal");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let mut sets = fast(&url);
    sets.push("HEALTH_CHECK_ESCALATION_WAIT=20".into());
    let starter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(1500));
        Server::start_on(port, Behaviour::Reply(200, "ok".into()))
    });
    let r = run(with_sets(&sb, &sets, &[], &["check"]), LIMIT);
    let _srv = starter.join().expect("server");
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.elapsed < Duration::from_secs(6), "took {:?}", r.elapsed);
    assert_eq!(
        sb.metric_pairs().iter().rfind(|(m, _)| m == "recovery"),
        Some(&("recovery".into(), "self_healed".into()))
    );
}

#[test]
fn unhealthy_kinds_are_detected_within_the_timeout_with_their_reason() {
    let hang = Server::start(Behaviour::Hang);
    let s503 = Server::start(Behaviour::Reply(503, "down".into()));
    let wrong = Server::start(Behaviour::Reply(200, "{\"ok\":false}".into()));
    let trickle = Server::start(Behaviour::Trickle);
    let closed = Server::start(Behaviour::Close);
    let refused = down_url();
    let cases = [
        (hang.url(), "timeout after 1s"),
        (s503.url(), "status 503"),
        (refused, "connection refused"),
        (wrong.url(), "body lacks"),
        (trickle.url(), "timeout after 1s"),
        (closed.url(), "connection "),
    ];
    for (url, reason) in cases {
        let sb = Sandbox::new("kinds");
        let mut sets = fast(&url);
        sets.push("HEALTH_CHECK_MAX_RETRIES=0".into());
        sets.push("SELFHEAL_EXPECT_BODY=\"ok\":true".into());
        let r = run(with_sets(&sb, &sets, &[], &["check"]), LIMIT);
        assert_eq!(r.code, Some(1), "{url}: {}", r.all());
        assert!(
            sb.log().contains(reason),
            "{url}: want {reason:?} in {}",
            sb.log()
        );
        let r = run(with_sets(&sb, &sets, &[], &["probe"]), LIMIT);
        assert_eq!(r.code, Some(1));
        assert!(r.stdout.contains(reason), "probe {url}: {}", r.stdout);
        // HEALTH_CHECK_HTTP_TIMEOUT (1 s), and time to start on a busy
        // machine; a probe that did not honour it would take LIMIT.
        assert!(
            r.elapsed < Duration::from_secs(5),
            "probe {url} took {:?}",
            r.elapsed
        );
    }
}

#[test]
fn huge_and_binary_bodies_are_capped_and_harmless() {
    for b in [Behaviour::Huge, Behaviour::Binary] {
        let srv = Server::start(b);
        let sb = Sandbox::new("body");
        let r = run(
            with_sets(&sb, &fast(&srv.url()), &[], &["probe", "--json"]),
            LIMIT,
        );
        assert_eq!(r.code, Some(0), "{}", r.all());
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
        assert_eq!(v["status"], "200");
        assert_eq!(v["healthy"], true);
    }
}

/// A bare HTTP/1.1 server on [::1], answering `n` requests.
fn ipv6_server(n: usize) -> Option<u16> {
    let l6 = std::net::TcpListener::bind("[::1]:0").ok()?;
    let port = l6.local_addr().ok()?.port();
    thread::spawn(move || {
        use std::io::{Read, Write};
        for mut s in l6.incoming().flatten().take(n) {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    Some(port)
}

#[test]
fn localhost_works_on_ipv4_and_ipv6() {
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let sb = Sandbox::new("localhost");
    let url = format!("http://localhost:{}/", srv.port);
    let r = run(with_sets(&sb, &fast(&url), &[], &["probe"]), LIMIT);
    assert_eq!(r.code, Some(0), "v4: {}", r.all());
    let Some(port) = ipv6_server(2) else {
        eprintln!("no IPv6 loopback on this host; skipping the ::1 half");
        return;
    };
    let url = format!("http://[::1]:{port}/");
    let r = run(with_sets(&sb, &fast(&url), &[], &["probe"]), LIMIT);
    assert_eq!(r.code, Some(0), "[::1]: {}", r.all());
    // `localhost` means both loopbacks, whatever /etc/hosts says (RFC 6761):
    // a service on ::1 only is found through the name too.
    let url = format!("http://localhost:{port}/");
    let r = run(with_sets(&sb, &fast(&url), &[], &["probe"]), LIMIT);
    assert_eq!(r.code, Some(0), "localhost→::1: {}", r.all());
}

#[test]
fn proxy_variables_are_ignored_for_loopback() {
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let sb = Sandbox::new("proxy");
    let dead = format!("http://127.0.0.1:{}", dead_port());
    let mut cmd = with_sets(&sb, &fast(&srv.url()), &[], &["probe"]);
    cmd.env("HTTP_PROXY", &dead)
        .env("http_proxy", &dead)
        .env("ALL_PROXY", &dead);
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
}

/// A `check` that is inside a restart command that hangs (with a child of
/// its own): the child process, the pid file of the command and its child,
/// and the settings used.
fn check_in_a_hung_restart(sb: &Sandbox) -> (std::process::Child, std::path::PathBuf, Vec<String>) {
    let pids = sb.root.join("pids");
    let url = down_url();
    let mut sets = fast(&url);
    sets.push("SELFHEAL_RESTART_TIMEOUT=20".into());
    sets.push(restart_set("hang-with-child.sh", pids.display()));
    let child = with_sets(sb, &sets, &[], &["check"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    assert!(
        wait_for(Duration::from_secs(10), || read_pids(&pids).len() == 2),
        "the run did not reach its restart command"
    );
    (child, pids, sets)
}

#[test]
fn a_second_run_is_skipped_and_kill_9_leaves_no_lock() {
    let sb = Sandbox::new("lock");
    let (mut first, pids, sets) = check_in_a_hung_restart(&sb);
    let url = down_url();
    let second = run(with_sets(&sb, &sets, &[], &["check"]), LIMIT);
    assert_eq!(second.code, Some(0));
    assert!(
        second
            .stdout
            .contains("skipped: another run holds the lock"),
        "{}",
        second.all()
    );
    assert!(
        // Not the first run's time (its restart hangs for 20 s): it does
        // not wait for the lock.
        second.elapsed < Duration::from_secs(5),
        "skip took {:?}",
        second.elapsed
    );
    assert!(
        first.try_wait().expect("wait").is_none(),
        "first run should still be working"
    );
    first.kill().expect("kill -9");
    first.wait().expect("reap");
    for pid in read_pids(&pids) {
        kill(pid);
    }
    let third = run(with_sets(&sb, &fast(&url), &[], &["check"]), LIMIT);
    assert_eq!(third.code, Some(1), "{}", third.all());
    assert!(!third.stdout.contains("skipped"), "{}", third.all());
}

#[test]
fn a_daemon_left_by_the_restart_command_keeps_running_and_holds_no_lock() {
    let sb = Sandbox::new("daemon");
    let pids = sb.root.join("pids");
    let url = down_url();
    let mut sets = fast(&url);
    sets.push(restart_set("daemon.sh", pids.display()));
    let r = run(with_sets(&sb, &sets, &[], &["check"]), LIMIT);
    assert_eq!(r.code, Some(1));
    let daemon = read_pids(&pids);
    assert_eq!(daemon.len(), 1);
    assert!(alive(daemon[0]), "the daemon was killed");
    let again = run(with_sets(&sb, &fast(&url), &[], &["check"]), LIMIT);
    kill(daemon[0]);
    assert!(
        !again.stdout.contains("skipped"),
        "the daemon inherited the lock: {}",
        again.all()
    );
}

#[test]
fn sigterm_mid_restart_kills_the_command_and_says_interrupted() {
    let sb = Sandbox::new("sigterm");
    let (mut child, pids, _) = check_in_a_hung_restart(&sb);
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(128 + 15));
    for pid in read_pids(&pids) {
        let gone = wait_for(Duration::from_secs(3), || !alive(pid));
        if !gone {
            kill(pid);
        }
        assert!(gone, "{pid} survived");
    }
    assert!(
        sb.log().contains("interrupted by signal 15"),
        "{}",
        sb.log()
    );
}

#[test]
fn dry_run_runs_nothing_and_writes_nothing() {
    let sb = Sandbox::new("dry");
    let marker = sb.root.join("ran");
    let url = down_url();
    let mut sets = fast(&url);
    sets.push(restart_set("touch.sh", marker.display()));
    let r = run(with_sets(&sb, &sets, &[], &["--dry-run", "check"]), LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(r.stdout.contains("would run: "), "{}", r.stdout);
    assert!(r.stdout.contains("touch.sh"), "{}", r.stdout);
    assert!(!marker.exists(), "dry run ran the restart command");
    assert!(!sb.memory().exists(), "dry run created the tool directory");
}

#[test]
fn nothing_goes_to_tmp_and_a_private_directory_there_is_fine() {
    let sb = Sandbox::new("tmp");
    let url = down_url();
    let r = run(with_sets(&sb, &fast(&url), &[], &["check"]), LIMIT);
    assert_eq!(r.code, Some(1));
    let tmp: Vec<_> = std::fs::read_dir(sb.home.join("tmp"))
        .expect("tmp")
        .flatten()
        .collect();
    assert!(tmp.is_empty(), "files in TMPDIR: {tmp:?}");
    // Under a sticky world-writable parent, a directory of one's own (0700)
    // is as safe as anywhere.
    let private = format!("/tmp/selfheal-test-{}", std::process::id());
    let _ = std::fs::remove_dir_all(&private);
    let set = format!("OPENCLAW_MEMORY_DIR={private}/memory");
    let r = run(with_sets(&sb, &fast(&url), &[&set], &["check"]), LIMIT);
    let mode = std::fs::metadata(&private).map(|m| m.permissions().mode() & 0o777);
    let _ = std::fs::remove_dir_all(&private);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert_eq!(mode.ok(), Some(0o700));
}

#[test]
fn a_tool_directory_or_file_that_others_can_write_is_refused() {
    let sb = Sandbox::new("strict");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let check = || {
        let mut cmd = sb.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", srv.url());
        run(cmd, LIMIT)
    };
    assert_eq!(check().code, Some(0));
    let memory = sb.memory();
    let chmod = |p: &Path, mode| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    // The directory itself.
    chmod(&memory, 0o777);
    let r = check();
    assert_eq!(r.code, Some(3), "{}", r.all());
    assert!(r.stderr.contains("chmod 700"), "{}", r.stderr);
    chmod(&memory, 0o700);
    // A parent that others can write (not sticky): they could swap the directory.
    let parent = memory.parent().expect("parent").to_path_buf();
    let before = std::fs::metadata(&parent)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    chmod(&parent, 0o777);
    let r = check();
    chmod(&parent, before);
    assert_eq!(r.code, Some(3), "{}", r.all());
    assert!(r.stderr.contains("chmod go-w"), "{}", r.stderr);
    assert_eq!(check().code, Some(0));
    // A file of it that others can write, or with a second name.
    let metrics = memory.join(".healthcheck-metrics.json");
    chmod(&metrics, 0o666);
    let r = check();
    assert_eq!(r.code, Some(3), "{}", r.all());
    assert!(r.stderr.contains("writable by others"), "{}", r.stderr);
    chmod(&metrics, 0o600);
    let elsewhere = sb.root.join("elsewhere");
    std::fs::hard_link(&metrics, &elsewhere).expect("link");
    let r = check();
    assert_eq!(r.code, Some(3), "{}", r.all());
    assert!(r.stderr.contains("hard links"), "{}", r.stderr);
    std::fs::remove_file(&elsewhere).expect("rm");
    // A state file of another user (only root can make one here).
    let state = memory.join(".selfheal-state.json");
    std::fs::write(&state, "{}").expect("state");
    chmod(&state, 0o600);
    if std::os::unix::fs::chown(&state, Some(65534), None).is_ok() {
        let r = check();
        assert_eq!(r.code, Some(3), "{}", r.all());
        assert!(r.stderr.contains("owned by uid 65534"), "{}", r.stderr);
    }
}

#[test]
fn a_symlink_planted_at_the_lock_is_refused() {
    let sb = Sandbox::new("symlink");
    std::fs::create_dir_all(sb.memory()).expect("mkdir");
    let victim = sb.root.join("victim");
    std::fs::write(&victim, "precious").expect("write");
    std::os::unix::fs::symlink(&victim, sb.memory().join(".selfheal.lock")).expect("symlink");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let r = run(with_sets(&sb, &fast(&srv.url()), &[], &["check"]), LIMIT);
    assert_eq!(r.code, Some(3), "{}", r.all());
    assert!(r.stderr.contains("symlink"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&victim).ok().as_deref(),
        Some("precious")
    );
}

#[test]
fn rotation_deletes_only_old_logs_of_this_tool() {
    let sb = Sandbox::new("rotate");
    let dir = sb.memory();
    std::fs::create_dir_all(&dir).expect("mkdir");
    let day = 86400;
    let files = [
        ("healthcheck-2026-01-01.log", 15 * day, false),
        ("healthcheck-2026-01-03.log", 13 * day, true),
        ("emergency-recovery-2026-01-01-010203.log", 20 * day, false),
        ("claude-session-2026-01-01-010203.log", 20 * day, false),
        (
            "emergency-recovery-report-2026-01-01-010203.md",
            30 * day,
            true,
        ),
        ("my-notes.log", 30 * day, true),
        (".healthcheck-metrics.json", 30 * day, true),
        ("recovery-learnings.md", 30 * day, true),
    ];
    let now = std::time::SystemTime::now();
    for (name, age, _) in files {
        let f = std::fs::File::create(dir.join(name)).expect("create");
        f.set_modified(now - Duration::from_secs(age))
            .expect("mtime");
    }
    let r = run(sb.cmd(&["-n", "rotate"]), LIMIT);
    assert!(r.stdout.contains("would delete"), "{}", r.stdout);
    assert!(
        dir.join("healthcheck-2026-01-01.log").exists(),
        "dry run deleted"
    );
    let r = run(sb.cmd(&["rotate"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    for (name, _, kept) in files {
        assert_eq!(dir.join(name).exists(), kept, "{name}");
    }
}

#[test]
fn the_seeds_jq_query_counts_each_incident_once() {
    let sb = Sandbox::new("jq");
    let down = down_url();
    for _ in 0..2 {
        assert_eq!(
            run(with_sets(&sb, &fast(&down), &[], &["check"]), LIMIT).code,
            Some(1)
        );
    }
    let port = free_port();
    let marker = sb.root.join("restarted");
    let mut sets = fast(&format!("http://127.0.0.1:{port}/"));
    sets.push("HEALTH_CHECK_RETRY_DELAY=10".into());
    sets.push(restart_set("touch.sh", marker.display()));
    let m2 = marker.clone();
    let starter = thread::spawn(move || {
        assert!(wait_for(Duration::from_secs(20), || m2.exists()));
        Server::start_on(port, Behaviour::Reply(200, "ok".into()))
    });
    assert_eq!(
        run(with_sets(&sb, &sets, &[], &["check"]), LIMIT).code,
        Some(0)
    );
    let _srv = starter.join().expect("server");
    assert_eq!(
        run(with_sets(&sb, &sets, &[], &["check"]), LIMIT).code,
        Some(0),
        "healthy run"
    );

    let query = r#"[.[] | select(.metric=="recovery")] | group_by(.result) | map({result: .[0].result, count: length})"#;
    require_tool("jq", "apt-get install jq / brew install jq");
    let out = std::process::Command::new("jq")
        .args(["-s", "-c", query])
        .arg(sb.memory().join(".healthcheck-metrics.json"))
        .output()
        .expect("jq is needed for this test (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"[{"result":"failed","count":2},{"result":"success","count":1}]"#
    );
}
