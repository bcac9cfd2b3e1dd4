//! Whether the agent can work, asked before it is needed: one tiny
//! non-interactive request through the configured agent (for Claude Code,
//! print mode: `claude … -p "<question>"`), bounded to `TIMEOUT`, its answer
//! read for the CLI's own failure messages (its profile's words). Used by `doctor --agent` and, at
//! most once per `SELFHEAL_AGENT_CHECK_INTERVAL`, by a healthy `check`
//! (`ladder::level3::readiness`). It spends a few tokens; nothing else.

use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::error::Result;
use crate::profile::{Agent, Cannot, Profile};
use crate::sys::clock::Clock;
use crate::sys::process::{self, Outcome};
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

    /// What the user can do about it, for `profile`'s CLI.
    pub fn fix(&self, profile: &Profile) -> String {
        match self {
            Ready::Works(_) => String::new(),
            Ready::NotFound(_) => format!(
                "install it{}, or set SELFHEAL_AGENT_CMD to its absolute path",
                match profile.package {
                    "" => String::new(),
                    p => format!(" (npm install -g {p})"),
                }
            ),
            Ready::NotLoggedIn(_) => format!("it needs {}", profile.needs),
            Ready::Quota(_) => {
                "wait for the limit to reset, raise it, or set SELFHEAL_AGENT_FALLBACK_CMD".into()
            }
            Ready::NoNetwork(_) => format!(
                "check this host's network and proxy settings for the agent's API (it needs {})",
                profile.needs
            ),
            Ready::Silent | Ready::Failed(_) => {
                "run the agent by hand as this user and see what it says".into()
            }
        }
    }
}

/// The argv of the question: `{prompt_file}` (and the rest) filled in
/// where the command has it, else the command with the profile's question
/// words (`-p <question>`) appended.
fn argv(agent: &Agent, program: &Path, question_file: &Path, dir: &Path) -> Vec<String> {
    let mut argv = super::fill_argv(agent, program, question_file, QUESTION, dir);
    argv.extend(
        agent
            .ask_suffix()
            .iter()
            .map(|a| a.replace("{question}", QUESTION)),
    );
    argv
}

/// Asks `agent` the question, from the memory directory, with the agent's
/// environment; stops as soon as the CLI says it cannot work (they retry
/// for minutes when the network is gone).
pub fn ask(config: &Config, agent: &Agent, clock: &dyn Clock) -> Result<Ready> {
    let Some(name) = agent.argv.first() else {
        return Ok(Ready::NotFound("no command".into()));
    };
    let Some(program) = find_program(name) else {
        return Ok(Ready::NotFound(format!("`{name}` (looked on {SEARCHED})")));
    };
    let dir = &config.memory_dir;
    let question = dir.join(".agent-check.txt");
    crate::sys::files::write_atomic(&question, QUESTION.as_bytes())?;
    let env = super::agent_env(config, agent.profile);
    let profile = agent.profile;
    let said_so = std::cell::RefCell::new(None);
    let enough = |so_far: &str| {
        let found = cannot_work(profile, so_far);
        let stop = found.is_some();
        *said_so.borrow_mut() = found;
        stop
    };
    let done = process::run_until(
        &argv(agent, &program, &question, dir),
        TIMEOUT,
        &dir.join(".agent-check-output"),
        clock,
        &env,
        &enough,
    );
    let _ = std::fs::remove_file(&question);
    let _ = std::fs::remove_file(dir.join(".agent-check-output"));
    let done = done?;
    let secrets = config.secrets();
    let scrub = |l: &str| crate::sys::redact::scrub(l, &secrets);
    // The answer is a line that says OK (not "ok" inside other words).
    let answered = done.output.lines().any(|l| {
        l.trim()
            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .eq_ignore_ascii_case("ok")
    });
    let cannot = said_so
        .into_inner()
        .or_else(|| cannot_work(profile, &done.output));
    Ok(match cannot {
        Some((Cannot::NotLoggedIn, l)) => Ready::NotLoggedIn(scrub(&l)),
        Some((Cannot::Quota, l)) => Ready::Quota(scrub(&l)),
        Some((Cannot::NoNetwork, l)) => Ready::NoNetwork(scrub(&l)),
        None => match &done.outcome {
            Outcome::NotStarted(e) => Ready::NotFound(e.to_string()),
            Outcome::TimedOut => Ready::Silent,
            _ if done.success() && answered => Ready::Works(done.elapsed),
            _ => Ready::Failed(match done.last_line() {
                Some(l) => format!("{}: {}", done.describe(), scrub(l)),
                None => done.describe(),
            }),
        },
    })
}

/// The first line of `text` in which the CLI says it cannot work, and why.
fn cannot_work(profile: &Profile, text: &str) -> Option<(Cannot, String)> {
    text.lines().find_map(|l| {
        profile.cannot(l).map(|c| {
            let l = crate::sys::redact::printable(l.trim());
            (c, l.chars().take(160).collect())
        })
    })
}
