//! The fault matrix: each case a real process set-up on loopback; for each,
//! the exit code per SPEC, a clear log line, no panic, nothing lost, and the
//! run inside its budget.

use crate::common::*;
use selfheal::channel::Channel;
use selfheal::kind::{Kind, Severity};
use selfheal::state::{Incident, Queued, Running, State, Step};
use std::process::Command;
use std::time::Duration;

/// A failing service, level 2 fast, level 3 off.
fn failing(sb: &Sandbox, restart: &str) -> Command {
    let mut cmd = sb.failing_check();
    cmd.env("SELFHEAL_RESTART_CMD", restart);
    cmd
}

#[test]
fn a_missing_restart_command_is_a_clear_failure() {
    let sb = Sandbox::new("f-missing");
    let r = run(failing(&sb, "/nonexistent/openclaw gateway restart"), LIMIT);
    assert_eq!(r.code, Some(1));
    let log = sb.log();
    assert!(log.contains("restart command: command not found"), "{log}");
    assert!(
        log.contains("set SELFHEAL_RESTART_CMD to an absolute path"),
        "{log}"
    );
    assert!(sb
        .metric_pairs()
        .contains(&("gateway_restart".into(), "failed".into())));
}

#[test]
fn a_webhook_that_closes_the_connection_is_queued_not_lost() {
    let sb = Sandbox::new("f-closed");
    // The sink reads the request, then the "server" drops it: a Close answer.
    let closed = Server::start(Behaviour::Close);
    let mut cmd = failing(&sb, &fixture("fail.sh"));
    cmd.env("SELFHEAL_WEBHOOK_URL", format!("{}hook", closed.url()));
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(r.elapsed < Duration::from_secs(8), "{:?}", r.elapsed);
    assert!(sb.log().contains("queued for the next run"), "{}", sb.log());
    let state = std::fs::read_to_string(sb.memory().join(".selfheal-state.json")).expect("state");
    assert!(state.contains("\"channel\": \"webhook\""), "{state}");
}

#[test]
fn a_tool_directory_that_cannot_be_made_is_exit_3() {
    let sb = Sandbox::new("f-dir");
    let file = sb.root.join("a-file");
    std::fs::write(&file, "x").expect("write");
    let mut cmd = sb.cmd(&["check"]);
    cmd.env("OPENCLAW_MEMORY_DIR", file.join("memory"));
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(3), "{}", r.all());
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("cannot create directory"), "{}", r.stderr);
}

#[test]
fn symlinks_planted_at_the_log_state_or_metrics_never_redirect_writes() {
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let today = time_today();
    for (name, expect_code) in [
        (format!("healthcheck-{today}.log"), 3),
        (".selfheal-state.json".to_string(), 0),
        (".healthcheck-metrics.json".to_string(), 0),
    ] {
        let sb = Sandbox::new("f-link");
        std::fs::create_dir_all(sb.memory()).expect("mkdir");
        let victim = sb.root.join("victim");
        std::fs::write(&victim, "precious\n").expect("victim");
        std::os::unix::fs::symlink(&victim, sb.memory().join(&name)).expect("link");
        let mut cmd = sb.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
            .env("SELFHEAL_PROM_FILE", sb.root.join("x.prom"));
        let r = run(cmd, LIMIT);
        assert_eq!(r.code, Some(expect_code), "{name}: {}", r.all());
        assert_eq!(
            std::fs::read_to_string(&victim).ok().as_deref(),
            Some("precious\n"),
            "{name} was followed"
        );
        if expect_code == 0 {
            assert!(
                r.all().contains("symlink"),
                "{name}: no word of the symlink: {}",
                r.all()
            );
        }
    }
}

fn time_today() -> String {
    let out = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn corrupt_empty_and_future_state_is_survived() {
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    for (label, content) in [
        ("corrupt", "{\"incident\": {\"started\": "),
        ("empty", ""),
        ("binary", "\u{0}\u{1}\u{2}"),
        ("future", "{\"incident\": {\"started\": 99999999999, \"alerted\": [\"failed\"]}, \"agent_cooldown_until\": 99999999999}"),
        ("extreme", "{\"incident\": {\"started\": -9223372036854775808, \"last_alert\": 9223372036854775807}, \"running\": {\"step\": \"x\", \"pid\": 1, \"since\": -9223372036854775808}, \"agent_cooldown_until\": -9223372036854775808}"),
    ] {
        let sb = Sandbox::new("f-state");
        std::fs::create_dir_all(sb.memory()).expect("mkdir");
        std::fs::write(sb.memory().join(".selfheal-state.json"), content).expect("state");
        let sink = Sink::start(vec![Answer::ok()]);
        let mut cmd = sb.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", srv.url()).env("SELFHEAL_WEBHOOK_URL", sink.url("/h"));
        let r = run(cmd, LIMIT);
        assert_eq!(r.code, Some(0), "{label}: {}", r.all());
        if label == "extreme" {
            continue;
        }
        if label != "future" {
            assert!(r.stdout.contains("corrupt"), "{label}: {}", r.stdout);
        } else {
            // An incident from the future is taken as begun now: closed with a
            // downtime no longer than this run (the clock may tick during it
            // on a busy machine), never negative, never years.
            let text = sink.received().first().map(|r| r.json()["text"].as_str().unwrap_or("").to_string()).unwrap_or_default();
            let down = text
                .lines()
                .find_map(|l| l.strip_prefix("Down for: "))
                .and_then(|d| d.strip_suffix('s'))
                .and_then(|d| d.parse::<u64>().ok());
            assert!(
                down.is_some_and(|d| d <= r.elapsed.as_secs() + 1),
                "took {:?}: {text}",
                r.elapsed
            );
        }
    }
}

#[test]
fn a_cooldown_from_the_future_does_not_hold_level_3_for_years() {
    let sb = Sandbox::new("f-cooldown");
    std::fs::create_dir_all(sb.memory()).expect("mkdir");
    // As if the clock had jumped back: the cooldown ends in 3000 years.
    std::fs::write(
        sb.memory().join(".selfheal-state.json"),
        "{\"agent_cooldown_until\": 99999999999}",
    )
    .expect("state");
    let mut cmd = failing(&sb, &fixture("fail.sh"));
    cmd.env("SELFHEAL_AGENT_CMD", "/nonexistent/claude")
        .env("SELFHEAL_AGENT_COOLDOWN", "60");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1));
    // At most SELFHEAL_AGENT_COOLDOWN from now: "another 1m00s", not years.
    // (The run itself may take seconds on a busy machine.)
    let log = sb.log();
    let left = log
        .split("no agent is started for another ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|n| n.parse::<u64>().ok());
    assert!(
        left.is_some_and(|n| n <= 60 && n + r.elapsed.as_secs() + 1 >= 60),
        "{log}"
    );
}

