//! Level 3: a coding agent (Claude Code by default) diagnoses and repairs the
//! service inside a private tmux session, in this process, within
//! `EMERGENCY_RECOVERY_TIMEOUT`.
//!
//! Interactive agents get their trust dialog answered as it really is (wait
//! until it shows, then Down, Enter, and check it went away; the old
//! "1. Yes, proceed" form gets Enter) and the prompt as one bracketed paste.
//! Agents whose command has `{prompt}` or `{prompt_file}` are run with it and
//! are done when they exit. The run ends on evidence, never on the agent's
//! prose: the service healthy (plus a short grace for the report), the report
//! written, the agent's pane dead, the agent saying it cannot work (then the
//! fallback agent takes over), a long silence, or the timeout. The record
//! (session scrollback, level 3 log, learnings, metric) is kept whatever
//! happened, and the tmux server is gone when this returns — or unwinds.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::clock::{local_now, unix_now};
use crate::config::fmt_secs;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::files;
use crate::log::{file_stamp, stamp};
use crate::metrics::{Metric, EMERGENCY_FILE};
use crate::probe::Probe;
use crate::prompt::{self, Vars};
use crate::shellwords;
use crate::tmux::{self, History, Key};

pub const LEARNINGS_FILE: &str = "recovery-learnings.md";
pub const FAILURE_MARKER: &str = "=== MANUAL INTERVENTION REQUIRED ===";

/// How level 3 ended, for the ladder and the alert.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub recovered: bool,
    /// The `emergency_recovery` metric result: `true`, `false`,
    /// `dependency_failed`, `tmux_failed`.
    pub result: &'static str,
    /// One line for the log and the alert.
    pub detail: String,
    pub log_path: PathBuf,
}

/// Why watching one agent stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    Healthy,
    ReportWritten,
    Exited(Option<i32>),
    CannotWork(String),
    Silent(Duration),
    TimedOut,
    Tmux(String),
    NotFound(String),
}

impl End {
    fn describe(&self) -> String {
        match self {
            End::Healthy => "the service is healthy again".into(),
            End::ReportWritten => "the agent wrote its report".into(),
            End::Exited(Some(c)) => format!("the agent exited ({c})"),
            End::Exited(None) => "the agent's session ended".into(),
            End::CannotWork(why) => format!("the agent cannot work: {why}"),
            End::Silent(d) => format!("the agent was silent for {}", fmt_secs(*d)),
            End::TimedOut => "the level 3 time budget ran out".into(),
            End::Tmux(why) => format!("tmux failed: {why}"),
            End::NotFound(what) => format!("{what} not found"),
        }
    }

    /// Whether the next (fallback) agent should be tried.
    fn hand_over(&self) -> bool {
        matches!(self, End::CannotWork(_) | End::NotFound(_))
    }
}

