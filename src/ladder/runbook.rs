//! Fixes learned from the agent: when level 3 healed the service (by
//! selfheal's own probe), the fix script the agent wrote is kept under the
//! incident's signature; the next incident with the same signature replays
//! it after the first failed restart, before any agent is started.
//!
//! An entry is `runbook/<id>.sh` (the script, run as `/bin/sh <file>`, never
//! through a command line) and `runbook/<id>.json` (signature, when it was
//! learned, the root cause, replays and failures), both 0600. An entry that
//! failed `RETIRE_AFTER` times is no longer replayed. The rung (`REPLAY`)
//! replays after rollback, before the repair command.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::restart::{attempt_bound, said, wait_boot};
use super::{Climb, Outcome, Rung};
use crate::config::Config;
use crate::key::values::Switch;
use crate::sys::metrics::{Metric, HEALTH_FILE};

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::sys::clock::unix_now;
use crate::sys::files;

pub const DIR: &str = "runbook";
/// A fix that did not work this many times is retired.
pub const RETIRE_AFTER: u64 = 2;
/// A fix script larger than this is not kept (it is not a few commands).
const SCRIPT_MAX: u64 = 64 * 1024;

/// The entry's id: a hash of its signature.
pub fn id(signature: &str) -> String {
    format!("{:012x}", crate::sys::hash::fnv(signature.as_bytes()) >> 16)
}

/// What is known of a learned fix, kept in `runbook/<id>.json`. Read field
/// by field: a missing or odd field is its default, never a lost entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Meta {
    /// The signature of the incident it healed.
    pub signature: String,
    /// Unix time it was learned.
    pub learned: i64,
    /// The agent's root cause, one line.
    pub root_cause: String,
    /// The script the agent wrote, where it was.
    pub from: String,
    pub replays: u64,
    /// Replays that did not heal.
    pub failures: u64,
}

/// One learned fix.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub script: PathBuf,
    pub meta: Meta,
}

impl Entry {
    pub fn retired(&self) -> bool {
        self.meta.failures >= RETIRE_AFTER
    }

    /// "2026-11-24" (local) of when it was learned.
    pub fn learned_on(&self) -> String {
        crate::sys::log::day(crate::sys::clock::local_at(self.meta.learned).date())
    }

    fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(format!("{}.json", self.id));
        let mut text = serde_json::to_vec_pretty(&self.meta).unwrap_or_default();
        text.push(b'\n');
        files::write_atomic(&path, &text)
    }
}

fn dir(ctx: &Ctx) -> PathBuf {
    ctx.config.memory_dir.join(DIR)
}

/// The entry of `id`, if there is a readable one.
pub fn load(memory: &Path, id: &str) -> Option<Entry> {
    let valid = id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return None;
    }
    let dir = memory.join(DIR);
    trusted_dir(&dir)?;
    let json = dir.join(format!("{id}.json"));
    let file = files::open_read(&json).ok()?;
    files::check_owned(&file.metadata().ok()?, &json).ok()?;
    let meta: Meta = serde_json::from_slice(&files::tail(file, SCRIPT_MAX)).ok()?;
    let script = dir.join(format!("{id}.sh"));
    // What `/bin/sh` will run: no symlink, one name, this user's, no one
    // else can write it (`open_read` and `check_owned`).
    let sh = files::open_read(&script).ok()?;
    files::check_owned(&sh.metadata().ok()?, &script).ok()?;
    Some(Entry {
        id: id.to_string(),
        script,
        meta,
    })
}

/// `runbook/` itself: a directory (not a symlink) of this user's that no one
/// else can write.
fn trusted_dir(dir: &Path) -> Option<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(dir).ok()?;
    // SAFETY: getuid cannot fail.
    let me = unsafe { libc::getuid() };
    (meta.is_dir() && meta.uid() == me && !files::writable_by_others(&meta)).then_some(())
}

