//! Operations: stats, the Prometheus file, maintenance windows.

use crate::common::*;
use std::io::Write;
use std::process::Command;

#[test]
fn stats_match_the_seeds_jq_query_and_skip_garbage() {
    let sb = Sandbox::new("stats");
    std::fs::create_dir_all(sb.memory()).expect("mkdir");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let clean = sb.root.join("clean.json");
    let mut clean_f = std::fs::File::create(&clean).expect("clean");
    let mut mixed =
        std::fs::File::create(sb.memory().join(".healthcheck-metrics.json")).expect("mixed");
    let results = ["success", "failed", "self_healed", "success", "success"];
    for i in 0..5000u64 {
        let line = match i % 7 {
            0 => format!("{{\"timestamp\":{},\"metric\":\"recovery\",\"result\":\"{}\",\"duration\":{}}}\n", now - i, results[(i as usize / 7) % 5], i % 3),
            1 => format!("{{\"timestamp\":{},\"metric\":\"gateway_restart\",\"result\":\"timeout\",\"duration\":60}}\n", now - i),
            2 => format!("{{\"timestamp\":{},\"metric\":\"incident\",\"result\":\"resolved\",\"duration\":{}}}\n", now - i, 30 + i % 10),
            _ => format!("{{\"timestamp\":{},\"metric\":\"health_check\",\"result\":\"healthy\",\"duration\":0}}\n", now - i),
        };
        clean_f.write_all(line.as_bytes()).expect("write");
        mixed.write_all(line.as_bytes()).expect("write");
        if i % 1000 == 0 {
            mixed
                .write_all(b"not json at all\n{\"timestamp\":\n\xff\xfe binary\n\n")
                .expect("garbage");
            mixed.write_all(&vec![b'x'; 200_000]).expect("long");
            mixed.write_all(b"\n").expect("nl");
        }
    }
    drop(mixed);
    drop(clean_f);
    let r = run(sb.cmd(&["stats", "--days", "0", "--json"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let s: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let query = r#"[.[] | select(.metric=="recovery")] | group_by(.result) | map({key: .[0].result, value: length}) | from_entries"#;
    require_tool("jq", "apt-get install jq / brew install jq");
    let out = Command::new("jq")
        .args(["-s", "-c", query])
        .arg(&clean)
        .output()
        .expect("jq (.ci/run installs it)");
    let jq: serde_json::Value = serde_json::from_slice(&out.stdout).expect("jq json");
    assert_eq!(s["recovery"], jq, "stats {} vs jq {}", s["recovery"], jq);
    assert_eq!(
        s["malformed"],
        5 * 5,
        "garbage lines counted: {}",
        s["malformed"]
    );
    assert!(s["mttr_seconds"]
        .as_f64()
        .is_some_and(|m| (30.0..40.0).contains(&m)));
    let text = run(sb.cmd(&["stats"]), LIMIT);
    assert!(
        text.stdout.contains("healed:") && text.stdout.contains("malformed"),
        "{}",
        text.stdout
    );
}

/// A minimal parser of the Prometheus text format: every sample line is
/// `name{labels} value` with a float value; comments are HELP/TYPE.
fn parse_prom(text: &str) -> Result<Vec<(String, f64)>, String> {
    if !text.ends_with('\n') {
        return Err("no final newline (half written?)".into());
    }
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(c) = line.strip_prefix("# ") {
            if !(c.starts_with("HELP ") || c.starts_with("TYPE ")) {
                return Err(format!("bad comment {line:?}"));
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').ok_or(format!("no value: {line:?}"))?;
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("bad name {line:?}"));
        }
        if name_end < series.len() && !series.ends_with('}') {
            return Err(format!("bad labels {line:?}"));
        }
        let v: f64 = value.parse().map_err(|_| format!("bad value {line:?}"))?;
        samples.push((series.to_string(), v));
    }
    Ok(samples)
}

#[test]
fn prometheus_file_parses_and_is_never_half_written() {
    let sb = Sandbox::new("prom");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let dir = sb.root.join("textfile");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let prom = dir.join("selfheal.prom");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (stop2, prom2) = (stop.clone(), prom.clone());
    let reader = std::thread::spawn(move || {
        let mut reads = 0;
        while !stop2.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok(text) = std::fs::read_to_string(&prom2) {
                parse_prom(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                reads += 1;
            }
        }
        reads
    });
    for _ in 0..20 {
        let mut cmd = sb.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
            .env("SELFHEAL_PROM_FILE", &prom);
        assert_eq!(run(cmd, LIMIT).code, Some(0));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(reader.join().expect("reader") > 20);
    let samples = parse_prom(&std::fs::read_to_string(&prom).expect("prom")).expect("parses");
    let get = |s: &str| samples.iter().find(|(k, _)| k == s).map(|(_, v)| *v);
    // Every series says which host and which service (issue 25: a fleet).
    let host = selfheal::ctx::hostname();
    let who = format!("host=\"{host}\",service=\"openclaw\"");
    assert!(samples.iter().all(|(k, _)| k.contains(&who)), "{samples:?}");
    assert_eq!(
        get(&format!("selfheal_up{{{who},url=\"{}\"}}", srv.url())),
        Some(1.0)
    );
    assert_eq!(
        get(&format!(
            "selfheal_events_total{{{who},metric=\"health_check\",result=\"healthy\"}}"
        )),
        Some(20.0)
    );
    assert_eq!(get(&format!("selfheal_incident_open{{{who}}}")), Some(0.0));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "temp files left: {leftovers:?}");
}

#[test]
fn pause_stops_healing_and_alerts_and_resume_brings_them_back() {
    let sb = Sandbox::new("pause");
    let sink = Sink::start(vec![Answer::ok()]);
    let marker = sb.root.join("restarted");
    let check = || {
        let mut cmd = sb.failing_check();
        cmd.env(
            "SELFHEAL_RESTART_CMD",
            format!("{} {}", fixture("touch.sh"), marker.display()),
        )
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
        run(cmd, LIMIT)
    };
    assert_eq!(run(sb.cmd(&["pause", "2h"]), LIMIT).code, Some(0));
    let r = check();
    assert_eq!(r.code, Some(0), "paused is exit 0: {}", r.all());
    assert!(
        r.stdout.contains("paused for") && r.stdout.contains("no healing"),
        "{}",
        r.stdout
    );
    assert!(
        !marker.exists(),
        "the restart command ran during the window"
    );
    assert!(
        sink.received().is_empty(),
        "an alert went out during the window"
    );
    assert!(
        sb.metric_pairs()
            .contains(&("http_check".into(), "000".into())),
        "probes are still recorded"
    );
    for bad in ["0", "8d", "soon", "-5m"] {
        assert_eq!(
            run(sb.cmd(&["pause", bad]), LIMIT).code,
            Some(2),
            "pause {bad}"
        );
    }
    assert_eq!(run(sb.cmd(&["resume"]), LIMIT).code, Some(0));
    let r = check();
    assert_eq!(r.code, Some(1));
    assert!(marker.exists(), "healing did not come back after resume");
    assert_eq!(sink.received().len(), 1);
}

#[test]
fn a_window_beyond_seven_days_is_ignored() {
    let sb = Sandbox::new("pause-far");
    std::fs::create_dir_all(sb.memory()).expect("mkdir");
    std::fs::write(sb.memory().join(".selfheal-pause"), "9223372036854775807\n").expect("write");
    let mut cmd = sb.failing_check();
    cmd.env("HEALTH_CHECK_MAX_RETRIES", "0");
    let r = run(cmd, LIMIT);
    assert_eq!(
        r.code,
        Some(1),
        "a far-future pause switched healing off: {}",
        r.all()
    );
    assert!(
        r.stdout.contains("ignoring the maintenance window"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_expired_window_heals_normally() {
    let sb = Sandbox::new("pause-expired");
    std::fs::create_dir_all(sb.memory()).expect("mkdir");
    std::fs::write(sb.memory().join(".selfheal-pause"), "1000\n").expect("write");
    let marker = sb.root.join("restarted");
    let mut cmd = sb.failing_check();
    cmd.env(
        "SELFHEAL_RESTART_CMD",
        format!("{} {}", fixture("touch.sh"), marker.display()),
    );
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(marker.exists());
    assert!(!sb.memory().join(".selfheal-pause").exists());
}

#[test]
fn doctor_in_an_empty_sandbox_names_each_problem_with_its_fix() {
    let sb = Sandbox::new("doctor-empty");
    let mut cmd = sb.cmd(&["doctor"]);
    cmd.env("OPENCLAW_GATEWAY_URL", down_url())
        .env(
            "SELFHEAL_RESTART_CMD",
            "/nonexistent/openclaw gateway restart",
        )
        .env("SELFHEAL_AGENT_CMD", "/nonexistent/claude");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let lines: Vec<&str> = r.stdout.lines().collect();
    let fails: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("✗"))
        .map(|(i, _)| i)
        .collect();
    for want in ["restart command", "agent", "alert channels", "probe"] {
        assert!(
            fails
                .iter()
                .any(|&i| lines[i].starts_with(&format!("✗ {want}:"))),
            "no ✗ for {want}: {}",
            r.stdout
        );
    }
    for i in &fails {
        assert!(
            lines
                .get(i + 1)
                .is_some_and(|l| l.trim_start().starts_with("fix: ")),
            "✗ without a fix: {}",
            lines[*i]
        );
    }
    assert!(!sb.memory().exists(), "doctor created the tool directory");
    let j = run(
        {
            let mut c = sb.cmd(&["doctor", "--json"]);
            c.env("OPENCLAW_GATEWAY_URL", down_url());
            c
        },
        LIMIT,
    );
    let v: serde_json::Value = serde_json::from_str(&j.stdout).expect("json");
    assert_eq!(v["ok"], false);
}

#[test]
fn doctor_with_a_good_configuration_reports_only_true_problems() {
    let sb = Sandbox::new("doctor-good");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let sink = Sink::start(vec![Answer::ok()]);
    sb.env_file(&format!(
        "OPENCLAW_GATEWAY_URL={}\nSELFHEAL_RESTART_CMD={} /dev/null\nSELFHEAL_AGENT_CMD=\nSELFHEAL_WEBHOOK_URL={}\n",
        srv.url(),
        fixture("touch.sh"),
        sink.url("/hook")
    ));
    // A tool directory with a loose file in it: a true problem.
    assert_eq!(run(sb.cmd(&["check"]), LIMIT).code, Some(0));
    use std::os::unix::fs::PermissionsExt;
    let metrics = sb.memory().join(".healthcheck-metrics.json");
    std::fs::set_permissions(&metrics, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let r = run(sb.cmd(&["doctor"]), LIMIT);
    let fails: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("✗")).collect();
    let expected: Vec<&str> = fails
        .iter()
        .copied()
        .filter(|l| !l.starts_with("✗ scheduler:") && !l.starts_with("✗ CA certificates:"))
        .collect();
    assert_eq!(expected.len(), 1, "{}", r.stdout);
    assert!(
        expected[0]
            .starts_with("✗ tool directory: files readable by others: .healthcheck-metrics.json"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("✓ probe:") && r.stdout.contains("✓ alert channels: webhook"),
        "{}",
        r.stdout
    );
    assert!(sink.received().is_empty(), "doctor sent something");
}

#[test]
fn messages_say_what_they_mean() {
    let sb = Sandbox::new("words");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let mut probe = sb.cmd(&["probe"]);
    probe.env("OPENCLAW_GATEWAY_URL", srv.url());
    let r = run(probe, LIMIT);
    assert!(
        r.stdout.starts_with("healthy: HTTP 200 in "),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("status 200"), "{}", r.stdout);
    let stats = run(sb.cmd(&["stats", "--days", "1"]), LIMIT);
    assert!(stats.stdout.contains("the last day"), "{}", stats.stdout);
    assert!(!stats.stdout.contains("mean -"), "{}", stats.stdout);
    let mut recover = sb.cmd(&["recover"]);
    recover
        .env("OPENCLAW_GATEWAY_URL", down_url())
        .env("SELFHEAL_AGENT_CMD", "");
    let r = run(recover, LIMIT);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("level 3 is disabled"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("invalid SELFHEAL_AGENT_CMD"),
        "{}",
        r.stderr
    );
    let notify = run(sb.cmd(&["notify", "hello"]), LIMIT);
    assert_eq!(notify.code, Some(2));
    assert!(!notify.stderr.contains("--help"), "{}", notify.stderr);
    let rotate = run(sb.cmd(&["rotate"]), LIMIT);
    assert!(
        rotate.stdout.contains("nothing to delete"),
        "{}",
        rotate.all()
    );
}

#[test]
fn status_says_what_is_going_on_and_doctor_flags_a_long_pause() {
    let sb = Sandbox::new("status");
    let r = run(sb.cmd(&["status"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(
        r.stdout.contains("last check:   none recorded yet"),
        "{}",
        r.stdout
    );
    assert!(!sb.memory().exists(), "status wrote something");
    // An incident in progress, then a pause of 3 days.
    let sink = Sink::start(vec![Answer::ok()]);
    let mut down = sb.failing_check();
    down.env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_RESTART_CMD", fixture("fail.sh"))
        .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
    assert_eq!(run(down, LIMIT).code, Some(1));
    assert_eq!(run(sb.cmd(&["pause", "3d"]), LIMIT).code, Some(0));
    let mut status = sb.cmd(&["status", "--json"]);
    status.env("OPENCLAW_GATEWAY_URL", &sb.down);
    let r = run(status, LIMIT);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert!(
        v["last_check"]
            .as_str()
            .is_some_and(|s| s.ends_with("no answer")),
        "{v}"
    );
    let incident = v["incident"].as_str().unwrap_or("");
    assert!(
        incident.contains("open since") && incident.contains("sent: failed"),
        "{v}"
    );
    assert!(
        v["paused_until"]
            .as_str()
            .is_some_and(|p| p.contains("from now")),
        "{v}"
    );
    let mut doctor = sb.cmd(&["doctor"]);
    doctor.env("OPENCLAW_GATEWAY_URL", &sb.down);
    let r = run(doctor, LIMIT);
    assert!(
        r.stdout.contains("✗ maintenance: paused for"),
        "{}",
        r.stdout
    );
}

/// `daily HH:MM-HH:MM` around the current UTC minute: `from` minutes ago to
/// `to` minutes ahead.
fn daily_window(from: i64, to: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        / 60;
    let hm = |m: i64| {
        let m = m.rem_euclid(24 * 60);
        format!("{:02}:{:02}", m / 60, m % 60)
    };
    format!("daily {}-{}", hm(now + from), hm(now + to))
}

#[test]
fn a_recurring_maintenance_window_pauses_healing_and_doctor_names_the_next() {
    let sb = Sandbox::new("ops-window");
    let restarts = sb.root.join("restarts");
    let window = daily_window(-1, 3);
    let mut cmd = sb.failing_check();
    cmd.env("TZ", "UTC")
        .env("SELFHEAL_MAINTENANCE", &window)
        .env(
            "SELFHEAL_RESTART_CMD",
            format!("{} {}", fixture("touch.sh"), restarts.display()),
        );
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(
        r.stdout.contains(&format!("(maintenance window {window})")),
        "{}",
        r.stdout
    );
    assert!(!restarts.exists(), "healed inside a maintenance window");
    let mut status = sb.cmd(&["status"]);
    status.env("TZ", "UTC").env("SELFHEAL_MAINTENANCE", &window);
    let r = run(status, LIMIT);
    assert!(
        r.stdout.contains("maintenance window daily"),
        "{}",
        r.stdout
    );
    // Outside it: healing as usual, and doctor says when the next one is.
    let later = daily_window(60, 90);
    let mut doctor = sb.cmd(&["doctor"]);
    doctor.env("TZ", "UTC").env("SELFHEAL_MAINTENANCE", &later);
    let r = run(doctor, LIMIT);
    assert!(
        r.stdout.contains("maintenance windows: ") && r.stdout.contains("next: daily"),
        "{}",
        r.stdout
    );
    let mut bad = sb.cmd(&["check"]);
    bad.env("SELFHEAL_MAINTENANCE", "Funday 03:00-04:00");
    let r = run(bad, LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("is not a day"), "{}", r.stderr);
}

#[test]
fn the_digest_goes_out_once_per_period_and_stats_notify_sends_it_now() {
    let sb = Sandbox::new("ops-digest");
    let sink = Sink::start(vec![Answer::ok()]);
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    // A time of day one minute ago (UTC), so that today's digest is due.
    let at = daily_window(-1, 0)
        .split_whitespace()
        .nth(1)
        .and_then(|w| w.split('-').next())
        .unwrap_or("00:00")
        .to_string();
    let check = || {
        let mut cmd = sb.cmd(&["check"]);
        cmd.env("TZ", "UTC")
            .env("OPENCLAW_GATEWAY_URL", srv.url())
            .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"))
            .env("SELFHEAL_DIGEST", "daily")
            .env("SELFHEAL_DIGEST_AT", &at);
        run(cmd, LIMIT)
    };
    for _ in 0..3 {
        assert_eq!(check().code, Some(0));
    }
    let digests: Vec<String> = sink
        .received()
        .iter()
        .filter(|r| r.json()["kind"] == "digest")
        .map(|r| r.json()["text"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(digests.len(), 1, "{digests:?}");
    assert!(
        digests[0].contains("the last day:") && digests[0].contains("checks healthy"),
        "{}",
        digests[0]
    );
    let mut doctor = sb.cmd(&["doctor"]);
    doctor
        .env("SELFHEAL_DIGEST", "weekly")
        .env("SELFHEAL_DIGEST_AT", "07:30")
        .env("SELFHEAL_HEARTBEAT_URL", sink.url("/ping/uuid"))
        .env("SELFHEAL_HEARTBEAT_MODE", "exit");
    let r = run(doctor, LIMIT);
    assert!(
        r.stdout.contains("digest: weekly (Mondays) at 07:30")
            && r.stdout.contains("heartbeat: ")
            && r.stdout.contains("(URL/<exit code>)"),
        "{}",
        r.stdout
    );
    let mut now = sb.cmd(&["stats", "--notify", "--days", "7"]);
    now.env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
    let r = run(now, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let last = sink.received().pop().expect("sent");
    assert!(
        last.json()["text"]
            .as_str()
            .unwrap_or("")
            .contains("the last 7 days: 100% of checks healthy (3 checks)"),
        "{}",
        last.text()
    );
}

#[test]
fn early_warnings_once_per_episode_and_a_resolved() {
    let sb = Sandbox::new("ops-early");
    let sink = Sink::start(vec![Answer::ok()]);
    // The port owner is this test process: its memory is the service's.
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let check = |rss: &str, disk: &str, latency: &str| {
        let mut cmd = sb.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
            .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"))
            .env("SELFHEAL_WARN_RSS", rss)
            .env("SELFHEAL_WARN_DISK", disk)
            .env("SELFHEAL_WARN_LATENCY", latency);
        run(cmd, LIMIT)
    };
    for _ in 0..4 {
        let r = check("1M", "99.999%", "0.000001");
        assert_eq!(r.code, Some(0), "{}", r.all());
    }
    let texts = |kind: &str| -> Vec<String> {
        sink.received()
            .iter()
            .filter(|r| r.json()["kind"] == kind)
            .map(|r| r.json()["text"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let warnings = texts("early_warning");
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings[0].contains("of memory") && warnings[0].contains("SELFHEAL_WARN_RSS"));
    assert!(warnings[1].contains("free") && warnings[1].contains("SELFHEAL_WARN_DISK"));
    assert!(warnings[2].contains("3 runs in a row"), "{}", warnings[2]);
    let r = check("100G", "0%", "300");
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(texts("early_warning_resolved").len(), 3);
    assert_eq!(check("100G", "0%", "300").code, Some(0));
    assert_eq!(texts("early_warning_resolved").len(), 3, "resolved once");
}

/// With a docker restart command the service's process is the container's
/// main process (`docker inspect .State.Pid`), not docker-proxy on the port.
#[test]
fn in_docker_the_memory_watched_is_the_containers_main_process() {
    let docker = format!("{}/tests/fixtures/bin/docker", env!("CARGO_MANIFEST_DIR"));
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let mut main = Command::new("sleep").arg("60").spawn().expect("sleep");
    let pid = main.id().to_string();
    for restart in [
        format!("{docker} restart openclaw-gateway"),
        format!("{docker} compose -f /srv/openclaw/compose.yml restart gateway"),
    ] {
        let sb = Sandbox::new("ops-early-docker");
        let sink = Sink::start(vec![Answer::ok()]);
        let mut cmd = sb.cmd(&["check"]);
        cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
            .env("SELFHEAL_RESTART_CMD", &restart)
            .env("FAKE_DOCKER_PID", &pid)
            .env("SELFHEAL_WARN_RSS", "1K")
            .env("SELFHEAL_WEBHOOK_URL", sink.url("/hook"));
        let r = run(cmd, LIMIT);
        assert_eq!(r.code, Some(0), "{}", r.all());
        let text = sink
            .received()
            .first()
            .map(|r| r.json()["text"].as_str().unwrap_or("").to_string())
            .unwrap_or_default();
        assert!(text.contains(&format!("(pid {pid})")), "{restart}: {text}");
    }
    let _ = main.kill();
    let _ = main.wait();
}

/// Say it right 26.3: status and doctor give one verdict on the scheduler
/// (doctor's): "none, by choice" is a · in both, never a ✗ in status.
#[test]
fn status_and_doctor_agree_about_the_scheduler() {
    let sb = Sandbox::new("status-scheduler");
    let config_home = sb.root.join("config");
    std::fs::create_dir_all(config_home.join("selfheal")).expect("mkdir");
    std::fs::write(config_home.join("selfheal/installed"), "scheduler=none\n").expect("record");
    let with = |args: &[&str]| {
        let mut cmd = sb.cmd(args);
        cmd.env("XDG_CONFIG_HOME", &config_home);
        run(cmd, LIMIT).stdout
    };
    let doctor = with(&["doctor"]);
    let line = doctor
        .lines()
        .find(|l| l.contains(" scheduler: "))
        .unwrap_or_default()
        .to_string();
    let status = with(&["status"]);
    let said = status
        .lines()
        .find(|l| l.starts_with("scheduler:"))
        .unwrap_or_default()
        .to_string();
    if line.starts_with('✓') {
        // This machine runs a scheduler of ours: nothing to compare.
        return;
    }
    assert!(line.starts_with('·'), "{doctor}");
    assert!(
        said.contains("you chose") && !said.contains('✗'),
        "{status}"
    );
    // Without the record, doctor's ✗ is status's ✗.
    std::fs::remove_file(config_home.join("selfheal/installed")).expect("rm");
    let doctor = with(&["doctor"]);
    let failed = doctor.lines().any(|l| l.starts_with("✗ scheduler"));
    let status = with(&["status"]);
    assert_eq!(
        status.contains("(✗: see `selfheal doctor`)"),
        failed,
        "{doctor}\n{status}"
    );
}
