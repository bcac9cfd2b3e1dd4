//! selfheal: keeps one HTTP service alive from cron, launchd or a systemd
//! timer. See ARCHITECTURE.md for the map; `run` is the whole program after
//! argument parsing.

pub mod agent;
pub mod alert;
pub mod cli;
pub mod clock;
pub mod config;
pub mod ctx;
pub mod doctor;
pub mod envfile;
pub mod error;
pub mod files;
pub mod incident;
pub mod ladder;
pub mod lock;
pub mod log;
pub mod metrics;
pub mod monitor;
pub mod notify;
pub mod probe;
pub mod process;
pub mod prom;
pub mod prompt;
pub mod redact;
pub mod rotate;
pub mod shellwords;
pub mod state;
pub mod stats;
pub mod tls;
pub mod tmux;

use std::io::Write;
use std::time::SystemTime;

use cli::{Cli, Command, Format};
use clock::SystemClock;
use config::{Config, Sources};
use ctx::{Ctx, Mode};
use error::{Error, Result};
use log::Log;

/// How a run that did its job ended (errors are `Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Healthy, recovered, or skipped: exit 0.
    Ok,
    /// Still unhealthy: exit 1.
    Unhealthy,
}

impl Verdict {
    pub fn code(self) -> u8 {
        match self {
            Verdict::Ok => 0,
            Verdict::Unhealthy => 1,
        }
    }
}

pub fn run(cli: Cli) -> Result<Verdict> {
    let g = &cli.global;
    match cli.command {
        Command::Help(text) => {
            log::print(text);
            return Ok(Verdict::Ok);
        }
        Command::Version => {
            log::print(concat!("selfheal ", env!("CARGO_PKG_VERSION"), "\n"));
            return Ok(Verdict::Ok);
        }
        _ => {}
    }
    let config = config::load(&Sources::from_process(
        g.config.clone(),
        g.overrides.clone(),
    ))?;
    match cli.command {
        Command::Probe { format } => probe(&config, format),
        Command::Check => with_tool_dir(&cli, &config, Locking::Exclusive, &mut ladder::check),
        Command::Rotate => with_tool_dir(&cli, &config, Locking::Exclusive, &mut rotate),
        Command::Stats { days, format } => {
            let s = stats::summarize(&config.memory_dir, days, clock::unix_now());
            let text = match format {
                Format::Json => format!("{}\n", serde_json::to_string(&s).unwrap_or_default()),
                Format::Text => stats::render(&s),
            };
            log::print(&text);
            Ok(Verdict::Ok)
        }
        Command::Doctor { format } => {
            let checks = doctor::run(&config);
            let problems = checks.iter().any(|c| c.status == doctor::Status::Fail);
            let text = match format {
                Format::Json => format!(
                    "{}\n",
                    serde_json::json!({"ok": !problems, "checks": checks})
                ),
                Format::Text => doctor::render(&checks),
            };
            log::print(&text);
            Ok(if problems {
                Verdict::Unhealthy
            } else {
                Verdict::Ok
            })
        }
        Command::Pause { duration } => pause(&cli, &config, duration),
        Command::Resume => resume(&cli, &config),
        Command::Recover => with_tool_dir(&cli, &config, Locking::Exclusive, &mut ladder::recover),
        Command::Monitor => with_tool_dir(&cli, &config, Locking::Exclusive, &mut monitor::monitor),
        Command::Notify {
            severity,
            ref message,
        } => with_tool_dir(&cli, &config, Locking::None, &mut |ctx| {
            monitor::notify(ctx, severity, message)
        }),
        Command::Help(_) | Command::Version => Ok(Verdict::Ok),
    }
}

/// Whether a command needs the run lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Locking {
    /// One at a time; a second run is skipped.
    Exclusive,
    /// Runs beside a `check` (it writes no state).
    None,
}

