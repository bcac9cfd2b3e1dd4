//! Level 4 through the real binary: loopback sinks stand in for Discord,
//! Slack, Telegram, ntfy and a generic webhook.

use crate::common::*;
use std::process::Command;
use std::time::Duration;

const TOKEN: &str = "123456:SECRET-bot-token";
const HOOK_SECRET: &str = "hook-SECRET-abcdef";

struct Sinks {
    discord: Sink,
    slack: Sink,
    telegram: Sink,
    ntfy: Sink,
    webhook: Sink,
}

impl Sinks {
    fn all(script: Vec<Answer>) -> Sinks {
        Sinks {
            discord: Sink::start(script.clone()),
            slack: Sink::start(script.clone()),
            telegram: Sink::start(script.clone()),
            ntfy: Sink::start(script.clone()),
            webhook: Sink::start(script),
        }
    }

    fn each(&self) -> [(&'static str, &Sink); 5] {
        [
            ("discord", &self.discord),
            ("slack", &self.slack),
            ("telegram", &self.telegram),
            ("ntfy", &self.ntfy),
            ("webhook", &self.webhook),
        ]
    }

    /// Configuration keys pointing every channel at its sink.
    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "DISCORD_WEBHOOK_URL".into(),
                self.discord.url(&format!("/api/webhooks/1/{HOOK_SECRET}")),
            ),
            (
                "SLACK_WEBHOOK_URL".into(),
                self.slack.url(&format!("/services/T/B/{HOOK_SECRET}")),
            ),
            ("TELEGRAM_BOT_TOKEN".into(), TOKEN.into()),
            ("TELEGRAM_CHAT_ID".into(), "-100123".into()),
            ("SELFHEAL_TELEGRAM_API".into(), self.telegram.url("")),
            ("NTFY_URL".into(), self.ntfy.url(&format!("/{HOOK_SECRET}"))),
            (
                "SELFHEAL_WEBHOOK_URL".into(),
                self.webhook.url(&format!("/hook/{HOOK_SECRET}")),
            ),
        ]
    }

    /// The text each sink received in its last request.
    fn text(name: &str, r: &Request) -> String {
        match name {
            "discord" => r.json()["content"].as_str().unwrap_or("").to_string(),
            "slack" | "webhook" => r.json()["text"].as_str().unwrap_or("").to_string(),
            "telegram" => r.json()["text"].as_str().unwrap_or("").to_string(),
            _ => r.text(),
        }
    }
}

