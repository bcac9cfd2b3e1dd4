//! Whether the agent can work, asked before it is needed: one tiny
//! non-interactive request through the configured agent (for Claude Code,
//! print mode: `claude … -p "<question>"`), bounded to `TIMEOUT`, its answer
//! read for the CLI's own failure messages. Used by `doctor --agent` and, at
//! most once per `SELFHEAL_AGENT_CHECK_INTERVAL`, by a healthy `check`
//! (`ladder::level3::readiness`). It spends a few tokens; nothing else.

use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::error::Result;
use crate::sys::clock::Clock;
use crate::sys::process::{self, Outcome, Signals};
use crate::sys::which::{find_program, SEARCHED};

/// The longest the question may take.
pub const TIMEOUT: Duration = Duration::from_secs(60);
const QUESTION: &str = "Reply with the single word OK and nothing else.";

/// What the agent's answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ready {
    Works(Duration),
    NotFound(String),
    NotLoggedIn(String),
    Quota(String),
    NoNetwork(String),
    /// It did not answer within `TIMEOUT`.
    Silent,
    /// Anything else: how it ended and its last line.
    Failed(String),
}

impl Ready {
    /// The `agent_check` metric's result.
    pub fn key(&self) -> &'static str {
        match self {
            Ready::Works(_) => "works",
            Ready::NotFound(_) => "not_found",
            Ready::NotLoggedIn(_) => "not_logged_in",
            Ready::Quota(_) => "quota",
            Ready::NoNetwork(_) => "no_network",
            Ready::Silent => "timeout",
            Ready::Failed(_) => "failed",
        }
    }

    pub fn works(&self) -> bool {
        matches!(self, Ready::Works(_))
    }

    /// One line for doctor, the log and the alert.
    pub fn describe(&self) -> String {
        match self {
            Ready::Works(t) => format!("works (answered in {:.1} s)", t.as_secs_f64()),
            Ready::NotFound(s) => format!("not found: {s}"),
            Ready::NotLoggedIn(s) => format!("not logged in: {s}"),
            Ready::Quota(s) => format!("usage limit or quota reached: {s}"),
            Ready::NoNetwork(s) => format!("cannot reach its API (no network?): {s}"),
            Ready::Silent => format!("no answer within {} s", TIMEOUT.as_secs()),
            Ready::Failed(s) => format!("failed: {s}"),
        }
    }

    /// What the user can do about it.
    pub fn fix(&self) -> &'static str {
        match self {
            Ready::Works(_) => "",
            Ready::NotFound(_) => {
                "install the agent, or set SELFHEAL_AGENT_CMD to its absolute path"
            }
            Ready::NotLoggedIn(_) => {
                "log in as this user (run `claude` once, then /login), or set ANTHROPIC_API_KEY"
            }
            Ready::Quota(_) => {
                "wait for the limit to reset, raise it, or set SELFHEAL_AGENT_FALLBACK_CMD"
            }
            Ready::NoNetwork(_) => {
                "check this host's network and proxy settings for the agent's API"
            }
            Ready::Silent | Ready::Failed(_) => {
                "run the agent by hand as this user and see what it says"
            }
        }
    }
}

/// Phrases of the CLIs' own messages, by what they mean.
const NOT_LOGGED_IN: &[&str] = &[
    "please run /login",
    "not logged in",
    "invalid api key",
    "authentication_error",
    "oauth token has expired",
    "login required",
];
const QUOTA: &[&str] = &[
    "usage limit",
    "rate_limit_error",
    "api error: 429",
    "credit balance is too low",
    "quota",
];
const NO_NETWORK: &[&str] = &[
    "unable to connect to anthropic services",
    "failed to connect to api.anthropic.com",
    "enotfound",
    "econnrefused",
    "etimedout",
    "getaddrinfo",
    "network is unreachable",
];

/// The argv of the question: `{prompt}` / `{prompt_file}` filled in where
/// the command has them, else the command with `-p <question>` appended.
fn argv(agent: &[String], program: &Path, question_file: &Path) -> Vec<String> {
    let (mut argv, batch) = super::fill_argv(agent, program, question_file, QUESTION);
    if !batch {
        argv.extend(["-p".to_string(), QUESTION.to_string()]);
    }
    argv
}

/// Asks `agent` the question, from `workdir`, with the agent's environment.
pub fn ask(config: &Config, agent: &[String], clock: &dyn Clock) -> Result<Ready> {
    let Some(name) = agent.first() else {
        return Ok(Ready::NotFound("no command".into()));
    };
    let Some(program) = find_program(name) else {
        return Ok(Ready::NotFound(format!("`{name}` (looked on {SEARCHED})")));
    };
    let dir = &config.memory_dir;
    let question = dir.join(".agent-check.txt");
    crate::sys::files::write_atomic(&question, QUESTION.as_bytes())?;
    let env = super::agent_env(config);
    let done = process::run_with_env(
        &argv(agent, &program, &question),
        TIMEOUT,
        &dir.join(".agent-check-output"),
        clock,
        &env,
        Signals::Stop,
    );
    let _ = std::fs::remove_file(&question);
    let _ = std::fs::remove_file(dir.join(".agent-check-output"));
    let done = done?;
    let said = crate::sys::redact::scrub(&done.output, &config.secrets());
    // The answer is a line that says OK (not "ok" inside other words).
    let answered = said.lines().any(|l| {
        l.trim()
            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .eq_ignore_ascii_case("ok")
    });
    let line = |phrases: &[&str]| {
        said.lines()
            .find(|l| {
                let l = l.to_lowercase();
                phrases.iter().any(|p| l.contains(p))
            })
            .map(|l| l.trim().chars().take(160).collect::<String>())
    };
    Ok(if let Some(l) = line(NOT_LOGGED_IN) {
        Ready::NotLoggedIn(l)
    } else if let Some(l) = line(QUOTA) {
        Ready::Quota(l)
    } else if let Some(l) = line(NO_NETWORK) {
        Ready::NoNetwork(l)
    } else {
        match &done.outcome {
            Outcome::NotStarted(e) => Ready::NotFound(e.to_string()),
            Outcome::TimedOut => Ready::Silent,
            _ if done.success() && answered => Ready::Works(done.elapsed),
            _ => Ready::Failed(match done.last_line() {
                Some(l) => format!("{}: {l}", done.describe()),
                None => done.describe(),
            }),
        }
    })
}

/// Flags of an interactive Claude Code command that let it work
/// unattended; without one it stops at its first permission prompt.
pub fn stalls_unattended(agent: &[String]) -> bool {
    let is_claude = agent.first().is_some_and(|p| p.ends_with("claude"));
    let permitted = agent.iter().any(|a| {
        a.starts_with("--permission-mode")
            || a.starts_with("--allowedTools")
            || a == "--dangerously-skip-permissions"
    });
    is_claude && !permitted
}