/// The files of one level 3 run.
struct Paths {
    ts: String,
    log: PathBuf,
    session: PathBuf,
    report: PathBuf,
    reasoning: PathBuf,
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

/// Whether level 3 can start at all: tmux and at least one agent found.
/// `Err` says what is missing (for `emergency_recovery dependency_failed`).
pub fn preflight(config: &crate::config::Config) -> std::result::Result<(), String> {
    if find_program(&config.tmux).is_none() {
        return Err(format!(
            "tmux not found as {:?} (install it, or set SELFHEAL_TMUX)",
            config.tmux
        ));
    }
    let found = [&config.agent_cmd, &config.agent_fallback_cmd]
        .iter()
        .filter_map(|a| a.first())
        .any(|p| find_program(p).is_some());
    if !found {
        let name = config.agent_cmd.first().map(String::as_str).unwrap_or("");
        return Err(format!(
            "agent `{name}` not found (looked on PATH, /opt/homebrew/bin, /usr/local/bin, ~/.local/bin, ~/.npm-global/bin, ~/.claude/local)"
        ));
    }
    Ok(())
}

/// Runs level 3 once: the agent, then its fallback if the first cannot work.
pub fn recover(ctx: &mut Ctx, why: &Probe) -> Result<Outcome> {
    let c = ctx.config;
    let paths = Paths::new(&c.memory_dir);
    let l3 = L3Log {
        path: paths.log.clone(),
    };
    let started = ctx.clock.now();
    let deadline = started + c.recovery_timeout;
    l3.line(
        ctx,
        &format!(
            "starting AI recovery for {} ({}), budget {}",
            crate::config::shown_url(c),
            why.reason,
            fmt_secs(c.recovery_timeout)
        ),
    );
    let Some(tmux_bin) = find_program(&c.tmux) else {
        let detail = format!("tmux not found as {:?} (install it: `brew install tmux` or `apt install tmux`, or set SELFHEAL_TMUX)", c.tmux);
        return Ok(finish(
            ctx,
            &l3,
            &paths,
            why,
            started,
            "dependency_failed",
            detail,
        ));
    };
    let workdir = if c.agent_workdir.is_dir() {
        c.agent_workdir.clone()
    } else {
        l3.line(
            ctx,
            &format!(
                "{} does not exist; the agent works in {}",
                c.agent_workdir.display(),
                c.memory_dir.display()
            ),
        );
        c.memory_dir.clone()
    };
    let vars = Vars {
        host: ctx.host.clone(),
        url: crate::config::shown_url(c),
        expect_status: c.expect_status.to_string(),
        expect_body: c.expect_body.clone(),
        status: why.status_text(),
        reason: why.reason.clone(),
        restart_cmd: shellwords::join(&c.restart_cmd),
        memory_dir: c.memory_dir.clone(),
        report_path: paths.report.clone(),
        reasoning_path: paths.reasoning.clone(),
        learnings_path: paths.learnings.clone(),
        budget: fmt_secs(c.recovery_timeout),
    };
    let template = match &c.agent_prompt_file {
        None => None,
        Some(p) => {
            match std::fs::read_to_string(p) {
                Ok(t) => Some(t),
                Err(e) => {
                    l3.line(ctx, &format!("cannot read SELFHEAL_AGENT_PROMPT_FILE {}: {e}; using the built-in prompt", p.display()));
                    None
                }
            }
        }
    };
    let text = prompt::render(template.as_deref(), &vars);
    if let Err(e) = files::open_truncate(&paths.prompt).and_then(|mut f| {
        f.write_all(text.as_bytes())
            .map_err(|e| crate::error::Error::io("write", &paths.prompt, e))
    }) {
        let detail = format!("cannot write the prompt: {e}");
        return Ok(finish(ctx, &l3, &paths, why, started, "false", detail));
    }

    let agents: Vec<&Vec<String>> = [&c.agent_cmd, &c.agent_fallback_cmd]
        .into_iter()
        .filter(|a| !a.is_empty())
        .collect();
    let mut end = End::NotFound("agent".into());
    for (n, agent) in agents.iter().enumerate() {
        if n > 0 {
            l3.line(
                ctx,
                &format!(
                    "handing over to the fallback agent {}",
                    shellwords::join(agent)
                ),
            );
        }
        let session = Session {
            tmux_bin: &tmux_bin,
            workdir: &workdir,
            paths: &paths,
            prompt: &text,
            deadline,
            index: n,
        };
        end = match run_one(ctx, &l3, &session, agent) {
            Ok(end) => end,
            Err(e) => {
                let _ = std::fs::remove_file(&paths.prompt);
                if let crate::error::Error::Interrupted(sig) = e {
                    l3.line(
                        ctx,
                        &format!("interrupted by signal {sig}; the agent's session was closed"),
                    );
                    l3.raw(&format!("{FAILURE_MARKER}\n"));
                }
                return Err(e);
            }
        };
        l3.line(
            ctx,
            &format!(
                "agent {} stopped: {}",
                shellwords::join(agent),
                end.describe()
            ),
        );
        if !end.hand_over() {
            break;
        }
    }
    let _ = std::fs::remove_file(&paths.prompt);
    let (result, detail) = match &end {
        End::NotFound(_) => ("dependency_failed", end.describe()),
        End::Tmux(_) => ("tmux_failed", end.describe()),
        _ => ("", end.describe()),
    };
    if !result.is_empty() {
        return Ok(finish(ctx, &l3, &paths, why, started, result, detail));
    }
    let healthy = ctx.probe();
    let result = if healthy.healthy { "true" } else { "false" };
    let detail = if healthy.healthy {
        format!("{detail}; verified healthy ({})", healthy.reason)
    } else {
        format!("{detail}; still unhealthy ({})", healthy.reason)
    };
    Ok(finish(ctx, &l3, &paths, why, started, result, detail))
}

struct Session<'a> {
    tmux_bin: &'a Path,
    workdir: &'a Path,
    paths: &'a Paths,
    prompt: &'a str,
    deadline: Instant,
    index: usize,
}

