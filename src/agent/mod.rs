//! Level 3: a coding agent (Claude Code by default; any CLI of
//! `crate::profile`) diagnoses and repairs the
//! service inside a private tmux session, in this process, within
//! `EMERGENCY_RECOVERY_TIMEOUT`.
//!
//! `recover` runs the agent, then its fallback if the first cannot work, and
//! keeps the record (session scrollback, level 3 log, learnings, metric)
//! whatever happened; the tmux server is gone when it returns — or unwinds.
//! Interactive agents get their trust dialog and prompt from `dialog`; agents
//! whose command has `{prompt}` or `{prompt_file}` are run with it and are
//! done when they exit. `watch` decides when it is over, on evidence.
//! Whether level 3 should run at all is the ladder's decision, not this
//! module's.

mod dialog;
mod learning;
pub mod prompt;
pub mod ready;
pub mod tmux;
mod watch;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::fmt::fmt_secs;
use crate::key::shellwords;
use crate::probe::Probe;
use crate::profile::{Agent, Profile};
use crate::sys::clock::{local_now, unix_now};
use crate::sys::files;
use crate::sys::log::{file_stamp, stamp};
use crate::sys::metrics::{Metric, EMERGENCY_FILE};
use crate::sys::which::{self, find_program, SEARCHED};
use learning::{one_line, Learning};
use prompt::Vars;
use tmux::History;
use watch::End;

pub const LEARNINGS_FILE: &str = "recovery-learnings.md";
pub const FAILURE_MARKER: &str = "=== MANUAL INTERVENTION REQUIRED ===";
/// What is read of the agent's report (its sections are a few lines each).
const REPORT_MAX: u64 = 256 << 10;
/// A prompt template larger than this is not a template.
const PROMPT_MAX: u64 = 256 << 10;

/// How level 3 ended: the `emergency_recovery` metric's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The agent worked and selfheal's own probe says healthy (`true`).
    Recovered,
    /// It ran and the service is still unhealthy (`false`).
    NotRecovered,
    /// tmux or every agent is missing (`dependency_failed`); costs no cooldown.
    DependencyFailed,
    /// tmux refused to run the session (`tmux_failed`).
    TmuxFailed,
    /// Not started: a recent level 3 failed (`cooldown`; recorded by the ladder).
    Cooldown,
}

impl Recovery {
    pub fn as_str(self) -> &'static str {
        match self {
            Recovery::Recovered => "true",
            Recovery::NotRecovered => "false",
            Recovery::DependencyFailed => "dependency_failed",
            Recovery::TmuxFailed => "tmux_failed",
            Recovery::Cooldown => "cooldown",
        }
    }
}

/// How level 3 ended, for the ladder and the alert.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub result: Recovery,
    /// One line for the log and the alert.
    pub detail: String,
    pub log_path: PathBuf,
    /// From the agent's report, one line each.
    pub root_cause: Option<String>,
    pub solution: Option<String>,
    /// The fix script the agent wrote, if it did.
    pub fix: Option<PathBuf>,
}

impl Outcome {
    pub fn recovered(&self) -> bool {
        self.result == Recovery::Recovered
    }
}

/// The files of one level 3 run.
struct Paths {
    ts: String,
    log: PathBuf,
    session: PathBuf,
    report: PathBuf,
    reasoning: PathBuf,
    fix: PathBuf,
    learnings: PathBuf,
    prompt: PathBuf,
}

impl Paths {
    fn new(dir: &Path) -> Paths {
        let ts = file_stamp(local_now());
        Paths {
            log: dir.join(format!("emergency-recovery-{ts}.log")),
            session: dir.join(format!("claude-session-{ts}.log")),
            report: dir.join(format!("emergency-recovery-report-{ts}.md")),
            reasoning: dir.join(format!("claude-reasoning-{ts}.md")),
            fix: dir.join(format!("emergency-recovery-fix-{ts}.sh")),
            learnings: dir.join(LEARNINGS_FILE),
            prompt: dir.join(format!(".agent-prompt-{ts}.txt")),
            ts,
        }
    }
}