#[test]
fn fifty_concurrent_checks_do_the_work_once() {
    let sb = Sandbox::new("f-fifty");
    let record = sb.root.join("restarts");
    // A restart command that takes a while and notes each execution.
    let script = sb.root.join("slow-restart.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho run >> '{}'\nsleep 2\n", record.display()),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let script = script.display().to_string();
    let children: Vec<_> = (0..50)
        .map(|_| {
            failing(&sb, &script)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut skipped = 0;
    let mut worked = 0;
    for c in children {
        let out = c.wait_with_output().expect("wait");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
        if text.contains("skipped: another run holds the lock") {
            assert_eq!(out.status.code(), Some(0));
            skipped += 1;
        } else {
            assert_eq!(out.status.code(), Some(1), "{text}");
            worked += 1;
        }
    }
    let runs = std::fs::read_to_string(&record)
        .unwrap_or_default()
        .lines()
        .count();
    // The runs that started after the worker finished (none should: 2 s of work).
    assert_eq!((worked, runs), (1, 1), "{skipped} skipped");
}

#[test]
fn ten_thousand_concurrent_appends_stay_valid_json_lines() {
    let sb = Sandbox::new("f-appends");
    let sinks: Vec<Sink> = (0..5).map(|_| Sink::start(vec![Answer::ok()])).collect();
    let urls = [
        ("DISCORD_WEBHOOK_URL", sinks[0].url("/d")),
        ("SLACK_WEBHOOK_URL", sinks[1].url("/s")),
        ("NTFY_URL", sinks[2].url("/n")),
        ("SELFHEAL_WEBHOOK_URL", sinks[3].url("/w")),
        ("SELFHEAL_TELEGRAM_API", sinks[4].url("")),
    ];
    let procs = 2000;
    let mut done = 0;
    while done < procs {
        let batch: Vec<_> = (0..40)
            .map(|_| {
                let mut cmd = sb.cmd(&["--quiet", "notify", "load"]);
                for (k, v) in &urls {
                    cmd.env(k, v);
                }
                cmd.env("TELEGRAM_BOT_TOKEN", "1:x")
                    .env("TELEGRAM_CHAT_ID", "1");
                cmd.stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for mut c in batch {
            assert_eq!(c.wait().expect("wait").code(), Some(0));
        }
        done += 40;
    }
    let text =
        std::fs::read_to_string(sb.memory().join(".healthcheck-metrics.json")).expect("metrics");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), procs * 5);
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert_eq!(v["metric"], "alert");
    }
}

#[test]
fn an_out_of_range_port_is_refused_not_probed_on_port_80() {
    let sb = Sandbox::new("f-port");
    let mut cmd = sb.cmd(&["probe"]);
    cmd.env("OPENCLAW_GATEWAY_URL", "http://127.0.0.1:99999/");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("port out of range"), "{}", r.stderr);
    let ipv6 = {
        let mut cmd = sb.cmd(&["probe"]);
        cmd.env(
            "OPENCLAW_GATEWAY_URL",
            format!("http://[::1]:{}/", dead_port()),
        );
        run(cmd, LIMIT)
    };
    assert_eq!(
        ipv6.code,
        Some(1),
        "an IPv6 literal is not a bad port: {}",
        ipv6.all()
    );
}