/// A failing service, fast timings, every channel configured.
fn failing(sb: &Sandbox, sinks: &Sinks, extra: &[(&str, &str)]) -> Command {
    // Level 3 has tests of its own: off in `failing_check`.
    let mut cmd = sb.failing_check();
    cmd.env("HEALTH_CHECK_RETRY_DELAY", "0.2")
        .env("SELFHEAL_RESTART_CMD", fixture("loud.sh"));
    for (k, v) in sinks.env() {
        cmd.env(k, v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

/// The first line (the title) of each Discord message received.
fn titles(got: &[Request]) -> Vec<String> {
    got.iter()
        .map(|r| {
            let content = r.json()["content"].as_str().unwrap_or("").to_string();
            content.lines().next().unwrap_or("").to_string()
        })
        .collect()
}

fn assert_no_secrets(sb: &Sandbox, outputs: &[&Run]) {
    let mut all = sb.log();
    all.push_str(
        &std::fs::read_to_string(sb.memory().join(".healthcheck-metrics.json")).unwrap_or_default(),
    );
    all.push_str(
        &std::fs::read_to_string(sb.memory().join(".selfheal-state.json")).unwrap_or_default(),
    );
    for r in outputs {
        all.push_str(&r.all());
    }
    for secret in [TOKEN, HOOK_SECRET, "SECRET"] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}

#[test]
fn total_failure_reaches_every_channel_once_then_resolves_once() {
    let sb = Sandbox::new("l4-all");
    let sinks = Sinks::all(vec![Answer::ok()]);
    // One service, down and later up again at the same URL.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let check = || {
        let mut cmd = failing(&sb, &sinks, &[]);
        cmd.env("OPENCLAW_GATEWAY_URL", &url);
        cmd
    };
    let first = run(check(), LIMIT);
    assert_eq!(first.code, Some(1), "{}", first.all());
    for (name, sink) in sinks.each() {
        let got = sink.received();
        assert_eq!(got.len(), 1, "{name}: {got:?}");
        let mut text = Sinks::text(name, &got[0]);
        if name == "ntfy" {
            // ntfy carries the title in a header.
            text.push_str("every automatic recovery failed");
        }
        for needle in [
            "every automatic recovery failed",
            "Level 2 (restart)",
            "Level 3",
            "connection refused",
            "selfheal probe",
            "loud.sh",
        ] {
            assert!(text.contains(needle), "{name} lacks {needle:?}: {text}");
        }
        assert_eq!(got[0].method, "POST");
    }
    // Discord stays within 2000 characters although the restart output is long,
    // and the commands at the end survive the cut.
    let discord = Sinks::text("discord", &sinks.discord.received()[0]);
    assert!(discord.encode_utf16().count() <= 2000, "{}", discord.len());
    assert!(
        discord.contains('…') && discord.contains("selfheal probe"),
        "{discord}"
    );
    assert_eq!(
        sinks.discord.received()[0].json()["allowed_mentions"]["parse"],
        serde_json::json!([])
    );
    let tg = &sinks.telegram.received()[0];
    assert_eq!(tg.path, format!("/bot{TOKEN}/sendMessage"));
    assert_eq!(tg.json()["chat_id"], "-100123");
    let ntfy = &sinks.ntfy.received()[0];
    assert_eq!(ntfy.header("Priority"), Some("urgent"));
    assert!(
        ntfy.header("Title")
            .is_some_and(|t| t.starts_with("=?UTF-8?B?")),
        "{:?}",
        ntfy.headers
    );
    assert_eq!(sinks.webhook.received()[0].json()["kind"], "failed");

    // The same incident again: no new message.
    let second = run(check(), LIMIT);
    assert_eq!(second.code, Some(1));
    for (name, sink) in sinks.each() {
        assert_eq!(sink.received().len(), 1, "{name} was paged twice");
    }

    // Healthy again: exactly one "resolved" per channel, with the downtime.
    let _srv = Server::start_on(port, Behaviour::Reply(200, "ok".into()));
    let third = run(check(), LIMIT);
    assert_eq!(third.code, Some(0), "{}", third.all());
    assert_eq!(run(check(), LIMIT).code, Some(0));
    for (name, sink) in sinks.each() {
        let got = sink.received();
        assert_eq!(got.len(), 2, "{name}: {got:?}");
        let text = Sinks::text(name, &got[1]);
        let titled = name == "ntfy" || text.contains("resolved");
        assert!(titled && text.contains("Down for"), "{name}: {text}");
    }
    let pairs = sb.metric_pairs();
    assert_eq!(
        pairs
            .iter()
            .filter(|(m, r)| m == "alert" && r == "sent")
            .count(),
        10,
        "{pairs:?}"
    );
    assert_no_secrets(&sb, &[&first, &second, &third]);
}

#[test]
fn recovery_by_restart_is_one_info_message_and_no_resolved() {
    let sb = Sandbox::new("l4-recovered");
    let sinks = Sinks::all(vec![Answer::ok()]);
    let port = free_port();
    let marker = sb.root.join("restarted");
    let mut cmd = failing(&sb, &sinks, &[("HEALTH_CHECK_RETRY_DELAY", "10")]);
    cmd.env("OPENCLAW_GATEWAY_URL", format!("http://127.0.0.1:{port}/"))
        .env(
            "SELFHEAL_RESTART_CMD",
            format!("{} {}", fixture("touch.sh"), marker.display()),
        );
    let m2 = marker.clone();
    let starter = std::thread::spawn(move || {
        assert!(wait_for(Duration::from_secs(20), || m2.exists()));
        Server::start_on(port, Behaviour::Reply(200, "ok".into()))
    });
    let r = run(cmd, LIMIT);
    let _srv = starter.join().expect("server");
    assert_eq!(r.code, Some(0), "{}", r.all());
    let got = sinks.discord.received();
    assert_eq!(got.len(), 1);
    let text = Sinks::text("discord", &got[0]);
    assert!(
        text.contains("recovered by restart") && text.starts_with("**✅"),
        "{text}"
    );
    assert!(
        !text.contains("Try:"),
        "no commands when all is well: {text}"
    );
}

#[test]
fn retries_honour_retry_after_and_5xx_then_deliver() {
    let sb = Sandbox::new("l4-retry");
    let discord = Sink::start(vec![
        Answer::Reply(
            429,
            vec![],
            "{\"message\":\"rate limited\",\"retry_after\":1.0,\"global\":false}".into(),
        ),
        Answer::ok(),
    ]);
    let slack = Sink::start(vec![Answer::status(500), Answer::ok()]);
    let telegram = Sink::start(vec![
        Answer::Reply(429, vec![], "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests\",\"parameters\":{\"retry_after\":1}}".into()),
        Answer::ok(),
    ]);
    let mut cmd = sb.cmd(&["notify", "--level", "warning", "test"]);
    cmd.env("DISCORD_WEBHOOK_URL", discord.url("/api/webhooks/1/x"))
        .env("SLACK_WEBHOOK_URL", slack.url("/s"))
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_CHAT_ID", "1")
        .env("SELFHEAL_TELEGRAM_API", telegram.url(""))
        .env("SELFHEAL_ALERT_TIMEOUT", "2");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    for (name, sink, min) in [
        ("discord", &discord, 0.9),
        ("telegram", &telegram, 0.9),
        ("slack", &slack, 0.5),
    ] {
        let got = sink.received();
        assert_eq!(got.len(), 2, "{name}");
        let gap = got[1].at.duration_since(got[0].at).as_secs_f64();
        assert!(gap >= min && gap < 3.0, "{name}: retried after {gap:.2}s");
    }
    assert_no_secrets(&sb, &[&r]);
}

#[test]
fn a_404_is_permanent_and_not_retried() {
    let sb = Sandbox::new("l4-404");
    let discord = Sink::start(vec![Answer::Reply(
        404,
        vec![],
        "{\"message\": \"Unknown Webhook\", \"code\": 10015}".into(),
    )]);
    let mut cmd = sb.cmd(&["notify", "hello"]);
    cmd.env("DISCORD_WEBHOOK_URL", discord.url("/api/webhooks/1/x"));
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1));
    assert_eq!(discord.received().len(), 1, "a 404 was retried");
    assert!(
        sb.log()
            .contains("failed permanently (HTTP 404: Unknown Webhook"),
        "{}",
        sb.log()
    );
}

