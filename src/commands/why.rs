//! `selfheal why`: the command a person runs first when paged. Read-only:
//! for an unhealthy service it gathers the evidence now (port, service
//! manager, the service's error lines, the config check) and prints it; for a
//! healthy one it prints the last incident's evidence file. Its evidence
//! begins, like a check's, with what changed in the install since it last
//! worked.

use std::io::Read;

use super::Verdict;
use crate::config::Config;
use crate::ctx::{hostname, Ctx, Mode};
use crate::ladder::evidence;
use crate::probe;
use crate::sys::clock::SystemClock;
use crate::sys::log::{Log, Terminal, Verbosity};
use crate::sys::{files, log};

pub fn run(config: &Config) -> Verdict {
    let p = probe::probe(&probe::agent(config), config);
    let last = evidence::newest(&config.memory_dir);
    if !p.healthy() {
        let state = crate::state::peek(&config.memory_dir).unwrap_or_default();
        let mut ev = evidence::gather(
            config,
            config.is_openclaw(),
            &p,
            crate::ladder::service::log_scope(config, &state),
        );
        ev.install_change = install_change(config, state);
        let mut text = format!(
            "{} is unhealthy now; gathered just now:\n\n{}",
            config.shown_url,
            ev.markdown(config, &hostname())
        );
        if let Some(path) = last {
            text.push_str(&format!("\nThe last incident file: {}\n", path.display()));
        }
        log::print(&text);
        return Verdict::Unhealthy;
    }
    let text = match last {
        None => format!(
            "{} is healthy now ({}); no incident is recorded in {}\n",
            config.shown_url,
            p.reason,
            config.memory_dir.display()
        ),
        Some(path) => format!(
            "{} is healthy now ({}). The last incident, {}:\n\n{}",
            config.shown_url,
            p.reason,
            path.display(),
            crate::sys::redact::visible(&read(&path))
        ),
    };
    log::print(&text);
    Verdict::Ok
}

/// What changed in the install since it last worked, as a check would say
/// it first. A context that writes nothing: its state is peeked, never
/// saved, and its log goes nowhere (`why` prints, it does not record).
fn install_change(config: &Config, state: crate::state::State) -> Option<String> {
    let clock = SystemClock;
    let log = Log::new(None, Terminal::Quiet, Verbosity::Normal);
    let mut ctx = Ctx::new(config, log, Mode::Real, &clock);
    ctx.state = state;
    ctx.capture_apart();
    let line = crate::ladder::install::evidence_line(&mut ctx);
    let _ = std::fs::remove_file(ctx.capture_path());
    line
}

fn read(path: &std::path::Path) -> String {
    let mut bytes = Vec::new();
    if let Ok(f) = files::open_read(path) {
        let _ = f.take(1 << 20).read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