fn run_one(ctx: &mut Ctx, l3: &L3Log, s: &Session, agent: &[String]) -> Result<End> {
    let c = ctx.config;
    let Some(program) = agent.first() else {
        return Ok(End::NotFound("agent".into()));
    };
    let Some(program_path) = find_program(program) else {
        return Ok(End::NotFound(format!("agent `{program}` (looked on PATH, /opt/homebrew/bin, /usr/local/bin, ~/.local/bin, ~/.npm-global/bin, ~/.claude/local)")));
    };
    let batch = agent
        .iter()
        .any(|a| a.contains("{prompt}") || a.contains("{prompt_file}"));
    let mut argv: Vec<String> = agent
        .iter()
        .map(|a| {
            a.replace("{prompt_file}", &s.paths.prompt.display().to_string())
                .replace("{prompt}", s.prompt)
        })
        .collect();
    argv[0] = program_path.display().to_string();
    let socket = format!("selfheal-{}-{}", std::process::id(), s.index);
    let session = format!("emergency_recovery_{}", s.paths.ts);
    let mut server = tmux::Server::new(
        s.tmux_bin.to_path_buf(),
        socket,
        session,
        &c.memory_dir,
        ctx.clock,
    );
    let env = agent_env(ctx);
    let launch = tmux::Launch {
        argv: &argv,
        workdir: s.workdir,
        env: &env,
        width: 200,
        height: 50,
    };
    if let Err(e) = server.start(&launch)? {
        return Ok(End::Tmux(e));
    }
    l3.line(
        ctx,
        &format!(
            "agent {} started; watch it live: {}",
            program_path.display(),
            server.attach_hint()
        ),
    );
    let end = drive(ctx, l3, &server, s, batch);
    // Keep the whole scrollback, also when driving failed or was interrupted.
    if let Ok(Some(history)) = server.capture(History::All) {
        let secrets = c.secrets();
        let text = crate::redact::scrub(&history, &secrets);
        if let Ok(mut f) = files::open_append(&s.paths.session) {
            let _ = writeln!(
                f,
                "=== {} ({}) ===",
                shellwords::join(agent)
                    .chars()
                    .take(200)
                    .collect::<String>(),
                stamp(local_now())
            );
            let _ = f.write_all(text.trim_end().as_bytes());
            let _ = f.write_all(b"\n");
        }
    }
    server.stop();
    end
}

fn drive(
    ctx: &mut Ctx,
    l3: &L3Log,
    server: &tmux::Server,
    s: &Session,
    batch: bool,
) -> Result<End> {
    if !batch {
        if let Some(end) = trust(ctx, l3, server, s)? {
            return Ok(end);
        }
        if let Some(end) = submit(ctx, l3, server, s)? {
            return Ok(end);
        }
    }
    watch(ctx, l3, server, s)
}

