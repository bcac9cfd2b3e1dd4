//! Configuration through the real binary: env file discovery and format,
//! precedence, validation, and inputs that must never run or panic.

use crate::common::*;
use std::os::unix::ffi::OsStrExt;

fn probe(sb: &Sandbox) -> std::process::Command {
    sb.cmd(&["probe"])
}

#[test]
fn a_value_only_in_the_env_file_takes_effect() {
    let sb = Sandbox::new("envfile");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    sb.env_file(&format!(
        "# OpenClaw's file\r\nOPENAI_API_KEY=other-tool\r\nexport OPENCLAW_GATEWAY_URL=\"{}\" # ours\r\n",
        srv.url()
    ));
    let r = run(probe(&sb), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.stdout.contains(&srv.url()), "{}", r.stdout);
}

#[test]
fn environment_beats_file_and_flags_beat_both() {
    let sb = Sandbox::new("precedence");
    let good = Server::start(Behaviour::Reply(200, "ok".into()));
    let bad = down_url();
    sb.env_file(&format!("OPENCLAW_GATEWAY_URL={bad}\n"));
    let mut cmd = probe(&sb);
    cmd.env("OPENCLAW_GATEWAY_URL", good.url());
    assert_eq!(
        run(cmd, LIMIT).code,
        Some(0),
        "environment should win over the file"
    );

    let mut cmd = sb.cmd(&[
        "--set",
        &format!("OPENCLAW_GATEWAY_URL={}", good.url()),
        "probe",
    ]);
    cmd.env("OPENCLAW_GATEWAY_URL", &bad);
    assert_eq!(
        run(cmd, LIMIT).code,
        Some(0),
        "--set should win over the environment"
    );
}

#[test]
fn config_flag_and_selfheal_config_choose_the_file() {
    let sb = Sandbox::new("choose");
    let good = Server::start(Behaviour::Reply(200, "ok".into()));
    sb.env_file(&format!(
        "OPENCLAW_GATEWAY_URL=http://127.0.0.1:{}/\n",
        dead_port()
    ));
    let other = sb.root.join("other.env");
    std::fs::write(&other, format!("OPENCLAW_GATEWAY_URL={}\n", good.url())).expect("write");
    let path = other.to_str().expect("utf8");
    assert_eq!(
        run(sb.cmd(&["--config", path, "probe"]), LIMIT).code,
        Some(0)
    );
    let mut cmd = probe(&sb);
    cmd.env("SELFHEAL_CONFIG", &other);
    assert_eq!(run(cmd, LIMIT).code, Some(0));
    let r = run(sb.cmd(&["-c", "/nonexistent/env", "probe"]), LIMIT);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("/nonexistent/env"), "{}", r.stderr);
}

#[test]
fn each_invalid_value_exits_2_naming_the_key() {
    let cases: &[(&str, &str)] = &[
        ("HEALTH_CHECK_HTTP_TIMEOUT", "ten"),
        ("HEALTH_CHECK_HTTP_TIMEOUT", "-5"),
        ("HEALTH_CHECK_HTTP_TIMEOUT", ""),
        ("HEALTH_CHECK_HTTP_TIMEOUT", "99999999999999999999"),
        ("HEALTH_CHECK_MAX_RETRIES", "-1"),
        ("HEALTH_CHECK_MAX_RETRIES", "three"),
        ("HEALTH_CHECK_RETRY_DELAY", "1e999"),
        ("HEALTH_CHECK_ESCALATION_WAIT", "5 minutes"),
        ("SELFHEAL_POLL_INTERVAL", "0"),
        ("SELFHEAL_RESTART_TIMEOUT", "NaN"),
        ("SELFHEAL_EXPECT_STATUS", "2000"),
        ("SELFHEAL_RESTART_CMD", "'unterminated"),
        (
            "SELFHEAL_RESTART_CMD",
            "openclaw gateway restart && echo ok",
        ),
        ("OPENCLAW_GATEWAY_URL", "localhost:18789"),
        ("SELFHEAL_LOG_RETENTION_DAYS", "-14"),
        ("SELFHEAL_LANG", "de"),
        ("OPENCLAW_MEMORY_DIR", "memory"),
        ("SELFHEAL_ALERT_REPEAT", "often"),
        ("TELEGRAM_BOT_TOKEN", "123:abc"),
    ];
    for (key, value) in cases {
        let sb = Sandbox::new("invalid");
        let mut cmd = sb.cmd(&["check"]);
        cmd.env(key, value);
        let r = run(cmd, LIMIT);
        assert_eq!(r.code, Some(2), "{key}={value:?}: {}", r.all());
        assert!(r.stderr.contains(key), "{key}={value:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
        // Only its log (and the memory of the alert it could send) are
        // written: no lock, state, metrics or healing.
        let written: Vec<String> = std::fs::read_dir(sb.memory())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with("healthcheck-") && n != ".selfheal-cannot-run")
            .collect();
        assert!(
            written.is_empty(),
            "{key}: something was done before validation: {written:?}"
        );
    }
}