/// The script's text, when it is fit to run: no control character but line
/// ends and tabs (a `\r` or an escape sequence can hide from `runbook show`
/// a line that `/bin/sh` still runs).
pub fn script_text(entry: &Entry) -> std::result::Result<String, String> {
    let bytes = files::read_small_bytes(&entry.script, SCRIPT_MAX)
        .ok_or_else(|| format!("{} cannot be read", entry.script.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?;
    match text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        Some(c) => Err(format!(
            "it holds a control character ({:?}) that could hide what runs",
            c
        )),
        None => Ok(text),
    }
}

/// Every entry, oldest first.
pub fn all(memory: &Path) -> Vec<Entry> {
    let mut ids: Vec<String> = std::fs::read_dir(memory.join(DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(String::from)
        })
        .collect();
    ids.sort();
    let mut entries: Vec<Entry> = ids.iter().filter_map(|id| load(memory, id)).collect();
    entries.sort_by_key(|e| e.meta.learned);
    entries
}

/// The fix to replay for this incident, if one was learned and not retired.
pub fn usable(ctx: &Ctx, signature: &str) -> Option<Entry> {
    if ctx.config.runbook == Switch::Off || signature.is_empty() {
        return None;
    }
    load(&ctx.config.memory_dir, &id(signature)).filter(|e| !e.retired())
}

/// Keeps the agent's fix script under the incident's signature (replacing
/// an older entry of the same signature).
pub fn learn(ctx: &mut Ctx, signature: &str, script: &Path, root_cause: Option<&str>) {
    if ctx.config.runbook == Switch::Off || signature.is_empty() {
        return;
    }
    let result = (|| -> Result<PathBuf> {
        let file = files::open_read(script)?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len == 0 || len > SCRIPT_MAX {
            return Err(Error::Unsafe {
                path: script.into(),
                reason: format!("empty or larger than {SCRIPT_MAX} bytes"),
            });
        }
        let text = files::tail(file, SCRIPT_MAX);
        let dir = dir(ctx);
        files::ensure_dir(&dir)?;
        let id = id(signature);
        let path = dir.join(format!("{id}.sh"));
        files::write_atomic(&path, &text)?;
        let entry = Entry {
            id,
            script: path.clone(),
            meta: Meta {
                signature: signature.to_string(),
                learned: unix_now(),
                root_cause: root_cause.unwrap_or("unknown").to_string(),
                from: script.display().to_string(),
                replays: 0,
                failures: 0,
            },
        };
        entry.save(&dir)?;
        Ok(path)
    })();
    match result {
        Ok(path) => ctx.log.act(format!(
            "learned the agent's fix for this kind of incident: {} (replayed before any agent \
             next time; `selfheal runbook` lists it)",
            path.display()
        )),
        Err(e) => ctx.log.warn(format!("the agent's fix was not kept: {e}")),
    }
}

/// Counts a replay, and a failure when it did not heal.
pub fn replayed(ctx: &mut Ctx, entry: &mut Entry, healed: bool) {
    entry.meta.replays += 1;
    if !healed {
        entry.meta.failures += 1;
        if entry.retired() {
            ctx.log.warn(format!(
                "the learned fix {} failed {RETIRE_AFTER} times and is retired",
                entry.id
            ));
        }
    }
    if let Err(e) = entry.save(&dir(ctx)) {
        ctx.log.warn(format!("runbook entry not updated: {e}"));
    }
}

/// `selfheal runbook forget ID`.
pub fn forget(memory: &Path, id: &str) -> bool {
    let Some(entry) = load(memory, id) else {
        return false;
    };
    let _ = std::fs::remove_file(&entry.script);
    std::fs::remove_file(memory.join(DIR).join(format!("{id}.json"))).is_ok()
}

pub struct Replay;
pub const REPLAY: Replay = Replay;

impl Rung for Replay {
    fn bound(&self, c: &Config) -> Duration {
        match c.runbook == Switch::Off || c.restart_cmd.is_empty() {
            true => Duration::ZERO,
            false => attempt_bound(c),
        }
    }

    fn plan(&self, ctx: &Ctx, climb: &Climb) -> Vec<String> {
        usable(ctx, &climb.ev.signature)
            .map(|e| {
                format!(
                    "would then replay the fix learned on {} for this kind of incident: \
                     /bin/sh {}",
                    e.learned_on(),
                    e.script.display()
                )
            })
            .into_iter()
            .collect()
    }

    fn run(&self, ctx: &mut Ctx, climb: &mut Climb) -> Result<Option<Outcome>> {
        if !climb.restart_failed() {
            return Ok(None);
        }
        let Some(mut entry) = usable(ctx, &climb.ev.signature) else {
            return Ok(None);
        };
        if let Err(why) = script_text(&entry) {
            ctx.log.warn(format!(
                "level 2: not replaying the learned fix {}: {why}",
                entry.id
            ));
            return Ok(None);
        }
        let c = ctx.config;
        ctx.log.act(format!(
            "level 2: replaying the fix learned on {} for this kind of incident ({}): \
             /bin/sh {}",
            entry.learned_on(),
            entry.meta.root_cause,
            entry.script.display()
        ));
        let argv = ["/bin/sh".to_string(), entry.script.display().to_string()];
        let mut start = super::start::Start::begin(ctx);
        let done = ctx.run_command(&argv, c.restart_timeout)?;
        let (probe, _) = wait_boot(ctx, climb.boot.limit, &mut start)?;
        ctx.record_probe(&probe);
        let result = if probe.healthy() { "success" } else { "failed" };
        ctx.record(
            HEALTH_FILE,
            Metric::new("runbook", result, done.elapsed.as_secs_f64()),
        );
        replayed(ctx, &mut entry, probe.healthy());
        climb.ev.step(
            format!(
                "learned fix {} replayed: {}; {}",
                entry.id,
                said(&done),
                probe.reason
            ),
            &c.secrets(),
        );
        let healthy = probe.healthy();
        climb.probe = probe;
        if healthy {
            return Ok(Some(Outcome::ByRunbook(entry)));
        }
        ctx.log.warn(format!(
            "level 2: the learned fix did not heal it ({}); going on",
            climb.probe.reason
        ));
        Ok(None)
    }
}

/// What the alert says of a learned fix that healed.
pub fn note(entry: &Entry) -> String {
    format!(
        "Healed by a fix learned on {} ({}), without an agent. What ran: {}",
        entry.learned_on(),
        entry.meta.root_cause,
        entry.script.display()
    )
}