#[test]
fn a_hanging_sink_costs_a_bounded_time_and_the_next_run_delivers_once() {
    let sb = Sandbox::new("l4-hang");
    let sinks = Sinks::all(vec![Answer::ok()]);
    let hang = Sink::start(vec![Answer::Hang, Answer::Hang, Answer::Hang, Answer::ok()]);
    let mut cmd = failing(&sb, &sinks, &[]);
    cmd.env("DISCORD_WEBHOOK_URL", hang.url("/api/webhooks/1/x"));
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1));
    // Three attempts of 1 s for the hanging channel, plus the ladder itself.
    assert!(r.elapsed < Duration::from_secs(8), "took {:?}", r.elapsed);
    assert!(sb.log().contains("queued for the next run"), "{}", sb.log());
    let state = std::fs::read_to_string(sb.memory().join(".selfheal-state.json")).expect("state");
    assert!(state.contains("\"channel\": \"discord\""), "{state}");
    assert!(
        sinks.slack.received().len() == 1,
        "other channels are not held up"
    );

    // The next run (still failing, same incident) delivers the queued one, once.
    let mut cmd = failing(&sb, &sinks, &[]);
    cmd.env("DISCORD_WEBHOOK_URL", hang.url("/api/webhooks/1/x"));
    let r2 = run(cmd, LIMIT);
    assert_eq!(r2.code, Some(1));
    let got = hang.received();
    assert_eq!(got.len(), 4, "three hung attempts, then the delivery");
    assert!(got[3].json()["content"]
        .as_str()
        .unwrap_or("")
        .contains("every automatic recovery failed"));
    let state = std::fs::read_to_string(sb.memory().join(".selfheal-state.json")).expect("state");
    assert!(state.contains("\"outbox\": []"), "{state}");
    let mut cmd = failing(&sb, &sinks, &[]);
    cmd.env("DISCORD_WEBHOOK_URL", hang.url("/api/webhooks/1/x"));
    run(cmd, LIMIT);
    assert_eq!(hang.received().len(), 4, "delivered twice");
    assert!(sb
        .metric_pairs()
        .contains(&("alert".into(), "queued".into())));
}