/// Waits for the agent's trust dialog and accepts it. `Some` ends the run.
fn trust(ctx: &mut Ctx, l3: &L3Log, server: &tmux::Server, s: &Session) -> Result<Option<End>> {
    let c = ctx.config;
    let tick = Duration::from_millis(250);
    let look_until = ctx.clock.now() + c.startup_wait + c.trust_timeout;
    while ctx.clock.now() < look_until.min(s.deadline) {
        let Some(screen) = server.capture(History::Screen)? else {
            return Ok(Some(End::Exited(None)));
        };
        let dialog = if screen.contains("Yes, I trust this folder")
            || screen.contains("Accessing workspace")
        {
            Some(Dialog::Current)
        } else if screen.contains("Yes, proceed")
            || screen.contains("Do you trust the files in this folder")
        {
            Some(Dialog::Old)
        } else {
            None
        };
        if let Some(dialog) = dialog {
            return accept(ctx, l3, server, dialog);
        }
        if let Some((true, status)) = server.pane_state()? {
            return Ok(Some(End::Exited(status)));
        }
        ctx.clock.sleep(tick)?;
    }
    l3.line(ctx, "no trust dialog seen; going on");
    Ok(None)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialog {
    /// "Accessing workspace": `No, exit` first and focused, number keys off,
    /// early keys ignored.
    Current,
    /// "Do you trust the files in this folder?": `1. Yes, proceed` focused.
    Old,
}

fn accept(ctx: &mut Ctx, l3: &L3Log, server: &tmux::Server, dialog: Dialog) -> Result<Option<End>> {
    for attempt in 1..=2 {
        match dialog {
            Dialog::Current => {
                // Keys pressed as the dialog opens are dropped.
                ctx.clock.sleep(Duration::from_millis(1000))?;
                tmux_key(server, Key::Down)?;
                ctx.clock.sleep(Duration::from_millis(300))?;
                tmux_key(server, Key::Enter)?;
            }
            Dialog::Old => {
                ctx.clock.sleep(Duration::from_millis(500))?;
                tmux_key(server, Key::Enter)?;
            }
        }
        let until = ctx.clock.now() + Duration::from_secs(5);
        while ctx.clock.now() < until {
            ctx.clock.sleep(Duration::from_millis(250))?;
            if let Some((true, status)) = server.pane_state()? {
                l3.line(ctx, "the agent exited at its trust dialog");
                return Ok(Some(End::Exited(status)));
            }
            let screen = server.capture(History::Screen)?.unwrap_or_default();
            if !screen.contains("Yes, I trust this folder") && !screen.contains("Yes, proceed") {
                l3.line(
                    ctx,
                    &format!("trust dialog accepted ({dialog:?} form, attempt {attempt})"),
                );
                return Ok(None);
            }
        }
    }
    Ok(Some(End::Tmux("the trust dialog did not go away".into())))
}

fn tmux_key(server: &tmux::Server, key: Key) -> Result<()> {
    let _ = server.key(key)?;
    Ok(())
}

/// Pastes the prompt as one block, submits it, and checks that it was taken.
fn submit(ctx: &mut Ctx, l3: &L3Log, server: &tmux::Server, s: &Session) -> Result<Option<End>> {
    if let Err(e) = server.paste_file(&s.paths.prompt)? {
        return Ok(Some(End::Tmux(e)));
    }
    ctx.clock.sleep(Duration::from_millis(500))?;
    let pasted = server.capture(History::Screen)?.unwrap_or_default();
    tmux_key(server, Key::Enter)?;
    for _ in 0..2 {
        let until = ctx.clock.now() + Duration::from_secs(3);
        while ctx.clock.now() < until {
            ctx.clock.sleep(Duration::from_millis(250))?;
            let now = server.capture(History::Screen)?.unwrap_or_default();
            if now != pasted {
                l3.line(
                    ctx,
                    &format!("prompt submitted ({} lines)", s.prompt.lines().count()),
                );
                return Ok(None);
            }
        }
        tmux_key(server, Key::Enter)?;
    }
    l3.line(
        ctx,
        "the screen did not change after the prompt was submitted; watching anyway",
    );
    Ok(None)
}

fn watch(ctx: &mut Ctx, l3: &L3Log, server: &tmux::Server, s: &Session) -> Result<End> {
    let c = ctx.config;
    let start = ctx.clock.now();
    let silence_limit = (c.recovery_timeout / 3).max(c.poll_interval * 10);
    let grace = (c.recovery_timeout / 30).clamp(c.poll_interval * 2, Duration::from_secs(60));
    let mut last_screen = String::new();
    let mut changed_at = start;
    let mut healthy_at: Option<Instant> = None;
    let mut report_at: Option<Instant> = None;
    loop {
        let now = ctx.clock.now();
        if now >= s.deadline {
            return Ok(End::TimedOut);
        }
        ctx.clock.sleep(c.poll_interval.min(s.deadline - now))?;
        let probe = ctx.probe();
        let Some(screen) = server.capture(History::Screen)? else {
            return Ok(End::Exited(None));
        };
        let lines = prompt::agent_lines(&screen, s.prompt);
        if let Some(why) = prompt::cannot_work(&lines) {
            return Ok(End::CannotWork(why));
        }
        let latest = lines
            .last()
            .map(|l| l.trim().chars().take(120).collect::<String>())
            .unwrap_or_default();
        let now = ctx.clock.now();
        let report = s.paths.report.is_file();
        if probe.healthy {
            let since = *healthy_at.get_or_insert(now);
            if report || now - since >= grace {
                return Ok(End::Healthy);
            }
        } else {
            healthy_at = None;
        }
        if report && !probe.healthy {
            // Done by its own account but not healthy: a little longer for
            // the service to come up, then stop.
            let since = *report_at.get_or_insert(now);
            if now - since >= c.poll_interval * 2 {
                return Ok(End::ReportWritten);
            }
        }
        if let Some((true, status)) = server.pane_state()? {
            return Ok(End::Exited(status));
        }
        if screen != last_screen {
            last_screen = screen;
            changed_at = now;
        } else if now - changed_at >= silence_limit {
            return Ok(End::Silent(now - changed_at));
        }
        l3.line(
            ctx,
            &format!(
                "{} elapsed, {}; agent: {}",
                fmt_secs(now - start),
                if probe.healthy {
                    "healthy".to_string()
                } else {
                    format!("unhealthy ({})", probe.reason)
                },
                if latest.is_empty() { "…" } else { &latest }
            ),
        );
    }
}

/// The agent's environment: API key, HOME and a PATH that has the usual
/// places, passed through the environment (never argv).
fn agent_env(ctx: &Ctx) -> Vec<(String, String)> {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut path: Vec<String> = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    for extra in extra_dirs(&home) {
        let extra = extra.display().to_string();
        if !path.contains(&extra) {
            path.push(extra);
        }
    }
    let mut env = vec![
        ("PATH".to_string(), path.join(":")),
        ("HOME".to_string(), home),
    ];
    if let Some(key) = &ctx.config.anthropic_api_key {
        env.push(("ANTHROPIC_API_KEY".to_string(), key.expose().to_string()));
    }
    env
}

fn extra_dirs(home: &str) -> Vec<PathBuf> {
    let home = Path::new(home);
    vec![
        PathBuf::from("/opt/homebrew/bin"),
        PathBuf::from("/usr/local/bin"),
        home.join(".local/bin"),
        home.join(".npm-global/bin"),
        home.join(".claude/local"),
        PathBuf::from("/usr/bin"),
        PathBuf::from("/bin"),
    ]
}

/// `name` as an absolute path: itself if it has a slash, else the first
/// executable of that name on PATH or in the usual install places.
pub fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return executable(&p).then_some(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .chain(extra_dirs(&home))
        .map(|d| d.join(name))
        .find(|p| executable(p))
}

/// Records the run (learnings, metric, cooldown, final log line) and
/// returns its outcome.
fn finish(
    ctx: &mut Ctx,
    l3: &L3Log,
    paths: &Paths,
    why: &Probe,
    started: Instant,
    result: &'static str,
    detail: String,
) -> Outcome {
    let c = ctx.config;
    let elapsed = ctx.clock.now() - started;
    let recovered = result == "true";
    let report = std::fs::read_to_string(&paths.report).unwrap_or_default();
    // The agent wrote them with its umask; they may hold details of the host.
    for p in [&paths.report, &paths.reasoning] {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()) {
            let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600));
        }
    }
    let symptom = prompt::section(&report, "Symptom")
        .unwrap_or_else(|| format!("{} (status {})", why.reason, why.status_text()));
    let root_cause =
        prompt::section(&report, "Root Cause").unwrap_or_else(|| "unknown (no report)".into());
    if result == "true" || result == "false" {
        let fix = prompt::section(&report, "Solution Applied").unwrap_or_else(|| "-".into());
        let prevention = prompt::section(&report, "Prevention").unwrap_or_else(|| "-".into());
        let entry = format!(
            "\n## {} — {}\n\n- **Symptom:** {}\n- **Root cause:** {}\n- **Fix:** {}\n- **Prevention:** {}\n- Report: {}\n",
            stamp(local_now()),
            if recovered { "recovered by the agent" } else { "not recovered" },
            one_line(&symptom),
            one_line(&root_cause),
            one_line(&fix),
            one_line(&prevention),
            if report.is_empty() { "none written".to_string() } else { paths.report.display().to_string() },
        );
        if let Ok(mut f) = files::open_append(&paths.learnings) {
            let _ = f.write_all(entry.as_bytes());
        }
    }
    ctx.record(
        EMERGENCY_FILE,
        Metric::new("emergency_recovery", result, elapsed.as_secs_f64())
            .with("symptom", symptom)
            .with("root_cause", root_cause),
    );
    if recovered {
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
        if result != "dependency_failed" {
            ctx.state.agent_cooldown_until = Some(unix_now() + c.agent_cooldown.as_secs() as i64);
            ctx.save_state();
        }
    }
    Outcome {
        recovered,
        result,
        detail,
        log_path: paths.log.clone(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
