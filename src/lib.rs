//! selfheal: keeps one HTTP service alive from cron, launchd or a systemd
//! timer. See ARCHITECTURE.md for the map. This file declares the modules
//! and dispatches a parsed command line; it holds nothing that other modules
//! import.

pub mod agent;
pub mod alert;
pub mod channel;
pub mod cli;
pub mod commands;
pub mod config;
pub mod ctx;
pub mod error;
pub mod fmt;
pub mod key;
pub mod kind;
pub mod ladder;
pub mod openclaw;
pub mod probe;
pub mod profile;
pub mod state;
pub mod sys;

use cli::{Cli, Command, Format, Special};
use commands::{cannot_run, many, with_tool_dir, Locking, Verdict};
use config::Sources;
use error::Result;

/// `selfheal 0.2.0 (aarch64-apple-darwin, 1a2b3c4, 2026-11-25, tls)`: what a
/// bug report needs (the facts come from build.rs).
macro_rules! version {
    ($tls:literal) => {
        concat!(
            "selfheal ",
            env!("CARGO_PKG_VERSION"),
            " (",
            env!("SELFHEAL_TARGET"),
            ", ",
            env!("SELFHEAL_COMMIT"),
            ", ",
            env!("SELFHEAL_BUILD_DATE"),
            ", ",
            $tls,
            ")\n"
        )
    };
}
#[cfg(feature = "tls")]
pub const VERSION: &str = version!("tls");
#[cfg(not(feature = "tls"))]
pub const VERSION: &str = version!("no tls: webhooks need http://");

/// `--help` and `--version`: printed before any configuration is read.
pub fn special(s: Special) -> Verdict {
    match s {
        Special::Help(text) => sys::log::print(text),
        Special::Version => sys::log::print(VERSION),
    }
    Verdict::Ok
}

/// Loads the configuration and runs the command. A `check` that cannot run
/// (bad configuration, refused directory) still logs, pings the heartbeat's
/// `/fail` and alerts what it can (`commands::cannot_run`).
pub fn run(cli: Cli) -> Result<Verdict> {
    let g = &cli.global;
    let base = Sources::from_process(g.config.clone(), g.overrides.clone());
    let targets = match &g.service {
        Some(name) => vec![many::named(&base, name)?],
        None => many::all(&base)?,
    };
    if let [one] = targets.as_slice() {
        return run_one(&cli, &one.sources(&base));
    }
    match &cli.command {
        Command::Check => many::check_all(&base, &targets),
        Command::Status {
            format: Format::Text,
        }
        | Command::Doctor {
            format: Format::Text,
            ..
        }
        | Command::Stats {
            format: Format::Text,
            notify: false,
            ..
        }
        | Command::Why => {
            // One after another, each under its heading; the worst verdict.
            let mut worst: Result<Verdict> = Ok(Verdict::Ok);
            for t in &targets {
                sys::log::print(&many::heading(t.name()));
                let one = run_one(&cli, &t.sources(&base));
                if let Err(e) = &one {
                    sys::log::print(&format!("selfheal: {e}\n"));
                }
                worst = match (worst, one) {
                    (Err(e), _) | (Ok(_), Err(e)) => Err(e),
                    (Ok(Verdict::Unhealthy), _) | (_, Ok(Verdict::Unhealthy)) => {
                        Ok(Verdict::Unhealthy)
                    }
                    _ => Ok(Verdict::Ok),
                };
            }
            worst
        }
        _ => Err(error::Error::Usage(format!(
            "there are {} services ({}): name one, e.g. `selfheal --service {} …` \
             (status, doctor, stats and why show them all without --json)",
            targets.len(),
            targets
                .iter()
                .map(many::Target::name)
                .collect::<Vec<_>>()
                .join(", "),
            targets[0].name()
        ))),
    }
}

/// One service's run: its configuration loaded and its command run.
fn run_one(cli: &Cli, sources: &Sources) -> Result<Verdict> {
    let g = &cli.global;
    let check = matches!(cli.command, Command::Check);
    let config = match config::load(sources) {
        Ok(c) => c,
        Err(e) => {
            let salvaged = cannot_run::is_ours(&e)
                .then(|| config::salvage(sources))
                .flatten();
            match (salvaged, cli.command.clone()) {
                (Some(s), Command::Check) => cannot_run::report(g, &s, &sources.home, &e),
                (Some(s), Command::Doctor { format, agent }) => {
                    let _ = commands::doctor::run_broken(&s, &e, format, agent);
                }
                _ => {}
            }
            return Err(e);
        }
    };
    let result = dispatch(cli.command.clone(), g, &config);
    if check {
        match &result {
            Ok(_) => cannot_run::cleared(g, &config, &sources.home),
            Err(e) if cannot_run::is_ours(e) => cannot_run::report(g, &config, &sources.home, e),
            Err(_) => {}
        }
    }
    result
}

fn dispatch(command: Command, g: &cli::Global, c: &config::Config) -> Result<Verdict> {
    match command {
        Command::Check => with_tool_dir(g, c, Locking::Exclusive, &mut commands::check::run),
        Command::Probe { format } => commands::probe::run(c, format),
        Command::Recover => with_tool_dir(g, c, Locking::Exclusive, &mut commands::recover::run),
        Command::Notify { severity, message } => with_tool_dir(g, c, Locking::None, &mut |ctx| {
            commands::notify::run(ctx, severity, &message)
        }),
        Command::Monitor => with_tool_dir(g, c, Locking::Exclusive, &mut commands::monitor::run),
        Command::Stats {
            days,
            format,
            notify: false,
        } => Ok(commands::stats::run(c, days, format)),
        Command::Stats { days, .. } => with_tool_dir(g, c, Locking::None, &mut |ctx| {
            commands::digest::send_now(ctx, days)
        }),
        Command::Pause { duration } => commands::pause::pause(g, c, duration),
        Command::Resume => commands::pause::resume(g, c),
        Command::Doctor { format, agent } => Ok(commands::doctor::run(c, format, agent)),
        Command::Rollback { list: true } => Ok(commands::rollback::list(c)),
        Command::Rollback { list: false } => {
            with_tool_dir(g, c, Locking::Exclusive, &mut commands::rollback::run)
        }
        Command::Runbook { action } => commands::runbook::run(c, &action),
        Command::Why => Ok(commands::why::run(c)),
        Command::Status { format } => Ok(commands::status::run(c, format)),
        Command::Rotate => with_tool_dir(g, c, Locking::Exclusive, &mut commands::rotate::run),
        Command::Reset => with_tool_dir(g, c, Locking::Exclusive, &mut commands::reset::run),
        Command::Guard {
            probation,
            timeout,
            argv,
        } => {
            let guard = commands::guard::Guard {
                probation,
                timeout,
                argv: &argv,
            };
            with_tool_dir(g, c, Locking::Insist, &mut |ctx| {
                commands::guard::run(ctx, &guard)
            })
        }
    }
}