#[test]
fn awkward_text_arrives_intact() {
    let sb = Sandbox::new("l4-text");
    let sinks = Sinks::all(vec![Answer::ok()]);
    let text =
        "quotes \" ' backslash \\ newline\nsecond line 🚑 **bold** `code` <b>&amp;</b> 한국어";
    let mut cmd = sb.cmd(&["notify", "--level", "error", text]);
    for (k, v) in sinks.env() {
        cmd.env(k, v);
    }
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    for (name, sink) in sinks.each() {
        let got = Sinks::text(name, &sink.received()[0]);
        let want = match name {
            "slack" => text
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;"),
            // Markup from outside made literal (Discord shows it as it was).
            "discord" => text
                .replace('\\', "\\\\")
                .replace('*', "\\*")
                .replace('`', "\\`")
                .replace('<', "\\<")
                .replace('>', "\\>"),
            _ => text.to_string(),
        };
        assert!(got.contains(&want), "{name}: {got:?}");
    }
}

#[test]
fn korean_messages() {
    let sb = Sandbox::new("l4-ko");
    let sinks = Sinks::all(vec![Answer::ok()]);
    let r = run(failing(&sb, &sinks, &[("SELFHEAL_LANG", "ko")]), LIMIT);
    assert_eq!(r.code, Some(1));
    let text = Sinks::text("discord", &sinks.discord.received()[0]);
    assert!(
        text.contains("모든 자동 복구 시스템이 실패했습니다") && text.contains("복구 시도:"),
        "{text}"
    );
}

/// kill -9 while a channel holds its answer: that channel was never
/// acknowledged, so the page is sent to it again (at least once per channel);
/// the channels after it get it once, from the outbox; nobody gets a new page.
#[test]
fn kill_9_while_delivering_resends_only_what_was_not_acknowledged() {
    let sb = Sandbox::new("l4-kill");
    // The sink holds the answer, so the test can kill selfheal while it waits.
    let discord = Sink::start(vec![Answer::Hang, Answer::ok()]);
    let sinks = Sinks::all(vec![Answer::ok()]);
    let mut cmd = failing(&sb, &sinks, &[("SELFHEAL_ALERT_TIMEOUT", "20")]);
    cmd.env("DISCORD_WEBHOOK_URL", discord.url("/api/webhooks/1/x"))
        .env_remove("SLACK_WEBHOOK_URL");
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    assert!(
        wait_for(Duration::from_secs(20), || !discord.received().is_empty()),
        "no alert"
    );
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let mut cmd = failing(&sb, &sinks, &[]);
    cmd.env("DISCORD_WEBHOOK_URL", discord.url("/api/webhooks/1/x"))
        .env_remove("SLACK_WEBHOOK_URL");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1));
    let failed = |got: &[Request]| {
        got.iter()
            .filter(|r| r.text().contains("Manual intervention required"))
            .count()
    };
    assert_eq!(failed(&discord.received()), 2, "unacknowledged: sent again");
    for (name, sink) in sinks.each() {
        if name != "discord" && name != "slack" {
            assert_eq!(failed(&sink.received()), 1, "{name}");
        }
    }
    // It did notice that the previous run died mid-ladder.
    assert!(sb.log().contains("ended during level 4"), "{}", sb.log());
}

/// Hold under attack 22.18: `/start` and `/fail` go onto the URL's path,
/// not after its fragment (which no client sends: a failed run would ping
/// the success URL).
#[test]
fn a_heartbeat_url_with_a_fragment_still_pings_fail() {
    let sb = Sandbox::new("l4-heartbeat-fragment");
    let hb = Sink::start(vec![Answer::ok()]);
    let sinks = Sinks::all(vec![Answer::ok()]);
    let mut cmd = failing(&sb, &sinks, &[]);
    cmd.env("SELFHEAL_HEARTBEAT_URL", hb.url("/ping/uuid#my-note"));
    assert_eq!(run(cmd, LIMIT).code, Some(1));
    let paths: Vec<String> = hb
        .received()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(paths, ["GET /ping/uuid/start", "POST /ping/uuid/fail"]);
}