/// The level 3 log: its own file, each line mirrored to the run log.
struct L3Log {
    path: PathBuf,
}

impl L3Log {
    fn line(&self, ctx: &mut Ctx, msg: &str) {
        ctx.log.act(format!("level 3: {msg}"));
        self.raw(&format!("[{}] {msg}\n", stamp(local_now())));
    }

    fn raw(&self, text: &str) {
        if let Ok(mut f) = files::open_append(&self.path) {
            let _ = f.write_all(text.as_bytes());
        }
    }
}

/// One agent's session: what `dialog` and `watch` need.
struct Session<'a> {
    tmux_bin: &'a Path,
    workdir: &'a Path,
    paths: &'a Paths,
    prompt: &'a str,
    deadline: Instant,
    index: usize,
    /// The CLI running now: whose words say it cannot work.
    profile: &'static Profile,
}

/// Whether level 3 can start at all: tmux and at least one agent found.
/// `Err` says what is missing (for `emergency_recovery dependency_failed`).
pub fn preflight(config: &Config) -> std::result::Result<(), String> {
    if find_program(&config.tmux).is_none() {
        return Err(format!(
            "tmux not found as {:?} (install it, or set SELFHEAL_TMUX)",
            config.tmux
        ));
    }
    let found = config
        .agents
        .iter()
        .filter_map(|a| a.argv.first())
        .any(|p| find_program(p).is_some());
    if !found {
        let name = config
            .agents
            .first()
            .and_then(|a| a.argv.first())
            .map_or("", String::as_str);
        return Err(format!("agent `{name}` not found (looked on {SEARCHED})"));
    }
    Ok(())
}

/// Runs level 3 once: the agent, then its fallback if the first cannot work.
/// `evidence` (the incident file's text) goes into the prompt as data.
/// `settle`: how long a start the agent made may take to answer (the
/// service's boot bound), waited after an agent that ended by itself while
/// the service is not healthy yet, within the budget.
pub fn recover(ctx: &mut Ctx, why: &Probe, evidence: &str, settle: Duration) -> Result<Outcome> {
    let c = ctx.config;
    let paths = Paths::new(&c.memory_dir);
    let l3 = L3Log {
        path: paths.log.clone(),
    };
    let started = ctx.clock.now();
    l3.line(
        ctx,
        &format!(
            "starting AI recovery for {} ({}), budget {}",
            c.shown_url,
            why.reason,
            fmt_secs(c.recovery_timeout)
        ),
    );
    let run = Run {
        l3: &l3,
        paths: &paths,
        why,
        evidence,
        started,
    };
    let Some(tmux_bin) = find_program(&c.tmux) else {
        let detail = format!(
            "tmux not found as {:?} (install it: `brew install tmux` or `apt install tmux`, \
             or set SELFHEAL_TMUX)",
            c.tmux
        );
        return Ok(finish(ctx, &run, Recovery::DependencyFailed, detail));
    };
    let workdir = workdir(ctx, &l3);
    let text = match write_prompt(ctx, &run) {
        Ok(text) => text,
        Err(e) => {
            let detail = format!("cannot write the prompt: {e}");
            return Ok(finish(ctx, &run, Recovery::NotRecovered, detail));
        }
    };
    let session = Session {
        tmux_bin: &tmux_bin,
        workdir: &workdir,
        paths: &paths,
        prompt: &text,
        deadline: started + c.recovery_timeout,
        index: 0,
        profile: &crate::profile::CUSTOM,
    };
    let deadline = session.deadline;
    let end = run_agents(ctx, &l3, session);
    let _ = std::fs::remove_file(&paths.prompt);
    let end = end.and_then(|end| {
        let probe = watch::settled(
            ctx,
            &l3,
            &end,
            settle.min(deadline.saturating_duration_since(ctx.clock.now())),
        )?;
        Ok((end, probe))
    });
    let (end, probe) = match end {
        Ok(end) => end,
        Err(e) => {
            if let Error::Interrupted(sig) = e {
                l3.line(
                    ctx,
                    &format!("interrupted by signal {sig}; the agent's session was closed"),
                );
                l3.raw(&format!("{FAILURE_MARKER}\n"));
            }
            return Err(e);
        }
    };
    let detail = end.describe();
    let result = match &end {
        End::NotFound(_) => Recovery::DependencyFailed,
        End::Tmux(_) => Recovery::TmuxFailed,
        _ => {
            let healthy = probe.unwrap_or_else(|| ctx.probe());
            let (result, how) = if healthy.healthy() {
                (Recovery::Recovered, "verified healthy")
            } else {
                (Recovery::NotRecovered, "still unhealthy")
            };
            let detail = format!("{detail}; {how} ({})", healthy.reason);
            return Ok(finish(ctx, &run, result, detail));
        }
    };
    Ok(finish(ctx, &run, result, detail))
}

