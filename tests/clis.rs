//! Level 3 and the readiness question with the real agent CLIs from the npm
//! registry (`@anthropic-ai/claude-code`, `@openai/codex`,
//! `@google/gemini-cli`), offline here as on a host whose network is gone
//! (or, where the network works, with keys that are not valid): each preset
//! must be recognised as unable to work within seconds — from the CLI's own
//! words, not at a timeout — its processes and tmux server gone, and the
//! fallback must take over. `.ci/run` installs them (`make clis`, into
//! `target/agent-clis`); elsewhere these tests say how and pass, unless
//! `SELFHEAL_REQUIRE_CLIS` is set (CI sets it).

use crate::agent::{agent, assert_sessions_gone, Scene};
use crate::common::*;
use std::path::PathBuf;
use std::time::Duration;

const OPENAI_KEY: &str = "sk-proj-selfheal-test-NOT-A-KEY-0123456789";
const GEMINI_KEY: &str = "AIzaSy-selfheal-test-NOT-A-KEY-0123456";

/// The directory with the CLIs' `node_modules/.bin`, or `None` (the test
/// then says how to install them and passes, unless CI requires them).
fn clis() -> Option<PathBuf> {
    let dir = std::env::var_os("SELFHEAL_CLIS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/agent-clis"),
        PathBuf::from,
    );
    let bin = dir.join("node_modules/.bin");
    let all = ["claude", "codex", "gemini"]
        .iter()
        .all(|c| bin.join(c).exists());
    if all {
        return Some(bin);
    }
    assert!(
        std::env::var_os("SELFHEAL_REQUIRE_CLIS").is_none(),
        "the agent CLIs are not installed in {}: run `make clis`",
        dir.display()
    );
    eprintln!(
        "skipped: the agent CLIs are not in {} (`make clis` installs them)",
        dir.display()
    );
    None
}

fn path_with(bin: &std::path::Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// No process of the CLI is left: nothing runs whose command line names
/// this sandbox.
fn assert_nothing_left(sb: &Sandbox) {
    let root = sb.root.display().to_string();
    let gone = wait_for(Duration::from_secs(5), || {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return true;
        };
        !dir.flatten().any(|e| {
            std::fs::read(e.path().join("cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&root))
                .unwrap_or(false)
        })
    });
    assert!(gone, "a process naming {root} is still running");
}

/// A preset, the keys it is given, and what its answer must say.
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

#[test]
fn doctor_agent_hears_each_real_cli_say_it_cannot_work_within_seconds() {
    let Some(bin) = clis() else { return };
    // (preset, extra keys, what the answer must say). Offline: measured
    // codex 0.171 ~7 s, gemini 0.61 ~3 s, claude 2.1 at once.
    let cases: &[Case] = &[
        ("claude", &[], &["not logged in"]),
        (
            "codex",
            &[("OPENAI_API_KEY", OPENAI_KEY)],
            &["cannot reach its API", "not logged in"],
        ),
        ("codex-oss", &[], &["cannot reach its API"]),
        ("gemini", &[], &["not logged in"]),
        (
            "gemini",
            &[("GEMINI_API_KEY", GEMINI_KEY)],
            &["cannot reach its API", "not logged in"],
        ),
    ];
    for (preset, keys, says) in cases {
        let sb = Sandbox::new(&format!("cli-doctor-{preset}"));
        let mut cmd = sb.cmd(&["doctor", "--agent"]);
        cmd.env("PATH", path_with(&bin))
            .env("SELFHEAL_AGENT", preset)
            .env("OPENCLAW_GATEWAY_URL", down_url());
        for (k, v) in *keys {
            cmd.env(k, v);
        }
        let r = run(cmd, LIMIT);
        let line = r
            .stdout
            .lines()
            .find(|l| l.contains("agent answer:"))
            .unwrap_or_else(|| panic!("{preset}: no agent answer: {}", r.all()))
            .to_string();
        assert!(line.starts_with('✗'), "{preset}: {line}");
        assert!(
            says.iter().any(|s| line.contains(s)),
            "{preset} {keys:?}: {line}"
        );
        // The question's bound is 60 s: ending well before it means the
        // CLI's own words ended it.
        assert!(
            r.elapsed < Duration::from_secs(45),
            "{preset}: took {:?}: {line}",
            r.elapsed
        );
        assert!(
            !r.all().contains(OPENAI_KEY) && !r.all().contains(GEMINI_KEY),
            "a key was shown: {}",
            r.all()
        );
        assert!(
            r.stdout.contains(&format!("agent kind: {preset}")),
            "{}",
            r.stdout
        );
        assert_nothing_left(&sb);
    }
}

#[test]
fn level_3_with_a_real_cli_that_cannot_work_hands_over_to_the_fallback() {
    let Some(bin) = clis() else { return };
    for (preset, key, said) in [
        (
            "codex",
            ("OPENAI_API_KEY", OPENAI_KEY),
            "Reconnecting... waiting for network",
        ),
        ("gemini", ("GEMINI_API_KEY", GEMINI_KEY), "fetch failed"),
        (
            "codex-oss",
            ("OPENAI_API_KEY", OPENAI_KEY),
            "OSS setup failed",
        ),
    ] {
        let s = Scene::new(&format!("cli-l3-{preset}"));
        let server = s.serve_when_fixed();
        let mut cmd = s.cmd(&["recover"], "");
        cmd.env_remove("SELFHEAL_AGENT_CMD")
            .env("PATH", path_with(&bin))
            .env("SELFHEAL_AGENT", preset)
            .env(key.0, key.1)
            .env("EMERGENCY_RECOVERY_TIMEOUT", "90")
            .env(
                "SELFHEAL_AGENT_FALLBACK_CMD",
                agent("--dialog none --behave fix"),
            );
        let r = run(cmd, LIMIT);
        let _srv = server.join().expect("server");
        let log = s.l3_log();
        assert_eq!(r.code, Some(0), "{preset}: {}\n{log}", r.all());
        assert!(
            log.contains("the agent cannot work:")
                && (log.contains(said) || log.contains("401") || log.contains("API key")),
            "{preset}: {log}"
        );
        assert!(log.contains("handing over to the fallback agent"), "{log}");
        // Recognised in seconds, not at the silence limit (30 s) or the
        // budget (90 s).
        assert!(
            r.elapsed < Duration::from_secs(60),
            "{preset}: took {:?}\n{log}",
            r.elapsed
        );
        assert!(!log.contains(key.1) && !r.all().contains(key.1), "{log}");
        assert_sessions_gone(&log);
        assert_nothing_left(&s.sb);
    }
}