#[test]
fn heartbeat_pings_ok_and_fail() {
    let sb = Sandbox::new("l4-heartbeat");
    let hb = Sink::start(vec![Answer::ok()]);
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let mut cmd = sb.cmd(&["check"]);
    cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
        .env("SELFHEAL_HEARTBEAT_URL", hb.url("/ping/uuid-SECRET"));
    assert_eq!(run(cmd, LIMIT).code, Some(0));
    let sinks = Sinks::all(vec![Answer::ok()]);
    let mut cmd = failing(&sb, &sinks, &[]);
    cmd.env("SELFHEAL_HEARTBEAT_URL", hb.url("/ping/uuid-SECRET"));
    assert_eq!(run(cmd, LIMIT).code, Some(1));
    let paths: Vec<String> = hb
        .received()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    // Healthy: one GET. Healing: /start when it begins, then the end with
    // the run's log as a POST body (scrubbed, bounded).
    assert_eq!(
        paths,
        [
            "GET /ping/uuid-SECRET",
            "GET /ping/uuid-SECRET/start",
            "POST /ping/uuid-SECRET/fail"
        ]
    );
    let end = hb.received().pop().expect("end");
    let body = end.text();
    assert!(
        body.contains("starting level 2") && body.len() <= 10 * 1024,
        "{body}"
    );
    assert!(!body.contains("uuid-SECRET"), "{body}");
    // SELFHEAL_HEARTBEAT_MODE=exit: URL/<exit code>.
    let exit = Sink::start(vec![Answer::ok()]);
    let mut cmd = failing(&sb, &sinks, &[]);
    cmd.env("SELFHEAL_HEARTBEAT_URL", exit.url("/ping/x"))
        .env("SELFHEAL_HEARTBEAT_MODE", "exit");
    assert_eq!(run(cmd, LIMIT).code, Some(1));
    let mut cmd = sb.cmd(&["check"]);
    cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
        .env("SELFHEAL_HEARTBEAT_URL", exit.url("/ping/x"))
        .env("SELFHEAL_HEARTBEAT_MODE", "exit");
    assert_eq!(run(cmd, LIMIT).code, Some(0));
    let paths: Vec<String> = exit.received().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/ping/x/start", "/ping/x/1", "/ping/x/0"]);
    let dead = format!("http://127.0.0.1:{}/hb", dead_port());
    let mut cmd = sb.cmd(&["check"]);
    cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
        .env("SELFHEAL_HEARTBEAT_URL", dead);
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(0), "a failed heartbeat is only logged");
    assert!(
        r.stdout.contains("heartbeat") && r.stdout.contains("failed"),
        "{}",
        r.stdout
    );
}

#[test]
fn dry_run_prints_payloads_and_sends_nothing() {
    let sb = Sandbox::new("l4-dry");
    let sinks = Sinks::all(vec![Answer::ok()]);
    let mut cmd = failing(&sb, &sinks, &[]);
    cmd.arg("--dry-run");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stdout
            .contains("would send to discord (http://127.0.0.1:"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\"content\":"), "{}", r.stdout);
    for (name, sink) in sinks.each() {
        assert!(
            sink.received().is_empty(),
            "{name} got a message in a dry run"
        );
    }
    assert!(!r.all().contains(HOOK_SECRET) && !r.all().contains(TOKEN));
}

#[test]
fn notify_without_channels_is_a_usage_error() {
    let sb = Sandbox::new("l4-none");
    let r = run(sb.cmd(&["notify", "hi"]), LIMIT);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("no alert channel"), "{}", r.stderr);
    let r = run(sb.cmd(&["notify"]), LIMIT);
    assert_eq!(r.code, Some(2));
    let r = run(sb.cmd(&["notify", "--level", "loud", "x"]), LIMIT);
    assert_eq!(r.code, Some(2));
}

#[test]
fn monitor_alerts_once_about_a_failed_level3_log() {
    let sb = Sandbox::new("l4-monitor");
    let sinks = Sinks::all(vec![Answer::ok()]);
    std::fs::create_dir_all(sb.memory()).expect("mkdir");
    std::fs::write(
        sb.memory().join("emergency-recovery-2026-01-01-0101.log"),
        "old run\n=== MANUAL INTERVENTION REQUIRED ===\n",
    )
    .expect("write");
    let log = sb.memory().join("emergency-recovery-2026-11-24-070000.log");
    std::fs::write(&log, "agent tried\n=== MANUAL INTERVENTION REQUIRED ===\n").expect("write");
    let monitor = || {
        let mut cmd = sb.cmd(&["monitor"]);
        cmd.env(
            "DISCORD_WEBHOOK_URL",
            sinks.discord.url("/api/webhooks/1/x"),
        );
        run(cmd, LIMIT)
    };
    assert_eq!(monitor().code, Some(1));
    assert_eq!(monitor().code, Some(1));
    let got = sinks.discord.received();
    assert_eq!(got.len(), 1, "alerted twice");
    assert!(Sinks::text("discord", &got[0]).contains("emergency-recovery-2026-11-24-070000.log"));
    let sent =
        std::fs::read_to_string(sb.memory().join(".emergency-alert-sent")).expect("sent file");
    assert_eq!(sent.trim(), "emergency-recovery-2026-11-24-070000.log");
}