#[test]
fn a_last_alert_in_the_future_does_not_silence_reminders() {
    let sb = Sandbox::new("f-future-alert");
    let sink = Sink::start(vec![Answer::ok()]);
    let now = unix_now() as i64;
    sb.save_state(&State {
        incident: Some(Incident {
            started: now - 60,
            alerted: vec![Kind::Failed],
            last_alert: Some(now + 10 * 365 * 86400),
            ..Incident::default()
        }),
        ..State::default()
    });
    let check = || {
        let mut cmd = failing(&sb, &fixture("fail.sh"));
        cmd.env("SELFHEAL_CONFIRM_PROBES", "0")
            .env("SELFHEAL_ALERT_REPEAT", "1")
            .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
        run(cmd, LIMIT)
    };
    assert_eq!(check().code, Some(1));
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(check().code, Some(1));
    let kinds: Vec<String> = sink
        .received()
        .iter()
        .map(|r| r.json()["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(kinds.contains(&"reminder".to_string()), "{kinds:?}");
}

#[test]
fn a_fifo_at_any_of_its_files_never_hangs_a_check() {
    let today = String::from_utf8(
        Command::new("date")
            .args(["-u", "+%F"])
            .output()
            .expect("date")
            .stdout,
    )
    .expect("utf8")
    .trim()
    .to_string();
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let log = format!("healthcheck-{today}.log");
    for (file, code) in [
        (log.as_str(), 3),
        (".selfheal-state.json", 0),
        (".healthcheck-metrics.json", 0),
        (".selfheal-pause", 0),
    ] {
        let sb = Sandbox::new("f-fifo");
        std::fs::create_dir_all(sb.memory()).expect("mkdir");
        let fifo = sb.memory().join(file);
        let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(made.success());
        let mut cmd = sb.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", srv.url()).env("TZ", "UTC");
        let r = run(cmd, Duration::from_secs(10));
        assert_eq!(r.code, Some(code), "{file}: {}", r.all());
        if code == 3 {
            assert!(r.stderr.contains(file), "{file} not named: {}", r.stderr);
        }
    }
}

#[test]
fn a_restart_command_that_does_not_exist_skips_the_waits() {
    let sb = Sandbox::new("f-notfound-fast");
    let mut cmd = failing(&sb, "/nonexistent/openclaw gateway restart");
    cmd.env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("HEALTH_CHECK_MAX_RETRIES", "3")
        .env("HEALTH_CHECK_RETRY_DELAY", "30")
        .env("HEALTH_CHECK_ESCALATION_WAIT", "300");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(
        r.elapsed < Duration::from_secs(10),
        "waited {:?}",
        r.elapsed
    );
    let log = sb.log();
    assert_eq!(log.matches("PATH=").count(), 1, "{log}");
    assert!(log.contains("the restart command cannot run"), "{log}");
}

#[test]
fn an_incident_of_another_url_is_not_resolved_by_this_one() {
    let sb = Sandbox::new("f-other-url");
    let sink = Sink::start(vec![Answer::ok()]);
    let mut down = failing(&sb, &fixture("fail.sh"));
    down.env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
    assert_eq!(run(down, LIMIT).code, Some(1));
    assert_eq!(sink.received().len(), 1, "the failure pages once");
    let other = Server::start(Behaviour::Reply(200, "ok".into()));
    let mut up = sb.cmd(&["check"]);
    up.env("OPENCLAW_GATEWAY_URL", other.url())
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
    assert_eq!(run(up, LIMIT).code, Some(0));
    assert_eq!(
        sink.received().len(),
        1,
        "a healthy other service resolved the first one's incident"
    );
    assert!(
        sb.log().contains("no longer the service watched"),
        "{}",
        sb.log()
    );
}

#[test]
fn a_run_stopped_by_ctrl_c_is_not_paged_as_a_run_that_died() {
    let sb = Sandbox::new("f-sigint");
    let sink = Sink::start(vec![Answer::ok()]);
    let pids = sb.root.join("pids");
    let mut cmd = failing(
        &sb,
        &format!("{} {}", fixture("hang-with-child.sh"), pids.display()),
    );
    cmd.env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_RESTART_TIMEOUT", "20")
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("spawn");
    assert!(wait_for(Duration::from_secs(10), || read_pids(&pids).len() == 2));
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(128 + 2));
    for pid in read_pids(&pids) {
        kill(pid);
    }
    let mut again = failing(&sb, &fixture("fail.sh"));
    again
        .env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
    assert_eq!(run(again, LIMIT).code, Some(1));
    let kinds: Vec<String> = sink
        .received()
        .iter()
        .map(|r| r.json()["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(kinds, ["failed"], "Ctrl-C paged as a death: {kinds:?}");
}

#[test]
fn an_outage_that_began_before_any_channel_pages_once_one_is_added() {
    let sb = Sandbox::new("f-late-channel");
    let mut nobody = failing(&sb, &fixture("fail.sh"));
    nobody.env("SELFHEAL_CONFIRM_PROBES", "0");
    assert_eq!(run(nobody, LIMIT).code, Some(1));
    assert!(sb.log().contains("nobody was told"), "{}", sb.log());
    let sink = Sink::start(vec![Answer::ok()]);
    let mut told = failing(&sb, &fixture("fail.sh"));
    told.env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
    assert_eq!(run(told, LIMIT).code, Some(1));
    let kinds: Vec<String> = sink
        .received()
        .iter()
        .map(|r| r.json()["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(kinds, ["failed"], "the added channel was not paged");
    assert!(
        sb.log().contains("alert [failed] to webhook (") && sb.log().contains("): delivered"),
        "{}",
        sb.log()
    );
}

#[test]
fn credentials_in_the_service_url_never_leave() {
    let sb = Sandbox::new("f-url-creds");
    let sink = Sink::start(vec![Answer::ok()]);
    let port = sb
        .down
        .rsplit(':')
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    let url = format!("http://admin:PassW0rd-9@127.0.0.1:{port}/health?token=TOKEN-123456");
    let mut cmd = failing(&sb, &format!("{} {url}", fixture("echo-fail.sh")));
    cmd.env("OPENCLAW_GATEWAY_URL", &url)
        .env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let mut all = r.all();
    all.push_str(&sb.log());
    for e in std::fs::read_dir(sb.memory()).expect("dir").flatten() {
        all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
    }
    for req in sink.received() {
        all.push_str(&req.text());
    }
    assert!(sink.received().len() == 1, "the alert went out");
    for args in [&["--dry-run", "check"][..], &["doctor"]] {
        let mut cmd = sb.cmd(args);
        cmd.env("OPENCLAW_GATEWAY_URL", &url).env(
            "SELFHEAL_RESTART_CMD",
            format!("{} {url}", fixture("echo-fail.sh")),
        );
        all.push_str(&run(cmd, LIMIT).all());
    }
    for secret in ["PassW0rd-9", "TOKEN-123456"] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}

#[test]
fn secret_values_never_appear_in_error_messages_or_warnings() {
    let sb = Sandbox::new("secret-errors");
    // A malformed line of ours (exit 2), and one of OpenClaw's own (a warning
    // on every run): neither prints the value.
    for (text, secret) in [
        (
            "DISCORD_WEBHOOK_URL=\"https://discord.com/api/webhooks/1/TOKENAAAA111\"x\n",
            "TOKENAAAA111",
        ),
        (
            "ANTHROPIC_AUTH_TOKEN=\"sk-ant-oat01-SECRETBBBB222\"x\nSELFHEAL_AGENT_CMD=\n",
            "SECRETBBBB222",
        ),
    ] {
        sb.env_file(text);
        let r = run(sb.cmd(&["probe"]), Duration::from_secs(20));
        assert!(!r.all().contains(secret), "{secret} shown: {}", r.all());
        assert!(
            r.all().contains("closing"),
            "the problem is still named: {}",
            r.all()
        );
    }
    let _ = std::fs::remove_file(sb.home.join(".openclaw/.env"));
    let mut cmd = sb.cmd(&["probe"]);
    cmd.env(
        "OPENCLAW_GATEWAY_URL",
        "http://admin:PASSW0RDCCC@127.0.0.1:99999/",
    );
    let r = run(cmd, Duration::from_secs(20));
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(!r.all().contains("PASSW0RDCCC"), "{}", r.all());
    assert!(r.all().contains("port out of range"), "{}", r.all());
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A failed-kind alert queued for `channel` now.
fn queued(channel: &str, title: &str) -> Queued {
    Queued {
        created: unix_now() as i64,
        channel: Channel::from_name(channel).expect("a channel"),
        kind: Kind::Failed,
        severity: Severity::Error,
        title: title.into(),
        text: "x".into(),
        attempts: 0,
    }
}

/// The same, as the state file keeps it (for files made wrong on purpose).
fn queued_json(channel: &str, title: &str) -> String {
    serde_json::to_string(&queued(channel, title)).expect("json")
}

fn kinds_at(sink: &Sink, path: &str) -> Vec<String> {
    sink.received()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.json()["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

fn count_at(sink: &Sink, path: &str) -> usize {
    sink.received().iter().filter(|r| r.path == path).count()
}

#[test]
fn a_bad_env_line_still_logs_pings_fail_and_alerts_once() {
    let sb = Sandbox::new("f-bad-env");
    let sink = Sink::start(vec![Answer::ok()]);
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let good = format!(
        "OPENCLAW_GATEWAY_URL={}\nSELFHEAL_WEBHOOK_URL={}\nSELFHEAL_HEARTBEAT_URL={}\n",
        srv.url(),
        sink.url("/hook"),
        sink.url("/ping")
    );
    sb.env_file(&format!("{good}HEALTH_CHECK_HTTP_TIMEOUT=abc\n"));
    for _ in 0..2 {
        let r = run(sb.cmd(&["check"]), LIMIT);
        assert_eq!(r.code, Some(2), "{}", r.all());
        assert!(
            r.stderr.contains("HEALTH_CHECK_HTTP_TIMEOUT"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(kinds_at(&sink, "/hook"), ["cannot_run"], "once per cause");
    assert_eq!(count_at(&sink, "/ping/fail"), 2, "every run pings /fail");
    let alert = sink.received().into_iter().find(|r| r.path == "/hook");
    let text = alert.map(|r| r.text()).unwrap_or_default();
    assert!(
        text.contains("HEALTH_CHECK_HTTP_TIMEOUT") && text.contains(".env:4"),
        "{text}"
    );
    assert!(sb.log().contains("selfheal cannot run"), "{}", sb.log());
    let r = run(sb.cmd(&["doctor"]), LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(
        r.stdout
            .contains("✗ configuration: invalid HEALTH_CHECK_HTTP_TIMEOUT"),
        "{}",
        r.stdout
    );
    // Another cause is told too; then the fixed file runs again.
    sb.env_file(&format!("{good}HEALTH_CHECK_MAX_RETRIES=many\n"));
    assert_eq!(run(sb.cmd(&["check"]), LIMIT).code, Some(2));
    sb.env_file(&good);
    let r = run(sb.cmd(&["check"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(
        kinds_at(&sink, "/hook"),
        ["cannot_run", "cannot_run", "runs_again"]
    );
    assert_eq!(count_at(&sink, "/ping"), 1);
    assert_eq!(run(sb.cmd(&["check"]), LIMIT).code, Some(0));
    assert_eq!(kinds_at(&sink, "/hook").len(), 3, "runs_again once");
}

#[test]
fn a_check_that_cannot_use_its_directory_still_tells_once() {
    let sb = Sandbox::new("f-exit3");
    let sink = Sink::start(vec![Answer::ok()]);
    std::fs::create_dir_all(sb.memory()).expect("mkdir");
    let today = String::from_utf8(
        Command::new("date")
            .args(["-u", "+%F"])
            .output()
            .expect("date")
            .stdout,
    )
    .expect("utf8");
    let log = sb
        .memory()
        .join(format!("healthcheck-{}.log", today.trim()));
    std::os::unix::fs::symlink(sb.root.join("elsewhere"), &log).expect("symlink");
    for _ in 0..3 {
        let mut cmd = sb.failing_check();
        cmd.env("TZ", "UTC")
            .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"))
            .env("SELFHEAL_HEARTBEAT_URL", sink.url("/ping"));
        let r = run(cmd, LIMIT);
        assert_eq!(r.code, Some(3), "{}", r.all());
    }
    assert_eq!(kinds_at(&sink, "/hook"), ["cannot_run"]);
    assert_eq!(count_at(&sink, "/ping/fail"), 3);
    assert!(
        !sb.root.join("elsewhere").exists(),
        "the symlink was followed"
    );
}

#[test]
fn one_bad_field_in_the_state_keeps_the_queued_alerts() {
    let sb = Sandbox::new("f-state-field");
    let sink = Sink::start(vec![Answer::ok()]);
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    std::fs::create_dir_all(sb.memory()).expect("mkdir");
    let entry = |title: &str| queued_json("webhook", title);
    let state = format!(
        r#"{{"incident": {{"started": "not a time"}}, "outbox": [{}, {{"created": []}}, {}]}}"#,
        entry("first"),
        entry("second")
    );
    let path = sb.memory().join(".selfheal-state.json");
    std::fs::write(&path, state).expect("state");
    let mut cmd = sb.cmd(&["check"]);
    cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let titles: Vec<String> = sink
        .received()
        .iter()
        .map(|r| r.json()["title"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles[0].contains("first") && titles[1].contains("second"));
    assert!(
        r.stdout.contains("dropped what could not be read"),
        "{}",
        r.stdout
    );
}

/// A run stopped while delivering (in the retry backoff of its first
/// channel) leaves the page queued for every channel: the next run delivers
/// it to each, once.
#[test]
fn a_run_stopped_while_delivering_leaves_the_page_for_the_next_run() {
    for signal in ["-TERM", "-KILL"] {
        let sb = Sandbox::new("f-stop-delivery");
        let refusing = Sink::start(vec![Answer::status(503)]);
        let ok = Sink::start(vec![Answer::ok()]);
        let mut cmd = failing(&sb, &fixture("fail.sh"));
        cmd.env("SELFHEAL_CONFIRM_PROBES", "0")
            .env("SELFHEAL_ALERT_TIMEOUT", "5")
            .env("SELFHEAL_WEBHOOK_URL", refusing.url("/hook"))
            .env("NTFY_URL", refusing.url("/topic"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().expect("spawn");
        assert!(wait_for(Duration::from_secs(10), || !refusing
            .received()
            .is_empty()));
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        let status = child.wait().expect("wait");
        assert_ne!(status.code(), Some(1), "{signal}: the run was not stopped");
        let mut again = failing(&sb, &fixture("fail.sh"));
        again
            .env("SELFHEAL_CONFIRM_PROBES", "0")
            .env("SELFHEAL_WEBHOOK_URL", ok.url("/hook"))
            .env("NTFY_URL", ok.url("/topic"));
        assert_eq!(run(again, LIMIT).code, Some(1));
        let got = ok.received();
        let failed_to = |path: &str| {
            got.iter()
                .filter(|r| r.path == path && r.text().contains("Manual intervention required"))
                .count()
        };
        assert_eq!(failed_to("/hook"), 1, "{signal}: webhook");
        assert_eq!(failed_to("/topic"), 1, "{signal}: ntfy");
    }
}

/// kill -9 in the middle of an outbox flush: what was acknowledged before
/// is not sent again.
#[test]
fn a_flush_killed_midway_does_not_send_acknowledged_alerts_again() {
    let sb = Sandbox::new("f-flush-kill");
    let sink = Sink::start(vec![Answer::ok(), Answer::Hang, Answer::ok()]);
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    sb.save_state(&State {
        outbox: vec![queued("webhook", "first"), queued("webhook", "second")],
        ..State::default()
    });
    let check = || {
        let mut cmd = sb.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
            .env("SELFHEAL_ALERT_TIMEOUT", "5")
            .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"))
            .stdout(std::process::Stdio::null());
        cmd
    };
    let mut child = check().spawn().expect("spawn");
    assert!(wait_for(Duration::from_secs(10), || sink.received().len() == 2));
    kill(child.id() as i32);
    let _ = child.wait();
    assert_eq!(run(check(), LIMIT).code, Some(0));
    let titles: Vec<String> = sink
        .received()
        .iter()
        .map(|r| r.json()["title"].as_str().unwrap_or("").to_string())
        .collect();
    let firsts = titles.iter().filter(|t| t.contains("first")).count();
    assert_eq!(firsts, 1, "{titles:?}");
    assert!(
        titles.last().is_some_and(|t| t.contains("second")),
        "{titles:?}"
    );
}

/// SIGTERM to `child`: it must end with 143 within about a second.
fn term_within_a_second(mut child: std::process::Child) {
    let sent = std::time::Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(143));
    let took = sent.elapsed();
    assert!(took < Duration::from_millis(1800), "{took:?}");
}

/// A stop request is obeyed within about a second even while the run is
/// blocked in a network call with a long timeout, and the next run knows the
/// run was stopped, not lost: no "run died" page, the queued page delivered.
#[test]
fn sigterm_ends_a_run_blocked_in_a_network_call_within_a_second() {
    // In the probe (nothing to clean up).
    let sb = Sandbox::new("f-term-probe");
    let srv = Server::start(Behaviour::Hang);
    let mut cmd = sb.cmd(&["check"]);
    cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
        .env("HEALTH_CHECK_HTTP_TIMEOUT", "60")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let child = cmd.spawn().expect("spawn");
    std::thread::sleep(Duration::from_millis(500));
    term_within_a_second(child);

    // In a webhook POST while healing.
    let sb = Sandbox::new("f-term-post");
    let hanging = Sink::start(vec![Answer::Hang]);
    let ok = Sink::start(vec![Answer::ok()]);
    let mut cmd = failing(&sb, &fixture("fail.sh"));
    cmd.env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_ALERT_TIMEOUT", "60")
        .env("SELFHEAL_WEBHOOK_URL", hanging.url("/hook"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let child = cmd.spawn().expect("spawn");
    assert!(wait_for(Duration::from_secs(10), || !hanging
        .received()
        .is_empty()));
    term_within_a_second(child);
    let mut again = failing(&sb, &fixture("fail.sh"));
    again
        .env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_WEBHOOK_URL", ok.url("/hook"));
    let r = run(again, LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stdout.contains("was stopped by signal 15"),
        "{}",
        r.stdout
    );
    let kinds: Vec<String> = ok
        .received()
        .iter()
        .map(|r| r.json()["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(kinds, ["failed"], "{kinds:?}");
}

/// "4m05s", "46.7s", "250ms" → seconds.
fn secs_of(text: &str) -> f64 {
    let (mut total, mut num) = (0.0, String::new());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().unwrap_or(0.0);
        num.clear();
        total += match c {
            'h' => n * 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                n / 1000.0
            }
            'm' => n * 60.0,
            _ => n,
        };
    }
    total
}

/// Every channel and the heartbeat hang, the outbox is full and the run
/// before died: the run still ends within the worst case it announced.
#[test]
fn a_run_never_outlives_the_worst_case_it_announced() {
    let sb = Sandbox::new("f-worst");
    let hang = Sink::start(vec![Answer::Hang]);
    let now = unix_now() as i64;
    sb.save_state(&State {
        outbox: vec![
            queued("webhook", "t"),
            queued("ntfy", "t"),
            queued("webhook", "t"),
        ],
        running: Some(Running {
            step: Step::Level2,
            pid: 1,
            since: now,
            child: None,
        }),
        incident: Some(Incident {
            started: now,
            url: sb.down.clone(),
            ..Incident::default()
        }),
        ..State::default()
    });
    let mut cmd = failing(&sb, &fixture("fail.sh"));
    cmd.env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_ALERT_TIMEOUT", "1")
        .env("SELFHEAL_WEBHOOK_URL", hang.url("/hook"))
        .env("NTFY_URL", hang.url("/topic"))
        .env("SELFHEAL_HEARTBEAT_URL", hang.url("/ping"));
    let start = std::time::Instant::now();
    let r = run(cmd, Duration::from_secs(120));
    let took = start.elapsed().as_secs_f64();
    assert_eq!(r.code, Some(1), "{}", r.all());
    // The bound is in the log file (on the terminal only with -v).
    let announced = sb
        .log()
        .split("worst case for this run ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .map(secs_of)
        .unwrap_or_else(|| panic!("no worst case: {}", sb.log()));
    assert!(
        took <= announced,
        "took {took:.1}s, announced {announced}s: {}",
        r.stdout
    );
    // Every round did try, and gave up in time.
    assert!(count_at(&hang, "/hook") >= 3, "{:?}", hang.received().len());
}

/// kill -9 while the restart command runs: the next run ends the command's
/// whole group (it knows the group from the state) and says so.
#[test]
fn a_restart_command_left_by_a_killed_run_is_ended_by_the_next() {
    let sb = Sandbox::new("f-orphan");
    let pids = sb.root.join("pids");
    let mut cmd = failing(
        &sb,
        &format!("{} {}", fixture("hang-with-child.sh"), pids.display()),
    );
    cmd.env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_RESTART_TIMEOUT", "60")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("spawn");
    assert!(wait_for(Duration::from_secs(10), || read_pids(&pids).len() == 2));
    kill(child.id() as i32);
    let _ = child.wait();
    let left = read_pids(&pids);
    assert!(left.iter().all(|&p| alive(p)), "gone before the next run");
    let mut again = failing(&sb, &fixture("fail.sh"));
    again.env("SELFHEAL_CONFIRM_PROBES", "0");
    let r = run(again, LIMIT);
    let ended = wait_for(Duration::from_secs(3), || left.iter().all(|&p| !alive(p)));
    for &p in &left {
        kill(p);
    }
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(ended, "the dead run's command is still running");
    assert!(
        r.stdout.contains("left its command running"),
        "{}",
        r.stdout
    );
}

/// `cmd` under a file-size limit (`ulimit -f 0`, SIGXFSZ ignored): every
/// write that grows a file fails, as on a full disk.
fn size_limited(cmd: &Command) -> Command {
    let mut limited = Command::new("sh");
    limited
        .args(["-c", "ulimit -f 0; trap '' XFSZ; exec \"$0\" \"$@\"", BIN])
        .args(cmd.get_args())
        .env_clear()
        .stdin(std::process::Stdio::null());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            limited.env(k, v);
        }
    }
    limited
}

/// A full disk: the page goes out but the state cannot record it. Later runs
/// neither page again nor claim that anything was queued; once the disk has
/// room the incident is recorded (and the marker that bridged it removed).
#[test]
fn a_full_disk_does_not_make_every_run_page_again() {
    let sb = Sandbox::new("f-full");
    let sink = Sink::start(vec![Answer::ok()]);
    let mut cmd = failing(&sb, &fixture("fail.sh"));
    cmd.env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
    for _ in 0..3 {
        let r = run(size_limited(&cmd), LIMIT);
        assert_eq!(r.code, Some(1), "{}", r.all());
        assert!(!r.all().contains("queued for the next run"), "{}", r.all());
    }
    assert!(
        !sb.memory().join(".selfheal-state.json").exists(),
        "the limit did not stop the state from being saved"
    );
    assert_eq!(kinds_at(&sink, "/hook"), ["failed"], "paged again");
    // Room again: still down, no page; the state now holds the incident.
    assert_eq!(run(cmd, LIMIT).code, Some(1));
    assert_eq!(kinds_at(&sink, "/hook"), ["failed"]);
    assert!(!sb.memory().join(".selfheal-paged-unsaved").exists());
}

/// Still a full disk: the incident that paged ends ("resolved", once), and
/// the next outage pages again — the marker belongs to one incident.
#[test]
fn on_a_full_disk_a_second_outage_is_paged_and_resolved_goes_once() {
    let sb = Sandbox::new("f-full-twice");
    let sink = Sink::start(vec![Answer::ok()]);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let check = || {
        let mut cmd = failing(&sb, &fixture("fail.sh"));
        cmd.env("OPENCLAW_GATEWAY_URL", &url)
            .env("SELFHEAL_CONFIRM_PROBES", "0")
            .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
        size_limited(&cmd)
    };
    assert_eq!(run(check(), LIMIT).code, Some(1));
    let srv = Server::start_on(port, Behaviour::Reply(200, "ok".into()));
    for _ in 0..2 {
        assert_eq!(run(check(), LIMIT).code, Some(0));
    }
    drop(srv);
    assert_eq!(run(check(), LIMIT).code, Some(1));
    assert!(
        !sb.memory().join(".selfheal-state.json").exists(),
        "the limit did not stop the state from being saved"
    );
    assert_eq!(
        kinds_at(&sink, "/hook"),
        ["failed", "resolved", "failed"],
        "the second outage was silenced, or resolved went twice"
    );
}

/// A channel configured while an incident is open gets its page on the next
/// run; the channels that had it get nothing new.
#[test]
fn a_channel_added_mid_incident_gets_the_page_on_the_next_run() {
    let sb = Sandbox::new("f-mid-channel");
    let sink = Sink::start(vec![Answer::ok()]);
    let mut first = failing(&sb, &fixture("fail.sh"));
    first
        .env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
    assert_eq!(run(first, LIMIT).code, Some(1));
    assert_eq!(kinds_at(&sink, "/hook"), ["failed"]);
    for _ in 0..2 {
        let mut more = failing(&sb, &fixture("fail.sh"));
        more.env("SELFHEAL_CONFIRM_PROBES", "0")
            .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"))
            .env("NTFY_URL", sink.url("/topic"));
        assert_eq!(run(more, LIMIT).code, Some(1));
    }
    assert_eq!(kinds_at(&sink, "/hook"), ["failed"], "paged twice");
    assert_eq!(count_at(&sink, "/topic"), 1, "the added channel");
}

/// A restart command that prints credentials: none of them reaches a
/// channel, the heartbeat's log, the incident file or the log.
#[test]
fn credentials_a_restart_command_prints_are_masked_everywhere() {
    let sb = Sandbox::new("f-leaky");
    let sink = Sink::start(vec![Answer::ok()]);
    let mut cmd = failing(&sb, &fixture("leaky.sh"));
    cmd.env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"))
        .env("SELFHEAL_HEARTBEAT_URL", sink.url("/ping"));
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let mut everything = r.all() + &sb.log();
    for req in sink.received() {
        everything.push_str(&req.text());
    }
    for entry in std::fs::read_dir(sb.memory()).expect("dir").flatten() {
        everything.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    assert!(
        sink.received().iter().any(|r| r.path == "/ping/fail"),
        "no heartbeat"
    );
    for secret in ["p@ss!w0rd#7", "AKIAIOSFODNN7EXAMPLE", "hunter2secret"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked:\n{everything}"
        );
    }
    assert!(everything.contains("<redacted>"), "{everything}");
}

fn mkfifo(path: &std::path::Path) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// Hold under attack 22.10 and 22.20: a FIFO at every file selfheal reads
/// that is not its lock, state, log or metrics (those are the test above),
/// with every feature that reads one on: the digest's metrics, a watched
/// file and its kept version (`check`, `rollback --list`, `rollback`), the
/// env file, the installed record and the CA bundle (`doctor`). Each
/// command ends inside its bound with a clear word; none waits for a writer.
#[test]
fn a_fifo_at_every_file_it_reads_never_hangs_any_command() {
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let sink = Sink::start(vec![Answer::ok()]);
    let bound = Duration::from_secs(20);

    // The digest reads both metrics files.
    let sb = Sandbox::new("f-fifo-digest");
    mkfifo(&sb.memory().join(".emergency-recovery-metrics.json"));
    let mut cmd = sb.cmd(&["check"]);
    cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
        .env("SELFHEAL_DIGEST", "daily")
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/digest"));
    let r = run(cmd, bound);
    assert_eq!(r.code, Some(0), "digest: {}", r.all());
    assert!(
        sink.received().iter().any(|q| q.json()["kind"] == "digest"),
        "no digest went out"
    );

    // A watched file that is a FIFO, then a kept version that is one.
    let sb = Sandbox::new("f-fifo-watched");
    let watched = sb.root.join("svc/app.json");
    mkfifo(&watched);
    let with_watch = |args: &[&str]| {
        let mut cmd = sb.cmd(args);
        cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
            .env("SELFHEAL_SERVICE", "generic")
            .env("SELFHEAL_WATCH_FILES", &watched);
        run(cmd, bound)
    };
    let r = with_watch(&["check"]);
    assert_eq!(r.code, Some(0), "check: {}", r.all());
    let r = with_watch(&["rollback", "--list"]);
    assert_eq!(r.code, Some(0), "list: {}", r.all());
    assert!(r.stdout.contains("not a regular file"), "{}", r.stdout);
    let r = with_watch(&["doctor"]);
    assert!(r.code.is_some(), "doctor hung: {}", r.all());
    assert!(r.stdout.contains("not a regular file"), "{}", r.stdout);
    std::fs::remove_file(&watched).expect("rm");
    std::fs::write(&watched, "{ good: 1 }\n").expect("write");
    assert_eq!(with_watch(&["check"]).code, Some(0));
    let kept: Vec<_> = walk(&sb.memory().join("last-good"));
    assert_eq!(kept.len(), 1, "{kept:?}\n{}", sb.log());
    std::fs::remove_file(&kept[0]).expect("rm");
    mkfifo(&kept[0]);
    std::fs::write(&watched, "{ edited: 2 }\n").expect("write");
    let r = with_watch(&["rollback", "--list"]);
    assert_eq!(r.code, Some(0), "list: {}", r.all());
    let r = with_watch(&["rollback"]);
    assert_eq!(r.code, Some(0), "rollback: {}", r.all());
    assert!(r.stdout.contains("nothing to restore"), "{}", r.stdout);
    assert_eq!(
        std::fs::read_to_string(&watched).expect("read"),
        "{ edited: 2 }\n"
    );

    // The env file, the installed record and the CA bundle.
    let sb = Sandbox::new("f-fifo-env");
    let env = sb.root.join("selfheal.env");
    mkfifo(&env);
    let mut cmd = sb.cmd(&["check"]);
    cmd.env("SELFHEAL_CONFIG", &env);
    let r = run(cmd, bound);
    assert_eq!(r.code, Some(2), "env file: {}", r.all());
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    let config_home = sb.root.join("config");
    mkfifo(&config_home.join("selfheal/installed"));
    let bundle = sb.root.join("ca.pem");
    mkfifo(&bundle);
    let mut cmd = sb.cmd(&["doctor"]);
    cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
        .env("XDG_CONFIG_HOME", &config_home)
        .env("SSL_CERT_FILE", &bundle);
    let r = run(cmd, bound);
    assert!(r.code.is_some(), "doctor hung: {}", r.all());
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Hold under attack 22.19: a digest "sent" in the future (a clock set
/// back, a forged state) does not silence the digest.
#[test]
fn a_digest_sent_in_the_future_does_not_silence_the_next() {
    let sb = Sandbox::new("f-digest-future");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let sink = Sink::start(vec![Answer::ok()]);
    let now = selfheal::sys::clock::unix_now();
    sb.save_state(&State {
        digest_sent: Some(now + 10 * 365 * 86400),
        ..State::default()
    });
    let mut cmd = sb.cmd(&["check"]);
    cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
        .env("SELFHEAL_DIGEST", "daily")
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/digest"));
    assert_eq!(run(cmd, LIMIT).code, Some(0));
    assert!(
        sink.received().iter().any(|q| q.json()["kind"] == "digest"),
        "the digest was silenced"
    );
}
