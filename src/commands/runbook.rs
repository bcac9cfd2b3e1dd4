//! `selfheal runbook`: list, show and forget the fixes learned from the
//! agent (`ladder::runbook` keeps and replays them).

use super::Verdict;
use crate::cli::Runbook;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ladder::runbook::{self, Entry, RETIRE_AFTER};
use crate::sys::log;

pub fn run(c: &Config, action: &Runbook) -> Result<Verdict> {
    let memory = &c.memory_dir;
    let find = |id: &str| {
        runbook::load(memory, id).ok_or_else(|| {
            Error::Usage(format!(
                "runbook: no entry {id:?} (`selfheal runbook list` shows them)"
            ))
        })
    };
    let text = match action {
        Runbook::List => {
            let all = runbook::all(memory);
            if all.is_empty() {
                "no fixes learned yet: they are kept when the agent heals the service and \
                 writes its fix script\n"
                    .to_string()
            } else {
                all.iter().map(summary).collect()
            }
        }
        Runbook::Show(id) => {
            let e = find(id)?;
            // Shown as it is, every control character made visible (`\r`,
            // `^[`): nothing of it can hide a line.
            let bytes = crate::sys::files::read_small_bytes(&e.script, 1 << 16).unwrap_or_default();
            let script: Vec<String> = String::from_utf8_lossy(&bytes)
                .lines()
                .map(crate::sys::redact::printable)
                .collect();
            let refused = match runbook::script_text(&e) {
                Ok(_) => String::new(),
                Err(why) => format!("not replayed: {why}\n"),
            };
            format!(
                "{}{refused}script ({}):\n{}\n",
                summary(&e),
                e.script.display(),
                script.join("\n").trim_end()
            )
        }
        Runbook::Forget(id) => {
            find(id)?;
            runbook::forget(memory, id);
            format!("forgot {id}\n")
        }
    };
    log::print(&crate::sys::redact::scrub(&text, &c.secrets()));
    Ok(Verdict::Ok)
}

fn summary(e: &Entry) -> String {
    let state = match e.retired() {
        true => format!("retired after {RETIRE_AFTER} failures"),
        false => "replayed before any agent".into(),
    };
    format!(
        "{}  learned {}  replays {}  failures {}  ({state})\n  root cause: {}\n  signature: {}\n",
        e.id,
        e.learned_on(),
        e.meta.replays,
        e.meta.failures,
        e.meta.root_cause,
        e.meta.signature,
    )
}