#[test]
fn reminders_only_when_asked_and_only_when_due() {
    let sb = Sandbox::new("l4-remind");
    let sinks = Sinks::all(vec![Answer::ok()]);
    let kinds = || titles(&sinks.discord.received());
    assert_eq!(run(failing(&sb, &sinks, &[]), LIMIT).code, Some(1));
    assert_eq!(run(failing(&sb, &sinks, &[]), LIMIT).code, Some(1));
    assert_eq!(
        kinds().len(),
        1,
        "no reminders without SELFHEAL_ALERT_REPEAT: {:?}",
        kinds()
    );
    std::thread::sleep(Duration::from_millis(1100));
    let repeat = [("SELFHEAL_ALERT_REPEAT", "1")];
    assert_eq!(run(failing(&sb, &sinks, &repeat), LIMIT).code, Some(1));
    assert_eq!(
        run(
            failing(&sb, &sinks, &[("SELFHEAL_ALERT_REPEAT", "3600")]),
            LIMIT
        )
        .code,
        Some(1)
    );
    let k = kinds();
    assert_eq!(k.len(), 2, "{k:?}");
    assert!(k[1].contains("still down"), "{k:?}");
}

const PD_KEY: &str = "R0UTINGKEY-SECRET";
const PO_TOKEN: &str = "apptoken-SECRET";
const GOTIFY_TOKEN: &str = "gotifytoken-SECRET";
const MATRIX_TOKEN: &str = "syt_matrix-SECRET";

/// PagerDuty, Pushover, Gotify and Matrix at these base URLs.
fn more_channels(cmd: &mut Command, [pd, po, gotify, mx]: [String; 4]) {
    cmd.env("PAGERDUTY_ROUTING_KEY", PD_KEY)
        .env("SELFHEAL_PAGERDUTY_API", pd)
        .env("PUSHOVER_TOKEN", PO_TOKEN)
        .env("PUSHOVER_USER", "userkey-SECRET")
        .env("SELFHEAL_PUSHOVER_API", po)
        .env("GOTIFY_URL", gotify)
        .env("GOTIFY_TOKEN", GOTIFY_TOKEN)
        .env("MATRIX_HOMESERVER", mx)
        .env("MATRIX_ROOM_ID", "!room:example.org")
        .env("MATRIX_ACCESS_TOKEN", MATRIX_TOKEN);
}