/// What `finish` needs to know about the run.
struct Run<'a> {
    l3: &'a L3Log,
    paths: &'a Paths,
    why: &'a Probe,
    evidence: &'a str,
    started: Instant,
}

/// Renders the prompt (the user's template or the built-in one) into its
/// 0600 file, for the paste or `{prompt_file}`; returns its text.
fn write_prompt(ctx: &mut Ctx, run: &Run) -> Result<String> {
    let c = ctx.config;
    let vars = Vars {
        host: ctx.host.clone(),
        url: c.shown_url.clone(),
        expect_status: c.expect_status.to_string(),
        expect_body: c.expect_body.clone(),
        status: run.why.status_text(),
        reason: run.why.reason.clone(),
        restart_cmd: shellwords::join(&c.restart_cmd),
        memory_dir: c.memory_dir.clone(),
        report_path: run.paths.report.clone(),
        reasoning_path: run.paths.reasoning.clone(),
        learnings_path: run.paths.learnings.clone(),
        fix_path: run.paths.fix.clone(),
        budget: fmt_secs(c.recovery_timeout),
        evidence: prompt::fenced(run.evidence),
    };
    let template = c.agent_prompt_file.as_ref().and_then(|p| {
        files::read_foreign(p, files::Links::Follow, PROMPT_MAX)
            .and_then(|b| {
                String::from_utf8(b).map_err(|_| crate::error::Error::Unsafe {
                    path: p.clone(),
                    reason: "not UTF-8 text".into(),
                })
            })
            .map_err(|e| {
                let line = format!(
                    "cannot read SELFHEAL_AGENT_PROMPT_FILE {}: {e}; using the built-in prompt",
                    p.display()
                );
                run.l3.line(ctx, &line);
            })
            .ok()
    });
    let text = prompt::render(template.as_deref(), &vars);
    let path = &run.paths.prompt;
    files::open_truncate(path)?
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("write", path, e))?;
    Ok(text)
}

fn workdir(ctx: &mut Ctx, l3: &L3Log) -> PathBuf {
    let c = ctx.config;
    if c.agent_workdir.is_dir() {
        return c.agent_workdir.clone();
    }
    let line = format!(
        "{} does not exist; the agent works in {}",
        c.agent_workdir.display(),
        c.memory_dir.display()
    );
    l3.line(ctx, &line);
    c.memory_dir.clone()
}

/// The agent, then the fallback while the one before could not work.
fn run_agents(ctx: &mut Ctx, l3: &L3Log, mut session: Session) -> Result<End> {
    let c = ctx.config;
    let mut end = End::NotFound("agent".into());
    for (n, agent) in c.agents.iter().enumerate() {
        if n > 0 {
            let line = format!(
                "handing over to the fallback agent {}",
                shellwords::join(&agent.argv)
            );
            l3.line(ctx, &line);
        }
        session.index = n;
        session.profile = agent.profile;
        end = run_one(ctx, l3, &session, agent)?;
        let line = format!(
            "agent {} stopped: {}",
            shellwords::join(&agent.argv),
            end.describe()
        );
        l3.line(ctx, &line);
        if !end.hand_over() {
            break;
        }
    }
    Ok(end)
}

