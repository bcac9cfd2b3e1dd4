//! The repair command (`SELFHEAL_REPAIR_CMD`, e.g. `openclaw doctor --fix
//! --non-interactive`): once, after the first failed restart (or at once in
//! a crash loop), then a probe; the next restart attempt follows when that
//! is not healthy.

use std::time::Duration;

use super::restart::{run_command, said, Cmd};
use super::{Climb, Outcome, Rung};
use crate::config::Config;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::key::shellwords;
use crate::sys::process::KILL_GRACE;

pub struct Repair;
pub const REPAIR: Repair = Repair;

impl Rung for Repair {
    fn bound(&self, c: &Config) -> Duration {
        match c.repair_cmd.is_empty() {
            true => Duration::ZERO,
            false => c.restart_timeout + KILL_GRACE + c.http_timeout,
        }
    }

    fn plan(&self, ctx: &Ctx, _: &Climb) -> Vec<String> {
        let c = ctx.config;
        if c.repair_cmd.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "would run once after the first failed attempt, then restart once more: {} \
             (timeout {})",
            shellwords::join(&c.repair_cmd),
            fmt_secs(c.restart_timeout)
        )]
    }

    fn run(&self, ctx: &mut Ctx, climb: &mut Climb) -> Result<Option<Outcome>> {
        let c = ctx.config;
        if c.repair_cmd.is_empty() || climb.repaired || !climb.restart_failed() {
            return Ok(None);
        }
        climb.repaired = true;
        ctx.log.act(format!(
            "level 2: running the repair command {}",
            shellwords::join(&c.repair_cmd)
        ));
        let done = run_command(ctx, Cmd::Repair)?;
        let line = format!(
            "repair `{}`: {}",
            shellwords::join(&c.repair_cmd),
            said(&done)
        );
        let line = crate::sys::redact::scrub(&line, &c.secrets());
        climb.ev.step(line.clone(), &[]);
        climb.summary.repair = Some(line);
        let probe = ctx.probe();
        if !probe.healthy() {
            return Ok(None);
        }
        ctx.record_probe(&probe);
        climb.probe = probe;
        Ok(Some(Outcome::ByRepair))
    }
}