#[test]
fn pagerduty_pushover_gotify_and_matrix_page_once_and_resolve() {
    let sb = Sandbox::new("l4-more");
    let sink = Sink::start(vec![Answer::Reply(
        202,
        Vec::new(),
        "{\"status\":\"success\"}".into(),
    )]);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let check = || {
        let mut cmd = sb.failing_check();
        cmd.env("OPENCLAW_GATEWAY_URL", &url)
            .env("SELFHEAL_CONFIRM_PROBES", "0")
            .env("SELFHEAL_RESTART_CMD", fixture("fail.sh"));
        more_channels(
            &mut cmd,
            ["/pd", "/po", "/gotify", "/mx"].map(|p| sink.url(p)),
        );
        cmd
    };
    assert_eq!(run(check(), LIMIT).code, Some(1));
    assert_eq!(run(check(), LIMIT).code, Some(1), "the same incident");
    let srv = Server::start_on(port, Behaviour::Reply(200, "ok".into()));
    let r = run(check(), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    drop(srv);
    let got = sink.received();
    let at = |prefix: &str| -> Vec<Request> {
        got.iter()
            .filter(|r| r.path.starts_with(prefix))
            .cloned()
            .collect()
    };
    // PagerDuty: one trigger, then one resolve, with the same dedup key.
    let pd = at("/pd/v2/enqueue");
    let actions: Vec<String> = pd
        .iter()
        .map(|r| r.json()["event_action"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(actions, ["trigger", "resolve"], "{pd:?}");
    assert_eq!(pd[0].json()["routing_key"], PD_KEY);
    assert_eq!(pd[0].json()["payload"]["severity"], "critical");
    assert_eq!(pd[0].json()["dedup_key"], pd[1].json()["dedup_key"]);
    assert!(pd[0].json()["payload"]["summary"]
        .as_str()
        .is_some_and(|s| s.contains("every automatic recovery failed") && s.len() <= 1024));
    // Pushover: form-encoded, high priority for the page, low for resolved.
    let po = at("/po/1/messages.json");
    assert_eq!(po.len(), 2, "{po:?}");
    assert_eq!(
        po[0].header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = po[0].text();
    assert!(
        form.contains("priority=1") && form.contains("token=apptoken-SECRET"),
        "{form}"
    );
    assert!(po[1].text().contains("priority=-1"));
    // Gotify: the key in a header, never in the URL.
    let gotify = at("/gotify/message");
    assert_eq!(gotify.len(), 2);
    assert_eq!(gotify[0].header("X-Gotify-Key"), Some(GOTIFY_TOKEN));
    assert_eq!(gotify[0].json()["priority"], 8);
    // Matrix: PUT to the room, a bearer token, one transaction id per message.
    let mx = at("/mx/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/selfheal-");
    assert_eq!(
        mx.len(),
        2,
        "{:?}",
        got.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert_eq!(mx[0].method, "PUT");
    assert_eq!(
        mx[0].header("Authorization").map(str::to_string),
        Some(format!("Bearer {MATRIX_TOKEN}"))
    );
    assert_eq!(mx[0].json()["msgtype"], "m.text");
    assert_ne!(mx[0].path, mx[1].path);
    // No secret in the log or on the terminal.
    let all = format!("{}{}", sb.log(), r.all());
    for secret in [
        PD_KEY,
        PO_TOKEN,
        GOTIFY_TOKEN,
        MATRIX_TOKEN,
        "userkey-SECRET",
    ] {
        assert!(!all.contains(secret), "{secret} leaked");
    }
}

#[test]
fn each_new_channel_keeps_its_services_retry_rules() {
    let sb = Sandbox::new("l4-more-rules");
    // Matrix: rate-limited once (retry_after_ms), then accepted, with the same
    // transaction id. Pushover: a 429 is its monthly limit: not retried.
    // PagerDuty: 400 is an invalid event: not retried. Gotify: 401.
    let limited = "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":200}";
    let mx = Sink::start(vec![
        Answer::Reply(429, Vec::new(), limited.into()),
        Answer::ok(),
    ]);
    let po = Sink::start(vec![Answer::Reply(
        429,
        Vec::new(),
        "{\"status\":0,\"errors\":[\"application over its limit\"]}".into(),
    )]);
    let pd = Sink::start(vec![Answer::Reply(
        400,
        Vec::new(),
        "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\"}".into(),
    )]);
    let gotify = Sink::start(vec![Answer::status(401)]);
    let mut cmd = sb.cmd(&["notify", "--level", "error", "disk on fire"]);
    more_channels(&mut cmd, [&pd, &po, &gotify, &mx].map(|s| s.url("")));
    cmd.env("SELFHEAL_ALERT_TIMEOUT", "2");
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let m = mx.received();
    assert_eq!(m.len(), 2, "retried once");
    assert_eq!(m[0].path, m[1].path, "the same transaction id");
    assert!(m[1].at.duration_since(m[0].at) >= Duration::from_millis(190));
    assert_eq!(po.received().len(), 1, "Pushover's 429 is not retried");
    assert!(
        r.all().contains("application over its limit"),
        "{}",
        r.all()
    );
    assert_eq!(gotify.received().len(), 1);
    // A message of `notify` is not a page: PagerDuty does not get it.
    assert_eq!(pd.received().len(), 0, "PagerDuty takes pages only");
    // A page that PagerDuty refuses as invalid is not retried.
    let mut page = sb.failing_check();
    page.env("SELFHEAL_CONFIRM_PROBES", "0")
        .env("SELFHEAL_RESTART_CMD", fixture("fail.sh"))
        .env("PAGERDUTY_ROUTING_KEY", PD_KEY)
        .env("SELFHEAL_PAGERDUTY_API", pd.url(""));
    assert_eq!(run(page, LIMIT).code, Some(1));
    assert_eq!(pd.received().len(), 1);
    assert!(
        sb.log()
            .contains("failed permanently (HTTP 400: Event object is invalid)"),
        "{}",
        sb.log()
    );
}

/// selfheal's own "cannot run" and the service's outage are two PagerDuty
/// incidents: "runs again" resolves only the first.
#[test]
fn pagerduty_never_resolves_an_open_outage_when_selfheal_runs_again() {
    let sb = Sandbox::new("l4-pd-keys");
    let pd = Sink::start(vec![Answer::Reply(202, Vec::new(), "{}".into())]);
    let check = |extra: &[(&str, &str)]| {
        let mut cmd = sb.failing_check();
        cmd.env("SELFHEAL_CONFIRM_PROBES", "0")
            .env("SELFHEAL_RESTART_CMD", fixture("fail.sh"))
            .env("PAGERDUTY_ROUTING_KEY", PD_KEY)
            .env("SELFHEAL_PAGERDUTY_API", pd.url(""));
        for (k, v) in extra {
            cmd.env(k, v);
        }
        run(cmd, LIMIT)
    };
    // The service is down and paged; then a bad value, then fixed.
    assert_eq!(check(&[]).code, Some(1));
    assert_eq!(check(&[("HEALTH_CHECK_MAX_RETRIES", "many")]).code, Some(2));
    assert_eq!(check(&[]).code, Some(1));
    let events: Vec<(String, String)> = pd
        .received()
        .iter()
        .map(|r| {
            let v = r.json();
            (
                v["event_action"].as_str().unwrap_or("").to_string(),
                v["dedup_key"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let outage = &events[0].1;
    assert_eq!(events[0].0, "trigger", "{events:?}");
    let resolves: Vec<&(String, String)> = events.iter().filter(|(a, _)| a == "resolve").collect();
    assert_eq!(resolves.len(), 1, "{events:?}");
    assert_ne!(
        &resolves[0].1, outage,
        "runs_again resolved the open outage: {events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(a, k)| a == "trigger" && k == &resolves[0].1),
        "{events:?}"
    );
}

/// Hold under attack 22.16 and 22.21: text from outside — the service's
/// log lines, what the restart command printed, the command line of the
/// process on the port — reaches no channel, incident file or `why` with a
/// terminal escape in it, and Discord shows a masked link from a log line
/// as the text it is, not as a link that hides its target.
#[test]
fn text_from_outside_reaches_no_channel_or_file_as_escapes_or_markup() {
    let sb = Sandbox::new("l4-outside-text");
    let sinks = Sinks::all(vec![Answer::ok()]);
    let port = free_port();
    let pidfile = sb.root.join("pid\u{1b}[2Jhidden");
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _svc = Stop(
        Command::new(fixture("slow-service.py"))
            .args([&port.to_string(), "0", &pidfile.display().to_string()])
            .env("STATUS", "500")
            .spawn()
            .expect("service"),
    );
    assert!(wait_for(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    let log = sb.root.join("svc.log");
    std::fs::write(
        &log,
        "2026-12-06T03:00:00Z ERROR gateway: \u{1b}[31mfatal\u{1b}[0m token expired, \
         [reset your key](https://evil.example/steal)\n",
    )
    .expect("log");
    let url = format!("http://127.0.0.1:{port}/");
    let restart = "sh -c 'printf \"\\033[2Kboom [click](https://evil.example/)\\n\"; exit 1'";
    let extra = [
        ("OPENCLAW_GATEWAY_URL", url.as_str()),
        ("SELFHEAL_SERVICE_LOGS", log.to_str().expect("utf8")),
        ("SELFHEAL_RESTART_CMD", restart),
    ];
    let r = run(failing(&sb, &sinks, &extra), LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    for (name, sink) in sinks.each() {
        let got = sink.received();
        assert!(!got.is_empty(), "{name}: nothing received");
        for req in got {
            let raw = req.text();
            assert!(
                !raw.contains('\u{1b}') && !raw.to_ascii_lowercase().contains("\\u001b"),
                "{name}: an escape reached the channel: {raw}"
            );
        }
    }
    let content = sinks.discord.received()[0].json()["content"]
        .as_str()
        .unwrap_or("")
        .to_string();
    // The details; the commands to try are in a code block (and selfheal's).
    let details = content.split("Try:").next().unwrap_or("");
    assert!(
        details.contains("\\[reset your key\\](https://evil.example/steal)")
            && !details.contains("[reset your key](")
            && !details.contains("[click]("),
        "{content}"
    );
    let incident = std::fs::read_dir(sb.memory())
        .expect("memory")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("incident-"))
        .map(|e| std::fs::read_to_string(e.path()).expect("incident"))
        .expect("an incident file");
    assert!(!incident.contains('\u{1b}'), "{incident}");
    assert!(
        incident.contains("pid^[[2Jhidden"),
        "the port owner is missing: {incident}"
    );
    let mut why = sb.cmd(&["why"]);
    for (k, v) in extra {
        why.env(k, v);
    }
    let why = run(why, LIMIT);
    assert!(!why.all().contains('\u{1b}'), "{}", why.all());
}