fn run_one(ctx: &mut Ctx, l3: &L3Log, s: &Session, agent: &Agent) -> Result<End> {
    let c = ctx.config;
    let Some(program) = agent.argv.first() else {
        return Ok(End::NotFound("agent".into()));
    };
    let Some(program_path) = find_program(program) else {
        return Ok(End::NotFound(format!(
            "agent `{program}` (looked on {SEARCHED})"
        )));
    };
    let argv = fill_argv(
        agent,
        &program_path,
        &s.paths.prompt,
        s.prompt,
        &c.memory_dir,
    );
    let batch = agent.batch();
    let mut server = tmux::Server::new(
        s.tmux_bin.to_path_buf(),
        format!("selfheal-{}-{}", std::process::id(), s.index),
        format!("emergency_recovery_{}", s.paths.ts),
        &c.memory_dir,
        ctx.clock,
    );
    let env = agent_env(c, agent.profile);
    let launch = tmux::Launch {
        argv: &argv,
        workdir: s.workdir,
        env: &env,
        width: 200,
        height: 50,
    };
    let end = match server.start(&launch) {
        Ok(()) => {
            let line = format!(
                "agent {} started; watch it live: {}",
                program_path.display(),
                server.attach_hint()
            );
            l3.line(ctx, &line);
            drive(ctx, l3, &server, s, batch)
        }
        Err(e) => Err(e),
    };
    // A CLI that cannot work may say so and exit before a poll saw it
    // (`codex exec --oss` without Ollama: half a second): its last words
    // decide, so that the fallback still takes over.
    let end = match end {
        Ok(End::Exited(code, said)) => Ok(match server.capture(History::All) {
            Ok(Some(all)) => {
                let lines = prompt::agent_lines(&all, s.prompt);
                match prompt::cannot_work(agent.profile, &lines) {
                    Some(why) => End::CannotWork(why),
                    None => End::Exited(code, said),
                }
            }
            _ => End::Exited(code, said),
        }),
        other => other,
    };
    keep_scrollback(ctx, &server, s, agent);
    server.stop();
    match end {
        Ok(end) => Ok(end),
        Err(tmux::Error::Refused(why)) => Ok(End::Tmux(why)),
        Err(tmux::Error::Run(e)) => Err(e),
    }
}

fn drive(
    ctx: &mut Ctx,
    l3: &L3Log,
    server: &tmux::Server,
    s: &Session,
    batch: bool,
) -> tmux::Result<End> {
    if !batch {
        if let Some(end) = dialog::trust(ctx, l3, server, s)? {
            return Ok(end);
        }
        if let Some(end) = dialog::submit(ctx, l3, server, s)? {
            return Ok(end);
        }
    }
    watch::watch(ctx, l3, server, s)
}

/// The agent's argv with `{prompt_file}`, `{prompt}` and `{memory_dir}`
/// filled in and its program resolved.
fn fill_argv(
    agent: &Agent,
    program: &Path,
    prompt_file: &Path,
    prompt: &str,
    memory_dir: &Path,
) -> Vec<String> {
    let mut argv: Vec<String> = agent
        .argv
        .iter()
        .map(|a| {
            a.replace("{prompt_file}", &prompt_file.display().to_string())
                .replace("{memory_dir}", &memory_dir.display().to_string())
                .replace("{prompt}", prompt)
        })
        .collect();
    if let Some(first) = argv.first_mut() {
        *first = program.display().to_string();
    }
    argv
}