#[test]
fn non_utf8_values_and_arguments_are_errors_not_panics() {
    let sb = Sandbox::new("nonutf8");
    let bad = std::ffi::OsStr::from_bytes(b"\xff\xfe");
    let mut cmd = probe(&sb);
    cmd.env("OPENCLAW_GATEWAY_URL", bad);
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("OPENCLAW_GATEWAY_URL"));

    let mut cmd = std::process::Command::new(BIN);
    cmd.env_clear().env("HOME", &sb.home).arg(bad);
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());

    sb.env_file("");
    std::fs::write(
        sb.home.join(".openclaw/.env"),
        b"OPENCLAW_GATEWAY_URL=\xff\n",
    )
    .expect("write");
    let r = run(probe(&sb), LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains(".env:1"), "{}", r.stderr);
}

#[test]
fn shell_syntax_in_the_env_file_is_never_run() {
    let sb = Sandbox::new("inject");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let pwned = sb.root.join("pwned");
    let p = pwned.display();
    // A foreign key: ignored, never run. Our key: refused with exit 2.
    sb.env_file(&format!(
        "OTHER=$(touch {p})\nALSO=`touch {p}`\nOPENCLAW_GATEWAY_URL={}\n",
        srv.url()
    ));
    let r = run(sb.cmd(&["check"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    sb.env_file(&format!("SELFHEAL_RESTART_CMD=$(touch {p})\n"));
    let r = run(sb.cmd(&["check"]), LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("SELFHEAL_RESTART_CMD"), "{}", r.stderr);
    sb.env_file(&format!("SELFHEAL_RESTART_CMD=\"touch {p}; touch {p}\"\n"));
    let r = run(sb.cmd(&["check"]), LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(!pwned.exists(), "something in the env file was executed");
}

#[test]
fn env_file_format_problems() {
    let sb = Sandbox::new("format");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    // A BOM, CRLF, an unterminated quote on a foreign key (warned, ignored).
    sb.env_file(&format!(
        "\u{feff}OPENCLAW_GATEWAY_URL={}\r\nOTHER=\"open\r\nSELFHEAL_TYPO_KEY=1\r\n",
        srv.url()
    ));
    let r = run(sb.cmd(&["check"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(
        r.stdout.contains("unknown key SELFHEAL_TYPO_KEY"),
        "{}",
        r.stdout
    );
    // An unterminated quote on one of ours: exit 2 with file and line.
    sb.env_file("A=1\nHEALTH_CHECK_MAX_RETRIES=\"3\n");
    let r = run(sb.cmd(&["check"]), LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(
        r.stderr.contains(".env:2") && r.stderr.contains("unterminated"),
        "{}",
        r.stderr
    );
}

#[test]
fn env_file_modes_warn_or_refuse() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new("modes");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let path = sb.env_file(&format!("OPENCLAW_GATEWAY_URL={}\n", srv.url()));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let r = run(sb.cmd(&["check"]), LIMIT);
    assert_eq!(r.code, Some(0));
    assert!(
        r.stdout.contains("readable by others") && r.stdout.contains("chmod 600"),
        "{}",
        r.stdout
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let r = run(sb.cmd(&["check"]), LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("writable by others"), "{}", r.stderr);
}

#[test]
fn usage_errors_help_and_version() {
    let sb = Sandbox::new("usage");
    for args in [
        &["bogus"][..],
        &[],
        &["check", "--bogus"],
        &["--set", "NOPE=1", "probe"],
    ] {
        let r = run(sb.cmd(args), LIMIT);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.all());
        assert_eq!(r.stdout, "");
    }
    for args in [
        &["--help"][..],
        &["check", "--help"],
        &["probe", "-h"],
        &["rotate", "--help"],
    ] {
        let r = run(sb.cmd(args), LIMIT);
        assert_eq!(r.code, Some(0));
        assert!(
            r.stdout.contains("Usage: selfheal"),
            "{args:?}: {}",
            r.stdout
        );
    }
    let r = run(sb.cmd(&["--version"]), LIMIT);
    assert!(r.stdout.starts_with("selfheal "), "{}", r.stdout);
}

#[test]
fn version_says_target_commit_date_and_tls() {
    let sb = Sandbox::new("version");
    let r = run(sb.cmd(&["--version"]), LIMIT);
    let line = r.stdout.trim();
    let head = format!("selfheal {} (", env!("CARGO_PKG_VERSION"));
    let inner = line
        .strip_prefix(&head)
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line}"));
    let parts: Vec<&str> = inner.split(", ").collect();
    assert_eq!(parts.len(), 4, "{line}");
    assert!(parts[0].contains('-'), "target: {line}");
    assert!(
        parts[1] == "unknown"
            || (parts[1].len() == 7 && parts[1].chars().all(|c| c.is_ascii_hexdigit())),
        "commit: {line}"
    );
    let date = parts[2].as_bytes();
    assert!(
        parts[2] == "unknown" || (date.len() == 10 && date[4] == b'-' && date[7] == b'-'),
        "date: {line}"
    );
    assert_eq!(parts[3], "tls", "{line}");
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let sb = Sandbox::new("epipe");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{BIN}' --help | head -c 1 >/dev/null; '{BIN}' probe --json | true"
        ))
        .env("HOME", &sb.home)
        .output()
        .expect("sh");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn the_env_example_names_every_key_and_its_uncommented_form_is_valid() {
    let example = std::fs::read_to_string(format!(
        "{}/contrib/selfheal.env.example",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("example");
    for key in selfheal::config::keys::all().map(|k| k.name) {
        assert!(
            example.contains(&format!("#{key}=")),
            "{key} missing from the example"
        );
    }
    // Every feature it names works: nothing is "planned".
    assert!(!example.to_lowercase().contains("planned"), "{example}");
    // Uncommenting every line gives the defaults: a valid configuration.
    let sb = Sandbox::new("example");
    let text: String = example
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .filter(|l| l.contains('=') && !l.starts_with(' '))
        .map(|l| format!("{l}\n"))
        .collect();
    sb.env_file(&text);
    let r = run(sb.cmd(&["--dry-run", "check"]), LIMIT);
    assert_ne!(r.code, Some(2), "{}", r.all());
}

#[test]
fn typos_of_our_keys_commands_and_flags_say_did_you_mean() {
    let sb = Sandbox::new("typos");
    sb.env_file(
        "HEALTH_CHECK_TIMEOUT=abc\nOPENAI_API_KEY=sk-not-ours\nSELFHEAL_POLL_INTERVALL=1\n",
    );
    let mut doctor = sb.cmd(&["doctor"]);
    doctor.env("OPENCLAW_GATEWAY_URL", down_url());
    let r = run(doctor, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    for needle in [
        "✗ configuration: ",
        "unknown key HEALTH_CHECK_TIMEOUT (did you mean HEALTH_CHECK_HTTP_TIMEOUT?)",
        "unknown key SELFHEAL_POLL_INTERVALL (did you mean SELFHEAL_POLL_INTERVAL?)",
    ] {
        assert!(r.stdout.contains(needle), "{needle} not in {}", r.stdout);
    }
    assert!(
        !r.stdout.contains("OPENAI_API_KEY"),
        "another program's key: {}",
        r.stdout
    );
    let r = run(sb.cmd(&["chek"]), LIMIT);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("did you mean check?"), "{}", r.stderr);
    let r = run(sb.cmd(&["probe", "--jsno"]), LIMIT);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("did you mean --json?"), "{}", r.stderr);
}

/// A `.env` of the old scripts works as it is: their keys are taken where
/// they mean what ours mean, the rest is named by `doctor`, nothing warns on
/// every run.
#[test]
fn the_old_scripts_keys_are_accepted_and_doctor_names_them() {
    let sb = Sandbox::new("old-keys");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let sink = Sink::start(vec![Answer::ok()]);
    let port = srv
        .url()
        .rsplit(':')
        .next()
        .unwrap_or("")
        .trim_end_matches('/')
        .to_string();
    sb.env_file(&format!(
        "OPENCLAW_GATEWAY_PORT={port}\n\
         OPENCLAW_GATEWAY_TOKEN=gateway-own-secret\n\
         OPENCLAW_WATCHDOG_HEALTH_TIMEOUT=7\n\
         OPENCLAW_WATCHDOG_CRASH_DECAY_HOURS=6\n\
         OPENCLAW_WATCHDOG_MEMORY_WARN_MB=1536\n\
         OPENCLAW_WATCHDOG_ESCALATE_TO_L3_AFTER=1800\n\
         NOTIFICATION_CHANNEL=slack\n\
         SLACK_WEBHOOK_URL={}\n\
         DISCORD_WEBHOOK_URL={}\n\
         NTFY_TOPIC=mytopic\n\
         NTFY_SERVER={}\n",
        sink.url("/slack"),
        sink.url("/discord"),
        sink.url("")
    ));
    let r = run(sb.cmd(&["--quiet", "check"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(r.stderr, "", "old keys must not warn on every run");
    let r = run(sb.cmd(&["doctor"]), LIMIT);
    for line in [
        "old key: OPENCLAW_GATEWAY_PORT is the old name of OPENCLAW_GATEWAY_URL",
        "old key: OPENCLAW_WATCHDOG_HEALTH_TIMEOUT is the old name of HEALTH_CHECK_HTTP_TIMEOUT",
        "old key: NOTIFICATION_CHANNEL is the old name of SELFHEAL_CHANNELS",
        "old key: OPENCLAW_WATCHDOG_ESCALATE_TO_L3_AFTER of the old scripts means nothing here",
        "alerts go only to slack",
    ] {
        assert!(r.stdout.contains(line), "{line}: {}", r.stdout);
    }
    assert!(!r.stdout.contains("OPENCLAW_GATEWAY_TOKEN"), "{}", r.stdout);
    let r = run(sb.cmd(&["doctor", "--json"]), LIMIT);
    assert!(
        r.stdout.contains("the service's memory over 1.5 GiB"),
        "{}",
        r.stdout
    );
    // NOTIFICATION_CHANNEL=slack: only Slack is told.
    let r = run(sb.cmd(&["notify", "hello"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let paths: Vec<String> = sink.received().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/slack"]);
    // NTFY_TOPIC + NTFY_SERVER make NTFY_URL.
    let mut ntfy = sb.cmd(&["notify", "hello"]);
    ntfy.env("SELFHEAL_CHANNELS", "ntfy");
    assert_eq!(run(ntfy, LIMIT).code, Some(0));
    assert_eq!(
        sink.received().last().map(|r| r.path.clone()).as_deref(),
        Some("/mytopic")
    );
}

#[test]
fn a_maintenance_day_of_more_than_one_byte_is_a_configuration_error_not_a_panic() {
    let sb = Sandbox::new("window-utf8");
    for window in ["Mié 02:00-03:00", "Mo–Fr 12:00-12:10"] {
        for command in ["check", "doctor"] {
            let mut cmd = sb.cmd(&[command]);
            cmd.env("OPENCLAW_GATEWAY_URL", down_url())
                .env("SELFHEAL_MAINTENANCE", window);
            let r = run(cmd, LIMIT);
            assert_ne!(r.code, Some(134), "{window}: {}", r.all());
            assert!(
                r.all().contains("SELFHEAL_MAINTENANCE"),
                "{window}: {}",
                r.all()
            );
        }
    }
}

#[test]
fn a_group_writable_env_file_of_the_users_own_group_is_read_and_a_refused_one_still_pings() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new("modes-group");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let sink = Sink::start(vec![Answer::ok()]);
    let path = sb.env_file(&format!(
        "OPENCLAW_GATEWAY_URL={}\nSELFHEAL_HEARTBEAT_URL={}\nSELFHEAL_WEBHOOK_URL={}\n",
        srv.url(),
        sink.url("/ping"),
        sink.url("/hook")
    ));
    // umask 002: rw for the user and the user's private group (here, as
    // root, the group root with no other member).
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660)).expect("chmod");
    let r = run(sb.cmd(&["check"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(!r.all().contains("writable by others"), "{}", r.all());
    let doctor = run(sb.cmd(&["doctor"]), LIMIT);
    assert!(
        doctor.stdout.contains("✓ env file mode: 660"),
        "{}",
        doctor.stdout
    );
    // Writable by everyone: refused, and never silent — the heartbeat hears
    // it; the channels (which an impostor could have set) do not.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let before = sink.received().len();
    let r = run(sb.cmd(&["check"]), LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    let got: Vec<String> = sink.received()[before..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert!(got.contains(&"/ping/fail".to_string()), "{got:?}");
    assert!(!got.contains(&"/hook".to_string()), "{got:?}");
}

/// Say it right 26.4: doctor gives one verdict on the configuration, first;
/// an interval key says the interval is the scheduler's; an old key's line
/// says "key" once.
#[test]
fn doctor_gives_one_configuration_verdict_first() {
    let sb = Sandbox::new("doctor-one-verdict");
    sb.env_file("HEALTH_CHECK_INTERVAL=300\nNOTIFICATION_CHANNEL=slack\n");
    let out = run(sb.cmd(&["doctor"]), LIMIT).stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[1].starts_with("✗ configuration: "), "{out}");
    assert!(
        lines[1].contains("HEALTH_CHECK_INTERVAL") && lines[1].contains("./install.sh --interval"),
        "{out}"
    );
    assert_eq!(out.matches("configuration: valid").count(), 0, "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.contains("HEALTH_CHECK_INTERVAL"))
            .count(),
        1,
        "{out}"
    );
    assert!(
        out.contains("· old key: NOTIFICATION_CHANNEL is the old name"),
        "{out}"
    );
}

/// Issue 24.2: the old watchdog's critical memory threshold becomes the
/// planned-restart limit, and doctor says that selfheal restarts where the
/// old watchdog only alerted.
#[test]
fn the_old_critical_memory_key_becomes_the_restart_limit_and_doctor_says_so() {
    let sb = Sandbox::new("old-memory-critical");
    sb.env_file("OPENCLAW_WATCHDOG_MEMORY_CRITICAL_MB=2048\n");
    let out = run(sb.cmd(&["doctor"]), LIMIT).stdout;
    assert!(
        out.contains(
            "OPENCLAW_WATCHDOG_MEMORY_CRITICAL_MB is the old name of SELFHEAL_RESTART_RSS"
        ) && out.contains("The old watchdog only alerted at this threshold; selfheal restarts"),
        "{out}"
    );
}

/// Issue 24.3: the old scripts' LLM provider becomes the agent preset that
/// speaks to it (`ollama` → Codex with a local model), their model the
/// preset's model flag; doctor says what they became.
#[test]
fn the_old_llm_provider_becomes_an_agent_preset() {
    for (provider, preset, program) in [
        ("ollama", "codex-oss", "codex exec --oss"),
        ("openai", "codex", "codex exec --skip-git-repo-check"),
        ("gemini", "gemini", "gemini --skip-trust"),
        ("claude", "claude", "claude"),
    ] {
        let sb = Sandbox::new(&format!("old-llm-{provider}"));
        sb.env_file(&format!(
            "OPENCLAW_LLM_PROVIDER={provider}\nOPENCLAW_LLM_MODEL=qwen3-coder\n"
        ));
        let mut cmd = sb.cmd(&["doctor"]);
        cmd.env("OPENCLAW_GATEWAY_URL", down_url());
        let r = run(cmd, LIMIT);
        for line in [
            "old key: OPENCLAW_LLM_PROVIDER is the old name of SELFHEAL_AGENT".to_string(),
            "old key: OPENCLAW_LLM_MODEL is the old name of SELFHEAL_AGENT_MODEL".to_string(),
            format!("agent kind: {preset} ("),
        ] {
            assert!(r.stdout.contains(&line), "{provider}: {line}: {}", r.stdout);
        }
        let agent = r
            .stdout
            .lines()
            .find(|l| l.contains(" agent: "))
            .unwrap_or_else(|| panic!("{}", r.stdout));
        assert!(agent.contains(program), "{provider}: {agent}");
        // The model goes to the preset's command with its own flag.
        let flag = if preset == "claude" { "--model" } else { "-m" };
        assert!(
            agent.contains(&format!("{flag} qwen3-coder")),
            "{provider}: {agent}"
        );
        assert!(!r.stdout.contains("means nothing here"), "{}", r.stdout);
    }
    // A value no preset has is a clear error naming the key.
    let sb = Sandbox::new("old-llm-bad");
    sb.env_file("OPENCLAW_LLM_PROVIDER=mistral\n");
    let r = run(sb.cmd(&["doctor"]), LIMIT);
    assert!(
        r.all().contains("SELFHEAL_AGENT") && r.all().contains("expected auto, claude, codex"),
        "{}",
        r.all()
    );
}