/// Sets up the directory, lock and log, runs `job`, and logs an interruption.
fn with_tool_dir(
    cli: &Cli,
    config: &Config,
    locking: Locking,
    job: &mut dyn FnMut(&mut Ctx) -> Result<Verdict>,
) -> Result<Verdict> {
    let g = &cli.global;
    let clock = SystemClock;
    let real = g.mode == Mode::Real;
    let mut dir_warning = None;
    if real {
        dir_warning = files::ensure_dir(&config.memory_dir)?;
    }
    let _lock = if real && locking == Locking::Exclusive {
        match lock::acquire(&config.memory_dir)? {
            lock::Acquired::Held(l) => Some(l),
            lock::Acquired::Busy => {
                let mut log = Log::new(Some(&config.memory_dir), g.terminal, g.verbosity)
                    .scrubbing(&config.secrets());
                log.info("skipped: another run holds the lock");
                return Ok(Verdict::Ok);
            }
        }
    } else {
        None
    };
    let mut log = Log::new(
        real.then_some(config.memory_dir.as_path()),
        g.terminal,
        g.verbosity,
    )
    .scrubbing(&config.secrets());
    log.open_now()?;
    for w in config.warnings.iter().chain(dir_warning.iter()) {
        log.warn(format!("warning: {w}"));
    }
    if let Some(path) = &config.env_file {
        log.debug(format!("configuration read from {}", path.display()));
    }
    let mut ctx = Ctx::new(config, log, g.mode, &clock);
    let result = job(&mut ctx);
    if let Err(Error::Interrupted(sig)) = &result {
        ctx.log.warn(format!(
            "interrupted by signal {sig}; stopped what was running"
        ));
    }
    result
}

fn probe(config: &Config, format: Format) -> Result<Verdict> {
    for w in &config.warnings {
        let _ = writeln!(std::io::stderr(), "selfheal: warning: {w}");
    }
    let p = probe::probe(&probe::agent(config), config);
    let url = config::shown_url(config);
    let text = match format {
        Format::Json => {
            let value = serde_json::json!({
                "url": url,
                "healthy": p.healthy,
                "status": p.status_text(),
                "latency_ms": p.latency_ms(),
                "reason": p.reason,
            });
            format!("{value}\n")
        }
        Format::Text => format!(
            "{}: {} (status {}, {} ms, {url})\n",
            if p.healthy { "healthy" } else { "unhealthy" },
            p.reason,
            p.status_text(),
            p.latency_ms()
        ),
    };
    log::print(&text);
    Ok(if p.healthy {
        Verdict::Ok
    } else {
        Verdict::Unhealthy
    })
}

fn pause(cli: &Cli, config: &Config, duration: std::time::Duration) -> Result<Verdict> {
    let until = clock::unix_now() + duration.as_secs().max(1) as i64;
    let when = config::fmt_secs(duration);
    if cli.global.mode == Mode::DryRun {
        log::print(&format!("would pause healing and alerts for {when}\n"));
        return Ok(Verdict::Ok);
    }
    files::ensure_dir(&config.memory_dir)?;
    state::set_pause(&config.memory_dir, until)?;
    let mut log = Log::new(
        Some(&config.memory_dir),
        cli.global.terminal,
        cli.global.verbosity,
    );
    log.act(format!(
        "paused for {when}: `check` probes and records only, no healing, no alerts; `selfheal resume` ends it early"
    ));
    Ok(Verdict::Ok)
}

fn resume(cli: &Cli, config: &Config) -> Result<Verdict> {
    if cli.global.mode == Mode::DryRun {
        log::print("would end the maintenance window\n");
        return Ok(Verdict::Ok);
    }
    let path = config.memory_dir.join(state::PAUSE_FILE);
    let was = state::clear_pause(&config.memory_dir).map_err(|e| Error::io("remove", path, e))?;
    let mut log = Log::new(
        config
            .memory_dir
            .is_dir()
            .then_some(config.memory_dir.as_path()),
        cli.global.terminal,
        cli.global.verbosity,
    );
    log.act(if was {
        "resumed: healing and alerts are on again"
    } else {
        "not paused: nothing to resume"
    });
    Ok(Verdict::Ok)
}

fn rotate(ctx: &mut Ctx) -> Result<Verdict> {
    let c = ctx.config;
    let old = rotate::candidates(&c.memory_dir, c.log_retention_days, SystemTime::now())?;
    let n = ladder::delete(ctx, &old);
    if ctx.mode == Mode::Real && n == 0 {
        ctx.log.debug("rotation: nothing to delete");
    }
    Ok(Verdict::Ok)
}