/// Appends the session's whole scrollback, scrubbed, to the session log —
/// also when driving failed or was interrupted.
fn keep_scrollback(ctx: &Ctx, server: &tmux::Server, s: &Session, agent: &Agent) {
    let Ok(Some(history)) = server.capture(History::All) else {
        return;
    };
    let text = crate::sys::redact::scrub(&history, &ctx.config.secrets());
    if let Ok(mut f) = files::open_append(&s.paths.session) {
        let name: String = shellwords::join(&agent.argv).chars().take(200).collect();
        let _ = writeln!(f, "=== {name} ({}) ===", stamp(local_now()));
        let _ = f.write_all(text.trim_end().as_bytes());
        let _ = f.write_all(b"\n");
    }
}

/// The agent's environment: the credentials its CLI reads, HOME and a PATH
/// that has the usual places, passed through the environment (never argv).
fn agent_env(config: &Config, profile: &Profile) -> Vec<(String, String)> {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut env = vec![
        ("PATH".to_string(), which::agent_path(Path::new(&home))),
        ("HOME".to_string(), home),
    ];
    for name in profile.credentials {
        if let Some(key) = config.credential(name) {
            env.push((name.to_string(), key.expose().to_string()));
        }
    }
    env
}

/// Records the run (learnings, metric, cooldown, final log line) and
/// returns its outcome.
fn finish(ctx: &mut Ctx, run: &Run, result: Recovery, detail: String) -> Outcome {
    let c = ctx.config;
    let elapsed = ctx.clock.now() - run.started;
    // The agent wrote it: bounded and never a FIFO or a link, like every
    // other file selfheal reads.
    let report = files::open_read(&run.paths.report)
        .map(|f| String::from_utf8_lossy(&files::head(f, REPORT_MAX)).into_owned())
        .unwrap_or_default();
    // The agent wrote them with its umask; they may hold details of the host.
    for p in [&run.paths.report, &run.paths.reasoning, &run.paths.fix] {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()) {
            let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600));
        }
    }
    let why = run.why;
    let symptom = prompt::section(&report, "Symptom").unwrap_or_else(|| why.with_status());
    let root_cause =
        prompt::section(&report, "Root Cause").unwrap_or_else(|| "unknown (no report)".into());
    if matches!(result, Recovery::Recovered | Recovery::NotRecovered) {
        let entry = Learning {
            recovered: result == Recovery::Recovered,
            symptom: &symptom,
            root_cause: &root_cause,
            report: &report,
            report_path: &run.paths.report,
        };
        if let Ok(mut f) = files::open_append(&run.paths.learnings) {
            let _ = f.write_all(entry.render().as_bytes());
        }
    }
    ctx.record(
        EMERGENCY_FILE,
        Metric::new("emergency_recovery", result.as_str(), elapsed.as_secs_f64())
            .with("symptom", symptom)
            .with("root_cause", root_cause),
    );
    let l3 = run.l3;
    if result == Recovery::Recovered {
        l3.line(
            ctx,
            &format!("recovered after {}: {detail}", fmt_secs(elapsed)),
        );
        ctx.state.agent_cooldown_until = None;
    } else {
        l3.line(
            ctx,
            &format!("failed after {}: {detail}", fmt_secs(elapsed)),
        );
        l3.raw(&format!("{FAILURE_MARKER}\n"));
        // A missing tmux or agent cost nothing: no cooldown, so that the
        // next run tries again once it is installed.
        if result != Recovery::DependencyFailed {
            ctx.state.agent_cooldown_until = Some(unix_now() + c.agent_cooldown.as_secs() as i64);
            ctx.save_state();
        }
    }
    let from_report = |heading| prompt::section(&report, heading).map(|s| one_line(&s));
    Outcome {
        result,
        detail,
        log_path: run.paths.log.clone(),
        root_cause: from_report("Root Cause"),
        solution: from_report("Solution Applied"),
        fix: std::fs::symlink_metadata(&run.paths.fix)
            .is_ok_and(|m| m.is_file() && m.len() > 0)
            .then(|| run.paths.fix.clone()),
    }
}
